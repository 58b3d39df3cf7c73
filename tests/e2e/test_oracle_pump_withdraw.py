"""Attack (Mango Markets, October 2022): open a position, pump the oracle, and take out the
unrealized profit before the price comes back. At Mango the attacker borrowed against the
pumped mark-to-market value and walked away with the loans.

Defence: unrealized profit counts toward margin but can never be withdrawn: a withdrawal is
limited to the settled collateral (deposits, realized PnL, fees, settled charges). While the
pump lasts the attacker can take out at most what it put in; once the price is back it has
lost its fees, the honest counterparty has lost nothing but its own fees, and the protocol has
no bad debt.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
P0 = 50_000 * WAD


def gap(protocol, accounts):
    ch = protocol.clearinghouse
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - sum(ch.equity(a) for a in accounts)


@pytest.fixture(scope="module")
def market(protocol, maker, liquidator, attacker, staker):
    protocol.fund(maker, 200_000)
    protocol.fund(liquidator, 200_000)
    protocol.token.mint(staker, 50_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 50_000 * UNIT, sender=staker)
    protocol.vault.deposit(50_000 * UNIT, staker, sender=staker)
    protocol.fund(attacker, 6_000, deposit=False)
    return protocol


def test_pumped_unrealized_profit_cannot_be_withdrawn(market, attacker, maker, liquidator):
    ch, token = market.clearinghouse, market.token
    wallet = token.balanceOf(attacker)
    deposit = 6_000 * UNIT
    ch.deposit(deposit, sender=attacker)
    market.fill(attacker, maker, -WAD, P0)  # the attacker buys 1 from the maker
    settled = ch.collateral(attacker)
    assert settled == deposit - 25 * UNIT  # the 5 bp taker fee

    # the pump: the oracle doubles
    market.set_price(100_000)
    profit = ch.equity(attacker) - settled
    assert profit == 50_000 * UNIT
    assert ch.collateral(attacker) == settled  # the profit is not settled collateral
    for amount in (ch.equity(attacker), settled + profit // 2, settled + 1):
        with ape.reverts("withdraw: exceeds settled collateral"):
            ch.withdraw(amount, sender=attacker)

    # all the attacker can take out is its own (settled) money
    ch.withdraw(settled, sender=attacker)
    assert token.balanceOf(attacker) == wallet - deposit + settled < wallet
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(1, sender=attacker)

    # realizing the profit needs a counterparty: closing at the (pumped) oracle price... and
    # the oracle comes back before anyone takes the other side
    market.set_price(50_000)
    assert ch.equity(attacker) == 0  # its own money is out, the pumped profit is gone
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(1, sender=attacker)
    # the position is left to the liquidators: the attacker gets nothing more out of it
    assert ch.is_liquidatable(attacker)
    receipt = ch.liquidate(attacker, 0, ch.max_liquidatable_size(attacker, 0), sender=liquidator)
    assert receipt.events.filter(ch.Liquidation)[0].penalty == 0  # nothing left to pay it with
    assert token.balanceOf(attacker) < wallet  # no profit
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == 0
    assert 0 <= gap(market, [attacker, maker, liquidator]) <= 5


def test_pumped_margin_buys_exposure_but_no_withdrawal(market, attacker, maker, liquidator):
    """The attacker's equity is worth 56,000 at the pumped price. It may use it as margin for
    more exposure, but none of it can leave, and once the price is back the extra exposure
    bought at the pumped price is a loss for the attacker, not for the protocol."""
    ch, token = market.clearinghouse, market.token
    wallet = token.balanceOf(attacker)
    ch.deposit(6_000 * UNIT, sender=attacker)
    market.fill(attacker, maker, -WAD, P0)
    market.set_price(100_000)
    market.fill(attacker, maker, -WAD // 10, 100_000 * WAD)  # more exposure on pumped margin
    assert ch.position_size(attacker, 0) == WAD + WAD // 10
    settled = ch.collateral(attacker)
    assert ch.equity(attacker) - settled >= 50_000 * UNIT - 10 * UNIT
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(settled + 1_000 * UNIT, sender=attacker)
    ch.withdraw(settled, sender=attacker)  # its own money, nothing more
    market.set_price(50_000)
    # the 0.1 bought at 100,000 lost 5,000: the attacker's account is underwater
    assert ch.equity(attacker) < 0
    ch.liquidate_bankrupt(attacker, sender=liquidator)
    assert token.balanceOf(attacker) < wallet
    # the vault covered the deficit; nobody was haircut and there is no bad debt
    assert ch.bad_debt() == 0
    assert ch.socialized_loss(0) == 0
    assert 0 <= gap(market, [attacker, maker, liquidator]) <= 5
