"""First-depositor share inflation against the insurance vault.

The classic attack: be the first depositor with a tiny amount, then inflate the assets per
share (by donating tokens, or here also by paying revenue through the Clearinghouse) so that
the victim's deposit rounds down to few or zero shares, and take the victim's rounding loss.
The vault defends with internal asset accounting (donations are not assets) and 10**6 virtual
shares: the victim loses at most dust and the attacker always loses money.
"""
import ape
import pytest

USDC = 10**6
DAY = 86_400
COOLDOWN = 7 * DAY
VIRTUAL_SHARES = 10**6


@pytest.fixture(scope="module")
def clearinghouse_account(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def vault(owner, token, staker, attacker, clearinghouse_account, project):
    vault = owner.deploy(project.InsuranceVault, token, clearinghouse_account, COOLDOWN)
    for acct in (staker, attacker):
        token.mint(acct, 1_000_000 * USDC, sender=acct)
        token.approve(vault, 2**256 - 1, sender=acct)
    return vault


def exit_all(vault, token, account, chain):
    """Request all shares, wait out the cooldown, redeem; return the tokens received."""
    vault.request_redeem(vault.balanceOf(account), sender=account)
    req = vault.redeem_request(account)
    shares = req.shares
    chain.pending_timestamp = max(req.claimable_from, chain.pending_timestamp)
    before = token.balanceOf(account)
    vault.redeem(shares, account, account, sender=account)
    return token.balanceOf(account) - before


@pytest.mark.parametrize("donation", [10_000 * USDC, 999_999 * USDC])
def test_donation_inflation_fails(vault, token, staker, attacker, chain, donation):
    victim_deposit = 1_000 * USDC
    attacker_start = token.balanceOf(attacker)
    # 1. The attacker is first, with one base unit, then donates a fortune.
    vault.deposit(1, attacker, sender=attacker)
    token.transfer(vault, donation, sender=attacker)
    # The donation is not an asset of the vault: the price did not move.
    assert vault.totalAssets() == 1
    assert vault.previewDeposit(victim_deposit) == victim_deposit * VIRTUAL_SHARES
    # 2. The victim deposits.
    vault.deposit(victim_deposit, staker, sender=staker)
    assert vault.balanceOf(staker) == victim_deposit * VIRTUAL_SHARES
    # 3. Both leave.
    victim_out = exit_all(vault, token, staker, chain)
    attacker_out = exit_all(vault, token, attacker, chain)
    assert victim_deposit - 1 <= victim_out <= victim_deposit  # at most one base unit of dust
    assert attacker_out <= 1
    assert attacker_start - token.balanceOf(attacker) >= donation  # the donation is lost
    assert vault.totalSupply() == 0


def test_revenue_inflation_fails(vault, token, staker, attacker, clearinghouse_account, chain):
    """The attacker inflates the price through real revenue (e.g. by paying itself huge fees
    that the Clearinghouse forwards): the virtual shares take half of it, the victim loses dust."""
    revenue = 10_000 * USDC
    victim_deposit = 1_000 * USDC
    attacker_start = token.balanceOf(attacker)
    vault.deposit(1, attacker, sender=attacker)
    token.transfer(clearinghouse_account, revenue, sender=attacker)  # the fees it paid
    token.transfer(vault, revenue, sender=clearinghouse_account)
    vault.notify_revenue(revenue, sender=clearinghouse_account)
    # One share is now worth ~R / 2e6 (the attacker holds 1e6 shares, 1e6 are virtual).
    share_value = (vault.totalAssets() + 1) // (vault.totalSupply() + VIRTUAL_SHARES)
    assert share_value == revenue // (2 * VIRTUAL_SHARES)
    vault.deposit(victim_deposit, staker, sender=staker)
    assert vault.balanceOf(staker) > 0
    victim_out = exit_all(vault, token, staker, chain)
    attacker_out = exit_all(vault, token, attacker, chain)
    victim_loss = victim_deposit - victim_out
    attacker_loss = attacker_start - token.balanceOf(attacker)
    # The victim loses less than two shares' worth: 10 ppm of its deposit here.
    assert 0 <= victim_loss <= 2 * share_value + 1
    assert victim_loss * 100_000 <= victim_deposit
    # The attacker paid the revenue and got back about half of it plus at most the victim's
    # dust: the other half went to the virtual shares (it stays in the vault).
    assert attacker_out <= revenue // 2 + victim_loss + 1
    assert attacker_loss >= revenue // 2 - victim_loss - 1
    assert attacker_loss > 1_000 * victim_loss


def test_victim_deposit_that_would_round_to_zero_reverts(vault, token, staker, attacker, clearinghouse_account):
    """If revenue arrives while nobody holds shares, a deposit worth less than one share
    reverts instead of being swallowed."""
    token.transfer(clearinghouse_account, 5 * USDC, sender=attacker)
    token.transfer(vault, 5 * USDC, sender=clearinghouse_account)
    vault.notify_revenue(5 * USDC, sender=clearinghouse_account)
    before = token.balanceOf(staker)
    with ape.reverts("deposit: zero shares"):
        vault.deposit(4, staker, sender=staker)
    assert token.balanceOf(staker) == before
    # A real deposit buys at the virtual shares' price: the stray revenue stays with the
    # virtual shares, and the depositor neither gains it nor loses more than a base unit.
    vault.deposit(100 * USDC, staker, sender=staker)
    value = vault.convertToAssets(vault.balanceOf(staker))
    assert 100 * USDC - 1 <= value <= 100 * USDC
