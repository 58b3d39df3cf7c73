"""The vault's two reads of the Clearinghouse, played by MockVaultClearinghouse: pending revenue
is swept in before a deposit, mint or request is priced (and previewed), and `flag_loss` /
`clear_loss` hold every claim back while a bankrupt account is unresolved."""
import ape
import pytest
from insurance_vault_helpers import COOLDOWN, MAX_UINT, USDC, events, to_shares


@pytest.fixture
def wired(owner, project, token, staker, other, attacker):
    ch = owner.deploy(project.MockVaultClearinghouse, token)
    vault = owner.deploy(project.InsuranceVault, token, ch, COOLDOWN)
    ch.set_vault(vault, sender=owner)
    token.mint(ch, 1_000_000 * USDC, sender=owner)
    for acct in (staker, other, attacker):
        token.mint(acct, 1_000_000 * USDC, sender=acct)
        token.approve(vault, MAX_UINT, sender=acct)
    vault.deposit(1_000 * USDC, staker, sender=staker)
    return ch, vault


def test_deposit_sweeps_pending_revenue_first(wired, attacker):
    ch, vault = wired
    ch.accrue(100 * USDC, sender=attacker)
    ta, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_shares(10_000 * USDC, ta + 100 * USDC, supply)
    assert vault.previewDeposit(10_000 * USDC) == expected  # includes the pending revenue
    tx = vault.deposit(10_000 * USDC, attacker, sender=attacker)
    assert vault.balanceOf(attacker) == expected
    assert ch.pending_vault_revenue() == 0
    assert vault.totalAssets() == ta + 100 * USDC + 10_000 * USDC
    (rev,) = events(tx, "Revenue")
    assert rev.amount == 100 * USDC


def test_mint_and_request_sweep_first(wired, staker, other):
    ch, vault = wired
    ch.accrue(50 * USDC, sender=other)
    assets = vault.previewMint(10**12)
    vault.mint(10**12, other, sender=other)
    assert vault.totalAssets() == 1_000 * USDC + 50 * USDC + assets
    ch.accrue(30 * USDC, sender=other)
    vault.request_redeem(vault.balanceOf(staker), sender=staker)
    # the request is valued after the 30 the staker helped earn
    assert vault.redeem_request(staker).assets == vault.convertToAssets(vault.redeem_request(staker).shares)
    assert ch.pending_vault_revenue() == 0


def test_flag_loss_holds_back_claims_until_cleared(wired, staker, attacker, trader, chain):
    ch, vault = wired
    shares = vault.balanceOf(staker)
    tx = vault.request_redeem(shares, sender=staker)
    chain.mine(timestamp=tx.timestamp + COOLDOWN)
    assert vault.maxRedeem(staker) == shares
    ch.set_equity(trader, -5 * USDC, sender=attacker)
    tx = vault.flag_loss(trader, sender=attacker)  # anyone may flag
    (ev,) = events(tx, "LossFlagged")
    assert (ev.account, ev.equity, ev.open_losses) == (trader.address, -5 * USDC, 1)
    assert vault.loss_flagged(trader) and vault.open_losses() == 1
    assert vault.maxRedeem(staker) == vault.maxWithdraw(staker) == vault.claimableRedeemRequest(0, staker) == 0
    assert vault.pendingRedeemRequest(0, staker) == shares
    with ape.reverts("vault: loss pending"):
        vault.redeem(shares, staker, staker, sender=staker)
    with ape.reverts("vault: loss pending"):
        vault.withdraw(1, staker, staker, sender=staker)
    with ape.reverts("clear_loss: equity still negative"):
        vault.clear_loss(trader, sender=staker)
    ch.cover(5 * USDC, sender=attacker)  # the waterfall resolves the account
    ch.set_equity(trader, 0, sender=attacker)
    tx = vault.clear_loss(trader, sender=staker)
    (ev,) = events(tx, "LossCleared")
    assert (ev.account, ev.open_losses) == (trader.address, 0)
    assert vault.maxRedeem(staker) == shares
    vault.redeem(shares, staker, staker, sender=staker)


def test_flag_and_clear_reverts(wired, trader, attacker):
    ch, vault = wired
    with ape.reverts("flag_loss: equity not negative"):
        vault.flag_loss(trader, sender=attacker)  # a healthy account cannot freeze exits
    with ape.reverts("clear_loss: not flagged"):
        vault.clear_loss(trader, sender=attacker)
    ch.set_equity(trader, -1, sender=attacker)
    vault.flag_loss(trader, sender=attacker)
    with ape.reverts("flag_loss: already flagged"):
        vault.flag_loss(trader, sender=attacker)
    assert vault.open_losses() == 1
