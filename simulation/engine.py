"""The simulation engine: deploy the protocol, create and fund the agents, then per block:
agents decide -> one batched send + one mine -> one batched read -> invariants -> metrics."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from . import deployment as D
from .abi import Artifacts, ContractType
from .agents import (Agent, AccountView, Approve, Attacker, Deposit, Intent, Liquidate,
                     LiquidateBankrupt, Liquidator, MarketMaker, MarketView, MomentumTrader, NoiseTrader,
                     Note, OrderBook, Post, Redeem, RequestRedeem, Staker, Trade, VaultDeposit, VaultView,
                     Withdraw, World)
from .anvil import Anvil
from .chain import CallError, Chain, ChainBackend, EmbeddedChain, RpcChain, Tx, TxResult
from .invariants import AccountReading, BlockFlags, Event, InvariantChecker, Readings, Violation
from .keys import Key, derive_key, domain_separator, encode_trade_args
from .scenario import Scenario

GENESIS_TS = 2_000_000_000  # fixed clock start: same scenario + seed -> same timestamps on any chain
WAD = 10**18


class SimulationError(RuntimeError):
    """The run could not proceed (deployment failed, chain died, ...)."""


@contextlib.contextmanager
def open_chain(kind: str) -> Iterator[Chain]:
    """'anvil' (start a private anvil, always stopped), 'embedded' (in-process), or a URL."""
    if kind == "anvil":
        with Anvil() as node:
            chain = RpcChain(node.url, owned=True)
            try:
                yield chain
            finally:
                chain.close()
    elif kind == "embedded":
        yield EmbeddedChain()
    elif kind.startswith(("http://", "https://")):
        chain = RpcChain(kind)
        try:
            yield chain
        finally:
            chain.close()
    else:
        raise ValueError(f"--chain must be anvil, embedded or an http(s) URL, got {kind!r}")


def deployment_config(sc: Scenario, prices0: Sequence[float]) -> D.DeployConfig:
    """The scenario's [protocol] and [[markets]] as a simulation.deployment config."""
    p = sc.protocol
    vault: dict[str, Any] = {"cooldown": p.vault_cooldown}
    if p.max_cover_ratio is not None:
        vault["max_cover_ratio"] = repr(p.max_cover_ratio)
    if p.min_reserve is not None:
        vault["min_reserve"] = repr(p.min_reserve)
    ch: dict[str, Any] = {}
    if p.insurance_fee_share is not None:
        ch["insurance_fee_share"] = repr(p.insurance_fee_share)
    if p.keeper_reward is not None:
        ch["keeper_reward"] = repr(p.keeper_reward)
    ch["loss_policy"] = p.loss_policy
    markets = []
    for m, px in zip(sc.markets, prices0):
        mk: dict[str, Any] = {"name": m.name, "imr": repr(m.imr), "mmr": repr(m.mmr),
                              "feed": {"mock": True, "decimals": p.feed_decimals,
                                       "price": f"{px:.{p.feed_decimals}f}"}}
        for k in ("liquidation_penalty", "liquidator_share", "close_factor", "price_band", "taker_fee", "maker_fee"):
            if getattr(p, k) is not None:
                mk[k] = repr(getattr(p, k))
        if p.max_price_age is not None:
            mk["max_price_age"] = p.max_price_age
        markets.append(mk)
    data = {"collateral": {"mock": True, "decimals": p.collateral_decimals}, "insurance_vault": vault,
            "clearinghouse": ch, "markets": markets}
    return D.parse_config(data, source=f"scenario {sc.name}")


@dataclass
class Protocol:
    """Deployed addresses and the precomputed ABI entries the hot path uses."""

    token: str
    ch: str
    vault: str
    feeds: list[str]
    CH: ContractType
    IV: ContractType
    TOK: ContractType
    AGG: ContractType

    def __post_init__(self):
        f = self.CH.fn
        self.f_summary = f("account_summary")
        self.f_pos = f("position_size")
        self.f_oi = f("open_interest")
        self.f_index = f("index_price")
        self.f_soc = f("socialized_loss")
        self.f_treasury = f("treasury")
        self.f_bad = f("bad_debt")
        self.f_maxliq = f("max_liquidatable_size")
        self.f_trade = f("trade")
        self.f_deposit = f("deposit")
        self.f_withdraw = f("withdraw")
        self.f_liq = f("liquidate")
        self.f_liqb = f("liquidate_bankrupt")
        self.f_settle = f("settle")
        self.f_sweep = f("sweep_fees")
        self.f_bal = self.TOK.fn("balanceOf")
        self.f_approve = self.TOK.fn("approve")
        self.f_mint = self.TOK.fn("mint")
        self.f_set_answer = self.AGG.fn("set_answer")
        self.f_v_assets = self.IV.fn("totalAssets")
        self.f_v_supply = self.IV.fn("totalSupply")
        self.f_v_c2a = self.IV.fn("convertToAssets")
        self.f_v_bal = self.IV.fn("balanceOf")
        self.f_v_deposit = self.IV.fn("deposit")
        self.f_v_request = self.IV.fn("request_redeem")
        self.f_v_redeem = self.IV.fn("redeem")
        self.f_v_reqview = self.IV.fn("redeem_request")
        self.events = {self.ch: self.CH.events, self.vault: self.IV.events}


@dataclass
class BlockOutcome:
    """One simulated block: readings, decoded events, transaction counts, violations."""

    block: int
    readings: Readings
    events: list[Event]
    sent: int
    reverted: int
    reasons: dict[str, int]
    violations: list[Violation]


class Engine:
    """Drives one scenario on one chain. `setup()` then `run()`; or `step()` per block."""

    def __init__(self, scenario: Scenario, chain: Chain, seed: int | None = None,
                 blocks: int | None = None, artifacts: Artifacts | None = None):
        self.sc = scenario
        self.chain = chain
        self.seed = scenario.seed if seed is None else seed
        self.blocks = min(blocks or scenario.effective_blocks(), scenario.effective_blocks()) \
            if scenario.prices.model == "historical" else (blocks or scenario.blocks)
        self.artifacts = artifacts or Artifacts()
        self.rng = np.random.default_rng([self.seed, 0xE1])
        self.decimals = scenario.protocol.collateral_decimals
        self.paths = scenario.with_overrides({"blocks": self.blocks}).price_paths(self.seed) \
            if scenario.prices.model != "historical" else scenario.price_paths(self.seed)
        self.true = self.paths.true[:, : self.blocks + 1]
        self.blocks = self.true.shape[1] - 1
        self.oracle = self.paths.oracle(scenario.prices.oracle_lag_blocks)[:, : self.blocks + 1]
        self.book = OrderBook()
        self.agents: list[Agent] = []
        self.accounts: list[str] = []       # Clearinghouse accounts read every block
        self.all_addrs: list[str] = []
        self.wallet_addrs: list[str] = []
        self.share_addrs: list[str] = []
        self.index_history: list[np.ndarray] = []
        self.readings: Readings | None = None
        self.max_liq: dict[tuple[str, int], int] = {}
        self.block = 0
        self.t0 = 0
        self.sent = 0
        self.reverted = 0
        self.revert_reasons: dict[str, int] = {}
        self.checker = InvariantChecker(scenario.invariants, [m.imr for m in scenario.markets],
                                        [m.mmr for m in scenario.markets], self.decimals)
        self.p: Protocol | None = None
        self.deployment: D.Deployment | None = None
        self.redeem_requests: dict[str, int] = {}
        self.attack_notes: list[dict] = []
        self.deposits: dict[str, int] = {}
        self.withdrawals: dict[str, int] = {}
        self.haircuts: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------
    # setup
    def deploy(self) -> Protocol:
        if self.chain.latest_timestamp() < GENESIS_TS:
            self.chain.send_block([], GENESIS_TS)
        backend = ChainBackend(self.chain, self.artifacts)
        cfg = deployment_config(self.sc, [float(x) for x in self.oracle[:, 0]])
        try:
            self.deployment = D.deploy_protocol(backend, cfg, network="simulation", local=True)
        except Exception as exc:  # noqa: BLE001
            raise SimulationError(f"deployment failed: {exc}") from exc
        dep = self.deployment
        a = self.artifacts
        self.p = Protocol(dep.token_address, dep.clearinghouse_address, dep.vault_address,
                          [dep.feed_address(i) for i in range(len(self.sc.markets))],
                          a["Clearinghouse"], a["InsuranceVault"], a["MockToken"], a["MockAggregator"])
        self.backend = backend
        self.vault_decimals = int(backend.call(self.p.vault, "InsuranceVault", "decimals"))
        self.cooldown = int(backend.call(self.p.vault, "InsuranceVault", "cooldown"))
        self.checker.vault_max_cover_ratio = int(backend.call(self.p.vault, "InsuranceVault", "max_cover_ratio"))
        self.checker.vault_min_reserve = int(backend.call(self.p.vault, "InsuranceVault", "min_reserve"))
        self.domain = domain_separator(self.chain.chain_id, self.p.ch)
        onchain = backend.call(self.p.ch, "Clearinghouse", "domain_separator")
        if bytes(onchain) != self.domain:
            raise SimulationError("EIP-712 domain separator mismatch between Python and the Clearinghouse")
        return self.p

    def make_agents(self) -> list[Agent]:
        ac = self.sc.agents
        i = 0

        def nk() -> tuple[Key, np.random.Generator]:
            nonlocal i
            i += 1
            return derive_key(self.seed, i), np.random.default_rng([self.seed, i])

        agents: list[Agent] = []
        for n in range(ac.market_makers.count):
            k, r = nk()
            agents.append(MarketMaker(f"mm{n}", k, r, ac.market_makers))
        for n in range(ac.liquidators.count):
            k, r = nk()
            agents.append(Liquidator(f"liq{n}", k, r, ac.liquidators))
        for cfg, cls, tag in ((ac.noise_traders, NoiseTrader, "noise"), (ac.momentum_traders, MomentumTrader, "mom")):
            for n in range(cfg.count):
                k, r = nk()
                cap = float(cfg.capital * np.exp(0.5 * r.standard_normal() - 0.125))
                agents.append(cls(f"{tag}{n}", k, r, cfg, round(cap, 2)))
        for n in range(ac.stakers.count):
            k, r = nk()
            agents.append(Staker(f"staker{n}", k, r, ac.stakers))
        if ac.attacker.enabled:
            k, r = nk()
            mk = derive_key(self.seed, 10_000, "attacker-maker")
            agents.append(Attacker("attacker", k, r, ac.attacker, mk))
        self.agents = agents
        return agents

    def setup(self) -> None:
        """Deploy, create agents, fund them (ether + tokens), approvals and first deposits."""
        p = self.deploy()
        agents = self.make_agents()
        addrs: list[str] = []
        for a in agents:
            addrs.append(a.address)
            self.chain.add_key(a.key.private_key)
            if isinstance(a, Attacker):
                addrs.append(a.maker_key.address)
                self.chain.add_key(a.maker_key.private_key)
        self.chain.fund(addrs, 10**24)
        self.accounts = [a.address for a in agents if a.trades_on_clearinghouse]
        if any(isinstance(a, Attacker) and a.cfg.self_trade_block is not None for a in agents):
            self.accounts += [a.maker_key.address for a in agents if isinstance(a, Attacker)]
        self.all_addrs = addrs
        # wallets matter to traders (top-ups) and the report; vault shares to stakers/attacker
        self.wallet_addrs = [a.address for a in agents if isinstance(a, NoiseTrader)]
        self.share_addrs = [a.address for a in agents if isinstance(a, (Staker, Attacker))]
        w = self.world(self.t0_next())
        intents = [(a, it) for a in agents for it in a.setup(w)]
        mint: dict[str, int] = {}
        for a, it in intents:
            amount = getattr(it, "amount", 0) if isinstance(it, Deposit) else getattr(it, "assets", 0) \
                if isinstance(it, VaultDeposit) else 0
            if amount:
                who = it.sender or a.address
                mint[who] = mint.get(who, 0) + amount
        dep = self.chain.default_sender
        txs = [Tx(dep, p.token, p.f_mint.encode(who, amt), gas=200_000, label="mint") for who, amt in mint.items()]
        self._send(txs, self.t0_next(), "setup mint", strict=True)
        txs = [self.encode(a, it) for a, it in intents]
        results = self._send([t for t in txs if t is not None], self.t0_next(), "setup", strict=True)
        self._collect_events(results)
        self.t0 = self.chain.latest_timestamp()
        self.readings = self.read(0, self.t0)
        self.index_history.append(np.array(self.readings.index_prices, dtype=float) / WAD)

    def t0_next(self) -> int:
        return self.chain.latest_timestamp() + 1

    def _send(self, txs: list[Tx], ts: int, what: str, strict: bool = False) -> list[TxResult]:
        res = self.chain.send_block(txs, ts)
        bad = [r for r in res if not r.ok]
        if strict and bad:
            raise SimulationError(f"{what}: {bad[0].tx.label} by {bad[0].tx.sender} reverted: {bad[0].reason}")
        return res

    # ------------------------------------------------------------------------------------------
    # intents -> transactions
    def encode(self, agent: Agent, it: Intent) -> Tx | None:
        p = self.p
        sender = it.sender or agent.address
        if isinstance(it, (Post, Note)):
            return None
        if isinstance(it, Approve):
            spender = p.ch if it.spender == "clearinghouse" else p.vault
            return Tx(sender, p.token, p.f_approve.encode(spender, it.amount), gas=100_000, label="approve",
                      agent=agent.name, meta=it)
        if isinstance(it, Deposit):
            return Tx(sender, p.ch, p.f_deposit.encode(it.amount), gas=it.gas, label="deposit", agent=agent.name, meta=it)
        if isinstance(it, Withdraw):
            return Tx(sender, p.ch, p.f_withdraw.encode(it.amount), gas=it.gas, label="withdraw", agent=agent.name, meta=it)
        if isinstance(it, Trade):
            e = it.entry
            return Tx(sender, p.ch, p.f_trade.selector + encode_trade_args(e.order, e.signature, it.fill_size), gas=it.gas,
                      label="trade", agent=agent.name, meta=it)
        if isinstance(it, Liquidate):
            return Tx(sender, p.ch, p.f_liq.encode(it.account, it.market, it.size), gas=it.gas,
                      label="liquidate", agent=agent.name, meta=it)
        if isinstance(it, LiquidateBankrupt):
            return Tx(sender, p.ch, p.f_liqb.encode(it.account), gas=it.gas, label="liquidate_bankrupt",
                      agent=agent.name, meta=it)
        if isinstance(it, VaultDeposit):
            return Tx(sender, p.vault, p.f_v_deposit.encode(it.assets, sender), gas=it.gas, label="vault_deposit",
                      agent=agent.name, meta=it)
        if isinstance(it, RequestRedeem):
            return Tx(sender, p.vault, p.f_v_request.encode(it.shares), gas=it.gas, label="request_redeem",
                      agent=agent.name, meta=it)
        if isinstance(it, Redeem):
            return Tx(sender, p.vault, p.f_v_redeem.encode(it.shares, sender, sender), gas=it.gas, label="redeem",
                      agent=agent.name, meta=it)
        raise TypeError(f"unknown intent {type(it).__name__}")

    # ------------------------------------------------------------------------------------------
    # reads
    def read_calls(self) -> list[tuple[str, bytes]]:
        """The block's reads (cached until the account set changes)."""
        key = (len(self.accounts), len(self.wallet_addrs), len(self.share_addrs))
        if getattr(self, "_calls_key", None) == key:
            return self._calls
        self._calls_key = key
        self._calls = self._build_read_calls()
        return self._calls

    def _build_read_calls(self) -> list[tuple[str, bytes]]:
        p = self.p
        M = len(self.sc.markets)
        calls = []
        for a in self.accounts:
            calls.append((p.ch, p.f_summary.encode(a)))
            calls += [(p.ch, p.f_pos.encode(a, m)) for m in range(M)]
        for m in range(M):
            calls += [(p.ch, p.f_oi.encode(m)), (p.ch, p.f_index.encode(m)), (p.ch, p.f_soc.encode(m))]
        calls += [(p.ch, p.f_treasury.encode()), (p.ch, p.f_bad.encode()), (p.token, p.f_bal.encode(p.ch)),
                  (p.token, p.f_bal.encode(p.vault)), (p.vault, p.f_v_assets.encode()),
                  (p.vault, p.f_v_supply.encode()), (p.vault, p.f_v_c2a.encode(10**self.vault_decimals))]
        calls += [(p.token, p.f_bal.encode(a)) for a in self.wallet_addrs]
        calls += [(p.vault, p.f_v_bal.encode(a)) for a in self.share_addrs]
        return calls

    def read(self, block: int, ts: int) -> Readings:
        p = self.p
        M = len(self.sc.markets)
        out = self.chain.call_many(self.read_calls())
        for o in out:
            if isinstance(o, CallError):
                raise SimulationError(f"a view reverted at block {block}: {o.reason}")
        it = iter(out)
        accounts = {}
        for a in self.accounts:
            c, e, im, mm = p.f_summary.decode(next(it))
            pos = tuple(p.f_pos.decode(next(it)) for _ in range(M))
            accounts[a] = AccountReading(c, e, im, mm, pos)
        oi, idx, soc = [], [], []
        for _ in range(M):
            oi.append(p.f_oi.decode(next(it)))
            idx.append(p.f_index.decode(next(it)))
            soc.append(p.f_soc.decode(next(it)))
        treasury, bad, chb, vb, va, vs, c2a = (d(next(it)) for d in (
            p.f_treasury.decode, p.f_bad.decode, p.f_bal.decode, p.f_bal.decode, p.f_v_assets.decode,
            p.f_v_supply.decode, p.f_v_c2a.decode))
        wallets = {a: p.f_bal.decode(next(it)) for a in self.wallet_addrs}
        shares = {a: p.f_v_bal.decode(next(it)) for a in self.share_addrs}
        return Readings(block, ts, chb, treasury, bad, tuple(oi), tuple(idx), tuple(soc), accounts, va, vs, vb,
                        c2a / 10**self.decimals, wallets, shares)

    def read_max_liquidatable(self, r: Readings) -> dict[tuple[str, int], int]:
        p = self.p
        keys = [(a, m) for a, v in r.accounts.items() if 0 <= v.equity < v.maintenance_margin
                for m, s in enumerate(v.positions) if s]
        if not keys:
            return {}
        out = self.chain.call_many([(p.ch, p.f_maxliq.encode(a, m)) for a, m in keys])
        return {k: p.f_maxliq.decode(o) for k, o in zip(keys, out) if not isinstance(o, CallError)}

    # ------------------------------------------------------------------------------------------
    # the block loop
    def world(self, ts: int) -> World:
        r = self.readings
        M = len(self.sc.markets)
        if r is None:
            markets = [MarketView(int(self.oracle[m, 0] * WAD), 0, mk.imr, mk.mmr) for m, mk in enumerate(self.sc.markets)]
            return World(0, ts, self.sc.block_time, markets, {}, {}, VaultView(), [], self.book,
                         getattr(self, "domain", b"\x00" * 32), self.decimals, {}, getattr(self, "cooldown", 0))
        markets = [MarketView(r.index_prices[m], r.open_interest[m], mk.imr, mk.mmr) for m, mk in enumerate(self.sc.markets)]
        accounts = {a: AccountView(v.collateral, v.equity, v.initial_margin, v.maintenance_margin, v.positions)
                    for a, v in r.accounts.items()}
        vault = VaultView(r.vault_total_assets, r.vault_total_supply, r.share_price, r.vault_shares)
        return World(self.block + 1, ts, self.sc.block_time, markets, accounts, r.wallets, vault,
                     self.index_history, self.book, self.domain, self.decimals, self.max_liq, self.cooldown)

    def step(self) -> BlockOutcome:
        """Simulate the next block."""
        b = self.block + 1
        ts = self.t0 + b * self.sc.block_time
        p = self.p
        w = self.world(ts)
        self.book.expire(ts)
        dep = self.chain.default_sender
        # oracle first: agents act on the last block's prices, the block executes at the new ones
        txs: list[Tx] = [Tx(dep, p.feeds[m], p.f_set_answer.encode(int(round(self.oracle[m, b] * 10**self.sc.protocol.feed_decimals))),
                            gas=150_000, label="oracle") for m in range(len(p.feeds))]
        every = self.sc.protocol.sweep_fees_every
        if every and b % every == 0:
            txs.append(Tx(dep, p.ch, p.f_sweep.encode(), gas=500_000, label="sweep_fees"))
        makers = [a for a in self.agents if isinstance(a, MarketMaker)]
        liqs = [a for a in self.agents if isinstance(a, Liquidator)]
        traders = [a for a in self.agents if isinstance(a, NoiseTrader)]
        others = [a for a in self.agents if isinstance(a, (Staker, Attacker))]
        self.rng.shuffle(liqs)
        self.rng.shuffle(traders)
        notes: list[Event] = []
        for group in (makers, liqs, traders, others):
            for a in group:
                for it in a.decide(w):
                    if isinstance(it, Post):
                        self.book.replace(a.address, it.entries)
                    elif isinstance(it, Note):
                        notes.append(Event(it.kind, it.data, agent=a.name))
                    else:
                        tx = self.encode(a, it)
                        tx.meta = (a, it)
                        txs.append(tx)
        results = self.chain.send_block(txs, ts)
        sent = reverted = 0
        reasons: dict[str, int] = {}
        flags = BlockFlags()
        for r in results:
            meta = r.tx.meta
            if r.tx.label == "sweep_fees":
                if not r.ok:
                    reasons[f"sweep_fees: {r.reason}"] = reasons.get(f"sweep_fees: {r.reason}", 0) + 1
                continue
            if r.tx.label != "oracle":
                sent += 1
                if not r.ok:
                    reverted += 1
                    key = f"{r.tx.label}: {r.reason}"
                    reasons[key] = reasons.get(key, 0) + 1
            elif not r.ok:
                raise SimulationError(f"oracle update reverted at block {b}: {r.reason}")
            if meta:
                agent, it = meta
                agent.on_result(it, r.ok, r.reason, w)
                if isinstance(it, RequestRedeem) and r.ok:
                    self.redeem_requests[r.tx.sender] = ts
                if isinstance(it, Redeem) and r.ok:
                    req = self.redeem_requests.get(r.tx.sender)
                    if req is None or ts < req + self.cooldown:
                        flags.premature_redeems.append(r.tx.sender)
                if isinstance(agent, Attacker) and isinstance(it, (Trade, Redeem, RequestRedeem)):
                    self.attack_notes.append({"block": b, "action": r.tx.label, "succeeded": r.ok, "reason": r.reason})
        events = notes + self._collect_events(results)
        self.block = b
        prev = self.readings
        cur = self.read(b, ts)
        self.readings = cur
        self.index_history.append(np.array(cur.index_prices, dtype=float) / WAD)
        if len(self.index_history) > 256:
            del self.index_history[:-128]
        self.max_liq = self.read_max_liquidatable(cur)
        violations = self.checker.check(cur, prev, events, flags)
        self.sent += sent
        self.reverted += reverted
        for k, v in reasons.items():
            self.revert_reasons[k] = self.revert_reasons.get(k, 0) + v
        return BlockOutcome(b, cur, events, sent, reverted, reasons, violations)

    def _collect_events(self, results: Sequence[TxResult]) -> list[Event]:
        out = []
        p = self.p
        for r in results:
            for lg in r.logs:
                table = p.events.get(lg.address)
                if not table or not lg.topics:
                    continue
                spec = table.get(lg.topics[0])
                if spec is None:
                    continue
                args = spec.decode(lg.topics, lg.data)
                contract = "Clearinghouse" if lg.address == p.ch else "InsuranceVault"
                agent = r.tx.meta[0].name if isinstance(r.tx.meta, tuple) else r.tx.agent
                ev = Event(spec.name, args, contract, r.tx.label, agent)
                ev.args["tx"] = r.hash
                out.append(ev)
                if contract == "Clearinghouse":
                    if spec.name == "Deposit":
                        self.deposits[args["account"]] = self.deposits.get(args["account"], 0) + args["amount"]
                        if args["account"] not in self.accounts:
                            self.accounts.append(args["account"])
                    elif spec.name == "Withdraw":
                        self.withdrawals[args["account"]] = self.withdrawals.get(args["account"], 0) + args["amount"]
                    elif spec.name == "Settled":
                        self.haircuts[args["account"]] = self.haircuts.get(args["account"], 0) + args["haircut"]
        return out

    def settle_all(self) -> list[Event]:
        """A final block settling every account, so lazily-charged haircuts show up as Settled events."""
        p = self.p
        ts = self.t0 + (self.block + 1) * self.sc.block_time
        dep = self.chain.default_sender
        txs = [Tx(dep, p.feeds[m], p.f_set_answer.encode(int(round(self.oracle[m, self.block] * 10**self.sc.protocol.feed_decimals))),
                  gas=150_000, label="oracle") for m in range(len(p.feeds))]
        txs += [Tx(dep, p.ch, p.f_settle.encode(a), gas=1_000_000, label="settle") for a in self.accounts]
        results = self.chain.send_block(txs, ts)
        return self._collect_events(results)
