"""`max_liquidatable_size(account, market)`: the close factor (rounded up), the dust rule,
0 when the account is healthy or bankrupt, and agreement with what `liquidate` accepts."""
import ape
from support.drivers import set_price
from support.model import (
    LIQUIDATOR_SHARE,
    P0,
    PENALTY,
    WAD,
    max_liquidatable,
    mul_div_up,
    notional,
    price,
    tokens,
)

P_LIQ = price("46123.45")


def test_zero_when_healthy(book, trader):
    ch = book.clearinghouse
    assert not ch.is_liquidatable(trader)
    assert ch.max_liquidatable_size(trader, 0) == 0


def test_zero_when_equity_equals_maintenance_margin(book, other, maker):
    ch = book.clearinghouse
    book.fund(other, 6_325)
    book.fill(other, maker, -WAD, P0)
    set_price(book, price(46_000))
    assert ch.equity(other) == ch.maintenance_margin(other)
    assert ch.max_liquidatable_size(other, 0) == 0


def test_zero_when_bankrupt(book, trader):
    ch = book.clearinghouse
    set_price(book, price("44024.99"))
    assert ch.equity(trader) == -tokens("0.01")
    assert ch.max_liquidatable_size(trader, 0) == 0


def test_positive_at_zero_equity(book, trader):
    """Equity 0 is not bankrupt: the account can still be liquidated."""
    ch = book.clearinghouse
    set_price(book, price(44_025))
    assert ch.equity(trader) == 0
    assert ch.max_liquidatable_size(trader, 0) == WAD // 2


def test_zero_for_an_account_without_positions(book, other):
    ch = book.clearinghouse
    assert ch.max_liquidatable_size(other, 0) == 0


def test_unknown_market_reverts(book, trader):
    with ape.reverts("registry: unknown market"):
        book.clearinghouse.max_liquidatable_size(trader, 1)


def test_close_factor_share_of_the_position(book, trader):
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    assert ch.max_liquidatable_size(trader, 0) == max_liquidatable(WAD, P_LIQ) == WAD // 2


def test_close_factor_rounds_up(book, owner, other, maker, liquidator):
    """An odd position and a one-third close factor: the limit is ceil(size / 3), and the
    view agrees with what `liquidate` accepts."""
    ch = book.clearinghouse
    close_factor = WAD // 3
    ch.set_liquidation_params(0, PENALTY, LIQUIDATOR_SHARE, close_factor, sender=owner)
    size = WAD + 1
    book.fund(other, 6_000)
    book.fill(other, maker, -size, P0)
    set_price(book, P_LIQ)
    assert ch.is_liquidatable(other)
    expected = mul_div_up(size, close_factor, WAD)
    assert expected * WAD > size * close_factor  # it did round up
    assert ch.max_liquidatable_size(other, 0) == expected
    with ape.reverts("liquidate: size above close factor"):
        ch.liquidate(other, 0, expected + 1, sender=liquidator)
    ch.liquidate(other, 0, expected, sender=liquidator)
    assert ch.position_size(other, 0) == size - expected


def test_full_close_factor_allows_the_whole_position(book, owner, trader, liquidator):
    ch = book.clearinghouse
    ch.set_liquidation_params(0, PENALTY, LIQUIDATOR_SHARE, WAD, sender=owner)
    set_price(book, P_LIQ)
    assert ch.max_liquidatable_size(trader, 0) == WAD
    ch.liquidate(trader, 0, WAD, sender=liquidator)
    assert ch.position_size(trader, 0) == 0


def test_dust_rule_boundary(book, owner, trader, liquidator):
    """The largest partial take leaves notional(size - limit). At exactly the dust threshold
    that is allowed (limit); one base unit above it the whole position may go."""
    ch = book.clearinghouse
    set_price(book, P_LIQ)
    left = notional(WAD - WAD // 2, P_LIQ)
    ch.set_dust_notional(left, sender=owner)
    assert ch.max_liquidatable_size(trader, 0) == max_liquidatable(WAD, P_LIQ, dust=left) == WAD // 2
    ch.set_dust_notional(left + 1, sender=owner)
    assert ch.max_liquidatable_size(trader, 0) == max_liquidatable(WAD, P_LIQ, dust=left + 1) == WAD
    ch.liquidate(trader, 0, WAD, sender=liquidator)
    assert ch.position_size(trader, 0) == 0
    assert ch.position_size(liquidator, 0) == WAD


def test_small_position_is_taken_whole(book, other, maker, liquidator):
    """A position of 15 tokens: half of it (7.5) would be dust, so all 15 may be taken."""
    ch = book.clearinghouse
    size = 3 * 10**14  # 15 tokens at 50,000
    book.fund(other, 2)
    book.fill(other, maker, -size, P0)
    # other: 2 - fee (0.0075) - loss; liquidatable once the loss eats the 0.69 above 5 %
    p = price(45_000)
    set_price(book, p)
    assert ch.is_liquidatable(other) and ch.equity(other) >= 0
    assert notional(size - size // 2, p) < ch.dust_notional()
    assert ch.max_liquidatable_size(other, 0) == size
    with ape.reverts("liquidate: would leave a dust position"):
        ch.liquidate(other, 0, size // 2, sender=liquidator)
    ch.liquidate(other, 0, size, sender=liquidator)
    assert ch.position_size(other, 0) == 0


def test_view_matches_liquidate_across_prices(book, trader, liquidator, chain):
    """For each price in the liquidation zone, liquidate(max) passes and max + 1 fails."""
    ch = book.clearinghouse
    for p in (price("46300"), price("45000.01"), price(44_025)):
        snapshot = chain.snapshot()
        set_price(book, p)
        size = ch.max_liquidatable_size(trader, 0)
        assert size == max_liquidatable(WAD, p)
        with ape.reverts("liquidate: size above close factor"):
            ch.liquidate(trader, 0, size + 1, sender=liquidator)
        ch.liquidate(trader, 0, size, sender=liquidator)
        assert ch.position_size(trader, 0) == WAD - size
        chain.restore(snapshot)
