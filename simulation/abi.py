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
from functools import lru_cache

from eth_utils import keccak
from eth_utils import to_checksum_address as _to_checksum


@lru_cache(maxsize=65536)
def to_checksum_address(addr: str | bytes) -> str:
    """EIP-55 checksum, cached: agents' and contracts' addresses repeat every block."""
    return _to_checksum(addr)

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


_STATIC = ("uint", "int", "bool", "address", "bytes32")


def _flat_static(types: tuple[str, ...]) -> list[str] | None:
    """The flat list of 32-byte words for all-static (possibly one-level tuple) types, else None."""
    flat: list[str] = []
    for t in types:
        if t.startswith("(") and t.endswith(")"):
            inner = t[1:-1].split(",")
            if not all(x.startswith(_STATIC) and "[" not in x for x in inner):
                return None
            flat += inner
        elif t.startswith(_STATIC) and "[" not in t and not (t.startswith("bytes") and t != "bytes32"):
            flat.append(t)
        else:
            return None
    return flat


def _word_decoder(t: str):
    if t.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if t.startswith("int"):
        return lambda w: int.from_bytes(w, "big", signed=True)
    if t == "bool":
        return lambda w: w[-1] == 1
    if t == "address":
        return lambda w: to_checksum_address(w[12:])
    return bytes  # bytes32


def _word_encoder(t: str):
    if t.startswith("uint"):
        return lambda v: int(v).to_bytes(32, "big")
    if t.startswith("int"):
        return lambda v: int(v).to_bytes(32, "big", signed=True)
    if t == "bool":
        return lambda v: (1 if v else 0).to_bytes(32, "big")
    if t == "address":
        return lambda v: bytes(12) + bytes.fromhex(v[2:] if isinstance(v, str) else bytes(v).hex())
    return lambda v: bytes(v).ljust(32, b"\0")


def _array_of(types: tuple[str, ...]) -> list[str] | None:
    """The flat words of the element of a lone one-dimensional dynamic array of static elements
    (`address[]`, `(int256,uint256)[]`), else None."""
    if len(types) != 1 or not types[0].endswith("[]") or "[" in types[0][:-2]:
        return None
    return _flat_static((types[0][:-2],))


_HEAD = (32).to_bytes(32, "big")  # the offset of a lone dynamic argument or result


@dataclass(frozen=True)
class FunctionSpec:
    """One ABI function with its selector and canonical input/output types. Calls whose
    arguments/results are flat static words take a fast path (no eth_abi dispatch)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes
    mutability: str

    def __post_init__(self):
        fin = _flat_static(self.inputs) if all(not t.startswith("(") for t in self.inputs) else None
        fout = _flat_static(self.outputs)
        object.__setattr__(self, "_enc", [_word_encoder(t) for t in fin] if fin is not None else None)
        object.__setattr__(self, "_dec", [_word_decoder(t) for t in fout] if fout is not None else None)
        object.__setattr__(self, "_tuple_out", len(self.outputs) == 1 and self.outputs[0].startswith("("))
        # all outputs integers (the views read every block): int.from_bytes per word, nothing else
        ints = fout is not None and bool(fout) and all(t.startswith(("uint", "int")) for t in fout)
        object.__setattr__(self, "_signed", tuple(t.startswith("int") for t in fout) if ints else None)
        # a lone array of words in, a lone array of all-integer static elements out (batched reads)
        ain, aout = _array_of(self.inputs), _array_of(self.outputs)
        object.__setattr__(self, "_enc_array", _word_encoder(ain[0]) if ain and len(ain) == 1 else None)
        aints = bool(aout) and all(t.startswith(("uint", "int")) for t in aout)
        object.__setattr__(self, "_array_signed", tuple(t.startswith("int") for t in aout) if aints else None)

    def encode(self, *args: Any) -> bytes:
        """Calldata for a call with `args`."""
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} args, got {len(args)}")
        if self._enc is not None:
            return self.selector + b"".join(e(a) for e, a in zip(self._enc, args))
        if self._enc_array is not None:
            items = args[0]
            return b"".join([self.selector, _HEAD, len(items).to_bytes(32, "big"), *map(self._enc_array, items)])
        return self.selector + encode(list(self.inputs), list(args))

    def decode(self, data: bytes) -> Any:
        """Decode return data: a single value, or a tuple for several outputs (or one struct)."""
        if not self.outputs:
            return None
        signed = self._array_signed
        if signed is not None and data[:32] == _HEAD:
            w, n = 32 * len(signed), int.from_bytes(data[32:64], "big")
            if len(data) == 64 + n * w:
                fb = int.from_bytes
                return tuple([tuple([fb(data[k + i: k + i + 32], "big", signed=s) for i, s in zip(range(0, w, 32), signed)])
                              for k in range(64, 64 + n * w, w)])
        signed = self._signed
        if signed is not None and len(data) >= 32 * len(signed):
            if len(signed) == 1 and not self._tuple_out:
                return int.from_bytes(data[:32], "big", signed=signed[0])
            return tuple([int.from_bytes(data[i: i + 32], "big", signed=s)
                          for i, s in zip(range(0, 32 * len(signed), 32), signed)])
        dec = self._dec
        if dec is not None and len(data) >= 32 * len(dec):
            vals = tuple(d(data[32 * i: 32 * i + 32]) for i, d in enumerate(dec))
            if self._tuple_out or len(vals) > 1:
                return vals
            return vals[0]
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

    def __post_init__(self):
        flat = _flat_static(self.types) if all(not t.startswith("(") for t in self.types) else None
        object.__setattr__(self, "_dec", [_word_decoder(t) for t in flat] if flat is not None
                           and len(flat) == len(self.types) else None)

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Decode a log into {field: value} (addresses checksummed). Events of static words take
        a fast path (no eth_abi dispatch)."""
        dec = self._dec
        if dec is not None and len(topics) == 1 + sum(self.indexed) and len(data) == 32 * (len(dec) - sum(self.indexed)):
            out: dict[str, Any] = {}
            ti, di = 1, 0
            for n, i, d in zip(self.names, self.indexed, dec):
                if i:
                    out[n] = d(bytes(topics[ti]))
                    ti += 1
                else:
                    out[n] = d(data[di: di + 32])
                    di += 32
            return out
        idx_types = [t for t, i in zip(self.types, self.indexed) if i]
        data_types = [t for t, i in zip(self.types, self.indexed) if not i]
        idx_vals = [decode([t], bytes(tp))[0] for t, tp in zip(idx_types, topics[1:])]
        data_vals = list(decode(data_types, bytes(data))) if data_types else []
        out = {}
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

    _loaded: dict[tuple[str, int, int], "Artifacts"] = {}

    @classmethod
    def cached(cls, manifest: Path | None = None) -> "Artifacts":
        """This process's Artifacts of `manifest` (default: the build's), parsed once per version
        of the file (path, size, mtime): a sweep worker reads the build once, not once per run.
        Callers only read them (ABI entries and bytecode)."""
        path = Path(manifest) if manifest else build_manifest()
        try:
            st = path.stat()
        except OSError:
            return cls(path)  # raises the ArtifactError
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        art = cls._loaded.get(key)
        if art is None:
            art = cls._loaded[key] = cls(path)
        return art

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
