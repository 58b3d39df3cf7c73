"""deposit / withdraw: zero amounts, token plumbing and events, the settled-collateral limit
(unrealized profit is not withdrawable), the initial-margin limit, and both while paused."""
import ape
import pytest

from support.drivers import events, fill, fund, set_feed
from support.model import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE, IMR, PRICE, WAD, fee, margin, notional, value

UNIT = 10**6
DEPOSIT = 10_000 * UNIT
ONE = WAD  # one base unit of the asset
TAKER_FEE_1 = fee(notional(ONE, PRICE), DEFAULT_TAKER_FEE)  # 25 tokens
MAKER_FEE_1 = fee(notional(ONE, PRICE), DEFAULT_MAKER_FEE)  # 10 tokens


@pytest.fixture(scope="module")
def ch(protocol):
    return protocol.clearinghouse


@pytest.fixture(scope="module")
def long_trader(protocol, trader, maker):
    """trader: 10,000 deposited, long 1 at 50,000 (taker); maker: 100,000, short 1."""
    fund(protocol, trader, DEPOSIT)
    fund(protocol, maker, 10 * DEPOSIT)
    fill(protocol, trader, maker, -ONE, PRICE)
    return trader


# ---------------------------------------------------------------- deposit


def test_deposit_credits_collateral_and_moves_tokens(protocol, ch, trader):
    token = protocol.token
    fund(protocol, trader, 3 * UNIT, deposit=False)
    receipt = ch.deposit(2 * UNIT, sender=trader)
    logged = events(ch.Deposit, receipt)
    assert len(logged) == 1
    assert (logged[0].account, logged[0].amount) == (trader.address, 2 * UNIT)
    assert ch.collateral(trader) == 2 * UNIT
    assert ch.equity(trader) == 2 * UNIT
    assert token.balanceOf(trader) == UNIT
    assert token.balanceOf(ch) == 2 * UNIT
    ch.deposit(UNIT, sender=trader)
    assert ch.collateral(trader) == 3 * UNIT
    assert token.balanceOf(ch) == 3 * UNIT


def test_deposit_zero_reverts(protocol, ch, trader):
    fund(protocol, trader, UNIT, deposit=False)
    with ape.reverts("deposit: zero amount"):
        ch.deposit(0, sender=trader)


def test_deposit_without_allowance_reverts(protocol, ch, other):
    protocol.token.mint(other, UNIT, sender=other)
    with ape.reverts("token: insufficient allowance"):
        ch.deposit(UNIT, sender=other)
    assert ch.collateral(other) == 0


def test_deposit_beyond_balance_reverts(protocol, ch, other):
    fund(protocol, other, UNIT, deposit=False)
    with ape.reverts("token: insufficient balance"):
        ch.deposit(UNIT + 1, sender=other)


def test_deposit_allowed_while_paused(protocol, ch, owner, trader):
    ch.pause(sender=owner)
    fund(protocol, trader, 5 * UNIT)
    assert ch.collateral(trader) == 5 * UNIT


# ---------------------------------------------------------------- withdraw


def test_withdraw_returns_tokens_and_logs(protocol, ch, trader):
    token = protocol.token
    fund(protocol, trader, DEPOSIT)
    receipt = ch.withdraw(DEPOSIT // 4, sender=trader)
    logged = events(ch.Withdraw, receipt)
    assert len(logged) == 1
    assert (logged[0].account, logged[0].amount) == (trader.address, DEPOSIT // 4)
    assert ch.collateral(trader) == DEPOSIT - DEPOSIT // 4
    assert token.balanceOf(trader) == DEPOSIT // 4
    # without positions everything is free
    ch.withdraw(DEPOSIT - DEPOSIT // 4, sender=trader)
    assert ch.collateral(trader) == 0
    assert token.balanceOf(trader) == DEPOSIT
    assert token.balanceOf(ch) == 0


def test_withdraw_zero_reverts(protocol, ch, trader):
    fund(protocol, trader, DEPOSIT)
    with ape.reverts("withdraw: zero amount"):
        ch.withdraw(0, sender=trader)


def test_withdraw_beyond_collateral_reverts(protocol, ch, trader):
    fund(protocol, trader, DEPOSIT)
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(DEPOSIT + 1, sender=trader)


def test_withdraw_without_deposit_reverts(ch, attacker):
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(1, sender=attacker)


def test_withdraw_cannot_take_another_accounts_collateral(protocol, ch, trader, attacker):
    fund(protocol, trader, DEPOSIT)
    fund(protocol, attacker, UNIT)
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(UNIT + 1, sender=attacker)


def test_unrealized_profit_is_not_withdrawable(protocol, ch, long_trader):
    trader = long_trader
    set_feed(protocol, 60_000 * WAD)
    settled = DEPOSIT - TAKER_FEE_1
    profit = value(ONE, 60_000 * WAD) - notional(ONE, PRICE)
    assert ch.collateral(trader) == settled
    assert ch.equity(trader) == settled + profit
    im = margin(ONE, 60_000 * WAD, IMR)
    # margin alone would allow more than the settled balance ...
    assert ch.equity(trader) - (settled + 1) >= im
    # ... but profit that is not realized cannot leave
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(settled + 1, sender=trader)
    ch.withdraw(settled, sender=trader)
    assert ch.collateral(trader) == 0
    assert ch.equity(trader) == profit
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(1, sender=trader)


def test_realized_profit_is_withdrawable(protocol, ch, long_trader, maker):
    trader = long_trader
    exit_price = 60_000 * WAD
    set_feed(protocol, exit_price)
    # trader sells its long back to the maker (maker buys) at 60,000
    fill(protocol, trader, maker, ONE, exit_price)
    exit_fee = fee(notional(ONE, exit_price), DEFAULT_TAKER_FEE)
    realized = notional(ONE, exit_price) - notional(ONE, PRICE)
    expected = DEPOSIT - TAKER_FEE_1 - exit_fee + realized
    assert ch.collateral(trader) == expected
    assert ch.equity(trader) == expected
    ch.withdraw(expected, sender=trader)
    assert protocol.token.balanceOf(trader) == expected
    assert ch.collateral(trader) == 0


def test_withdraw_limited_by_initial_margin(ch, long_trader):
    trader = long_trader
    equity = DEPOSIT - TAKER_FEE_1
    im = margin(ONE, PRICE, IMR)
    assert ch.equity(trader) == equity
    assert ch.initial_margin(trader) == im
    free = equity - im
    assert free < ch.collateral(trader)  # the settled limit is not the binding one
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(free + 1, sender=trader)
    ch.withdraw(free, sender=trader)  # exactly down to the initial margin
    assert ch.equity(trader) == im
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(1, sender=trader)


def test_withdraw_limit_counts_unrealized_loss(protocol, ch, long_trader):
    trader = long_trader
    mark = 48_000 * WAD
    set_feed(protocol, mark)
    equity = DEPOSIT - TAKER_FEE_1 + value(ONE, mark) - notional(ONE, PRICE)
    im = margin(ONE, mark, IMR)
    assert ch.equity(trader) == equity
    assert ch.initial_margin(trader) == im
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(equity - im + 1, sender=trader)
    ch.withdraw(equity - im, sender=trader)
    assert ch.collateral(trader) == DEPOSIT - TAKER_FEE_1 - (equity - im)


def test_withdraw_reverts_for_account_already_below_initial_margin(protocol, ch, long_trader):
    trader = long_trader
    set_feed(protocol, 44_000 * WAD)
    assert ch.equity(trader) < ch.initial_margin(trader)
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(1, sender=trader)


def test_withdraw_allowed_while_paused(protocol, ch, owner, long_trader, other):
    trader = long_trader
    fund(protocol, other, DEPOSIT)
    ch.pause(sender=owner)
    # an account without positions takes everything out
    ch.withdraw(DEPOSIT, sender=other)
    assert protocol.token.balanceOf(other) == DEPOSIT
    # an account with a position takes out its free collateral
    free = ch.equity(trader) - ch.initial_margin(trader)
    ch.withdraw(free, sender=trader)
    assert ch.equity(trader) == ch.initial_margin(trader)
    # and the margin limit still holds while paused
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(1, sender=trader)


def test_maker_side_withdraw_limit(ch, long_trader, maker):
    """The short side of the same fill: 100,000 deposited, maker fee paid, margin on 1 unit."""
    equity = 10 * DEPOSIT - MAKER_FEE_1
    assert ch.equity(maker) == equity
    assert ch.collateral(maker) == equity
    im = margin(-ONE, PRICE, IMR)
    with ape.reverts("withdraw: below initial margin"):
        ch.withdraw(equity - im + 1, sender=maker)
    ch.withdraw(equity - im, sender=maker)
    assert ch.equity(maker) == im
