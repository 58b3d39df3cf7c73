"""`clawback-sim bench`: throughput and per-run cost, every figure measured side by side in one run.

1. The fill workload: EIP-712 signed maker orders filled by takers through `Clearinghouse.trade`,
   sent (a) through the project's chain layer in process on revm, (b) batched over raw JSON-RPC
   to anvil, one mine per block, (c) one by one through ape on the same anvil (gas estimation,
   local signing, wait for each receipt).
2. The per-run cost of a short scenario on each chain: a fresh anvil per run (what a sweep did
   before), a fresh revm chain per run, and a reused revm chain restored from its deployment
   snapshot (what a sweep worker does now), split into setup and block loop.
3. `--scale N1,N2,...`: the scale curve, the default scenario with N trader accounts on revm, with
   the time per block and where it goes (agents, signing, EVM, reads, invariants, events).
"""
from __future__ import annotations

import logging
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from .anvil import Anvil
from .chain import Chain, RpcChain, Tx
from .engine import Engine
from .keys import Key, Order, derive_key, encode_trade_args, order_digest, sign_digest
from .scenario import MarketConfig, Scenario

N_MAKERS = 20
TAKERS = (  # anvil's / ape's well-known dev accounts 1..8 (unlocked on anvil, ape's test accounts)
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
)


def _proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a live process has used so far (Linux /proc), 0 if unknown."""
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(node_pid: int | None = None) -> float:
    """CPU used so far by this process, its reaped children (a stopped anvil) and a live node."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime + _proc_cpu(node_pid)


@dataclass
class Rate:
    """`tx` transactions in `seconds` of wall time and `cpu` CPU-seconds (this process and the
    node's: on a busy machine the wall rate says more about the neighbours than the chain)."""

    tx: int
    seconds: float
    reverted: int
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.tx / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.tx / self.cpu if self.cpu else float("nan")


@dataclass
class BenchResult:
    revm: Rate
    batched: Rate
    ape: Rate

    # the old names (tests, scripts)
    @property
    def batched_tx(self) -> int:
        return self.batched.tx

    @property
    def batched_reverted(self) -> int:
        return self.batched.reverted

    @property
    def batched_rate(self) -> float:
        return self.batched.rate

    @property
    def ape_tx(self) -> int:
        return self.ape.tx

    @property
    def ape_reverted(self) -> int:
        return self.ape.reverted

    @property
    def ape_rate(self) -> float:
        return self.ape.rate

    @property
    def ratio(self) -> float:
        return self.batched.rate / self.ape.rate


class TradeWorkload:
    """Deterministic stream of (taker, order, signature, fill) trades between funded accounts."""

    def __init__(self, eng: Engine, makers: list[Key]):
        self.eng = eng
        self.makers = makers
        self.i = 0
        self.price = eng.readings.index_prices[0] if eng.readings else int(30_000 * 10**18)

    def next(self) -> tuple[str, Order, bytes, int]:
        i = self.i
        self.i += 1
        maker = self.makers[i % len(self.makers)]
        taker = TAKERS[i % len(TAKERS)]
        size = 10**16 * (1 if (i // len(self.makers)) % 2 == 0 else -1)  # 0.01 base units, alternating
        o = Order(maker.address, 0, size, self.price, 1_000_000 + i, 2**40)
        sig = sign_digest(maker.private_key, order_digest(o, self.eng.domain))
        return taker, o, sig, abs(size)

    def batch(self, n: int) -> list[tuple[str, Order, bytes, int]]:
        return [self.next() for _ in range(n)]


def _setup(chain: Chain) -> tuple[Engine, list[Key]]:
    sc = Scenario(name="bench", markets=[MarketConfig(name="BTC", initial_price=30_000)])
    eng = Engine(sc, chain, seed=7, blocks=1)
    p = eng.deploy()
    makers = [derive_key(7, i, "bench-maker") for i in range(N_MAKERS)]
    everyone = [m.address for m in makers] + list(TAKERS)
    chain.fund(everyone, 10**24)
    dep = chain.default_sender
    amt = 10_000_000 * 10**6
    eng._send([Tx(dep, p.token, p.f_mint.encode(a, amt), gas=200_000) for a in everyone], eng.t0_next(), "mint", True)
    eng._send([Tx(a, p.token, p.f_approve.encode(p.ch, 2**256 - 1), gas=100_000) for a in everyone]
              + [Tx(a, p.ch, p.f_deposit.encode(amt), gas=400_000) for a in everyone], eng.t0_next(), "deposit", True)
    eng.accounts = everyone
    eng.readings = eng.read(0, chain.latest_timestamp())
    return eng, makers


def bench_batched(eng: Engine, work: TradeWorkload, n: int, per_block: int, node_pid: int | None = None) -> Rate:
    """`n` fills through the chain layer, `per_block` per block. Orders are signed and calldata
    encoded beforehand, outside the timing, on every chain; inside it each result is read as the
    engine reads it (status, logs, transaction hash), so a chain that builds part of a result
    lazily (revm's anvil-style hash) pays for it here too."""
    p = eng.p
    chain = eng.chain
    sel = p.f_trade.selector
    blocks = []
    left = n
    while left > 0:
        k = min(per_block, left)
        blocks.append([Tx(t, p.ch, sel + encode_trade_args(o, sig, fill), gas=1_000_000, label="trade")
                       for t, o, sig, fill in work.batch(k)])
        left -= k
    ts = chain.latest_timestamp()
    sent = reverted = 0
    c0, t0 = cpu_seconds(node_pid), time.perf_counter()
    for txs in blocks:
        ts += 1
        res = chain.send_block(txs, ts)
        sent += len(res)
        for r in res:
            if not r.ok:
                reverted += 1
            if r.logs and not r.hash:
                raise RuntimeError(f"{chain.kind}: a transaction without a hash")
    return Rate(sent, time.perf_counter() - t0, reverted, cpu_seconds(node_pid) - c0)


def bench_ape(url: str, eng: Engine, work: TradeWorkload, n: int, node_pid: int | None = None) -> Rate:
    import ape
    from ape import accounts, networks
    from ethpm_types import ContractType

    ape.logging.logger.set_level("ERROR")
    logging.getLogger("ape").setLevel(logging.ERROR)
    eng.chain.set_automine(True)
    reverted = 0
    trades = work.batch(n)
    with networks.parse_network_choice(url):
        by_addr = {a.address: a for a in accounts.test_accounts}
        ct = ContractType(abi=eng.artifacts["Clearinghouse"].abi, contractName="Clearinghouse")
        ch = ape.Contract(eng.p.ch, contract_type=ct)
        c0, t0 = cpu_seconds(node_pid), time.perf_counter()
        for taker, o, sig, fill in trades:
            try:
                ch.trade(o.as_tuple(), sig, fill, sender=by_addr[taker], gas_limit=1_000_000)
            except Exception:  # noqa: BLE001 - counted like the batched path
                reverted += 1
        return Rate(n, time.perf_counter() - t0, reverted, cpu_seconds(node_pid) - c0)


def measure(n_batched: int = 2000, n_ape: int = 100, per_block: int = 200) -> BenchResult:
    """The fill workload on revm, anvil batched and ape (same trades, fresh chains). revm and anvil
    take turns block by block, so that both see the same machine (the neighbours' load moves)."""
    from .revm_chain import RevmChain

    revm = RevmChain()
    r_eng, makers = _setup(revm)
    r_work = TradeWorkload(r_eng, makers)
    with Anvil() as node:
        chain = RpcChain(node.url)
        a_eng, makers = _setup(chain)
        a_work = TradeWorkload(a_eng, makers)
        pid = node.proc.pid if node.proc else None
        warm = min(200, n_batched)
        bench_batched(r_eng, r_work, warm, per_block)  # warm-up (caches; the connection on anvil)
        bench_batched(a_eng, a_work, warm, per_block, pid)
        r = Rate(0, 0.0, 0, 0.0)
        b = Rate(0, 0.0, 0, 0.0)
        left = n_batched
        while left > 0:
            k = min(per_block, left)
            left -= k
            for acc, eng, work, p in ((r, r_eng, r_work, None), (b, a_eng, a_work, pid)):
                x = bench_batched(eng, work, k, per_block, p)
                acc.tx += x.tx
                acc.seconds += x.seconds
                acc.reverted += x.reverted
                acc.cpu += x.cpu
        a = bench_ape(node.url, a_eng, a_work, n_ape, pid)
        chain.close()
    return BenchResult(r, b, a)


# -- per-run cost of a short scenario -----------------------------------------------------------
@dataclass
class RunCost:
    label: str
    total: list[float] = field(default_factory=list)
    setup: list[float] = field(default_factory=list)
    loop: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def row(self) -> str:
        m = statistics.median
        return (f"{self.label:<38} {m(self.total):7.2f} s/run  (setup {m(self.setup):5.2f} s, "
                f"loop {m(self.loop):5.2f} s), {m(self.cpu):6.2f} CPU-s/run incl. anvil; median of {len(self.total)}")


def cut_to(sc, blocks: int, **overrides):
    """`sc` cut to `blocks` blocks; a crash scheduled later is moved to the last block (the
    scenario refuses a crash after its end), so a short benchmark still runs the same agents."""
    ov = {"blocks": blocks, **overrides}
    if sc.prices.crash is not None and sc.prices.crash.block > blocks:
        ov["prices.crash.block"] = blocks
    return sc.with_overrides(ov)


def run_costs(scenario: str = "default", blocks: int = 30, runs: int = 3) -> list[RunCost]:
    """Seconds per run of `scenario` cut to `blocks` blocks: fresh anvil, fresh revm, reused revm."""
    import tempfile
    from pathlib import Path

    from .runner import run_scenario
    from .scenario import load_scenario

    sc = cut_to(load_scenario(scenario), blocks)
    out = []
    for label, chain, reuse in (("anvil, a fresh node per run (old sweep)", "anvil", False),
                                ("revm, a fresh chain per run", "revm", False),
                                ("revm, reused: restored from snapshot", "revm", True)):
        cost = RunCost(label)
        if reuse:  # the first run on a worker deploys; the rest restore (what is measured)
            with tempfile.TemporaryDirectory() as tmp:
                run_scenario(sc, scenario_ref=scenario, seed=1, blocks=blocks, chain=chain, out=Path(tmp),
                             progress=False, plots=False, reuse_chain=True)
        for seed in range(1, runs + 1):
            with tempfile.TemporaryDirectory() as tmp:
                c0, t0 = cpu_seconds(), time.perf_counter()
                res = run_scenario(sc, scenario_ref=scenario, seed=seed, blocks=blocks, chain=chain, out=Path(tmp),
                                   progress=False, plots=False, reuse_chain=reuse)
                cost.total.append(time.perf_counter() - t0)
                cost.cpu.append(cpu_seconds() - c0)
                cost.setup.append(res.summary["setup_time_s"])
                cost.loop.append(res.summary["loop_time_s"])
        out.append(cost)
    return out


# -- scale curve --------------------------------------------------------------------------------
PHASES = ("agents", "signing", "evm", "reads", "read decode", "invariants", "events", "other")


class _Timer:
    """Adds up CPU time per phase by wrapping callables (instance attributes, module names). CPU
    time, not wall time: on a shared machine the wall clock also counts the neighbours."""

    def __init__(self) -> None:
        self.t: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []
        self._stack: list[str] = []

    def wrap(self, obj: Any, name: str, phase: str) -> None:
        f = getattr(obj, name, None)
        if f is None:
            return
        had = name in getattr(obj, "__dict__", {})
        old = obj.__dict__.get(name) if had else None
        t, stack = self.t, self._stack

        def timed(*a, **k):
            t0 = time.process_time()
            stack.append(phase)
            try:
                return f(*a, **k)
            finally:
                stack.pop()
                dt = time.process_time() - t0
                t[phase] += dt
                if stack:  # nested: the outer phase does not count it twice
                    t[stack[-1]] -= dt

        setattr(obj, name, timed)
        self._undo.append((lambda: setattr(obj, name, old)) if had else (lambda: delattr(obj, name)))

    def undo(self) -> None:
        for u in reversed(self._undo):
            u()
        self._undo.clear()


@dataclass
class ScalePoint:
    traders: int
    accounts: int    # every account read each block (traders, makers, liquidators, attacker)
    blocks: int
    setup_s: float
    loop_s: float
    phases: dict[str, float]   # CPU seconds per phase
    tx: int
    loop_cpu: float = 0.0

    @property
    def ms_per_block(self) -> float:
        """CPU milliseconds per block (the process is alone on its core: wall time when quiet)."""
        return 1000 * self.loop_cpu / self.blocks


def scale_point(traders: int, blocks: int, scenario: str = "default", seed: int = 1) -> ScalePoint:
    """`scenario` with `traders` trader accounts (noise : momentum kept at 4 : 1) for `blocks`
    blocks on a fresh revm chain, timed per phase."""
    from . import agents as agent_pkg
    from .revm_chain import RevmChain
    from .scenario import load_scenario

    momentum = traders // 5
    sc = cut_to(load_scenario(scenario), blocks, **{"agents.noise_traders.count": traders - momentum,
                                                    "agents.momentum_traders.count": momentum})
    chain = RevmChain()
    eng = Engine(sc, chain, seed=seed, blocks=blocks)
    t0 = time.perf_counter()
    eng.setup()
    setup_s = time.perf_counter() - t0
    tm = _Timer()
    for a in eng.agents:
        tm.wrap(a, "decide", "agents")
    mods = [m for n, m in list(sys.modules.items()) if n.startswith(f"{agent_pkg.__name__}.") or n == "simulation.keys"]
    for m in mods:
        for fn in ("sign_digest", "order_digest"):
            tm.wrap(m, fn, "signing")
    tm.wrap(chain, "send_block", "evm")
    tm.wrap(chain, "call_many", "reads")
    tm.wrap(eng, "read", "read decode")
    tm.wrap(eng, "read_max_liquidatable", "read decode")
    tm.wrap(eng, "touched", "read decode")
    tm.wrap(eng.checker, "check", "invariants")
    tm.wrap(eng, "_collect_events", "events")
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        while eng.block < eng.blocks:
            eng.step()
    finally:
        tm.undo()
    loop_cpu, loop_s = time.process_time() - c0, time.perf_counter() - t0
    phases = {k: tm.t.get(k, 0.0) for k in PHASES[:-1]}
    phases["other"] = loop_cpu - sum(phases.values())
    return ScalePoint(traders, len(eng.accounts), eng.block, setup_s, loop_s, phases, eng.sent, loop_cpu)


def format_scale(points: list[ScalePoint]) -> str:
    head = ("| trader accounts | accounts read | blocks | agent tx | wall time | CPU ms per block | "
            "CPU ms per block per 100 accounts | " + " | ".join(PHASES) + " |")
    lines = [head, "|" + "---|" * (7 + len(PHASES))]
    for p in points:
        share = " | ".join(f"{100 * p.phases[k] / p.loop_cpu:.0f} %" for k in PHASES)
        lines.append(f"| {p.traders} | {p.accounts} | {p.blocks} | {p.tx} | {p.setup_s + p.loop_s:.1f} s | "
                     f"{p.ms_per_block:.1f} | {100 * p.ms_per_block / p.accounts:.2f} | {share} |")
    return "\n".join(lines)


def run_bench(n_batched: int = 2000, n_ape: int = 100, per_block: int = 200, run_blocks: int = 30, runs: int = 3,
              scale: list[int] | None = None, scale_blocks: int = 1000, scenario: str = "default") -> int:
    if scale:
        pts = []
        for n in scale:
            p = scale_point(n, scale_blocks, scenario)
            pts.append(p)
            print(f"{n} traders: {p.blocks} blocks in {p.loop_s:.1f} s wall, {p.loop_cpu:.1f} s CPU "
                  f"({p.ms_per_block:.1f} CPU ms/block), setup {p.setup_s:.1f} s", flush=True)
        print(format_scale(pts))
        return 0
    r = measure(n_batched, n_ape, per_block)
    print(f"workload: Clearinghouse.trade fills of EIP-712 signed maker orders ({N_MAKERS} makers, {len(TAKERS)} "
          f"takers), {per_block} per block, orders signed beforehand, each result read (status, logs, hash); "
          f"revm and anvil take turns block by block")
    for label, x in (("revm, in process (chain layer)", r.revm), ("anvil, batched raw JSON-RPC", r.batched),
                     ("ape, one by one (anvil)", r.ape)):
        print(f"{label:<32}: {x.tx:6d} tx in {x.seconds:7.2f} s = {x.rate:8.1f} tx/s; {x.cpu:6.2f} CPU-s "
              f"(incl. anvil) = {x.cpu_rate:8.1f} tx/CPU-s ({x.reverted} reverted)")
    for unit, f in (("wall", lambda x: x.rate), ("CPU", lambda x: x.cpu_rate)):
        print(f"ratios ({unit:>4}): revm / anvil batched {f(r.revm) / f(r.batched):.2f}x, anvil batched / ape "
              f"{f(r.batched) / f(r.ape):.0f}x, revm / ape {f(r.revm) / f(r.ape):.0f}x")
    if runs:
        print(f"\nper-run cost, scenario {scenario} cut to {run_blocks} blocks (run_scenario, no plots):")
        costs = run_costs(scenario, run_blocks, runs)
        for c in costs:
            print(c.row())
        for unit, key in (("wall", "total"), ("CPU", "cpu")):
            base = statistics.median(getattr(costs[0], key))
            print(f"speed-up per run against a fresh anvil ({unit}): "
                  + ", ".join(f"{c.label.split(',')[0]}{' reused' if 'reused' in c.label else ''} "
                              f"{base / statistics.median(getattr(c, key)):.1f}x" for c in costs[1:]))
    return 0
