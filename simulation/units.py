"""Parsers for the units written in Clawback's TOML files (deployment configs and scenarios):
ratios, durations, token amounts, addresses; and their display.

    parse_ratio("5%") == parse_ratio("500bp") == parse_ratio(0.05) == 5 * 10**16   # 1e18 = 100 %
    parse_duration("8h") == 28800                                                   # seconds
    parse_amount("1_000.5", 6) == 1_000_500_000                                     # base units

Every parser raises ValueError with a one-line message (pydantic reports it at the key) and never
rounds: a value with more precision than its unit holds is an error, not silently truncated.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

WAD = 10**18
ZERO_ADDRESS = "0x" + "00" * 20

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


def to_decimal(value: Any) -> Decimal:
    """A number written as an int, a float, a Decimal or a string ("1_000.5") -> Decimal."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.replace("_", "").strip())
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


def parse_ratio(value: Any) -> int:
    """0.05, "5%", "50bp" -> 1e18-scaled int. A bare number is a fraction (1 = 100 %)."""
    if isinstance(value, str):
        s = value.strip().lower()
        if s.endswith("%"):
            d = to_decimal(s[:-1]) / 100
        elif s.endswith("bps") or s.endswith("bp"):
            d = to_decimal(s.rstrip("ps").rstrip("b")) / 10_000
        else:
            d = to_decimal(s)
    else:
        d = to_decimal(value)
    scaled = d * WAD
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more precision than 18 decimals")
    return int(scaled)


def parse_duration(value: Any) -> int:
    """3600, "1h", "30m", "7d", "1w" -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = _DURATION_RE.match(value.lower())
        if m:
            secs = Decimal(m.group(1)) * _DURATION_UNITS[m.group(2)]
            if secs == secs.to_integral_value():
                return int(secs)
    raise ValueError(f"expected a duration in seconds or like \"8h\", \"30m\", \"7d\", got {value!r}")


def parse_amount(value: Any, decimals: int) -> int:
    """A whole-unit amount (1000, 0.5, "1_000") -> base units with `decimals`."""
    scaled = to_decimal(value) * 10**decimals
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more precision than {decimals} decimals")
    return int(scaled)


def parse_address(value: Any) -> str:
    """A 0x-prefixed 20-byte address -> its EIP-55 form; mixed case must be a valid checksum,
    the zero address is refused."""
    from eth_utils import is_checksum_address, to_checksum_address

    if not isinstance(value, str) or not _ADDRESS_RE.match(value):
        raise ValueError(f"expected a 0x-prefixed 20-byte hex address, got {value!r}")
    if value.lower() == ZERO_ADDRESS:
        raise ValueError("the zero address is not allowed")
    hexpart = value[2:]
    if hexpart != hexpart.lower() and hexpart != hexpart.upper() and not is_checksum_address(value):
        raise ValueError(f"{value} has an invalid EIP-55 checksum (mixed case that does not match)")
    return to_checksum_address(value)


def format_ratio(x: int) -> str:
    """A 1e18-scaled ratio as a percentage: 5 * 10**16 -> "5 %"."""
    s = f"{Decimal(x) / WAD * 100:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s + " %"


def format_seconds(x: int) -> str:
    return f"{x} s"


def format_size(x: int) -> str:
    """A 1e18-scaled size in whole units."""
    return f"{Decimal(x) / WAD:f}"


# pydantic field types over the parsers, for the config models (deploy_config.py, scenario.py)
def _pydantic_types():
    from typing import Annotated

    from pydantic import BeforeValidator

    return (Annotated[int, BeforeValidator(parse_ratio)], Annotated[int, BeforeValidator(parse_duration)],
            Annotated[str, BeforeValidator(parse_address)])


Ratio, Duration, Address = _pydantic_types()
