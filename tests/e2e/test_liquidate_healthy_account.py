"""Attack: a keeper liquidates an account that is still healthy, to take its position at the
oracle price and pocket the liquidation penalty (or the bankruptcy keeper reward).

Defence: `liquidate` requires equity strictly below the maintenance margin, and
`liquidate_bankrupt` negative equity; `max_liquidatable_size` is 0 for a healthy account. The
victim keeps its position and every token; the attacker gains nothing.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
P0 = 50_000 * WAD


@pytest.fixture(scope="module")
def market(protocol, trader, maker, attacker):
    """The victim (trader) is long 1 at 50,000 with 6,325 deposited: after the 25 taker fee
    its equity at 46,000 is 2,300, exactly the 5 % maintenance margin."""
    protocol.fund(maker, 200_000)
    protocol.fund(attacker, 200_000)
    protocol.fund(trader, 6_325)
    protocol.fill(trader, maker, -WAD, P0)
    return protocol


def snapshot(ch, token, accounts):
    return {a: (ch.position_size(a, 0), ch.collateral(a), ch.equity(a), token.balanceOf(a)) for a in accounts}


def test_healthy_account_cannot_be_liquidated(market, trader, attacker, maker):
    ch, token = market.clearinghouse, market.token
    before = snapshot(ch, token, [trader, attacker, maker])
    assert ch.equity(trader) > ch.maintenance_margin(trader)
    assert ch.max_liquidatable_size(trader, 0) == 0
    for size in (1, WAD // 2, WAD):
        with ape.reverts("liquidate: account is healthy"):
            ch.liquidate(trader, 0, size, sender=attacker)
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    assert snapshot(ch, token, [trader, attacker, maker]) == before


def test_account_exactly_at_maintenance_margin_is_healthy(market, trader, attacker):
    ch, token = market.clearinghouse, market.token
    market.set_price(46_000)
    assert ch.equity(trader) == ch.maintenance_margin(trader) == 2_300 * UNIT
    assert not ch.is_liquidatable(trader)
    assert ch.max_liquidatable_size(trader, 0) == 0
    before = snapshot(ch, token, [trader, attacker])
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(trader, 0, WAD // 2, sender=attacker)
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    assert snapshot(ch, token, [trader, attacker]) == before
    # one oracle tick lower it is fair game, and only up to the close factor
    market.set_price(45_999.99)
    assert ch.is_liquidatable(trader)
    assert ch.max_liquidatable_size(trader, 0) == WAD // 2


def test_liquidatable_but_solvent_account_cannot_be_taken_whole_as_a_bankruptcy(market, trader, attacker):
    """liquidate_bankrupt would take every position and skip the close factor: it is refused
    while the account's equity is not negative."""
    ch = market.clearinghouse
    market.set_price(45_000)
    assert ch.is_liquidatable(trader) and ch.equity(trader) > 0
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        ch.liquidate_bankrupt(trader, sender=attacker)
    with ape.reverts("liquidate: size above close factor"):
        ch.liquidate(trader, 0, WAD, sender=attacker)


def test_account_restored_to_health_cannot_be_liquidated_any_more(market, trader, attacker):
    """A partial liquidation brings the account back above maintenance margin: the attacker
    cannot keep going."""
    ch = market.clearinghouse
    market.set_price(45_900)
    ch.liquidate(trader, 0, ch.max_liquidatable_size(trader, 0), sender=attacker)
    assert not ch.is_liquidatable(trader)
    assert ch.max_liquidatable_size(trader, 0) == 0
    with ape.reverts("liquidate: account is healthy"):
        ch.liquidate(trader, 0, 1, sender=attacker)
