"""The agent registry: kind -> agent class. A new kind is one file in simulation/agents/ that
defines its config model and its class, decorated with `@register`; the scenario's [agents] tables
and the engine's agent loop are built from this registry and never name a concrete kind."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .base import Agent

REGISTRY: dict[str, type["Agent"]] = {}


def register(cls: type["Agent"]) -> type["Agent"]:
    """Class decorator: add an agent kind (keyed by `cls.kind`; its scenario table is `cls.table`)."""
    if not cls.kind or not cls.table:
        raise TypeError(f"{cls.__name__} needs `kind` and `table` class attributes")
    other = by_table(cls.table)
    if other is not None and other.kind != cls.kind:
        raise TypeError(f"scenario table {cls.table!r} is already used by kind {other.kind!r}")
    REGISTRY[cls.kind] = cls
    return cls


def unregister(kind: str) -> None:
    """Remove a kind (tests)."""
    REGISTRY.pop(kind, None)


def by_table(table: str) -> type["Agent"] | None:
    """The kind whose scenario table is `table`."""
    return next((c for c in REGISTRY.values() if c.table == table), None)


def kinds_in_turn_order() -> list[type["Agent"]]:
    """Every registered kind, by turn, then in registration order (stable)."""
    order = list(REGISTRY.values())
    return sorted(order, key=lambda c: (c.turn, order.index(c)))
