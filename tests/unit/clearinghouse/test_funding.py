"""Funding: a premium from each fill's price over the oracle (capped, blended into the previous
premium by the fill's size against the open interest), decaying linearly to zero without
fills (by 2 * cap per funding period), accrued lazily through a cumulative per-market index
(the area under the decaying premium), paid by longs to shorts when positive. Payers round up,
receivers down, so the sum paid is never below the sum received. Reference arithmetic:
tests/support/funding.py.

The oracle's staleness limit is raised to 7 days in this module so hours can pass between
transactions without refreshing the feed."""
import ape
import pytest

from support.drivers import block_time, events, fill, fund, mine_at, next_tx_at, set_feed
from support.funding import advance, blend, total_index
from support.model import (
    DEFAULT_FUNDING_PERIOD,
    DEFAULT_MAX_FUNDING_PREMIUM,
    PRICE,
    WAD,
    conservation_gap,
    fill_premium,
    funding_owed,
    Ledger as Book,
)

UNIT = 10**6
BIG = 1_000_000 * UNIT
SIZE = 1_234_567_890_123_456_789
ABOVE = PRICE + PRICE // 1000  # 0.1 % above the oracle: premium 1e15
HOUR = 3600
CAP = DEFAULT_MAX_FUNDING_PREMIUM
PERIOD = DEFAULT_FUNDING_PERIOD


def index_step(premium, price, elapsed, period=PERIOD, cap=CAP):
    """The index accrued over `elapsed` seconds without fills, from `premium`."""
    return advance(0, premium, elapsed, price, cap, period)[0]


def decayed(premium, elapsed, period=PERIOD, cap=CAP):
    """The premium `elapsed` seconds later without fills."""
    return advance(0, premium, elapsed, PRICE, cap, period)[1]


@pytest.fixture(scope="module")
def market(protocol, owner, trader, maker, other, attacker, staker, liquidator):
    ch = protocol.clearinghouse
    ch.set_oracle(0, protocol.feeds[0], 7 * 86400, sender=owner)
    for account in (trader, maker, other, attacker, staker, liquidator):
        fund(protocol, account, BIG)
    return protocol


@pytest.fixture(scope="module")
def everyone(trader, maker, other, attacker, staker, liquidator):
    return (trader, maker, other, attacker, staker, liquidator)


@pytest.fixture(scope="module")
def ch(market):
    return market.clearinghouse


def test_fill_above_the_oracle_sets_a_positive_premium(market, ch, trader, maker):
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    # the market's first fill has the whole weight: it sets the premium to its own
    expected = blend(0, fill_premium(ABOVE, PRICE), SIZE, 0)
    assert fill_premium(ABOVE, PRICE) == 10**15
    assert ch.funding_premium(0) == expected == 10**15
    logged = events(ch.Funding, receipt)
    assert len(logged) == 1
    assert (logged[0].market, logged[0].index, logged[0].premium) == (0, 0, expected)
    # nothing has accrued yet
    assert ch.funding_index(0) == 0


def test_fill_below_the_oracle_sets_a_negative_premium(market, ch, trader, maker):
    below = PRICE - PRICE // 400  # 0.25 % below
    fill(market, trader, maker, SIZE, below)
    assert ch.funding_premium(0) == blend(0, fill_premium(below, PRICE), SIZE, 0) == -(25 * 10**14)


def test_fill_at_the_oracle_sets_no_premium_and_no_funding(market, ch, chain, trader, maker):
    receipt = fill(market, trader, maker, SIZE, PRICE)
    assert ch.funding_premium(0) == 0
    assert events(ch.Funding, receipt) == []
    before = (ch.equity(maker), ch.equity(trader))
    mine_at(chain, block_time(chain, receipt) + 10 * HOUR)
    assert ch.funding_index(0) == 0
    assert (ch.equity(maker), ch.equity(trader)) == before


def test_longs_pay_shorts_when_the_premium_is_positive(market, ch, chain, trader, maker, everyone):
    receipt = fill(market, trader, maker, SIZE, ABOVE)  # maker long, trader short
    t0 = block_time(chain, receipt)
    premium = ch.funding_premium(0)
    long_before, short_before = ch.equity(maker), ch.equity(trader)
    long_collateral, short_collateral = ch.collateral(maker), ch.collateral(trader)

    for elapsed in (HOUR, 5 * HOUR + 17):
        mine_at(chain, t0 + elapsed)
        index = index_step(premium, PRICE, elapsed)
        assert ch.funding_index(0) == index
        paid = funding_owed(SIZE, index)  # long: rounded up
        received = -funding_owed(-SIZE, index)  # short: rounded down
        assert paid > 0
        assert ch.equity(maker) == long_before - paid
        assert ch.equity(trader) == short_before + received
        # pending funding is part of the settled balance as well
        assert ch.collateral(maker) == long_collateral - paid
        assert ch.collateral(trader) == short_collateral + received
        # same amount to within rounding, in the protocol's favour
        assert 0 <= paid - received <= 1
        assert 0 <= conservation_gap(market, everyone) <= 3


def test_shorts_pay_longs_when_the_premium_is_negative(market, ch, chain, trader, maker):
    below = PRICE - PRICE // 500  # 0.2 % below
    receipt = fill(market, trader, maker, SIZE, below)  # maker long, trader short
    t0 = block_time(chain, receipt)
    premium = blend(0, fill_premium(below, PRICE), SIZE, 0)
    assert premium < 0
    long_before, short_before = ch.equity(maker), ch.equity(trader)
    mine_at(chain, t0 + 3 * HOUR)
    index = index_step(premium, PRICE, 3 * HOUR)
    assert index < 0
    assert ch.funding_index(0) == index
    received = -funding_owed(SIZE, index)  # long receives, rounded down
    paid = funding_owed(-SIZE, index)  # short pays, rounded up
    assert ch.equity(maker) == long_before + received
    assert ch.equity(trader) == short_before - paid
    assert 0 <= paid - received <= 1


def test_funding_accrues_lazily_through_the_index(market, ch, chain, trader, maker, other, attacker):
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    t0 = block_time(chain, receipt)
    p0 = blend(0, fill_premium(ABOVE, PRICE), SIZE, 0)

    # half an hour later another pair trades 0.3 % above: the index is brought to now with the
    # old premium, then the new fill's premium is blended in by its weight against the OI
    price2 = PRICE + 3 * PRICE // 1000
    next_tx_at(chain, t0 + 1800)
    receipt = fill(market, attacker, other, WAD // 3, price2)  # other long, attacker short
    t1 = block_time(chain, receipt)
    assert t1 == t0 + 1800
    index1 = index_step(p0, PRICE, t1 - t0)
    # the premium had decayed for half an hour before the second fill's blend
    p1 = blend(decayed(p0, t1 - t0), fill_premium(price2, PRICE), WAD // 3, SIZE)
    assert decayed(p0, t1 - t0) < p1 < fill_premium(price2, PRICE)
    assert ch.funding_index(0) == index1
    assert ch.funding_premium(0) == p1
    logged = events(ch.Funding, receipt)
    assert (logged[0].index, logged[0].premium) == (index1, p1)

    mine_at(chain, t1 + HOUR)
    index2 = index1 + index_step(p1, PRICE, HOUR)
    assert ch.funding_index(0) == index2
    # the first pair owes since its fill; the second only since its own fill
    base = {a: ch.equity(a) + funding_owed(s, index2 - snap) for a, s, snap in (
        (maker, SIZE, 0), (trader, -SIZE, 0), (other, WAD // 3, index1), (attacker, -(WAD // 3), index1))}
    mine_at(chain, t1 + 2 * HOUR)
    index3 = index1 + index_step(p1, PRICE, 2 * HOUR)
    assert ch.funding_index(0) == index3
    for account, size, snapshot in ((maker, SIZE, 0), (trader, -SIZE, 0), (other, WAD // 3, index1), (attacker, -(WAD // 3), index1)):
        assert ch.equity(account) == base[account] - funding_owed(size, index3 - snapshot)


def test_funding_index_uses_the_current_oracle_price(market, ch, chain, trader, maker, owner):
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    t0 = block_time(chain, receipt)
    premium = ch.funding_premium(0)
    next_tx_at(chain, t0 + 60)
    set_feed(market, 60_000 * WAD)
    mine_at(chain, t0 + HOUR)
    # accrued lazily: the whole elapsed time is priced at the oracle price read now
    assert ch.funding_index(0) == index_step(premium, 60_000 * WAD, HOUR)


def test_premium_is_capped_and_blended(market, ch, chain, owner, trader, maker):
    cap = DEFAULT_MAX_FUNDING_PREMIUM
    up = PRICE + PRICE // 100  # 1 % above: capped at 0.5 %
    receipt = fill(market, trader, maker, SIZE, up)
    t = block_time(chain, receipt)
    premium = blend(0, fill_premium(up, PRICE), SIZE, 0)
    assert fill_premium(up, PRICE) == cap
    assert ch.funding_premium(0) == premium == cap

    down = PRICE - PRICE // 20  # 5 % below: capped at -0.5 %
    oi = ch.open_interest(0)
    next_tx_at(chain, t + 10)
    fill(market, trader, maker, -(SIZE // 3), down)
    premium = blend(decayed(premium, 10), -cap, SIZE // 3, oi)
    assert ch.funding_premium(0) == premium
    assert -cap < premium < cap

    next_tx_at(chain, t + 20)
    ch.set_funding_params(0, DEFAULT_FUNDING_PERIOD, 10**15, sender=owner)  # tighter cap
    premium = decayed(premium, 10)  # brought to now under the old cap, then stored
    oi = ch.open_interest(0)
    next_tx_at(chain, t + 30)
    fill(market, trader, maker, SIZE, up)
    # the stored premium was under the looser cap: it is clamped before it decays and blends
    premium = blend(decayed(premium, 10, cap=10**15), 10**15, SIZE, oi)
    assert ch.funding_premium(0) == premium
    assert premium <= 10**15


def test_premium_blend_rounds_towards_zero(market, ch, owner, trader, maker):
    # a cap of 4 over 30 days decays by under one unit in the seconds between the fills
    ch.set_funding_params(0, 30 * 86400, 4, sender=owner)
    price = PRICE + 3 * PRICE // WAD  # deviation 150,000 wei -> premium 3
    fill(market, trader, maker, SIZE, price)
    assert fill_premium(price, PRICE, cap=4) == 3
    assert ch.funding_premium(0) == 3
    # premium -4 with half the weight: the step (-4 - 3) / 2 truncates to -3, not -4
    price_down = PRICE - 4 * PRICE // WAD
    fill(market, trader, maker, -SIZE, price_down)
    assert ch.funding_premium(0) == blend(3, -4, SIZE, SIZE) == 0


def test_tiny_wash_trade_cannot_steer_the_premium(market, ch, trader, maker, attacker, other):
    """A dust fill at the edge of the band moves the premium by its weight against the open
    interest, so wash trades cannot push funding to its cap for almost nothing."""
    fill(market, trader, maker, 10 * WAD, PRICE)  # 10 units of open interest at a zero premium
    assert ch.funding_premium(0) == 0
    edge = PRICE + PRICE // 20  # 5 % above: the fill's premium is the cap
    fill(market, attacker, other, 10**12, edge)  # a millionth of a unit
    assert fill_premium(edge, PRICE) == DEFAULT_MAX_FUNDING_PREMIUM
    assert ch.funding_premium(0) == blend(0, DEFAULT_MAX_FUNDING_PREMIUM, 10**12, 10 * WAD)
    assert abs(ch.funding_premium(0)) * 10**6 < DEFAULT_MAX_FUNDING_PREMIUM


def test_zero_premium_cap_switches_funding_off(market, ch, chain, owner, trader, maker):
    ch.set_funding_params(0, DEFAULT_FUNDING_PERIOD, 0, sender=owner)
    receipt = fill(market, trader, maker, SIZE, PRICE + PRICE // 20)
    assert ch.funding_premium(0) == 0
    before = ch.equity(maker)
    mine_at(chain, block_time(chain, receipt) + 24 * HOUR)
    assert ch.funding_index(0) == 0
    assert ch.equity(maker) == before


def test_shorter_funding_period_pays_faster(market, ch, chain, owner, trader, maker):
    ch.set_funding_params(0, HOUR, DEFAULT_MAX_FUNDING_PREMIUM, sender=owner)
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    t0 = block_time(chain, receipt)
    mine_at(chain, t0 + HOUR)
    premium = blend(0, fill_premium(ABOVE, PRICE), SIZE, 0)
    # the premium fades to zero within the period: a long has paid premium^2 / (4 cap) * price
    assert ch.funding_premium(0) == 0
    assert ch.funding_index(0) == index_step(premium, PRICE, HOUR, period=HOUR) == total_index(premium, PRICE, CAP)
    assert total_index(premium, PRICE, CAP) == premium * premium * PRICE // (4 * CAP * WAD)


def test_funding_is_zero_sum_across_accounts(market, ch, chain, trader, maker, other, attacker, staker, liquidator):
    book = Book()
    for account in (trader, maker, other, attacker, staker, liquidator):
        book.deposit(account, BIG)
    # three fills, each account trades once; (maker, taker, maker's size, price)
    fills = [
        (maker, trader, SIZE, ABOVE),
        (other, attacker, -777_777_777_777_777_777, PRICE + PRICE // 250),
        (staker, liquidator, 3 * WAD + 13, PRICE - PRICE // 2000),
    ]
    index, premium, last = 0, 0, None
    snapshots = {}
    t = chain.blocks.head.timestamp + 300  # clear of the wall clock on a slow machine
    for maker_, taker_, size, price in fills:
        next_tx_at(chain, t)
        oi = ch.open_interest(0)
        receipt = fill(market, taker_, maker_, size, price)
        assert block_time(chain, receipt) == t
        if last is not None:
            index, premium = advance(index, premium, t - last, PRICE, CAP, PERIOD)
        premium = blend(premium, fill_premium(price, PRICE), abs(size), oi)
        last = t
        snapshots[str(maker_)] = snapshots[str(taker_)] = index
        book.fill(maker_, taker_, size, price)
        t += 600
    end = last + 6 * HOUR
    mine_at(chain, end)
    index = advance(index, premium, end - last, PRICE, CAP, PERIOD)[0]
    assert ch.funding_index(0) == index

    accounts = (trader, maker, other, attacker, staker, liquidator)
    owed = {}
    for account in accounts:
        key = str(account)
        owed[key] = funding_owed(book.size[key], index - snapshots[key])
        assert ch.equity(account) == book.equity(account, PRICE) - owed[key]
        assert ch.collateral(account) == book.collateral[key] - owed[key]
    paid = sum(v for v in owed.values() if v > 0)
    received = -sum(v for v in owed.values() if v < 0)
    assert paid > 0 and received > 0
    # zero-sum up to rounding, and the rounding stays inside the protocol
    assert 0 <= paid - received <= len(accounts)
    assert 0 <= conservation_gap(market, accounts) <= 2 * len(accounts)


@pytest.fixture
def frozen_funding(market, chain, trader, maker):
    """maker long / trader short at a 0.1 % premium; within 48 minutes the premium has decayed
    to zero (it falls by 2 * cap = 1 % per 8 h), which freezes the index at
    p0^2 / (4 cap) * price, so views stay exact across blocks."""
    ch = market.clearinghouse
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    t0 = block_time(chain, receipt)
    p0 = ch.funding_premium(0)
    mine_at(chain, t0 + HOUR)
    assert ch.funding_premium(0) == 0
    index = total_index(p0, PRICE, CAP)
    assert ch.funding_index(0) == index == index_step(p0, PRICE, HOUR)
    return index


def test_settle_moves_pending_funding_into_collateral(market, ch, chain, frozen_funding, trader, maker, attacker):
    index = frozen_funding
    owed_long = funding_owed(SIZE, index)
    owed_short = funding_owed(-SIZE, index)
    views = {a: (ch.collateral(a), ch.equity(a), ch.initial_margin(a)) for a in (maker, trader)}

    receipt = ch.settle(maker, sender=attacker)  # anyone may settle
    logged = events(ch.Settled, receipt)
    assert len(logged) == 1
    assert (logged[0].account, logged[0].market, logged[0].funding, logged[0].haircut) == (maker.address, 0, owed_long, 0)
    receipt = ch.settle(trader, sender=attacker)
    logged = events(ch.Settled, receipt)
    assert (logged[0].account, logged[0].funding) == (trader.address, owed_short)
    assert owed_short < 0

    # settling changes neither the (already net) collateral nor the equity
    for account in (maker, trader):
        assert (ch.collateral(account), ch.equity(account), ch.initial_margin(account)) == views[account]
    # once settled, nothing is pending: a second settle logs nothing and time changes nothing
    mine_at(chain, chain.blocks.head.timestamp + 24 * HOUR)
    assert events(ch.Settled, ch.settle(maker, sender=attacker)) == []
    for account in (maker, trader):
        assert (ch.collateral(account), ch.equity(account)) == views[account][:2]


def test_settle_on_an_account_without_positions_is_a_no_op(market, ch, other):
    receipt = ch.settle(other, sender=other)
    assert events(ch.Settled, receipt) == []
    assert ch.collateral(other) == BIG


def test_next_fill_settles_pending_funding(market, ch, chain, frozen_funding, trader, maker):
    index = frozen_funding
    collateral = ch.collateral(maker)
    receipt = fill(market, trader, maker, WAD // 100, PRICE)  # maker adds at the oracle
    logged = events(ch.Settled, receipt)
    settled = {log.account: log.funding for log in logged}
    assert settled[maker.address] == funding_owed(SIZE, index)
    assert settled[trader.address] == funding_owed(-SIZE, index)
    fee_paid = events(ch.Trade, receipt)[0].maker_fee
    assert ch.collateral(maker) == collateral - fee_paid


def test_premium_decays_linearly_to_zero_without_fills(market, ch, chain, trader, maker):
    """2 * cap per period: a premium at the 0.5 % cap is gone after 4 hours; the index grows by
    the area under it (a trapezoid, then the whole triangle), and then stops."""
    receipt = fill(market, trader, maker, SIZE, PRICE + PRICE // 100)  # capped
    t0 = block_time(chain, receipt)
    assert ch.funding_premium(0) == CAP
    mine_at(chain, t0 + HOUR)
    assert ch.funding_premium(0) == CAP - 2 * CAP * HOUR // PERIOD == 3 * CAP // 4
    # area of the trapezoid from CAP to 3/4 CAP over an hour, times price / period
    assert ch.funding_index(0) == (CAP + 3 * CAP // 4) * HOUR // 2 * PRICE // (WAD * PERIOD)
    mine_at(chain, t0 + 4 * HOUR)
    assert ch.funding_premium(0) == 0
    full = total_index(CAP, PRICE, CAP)
    assert ch.funding_index(0) == full == CAP * PRICE // (4 * WAD)  # a quarter period at the cap
    mine_at(chain, t0 + 40 * HOUR)
    assert ch.funding_index(0) == full
    # lazily accrued in pieces (a settle at 30 min) or at once, the same within rounding
    assert abs(index_step(CAP, PRICE, 1800) + index_step(decayed(CAP, 1800), PRICE, 4 * HOUR) - full) <= 1


def test_negative_premium_decays_towards_zero(market, ch, chain, trader, maker):
    below = PRICE - PRICE // 500  # -0.2 %
    receipt = fill(market, trader, maker, SIZE, below)
    t0 = block_time(chain, receipt)
    p0 = ch.funding_premium(0)
    assert p0 == -2 * 10**15
    mine_at(chain, t0 + 1000)
    assert ch.funding_premium(0) == p0 + 2 * CAP * 1000 // PERIOD == decayed(p0, 1000)
    assert ch.funding_index(0) == index_step(p0, PRICE, 1000) < 0
    mine_at(chain, t0 + 2 * HOUR)
    assert ch.funding_premium(0) == 0
    assert ch.funding_index(0) == -total_index(p0, PRICE, CAP)


def test_fill_blends_into_the_decayed_premium(market, ch, chain, trader, maker, other, attacker):
    receipt = fill(market, trader, maker, SIZE, PRICE + PRICE // 100)  # premium at the cap
    t0 = block_time(chain, receipt)
    next_tx_at(chain, t0 + 2 * HOUR)
    receipt = fill(market, attacker, other, SIZE, PRICE)  # a fill at the oracle
    # at the fill the premium had halved; the fill (half the weight) halves it again
    assert decayed(CAP, 2 * HOUR) == CAP // 2
    assert ch.funding_premium(0) == blend(CAP // 2, 0, SIZE, SIZE) == CAP // 4
    logged = events(ch.Funding, receipt)
    assert (logged[0].index, logged[0].premium) == (index_step(CAP, PRICE, 2 * HOUR), CAP // 4)


def test_set_funding_params_accrues_under_the_old_parameters_first(market, ch, chain, owner, trader, maker):
    """Changing the period or the cap acts only forward: the time before the change is accrued
    under the old parameters."""
    receipt = fill(market, trader, maker, SIZE, ABOVE)
    t0 = block_time(chain, receipt)
    p0 = ch.funding_premium(0)
    next_tx_at(chain, t0 + 1200)
    receipt = ch.set_funding_params(0, HOUR, CAP, sender=owner)  # 8x faster from now on
    before = index_step(p0, PRICE, 1200)
    p1 = decayed(p0, 1200)
    assert ch.funding_index(0) == before
    logged = events(ch.Funding, receipt)
    assert (logged[0].index, logged[0].premium) == (before, p1)
    mine_at(chain, t0 + 1500)
    assert ch.funding_index(0) == before + index_step(p1, PRICE, 300, period=HOUR)
    assert ch.funding_premium(0) == decayed(p1, 300, period=HOUR)


def test_set_funding_params_lowering_the_cap_acts_forward(market, ch, chain, owner, trader, maker):
    receipt = fill(market, trader, maker, SIZE, PRICE + PRICE // 100)  # at the cap
    t0 = block_time(chain, receipt)
    next_tx_at(chain, t0 + 600)
    ch.set_funding_params(0, PERIOD, 0, sender=owner)  # funding off from now on
    accrued = index_step(CAP, PRICE, 600)
    assert accrued > 0
    assert ch.funding_index(0) == accrued
    assert ch.funding_premium(0) == 0
    mine_at(chain, t0 + 10 * HOUR)
    assert ch.funding_index(0) == accrued


def test_set_funding_params_needs_a_fresh_oracle(market, ch, chain, owner):
    mine_at(chain, chain.blocks.head.timestamp + 8 * 86400)  # beyond the 7-day max age
    with ape.reverts("oracle: stale price"):
        ch.set_funding_params(0, HOUR, CAP, sender=owner)
