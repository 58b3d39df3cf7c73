"""A staker sees a loss coming (a bankrupt account the Clearinghouse is about to cover) and tries
to leave the insurance vault first. Without a matured redeem request there is no exit, and a
staker whose request is still cooling down bears the loss like everyone else.

The Clearinghouse is played by a plain account; `cover` is what it calls in the waterfall.
"""
import ape
import pytest

USDC = 10**6
DAY = 86_400
COOLDOWN = 7 * DAY
DEFICIT = 300 * USDC  # the known loss: the vault holds 1,500, so it pays all of it


@pytest.fixture(scope="module")
def clearinghouse_account(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def vault(owner, token, staker, other, attacker, clearinghouse_account, project):
    vault = owner.deploy(project.InsuranceVault, token, clearinghouse_account, COOLDOWN)
    for acct in (staker, other, attacker):
        token.mint(acct, 500 * USDC, sender=acct)
        token.approve(vault, 500 * USDC, sender=acct)
        vault.deposit(500 * USDC, acct, sender=acct)
    token.mint(clearinghouse_account, 10_000 * USDC, sender=clearinghouse_account)
    return vault


def value_of(vault, account):
    """Everything the account is worth at today's price: its shares and its requested shares."""
    return vault.convertToAssets(vault.balanceOf(account) + vault.redeem_request(account).shares)


def exit_after_cooldown(vault, token, account, chain):
    """Request everything (if not yet), wait out the cooldown, redeem; return the tokens received."""
    if vault.redeem_request(account)[0] == 0:
        vault.request_redeem(vault.balanceOf(account), sender=account)
    req = vault.redeem_request(account)
    if chain.pending_timestamp > req.claimable_until:  # lapsed: renew, wait the cooldown again
        vault.request_redeem(0, sender=account)
        req = vault.redeem_request(account)
    shares = req.shares
    chain.pending_timestamp = max(req.claimable_from, chain.pending_timestamp)
    before = token.balanceOf(account)
    vault.redeem(shares, account, account, sender=account)
    return token.balanceOf(account) - before


def test_instant_exit_before_a_known_cover_fails(vault, token, staker, attacker, trader, chain, clearinghouse_account):
    shares = vault.balanceOf(attacker)
    # Every instant way out is closed.
    assert vault.maxRedeem(attacker) == 0 and vault.maxWithdraw(attacker) == 0
    with ape.reverts("vault: no redeem request"):
        vault.redeem(shares, attacker, attacker, sender=attacker)
    with ape.reverts("vault: no redeem request"):
        vault.withdraw(100 * USDC, attacker, attacker, sender=attacker)
    tx = vault.request_redeem(shares, sender=attacker)
    # Handing the shares to a fresh address does not help: they are in the vault now.
    assert vault.balanceOf(attacker) == 0
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.transfer(trader, shares, sender=attacker)
    # (each attempt at its own timestamp: a reverted transaction may use up a block)
    chain.pending_timestamp = tx.timestamp + 10
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(shares, attacker, attacker, sender=attacker)
    chain.pending_timestamp = tx.timestamp + COOLDOWN - 10
    with ape.reverts("vault: cooldown not over"):
        vault.withdraw(1, attacker, attacker, sender=attacker)
    assert vault.maxRedeem(attacker) == 0

    # The loss lands while the attacker is still in.
    attacker_before, staker_before = value_of(vault, attacker), value_of(vault, staker)
    vault.cover(DEFICIT, sender=clearinghouse_account)
    assert vault.totalAssets() == 1_200 * USDC

    got = exit_after_cooldown(vault, token, attacker, chain)
    staker_after = value_of(vault, staker)
    # The attacker bore the same loss as a staker who did nothing: a third of the deficit each.
    assert got == pytest.approx(attacker_before - DEFICIT // 3, abs=1)
    assert staker_after == pytest.approx(staker_before - DEFICIT // 3, abs=1)
    assert got < 500 * USDC - 99 * USDC


def test_pending_requester_still_bears_the_loss(vault, token, staker, other, chain, clearinghouse_account):
    # `other` asked to leave two days before the loss; the request has not matured.
    tx = vault.request_redeem(vault.balanceOf(other), sender=other)
    request_value = vault.redeem_request(other).assets
    chain.pending_timestamp = tx.timestamp + 2 * DAY
    vault.cover(DEFICIT, sender=clearinghouse_account)
    got = exit_after_cooldown(vault, token, other, chain)
    # min(value at request, value now) = value now: the request did not shelter it.
    assert got < request_value
    assert got == pytest.approx(request_value - DEFICIT // 3, abs=1)
    assert value_of(vault, staker) == pytest.approx(500 * USDC - DEFICIT // 3, abs=1)


def test_racing_the_cover_in_the_same_block_gains_nothing(vault, token, staker, attacker, chain, clearinghouse_account):
    """Requesting right before the cover (front-running it) records the pre-loss value, but the
    min rule pays the post-loss value."""
    vault.request_redeem(vault.balanceOf(attacker), sender=attacker)
    vault.cover(DEFICIT, sender=clearinghouse_account)
    got = exit_after_cooldown(vault, token, attacker, chain)
    stayer = exit_after_cooldown(vault, token, staker, chain)
    assert got == pytest.approx(stayer, abs=1)
    assert got == pytest.approx(400 * USDC, abs=1)


def test_old_request_lapses_and_keeps_its_cap(
    vault, token, staker, attacker, chain, clearinghouse_account
):
    """A request left open past its claim window lapses: leaving a month later needs a renewal
    and a new cooldown, and pays only the value at the request. Everything the vault earned
    meanwhile went to the stakers who stayed exposed."""
    vault.request_redeem(vault.balanceOf(attacker), sender=attacker)
    request_value, requested_at = vault.redeem_request(attacker).assets, vault.redeem_request(attacker).claimable_from - COOLDOWN
    chain.pending_timestamp = requested_at + 30 * DAY
    token.transfer(vault, 150 * USDC, sender=clearinghouse_account)
    vault.notify_revenue(150 * USDC, sender=clearinghouse_account)  # a month of fees
    got = exit_after_cooldown(vault, token, attacker, chain)
    assert got == request_value  # nothing of the 150 revenue
    vault.cover(DEFICIT, sender=clearinghouse_account)
    # The stayer kept its third of the revenue (50) plus half of the 50 the leaver forfeited,
    # and now shares the deficit with `other` alone.
    assert value_of(vault, staker) == pytest.approx(500 * USDC + 75 * USDC - DEFICIT // 2, abs=2)
