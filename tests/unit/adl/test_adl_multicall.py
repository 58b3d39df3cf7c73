"""Multi-call resolution: a keeper may need several calls for one account; in between the
account is frozen (no trade, no withdrawal, no liquidation), and it is fully resolved in the end."""
import ape
from conftest import SCALE, WAD, conservation_gap, make_ladder, price

from support.adl_model import bankruptcy_price


def test_resolution_over_three_calls(ladder, liquidator):
    ch, trader = ladder.ch, ladder.trader
    deficit = -ch.equity(trader)
    target = bankruptcy_price(deficit, WAD, ladder.crash, True, SCALE)
    ranked = ladder.ranked()
    ch.deleverage(trader, 0, ranked[:2], sender=liquidator)
    assert ch.is_deleveraging(trader) and ch.bankruptcy_price(trader, 0) == target
    assert ch.position_size(trader, 0) == WAD * 3 // 5
    assert ch.equity(trader) < 0  # negative until resolved
    ch.deleverage(trader, 0, ranked[2:4], sender=liquidator)
    assert ch.is_deleveraging(trader)
    tx = ch.deleverage(trader, 0, ranked[4:], sender=liquidator)
    fills = list(tx.decode_logs(ch.Deleveraged))
    assert [f.price for f in fills] == [target]
    (bankruptcy,) = tx.decode_logs(ch.Bankruptcy)
    assert (bankruptcy.deficit, bankruptcy.socialized, bankruptcy.bad_debt) == (deficit, deficit, 0)
    assert ch.account_summary(trader) == (0, 0, 0, 0) and not ch.is_deleveraging(trader)
    assert ch.bankruptcy_price(trader, 0) == 0
    assert 0 <= conservation_gap(ladder.protocol, [trader, liquidator, *ladder.shorts]) <= 10


def test_frozen_account_cannot_trade_withdraw_or_be_liquidated(ladder, maker, liquidator):
    ch, trader, protocol = ladder.ch, ladder.trader, ladder.protocol
    ch.deleverage(trader, 0, ladder.ranked()[:1], sender=liquidator)
    protocol.fund(trader, 50_000)  # a deposit is allowed (it only shrinks the deficit) ...
    assert ch.equity(trader) > 0  # ... and even makes the equity positive
    with ape.reverts("adl: account is being deleveraged"):
        ch.withdraw(1, sender=trader)
    protocol.fund(maker, 100_000)
    with ape.reverts("adl: account is being deleveraged"):
        protocol.fill(trader, maker, WAD // 10, ladder.crash)  # maker buys, trader sells
    with ape.reverts("adl: account is being deleveraged"):
        protocol.fill(maker, trader, -WAD // 10, ladder.crash)  # as the maker
    with ape.reverts("adl: account is being deleveraged"):
        ch.liquidate(trader, 0, WAD // 10, sender=liquidator)
    # the frozen account cannot act as a keeper either
    with ape.reverts("adl: account is being deleveraged"):
        ch.liquidate_bankrupt(maker, sender=trader)


def test_keeper_takes_the_rest_when_winners_run_out(adl_protocol, trader, maker, other, shorts, liquidator):
    """Winners' profit smaller than the residual. The trader's 1.0 long (entry 50,000) ends up
    against `other` (short 0.5 at 44,400) and `maker` (short 0.5 at 43,900); at 43,000 its
    deficit is about 1,025 per unit: `other` (1,400 per unit of profit) is closed whole,
    `maker` (900 per unit) pays all its profit and keeps the rest of its short, re-based at the
    oracle price; then the winners are exhausted, the keeper takes the rest at the oracle price
    and what is left is bad debt."""
    p = adl_protocol
    ch = p.clearinghouse
    seller = shorts[0]
    p.fund(trader, 6_000)
    for account in (seller, maker, other):
        p.fund(account, 100_000)
    p.fill(trader, seller, -WAD, price(50_000))  # the seller sells 1.0 to the trader
    p.set_price(44_500)
    p.fill(seller, maker, -WAD // 2, price(43_900))  # the seller buys back from the maker ...
    p.fill(seller, other, -WAD // 2, price(44_400))  # ... and from `other`
    assert ch.position_size(seller, 0) == 0
    p.set_price(43_000)
    deficit = -ch.equity(trader)
    assert deficit > 0
    profits = {a: ch.adl_rank(a, 0).profit for a in (maker, other)}
    equities = {a: ch.equity(a) for a in (maker, other)}
    tx = ch.deleverage(trader, 0, [other, maker], sender=liquidator)
    fills = list(tx.decode_logs(ch.Deleveraged))
    assert [f.counterparty for f in fills] == [other.address, maker.address]
    assert fills[0].size == WAD // 2 and 0 < fills[1].size < WAD // 2
    assert ch.position_size(other, 0) == 0
    paid_maker = equities[maker] - ch.equity(maker)
    assert 0 < paid_maker <= profits[maker] and profits[maker] - paid_maker <= 2  # all of its profit
    assert ch.adl_rank(maker, 0).profit <= 0  # re-based at the oracle price: nothing left to take
    assert ch.position_size(maker, 0) == -(WAD // 2 - fills[1].size)
    (takeover,) = tx.decode_logs(ch.BankruptcyTakeover)
    assert takeover.liquidator == liquidator.address and takeover.size == WAD // 2 - fills[1].size
    (bankruptcy,) = tx.decode_logs(ch.Bankruptcy)
    assert bankruptcy.bad_debt > 0 and ch.bad_debt() == bankruptcy.bad_debt
    assert abs(bankruptcy.deficit - deficit) <= deficit // 1000  # funding accrues between the blocks
    assert bankruptcy.deficit == bankruptcy.insurance_paid + bankruptcy.socialized + bankruptcy.bad_debt
    assert ch.position_size(trader, 0) == 0 and ch.account_summary(trader) == (0, 0, 0, 0)
    assert 0 <= conservation_gap(p, [trader, liquidator, maker, other, seller]) <= 10
