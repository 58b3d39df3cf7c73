"""Attack: resolve the same bankruptcy twice to draw the insurance vault (and the keeper
reward) twice, or use `liquidate` on an account that `liquidate_bankrupt` must handle, to
collect a penalty from an account that owes more than it has while skipping the waterfall.

Defence: `liquidate_bankrupt` leaves the account flat with zero collateral, so it is no
longer bankrupt and a second call reverts; `liquidate` refuses accounts with negative
equity. The vault pays once, the keeper is paid once, and the deficit is counted once.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
P0 = 50_000 * WAD
KEEPER_REWARD = 5 * UNIT


@pytest.fixture(scope="module")
def market(protocol, trader, maker, liquidator, attacker, staker):
    protocol.fund(maker, 200_000)
    protocol.fund(liquidator, 200_000)
    protocol.fund(attacker, 200_000)
    protocol.token.mint(staker, 100_000 * UNIT, sender=staker)
    protocol.token.approve(protocol.vault, 100_000 * UNIT, sender=staker)
    protocol.vault.deposit(100_000 * UNIT, staker, sender=staker)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)  # trader long 1; bankrupt below 44,025
    protocol.clearinghouse.sweep_fees(sender=staker)
    return protocol


def test_second_resolution_reverts_and_nothing_is_paid_twice(market, trader, attacker, liquidator, maker):
    ch, vault = market.clearinghouse, market.vault
    market.set_price(43_000)
    deficit = 1_025 * UNIT  # 5,975 collateral - 7,000 loss
    assets = vault.totalAssets()
    attacker_collateral = ch.collateral(attacker)

    receipt = ch.liquidate_bankrupt(trader, sender=attacker)
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, deficit, 0, 0)
    assert vault.totalAssets() == assets - deficit - KEEPER_REWARD
    assert ch.collateral(attacker) == attacker_collateral + KEEPER_REWARD
    state = (vault.totalAssets(), ch.bad_debt(), ch.socialized_loss(0), ch.collateral(attacker), ch.open_interest(0))

    for keeper in (attacker, liquidator):
        with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
            ch.liquidate_bankrupt(trader, sender=keeper)
    # the flat, empty account is not liquidatable either
    assert ch.equity(trader) == ch.collateral(trader) == 0
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(trader, 0, 1, sender=attacker)
    # a further price fall does not revive the debt: there is no position left to lose on
    market.set_price(30_000)
    assert ch.equity(trader) == 0
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    assert (vault.totalAssets(), ch.bad_debt(), ch.socialized_loss(0), ch.collateral(attacker), ch.open_interest(0)) == state


def test_liquidate_refuses_a_bankrupt_account(market, trader, attacker):
    """A partial liquidation would charge a penalty to an account that cannot pay and leave
    the deficit unresolved: refused at every size."""
    ch = market.clearinghouse
    market.set_price(43_000)
    assert ch.equity(trader) < 0
    assert ch.max_liquidatable_size(trader, 0) == 0
    collateral = ch.collateral(attacker)
    for size in (1, WAD // 2, WAD):
        with ape.reverts("liquidate: account is bankrupt, use liquidate_bankrupt"):
            ch.liquidate(trader, 0, size, sender=attacker)
    assert ch.position_size(trader, 0) == WAD
    assert ch.collateral(attacker) == collateral


def test_deposit_after_resolution_belongs_to_the_account(market, trader, attacker, liquidator):
    """The resolved account starts from zero: money it deposits later is its own, not a
    source for a second round of the old debt."""
    ch = market.clearinghouse
    market.set_price(43_000)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    market.fund(trader, 100)
    assert ch.collateral(trader) == ch.equity(trader) == 100 * UNIT
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    ch.withdraw(100 * UNIT, sender=trader)
    assert ch.collateral(trader) == 0
