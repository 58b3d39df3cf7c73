"""The simulation engine: deploy the protocol, create and fund the agents, then per block:
agents decide -> one batched send + one mine -> one batched read -> invariants -> metrics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import deployment as D
from . import loss_policies
from .abi import Artifacts, ContractType
from .agents import (Agent, AccountView, Intent, MarketView, OffchainContext, OrderBook, RedeemRequestView,
                     VaultView, World)
from .agents.registry import kinds_in_turn_order
from .chain import CallError, Chain, ChainBackend, Tx, TxResult
from .devnets import deploy_key, deploy_or_restore, open_chain  # noqa: F401 - open_chain is re-exported
from .invariants import AccountReading, BlockFlags, Event, InvariantChecker, Readings, Violation
from .impact import ImpactModel
from .keys import derive_key, domain_separator
from .protocol_constants import bounds
from .scenario import Scenario

GENESIS_TS = 2_000_000_000  # fixed clock start: same scenario + seed -> same timestamps on any chain
WAD = 10**18


def _request(v: Any) -> tuple[int, int, int, int]:
    """`redeem_request(controller)` -> (shares, assets, claimable_from, claimable_until)."""
    if len(v) == 1:
        v = v[0]
    return tuple(int(x) for x in v)


class SimulationError(RuntimeError):
    """The run could not proceed (deployment failed, chain died, ...)."""


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
        self.f_v_open_losses = self.IV.fn("open_losses")
        self.f_v_flagged = self.IV.fn("loss_flagged")
        self.f_summaries = f("account_summaries")
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
        self.artifacts = artifacts or Artifacts.cached()
        self.rng = np.random.default_rng([self.seed, 0xE1])
        self.decimals = scenario.protocol.collateral_decimals
        self.paths = scenario.with_overrides({"blocks": self.blocks}).price_paths(self.seed) \
            if scenario.prices.model != "historical" else scenario.price_paths(self.seed)
        self.exogenous = self.paths.true[:, : self.blocks + 1]
        self.blocks = self.exogenous.shape[1] - 1
        self.impact = ImpactModel(scenario.prices.impact, self.exogenous)
        self.true = self.impact.true          # filled block by block as trading moves the price
        self.lag = scenario.prices.oracle_lag_blocks
        self.book = OrderBook()
        self.agents: list[Agent] = []
        self.accounts: list[str] = []       # Clearinghouse accounts read every block
        self.all_addrs: list[str] = []
        self.wallet_addrs: list[str] = []
        self.share_addrs: list[str] = []
        self.index_history: list[np.ndarray] = []
        self.readings: Readings | None = None
        self._read_mined = -1                # chain.mined when `readings` was read
        self.read_counts = [0, 0, 0]         # account readings carried / summary only / read in full
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
        self.deposits: dict[str, int] = {}
        self.withdrawals: dict[str, int] = {}
        self.haircuts: dict[str, int] = {}
        self.policy = scenario.protocol.loss_policy
        self.adl_haircuts: dict[str, int] = {}       # adl: the part of `haircuts` given up in fills
        self.deleveraging: frozenset = frozenset()   # adl: accounts under resolution (last read)
        self.adl_rank: dict[tuple[str, int], tuple[int, int]] = {}
        self.bankruptcy_prices: dict[tuple[str, int], int] = {}
        self.checker.policy = self.policy
        self._fn_cache: dict[tuple[str, str], Any] = {}
        self.volume = 0.0                   # traded notional, whole tokens (turnover)
        self.turns: list[int] = []

    # ------------------------------------------------------------------------------------------
    # setup
    def deploy(self) -> Protocol:
        backend = ChainBackend(self.chain, self.artifacts)
        prices0 = [float(x) for x in self.true[:, 0]]
        cfg = deployment_config(self.sc, prices0)

        def fresh() -> D.Deployment:
            if self.chain.latest_timestamp() < GENESIS_TS:
                self.chain.send_block([], GENESIS_TS)
            return D.deploy_protocol(backend, cfg, network="simulation", local=True)

        try:  # once per configuration on a reused chain, then restored from its snapshot
            key = deploy_key(self.sc.protocol.model_dump(mode="json"),
                             [m.model_dump(mode="json") for m in self.sc.markets], prices0, str(self.artifacts.path))
            self.deployment = deploy_or_restore(self.chain, key, fresh)
        except Exception as exc:  # noqa: BLE001
            raise SimulationError(f"deployment failed: {exc}") from exc
        dep = self.deployment
        a = self.artifacts
        self.p = Protocol(dep.token_address, dep.clearinghouse_address, dep.vault_address,
                          [dep.feed_address(i) for i in range(len(self.sc.markets))],
                          a[loss_policies.artifacts(self.policy)[0]], a["InsuranceVault"], a["MockToken"],
                          a["MockAggregator"])
        self.backend = backend
        self.vault_decimals = int(backend.call(self.p.vault, "InsuranceVault", "decimals"))
        self.cooldown = int(backend.call(self.p.vault, "InsuranceVault", "cooldown"))
        self.claim_window = int(backend.call(self.p.vault, "InsuranceVault", "claim_window"))
        self.checker.vault_max_cover_ratio = int(backend.call(self.p.vault, "InsuranceVault", "max_cover_ratio"))
        self.checker.vault_min_reserve = int(backend.call(self.p.vault, "InsuranceVault", "min_reserve"))
        self.domain = domain_separator(self.chain.chain_id, self.p.ch)
        onchain = backend.call(self.p.ch, "Clearinghouse", "domain_separator")
        if bytes(onchain) != self.domain:
            raise SimulationError("EIP-712 domain separator mismatch between Python and the Clearinghouse")
        return self.p

    def make_agents(self) -> list[Agent]:
        """One agent per instance of every registered kind, in turn order; each gets its own key and
        RNG, numbered in that order (same scenario + seed -> same agents)."""
        agents: list[Agent] = []
        i = 0
        for cls in kinds_in_turn_order():
            cfg = self.sc.agents[cls.table]
            n_inst = cls.instances(cfg)
            for n in range(n_inst):
                i += 1
                name = cls.kind if n_inst == 1 and cls.table == cls.kind else f"{cls.kind}{n}"
                agents.append(cls(name, derive_key(self.seed, i), np.random.default_rng([self.seed, i]), cfg))
        self.agents = agents
        self.turns = sorted({a.turn for a in agents})
        return agents

    def setup(self) -> None:
        """Deploy, create agents, fund them (ether + tokens), approvals and first deposits."""
        p = self.deploy()
        agents = self.make_agents()
        addrs: list[str] = []
        for a in agents:
            for k in [a.key, *a.extra_keys()]:
                addrs.append(k.address)
                self.chain.add_key(k.private_key)
        self.chain.fund(addrs, 10**24)
        self.accounts = [a.address for a in agents if a.margin_account]
        self.accounts += [x for a in agents for x in a.extra_accounts()]
        self.all_addrs = addrs
        self.wallet_addrs = [a.address for a in agents if a.wallet]
        self.share_addrs = [a.address for a in agents if a.vault_shares]
        w = self.world(self.t0_next())
        intents = [(a, it) for a in agents for it in a.setup(w)]
        mint: dict[str, int] = {}
        for a, it in intents:
            if it.funding:
                who = it.sender or a.address
                mint[who] = mint.get(who, 0) + it.funding
        dep = self.chain.default_sender
        txs = [Tx(dep, p.token, p.f_mint.encode(who, amt), gas=200_000, label="mint") for who, amt in mint.items()]
        self._send(txs, self.t0_next(), "setup mint", strict=True)
        txs = [self.encode(a, it) for a, it in intents if not it.offchain]
        results = self._send(txs, self.t0_next(), "setup", strict=True)
        self._collect_events(results)
        self.t0 = self.chain.latest_timestamp()
        self.readings = self.read(0, self.t0)
        self.index_history.append(np.array(self.readings.index_prices, dtype=float) / WAD)

    def agent_reports(self) -> list[dict[str, Any]]:
        """Every agent's own outcome records (e.g. the attacker's attempts), in agent order."""
        return [dict(r, agent=a.name) for a in self.agents for r in a.reports]

    def oracle_price(self, market: int, block: int) -> float:
        """What the oracle publishes at `block`: the true price `oracle_lag_blocks` earlier."""
        return float(self.true[market, max(0, block - self.lag)])

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
    def encode(self, agent: Agent, it: Intent) -> Tx:
        """The one generic encoder: an intent names its target role, function and arguments."""
        p = self.p
        sender = it.sender or agent.address
        addresses = {"clearinghouse": p.ch, "vault": p.vault, "token": p.token}
        contract = {"clearinghouse": p.CH, "vault": p.IV, "token": p.TOK}[it.target]
        spec = self._fn_cache.get((it.target, it.fn))
        if spec is None:
            spec = self._fn_cache[(it.target, it.fn)] = contract.fn(it.fn)
        return Tx(sender, addresses[it.target], it.calldata(spec, sender, addresses), gas=it.gas, label=it.label,
                  agent=agent.name, meta=it)

    # ------------------------------------------------------------------------------------------
    # reads
    verify_carry = False  # tests: also read every account each block and fail if a carried value differs

    def read_calls(self) -> list[tuple[str, bytes]]:
        """The block's reads of the markets, the pools and the vault's totals (everything but the
        accounts, wallets and vault holders; encoded once)."""
        calls = self.__dict__.get("_calls")
        if calls is None:
            p = self.p
            calls = []
            for m in range(len(self.sc.markets)):
                calls += [(p.ch, p.f_oi.encode(m)), (p.ch, p.f_index.encode(m)), (p.ch, p.f_soc.encode(m))]
            calls += [(p.ch, p.f_treasury.encode()), (p.ch, p.f_bad.encode()), (p.token, p.f_bal.encode(p.ch)),
                      (p.token, p.f_bal.encode(p.vault)), (p.vault, p.f_v_assets.encode()),
                      (p.vault, p.f_v_supply.encode()), (p.vault, p.f_v_c2a.encode(10**self.vault_decimals)),
                      (p.vault, p.f_v_open_losses.encode())]
            self._calls = calls
        return calls

    def _holder_calls(self, a: str) -> tuple[tuple[str, bytes], tuple[tuple[str, bytes], tuple[str, bytes]]]:
        """`balanceOf(a)` on the token, and `balanceOf(a)`, `redeem_request(a)` on the vault."""
        cache = self.__dict__.setdefault("_holder_call_cache", {})
        c = cache.get(a)
        if c is None:
            p = self.p
            c = cache[a] = ((p.token, p.f_bal.encode(a)), ((p.vault, p.f_v_bal.encode(a)), (p.vault, p.f_v_reqview.encode(a))))
        return c

    @property
    def summary_batch(self) -> int:
        """Accounts per `account_summaries` call: the contracts' MAX_SUMMARY_BATCH (constants.vy)."""
        n = self.__dict__.get("_summary_batch")
        if n is None:
            n = self._summary_batch = bounds(self.artifacts.path)["MAX_SUMMARY_BATCH"]
        return n

    def _position_calls(self, a: str) -> list[tuple[str, bytes]]:
        """The `position_size(a, m)` calls, one per market (encoded once per account)."""
        cache = self.__dict__.setdefault("_acct_calls", {})
        c = cache.get(a)
        if c is None:
            p = self.p
            c = cache[a] = [(p.ch, p.f_pos.encode(a, m)) for m in range(len(self.sc.markets))]
        return c

    def touched(self, results: Sequence[TxResult]) -> set[str]:
        """The accounts a block's transactions name anywhere: as sender, in any 32-byte word of the
        calldata (an argument, or the account of a signed order), or in any word of any log's
        topics or data, whichever contract emitted it. An account's collateral and positions change
        only in a transaction that one of these names (it sends it, signs an order in it, is its
        argument, or an event names it: trades, liquidations, takeovers, ADL fills, settlements,
        deposits and withdrawals all do), so an account outside this set kept them. Likewise a
        wallet's token balance and a holder's vault shares and redeem request (every mint, burn,
        transfer and request emits an event naming the holder)."""
        raw = self.__dict__.setdefault("_acct_raw", {})
        n = len(self.accounts) + len(self.wallet_addrs) + len(self.share_addrs)
        if self.__dict__.get("_acct_raw_n") != n:
            for a in (*self.accounts, *self.wallet_addrs, *self.share_addrs):
                raw[bytes.fromhex(a[2:])] = a
            self._acct_raw_n = n
        z = bytes(12)
        out: set[str] = set()
        for r in results:
            t = r.tx
            out.add(t.sender)
            d = t.data
            for i in range(4, len(d) - 31, 32):
                if d[i: i + 12] == z and (a := raw.get(d[i + 12: i + 32])):
                    out.add(a)
            for lg in r.logs:
                for tp in lg.topics[1:]:
                    if tp[:12] == z and (a := raw.get(bytes(tp[12:32]))):
                        out.add(a)
                d = lg.data
                for i in range(0, len(d) - 31, 32):
                    if d[i: i + 12] == z and (a := raw.get(d[i + 12: i + 32])):
                        out.add(a)
        return out

    def read(self, block: int, ts: int, touched: set[str] | None = None) -> Readings:
        """Everything after a block. `touched` (from `touched`, for the block just mined on top of
        the last reading; None: read every account in full) lets an account's values carry over
        where they cannot have changed: an account not in it keeps its position sizes, and one
        that also held no position keeps its whole summary (without positions, equity is its
        collateral and nothing else moves it: no price, funding or loss-policy charge). Accounts
        with positions have their summary read every block (equity moves with every price tick)."""
        p = self.p
        M = len(self.sc.markets)
        prev = self.readings.accounts if touched is not None and self.readings is not None else None
        calls: list[tuple[str, bytes]] = []
        plan: list[tuple[str, int, Any]] = []  # (account, 0 carried / 1 summary / 2 summary + positions, prev)
        summarize: list[str] = []
        for a in self.accounts:
            pa = prev.get(a) if prev is not None else None
            if pa is None or a in touched or a == p.ch:  # the backstop book: always read in full
                calls += self._position_calls(a)
                plan.append((a, 2, pa))
                summarize.append(a)
            elif any(pa.positions):
                plan.append((a, 1, pa))
                summarize.append(a)
            else:
                plan.append((a, 0, pa))
        n_pos = len(calls)
        # the summaries in batches: one call prices each market once for the whole batch
        n = self.summary_batch
        chunks = [summarize[k: k + n] for k in range(0, len(summarize), n)]
        calls += [(p.ch, p.f_summaries.encode(c)) for c in chunks]
        n_acct = len(calls)
        # wallets and vault holders: read where a transaction named them, else carried over
        pw = prev is not None
        read_w = [a for a in self.wallet_addrs if not pw or a in touched]
        read_s = [a for a in self.share_addrs if not pw or a in touched]
        hc = self._holder_calls
        calls += [hc(a)[0] for a in read_w]
        for a in read_s:
            calls += hc(a)[1]
        n_hold = len(calls)
        out = self.chain.call_many(calls + self.read_calls())
        for o in out:
            if isinstance(o, CallError):
                raise SimulationError(f"a view reverted at block {block}: {o.reason}")
        fb = int.from_bytes
        summaries = []  # (collateral, equity, initial margin, maintenance margin) in `summarize` order
        for d in out[n_pos:n_acct]:
            summaries += p.f_summaries.decode(d)
        if len(summaries) != len(summarize):
            raise SimulationError(f"account_summaries: {len(summaries)} summaries for {len(summarize)} accounts")
        accounts = {}
        i = j = 0
        counts = self.read_counts
        for a, mode, pa in plan:
            counts[mode] += 1
            if mode == 0:
                accounts[a] = pa
                continue
            if mode == 2:
                pos = tuple(fb(out[i + m][:32], "big", signed=True) for m in range(M))
                i += M
            else:
                pos = pa.positions
            accounts[a] = AccountReading(*summaries[j], pos)
            j += 1
        assert i == n_pos and j == len(summaries)
        it = iter(out[n_acct:n_hold])
        if pw:
            r0 = self.readings
            wallets, shares, requests = dict(r0.wallets), dict(r0.vault_shares), dict(r0.vault_requests)
        else:
            wallets, shares, requests = {}, {}, {}
        for a in read_w:
            wallets[a] = p.f_bal.decode(next(it))
        for a in read_s:
            shares[a] = p.f_v_bal.decode(next(it))
            requests[a] = _request(p.f_v_reqview.decode(next(it)))
        it = iter(out[n_hold:])
        oi, idx, soc = [], [], []
        for _ in range(M):
            oi.append(p.f_oi.decode(next(it)))
            idx.append(p.f_index.decode(next(it)))
            soc.append(p.f_soc.decode(next(it)))
        treasury, bad, chb, vb, va, vs, c2a = (d(next(it)) for d in (
            p.f_treasury.decode, p.f_bad.decode, p.f_bal.decode, p.f_bal.decode, p.f_v_assets.decode,
            p.f_v_supply.decode, p.f_v_c2a.decode))
        open_losses = p.f_v_open_losses.decode(next(it))
        if self.verify_carry and touched is not None:
            counts = list(self.read_counts)
            full = self.read(block, ts)
            self.read_counts[:] = counts  # (the check's own reads are not counted)
            if full.accounts != accounts:
                bad_acct = next(a for a in full.accounts if full.accounts[a] != accounts.get(a))
                raise SimulationError(f"carried reading of {bad_acct} at block {block} is stale: "
                                      f"{accounts.get(bad_acct)} != {full.accounts[bad_acct]}")
            for what, got, want in (("wallet", wallets, full.wallets), ("vault shares", shares, full.vault_shares),
                                    ("redeem request", requests, full.vault_requests)):
                if got != want:
                    a = next(a for a in want if want[a] != got.get(a))
                    raise SimulationError(f"carried {what} of {a} at block {block} is stale: {got.get(a)} != {want[a]}")
        flagged = self.read_flagged(accounts, open_losses)
        self._read_mined = self.chain.mined
        return Readings(block, ts, chb, treasury, bad, tuple(oi), tuple(idx), tuple(soc), accounts, va, vs, vb,
                        c2a / 10**self.decimals, wallets, shares, requests, open_losses, flagged)

    def read_flagged(self, accounts: dict[str, AccountReading], open_losses: int) -> frozenset[str]:
        """Accounts carrying a vault loss flag, among those that may: negative now or flagged before."""
        prev = self.readings.vault_flagged if self.readings is not None else frozenset()
        keys = sorted({a for a, v in accounts.items() if v.equity < 0} | prev) if open_losses else []
        if not keys:
            return frozenset()
        out = self.chain.call_many([(self.p.vault, self.p.f_v_flagged.encode(a)) for a in keys])
        return frozenset(a for a, o in zip(keys, out) if not isinstance(o, CallError) and self.p.f_v_flagged.decode(o))

    def read_max_liquidatable(self, r: Readings) -> dict[tuple[str, int], int]:
        p = self.p
        keys = [(a, m) for a, v in r.accounts.items() if 0 <= v.equity < v.maintenance_margin
                for m, s in enumerate(v.positions) if s]
        if not keys:
            return {}
        out = self.chain.call_many([(p.ch, p.f_maxliq.encode(a, m)) for a, m in keys])
        return {k: p.f_maxliq.decode(o) for k, o in zip(keys, out) if not isinstance(o, CallError)}

    def read_policy(self, cur: Readings, prev: Readings | None, events: Sequence[Event]) -> None:
        """The loss policy's own reads, made only under that policy (the others pay nothing):
        - profit_clawback: Σ `policy_excess(account)` (clamped charges not yet settled into the
          vault) into `cur.policy_excess`, which the conservation check allows;
        - adl: while an account has negative equity, `is_deleveraging` of those, and for every open
          position `adl_rank` (and `bankruptcy_price` of the frozen accounts), for the liquidators
          and the invariants; each `Deleveraged` event gets `profit` (the counterparty's profit on
          the closed size at the oracle price) and its price concession is added to `haircuts`."""
        p = self.p
        ch = self.chain
        if self.policy == "profit_clawback":
            f = p.CH.fn("policy_excess")
            out = ch.call_many([(p.ch, f.encode(a)) for a in cur.accounts])
            cur.policy_excess = sum(f.decode(o) for o in out if not isinstance(o, CallError))
        if self.policy != "adl":
            return
        scale = 10 ** (36 - self.decimals)
        old_rank = self.adl_rank
        for e in events:
            if e.name != "Deleveraged" or e.contract != "Clearinghouse":
                continue
            cp, m, size = e.args["counterparty"], e.args["market"], abs(e.args["size"])
            mark = cur.index_prices[m]
            given = size * abs(mark - e.args["price"]) // scale
            self.haircuts[cp] = self.haircuts.get(cp, 0) + given
            self.adl_haircuts[cp] = self.adl_haircuts.get(cp, 0) + given
            before = prev.accounts.get(cp) if prev is not None else None
            pos = before.positions[m] if before is not None else 0
            profit = None
            if pos and (cp, m) in old_rank:  # last block's profit, re-marked to this block's oracle
                whole = old_rank[(cp, m)][1] + pos * (mark - prev.index_prices[m]) // scale
                profit = max(0, whole) * size // abs(pos)
            e.args["profit"] = profit
        negative = [a for a, v in cur.accounts.items() if v.equity < 0]
        if not negative:
            self.deleveraging, self.adl_rank, self.bankruptcy_prices = frozenset(), {}, {}
            return
        f_frozen, f_rank, f_bp = p.CH.fn("is_deleveraging"), p.CH.fn("adl_rank"), p.CH.fn("bankruptcy_price")
        out = ch.call_many([(p.ch, f_frozen.encode(a)) for a in negative])
        self.deleveraging = frozenset(a for a, o in zip(negative, out) if not isinstance(o, CallError)
                                      and f_frozen.decode(o))
        keys = [(a, m) for a, v in cur.accounts.items() for m, s in enumerate(v.positions) if s]
        bkeys = [(a, m) for a, m in keys if a in self.deleveraging]
        out = ch.call_many([(p.ch, f_rank.encode(a, m)) for a, m in keys] +
                           [(p.ch, f_bp.encode(a, m)) for a, m in bkeys])
        self.adl_rank = {k: tuple(f_rank.decode(o)) for k, o in zip(keys, out) if not isinstance(o, CallError)}
        self.bankruptcy_prices = {k: f_bp.decode(o) for k, o in zip(bkeys, out[len(keys):])
                                  if not isinstance(o, CallError)}

    # ------------------------------------------------------------------------------------------
    # the block loop
    def market_views(self, index_prices: Sequence[int], open_interest: Sequence[int]) -> list[MarketView]:
        p = self.sc.protocol
        depth = self.impact.depth(self.block)
        coef = self.sc.prices.impact.coef if self.impact.active else 0.0
        return [MarketView(int(index_prices[m]), int(open_interest[m]), mk.imr, mk.mmr,
                           p.liquidation_penalty if p.liquidation_penalty is not None else mk.mmr / 2,
                           p.liquidator_share if p.liquidator_share is not None else 0.5, float(depth[m]), coef)
                for m, mk in enumerate(self.sc.markets)]

    def world(self, ts: int) -> World:
        r = self.readings
        if r is None:
            M = len(self.sc.markets)
            markets = self.market_views([int(self.true[m, 0] * WAD) for m in range(M)], [0] * M)
            return World(0, ts, self.sc.block_time, markets, {}, {}, VaultView(), [], self.book,
                         getattr(self, "domain", b"\x00" * 32), self.decimals, {}, getattr(self, "cooldown", 0))
        markets = self.market_views(r.index_prices, r.open_interest)
        accounts = {a: AccountView(v.collateral, v.equity, v.initial_margin, v.maintenance_margin, v.positions)
                    for a, v in r.accounts.items()}
        requests = {a: RedeemRequestView(*q) for a, q in r.vault_requests.items()}
        vault = VaultView(r.vault_total_assets, r.vault_total_supply, r.share_price, r.vault_shares, requests,
                          r.vault_open_losses, r.vault_flagged)
        return World(self.block + 1, ts, self.sc.block_time, markets, accounts, r.wallets, vault,
                     self.index_history, self.book, self.domain, self.decimals, self.max_liq, self.cooldown,
                     self.claim_window, self.deleveraging, self.adl_rank)

    def step(self) -> BlockOutcome:
        """Simulate the next block."""
        b = self.block + 1
        ts = self.t0 + b * self.sc.block_time
        p = self.p
        w = self.world(ts)
        self.book.expire(ts)
        dep = self.chain.default_sender
        # oracle first: agents act on the last block's prices, the block executes at the new ones
        txs: list[Tx] = [self._oracle_tx(m, b) for m in range(len(p.feeds))]
        every = self.sc.protocol.sweep_fees_every
        if every and b % every == 0:
            txs.append(Tx(dep, p.ch, p.f_sweep.encode(), gas=500_000, label="sweep_fees"))
        ctx = OffchainContext(self.book)
        for turn in self.turns:
            group = [a for a in self.agents if a.turn == turn]
            if any(a.shuffled for a in group):
                self.rng.shuffle(group)
            for a in group:
                for it in a.decide(w):
                    if it.offchain:
                        it.apply(ctx, a)
                    else:
                        tx = self.encode(a, it)
                        tx.meta = (a, it)
                        txs.append(tx)
        notes = [Event(kind, data, agent=name) for name, kind, data in ctx.notes]
        mark = self.chain.mined
        results = self.chain.send_block(txs, ts)
        # values carry over only onto the block just mined on the last reading, on a chain no one else uses
        touched = (self.touched(results) if self.chain.private and self._read_mined == mark
                   and self.chain.mined == mark + 1 else None)
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
            if isinstance(meta, tuple):
                agent, it = meta
                agent.on_result(it, r.ok, r.reason, w)
        events = notes + self._collect_events(results)
        self.impact.advance(b, self._taker_flow(events))
        self.volume += sum(abs(e.args["maker_size"]) / WAD * e.args["price"] / WAD for e in events
                           if e.name == "Trade" and e.contract == "Clearinghouse")
        self.block = b
        prev = self.readings
        cur = self.read(b, ts, touched)
        self.readings = cur
        self.index_history.append(np.array(cur.index_prices, dtype=float) / WAD)
        if len(self.index_history) > 256:
            del self.index_history[:-128]
        self.max_liq = self.read_max_liquidatable(cur)
        self.checker.adl_prev_prices, self.checker.adl_prev_rank = self.bankruptcy_prices, self.adl_rank
        self.read_policy(cur, prev, events)
        violations = self.checker.check(cur, prev, events, flags)
        self.sent += sent
        self.reverted += reverted
        for k, v in reasons.items():
            self.revert_reasons[k] = self.revert_reasons.get(k, 0) + v
        return BlockOutcome(b, cur, events, sent, reverted, reasons, violations)

    def _oracle_tx(self, market: int, block: int) -> Tx:
        px = int(round(self.oracle_price(market, block) * 10**self.sc.protocol.feed_decimals))
        return Tx(self.chain.default_sender, self.p.feeds[market], self.p.f_set_answer.encode(px), gas=150_000,
                  label="oracle")

    def _taker_flow(self, events: Sequence[Event]) -> np.ndarray:
        """Net taker flow per market in the block, notional tokens (taker buys > 0)."""
        flow = np.zeros(len(self.sc.markets))
        for e in events:
            if e.name == "Trade" and e.contract == "Clearinghouse":
                flow[e.args["market"]] -= e.args["maker_size"] / WAD * e.args["price"] / WAD
        return flow

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
                intent = r.tx.meta[1] if isinstance(r.tx.meta, tuple) else r.tx.meta
                ev = Event(spec.name, args, contract, r.tx.label, agent, getattr(intent, "account", "") or "")
                ev.args["tx"] = r.hash
                out.append(ev)
                if contract == "Clearinghouse":
                    if spec.name == "Deposit":
                        self.deposits[args["account"]] = self.deposits.get(args["account"], 0) + args["amount"]
                        if args["account"] not in self.accounts:
                            self.accounts.append(args["account"])
                    elif spec.name == "Withdraw":
                        self.withdrawals[args["account"]] = self.withdrawals.get(args["account"], 0) + args["amount"]
                    elif spec.name == "BankruptcyTakeover" and args["liquidator"] == p.ch and p.ch not in self.accounts:
                        self.accounts.append(p.ch)  # the backstop book: an account of its own
                    elif spec.name == "Settled":
                        self.haircuts[args["account"]] = self.haircuts.get(args["account"], 0) + args["haircut"]
        return out

    def settle_all(self) -> list[Event]:
        """A final block settling every account, so lazily-charged haircuts show up as Settled events."""
        p = self.p
        ts = self.t0 + (self.block + 1) * self.sc.block_time
        dep = self.chain.default_sender
        txs = [self._oracle_tx(m, self.block) for m in range(len(p.feeds))]
        txs += [Tx(dep, p.ch, p.f_settle.encode(a), gas=1_000_000, label="settle") for a in self.accounts]
        results = self.chain.send_block(txs, ts)
        return self._collect_events(results)
