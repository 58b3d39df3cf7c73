"""Stateful property test of trading (issue 2): random deposits, withdrawals (valid and
invalid), fills at random prices inside (and just outside) the price band with random sizes
(opens, increases, partial reductions, exact closes, flips), small oracle moves, and time
passing so funding accrues, on four trader accounts across two markets.

Every step first runs on the plain-Python model (tests/support/model.py) at the exact block
time the transaction will be mined at; the contract must then succeed exactly when the model
does, with the model's revert reason, and a reverted step must change nothing. After every step:

- each account's collateral, equity, initial and maintenance margin and position sizes equal
  the model's exactly, as do open interest, the funding index, treasury, bad debt and the
  Clearinghouse's token balance;
- every settlement of funding (and haircut) the contract logs is the one the model makes;
- conservation: token.balanceOf(ch) + bad_debt() - treasury() - sum(equity) lies in
  [0, rounding dust] (DESIGN.md invariant 1), where the dust is under 3 base units per open
  position (value floored, pending funding and haircut rounded up) plus under 1 per settlement
  so far: funding payments round per settlement in the protocol's favour, and that dust stays
  in the protocol, so the gap grows with the number of settlements (a flat "few units per
  account" bound is exceeded after ~10 fills with funding running; see Harness.rounding_dust);
- balanced book: per market, sum of longs == sum of shorts == open_interest(m) (invariant 2);
- solvency: sum(max(0, equity)) <= balance - treasury + bad_debt (invariant 3) whenever no
  account has negative equity (nobody liquidates in this machine; an unresolved deficit is a loss
  nobody has paid yet, see Harness.check_solvency).

Budget: MAX_EXAMPLES (20) examples x STEPS (25) steps (500 steps, each followed by the full
check), plus the initial funding step of each example: about 65-75 s on one core. The protocol is deployed once per module; every example starts
from chain.snapshot() and ends with chain.restore().
"""
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from support.model import ClearinghouseModel, MarketParams, Revert, VaultModel

WAD = 10**18
UNIT = 10**6  # the collateral token has 6 decimals
SCALE = 10**30  # notional = size * price / SCALE
MAX_EXAMPLES = 20
STEPS = 25
# markets: BTC-like at 50,000 and ETH-like at 2,000; imr 10 %, mmr 5 %
PRICES = [50_000 * 10**8, 2_000 * 10**8]  # 8-decimal feed answers
IMR, MMR = WAD // 10, WAD // 20
# funding is made fast enough to matter within a few simulated hours
FUNDING_PERIOD = 3600
MAX_PREMIUM = 10**16  # 1 % per funding period

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)

trader_ids = st.integers(0, 3)
markets = st.integers(0, 1)
per_mille = st.integers(1, 1000)


@pytest.fixture(scope="module")
def trading_env(protocol_builder, owner, traders, chain, evm_factory, clawback_harness):
    protocol = protocol_builder(markets=2)
    ch = protocol.clearinghouse
    protocol.feeds[1].set_answer(PRICES[1], sender=owner)
    for market in (0, 1):
        ch.set_funding_params(market, FUNDING_PERIOD, MAX_PREMIUM, sender=owner)
    for account in traders:
        protocol.token.mint(account, 10**9 * UNIT, sender=account)
        protocol.token.approve(ch, 2**256 - 1, sender=account)
    # one driver per module: the events it decodes are the Clearinghouse's
    evm = evm_factory()
    return protocol, evm, clawback_harness


def fresh_model(protocol) -> ClearinghouseModel:
    """The model of the protocol as deployed by `trading_env` (no deposits yet)."""
    vault = protocol.vault
    model = ClearinghouseModel(decimals=6, vault=VaultModel(cooldown=vault.cooldown()))
    for market, answer in enumerate(PRICES):
        params = MarketParams(imr=IMR, mmr=MMR, funding_period=FUNDING_PERIOD, max_funding_premium=MAX_PREMIUM)
        model.add_market(params, answer * 10**10)
    return model


class TradingMachine(RuleBasedStateMachine):
    env = None  # (protocol, evm, Harness class, traders, chain), set by the test

    def __init__(self):
        super().__init__()
        protocol, evm, harness_cls, traders, chain = type(self).env
        self.chain = chain
        self.snapshot = chain.snapshot()
        self.model = fresh_model(protocol)
        self.h = harness_cls(protocol, evm, self.model, traders)
        self.traders = self.h.accounts

    def teardown(self):
        self.chain.restore(self.snapshot)

    # ------------------------------------------------------------------ helpers
    def now(self):
        return self.h.evm.next_timestamp()

    def free_notional(self, account, market):
        """Notional (base units) the account could add at initial margin, ignoring fees."""
        health = self.model.health(account, self.now())
        return max(0, health.equity - health.initial_margin) * WAD // self.model.markets[market].imr

    def size_for(self, notional, price):
        return notional * SCALE // price

    # ------------------------------------------------------------------ rules
    @initialize(amounts=st.lists(st.integers(1_000, 100_000), min_size=4, max_size=4))
    def fund(self, amounts):
        self.h.pass_time(1)  # re-stamp the feeds: the snapshot may be old in wall-clock time
        for account, amount in zip(self.traders, amounts):
            tx, _ = self.h.deposit(account, amount * UNIT)
            assert tx.ok

    @rule(who=trader_ids, amount=st.one_of(st.integers(1, 50_000 * UNIT), st.just(0)))
    def deposit(self, who, amount):
        tx, _ = self.h.deposit(self.traders[who], amount)
        assert tx.ok == (amount > 0)

    @rule(who=trader_ids, kind=st.sampled_from(["part", "all", "over", "zero"]), frac=per_mille)
    def withdraw(self, who, kind, frac):
        account = self.traders[who]
        free = self.model.max_withdrawable(account, self.now())
        amount = {"part": max(1, free * frac // 1000), "all": free, "over": free + 1 + free * frac // 1000,
                  "zero": 0}[kind]
        tx, _ = self.h.withdraw(account, amount)
        # valid exactly when 0 < amount <= min(settled collateral, equity - initial margin); an
        # invalid withdrawal must revert (and, checked by the invariants, change nothing)
        assert tx.ok == (0 < amount <= free)
        event("withdraw: " + ("ok" if tx.ok else tx.reason))

    @rule(maker=trader_ids, taker_offset=st.integers(1, 3), market=markets,
          kind=st.sampled_from(["open", "open", "reduce", "close", "flip"]),
          buy=st.booleans(), frac=per_mille, extra=st.integers(0, 3), bps=st.integers(-520, 520))
    def fill(self, maker, taker_offset, market, kind, buy, frac, extra, bps):
        """The maker signs an order that opens / reduces / closes / flips its position; the taker
        fills it (`extra` > 0 leaves part of the order unfilled)."""
        maker_addr, taker_addr = self.traders[maker], self.traders[(maker + taker_offset) % 4]
        price = self.model.prices[market]
        limit = price + price * bps // 10_000
        current = self.model.position_size(maker_addr, market)
        room = min(self.free_notional(maker_addr, market), self.free_notional(taker_addr, market))
        # up to 110 % of the margin room, so some fills fail initial margin
        fresh = max(1, self.size_for(room * frac * 11 // 10_000, limit))
        if kind == "open" or current == 0:
            maker_size = fresh if buy else -fresh
        elif kind == "reduce":
            maker_size = -(current * frac // 1000) or -current
        elif kind == "close":
            maker_size = -current
        else:  # flip: close and open the other way
            maker_size = -current - (fresh if current > 0 else -fresh)
        fill_size = abs(maker_size)
        order_size = maker_size + (extra * maker_size // 4)
        tx, _ = self.h.trade(taker_addr, maker_addr, market, order_size, limit, fill_size)
        if abs(limit - price) * WAD > price * self.model.markets[market].price_band:
            assert not tx.ok, "a fill outside the price band went through"
        event(f"fill {kind}: " + ("ok" if tx.ok else tx.reason))
        if tx.ok:
            # the fill moved exactly fill_size between the two accounts
            assert self.model.position_size(maker_addr, market) == current + maker_size

    @rule(market=markets, bps=st.integers(-200, 200))
    def move_price(self, market, bps):
        answer = self.h.answers[market]
        self.h.set_answer(market, max(1, answer + answer * bps // 10_000))

    @rule(seconds=st.one_of(st.integers(1, 600), st.integers(600, 6 * 3600)))
    def pass_time(self, seconds):
        self.h.pass_time(seconds)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def matches_model_and_design_invariants(self):
        readings = self.h.check_against_model(haircut=False)
        self.h.check_conservation(readings)
        self.h.check_balanced_book(readings)
        self.h.check_solvency(readings)


def test_trading_stateful(trading_env, traders, chain):
    protocol, evm, harness_cls = trading_env
    TradingMachine.env = (protocol, evm, harness_cls, traders, chain)
    run_state_machine_as_test(TradingMachine, settings=FUZZ_SETTINGS)


def test_model_detects_a_wrong_equity(trading_env, traders, chain):
    """The harness must notice when the contract and the model disagree by one base unit."""
    protocol, evm, harness_cls = trading_env
    snapshot = chain.snapshot()
    try:
        model = fresh_model(protocol)
        h = harness_cls(protocol, evm, model, traders)
        h.pass_time(1)
        maker, taker = h.accounts[0], h.accounts[1]
        for account in (maker, taker):
            assert h.deposit(account, 10_000 * UNIT)[0].ok
        price = model.prices[0]
        assert h.trade(taker, maker, 0, WAD // 10, price, WAD // 10)[0].ok
        h.pass_time(3600)
        h.check_against_model()  # in step
        model.collateral[maker] += 1  # a deliberately wrong equity: one base unit too much
        with pytest.raises(AssertionError, match="account"):
            h.check_against_model()
        model.collateral[maker] -= 1
        # and a wrongly predicted revert is caught too
        model.collateral[taker] += 10**12  # the model thinks the taker can withdraw a lot more
        with pytest.raises(AssertionError, match="contract reverted"):
            h.withdraw(taker, 10**6 * UNIT)
    finally:
        chain.restore(snapshot)


def test_model_reverts_leave_the_model_unchanged(trading_env):
    protocol, _, _ = trading_env
    model = fresh_model(protocol)
    model.transact("deposit", "0xA", 100 * UNIT, 1)
    before = (dict(model.collateral), model.token_balance)
    with pytest.raises(Revert, match="below initial margin"):
        # a 10x-leveraged open needs 10 % margin: 100 tokens cannot carry 2,000 of notional
        model.transact("trade", "0xB", "0xA", 0, WAD // 25, model.prices[0], WAD // 25, b"d", 10, 1)
    assert (dict(model.collateral), model.token_balance) == before
    assert model.position_size("0xA", 0) == 0 and model.filled == {}
