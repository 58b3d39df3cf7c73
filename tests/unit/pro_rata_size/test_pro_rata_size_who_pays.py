"""Who is charged: only positions open on the opposite side at the time of the event, for the
size they had then. A position opened afterwards, the part of a position added afterwards and
an account without an open position never pay for it."""
from pro_rata_size_scenario import SHORT_SIZES
from support.drivers import set_price
from support.model import MAKER_FEE, P0, SCALE, TAKER_FEE, WAD, AccountBook as Book, mul_div_up, price, tokens

P_BANK = price(43_000)


def test_position_opened_after_the_event_is_never_charged(crowd, trader, maker, liquidator):
    ch = crowd.clearinghouse
    set_price(crowd, P_BANK)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.haircut_index(0, False) > 0
    crowd.fund(maker, 10_000)
    crowd.fill(liquidator, maker, -WAD // 5, P_BANK)  # the maker sells 0.2 after the event
    model = Book(collateral=tokens(10_000))
    model.trade(0, -WAD // 5, P_BANK, MAKER_FEE)
    assert ch.equity(maker) == model.equity({0: P_BANK})
    assert ch.collateral(maker) == model.collateral
    receipt = ch.settle(maker, sender=liquidator)
    assert receipt.events.filter(ch.Settled) == []
    assert ch.collateral(maker) == model.collateral


def test_flat_accounts_never_pay(crowd, trader, maker, other, shorts, liquidator):
    """The maker only deposited; `other` held a short and closed it before the event."""
    ch = crowd.clearinghouse
    crowd.fund(maker, 5_000)
    crowd.fund(other, 5_000)
    crowd.fill(liquidator, other, -WAD // 10, P0)  # other sells 0.1
    crowd.fill(liquidator, other, WAD // 10, P0)  # and buys it back
    assert ch.position_size(other, 0) == 0
    set_price(crowd, P_BANK)
    flat = {a: ch.account_summary(a) for a in (maker, other)}
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.haircut_index(0, False) > 0
    for account, summary in flat.items():
        assert ch.account_summary(account) == summary
        assert ch.settle(account, sender=liquidator).events.filter(ch.Settled) == []
        ch.withdraw(summary.collateral, sender=account)
        assert ch.collateral(account) == 0


def test_size_added_after_the_event_is_not_charged(crowd, trader, shorts, liquidator):
    ch = crowd.clearinghouse
    account = shorts[0]
    set_price(crowd, P_BANK)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    delta = ch.haircut_index(0, False)
    owed = mul_div_up(SHORT_SIZES[0], delta, SCALE)
    collateral = ch.collateral(account)
    crowd.fill(liquidator, account, -WAD, P_BANK)  # the short sells 1 more
    fee = mul_div_up(WAD * P_BANK // SCALE, MAKER_FEE, WAD)
    assert ch.collateral(account) == collateral - fee  # the charge was already in the view
    assert ch.position_size(account, 0) == -(SHORT_SIZES[0] + WAD)
    # moving the price back and forth changes nothing about the charge
    equity = ch.equity(account)
    set_price(crowd, P0)
    set_price(crowd, P_BANK)
    assert ch.equity(account) == equity
    assert owed > 0


def test_same_side_as_the_bankrupt_account_is_not_charged(crowd, trader, shorts, other, liquidator):
    """Longs are on the bankrupt account's side: their index does not move."""
    ch = crowd.clearinghouse
    crowd.fund(other, 10_000)
    crowd.fill(other, shorts[1], -WAD // 10, P0)  # other long 0.1
    set_price(crowd, P_BANK)
    model = Book(collateral=tokens(10_000))
    model.trade(0, WAD // 10, P0, TAKER_FEE)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.haircut_index(0, True) == 0
    assert ch.equity(other) == model.equity({0: P_BANK})
