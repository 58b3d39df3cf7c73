"""Trades and PnL: open / increase / reduce / flip / close with exact collateral and equity from
clearing.vy's accounting model (support.model.Ledger), realized PnL rounded down against the exact
rational PnL, fees rounded up and their treasury accounting, the price band edges, the
open-interest cap, both sides' initial margin, reduce-only fills and the pause.

Funding is switched off in this module (premium cap 0) so PnL can be checked to the base unit;
test_funding.py covers it."""
from fractions import Fraction

import ape
import pytest

from support.drivers import events, fill, fund, quote, set_feed
from support.model import (
    DEFAULT_FUNDING_PERIOD,
    DEFAULT_MAKER_FEE,
    DEFAULT_PRICE_BAND,
    DEFAULT_TAKER_FEE,
    IMR,
    MMR,
    PRICE,
    WAD,
    ceil_div,
    conservation_gap,
    fee,
    Ledger as Book,
    margin,
    notional,
    scale,
    value,
)

UNIT = 10**6
BIG = 1_000_000 * UNIT
SCALE = scale(6)
S1 = 123_456_789_012_345_678  # 0.123456789012345678 base units
P1 = 50_010_123_456_789_012_345_678  # 50,010.123456789012345678
MARK = 50_321_123_456_780_000_000_000  # an 8-decimal oracle price


@pytest.fixture(scope="module")
def market(protocol, owner, trader, maker):
    ch = protocol.clearinghouse
    ch.set_funding_params(0, DEFAULT_FUNDING_PERIOD, 0, sender=owner)  # no funding in this module
    fund(protocol, trader, BIG)
    fund(protocol, maker, BIG)
    return protocol


@pytest.fixture
def book(trader, maker):
    ledger = Book()
    ledger.deposit(trader, BIG)
    ledger.deposit(maker, BIG)
    return ledger


def check_accounts(ch, book, accounts, mark):
    for account in accounts:
        key = str(account)
        assert ch.position_size(account, 0) == book.size[key]
        assert ch.collateral(account) == book.collateral[key]
        assert ch.equity(account) == book.equity(account, mark)


def realized(book_before_collateral, book_after_collateral, paid_fee):
    return book_after_collateral - book_before_collateral + paid_fee


# ---------------------------------------------------------------- open / increase / reduce / flip / close


def test_open(market, trader, maker, book):
    ch = market.clearinghouse
    receipt = fill(market, trader, maker, S1, P1)  # maker buys S1, trader sells
    maker_fee, taker_fee = book.fill(maker, trader, S1, P1)
    n = notional(S1, P1)
    assert maker_fee == ceil_div(n * DEFAULT_MAKER_FEE, WAD)
    assert taker_fee == ceil_div(n * DEFAULT_TAKER_FEE, WAD)
    logged = events(ch.Trade, receipt)[0]
    assert (logged.maker_fee, logged.taker_fee) == (maker_fee, taker_fee)
    # opening realizes nothing: collateral is the deposit minus the fee
    assert ch.collateral(maker) == BIG - maker_fee
    assert ch.collateral(trader) == BIG - taker_fee
    # equity = collateral + floor(size * oracle / SCALE) - cost
    assert ch.equity(maker) == BIG - maker_fee + value(S1, PRICE) - n
    assert ch.equity(trader) == BIG - taker_fee + value(-S1, PRICE) + n
    check_accounts(ch, book, [maker, trader], PRICE)
    assert ch.open_interest(0) == S1
    assert ch.treasury() == maker_fee + taker_fee

    # the mark moves: equity follows, collateral does not
    set_feed(market, MARK)
    check_accounts(ch, book, [maker, trader], MARK)
    # unrealized PnL: floor(size * mark / SCALE) - floor(size * entry / SCALE), within a unit of exact
    exact = Fraction(S1 * (MARK - P1), SCALE)
    unrealized = ch.equity(maker) - ch.collateral(maker)
    assert abs(unrealized - exact) < 1
    assert ch.equity(trader) - ch.collateral(trader) == value(-S1, MARK) + n
    assert 0 <= conservation_gap(market, [maker, trader]) <= 2


def test_increase_adds_to_cost_without_realizing(market, trader, maker, book):
    ch = market.clearinghouse
    s2, p2 = 987_654_321_098_765_432, 49_876_543_210_987_654_321_098
    fill(market, trader, maker, S1, P1)
    fill(market, trader, maker, s2, p2)
    fees1 = book.fill(maker, trader, S1, P1)
    fees2 = book.fill(maker, trader, s2, p2)
    assert book.cost[str(maker)] == notional(S1, P1) + notional(s2, p2)
    assert ch.collateral(maker) == BIG - fees1[0] - fees2[0]
    assert ch.collateral(trader) == BIG - fees1[1] - fees2[1]
    check_accounts(ch, book, [maker, trader], PRICE)
    assert ch.position_size(maker, 0) == S1 + s2
    assert ch.open_interest(0) == S1 + s2
    assert ch.treasury() == book.fees


def test_reduce_realizes_pro_rata_pnl_rounded_down(market, trader, maker, book):
    ch = market.clearinghouse
    size = 3 * WAD + 333_333_333_333_333_333
    reduce_by, p3 = 1_234_567_890_123_456_789, 51_987_654_321_000_000_000_001
    fill(market, trader, maker, size, P1)
    book.fill(maker, trader, size, P1)
    maker_before, trader_before = book.collateral[str(maker)], book.collateral[str(trader)]
    cost_maker, cost_trader = book.cost[str(maker)], book.cost[str(trader)]

    fill(market, trader, maker, -reduce_by, p3)  # maker sells part back, trader buys back
    maker_fee, taker_fee = book.fill(maker, trader, -reduce_by, p3)
    check_accounts(ch, book, [maker, trader], PRICE)
    assert ch.position_size(maker, 0) == size - reduce_by
    assert ch.position_size(trader, 0) == -(size - reduce_by)
    assert ch.open_interest(0) == size - reduce_by

    # realized PnL = signed fill notional - the pro-rata cost of the closed part; the pro-rata
    # cost is taken rounded up (the remaining cost rounded down): never more than exact
    n3 = notional(reduce_by, p3)
    maker_realized = ch.collateral(maker) - maker_before + maker_fee
    maker_exact = n3 - Fraction(cost_maker * reduce_by, size)
    assert maker_realized <= maker_exact < maker_realized + 1
    assert maker_realized > 0  # sold above the entry price
    trader_realized = ch.collateral(trader) - trader_before + taker_fee
    trader_exact = -n3 - Fraction(cost_trader * reduce_by, size)
    assert trader_realized <= trader_exact < trader_realized + 1
    assert trader_realized < 0
    # and within two units of the PnL at exact prices
    assert abs(maker_realized - (Fraction(reduce_by * p3, SCALE) - Fraction(cost_maker * reduce_by, size))) < 2
    assert ch.treasury() == book.fees
    assert 0 <= conservation_gap(market, [maker, trader]) <= 2


def test_flip_realizes_the_closed_part_and_reprices_the_new_side(market, trader, maker, book):
    ch = market.clearinghouse
    size, extra = 2 * WAD + 1, 777_777_777_777_777_777
    p4 = 48_123_456_789_123_456_789_123
    fill(market, trader, maker, size, P1)
    book.fill(maker, trader, size, P1)
    maker_before, cost_maker = book.collateral[str(maker)], book.cost[str(maker)]

    fill(market, trader, maker, -(size + extra), p4)  # maker sells through zero
    maker_fee, _ = book.fill(maker, trader, -(size + extra), p4)
    check_accounts(ch, book, [maker, trader], PRICE)
    assert ch.position_size(maker, 0) == -extra
    assert ch.position_size(trader, 0) == extra
    assert ch.open_interest(0) == extra
    # the new short's cost basis is its notional at the fill price, rounded down
    assert book.cost[str(maker)] == (-extra * p4) // SCALE
    maker_realized = ch.collateral(maker) - maker_before + maker_fee
    maker_exact = Fraction(size * p4, SCALE) - cost_maker
    assert maker_realized <= maker_exact < maker_realized + 2
    assert maker_realized < 0  # sold below the entry price
    assert ch.treasury() == book.fees


def test_close_realizes_everything(market, trader, maker, book):
    ch = market.clearinghouse
    size, p5 = 1_500_000_000_000_000_007, 52_345_678_901_234_567_890_123
    fill(market, trader, maker, size, P1)
    book.fill(maker, trader, size, P1)
    maker_before, cost_maker = book.collateral[str(maker)], book.cost[str(maker)]
    fill(market, trader, maker, -size, p5)
    maker_fee, _ = book.fill(maker, trader, -size, p5)
    check_accounts(ch, book, [maker, trader], PRICE)
    assert ch.position_size(maker, 0) == 0
    assert ch.position_size(trader, 0) == 0
    assert ch.open_interest(0) == 0
    # a flat account's equity is its collateral
    assert ch.equity(maker) == ch.collateral(maker)
    assert ch.equity(trader) == ch.collateral(trader)
    maker_realized = ch.collateral(maker) - maker_before + maker_fee
    assert maker_realized == notional(size, p5) - cost_maker
    assert maker_realized <= Fraction(size * p5, SCALE) - cost_maker < maker_realized + 1
    # the two sides' realized PnL cancel exactly: only fees left the accounts
    assert ch.collateral(maker) + ch.collateral(trader) + ch.treasury() == 2 * BIG
    assert market.token.balanceOf(ch) == 2 * BIG
    assert ch.initial_margin(maker) == 0 and ch.maintenance_margin(maker) == 0


def test_fill_at_the_oracle_price_moves_equity_by_the_fee_only(market, trader, maker, book):
    ch = market.clearinghouse
    fill(market, trader, maker, S1, P1)
    book.fill(maker, trader, S1, P1)
    before = {a: ch.equity(a) for a in (maker, trader)}
    fill(market, trader, maker, -(S1 // 3), PRICE)  # reduce at the oracle price
    maker_fee, taker_fee = book.fill(maker, trader, -(S1 // 3), PRICE)
    check_accounts(ch, book, [maker, trader], PRICE)
    # realizing PnL does not move equity; a fill at the mark costs the fee (and <= 1 unit of
    # rounding, which moves between the two sides: their sum loses exactly the fees or one more)
    assert abs(before[maker] - maker_fee - ch.equity(maker)) <= 1
    assert abs(before[trader] - taker_fee - ch.equity(trader)) <= 1
    lost = before[maker] + before[trader] - ch.equity(maker) - ch.equity(trader)
    assert maker_fee + taker_fee <= lost <= maker_fee + taker_fee + 1


# ---------------------------------------------------------------- fees


def test_fees_round_up_and_accumulate_in_treasury(market, owner, trader, maker, book):
    ch = market.clearinghouse
    taker_rate, maker_rate = 3 * 10**14 + 7, 10**14 + 3
    ch.set_fees(0, taker_rate, maker_rate, sender=owner)
    book.taker_fee, book.maker_fee = taker_rate, maker_rate
    total = 0
    for size, price in [(S1, P1), (-(S1 // 2), PRICE), (7, PRICE)]:
        receipt = fill(market, trader, maker, size, price)
        maker_fee, taker_fee = book.fill(maker, trader, size, price)
        n = notional(size, price)
        assert maker_fee >= Fraction(n * maker_rate, WAD) > maker_fee - 1
        assert taker_fee >= Fraction(n * taker_rate, WAD) > taker_fee - 1
        logged = events(ch.Trade, receipt)[0]
        assert (logged.maker_fee, logged.taker_fee) == (maker_fee, taker_fee)
        total += maker_fee + taker_fee
        assert ch.treasury() == total
    check_accounts(ch, book, [maker, trader], PRICE)
    # a dust fill with zero notional pays no fee
    assert notional(7, PRICE) == 0


def test_zero_fees(market, owner, trader, maker):
    ch = market.clearinghouse
    ch.set_fees(0, 0, 0, sender=owner)
    receipt = fill(market, trader, maker, S1, PRICE)
    logged = events(ch.Trade, receipt)[0]
    assert (logged.maker_fee, logged.taker_fee) == (0, 0)
    assert ch.treasury() == 0
    assert ch.collateral(maker) == BIG


def test_fees_on_a_maximum_fee_market(market, owner, trader, maker, book):
    ch = market.clearinghouse
    ch.set_fees(0, 10**16, 10**16, sender=owner)
    book.taker_fee = book.maker_fee = 10**16
    fill(market, trader, maker, S1, P1)
    maker_fee, taker_fee = book.fill(maker, trader, S1, P1)
    assert maker_fee == taker_fee == ceil_div(notional(S1, P1), 100)
    check_accounts(ch, book, [maker, trader], PRICE)


# ---------------------------------------------------------------- price band


@pytest.mark.parametrize("side", [1, -1])
def test_fill_exactly_at_the_band_edge_passes(market, trader, maker, side):
    ch = market.clearinghouse
    edge = PRICE + side * PRICE * DEFAULT_PRICE_BAND // WAD
    assert (PRICE * DEFAULT_PRICE_BAND) % WAD == 0  # 2,500 exactly
    fill(market, trader, maker, S1, edge)
    assert ch.position_size(maker, 0) == S1


@pytest.mark.parametrize("side", [1, -1])
def test_fill_one_wei_outside_the_band_reverts(market, trader, maker, side):
    edge = PRICE + side * PRICE * DEFAULT_PRICE_BAND // WAD
    order, signature = quote(market, maker, S1, edge + side)
    with ape.reverts("trade: price outside band"):
        market.clearinghouse.trade(order.as_tuple(), signature, S1, sender=trader)


def test_band_edge_with_an_inexact_product(market, owner, trader, maker):
    ch = market.clearinghouse
    band = 33_333_333_333_333_333  # ~3.33 %
    set_feed(market, MARK)
    ch.set_price_band(0, band, sender=owner)
    reach = MARK * band // WAD  # largest deviation with deviation * 1e18 <= price * band
    assert (MARK * band) % WAD != 0
    for price in (MARK + reach + 1, MARK - reach - 1):
        order, signature = quote(market, maker, S1, price)
        with ape.reverts("trade: price outside band"):
            ch.trade(order.as_tuple(), signature, S1, sender=trader)
    fill(market, trader, maker, S1, MARK + reach)
    fill(market, trader, maker, -S1, MARK - reach)
    assert ch.position_size(maker, 0) == 0


def test_band_follows_the_oracle(market, trader, maker):
    ch = market.clearinghouse
    set_feed(market, 40_000 * WAD)
    order, signature = quote(market, maker, S1, PRICE)  # 25 % above the new oracle
    with ape.reverts("trade: price outside band"):
        ch.trade(order.as_tuple(), signature, S1, sender=trader)
    fill(market, trader, maker, S1, 42_000 * WAD)  # exactly 5 % above
    assert ch.position_size(maker, 0) == S1


# ---------------------------------------------------------------- open-interest cap


def test_open_interest_cap_edge(market, owner, trader, maker):
    ch = market.clearinghouse
    cap = 3 * WAD // 10 + 5
    ch.set_max_open_interest(0, cap, sender=owner)
    fill(market, trader, maker, cap - 1, PRICE)
    fill(market, trader, maker, 1, PRICE)  # exactly at the cap
    assert ch.open_interest(0) == cap
    order, signature = quote(market, maker, 1, PRICE)
    with ape.reverts("trade: open interest cap"):
        ch.trade(order.as_tuple(), signature, 1, sender=trader)


def test_fills_that_lower_open_interest_pass_above_the_cap(market, owner, trader, maker):
    ch = market.clearinghouse
    fill(market, trader, maker, 3 * WAD // 10, PRICE)
    ch.set_max_open_interest(0, WAD // 10, sender=owner)  # now below the open interest
    fill(market, trader, maker, -(WAD // 10), PRICE)  # both reduce
    assert ch.open_interest(0) == 2 * WAD // 10
    order, signature = quote(market, maker, 1, PRICE)
    with ape.reverts("trade: open interest cap"):
        ch.trade(order.as_tuple(), signature, 1, sender=trader)


def test_fill_that_keeps_open_interest_passes_above_the_cap(market, owner, trader, maker, other):
    ch = market.clearinghouse
    fund(market, other, BIG)
    fill(market, trader, maker, 3 * WAD // 10, PRICE)  # maker long 0.3
    ch.set_max_open_interest(0, WAD // 10, sender=owner)
    # the maker hands 0.1 of its long to `other`: longs move, open interest does not
    fill(market, other, maker, -(WAD // 10), PRICE)
    assert ch.open_interest(0) == 3 * WAD // 10
    assert ch.position_size(other, 0) == WAD // 10
    assert ch.position_size(maker, 0) == 2 * WAD // 10


# ---------------------------------------------------------------- initial margin on both sides


def test_taker_needs_initial_margin(market, trader, maker, other):
    """`other` buys as taker from the well-funded maker; its deposit is exactly IM + fee."""
    ch = market.clearinghouse
    n = notional(S1, PRICE)
    taker_fee = fee(n, DEFAULT_TAKER_FEE)
    im = margin(S1, PRICE, IMR)
    # long at the oracle: equity = deposit - fee + floor(S1 * P / SCALE) - n
    needed = im + taker_fee - value(S1, PRICE) + n
    fund(market, other, needed - 1)
    order, signature = quote(market, maker, -S1, PRICE)
    with ape.reverts("trade: below initial margin"):
        ch.trade(order.as_tuple(), signature, S1, sender=other)
    fund(market, other, 1)
    ch.trade(order.as_tuple(), signature, S1, sender=other)
    assert ch.equity(other) == im
    assert ch.initial_margin(other) == im


def test_maker_needs_initial_margin(market, trader, attacker):
    """`attacker` sells as maker to the well-funded trader; its deposit is exactly IM + fee."""
    ch = market.clearinghouse
    n = notional(S1, PRICE)
    maker_fee = fee(n, DEFAULT_MAKER_FEE)
    im = margin(-S1, PRICE, IMR)
    # short at the oracle: equity = deposit - fee + floor(-S1 * P / SCALE) + n
    needed = im + maker_fee - value(-S1, PRICE) - n
    fund(market, attacker, needed - 1)
    order, signature = quote(market, attacker, -S1, PRICE)
    with ape.reverts("trade: below initial margin"):
        ch.trade(order.as_tuple(), signature, S1, sender=trader)
    fund(market, attacker, 1)
    ch.trade(order.as_tuple(), signature, S1, sender=trader)
    assert ch.equity(attacker) == im
    assert ch.position_size(attacker, 0) == -S1


def test_initial_margin_counts_an_adverse_fill_price(market, trader, other):
    """Buying 5 % above the oracle is an immediate unrealized loss that the margin must cover."""
    ch = market.clearinghouse
    price = PRICE + PRICE // 20
    n = notional(WAD, price)
    needed = margin(WAD, PRICE, IMR) + fee(n, DEFAULT_TAKER_FEE) + n - value(WAD, PRICE)
    fund(market, other, needed - 1)
    order, signature = quote(market, trader, -WAD, price)  # trader (maker) sells high
    with ape.reverts("trade: below initial margin"):
        ch.trade(order.as_tuple(), signature, WAD, sender=other)
    fund(market, other, 1)
    ch.trade(order.as_tuple(), signature, WAD, sender=other)
    assert ch.equity(other) == ch.initial_margin(other) == margin(WAD, PRICE, IMR)


# ---------------------------------------------------------------- reduce-only fills


@pytest.fixture
def underwater(market, maker, other):
    """`other`: 6,000 deposited, long 1 at 50,000, then the oracle falls to 44,100:
    equity 75 tokens, far below its initial (4,410) and maintenance (2,205) margin."""
    fund(market, other, 6_000 * UNIT)
    fill(market, other, maker, -WAD, PRICE)  # maker sells 1 to other
    set_feed(market, 44_100 * WAD)
    ch = market.clearinghouse
    equity = 6_000 * UNIT - fee(notional(WAD, PRICE), DEFAULT_TAKER_FEE) + value(WAD, 44_100 * WAD) - notional(WAD, PRICE)
    assert ch.equity(other) == equity == 75 * UNIT
    assert ch.initial_margin(other) == margin(WAD, 44_100 * WAD, IMR)
    assert ch.maintenance_margin(other) == margin(WAD, 44_100 * WAD, MMR)
    assert ch.is_liquidatable(other)
    return other


def test_increasing_fill_below_initial_margin_reverts(market, maker, underwater):
    order, signature = quote(market, maker, -(WAD // 100), 44_100 * WAD)
    with ape.reverts("trade: below initial margin"):
        market.clearinghouse.trade(order.as_tuple(), signature, WAD // 100, sender=underwater)


def test_flip_below_initial_margin_reverts(market, maker, underwater):
    order, signature = quote(market, maker, 2 * WAD, 44_100 * WAD)  # maker buys 2: other flips short
    with ape.reverts("trade: below initial margin"):
        market.clearinghouse.trade(order.as_tuple(), signature, 2 * WAD, sender=underwater)


def test_reduce_only_fill_allowed_below_initial_margin(market, maker, underwater):
    ch = market.clearinghouse
    mark = 44_100 * WAD
    equity = ch.equity(underwater)
    fill(market, underwater, maker, WAD // 2, mark)  # maker buys half of other's long at the oracle
    fee_paid = fee(notional(WAD // 2, mark), DEFAULT_TAKER_FEE)
    assert ch.position_size(underwater, 0) == WAD // 2
    assert ch.equity(underwater) == equity - fee_paid
    assert ch.equity(underwater) < ch.initial_margin(underwater)
    # closing the rest is allowed as well
    fill(market, underwater, maker, WAD // 2, mark)
    assert ch.position_size(underwater, 0) == 0
    assert ch.equity(underwater) == ch.collateral(underwater) == equity - 2 * fee_paid


def test_reduce_only_fill_cannot_leave_negative_equity(market, maker, underwater):
    ch = market.clearinghouse
    low = 44_100 * WAD * 95 // 100  # at the band's lower edge: realizes 5 % more loss
    order, signature = quote(market, maker, WAD // 2, low)
    with ape.reverts("trade: fill would leave the account bankrupt"):
        ch.trade(order.as_tuple(), signature, WAD // 2, sender=underwater)
    assert ch.position_size(underwater, 0) == WAD


# ---------------------------------------------------------------- pause


@pytest.fixture
def paused_with_positions(market, owner, guardian, trader, maker):
    ch = market.clearinghouse
    fill(market, trader, maker, -WAD, PRICE)  # trader long 1, maker short 1
    ch.set_guardian(guardian, sender=owner)
    ch.pause(sender=guardian)
    return market


def test_paused_blocks_increasing_fills(paused_with_positions, trader, maker):
    order, signature = quote(paused_with_positions, maker, -WAD, PRICE)  # both would add
    with ape.reverts("trade: paused"):
        paused_with_positions.clearinghouse.trade(order.as_tuple(), signature, WAD, sender=trader)


def test_paused_blocks_opening_fills(paused_with_positions, other, attacker):
    fund(paused_with_positions, other, BIG)
    fund(paused_with_positions, attacker, BIG)
    order, signature = quote(paused_with_positions, attacker, WAD, PRICE)
    with ape.reverts("trade: paused"):
        paused_with_positions.clearinghouse.trade(order.as_tuple(), signature, WAD, sender=other)


def test_paused_blocks_a_fill_where_one_side_increases(paused_with_positions, trader, other):
    fund(paused_with_positions, other, BIG)
    # trader reduces its long, but `other` would open a new one
    order, signature = quote(paused_with_positions, other, WAD // 2, PRICE)
    with ape.reverts("trade: paused"):
        paused_with_positions.clearinghouse.trade(order.as_tuple(), signature, WAD // 2, sender=trader)


def test_paused_blocks_a_flip(paused_with_positions, trader, maker):
    order, signature = quote(paused_with_positions, maker, 2 * WAD, PRICE)  # both flip
    with ape.reverts("trade: paused"):
        paused_with_positions.clearinghouse.trade(order.as_tuple(), signature, 2 * WAD, sender=trader)


def test_paused_allows_reducing_and_closing_fills(paused_with_positions, trader, maker):
    ch = paused_with_positions.clearinghouse
    fill(paused_with_positions, trader, maker, WAD // 4, PRICE)  # maker buys back, trader sells
    assert ch.position_size(trader, 0) == 3 * WAD // 4
    fill(paused_with_positions, trader, maker, 3 * WAD // 4, PRICE)
    assert ch.position_size(trader, 0) == 0
    assert ch.position_size(maker, 0) == 0
    assert ch.open_interest(0) == 0


def test_unpause_allows_new_risk_again(paused_with_positions, guardian, trader, maker):
    ch = paused_with_positions.clearinghouse
    ch.unpause(sender=guardian)
    fill(paused_with_positions, trader, maker, -WAD, PRICE)
    assert ch.position_size(trader, 0) == 2 * WAD
