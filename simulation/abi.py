"""Compiled-contract artifacts and a fast ABI layer (eth_abi + precomputed selectors).

No web3 contract objects: calldata is built as selector + eth_abi.encode, results and event
logs are decoded with eth_abi.decode.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from .paths import build_manifest


class ArtifactError(RuntimeError):
    """A contract or function is missing from the compiled artifacts."""


def _type_str(param: dict) -> str:
    """ABI JSON parameter -> canonical type string (tuples expanded)."""
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(_type_str(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


@dataclass(frozen=True)
class FunctionSpec:
    """One ABI function with its selector and canonical input/output types."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes
    mutability: str

    def encode(self, *args: Any) -> bytes:
        """Calldata for a call with `args`."""
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} args, got {len(args)}")
        return self.selector + encode(list(self.inputs), list(args))

    def decode(self, data: bytes) -> Any:
        """Decode return data: a single value, or a tuple for several outputs."""
        if not self.outputs:
            return None
        out = decode(list(self.outputs), data)
        return out[0] if len(out) == 1 else out


@dataclass(frozen=True)
class EventSpec:
    """One ABI event: its topic0, and which fields are indexed."""

    name: str
    topic0: bytes
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Decode a log into {field: value} (addresses checksummed)."""
        idx_types = [t for t, i in zip(self.types, self.indexed) if i]
        data_types = [t for t, i in zip(self.types, self.indexed) if not i]
        idx_vals = [decode([t], bytes(tp))[0] for t, tp in zip(idx_types, topics[1:])]
        data_vals = list(decode(data_types, bytes(data))) if data_types else []
        out: dict[str, Any] = {}
        for n, t, i in zip(self.names, self.types, self.indexed):
            v = idx_vals.pop(0) if i else data_vals.pop(0)
            if t == "address":
                v = to_checksum_address(v)
            out[n] = v
        return out


@dataclass
class ContractType:
    """ABI and bytecode of one compiled contract type."""

    name: str
    abi: list[dict]
    bytecode: bytes

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        fns: dict[str, FunctionSpec] = {}
        for item in self.abi:
            if item.get("type") != "function":
                continue
            ins = tuple(_type_str(p) for p in item.get("inputs", []))
            outs = tuple(_type_str(p) for p in item.get("outputs", []))
            sig = f"{item['name']}({','.join(ins)})"
            spec = FunctionSpec(item["name"], ins, outs, keccak(text=sig)[:4],
                                item.get("stateMutability", "nonpayable"))
            # first overload wins under the bare name; every overload under its signature
            fns.setdefault(item["name"], spec)
            fns[sig] = spec
        return fns

    @cached_property
    def events(self) -> dict[bytes, EventSpec]:
        evs: dict[bytes, EventSpec] = {}
        for item in self.abi:
            if item.get("type") != "event":
                continue
            types = tuple(_type_str(p) for p in item["inputs"])
            sig = f"{item['name']}({','.join(types)})"
            evs[keccak(text=sig)] = EventSpec(
                item["name"], keccak(text=sig), tuple(p["name"] for p in item["inputs"]),
                types, tuple(bool(p.get("indexed")) for p in item["inputs"]))
        return evs

    @cached_property
    def constructor_inputs(self) -> tuple[str, ...]:
        for item in self.abi:
            if item.get("type") == "constructor":
                return tuple(_type_str(p) for p in item.get("inputs", []))
        return ()

    def fn(self, name: str) -> FunctionSpec:
        try:
            return self.functions[name]
        except KeyError:
            raise ArtifactError(f"{self.name} has no function {name!r}") from None

    def has(self, name: str) -> bool:
        return name in self.functions

    def deploy_data(self, *args: Any) -> bytes:
        """Init code + encoded constructor args."""
        return self.bytecode + (encode(list(self.constructor_inputs), list(args))
                                if self.constructor_inputs else b"")


class Artifacts:
    """The contract types of ape's manifest (.build/__local__.json), loaded once."""

    def __init__(self, manifest: Path | None = None):
        self.path = Path(manifest) if manifest else build_manifest()
        if not self.path.is_file():
            raise ArtifactError(f"no compiled artifacts at {self.path}: run `ape compile` first")
        raw = json.loads(self.path.read_text())
        self._types: dict[str, ContractType] = {}
        for name, ct in raw.get("contractTypes", {}).items():
            code = (ct.get("deploymentBytecode") or {}).get("bytecode") or "0x"
            self._types[name] = ContractType(name, ct.get("abi", []), bytes.fromhex(code[2:]))

    def __contains__(self, name: str) -> bool:
        return name in self._types

    def __getitem__(self, name: str) -> ContractType:
        try:
            return self._types[name]
        except KeyError:
            raise ArtifactError(
                f"contract {name!r} is not compiled (have: {', '.join(sorted(self._types))})"
            ) from None

    @property
    def names(self) -> list[str]:
        return sorted(self._types)

    def event_index(self, names: Sequence[str] | None = None) -> dict[bytes, EventSpec]:
        """topic0 -> EventSpec over the given contract types (default: all)."""
        out: dict[bytes, EventSpec] = {}
        for n in names or self.names:
            if n in self._types:
                out.update(self._types[n].events)
        return out


def decode_revert(data: bytes | str | None) -> str:
    """Human-readable revert reason from revert data (Error(string), Panic(uint256) or raw)."""
    if data is None:
        return "reverted"
    if isinstance(data, str):
        data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    if not data:
        return "reverted (no reason)"
    if data[:4] == bytes.fromhex("08c379a0"):
        try:
            return decode(["string"], data[4:])[0]
        except Exception:  # noqa: BLE001 - malformed reason
            pass
    if data[:4] == bytes.fromhex("4e487b71"):
        try:
            return f"panic 0x{decode(['uint256'], data[4:])[0]:02x}"
        except Exception:  # noqa: BLE001
            pass
    return "0x" + data.hex()
