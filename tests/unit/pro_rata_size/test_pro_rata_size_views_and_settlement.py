"""A haircut charge is lazy: every view includes it from the block of the event on, before any
settlement, and the next touch of the position (settle, a trade) moves it into collateral
with a Settled event, leaving every view unchanged."""
import ape
import pytest
from pro_rata_size_scenario import SHORT_SIZES
from liquidation_model import P0, SCALE, WAD, mul_div_up, notional, price, set_price

P_BANK = price(43_000)


@pytest.fixture
def charged(crowd, trader, liquidator):
    """Resolve the trader's bankruptcy; return each short's charge."""
    ch = crowd.clearinghouse
    set_price(crowd, P_BANK)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    delta = ch.haircut_index(0, False)
    assert delta > 0
    return [mul_div_up(size, delta, SCALE) for size in SHORT_SIZES]


def test_views_include_the_charge_before_settlement(crowd, trader, shorts, liquidator):
    ch = crowd.clearinghouse
    set_price(crowd, P_BANK)
    before = [ch.account_summary(a) for a in shorts]
    ch.liquidate_bankrupt(trader, sender=liquidator)
    delta = ch.haircut_index(0, False)
    for account, size, old in zip(shorts, SHORT_SIZES, before):
        charge = mul_div_up(size, delta, SCALE)
        assert charge > 0
        new = ch.account_summary(account)
        assert new.collateral == old.collateral - charge
        assert new.equity == old.equity - charge
        assert ch.collateral(account) == new.collateral
        assert ch.equity(account) == new.equity
        # requirements are on notional, which a charge does not change
        assert new.initial_margin == old.initial_margin == ch.initial_margin(account)
        assert new.maintenance_margin == old.maintenance_margin == ch.maintenance_margin(account)
        assert ch.is_liquidatable(account) == (new.equity < new.maintenance_margin)


def test_pending_charge_limits_withdrawals(crowd, shorts, charged):
    """The settled balance is net of the pending charge: the pre-event balance can no longer
    be withdrawn, what is left after the charge can."""
    ch = crowd.clearinghouse
    account, charge = shorts[0], charged[0]
    collateral = ch.collateral(account)
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(collateral + charge, sender=account)
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(collateral + 1, sender=account)
    ch.withdraw(collateral, sender=account)
    assert ch.collateral(account) == 0


def test_settle_moves_the_charge_into_collateral(crowd, shorts, other, charged):
    ch = crowd.clearinghouse
    account, charge = shorts[1], charged[1]
    summary = ch.account_summary(account)
    receipt = ch.settle(account, sender=other)
    [settled] = receipt.events.filter(ch.Settled)
    assert settled.account == account and settled.market == 0
    assert (settled.funding, settled.haircut) == (0, charge)
    assert ch.account_summary(account) == summary
    # nothing left to settle
    again = ch.settle(account, sender=other)
    assert again.events.filter(ch.Settled) == []
    assert ch.account_summary(account) == summary


def test_next_trade_settles_the_charge(crowd, shorts, liquidator, charged):
    """The short adds to its position: the fill settles the charge on the old size first."""
    ch = crowd.clearinghouse
    account, charge = shorts[2], charged[2]
    equity = ch.equity(account)
    receipt = crowd.fill(liquidator, account, -WAD // 10, P_BANK)  # the short sells 0.1 more
    settled = [e for e in receipt.events.filter(ch.Settled) if e.account == account]
    assert len(settled) == 1 and settled[0].haircut == charge
    # the new 0.1 is not charged: equity moved only by the maker fee of the new fill
    fee = mul_div_up(notional(WAD // 10, P_BANK), 2 * 10**14, WAD)
    assert ch.equity(account) == equity - fee
    assert ch.position_size(account, 0) == -(SHORT_SIZES[2] + WAD // 10)


def test_settled_charge_is_not_charged_again(crowd, shorts, liquidator, other, charged):
    """After settlement the snapshot is at the current index: a second event charges only its
    own index move."""
    ch = crowd.clearinghouse
    account = shorts[0]
    ch.settle(account, sender=other)
    delta1 = ch.haircut_index(0, False)
    # a second long that goes bankrupt: other buys 0.1 at 50,000 with 600 deposited
    set_price(crowd, P0)
    crowd.fund(other, 600)
    crowd.fill(other, shorts[1], -WAD // 10, P0)
    set_price(crowd, P_BANK)
    equity = ch.equity(account)
    assert ch.equity(other) < 0
    ch.liquidate_bankrupt(other, sender=liquidator)
    delta2 = ch.haircut_index(0, False) - delta1
    assert delta2 > 0
    assert ch.equity(account) == equity - mul_div_up(SHORT_SIZES[0], delta2, SCALE)
