"""Attack: a standing exit. A staker requests a redemption once and, after the cooldown, keeps
the matured request open as an instant exit. When an account goes bankrupt (visible on-chain:
its equity is negative) the staker leaves before `liquidate_bankrupt` resolves it, and the
stakers who stayed pay the whole cover.

Defence: (1) a request is claimable only in a window (`claim_window`, default 3 days) after its
cooldown; a request not claimed in time lapses and must be renewed, which restarts the
cooldown, so nobody holds an instant exit for long. (2) Anyone may `flag_loss(account)` for an
account with negative equity; while it is unresolved no request can be claimed, so even a
staker whose window is open cannot race the cover.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
DAY = 86_400
STAKE = 50_000 * UNIT
P0 = 50_000 * WAD
DRAW = 1_025 * UNIT + 5 * UNIT  # the deficit (5,975 collateral - 7,000 loss) + keeper reward


@pytest.fixture(scope="module")
def market(protocol, trader, maker, liquidator, staker, attacker):
    protocol.fund(maker, 200_000)
    protocol.fund(liquidator, 200_000)
    for acct in (staker, attacker):
        protocol.token.mint(acct, STAKE, sender=acct)
        protocol.token.approve(protocol.vault, STAKE, sender=acct)
        protocol.vault.deposit(STAKE, acct, sender=acct)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)  # trader long 1; bankrupt below 44,025
    protocol.clearinghouse.sweep_fees(sender=staker)
    return protocol


def exit_now(vault, token, who):
    before = token.balanceOf(who)
    vault.redeem(vault.maxRedeem(who), who, who, sender=who)
    return token.balanceOf(who) - before


def test_a_stale_request_cannot_race_a_visible_bankruptcy(market, trader, liquidator, staker, attacker, chain):
    ch, vault, token = market.clearinghouse, market.vault, market.token
    shares = vault.balanceOf(attacker)
    tx = vault.request_redeem(shares, sender=attacker)
    value = vault.redeem_request(attacker)[1]  # what the shares were worth at the request
    # A month later the matured request is still open ... and an account goes bankrupt.
    chain.mine(timestamp=tx.timestamp + vault.cooldown() + 30 * DAY)
    market.set_price(43_000)
    assert ch.equity(trader) < 0  # the loss is visible, not yet resolved

    # Before the fix the attacker left here, before the cover, at the full pre-loss value.
    assert vault.maxRedeem(attacker) == 0
    with ape.reverts("vault: request lapsed, renew it"):
        vault.redeem(shares, attacker, attacker, sender=attacker)

    ch.liquidate_bankrupt(trader, sender=liquidator)  # the vault covers the deficit
    renew = vault.request_redeem(0, sender=attacker)
    chain.mine(timestamp=renew.timestamp + vault.cooldown())
    market.set_price(43_000)  # keep the feed fresh
    got = exit_now(vault, token, attacker)
    # The attacker bore its half of the draw like the staker who stayed.
    assert got <= value - DRAW // 2 + 1
    assert vault.convertToAssets(vault.balanceOf(staker)) >= value - DRAW // 2 - 2


def test_an_open_window_is_closed_by_flagging_the_loss(market, trader, liquidator, staker, attacker, chain):
    ch, vault, token = market.clearinghouse, market.vault, market.token
    shares = vault.balanceOf(attacker)
    tx = vault.request_redeem(shares, sender=attacker)
    value = vault.redeem_request(attacker)[1]  # what the shares were worth at the request
    chain.mine(timestamp=tx.timestamp + vault.cooldown())
    market.set_price(43_000)
    assert vault.maxRedeem(attacker) == shares  # its window is open
    vault.flag_loss(trader, sender=staker)  # a staker (or keeper) flags the bankrupt account
    assert vault.maxRedeem(attacker) == 0
    with ape.reverts("vault: loss pending"):
        vault.redeem(shares, attacker, attacker, sender=attacker)
    with ape.reverts("clear_loss: equity still negative"):
        vault.clear_loss(trader, sender=attacker)

    ch.liquidate_bankrupt(trader, sender=liquidator)
    vault.clear_loss(trader, sender=attacker)  # resolved: equity is back to 0
    got = exit_now(vault, token, attacker)
    assert got <= value - DRAW // 2 + 1
    assert vault.convertToAssets(vault.balanceOf(staker)) >= value - DRAW // 2 - 2
