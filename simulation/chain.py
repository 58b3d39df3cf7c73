"""The chain layer: one interface over anvil (batched raw JSON-RPC) and an in-process revm chain
(`simulation.revm_chain.RevmChain`), plus the deployment backend.

The engine's hot path per block is: `send_block(txs, timestamp)` (one batched request of
eth_sendTransaction with explicit gas and Python-managed nonces, then one evm_mine with the
block's timestamp), then `call_many(...)` (one batch of eth_call). A reverted transaction comes
back as a TxResult with ok=False and its reason: data, never an exception.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Sequence

from functools import lru_cache

from eth_utils import to_checksum_address as _to_checksum


@lru_cache(maxsize=65536)
def to_checksum_address(addr: str) -> str:
    """EIP-55 checksum, cached (the same few contract addresses appear in every block's logs)."""
    return _to_checksum(addr)

from .abi import Artifacts, decode_revert
from .rpc import RpcClient, RpcError, RpcFailure

DEFAULT_GAS = 3_000_000
DEV_ACCOUNTS = (  # anvil's / ape's well-known dev accounts (test mnemonic), the only hard-coded ones
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
)


@dataclass
class Tx:
    """A transaction intent: `to=None` deploys `data` as init code."""

    sender: str
    to: str | None
    data: bytes
    gas: int = DEFAULT_GAS
    value: int = 0
    label: str = ""          # e.g. "trade", "liquidate" (for counting)
    agent: str = ""          # which agent sent it
    meta: Any = None         # anything the agent wants back with the result


@dataclass
class Log:
    address: str
    topics: list[bytes]
    data: bytes


@dataclass
class TxResult:
    """What became of a Tx after its block was mined."""

    tx: Tx
    hash: str
    ok: bool
    gas_used: int = 0
    logs: list[Log] = field(default_factory=list)
    reason: str | None = None
    contract_address: str | None = None


@dataclass
class CallError:
    """A failed eth_call (revert), kept as data."""

    reason: str

    def __bool__(self) -> bool:
        return False


def _hx(b: bytes) -> str:
    return "0x" + b.hex()


def _b(x: bytes | str) -> bytes:
    return _unhex(x) if isinstance(x, str) else bytes(x)


def _unhex(s: str | None) -> bytes:
    if not s:
        return b""
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


class Chain(abc.ABC):
    """A devnet the simulation can drive. Subclasses: RpcChain (anvil/URL), revm_chain.RevmChain."""

    kind: str = "abstract"
    chain_id: int = 31337
    mined: int = 0           # blocks this object has mined (send_block calls)
    private: bool = False    # nothing but this object sends transactions to the chain


    @abc.abstractmethod
    def send_block(self, txs: Sequence[Tx], timestamp: int | None = None) -> list[TxResult]:
        """Send all `txs`, mine exactly one block (at `timestamp` if given), return results in order."""

    @abc.abstractmethod
    def call_many(self, calls: Sequence[tuple[str, bytes]]) -> list[bytes | CallError]:
        """eth_call each (to, data) against the latest block, in one round trip where possible."""

    @abc.abstractmethod
    def fund(self, addresses: Sequence[str], wei: int) -> None:
        """Give each address `wei` of ether (gas money)."""

    def add_key(self, private_key: bytes) -> None:  # noqa: B027 - optional hook
        """Let the chain send transactions from this key's address (anvil and revm need nothing)."""

    @abc.abstractmethod
    def latest_timestamp(self) -> int: ...

    @abc.abstractmethod
    def block_number(self) -> int: ...

    def close(self) -> None:  # noqa: B027
        """Release resources (the anvil process is owned by whoever started it)."""

    def snapshot(self) -> int:
        """Checkpoint the whole chain state; `revert(id)` returns to it (and drops later snapshots)."""
        raise NotImplementedError(f"{self.kind} has no snapshots")

    def revert(self, snapshot_id: int) -> None:
        raise NotImplementedError(f"{self.kind} has no snapshots")

    @property
    def default_sender(self) -> str:
        return DEV_ACCOUNTS[0]


class RpcChain(Chain):
    """anvil (or any node with anvil_/evm_ methods and impersonation) over raw JSON-RPC."""

    kind = "anvil"

    def __init__(self, url: str, timeout: float = 300.0, owned: bool = False):
        """`owned`: the node is ours alone (our own anvil), nothing to restore on close."""
        self.url = url
        self.owned = owned
        self.private = owned  # our own anvil: no one else sends to it
        self.rpc = RpcClient(url, timeout=timeout)
        self.chain_id = int(self.rpc.call("eth_chainId"), 16)  # raises ChainUnreachable
        self._nonces: dict[str, int] = {}
        self.automine = True
        latest = self.rpc.call("eth_getBlockByNumber", ["latest", False]) or {}
        # our own anvil runs with a zero base fee (gas is free, balances stay exact); a node
        # attached by URL may charge one: then let it price the gas
        self.free_gas = int(latest.get("baseFeePerGas", "0x0"), 16) == 0
        try:
            self.rpc.call("anvil_autoImpersonateAccount", [True])
        except RpcFailure:
            pass  # not anvil: dev accounts only

    # -- nonces -------------------------------------------------------------------------------
    def _next_nonces(self, senders: Sequence[str]) -> None:
        missing = sorted({s for s in senders if s not in self._nonces})
        if missing:
            res = self.rpc.batch([("eth_getTransactionCount", [s, "latest"]) for s in missing])
            for s, r in zip(missing, res):
                if isinstance(r, RpcError):
                    raise RuntimeError(f"eth_getTransactionCount({s}): {r.message}")
                self._nonces[s] = int(r, 16)

    def set_automine(self, on: bool) -> None:
        self.rpc.call("evm_setAutomine", [on])
        self.automine = on
        self._automine_touched = True

    # -- hot path -----------------------------------------------------------------------------
    def send_block(self, txs: Sequence[Tx], timestamp: int | None = None) -> list[TxResult]:
        if self.automine:
            self.set_automine(False)
        self._next_nonces([t.sender for t in txs])
        reqs = []
        for t in txs:
            n = self._nonces[t.sender]
            self._nonces[t.sender] = n + 1
            tx: dict[str, Any] = {"from": t.sender, "data": _hx(t.data), "gas": hex(t.gas),
                                  "nonce": hex(n), "value": hex(t.value)}
            if self.free_gas:
                tx["gasPrice"] = "0x0"
            if t.to is not None:
                tx["to"] = t.to
            reqs.append(("eth_sendTransaction", [tx]))
        hashes = self.rpc.batch(reqs)
        rejected = [i for i, h in enumerate(hashes) if isinstance(h, RpcError)]
        self.rpc.call("evm_mine", [timestamp] if timestamp is not None else [])
        self.mined += 1
        if rejected:  # a rejected tx leaves a nonce gap: resync and clear the pool
            self.rpc.call("anvil_dropAllTransactions")
            for i in rejected:
                self._nonces.pop(txs[i].sender, None)
        # eth_getBlockReceipts is quadratic in the block size on anvil; the block's logs are
        # cheap. A tx that logged something succeeded (reverts roll logs back); only txs without
        # logs need their receipt for the status.
        blk, logs = self.rpc.batch([("eth_getBlockByNumber", ["latest", False]),
                                    ("eth_getLogs", [{"fromBlock": "latest", "toBlock": "latest"}])])
        if isinstance(blk, RpcError) or isinstance(logs, RpcError):
            raise RuntimeError(f"reading the mined block failed: {blk if isinstance(blk, RpcError) else logs}")
        block_number = int(blk["number"], 16)
        in_block = set(blk["transactions"])
        by_tx: dict[str, list[Log]] = {}
        for lg in logs:
            by_tx.setdefault(lg["transactionHash"], []).append(
                Log(to_checksum_address(lg["address"]), [_unhex(x) for x in lg["topics"]], _unhex(lg["data"])))
        quiet = [h for t, h in zip(txs, hashes)
                 if not isinstance(h, RpcError) and h in in_block and (h not in by_tx or t.to is None)]
        receipts = dict(zip(quiet, self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in quiet])))
        results: list[TxResult] = []
        failed: list[int] = []
        for i, (t, h) in enumerate(zip(txs, hashes)):
            if isinstance(h, RpcError):
                results.append(TxResult(t, "", False, reason=f"rejected: {h.message}"))
                continue
            if h not in in_block:
                results.append(TxResult(t, h, False, reason="not mined"))
                self._nonces.pop(t.sender, None)
                continue
            r = receipts.get(h)
            if r is None or isinstance(r, RpcError):
                results.append(TxResult(t, h, True, 0, by_tx.get(h, [])))
                continue
            ok = int(r["status"], 16) == 1
            res = TxResult(t, h, ok, int(r["gasUsed"], 16), by_tx.get(h, []),
                           contract_address=(to_checksum_address(r["contractAddress"])
                                             if r.get("contractAddress") else None))
            if not ok:
                reason = r.get("revertReason")
                res.reason = decode_revert(reason) if reason else None
                if res.reason is None:
                    failed.append(i)
            results.append(res)
        if failed:  # replay on the parent state for a reason (approximate inside a busy block)
            parent = hex(block_number - 1)
            calls = []
            for i in failed:
                t = results[i].tx
                c = {"from": t.sender, "data": _hx(t.data), "gas": hex(t.gas)}
                if t.to:
                    c["to"] = t.to
                calls.append(("eth_call", [c, parent]))
            for i, ans in zip(failed, self.rpc.batch(calls)):
                if isinstance(ans, RpcError):
                    results[i].reason = decode_revert(ans.data) if isinstance(ans.data, str) and ans.data.startswith("0x") else ans.message
                else:
                    results[i].reason = "lost a race: succeeds against the parent state, reverted after earlier txs in the block"
        return results

    def call_many(self, calls: Sequence[tuple[str, bytes]]) -> list[bytes | CallError]:
        answers = self.rpc.batch([("eth_call", [{"to": to, "data": _hx(d)}, "latest"]) for to, d in calls])
        out: list[bytes | CallError] = []
        for a in answers:
            if isinstance(a, RpcError):
                data = a.data if isinstance(a.data, str) else None
                out.append(CallError(decode_revert(data) if data else a.message))
            else:
                out.append(_unhex(a))
        return out

    def fund(self, addresses: Sequence[str], wei: int) -> None:
        self.rpc.batch([("anvil_setBalance", [a, hex(wei)]) for a in addresses])

    def latest_timestamp(self) -> int:
        return int(self.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def snapshot(self) -> int:
        return int(self.rpc.call("evm_snapshot"), 16)

    def revert(self, snapshot_id: int) -> None:
        if not self.rpc.call("evm_revert", [hex(snapshot_id)]):
            raise KeyError(f"no such snapshot {snapshot_id} (already reverted?)")
        self._nonces.clear()  # nonces went back with the state
        self.mined += 1       # the state moved: nothing read before carries over

    def close(self) -> None:
        """Hand a node attached by URL back with automine on, as we found it."""
        try:
            if not self.owned and getattr(self, "_automine_touched", False) and not self.automine:
                self.rpc.call("evm_setAutomine", [True])
        except Exception:  # noqa: BLE001 - the node may be gone already
            pass
        self.rpc.close()


class ChainBackend:
    """The deployment backend (`simulation.deployment` protocol) over any Chain.

    deploy(name, *args) -> address; transact(address, name, fn, *args, sender=...) -> TxResult
    (raises on revert: deployment must not half-succeed); call(address, name, fn, *args) -> value.
    Each deploy/transact mines one block, `block_time` seconds after the previous one.
    """

    def __init__(self, chain: Chain, artifacts: Artifacts | None = None, sender: str | None = None,
                 block_time: int = 1):
        self.chain = chain
        self.artifacts = artifacts or Artifacts.cached()
        self.sender = sender or chain.default_sender
        self.block_time = block_time

    # -- the optional parts of simulation.deployment's Backend protocol -------------------------
    def chain_id(self) -> int:
        return self.chain.chain_id

    def block_number(self) -> int:
        return self.chain.block_number()

    def deployer(self) -> str:
        return self.sender

    def can_sign(self, address: str) -> bool:
        return True  # anvil impersonates, revm needs no signature

    def _ts(self) -> int:
        return self.chain.latest_timestamp() + self.block_time

    def deploy(self, contract_name: str, *args: Any, sender: str | None = None) -> str:
        data = self.artifacts[contract_name].deploy_data(*args)
        (res,) = self.chain.send_block([Tx(sender or self.sender, None, data, gas=25_000_000,
                                           label=f"deploy {contract_name}")], self._ts())
        if not res.ok or not res.contract_address:
            raise RuntimeError(f"deploying {contract_name} failed: {res.reason}")
        return res.contract_address

    def transact(self, address: str, contract_name: str, fn_name: str, *args: Any,
                 sender: str | None = None, gas: int = 5_000_000) -> TxResult:
        data = self.artifacts[contract_name].fn(fn_name).encode(*args)
        (res,) = self.chain.send_block([Tx(sender or self.sender, address, data, gas=gas,
                                           label=fn_name)], self._ts())
        if not res.ok:
            raise RuntimeError(f"{contract_name}.{fn_name} reverted: {res.reason}")
        return res

    def transact_many(self, calls: Sequence[tuple[str, str, str, tuple, str | None]]) -> list[TxResult]:
        """Several (address, contract, fn, args, sender) in ONE block; raises if any reverts."""
        txs = [Tx(s or self.sender, a, self.artifacts[c].fn(f).encode(*args), gas=5_000_000, label=f)
               for a, c, f, args, s in calls]
        results = self.chain.send_block(txs, self._ts())
        bad = [r for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"{bad[0].tx.label} reverted: {bad[0].reason}")
        return results

    def call(self, address: str, contract_name: str, fn_name: str, *args: Any) -> Any:
        spec = self.artifacts[contract_name].fn(fn_name)
        (out,) = self.chain.call_many([(address, spec.encode(*args))])
        if isinstance(out, CallError):
            raise RuntimeError(f"{contract_name}.{fn_name} reverted: {out.reason}")
        return spec.decode(out)
