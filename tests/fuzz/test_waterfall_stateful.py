"""Stateful property test of liquidation and the loss waterfall (issue 3).

Four traders open highly leveraged positions (70-100 % of their initial-margin room) in two
markets; oracle prices move by up to 10 % or gap by 30-60 %; time passes (funding, redeem
cooldowns); a liquidator calls `liquidate` (partial, up to and beyond max_liquidatable_size,
on healthy and unhealthy accounts alike) and `liquidate_bankrupt`, and a keeper round resolves
every bankrupt account; two stakers deposit into the insurance vault, request redeems and
redeem (before and after the cooldown); anyone sweeps fees. The keeper also trades for itself:
it holds positions on the same side as a (bankrupt) trader or the opposite one when it resolves
a bankruptcy (issue 8).

Every step first runs on the plain-Python model (tests/support/model.py) at the exact block
time it will be mined at; the contract must succeed exactly when the model does, with its revert
reason. After every step, all of DESIGN.md's invariants:

1. conservation: 0 <= token.balanceOf(ch) + bad_debt - treasury - sum(equity) <= rounding dust
   (see Harness.rounding_dust), and the vault's totalAssets == token.balanceOf(vault) (nobody
   donates in this machine); every account, market and global equal to the model, exactly;
2. balanced book: per market sum(longs) == sum(shorts) == open_interest;
3. solvency: sum(max(0, equity)) <= balance - treasury + bad_debt whenever no account has
   negative equity (an unresolved bankruptcy is a deficit nobody has paid yet, so the sum of
   the positive equities exceeds the assets until the waterfall runs), and after a keeper
   round no account has negative equity, so it holds then;
4. waterfall order, per Bankruptcy event: insurance_paid == min(deficit, what the vault could
   pay: max_cover_ratio of its assets after the fee sweep, never below min_reserve);
   socialized > 0 only if the vault paid that maximum; deficit == insurance_paid + socialized +
   bad_debt; bad_debt > 0 only if nobody could be charged (no open interest left, after the
   takeover, in any market where the bankrupt account had a position); haircuts land only on
   the side opposite the bankrupt position, in markets where it lost money (or, when none of
   the chargeable ones did, in any chargeable one); the keeper reward is at most
   min(keeper_reward, the liquidation penalty on the taken-over notional). Haircuts: the charges (settled, from the logs,
   plus pending) are never below the sum of socialized_loss and exceed it by at most rounding
   dust (under one unit per socialization, per settlement carrying a charge and per position
   with a pending one);
5. a liquidation of a healthy account always reverts ("liquidate: account is healthy"),
   `liquidate_bankrupt` of a solvent one too; after each liquidation the liquidator meets its
   initial margin;
6. the vault's share price moves only through revenue (fee sweep) and cover; a deposit raises it
   by less than one share's rounding, a redeem by exactly the forfeited yield plus rounding,
   anything else leaves assets and supply unchanged; no redeem without a matured request.

Under `adl` (the third parametrization) the model resolves bankruptcies as deleveraging.vy does
(tests/support/adl_model.py AdlWaterfall): the vault first, then the bankrupt positions closed
against ranked opposite winners at the bankruptcy price, then bad debt for what is left when the
winners are exhausted. Rules drive `deleverage(account, market, counterparties)` as a keeper
would (keeper_order: best bucket first), with any accounts in any order, and with a lower-ranked
winner (or a position on the bankrupt side) named first, which must revert; the keeper round
resolves every account to its end (adl_resolve); a frozen account's withdrawal must revert.
After every adl call check_adl_tx states invariants 4 and 7 for it (exact bankruptcy prices,
fills at them, ranking order, nobody better-ranked skipped, a winner pays at most its profit,
bad debt only when nobody the contract accepts can pay), and after every step the contract's
resolution state and best buckets equal the model's.

Budget: MAX_EXAMPLES examples per policy (10 each: the 30 the two policies had at 15 each) x
STEPS (25) steps, each followed by the full check, plus the initial funding step of each
example. The protocol
is deployed once per module; every example starts from chain.snapshot() and ends with
chain.restore(). Two deterministic regression tests at the end pin the bad-debt rule on
hand-built bankruptcies (two losing markets, one left without open interest; a deficit from
realized losses beside a profitable position).
"""
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)
from support.adl_model import FROZEN, MIN_RANK_COST, entry_bucket, ranks_above
from support.model import ClearinghouseModel, MarketParams, Revert, VaultModel

WAD = 10**18
UNIT = 10**6
SCALE = 10**30
DAY = 86_400
COOLDOWN = DAY
# the examples budget, split across the loss policies (the machine's runtime with three is what
# it was with two at 15 each)
MAX_EXAMPLES = {"pro_rata_size": 10, "profit_clawback": 10, "adl": 10}
STEPS = 25
PRICES = [50_000 * 10**8, 2_000 * 10**8]  # 8-decimal feed answers
IMR, MMR = WAD // 10, WAD // 20
LIQUIDATOR_COLLATERAL = 50_000_000 * UNIT
V_SHARES = 10**6

FUZZ_SETTINGS = settings(
    max_examples=10,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

trader_ids = st.integers(0, 3)
staker_ids = st.integers(0, 1)
markets = st.integers(0, 1)
per_mille = st.integers(1, 1000)


@pytest.fixture(scope="module", params=["pro_rata_size", "profit_clawback", "adl"])
def waterfall_env(request, protocol_builder, owner, traders, liquidator, staker, other, evm_factory, clawback_harness):
    """The machine's protocol, once per loss policy (the liquidator ends up holding positions on
    both sides from earlier liquidations before it resolves bankruptcies)."""
    protocol = protocol_builder(markets=2, cooldown=COOLDOWN, loss_policy=request.param)
    ch, vault = protocol.clearinghouse, protocol.vault
    protocol.feeds[1].set_answer(PRICES[1], sender=owner)
    for account in [*traders, liquidator]:
        protocol.token.mint(account, 10**11 * UNIT, sender=account)
        protocol.token.approve(ch, 2**256 - 1, sender=account)
    for account in (staker, other):
        protocol.token.mint(account, 10**9 * UNIT, sender=account)
        protocol.token.approve(vault, 2**256 - 1, sender=account)
    params = {
        "keeper_reward": ch.keeper_reward(), "dust_notional": ch.dust_notional(),
        "max_cover_ratio": vault.max_cover_ratio(), "min_reserve": vault.min_reserve(),
        "loss_policy": request.param,
    }
    return protocol, evm_factory(), clawback_harness, params


def fresh_model(params) -> ClearinghouseModel:
    vault = VaultModel(cooldown=COOLDOWN, max_cover_ratio=params["max_cover_ratio"], min_reserve=params["min_reserve"])
    model = ClearinghouseModel(decimals=6, vault=vault)
    model.loss_policy = params["loss_policy"]
    assert (model.keeper_reward, model.dust_notional) == (params["keeper_reward"], params["dust_notional"])
    for answer in PRICES:
        model.add_market(MarketParams(imr=IMR, mmr=MMR), answer * 10**10)
    return model


def keeper_order(model, accounts, account, market, now) -> list:
    """The winners a keeper names for `deleverage(account, market, ...)`: opposite positions of
    accounts not under resolution, ranked (entry bucket != 0) and in profit at the oracle, best
    bucket first (longs: the lowest entry, shorts: the highest), then the largest profit."""
    size = model.position_size(account, market)
    rows = []
    for a in accounts:
        pos = model.positions.get((a, market))
        if size == 0 or a == account or model.is_frozen(a) or pos is None or (pos.size > 0) != (size < 0):
            continue
        bucket = entry_bucket(pos.size, pos.cost, model.scale)
        if bucket and pos.size * model.prices[market] // model.scale > pos.cost:
            rows.append((bucket if pos.size > 0 else -bucket, -model.adl_profit(a, market, now), a))
    return [a for *_, a in sorted(rows)]


def adl_resolve(h, keeper, account, send=None, rounds=40) -> list:
    """A keeper resolves `account` under adl: `liquidate_bankrupt` starts the resolution (or
    ends it at once), then per market under resolution a `deleverage` naming `keeper_order`'s
    winners (at most 16), or `liquidate_bankrupt` when no market has one left (the keeper takes
    the rest at the oracle). `send(kind, *args)` sends one call (default: the harness's).
    Returns the transactions; the account ends resolved."""
    model = h.model
    if send is None:
        def send(kind, *args):
            return (h.deleverage if kind == "deleverage" else h.liquidate_bankrupt)(keeper, *args)[0]
    txs = []
    for _ in range(rounds):
        now = h.evm.next_timestamp()
        if not model.is_frozen(account):
            if model.equity(account, now) >= 0:
                break
            txs.append(send("liquidate_bankrupt", account))
            assert txs[-1].ok, txs[-1].reason
            continue
        orders = {m: keeper_order(model, h.accounts, account, m, now)[:16]
                  for (a, m) in sorted(model.adl_targets) if a == account}
        if any(orders.values()):
            market = next(m for m, cps in orders.items() if cps)
            txs.append(send("deleverage", account, market, orders[market]))
        else:
            txs.append(send("liquidate_bankrupt", account))
        assert txs[-1].ok, txs[-1].reason
    assert not model.is_frozen(account), f"{account} still under resolution after {rounds} calls"
    return txs


class WaterfallMachine(RuleBasedStateMachine):
    env = None  # set by the test

    def __init__(self):
        super().__init__()
        protocol, evm, harness_cls, params, traders, liquidator, stakers, chain = type(self).env
        self.chain = chain
        self.snapshot = chain.snapshot()
        self.params = params
        self.model = fresh_model(params)
        self.h = harness_cls(protocol, evm, self.model, [*traders, liquidator])
        self.traders = self.h.accounts[:4]
        self.liquidator = self.h.accounts[4]
        self.stakers = [s.address for s in stakers]
        self.vault_before = (0, 0)  # (totalAssets, totalSupply) after the previous step
        self.keeper_acted = False
        self.adl = params["loss_policy"] == "adl"
        self.adl_opened = {}  # adl: account -> (deficit, insurance paid) at the start of its resolution
        self.adl_fills = 0  # adl: Deleveraged fills so far, and their price concessions (see adl_send)
        self.adl_concessions = 0

    def teardown(self):
        self.chain.restore(self.snapshot)

    # ------------------------------------------------------------------ helpers
    def now(self):
        return self.h.evm.next_timestamp()

    def room(self, account, market):
        health = self.model.health(account, self.now())
        return max(0, health.equity - health.initial_margin) * WAD // IMR

    def vault_assets(self):
        return self.h.evm.call(self.h.vault, "totalAssets()")

    def check_liquidator_margin(self):
        _, equity, im, _ = self.h.summary(self.liquidator)
        assert equity >= im, f"liquidator below initial margin after a liquidation: {equity} < {im}"

    def check_bankruptcy(self, tx, account, assets_before):
        """DESIGN.md invariant 4 on one liquidate_bankrupt transaction, from its logs."""
        (bankruptcy,) = tx.events_named("Bankruptcy")
        deficit, paid_in = bankruptcy["deficit"], bankruptcy["insurance_paid"]
        socialized, bad = bankruptcy["socialized"], bankruptcy["bad_debt"]
        (cover,) = [e for e in tx.events_named("Cover") if e.address == self.h.vault]
        revenue = sum(e["amount"] for e in tx.events_named("Revenue"))
        # the vault's assets when asked to cover: what it had plus the fees swept to it first
        assets = assets_before + revenue
        assert cover["total_assets"] + cover["paid"] == assets
        reserve = self.params["min_reserve"]
        capacity = min(assets * self.params["max_cover_ratio"] // WAD, assets - reserve) if assets > reserve else 0
        assert paid_in == min(deficit, capacity), f"vault paid {paid_in} of deficit {deficit}, could pay {capacity}"
        takeovers = tx.events_named("BankruptcyTakeover")
        # the keeper reward: at most keeper_reward and the penalty on the taken-over notional
        reward_cap = sum(abs(t["size"]) * t["price"] // SCALE * (MMR // 2) // WAD for t in takeovers)
        assert cover["paid"] - paid_in <= min(self.params["keeper_reward"], reward_cap), "keeper reward above its bound"
        assert deficit == paid_in + socialized + bad, bankruptcy.args
        if socialized > 0:
            assert paid_in == capacity, "a haircut before the insurance vault paid its maximum"
        charges = tx.events_named("Socialized") + tx.events_named("ProfitClawedBack")
        assert sum(e["amount"] for e in charges) == socialized
        # the policy charged on the book before the takeover: every market where the account
        # had a position had open interest then (its own position), so bad debt appears only
        # when the policy's index could not move
        total_loss = sum(t["loss"] for t in takeovers)
        for e in charges:
            (taken,) = [t for t in takeovers if t["market"] == e["market"]]
            assert taken["loss"] > 0 or total_loss == 0, "haircut in a market where the account lost nothing"
            assert e["long_side"] == (taken["size"] < 0), "haircut on the bankrupt account's own side"
        if self.params["loss_policy"] == "pro_rata_size":
            assert bad == 0, f"bad debt {bad} although every market of the account could be charged: {takeovers}"
        elif bad > 0:
            # profit_clawback: bad debt only where a market's opposite side could not pay its
            # share of the residual: its net profit was used up (amount == side_profit), or it
            # had none (a market with a loss and no charge event); a market that paid its whole
            # share beside one that could not has amount < side_profit, rightly
            charged = {e["market"] for e in charges}
            assert any(e["amount"] == e["side_profit"] for e in charges) or any(
                t["loss"] > 0 and t["market"] not in charged for t in takeovers) or total_loss == 0, (charges, takeovers)
        # the bankrupt account ends flat with zero collateral
        assert tuple(self.h.summary(account)) == (0, 0, 0, 0)
        assert all(self.h.position_size(account, m) == 0 for m in range(2))
        self.check_liquidator_margin()

    def resolve_bankrupt(self, account):
        now = self.now()
        equity = self.model.equity(account, now)
        if self.adl:
            frozen = self.model.is_frozen(account)
            tx = self.adl_send("liquidate_bankrupt", account)
            if equity >= 0 and not frozen:
                assert not tx.ok and tx.reason == "liquidate_bankrupt: account is not bankrupt"
            event("adl liquidate_bankrupt: " + ("ok" if tx.ok else tx.reason))
            return tx
        assets_before = self.vault_assets()
        tx, _ = self.h.liquidate_bankrupt(self.liquidator, account)
        if equity >= 0:
            assert not tx.ok and tx.reason == "liquidate_bankrupt: account is not bankrupt"
        if tx.ok:
            self.check_bankruptcy(tx, account, assets_before)
            (b,) = tx.events_named("Bankruptcy")
            event("bankruptcy: " + "+".join(k for k in ("insurance_paid", "socialized", "bad_debt") if b[k]))
        else:
            event(f"liquidate_bankrupt reverted: {tx.reason}")
        return tx

    # ------------------------------------------------------------------ rules
    def open_position(self, maker, taker, market, buy, frac, bps):
        """The maker opens (or adds to) a position at `frac` per mille of the margin room both
        sides have left, at `bps` from the oracle price."""
        price = self.model.prices[market]
        limit = price + price * bps // 10_000
        notional = min(self.room(maker, market), self.room(taker, market)) * frac // 1000
        size = max(1, notional * SCALE // limit)
        tx, _ = self.h.trade(taker, maker, market, size if buy else -size, limit, size)
        event("open: " + ("ok" if tx.ok else tx.reason))
        return tx

    @initialize(amounts=st.lists(st.integers(1_000, 20_000), min_size=4, max_size=4),
                stake=st.one_of(st.just(0), st.integers(10, 200_000)),
                request=st.integers(0, 1000),
                opens=st.lists(st.tuples(st.integers(700, 980), st.booleans()), min_size=2, max_size=2))
    def fund(self, amounts, stake, request, opens):
        """Deposits, the liquidator's collateral, maybe a stake and a redeem request for part of
        it, and one leveraged pair of positions per market (traders 0/1 in market 0, 2/3 in
        market 1)."""
        self.h.pass_time(1)  # re-stamp the feeds: the snapshot may be old in wall-clock time
        for account, amount in zip(self.traders, amounts):
            assert self.h.deposit(account, amount * UNIT)[0].ok
        assert self.h.deposit(self.liquidator, LIQUIDATOR_COLLATERAL)[0].ok
        if stake:
            assert self.h.stake(self.stakers[0], stake * UNIT)[0].ok
            shares = self.model.vault.balance(self.stakers[0]) * request // 1000
            if shares:
                assert self.h.request_redeem(self.stakers[0], shares)[0].ok
        for market, (frac, buy) in enumerate(opens):
            self.open_position(self.traders[2 * market], self.traders[2 * market + 1], market, buy, frac, 0)

    @rule(who=trader_ids, amount=st.integers(1, 20_000))
    def deposit(self, who, amount):
        assert self.h.deposit(self.traders[who], amount * UNIT)[0].ok

    @rule(maker=trader_ids, taker_offset=st.integers(1, 3), market=markets, buy=st.booleans(),
          frac=st.integers(700, 1000), bps=st.integers(-300, 300))
    def open_leveraged(self, maker, taker_offset, market, buy, frac, bps):
        self.open_position(self.traders[maker], self.traders[(maker + taker_offset) % 4], market, buy, frac, bps)

    @rule(maker=trader_ids, taker_offset=st.integers(1, 3), market=markets, frac=per_mille,
          bps=st.integers(-100, 100))
    def reduce(self, maker, taker_offset, market, frac, bps):
        maker_addr, taker_addr = self.traders[maker], self.traders[(maker + taker_offset) % 4]
        current = self.model.position_size(maker_addr, market)
        if current == 0:
            return
        price = self.model.prices[market]
        size = -(current * frac // 1000) or -current
        self.h.trade(taker_addr, maker_addr, market, size, price + price * bps // 10_000, abs(size))

    def move(self, market, bps):
        answer = self.h.answers[market]
        self.h.set_answer(market, max(1, answer + answer * bps // 10_000))

    @rule(market=markets, bps=st.integers(-1000, 1000))
    def move_price(self, market, bps):
        self.move(market, bps)

    @rule(market=markets, bps=st.one_of(st.integers(3000, 6000), st.integers(-6000, -3000)))
    def gap_price(self, market, bps):
        """A 30-60 % gap: leveraged accounts jump straight past maintenance into bankruptcy."""
        self.move(market, bps)

    @rule(seconds=st.one_of(st.integers(1, 3600), st.integers(3600, 2 * DAY)))
    def pass_time(self, seconds):
        self.h.pass_time(seconds)

    @rule(pick=st.integers(0, 7), market=markets, frac=st.integers(1, 1100))
    def liquidate(self, pick, market, frac):
        """Partial liquidation of a liquidatable account, up to (and sometimes beyond)
        max_liquidatable_size; when none is liquidatable, of a healthy (or bankrupt) one, which
        must revert."""
        now = self.now()
        candidates = [(a, m) for a in self.traders for m in range(2)
                      if self.model.max_liquidatable_size(a, m, now) > 0]
        account, market = candidates[pick % len(candidates)] if candidates else (self.traders[pick % 4], market)
        health = self.model.health(account, now)
        limit = self.model.max_liquidatable_size(account, market, now)
        position = abs(self.model.position_size(account, market))
        size = max(1, (limit or position) * frac // 1000)
        frozen = self.adl and self.model.is_frozen(account)
        tx, _ = self.h.liquidate(self.liquidator, account, market, size)
        if frozen:  # adl: an account under resolution is only deleveraged
            assert not tx.ok and tx.reason == FROZEN, tx.reason
        elif health.equity >= health.maintenance_margin:
            assert not tx.ok and tx.reason == "liquidate: account is healthy", "a healthy account was liquidated"
        if tx.ok:
            assert 0 <= health.equity < health.maintenance_margin and size <= limit
            self.check_liquidator_margin()
        event("liquidate: " + ("ok" if tx.ok else tx.reason))

    @rule(pick=st.integers(0, 7))
    def liquidate_bankrupt(self, pick):
        """`liquidate_bankrupt` of a bankrupt account if there is one, else of a solvent one
        (which must revert)."""
        bankrupt = self.bankrupt_or_frozen()
        self.resolve_bankrupt(bankrupt[pick % len(bankrupt)] if bankrupt else self.traders[pick % 4])

    def bankrupt_or_frozen(self):
        now = self.now()
        return [a for a in self.traders if self.model.equity(a, now) < 0 or self.model.is_frozen(a)]

    @rule()
    def keeper_round(self):
        """The liquidator resolves every bankrupt account (haircuts can bankrupt more); then no
        account may be left with negative equity. Under adl it drives each resolution to its
        end as a keeper would (adl_resolve: best-ranked winners first)."""
        if self.adl:
            for _ in range(10):
                pending = self.bankrupt_or_frozen()
                if not pending:
                    break
                for account in pending:
                    adl_resolve(self.h, self.liquidator, account, send=self.adl_send)
            assert not any(self.model.is_frozen(a) for a in self.h.accounts), "a resolution left open"
        for _ in range(10):
            bankrupt = [a for a, e in zip(self.traders, self.h.equities(self.traders)) if e < 0]
            if not bankrupt:
                break
            for account in bankrupt:
                assert self.resolve_bankrupt(account).ok
        for account, equity in zip(self.h.accounts, self.h.equities(self.h.accounts)):
            assert equity >= 0, f"{account} left with negative equity after the keeper round"
        self.keeper_acted = True

    def keeper_position(self, target, maker, market, same_side, frac):
        """The keeper (the liquidator) takes a position on the same side as `target`'s position
        in `market` (or the opposite one), `frac` per mille of `maker`'s margin room, from
        `maker` at the oracle price."""
        side = self.model.position_size(target, market)
        if side == 0:
            side = 1
        keeper_long = (side > 0) == same_side
        price = self.model.prices[market]
        size = max(1, self.room(maker, market) * frac // 1000 * SCALE // price)
        # order_size > 0: the maker buys, so the keeper (taker) sells
        tx, _ = self.h.trade(self.liquidator, maker, market, -size if keeper_long else size, price, size)
        event(f"keeper holds {'same' if same_side else 'opposite'} side: " + ("ok" if tx.ok else tx.reason))
        return tx

    @rule(pick=st.integers(0, 7), offset=st.integers(1, 3), market=markets, same_side=st.booleans(),
          frac=st.integers(1, 1000))
    def keeper_takes_position(self, pick, offset, market, same_side, frac):
        """Issue 8: the keeper holds positions (same side as a trader, or opposite) before it
        resolves bankruptcies; the target is a bankrupt trader when there is one."""
        now = self.now()
        bankrupt = [a for a in self.traders if self.model.equity(a, now) < 0]
        target = bankrupt[pick % len(bankrupt)] if bankrupt else self.traders[pick % 4]
        maker = self.traders[(self.traders.index(target) + offset) % 4]
        self.keeper_position(target, maker, market, same_side, frac)

    @rule(pick=st.integers(0, 7), offset=st.integers(1, 3), same_side=st.booleans(), frac=st.integers(1, 1000))
    def keeper_holds_then_resolves(self, pick, offset, same_side, frac):
        """A bankrupt account's keeper first takes a position on the bankrupt account's side
        (or the opposite one) in each of its markets, then resolves it in the same step."""
        now = self.now()
        bankrupt = [a for a in self.traders if self.model.equity(a, now) < 0]
        if not bankrupt:
            event("keeper holds then resolves: nobody bankrupt")
            return
        target = bankrupt[pick % len(bankrupt)]
        solvent = [a for a in self.traders if a != target and self.model.equity(a, now) >= 0]
        for market in range(2):
            if self.model.position_size(target, market) != 0 and solvent:
                self.keeper_position(target, solvent[(pick + offset) % len(solvent)], market, same_side, frac)
        if self.model.equity(target, self.now()) < 0:
            self.resolve_bankrupt(target)

    @rule(kind=st.sampled_from(["stake", "request", "redeem", "sweep"]), who=staker_ids, frac=st.integers(0, 1000),
          amount=st.one_of(st.integers(1, 100), st.integers(1, 200_000 * UNIT)))
    def vault_action(self, kind, who, frac, amount):
        """A staker deposits, requests a redeem of part of its unlocked shares, or redeems part of
        its request (which must revert before the cooldown is over); or anyone sweeps fees."""
        vault, now = self.model.vault, self.now()
        if kind == "stake":
            # the harness checks the contract against the model; a tiny deposit into a vault
            # whose revenue arrived with no shares outstanding mints nothing and must revert
            tx, _ = self.h.stake(self.stakers[who], amount)
            assert tx.ok or tx.reason == "deposit: zero shares", tx.reason
        elif kind == "request":
            unlocked = {s: vault.balance(s) for s in self.stakers}  # requested shares sit in the vault
            owners = [s for s in self.stakers if unlocked[s] > 0]
            staker = owners[who % len(owners)] if owners else self.stakers[who]
            shares = unlocked[staker] * frac // 1000
            # 0 shares renews an existing request (restarts its clock); with none it reverts
            renews = vault.request(staker).shares > 0
            tx, _ = self.h.request_redeem(staker, shares)
            assert tx.ok == (shares > 0 or renews), tx.reason
        elif kind == "redeem":
            owners = [s for s in self.stakers if vault.request(s).shares > 0]
            staker = owners[who % len(owners)] if owners else self.stakers[who]
            matured = vault.is_matured(staker, now)
            tx, _ = self.h.redeem(staker, max(1, vault.request(staker).shares * max(frac, 1) // 1000))
            if not matured:
                assert not tx.ok, "a redeem without a matured request went through"
            event("redeem: " + ("ok" if tx.ok else tx.reason))
        else:
            assert self.h.sweep_fees(self.liquidator)[0].ok


    # ------------------------------------------------------------------ adl
    def adl_view(self, now):
        """The book before an adl call: per (account, market) the position's (size, cost,
        bucket, net profit at the oracle), every account's equity, the open resolutions."""
        model = self.model
        positions = {}
        for (a, m), pos in model.positions.items():
            bucket = 0 if model.is_frozen(a) else entry_bucket(pos.size, pos.cost, model.scale)
            positions[(a, m)] = (pos.size, pos.cost, bucket, model.adl_profit(a, m, now))
        return {"positions": positions, "equity": {a: model.equity(a, now) for a in self.h.accounts},
                "frozen": {a for a in self.h.accounts if model.is_frozen(a)}, "targets": dict(model.adl_targets),
                "prices": list(model.prices), "assets": self.vault_assets(), "take_rests": len(model.adl_take_rests)}

    def adl_send(self, kind, account, *args):
        """Send one adl call by the liquidator (`deleverage` or `liquidate_bankrupt`) and check
        DESIGN.md invariants 4 and 7 on it (check_adl_tx)."""
        now = self.now()
        before = self.adl_view(now)
        if kind == "deleverage":
            tx, _ = self.h.deleverage(self.liquidator, account, *args)
        else:
            tx, _ = self.h.liquidate_bankrupt(self.liquidator, account)
        if tx.ok:
            self.check_adl_tx(tx, account, before)
        return tx

    def check_adl_tx(self, tx, account, before):
        """Invariants 4 and 7 under adl on one successful call, against the book before it:
        - the start of a resolution (Cover): the vault paid min(deficit, its capacity), and the
          bankruptcy prices are exact: closing every position under resolution at its price
          pays exactly the residual, floor(|size| * |bankruptcy price - oracle| / SCALE);
        - every fill (Deleveraged): at the bankruptcy price fixed at the start; its
          counterparty held an opposite, ranked position in profit; fills in ranking order
          (buckets never improve along them) and nobody ranked above a filled winner is left in
          its bucket afterwards (no higher-ranked winner skipped); a winner loses at most its
          profit (plus a unit of rounding per fill);
        - the end (Bankruptcy): deficit == insurance + socialized + bad debt, with the
          insurance paid at the start; bad debt only when nobody could pay: every take-over at
          the oracle in the resolution left only opposite positions in profit by under 2.4 % of
          their cost (the contract's exhaustion rule: the best bucket within one bucket of the
          oracle's) or with a cost basis under MIN_RANK_COST; the account ends flat at zero."""
        model, scale = self.model, self.model.scale
        covers = [e for e in tx.events_named("Cover") if e.address == self.h.vault]
        if covers and account not in before["frozen"]:
            (cover,) = covers
            deficit = -before["equity"][account]
            revenue = sum(e["amount"] for e in tx.events_named("Revenue"))
            assets = before["assets"] + revenue
            reserve = self.params["min_reserve"]
            capacity = min(assets * self.params["max_cover_ratio"] // WAD, assets - reserve) if assets > reserve else 0
            paid_in = min(deficit, capacity)
            assert min(cover["paid"], deficit) == paid_in, f"vault paid {cover['paid']} of {deficit}, could pay {capacity}"
            self.adl_opened[account] = (deficit, paid_in)
            targets = {m: t for (a, m), t in model.adl_target_history.items() if a == account}
            if model.is_frozen(account) or tx.events_named("Deleveraged"):
                paid = sum(abs(before["positions"][(account, m)][0]) * abs(t - before["prices"][m]) // scale
                           for m, t in targets.items())
                floored = any(t == 1 for t in targets.values())
                assert paid == deficit - paid_in or (floored and paid < deficit - paid_in), (
                    f"bankruptcy prices {targets} pay {paid} of the residual {deficit - paid_in}")
        # the fills
        fills = tx.events_named("Deleveraged")
        paid_by = {}
        for i, f in enumerate(fills):
            acc, cp, m = f["account"], f["counterparty"], f["market"]
            assert f["price"] == model.adl_target_history[(acc, m)], "a fill away from the bankruptcy price"
            size, cost, bucket, profit = before["positions"].get((cp, m), (0, 0, 0, 0))
            bankrupt_size = before["positions"][(acc, m)][0]
            assert size != 0 and (size > 0) != (bankrupt_size > 0), "a fill against a position on the bankrupt side"
            assert 0 < abs(f["size"]) <= abs(size) and (f["size"] > 0) == (size < 0), f.args
            assert bucket != 0 and size * before["prices"][m] // scale > cost, "a fill against a loser"
            earlier = [before["positions"][(g["counterparty"], m)][2] for g in fills[:i] if g["market"] == m]
            assert all(not ranks_above(bucket, b, size > 0) for b in earlier), "fills out of ranking order"
            best = model.adl_ranking().best(m, size > 0)
            assert not (best and ranks_above(best, bucket, size > 0)), (
                f"a winner in bucket {best} ranks above the filled bucket {bucket} and was skipped")
            paid_by.setdefault(cp, [0, 0])
            paid_by[cp][0] += profit
            paid_by[cp][1] += 1
            step = before["prices"][m] - f["price"] if bankrupt_size < 0 else f["price"] - before["prices"][m]
            self.adl_concessions += max(0, abs(f["size"]) * step // scale)
            self.adl_fills += 1
        for cp, (profit, n) in paid_by.items():
            if cp != self.liquidator:
                lost = before["equity"][cp] - model.equity(cp, tx.timestamp)
                assert lost <= profit + n, f"winner {cp} lost {lost}, more than its profit {profit}"
        # the end
        for b in tx.events_named("Bankruptcy"):
            assert b["account"] == account
            deficit, paid_in = self.adl_opened.pop(account)
            bad = b["bad_debt"]
            assert b["insurance_paid"] == paid_in
            assert b["deficit"] == b["insurance_paid"] + b["socialized"] + bad == max(deficit, paid_in + bad), b.args
            if bad > 0:
                for acc, m, price, winners in model.adl_take_rests:
                    for w, w_size, w_cost, w_profit in winners if acc == account else ():
                        assert abs(w_cost) < MIN_RANK_COST or w_profit * 128 <= 3 * abs(w_cost) + 128, (
                            f"bad debt {bad} while {w} held {w_size} in market {m} with profit {w_profit}")
                event("adl: bad debt")
            model.adl_take_rests = [r for r in model.adl_take_rests if r[0] != account]
            assert tuple(self.h.summary(account)) == (0, 0, 0, 0)
            assert all(self.h.position_size(account, m) == 0 for m in range(2))
            event("adl: resolved, " + "+".join(k for k in ("insurance_paid", "socialized", "bad_debt") if b[k]))
        if tx.events_named("BankruptcyTakeover") or tx.events_named("Bankruptcy"):
            self.check_liquidator_margin()

    def adl_target(self, pick, market):
        """(account, market) for an adl call: an account under resolution and one of its
        markets under resolution, else a bankrupt account (or any trader) and `market`."""
        frozen = [a for a in self.traders if self.model.is_frozen(a)]
        if frozen:
            account = frozen[pick % len(frozen)]
            markets = sorted(m for (a, m) in self.model.adl_targets if a == account)
            return account, markets[pick % len(markets)] if markets else market
        bankrupt = self.bankrupt_or_frozen()
        return (bankrupt[pick % len(bankrupt)] if bankrupt else self.traders[pick % 4]), market

    @precondition(lambda self: self.adl)
    @rule(pick=st.integers(0, 7), market=markets, n=st.integers(1, 4))
    def deleverage_ranked(self, pick, market, n):
        """A keeper names the first `n` winners in ranking order (keeper_order); on an account
        not yet under resolution this starts it first (or reverts if it is not bankrupt)."""
        account, market = self.adl_target(pick, market)
        cps = keeper_order(self.model, self.h.accounts, account, market, self.now())[:n]
        tx = self.adl_send("deleverage", account, market, cps)
        event("deleverage ranked: " + ("ok" if tx.ok else tx.reason))

    @precondition(lambda self: self.adl)
    @rule(market=markets, down=st.booleans(), n=st.integers(0, 2))
    def gap_and_start(self, market, down, n):
        """adl: a 40 % gap, then a keeper starts every bankrupt account's resolution, naming
        only its first `n` winners (n = 0: `liquidate_bankrupt`), so resolutions stay open for
        the other rules to continue, skip the best or race."""
        self.move(market, -4000 if down else 4000)
        for account in self.bankrupt_or_frozen():
            if n == 0 or self.model.position_size(account, market) == 0:
                self.adl_send("liquidate_bankrupt", account)
                continue
            targets = sorted(m for (a, m) in self.model.adl_targets if a == account)
            m = targets[0] if targets else market
            self.adl_send("deleverage", account, m, keeper_order(self.model, self.h.accounts, account, m, self.now())[:n])

    @precondition(lambda self: self.adl and any(self.model.is_frozen(a) for a in self.traders))
    @rule(pick=st.integers(0, 7), market=markets, same_side=st.booleans())
    def deleverage_skips_best(self, pick, market, same_side):
        """A keeper tries to pick a favourite: it names a lower-ranked winner before the
        best-ranked one (or a position on the bankrupt side); the contract must refuse."""
        account, market = self.adl_target(pick, market)
        size = self.model.position_size(account, market)
        ranked = keeper_order(self.model, self.h.accounts, account, market, self.now())
        buckets = [entry_bucket(self.model.positions[(a, market)].size, self.model.positions[(a, market)].cost,
                                self.model.scale) for a in ranked]
        if same_side:
            same = [a for a in self.h.accounts if a != account and not self.model.is_frozen(a)
                    and size and self.model.position_size(a, market) * size > 0]
            if not same:
                event("skip best: nobody on the bankrupt side")
                return
            tx = self.adl_send("deleverage", account, market, [same[pick % len(same)], *ranked])
            assert not tx.ok and tx.reason == "deleverage: not an opposite position", tx.reason
        else:
            lower = [a for a, b in zip(ranked, buckets) if b != buckets[0]]
            if not lower:
                event("skip best: one bucket of winners")
                return
            tx = self.adl_send("deleverage", account, market, [lower[pick % len(lower)], *ranked])
            assert not tx.ok and tx.reason == "deleverage: not the best-ranked winner", tx.reason
        event("skip best: refused")

    @precondition(lambda self: self.adl)
    @rule(pick=st.integers(0, 7), market=markets, who=st.lists(st.integers(0, 4), max_size=5))
    def deleverage_any(self, pick, market, who):
        """A keeper names any accounts in any order (favourites inside a bucket, losers, the
        account itself, the keeper): the model says what the contract must do."""
        account, market = self.adl_target(pick, market)
        tx = self.adl_send("deleverage", account, market, [self.h.accounts[i] for i in who])
        event("deleverage any: " + ("ok" if tx.ok else tx.reason))

    @precondition(lambda self: self.adl and any(self.model.is_frozen(a) for a in self.traders))
    @rule(pick=st.integers(0, 7), amount=st.integers(1, 1000))
    def frozen_account_withdraws(self, pick, amount):
        """Nothing can be withdrawn against an unresolved deficit."""
        frozen = [a for a in self.traders if self.model.is_frozen(a)]
        tx, _ = self.h.withdraw(frozen[pick % len(frozen)], amount * UNIT)
        assert not tx.ok and tx.reason == FROZEN, tx.reason

    # ------------------------------------------------------------------ invariants
    @invariant()
    def design_invariants(self):
        h = self.h
        readings = h.check_against_model(funding=False)
        h.check_conservation(readings)
        h.check_balanced_book(readings)
        negative = h.check_solvency(readings)
        if self.keeper_acted:
            assert not negative, "negative equity right after the keeper round"
        self.keeper_acted = False
        if self.adl:
            h.check_adl_state()
            socialized = sum(readings["socialized"])
            # each fill's concession against the oracle; the contract rounds each fill's notional
            assert abs(socialized - self.adl_concessions) <= 2 * self.adl_fills, (socialized, self.adl_concessions)
        else:
            self.check_haircut_charges(readings)
        self.check_vault_price(*h.check_vault(self.stakers))
        h.step_events = []

    def check_haircut_charges(self, readings):
        model = self.model
        assert self.h.haircut_settled == sum(model.haircut_settled.values())
        pending = [model.pending_haircut(m, p) for (_, m), p in model.positions.items()]
        excess = model.excess_settled + sum(model.pending_excess(m, p) for (_, m), p in model.positions.items())
        # profit_clawback: positions not in profit are clamped to 0; what the side paid on top
        # of the residual is exactly that clamped part (credited to the vault), plus rounding
        charged = self.h.haircut_settled + sum(pending) - excess
        socialized = sum(readings["socialized"])
        # rounding: each socialization's index step, and each term of a position's charge u,
        # rounded up by under one base unit. u has one term under pro_rata_size (|size| x X) and
        # two under profit_clawback (|size| x X and |cost| x Y), and a position not in profit
        # rounds too (its clamped, negative u comes out less negative, so less excess): every
        # position charged or credited since its snapshot counts, settled or still pending
        terms = 2 if self.params["loss_policy"] == "profit_clawback" else 1
        moved = sum(1 for (_, m), p in model.positions.items() if model.accrued_charge(m, p) != 0)
        dust = self.h.socializations + terms * (model.charge_settlements + moved)
        assert 0 <= charged - socialized <= dust, f"haircut charges {charged} vs socialized {socialized} (dust {dust})"

    def check_vault_price(self, assets, supply):
        """Invariant 6 and the vault half of invariant 1."""
        (a0, s0), (a1, s1) = self.vault_before, (assets, supply)
        self.vault_before = (assets, supply)
        events = [e for e in self.h.step_events if e.address == self.h.vault]
        deposits = [e for e in events if e.name == "Deposit"]
        redeems = [e for e in events if e.name == "RedeemSettled"]
        revenue = sum(e["amount"] for e in events if e.name == "Revenue")
        covered = sum(e["paid"] for e in events if e.name == "Cover")
        assert a1 == a0 + sum(e["assets"] for e in deposits) + revenue - covered - sum(e["assets"] for e in redeems)
        assert s1 == s0 + sum(e["shares"] for e in deposits) - sum(e["shares"] for e in redeems)
        gain = (a1 + 1) * (s0 + V_SHARES) - (a0 + 1) * (s1 + V_SHARES)  # sign of the price change
        if revenue or covered:
            if not covered:
                assert gain >= 0, "revenue lowered the share price"
            if not revenue:
                assert gain <= 0, "a cover raised the share price"
        elif redeems:
            (r,) = redeems
            rounding = gain - r["forfeited"] * (s0 + V_SHARES)
            assert 0 <= rounding < s0 + V_SHARES, "a redeem moved the price by more than its forfeited yield"
        elif deposits:
            assert 0 <= gain < a0 + 1, "a deposit moved the share price by more than rounding"
        else:
            assert (a1, s1) == (a0, s0), "the vault changed without revenue, cover, deposit or redeem"


def test_waterfall_stateful(waterfall_env, traders, liquidator, staker, other, chain):
    protocol, evm, harness_cls, params = waterfall_env
    WaterfallMachine.env = (protocol, evm, harness_cls, params, traders, liquidator, (staker, other), chain)
    budget = settings(FUZZ_SETTINGS, max_examples=MAX_EXAMPLES[params["loss_policy"]])
    run_state_machine_as_test(WaterfallMachine, settings=budget)


def test_model_waterfall_by_hand(waterfall_env):
    """The model's waterfall on a hand-computed case: vault capped at 50 % of its assets, the
    rest haircut to the opposite side; and a wrong insurance payment would be detected."""
    _, _, _, params = waterfall_env
    model = fresh_model(params)
    a, b, keeper, staker = "0xA", "0xB", "0xK", "0xS"
    model.vault.transact("deposit", staker, 1_000 * UNIT, staker, 0)
    for account, amount in ((a, 5_100 * UNIT), (b, 100_000 * UNIT), (keeper, 10**7 * UNIT)):
        model.transact("deposit", account, amount, 1)
    price = model.prices[0]
    model.transact("trade", b, a, 0, WAD, price, WAD, b"o", 10, 2)  # A buys 1 at 50,000 from B
    fees = 10 * UNIT + 25 * UNIT  # 2 bp maker + 5 bp taker on 50,000
    model.set_price(0, price * 8 // 10)  # -20 %: A's equity 5,100 - 10 - 10,000 < 0
    assert model.equity(a, 3) == -4_910 * UNIT
    model.transact("liquidate_bankrupt", keeper, a, 3)
    if params["loss_policy"] == "adl":
        return check_model_adl_by_hand(model, a, b, keeper, price, fees)
    (event,) = [e for e in model.events if e[0] == "Bankruptcy"]
    _, _, deficit, paid_in, socialized, bad = event
    assert deficit == 4_910 * UNIT  # a long: no takeover rounding
    assert paid_in == (1_000 * UNIT + fees // 2) // 2  # half the vault, after the fee sweep
    assert socialized == deficit - paid_in and bad == 0
    # the whole residual lands on the short side (B), rounded up; the keeper got its reward
    assert 0 <= model.pending_haircut(0, model.position(b, 0)) - socialized <= 1
    # the vault paid its per-event maximum towards the deficit: nothing was left for a reward
    assert model.collateral[keeper] == 10**7 * UNIT
    assert model.collateral[a] == 0 and model.position_size(a, 0) == 0
    # a deliberately wrong insurance payment would break the waterfall identity
    assert deficit != (paid_in + 1) + socialized + bad
    with pytest.raises(Revert, match="not bankrupt"):
        model.transact("liquidate_bankrupt", keeper, a, 4)


def check_model_adl_by_hand(model, a, b, keeper, price, fees):
    """adl on the same case: A is frozen with the vault's half credited; B's short, the only
    winner, closes A's long at the bankruptcy price oracle + residual / size, which B pays."""
    paid_in = (1_000 * UNIT + fees // 2) // 2
    residual = 4_910 * UNIT - paid_in
    assert model.is_frozen(a) and model.adl_resolution[a] == (4_910 * UNIT, paid_in)
    oracle = price * 8 // 10
    target = oracle + -(-residual * SCALE // WAD)  # the step, rounded up (exact here)
    assert model.adl_targets[(a, 0)] == (target, WAD)
    with pytest.raises(Revert, match="not an opposite position"):
        model.transact("deleverage", keeper, a, 0, [keeper], 4)  # the keeper has no position
    b_equity = model.equity(b, 4)
    model.transact("deleverage", keeper, a, 0, [b], 4)
    (fill,) = [e for e in model.events if e[0] == "Deleveraged"]
    assert fill == ("Deleveraged", a, b, 0, WAD, target)
    (end,) = [e for e in model.events if e[0] == "Bankruptcy"]
    assert end == ("Bankruptcy", a, 4_910 * UNIT, paid_in, residual, 0)
    assert 0 <= b_equity - model.equity(b, 4) - residual <= 1  # B paid the residual, rounded against it
    assert model.collateral[a] == 0 and model.position_size(a, 0) == 0 and not model.is_frozen(a)


def run_bankruptcy_scenario(waterfall_env, traders, chain, steps, keeper, account):
    """Run `steps(h)` (which must end with `keeper`'s liquidate_bankrupt of `account`) on a fresh
    example against the model (under adl the keeper then resolves it to the end, adl_resolve);
    returns the Bankruptcy event and the open interest per market afterwards."""
    protocol, evm, harness_cls, params = waterfall_env
    snapshot = chain.snapshot()
    try:
        model = fresh_model(params)
        h = harness_cls(protocol, evm, model, traders)
        h.pass_time(1)
        tx = steps(h)
        assert tx.ok, tx.reason
        if params["loss_policy"] == "adl" and not tx.events_named("Bankruptcy"):
            tx = adl_resolve(h, keeper.address, account.address)[-1]  # the keeper carries it on to its end
        (bankruptcy,) = tx.events_named("Bankruptcy")
        readings = h.check_against_model()
        h.check_conservation(readings)
        h.check_balanced_book(readings)
        return bankruptcy, readings["open_interest"]
    finally:
        chain.restore(snapshot)


def test_bad_debt_only_when_nobody_can_be_charged_two_losing_markets(waterfall_env, traders, chain):
    """DESIGN.md: bad debt is "whatever cannot be charged to anyone (no open interest to
    charge)"; invariant 4: "bad_debt grows only when nothing else can pay". A loses in two
    markets; in ETH its only counterparty resolves it (so no ETH open interest is left), in BTC
    a short (C) remains who can be charged. The whole residual must be socialized."""
    a, b, c = traders[0], traders[1], traders[2]

    def steps(h):
        for account, amount in ((a, 10_000), (b, 100_000), (c, 100_000)):
            assert h.deposit(account.address, amount * UNIT)[0].ok
        btc, eth = h.model.prices
        assert h.trade(c.address, a.address, 0, WAD // 5, btc, WAD // 5)[0].ok  # A buys 0.2 BTC from C
        assert h.trade(b.address, a.address, 1, 5 * WAD, eth, 5 * WAD)[0].ok  # A buys 5 ETH from B
        h.set_answer(0, 20_000 * 10**8)  # both -60 %
        h.set_answer(1, 800 * 10**8)
        assert h.model.equity(a.address, h.evm.next_timestamp()) < 0
        return h.liquidate_bankrupt(b.address, a.address)[0]  # B takes over: its ETH short nets out

    bankruptcy, open_interest = run_bankruptcy_scenario(waterfall_env, traders, chain, steps, b, a)
    # C's BTC short is still open and can be charged (adl: it was closed against A's long)
    assert open_interest[0] > 0 or waterfall_env[3]["loss_policy"] == "adl"
    assert bankruptcy["insurance_paid"] < bankruptcy["deficit"]  # nobody staked: the vault holds only swept fees
    assert bankruptcy["bad_debt"] == 0, (
        f"deficit {bankruptcy['deficit']}: socialized {bankruptcy['socialized']}, bad debt {bankruptcy['bad_debt']} "
        f"although {open_interest[0]} of BTC open interest could be charged")


def test_bad_debt_only_when_nobody_can_be_charged_no_market_loss(waterfall_env, traders, chain):
    """A's deficit comes from a realized ETH loss (negative collateral) while its BTC long is
    still in profit at the oracle: no market "lost money" at takeover, so the haircut's
    pro-rata-to-loss split has nothing to split over. C's BTC short can still be charged: the
    residual must be socialized, not booked as bad debt."""
    a, b, c = traders[0], traders[1], traders[2]

    def steps(h):
        for account, amount in ((a, 10_000), (b, 100_000), (c, 100_000)):
            assert h.deposit(account.address, amount * UNIT)[0].ok
        btc, eth = h.model.prices
        assert h.trade(c.address, a.address, 0, WAD // 2, btc, WAD // 2)[0].ok  # A buys 0.5 BTC at 50,000
        assert h.trade(b.address, a.address, 1, 10 * WAD, eth, 10 * WAD)[0].ok  # A buys 10 ETH at 2,000
        h.set_answer(0, 60_000 * 10**8)
        h.set_answer(1, 900 * 10**8)
        # A closes ETH at a 11,000 loss: allowed (equity stays >= 0 thanks to BTC), collateral < 0
        assert h.trade(b.address, a.address, 1, -10 * WAD, 900 * WAD, 10 * WAD)[0].ok
        assert h.model.collateral[a.address] < 0
        h.set_answer(0, 51_000 * 10**8)  # BTC still above A's 50,000 entry, but equity < 0
        assert h.model.equity(a.address, h.evm.next_timestamp()) < 0
        return h.liquidate_bankrupt(b.address, a.address)[0]

    bankruptcy, open_interest = run_bankruptcy_scenario(waterfall_env, traders, chain, steps, b, a)
    assert open_interest[0] > 0  # C's BTC short is still open: it can be charged
    if waterfall_env[3]["loss_policy"] in ("profit_clawback", "adl"):
        # C's short is losing (BTC above its entry): there is no profit to claw back (adl:
        # no winner to deleverage against)
        assert bankruptcy["socialized"] == 0 and bankruptcy["bad_debt"] > 0, bankruptcy.args
        return
    assert bankruptcy["bad_debt"] == 0, (
        f"deficit {bankruptcy['deficit']}: socialized {bankruptcy['socialized']}, bad debt {bankruptcy['bad_debt']} "
        f"although {open_interest[0]} of BTC open interest could be charged")
