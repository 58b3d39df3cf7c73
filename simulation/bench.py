"""`clawback-sim bench`: the same kind of agent transactions (EIP-712 maker orders filled by takers
through `Clearinghouse.trade`) sent (a) batched over raw JSON-RPC, one mine per block, and (b) one
by one through ape (gas estimation, local signing, wait for each receipt), on one anvil."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from .anvil import Anvil
from .chain import RpcChain, Tx
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


@dataclass
class BenchResult:
    batched_tx: int
    batched_s: float
    batched_reverted: int
    ape_tx: int
    ape_s: float
    ape_reverted: int

    @property
    def batched_rate(self) -> float:
        return self.batched_tx / self.batched_s

    @property
    def ape_rate(self) -> float:
        return self.ape_tx / self.ape_s

    @property
    def ratio(self) -> float:
        return self.batched_rate / self.ape_rate


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


def _setup(chain: RpcChain) -> tuple[Engine, list[Key]]:
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


def bench_batched(eng: Engine, work: TradeWorkload, n: int, per_block: int) -> tuple[int, float, int]:
    p = eng.p
    chain = eng.chain
    sent = reverted = 0
    sel = p.f_trade.selector
    ts = chain.latest_timestamp()
    t0 = time.perf_counter()
    while sent < n:
        txs = []
        for _ in range(min(per_block, n - sent)):
            taker, o, sig, fill = work.next()
            txs.append(Tx(taker, p.ch, sel + encode_trade_args(o, sig, fill), gas=1_000_000, label="trade"))
        ts += 1
        res = chain.send_block(txs, ts)
        sent += len(res)
        reverted += sum(1 for r in res if not r.ok)
    return sent, time.perf_counter() - t0, reverted


def bench_ape(url: str, eng: Engine, work: TradeWorkload, n: int) -> tuple[int, float, int]:
    import ape
    from ape import accounts, networks
    from ethpm_types import ContractType

    ape.logging.logger.set_level("ERROR")
    logging.getLogger("ape").setLevel(logging.ERROR)
    eng.chain.set_automine(True)
    reverted = 0
    with networks.parse_network_choice(url):
        by_addr = {a.address: a for a in accounts.test_accounts}
        ct = ContractType(abi=eng.artifacts["Clearinghouse"].abi, contractName="Clearinghouse")
        ch = ape.Contract(eng.p.ch, contract_type=ct)
        t0 = time.perf_counter()
        for _ in range(n):
            taker, o, sig, fill = work.next()
            try:
                ch.trade(o.as_tuple(), sig, fill, sender=by_addr[taker], gas_limit=1_000_000)
            except Exception:  # noqa: BLE001 - counted like the batched path
                reverted += 1
        return n, time.perf_counter() - t0, reverted


def measure(n_batched: int = 2000, n_ape: int = 100, per_block: int = 200) -> BenchResult:
    with Anvil() as node:
        chain = RpcChain(node.url)
        eng, makers = _setup(chain)
        work = TradeWorkload(eng, makers)
        bench_batched(eng, work, min(200, n_batched), per_block)  # warm-up (connection, caches)
        b = bench_batched(eng, work, n_batched, per_block)
        a = bench_ape(node.url, eng, work, n_ape)
        chain.close()
    return BenchResult(b[0], b[1], b[2], a[0], a[1], a[2])


def run_bench(n_batched: int = 2000, n_ape: int = 100, per_block: int = 200) -> int:
    r = measure(n_batched, n_ape, per_block)
    print(f"workload: Clearinghouse.trade fills of EIP-712 signed maker orders "
          f"({N_MAKERS} makers, {len(TAKERS)} takers), on one anvil")
    print(f"batched raw JSON-RPC : {r.batched_tx:6d} tx in {r.batched_s:7.2f} s = {r.batched_rate:8.1f} tx/s "
          f"({per_block} tx per block, {r.batched_reverted} reverted)")
    print(f"ape, one by one      : {r.ape_tx:6d} tx in {r.ape_s:7.2f} s = {r.ape_rate:8.1f} tx/s "
          f"({r.ape_reverted} reverted)")
    print(f"speed-up             : {r.ratio:.1f}x")
    return 0
