"""Account and market views: collateral, position_size, equity, initial/maintenance margin summed
over markets (each rounded up), is_liquidatable at its exact boundary, account_summary,
open_interest against the sum of longs and of shorts, treasury, index_price, funding_index,
funding_premium and market_params."""
import ape
import pytest

from support.drivers import fill, fund, set_feed
from support.model import (
    DEFAULT_FUNDING_PERIOD,
    DEFAULT_INSURANCE_FEE_SHARE,
    DEFAULT_MAKER_FEE,
    DEFAULT_TAKER_FEE,
    IMR,
    MMR,
    PRICE,
    WAD,
    fee,
    Ledger as Book,
    margin,
    notional,
    value,
)

UNIT = 10**6
BIG = 1_000_000 * UNIT
ETH = 3_000 * WAD
ETH_IMR, ETH_MMR = WAD // 5, WAD // 10


@pytest.fixture(scope="module")
def one(protocol, trader, maker, other, attacker, staker):
    """The default protocol with five funded accounts (the liquidator stays fresh)."""
    for account in (trader, maker, other, attacker, staker):
        fund(protocol, account, BIG)
    return protocol


@pytest.fixture(scope="module")
def two(protocol_builder, owner, trader, maker, other):
    """Two markets: 0 at 50,000 (imr 10 %, mmr 5 %), 1 at 3,000 (imr 20 %, mmr 10 %), no funding."""
    p = protocol_builder(markets=2)
    set_feed(p, ETH, market=1)
    p.clearinghouse.set_margins(1, ETH_IMR, ETH_MMR, sender=owner)
    for market in (0, 1):  # no funding: the views are checked to the base unit
        p.clearinghouse.set_funding_params(market, DEFAULT_FUNDING_PERIOD, 0, sender=owner)
    for account in (trader, maker, other):
        fund(p, account, BIG)
    return p


def test_fresh_account_views(one, liquidator):
    ch = one.clearinghouse
    assert ch.collateral(liquidator) == 0
    assert ch.equity(liquidator) == 0
    assert ch.position_size(liquidator, 0) == 0
    assert ch.initial_margin(liquidator) == 0
    assert ch.maintenance_margin(liquidator) == 0
    assert ch.is_liquidatable(liquidator) is False
    assert tuple(ch.account_summary(liquidator)) == (0, 0, 0, 0)


def test_cross_margin_views_sum_over_markets(two, trader, maker):
    ch = two.clearinghouse
    btc, eth = 123_456_789_012_345_678, -7_654_321_098_765_432_109
    # trader long BTC (maker sells) and short ETH (maker buys), at prices off the oracle
    btc_price, eth_price = PRICE + 37 * WAD, ETH - 11 * WAD
    fill(two, trader, maker, -btc, btc_price, market=0)
    fill(two, trader, maker, -eth, eth_price, market=1)
    # per-market ledgers (the Book tracks one market; run one per market and merge collateral)
    b0, b1 = Book(), Book()
    for b in (b0, b1):
        b.deposit(trader, 0)
        b.deposit(maker, 0)
    b0.fill(maker, trader, -btc, btc_price)
    b1.fill(maker, trader, -eth, eth_price)
    for account, size0, size1 in ((trader, btc, eth), (maker, -btc, -eth)):
        key = str(account)
        collateral = BIG + b0.collateral[key] + b1.collateral[key]
        equity = collateral + value(size0, PRICE) - b0.cost[key] + value(size1, ETH) - b1.cost[key]
        im = margin(size0, PRICE, IMR) + margin(size1, ETH, ETH_IMR)
        mm = margin(size0, PRICE, MMR) + margin(size1, ETH, ETH_MMR)
        assert ch.position_size(account, 0) == size0
        assert ch.position_size(account, 1) == size1
        assert ch.collateral(account) == collateral
        assert ch.equity(account) == equity
        assert ch.initial_margin(account) == im
        assert ch.maintenance_margin(account) == mm
        assert tuple(ch.account_summary(account)) == (collateral, equity, im, mm)
        assert ch.is_liquidatable(account) is False
    # each market's margin rounds up on its own
    assert margin(btc, PRICE, IMR) * WAD > btc * PRICE // 10**30 * IMR
    assert ch.open_interest(0) == btc
    assert ch.open_interest(1) == -eth


def test_views_follow_each_oracle(two, trader, maker):
    ch = two.clearinghouse
    fill(two, trader, maker, -WAD, PRICE, market=0)  # trader long 1 BTC
    fill(two, trader, maker, 10 * WAD, ETH, market=1)  # trader short 10 ETH
    equity = ch.equity(trader)
    set_feed(two, 3_100 * WAD, market=1)
    assert ch.equity(trader) == equity - 1_000 * UNIT
    set_feed(two, 50_400 * WAD, market=0)
    assert ch.equity(trader) == equity - 1_000 * UNIT + 400 * UNIT
    assert ch.initial_margin(trader) == margin(WAD, 50_400 * WAD, IMR) + margin(10 * WAD, 3_100 * WAD, ETH_IMR)
    assert ch.maintenance_margin(trader) == margin(WAD, 50_400 * WAD, MMR) + margin(10 * WAD, 3_100 * WAD, ETH_MMR)


def test_is_liquidatable_exactly_at_the_maintenance_margin(one, trader, maker):
    """trader: long 1 at 50,000 with 5,375 deposited. At 47,000 its equity is
    5,375 - 25 (fee) - 3,000 = 2,350 = 5 % of 47,000: not liquidatable (equity < mm is)."""
    protocol = one
    ch = protocol.clearinghouse
    ch.withdraw(BIG - 5_375 * UNIT, sender=trader)
    fill(protocol, trader, maker, -WAD, PRICE)
    set_feed(protocol, 47_000 * WAD)
    equity = 5_375 * UNIT - fee(notional(WAD, PRICE), DEFAULT_TAKER_FEE) + value(WAD, 47_000 * WAD) - notional(WAD, PRICE)
    assert ch.equity(trader) == equity == margin(WAD, 47_000 * WAD, MMR) == ch.maintenance_margin(trader)
    assert ch.is_liquidatable(trader) is False
    # one feed unit (1e-8) lower: equity drops by one base unit, the margin stays
    low = 47_000 * WAD - 10**10
    set_feed(protocol, low)
    assert ch.equity(trader) == 5_375 * UNIT - 25 * UNIT + value(WAD, low) - notional(WAD, PRICE) == equity - 1
    assert ch.maintenance_margin(trader) == margin(WAD, low, MMR) == equity
    assert ch.is_liquidatable(trader) is True
    # the short side is far from it
    assert ch.is_liquidatable(maker) is False


def test_account_summary_matches_the_single_views(one, trader, maker):
    protocol = one
    ch = protocol.clearinghouse
    fill(protocol, trader, maker, 777_777_777_777_777_777, PRICE + 999 * WAD)
    set_feed(protocol, 51_234 * WAD)
    for account in (trader, maker):
        summary = ch.account_summary(account)
        assert summary.collateral == ch.collateral(account)
        assert summary.equity == ch.equity(account)
        assert summary.initial_margin == ch.initial_margin(account)
        assert summary.maintenance_margin == ch.maintenance_margin(account)
    assert ch.account_summary(maker).equity != ch.account_summary(maker).collateral


def test_open_interest_equals_sum_of_longs_and_sum_of_shorts(one, trader, maker, other, attacker, staker):
    protocol = one
    ch = protocol.clearinghouse
    accounts = (trader, maker, other, attacker, staker)
    fills = [
        (maker, trader, 3 * WAD + 1),  # (maker, taker, maker's size)
        (other, attacker, -(2 * WAD + 7)),
        (staker, maker, WAD // 3),  # maker shorts against its long: reduces it
        (trader, other, -(5 * WAD)),  # trader adds to its short; other flips from short to long
        (attacker, staker, 11),
    ]
    for maker_, taker_, size in fills:
        fill(protocol, taker_, maker_, size, PRICE)
        sizes = [ch.position_size(a, 0) for a in accounts]
        longs = sum(s for s in sizes if s > 0)
        shorts = -sum(s for s in sizes if s < 0)
        assert ch.open_interest(0) == longs == shorts
    assert ch.open_interest(0) > 0
    # everyone hands its position to the staker: the book nets out and open interest is zero
    for account in accounts:
        size = ch.position_size(account, 0)
        if account != staker and size != 0:
            fill(protocol, account, staker, size, PRICE)
    assert [ch.position_size(a, 0) for a in accounts] == [0] * len(accounts)
    assert ch.open_interest(0) == 0


def test_treasury_counts_unswept_and_protocol_fees(one, owner, trader, maker, other):
    protocol = one
    ch = protocol.clearinghouse
    fees = 0
    for size in (123_456_789_012_345_678, -(WAD // 7)):
        fill(protocol, trader, maker, size, PRICE)
        n = notional(size, PRICE)
        fees += fee(n, DEFAULT_MAKER_FEE) + fee(n, DEFAULT_TAKER_FEE)
        assert ch.treasury() == fees
    ch.sweep_fees(sender=other)
    to_vault = fees * DEFAULT_INSURANCE_FEE_SHARE // WAD
    assert ch.treasury() == fees - to_vault == ch.protocol_fees()
    ch.withdraw_protocol_fees(owner, ch.protocol_fees(), sender=owner)
    assert ch.treasury() == 0


def test_index_price_funding_index_and_premium_of_a_fresh_market(protocol):
    ch = protocol.clearinghouse
    assert ch.index_price(0) == PRICE
    assert ch.funding_index(0) == 0
    assert ch.funding_premium(0) == 0
    set_feed(protocol, 12_345_678_901_234 * 10**10)
    assert ch.index_price(0) == 12_345_678_901_234 * 10**10


@pytest.mark.parametrize("view", ["index_price", "funding_index", "market_params"])
def test_market_views_reject_unknown_markets(protocol, view):
    with ape.reverts("registry: unknown market"):
        getattr(protocol.clearinghouse, view)(1)


def test_market_params_reflect_the_setters(protocol, owner):
    ch = protocol.clearinghouse
    ch.set_margins(0, WAD // 3, WAD // 6, sender=owner)
    ch.set_fees(0, 7, 3, sender=owner)
    ch.set_price_band(0, WAD // 100, sender=owner)
    ch.set_liquidation_params(0, WAD // 50, WAD // 4, WAD // 3, sender=owner)
    ch.set_funding_params(0, 600, 10**16, sender=owner)
    ch.set_max_open_interest(0, 42 * WAD, sender=owner)
    p = ch.market_params(0)
    assert p.feed == protocol.feeds[0].address
    assert (p.imr, p.mmr, p.taker_fee, p.maker_fee) == (WAD // 3, WAD // 6, 7, 3)
    assert (p.liquidation_penalty, p.liquidator_share, p.close_factor, p.price_band) == (WAD // 50, WAD // 4, WAD // 3, WAD // 100)
    assert (p.max_price_age, p.funding_period, p.max_funding_premium, p.price_multiplier) == (3600, 600, 10**16, 10**10)
    assert p.max_open_interest == 42 * WAD
