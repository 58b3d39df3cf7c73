"""An in-process chain on revm (pyrevm): the Chain interface without a node, HTTP or JSON.

Behaves like our private anvil where the simulation can see it: the same dev accounts and
balances, zero gas price, Python-managed nonces, one block per `send_block` at an explicit
timestamp, views against the latest block, CREATE addresses from the sender's nonce, and the
same transaction hashes (anvil hashes an impersonated legacy transaction with an empty signature
and the sender appended; `anvil_tx_hash`). So a scenario and seed give the same metrics.csv and
events.jsonl here as on anvil.

State lives in revm's journal (pyrevm 0.3.7's `commit()` is unusable: it underflows the journal
depth), so a snapshot is a journal checkpoint: `snapshot()` then `revert(id)` restores the state,
the clock and the nonces exactly, like anvil's evm_snapshot / evm_revert (a revert also drops
every later snapshot).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from .abi import decode_revert
from .chain import DEV_ACCOUNTS, CallError, Chain, Log, Tx, TxResult, to_checksum_address
from .keys import _keccak

ZERO = "0x0000000000000000000000000000000000000000"
DEV_BALANCE = 10_000 * 10**18          # anvil's dev accounts start with 10,000 ether
GENESIS_TIMESTAMP = 1_700_000_000      # any time before the engine's GENESIS_TS
_REVERT = re.compile(r"Revert \{ gas_used: (\d+), output: (0x[0-9a-fA-F]*) \}")
_HALT = re.compile(r"Halt \{ reason: (\w+), gas_used: (\d+) \}")


def _rlp_bytes(b: bytes) -> bytes:
    if len(b) == 1 and b[0] < 0x80:
        return b
    if len(b) < 56:
        return bytes([0x80 + len(b)]) + b
    n = len(b).to_bytes((len(b).bit_length() + 7) // 8, "big")
    return bytes([0xB7 + len(n)]) + n + b


def _rlp_int(i: int) -> bytes:
    if i == 0:
        return b"\x80"
    if i < 0x80:
        return bytes((i,))
    return _rlp_bytes(i.to_bytes((i.bit_length() + 7) // 8, "big"))


def _rlp_list(items: Sequence[bytes]) -> bytes:
    body = b"".join(items)
    if len(body) < 56:
        return bytes([0xC0 + len(body)]) + body
    n = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([0xF7 + len(n)]) + n + body


@lru_cache(maxsize=65536)
def _raw_address(address: str) -> bytes:
    return bytes.fromhex(address[2:])


@lru_cache(maxsize=64)
def _rlp_vrs(chain_id: int) -> bytes:
    """v = 2 * chain_id + 35, r = s = 0, RLP-encoded."""
    return _rlp_int(2 * chain_id + 35) + b"\x80\x80"


def anvil_tx_hash(chain_id: int, sender: str, nonce: int, gas: int, to: str | None, value: int,
                  data: bytes, gas_price: int = 0) -> str:
    """The hash anvil gives an impersonated legacy (EIP-155) transaction: keccak of its RLP with
    v = 2 * chain_id + 35, r = s = 0, followed by the sender's 20 bytes."""
    enc = _rlp_list([_rlp_int(nonce), _rlp_int(gas_price), _rlp_int(gas),
                     b"\x94" + _raw_address(to) if to else b"\x80", _rlp_int(value), _rlp_bytes(data),
                     _rlp_vrs(chain_id)])
    return "0x" + _keccak(enc + _raw_address(sender)).hex()


def _assemble(prog: Sequence[Any]) -> bytes:
    """A tiny EVM assembler: opcodes by name, ints as PUSH1, ("label", x) / ("push", x) pairs."""
    ops = {"STOP": 0x00, "ADD": 0x01, "LT": 0x10, "ISZERO": 0x15, "CALLDATALOAD": 0x35, "CALLDATASIZE": 0x36,
           "CALLDATACOPY": 0x37, "RETURNDATASIZE": 0x3D, "RETURNDATACOPY": 0x3E, "POP": 0x50, "MSTORE": 0x52,
           "JUMP": 0x56, "JUMPI": 0x57, "GAS": 0x5A, "JUMPDEST": 0x5B, "PUSH0": 0x5F, "RETURN": 0xF3,
           "CALL": 0xF1, "REVERT": 0xFD}
    ops.update({f"DUP{i}": 0x7F + i for i in range(1, 17)})
    ops.update({f"SWAP{i}": 0x8F + i for i in range(1, 17)})
    labels: dict[str, int] = {}
    for final in (False, True):
        code = bytearray()
        for item in prog:
            if isinstance(item, tuple) and item[0] == "label":
                labels[item[1]] = len(code)
                code.append(ops["JUMPDEST"])
            elif isinstance(item, tuple):  # ("push", label): PUSH2 of a label's offset
                code += bytes([0x61]) + labels.get(item[1], 0).to_bytes(2, "big")
            elif isinstance(item, int):
                code += bytes([0x60, item])
            else:
                code.append(ops[item])
        if final:
            return bytes(code)
    raise AssertionError  # pragma: no cover


# Runtime code of a multicall for reads, installed on the revm chain only (at an address no
# transaction ever touches, so it changes nothing anvil would see). Calldata: for each call a
# 32-byte target, a 32-byte length L and L bytes of calldata, back to back. It CALLs each (not
# STATICCALL: like eth_call, a non-view may run, e.g. to learn its revert reason) and then REVERTs
# with, for each call, a 32-byte success flag, a 32-byte length R and R bytes of return (or
# revert) data, so nothing it did stays. One pyrevm call per block's reads instead of one per
# view: pyrevm's per-call overhead is ~30 us, more than most views cost to execute.
MULTICALL_CODE = _assemble([
    "PUSH0", "PUSH0",                                           # o i
    ("label", "loop"),
    "CALLDATASIZE", "DUP2", "LT", "ISZERO", ("push", "end"), "JUMPI",
    "DUP1", 32, "ADD", "CALLDATALOAD",                          # o i L
    "DUP1", "DUP3", 64, "ADD", "DUP5", 64, "ADD", "CALLDATACOPY",  # mem[o+64:] = data
    "PUSH0", "PUSH0", "DUP3", "DUP6", 64, "ADD", "PUSH0", "DUP7", "CALLDATALOAD", "GAS", "CALL",  # o i L ok
    "DUP4", "MSTORE",                                           # mem[o] = ok
    "RETURNDATASIZE", "DUP1", "PUSH0", "DUP6", 64, "ADD", "RETURNDATACOPY",  # mem[o+64:] = ret
    "DUP1", "DUP5", 32, "ADD", "MSTORE",                        # mem[o+32] = R        o i L R
    64, "ADD", "DUP4", "ADD", "SWAP3", "POP",                   # o' = o + R + 64      o' i L
    64, "ADD", "ADD", ("push", "loop"), "JUMP",                 # i' = i + L + 64
    ("label", "end"),
    "POP", "PUSH0", "REVERT",   # revert: whatever the calls wrote is undone, as for eth_call
])
MULTICALL = "0x00000000000000000000000000000000C1a3b0C4"


class _Result(TxResult):
    """A TxResult whose anvil-style hash is computed the first time someone reads it."""

    @property
    def hash(self) -> str:  # type: ignore[override]
        h = self.__dict__.get("_hash")
        if not h:
            h = self.__dict__["_hash"] = anvil_tx_hash(*self.__dict__["_hash_args"])
        return h

    @hash.setter
    def hash(self, value: str) -> None:
        if value:
            self.__dict__["_hash"] = value


@dataclass
class _Snap:
    checkpoint: Any
    number: int
    timestamp: int
    nonces: dict[str, int]


class RevmChain(Chain):
    """revm in process (pyrevm). `kind` "revm"."""

    kind = "revm"
    private = True  # in process: nothing else sends to it

    def __init__(self, chain_id: int = 31337, gas_limit: int = 1_000_000_000, spec: str = "CANCUN"):
        from pyrevm import EVM, BlockEnv, CfgEnv, Env

        self._BlockEnv = BlockEnv
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.number = 0
        self.timestamp = GENESIS_TIMESTAMP
        self.evm = EVM(env=Env(cfg=CfgEnv(chain_id=chain_id), block=self._block_env()), spec_id=spec)
        for a in DEV_ACCOUNTS:
            self.evm.set_balance(a, DEV_BALANCE)
        from pyrevm import AccountInfo

        self.evm.insert_account_info(MULTICALL, AccountInfo(code=MULTICALL_CODE))
        self._nonces: dict[str, int] = {}
        self._snaps: dict[int, _Snap] = {}
        self._next_snap = 1
        self.bases: dict[str, tuple[int, Any]] = {}  # simulation.devnets: key -> (snapshot id, deployment)
        self._last_calls: list = []
        self._last_payload = b""

    def _block_env(self):
        return self._BlockEnv(number=self.number, coinbase=ZERO, timestamp=self.timestamp, difficulty=0,
                              prevrandao=bytes(32), basefee=0, gas_limit=self.gas_limit)

    # -- nonces -------------------------------------------------------------------------------
    def _nonce(self, sender: str) -> int:
        n = self._nonces.get(sender)
        if n is None:
            n = self._nonces[sender] = self.evm.basic(sender).nonce
        return n

    def _sync_nonce(self, sender: str, nonce: int) -> None:
        """message_call leaves revm's nonce alone; CREATE needs the real one: write it back."""
        from pyrevm import AccountInfo

        info = self.evm.basic(sender)
        if info.nonce != nonce:
            balance = self.evm.get_balance(sender)
            self.evm.insert_account_info(sender, AccountInfo(nonce=nonce, code_hash=info.code_hash))
            self.evm.set_balance(sender, balance)

    # -- hot path -----------------------------------------------------------------------------
    def send_block(self, txs: Sequence[Tx], timestamp: int | None = None) -> list[TxResult]:
        self.number += 1
        self.mined += 1
        self.timestamp = timestamp if timestamp is not None else self.timestamp + 1
        evm = self.evm
        evm.set_block_env(self._block_env())
        call, reset = evm.message_call, evm.reset_transient_storage
        nonces = self._nonces
        new = object.__new__
        results: list[TxResult] = []
        cid = self.chain_id
        for t in txs:
            sender = t.sender
            n = nonces.get(sender)
            if n is None:
                n = self._nonce(sender)
            address = None
            try:
                if t.to is None:
                    self._sync_nonce(sender, n)
                    address = to_checksum_address(evm.deploy(sender, t.data, value=t.value or None, gas=t.gas))
                else:
                    call(sender, t.to, t.data, t.value or None, t.gas)
                r = evm.result  # (each access converts the whole result)
                ok, gas_used, reason = True, r.gas_used, None
                logs = [Log(to_checksum_address(lg.address), *lg.data) for lg in r.logs]
            except RuntimeError as exc:
                msg = str(exc)
                ok, logs = False, []
                m = _REVERT.search(msg)
                if m:
                    gas_used, reason = int(m.group(1)), decode_revert(m.group(2))
                else:
                    m = _HALT.search(msg)
                    if not m:  # invalid before execution: never mined, the nonce is not used
                        results.append(TxResult(t, "", False, reason=f"rejected: {msg}"))
                        continue
                    gas_used, reason = int(m.group(2)), f"halted: {m.group(1)}"
            # a _Result without running the dataclass __init__ (this loop is the chain's hot path)
            res = new(_Result)
            res.__dict__ = {"tx": t, "ok": ok, "gas_used": gas_used, "logs": logs, "reason": reason,
                            "contract_address": address, "_hash_args": (cid, sender, n, t.gas, t.to, t.value, t.data)}
            reset()  # EIP-1153: transient storage lives for one transaction
            nonces[sender] = n + 1
            results.append(res)
        return results

    def call_many(self, calls: Sequence[tuple[str, bytes]]) -> list[bytes | CallError]:
        """All calls in one EVM execution (the multicall above), each a CALL from it (as eth_call
        runs a call: `account_summaries`, which fills the transient price cache, needs that)."""
        if not calls:
            return []
        if calls == self._last_calls:  # the engine reads the same calls every block (cheap: `is` first)
            payload = self._last_payload
        else:
            parts = []
            for to, data in calls:
                parts += (bytes(12), bytes.fromhex(to[2:]), len(data).to_bytes(32, "big"), data)
            payload = b"".join(parts)
            self._last_calls, self._last_payload = list(calls), payload
        try:
            self.evm.message_call(ZERO, MULTICALL, payload, gas=self.gas_limit)
            raise RuntimeError("the read multicall returned instead of reverting")
        except RuntimeError as exc:
            m = _REVERT.search(str(exc))
            if not m:
                raise RuntimeError(f"revm multicall of {len(calls)} reads failed: {exc}") from None
            raw = bytes.fromhex(m.group(2)[2:])
        out: list[bytes | CallError] = []
        at = 0
        for _ in calls:
            ok = raw[at + 31]
            n = int.from_bytes(raw[at + 32: at + 64], "big")
            ret = raw[at + 64: at + 64 + n]
            out.append(ret if ok else CallError(decode_revert(ret)))
            at += 64 + n
        return out

    def fund(self, addresses: Sequence[str], wei: int) -> None:
        for a in addresses:
            self.evm.set_balance(a, wei)

    def latest_timestamp(self) -> int:
        return self.timestamp

    def block_number(self) -> int:
        return self.number

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> int:
        """Checkpoint the whole state (and clock, nonces); returns an id for `revert`."""
        sid = self._next_snap
        self._next_snap += 1
        self._snaps[sid] = _Snap(self.evm.snapshot(), self.number, self.timestamp, dict(self._nonces))
        return sid

    def revert(self, snapshot_id: int) -> None:
        """Back to the state at `snapshot(id)`; that snapshot and every later one are used up."""
        snap = self._snaps.get(snapshot_id)
        if snap is None:
            raise KeyError(f"no such snapshot {snapshot_id} (already reverted?)")
        self.evm.revert(snap.checkpoint)
        for sid in [s for s in self._snaps if s >= snapshot_id]:
            del self._snaps[sid]
        self.number, self.timestamp, self._nonces = snap.number, snap.timestamp, dict(snap.nonces)
        self.mined += 1  # the state moved: nothing read before carries over
        self.evm.set_block_env(self._block_env())
        self.evm.reset_transient_storage()
