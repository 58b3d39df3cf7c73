"""Attack: just-in-time staking. Vault revenue (its fee share, liquidation penalties) waits in
the Clearinghouse's `treasury()` until the permissionless `sweep_fees()`. A large deposit
placed just before the sweep would buy shares at the pre-revenue price, take most of the
revenue for one cooldown's exposure, and leave (1,890 of 2,100 in the PoC).

Defence: `deposit` and `mint` call `sweep_fees()` before pricing the new shares, so revenue
earned before a deposit belongs to the stakers who were there; `requestRedeem` does the same,
so a leaver is paid for the revenue it helped earn.
"""
import pytest
from support.protocol import WAD

UNIT = 10**6
SIZE = 60 * WAD  # 60 BTC at 50,000: 3M notional each way, 6M in all
VAULT_REVENUE = 2_100 * UNIT  # (5 + 2) bp of 6M, half to the vault
HONEST, SNIPE = 10_000 * UNIT, 90_000 * UNIT


@pytest.fixture(scope="module")
def market(protocol, trader, maker, staker, attacker):
    protocol.fund(maker, 400_000)
    protocol.fund(trader, 400_000)
    for acct, amount in ((staker, HONEST), (attacker, SNIPE)):
        protocol.token.mint(acct, amount, sender=acct)
        protocol.token.approve(protocol.vault, amount, sender=acct)
    protocol.vault.deposit(HONEST, staker, sender=staker)
    protocol.fill(trader, maker, -SIZE)  # trader opens long 60
    protocol.fill(trader, maker, SIZE)  # and closes it: 6M traded, the fees wait in treasury
    return protocol


def test_deposit_before_the_sweep_gets_no_earlier_revenue(market, staker, attacker, chain):
    ch, vault, token = market.clearinghouse, market.vault, market.token
    assert ch.treasury() == 2 * VAULT_REVENUE  # the vault's half not swept yet
    assert vault.totalAssets() == HONEST

    # The sniper deposits right before anyone sweeps, sweeps, and leaves at once.
    vault.deposit(SNIPE, attacker, sender=attacker)
    ch.sweep_fees(sender=attacker)
    assert vault.totalAssets() == HONEST + VAULT_REVENUE + SNIPE
    shares = vault.balanceOf(attacker)
    tx = vault.request_redeem(shares, sender=attacker)
    chain.pending_timestamp = tx.timestamp + vault.cooldown()
    before = token.balanceOf(attacker)
    vault.redeem(shares, attacker, attacker, sender=attacker)
    got = token.balanceOf(attacker) - before

    # Before the fix the sniper took 1,890 of the 2,100; now nothing but rounding.
    assert got <= SNIPE
    assert SNIPE - got <= 1
    # The revenue stays with the staker who was there when it was earned.
    assert vault.convertToAssets(vault.balanceOf(staker)) >= HONEST + VAULT_REVENUE - 2


def test_leaver_is_paid_for_revenue_earned_before_its_request(market, staker, chain):
    """The same sweep protects a leaver: a request is valued after the pending revenue."""
    ch, vault, token = market.clearinghouse, market.vault, market.token
    shares = vault.balanceOf(staker)
    tx = vault.request_redeem(shares, sender=staker)
    assert ch.treasury() == VAULT_REVENUE  # only the protocol's half is left
    chain.pending_timestamp = tx.timestamp + vault.cooldown()
    before = token.balanceOf(staker)
    vault.redeem(shares, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before >= HONEST + VAULT_REVENUE - 2
