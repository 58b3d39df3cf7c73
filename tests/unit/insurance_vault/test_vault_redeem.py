"""Redeem requests, the cooldown, redeem/withdraw at min(value at request, value now), maxRedeem
and maxWithdraw, and every revert of that path."""
import ape
import pytest
from insurance_vault_helpers import COOLDOWN, DAY, USDC, VIRTUAL_SHARES, events, mul_div, state, to_assets, to_shares

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def staked(funded, vault, staker, other):
    """Two stakers: staker 600 tokens, other 400 tokens; returns staker's shares."""
    vault.deposit(600 * USDC, staker, sender=staker)
    vault.deposit(400 * USDC, other, sender=other)
    return vault.balanceOf(staker)


# --- request_redeem -------------------------------------------------------------------------


def test_request_records_shares_value_and_time(staked, vault, staker, revenue):
    revenue(77_777_777)  # an odd price, so the recorded value is rounded
    ta, supply = state(vault)
    shares = staked // 3
    tx = vault.request_redeem(shares, sender=staker)
    value = to_assets(shares, ta, supply)
    assert vault.redeem_request(staker) == (shares, value, tx.timestamp)
    assert vault.balanceOf(staker) == staked  # shares stay with the owner
    assert state(vault) == (ta, supply)  # a request moves neither assets nor supply
    (ev,) = events(tx, "RedeemRequested")
    assert (ev.owner, ev.shares, ev.assets, ev.unlocks_at) == (staker.address, shares, value, tx.timestamp + COOLDOWN)


def test_new_request_adds_and_restarts_the_clock(staked, vault, staker, chain, revenue):
    first = vault.request_redeem(staked // 2, sender=staker)
    value1 = vault.redeem_request(staker)[1]
    revenue(100 * USDC)
    chain.pending_timestamp = first.timestamp + 6 * DAY
    ta, supply = state(vault)
    second = vault.request_redeem(staked // 4, sender=staker)
    value2 = to_assets(staked // 4, ta, supply)
    assert vault.redeem_request(staker) == (staked // 2 + staked // 4, value1 + value2, second.timestamp)
    # The first part would have matured at first + cooldown; the whole request now waits.
    chain.pending_timestamp = first.timestamp + COOLDOWN
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(1, staker, staker, sender=staker)
    assert vault.maxRedeem(staker) == 0
    chain.pending_timestamp = second.timestamp + COOLDOWN
    vault.redeem(staked // 2 + staked // 4, staker, staker, sender=staker)
    assert vault.redeem_request(staker) == (0, 0, 0)


def test_request_reverts(staked, vault, staker, trader):
    with ape.reverts("vault: zero shares"):
        vault.request_redeem(0, sender=staker)
    with ape.reverts("vault: insufficient unlocked shares"):
        vault.request_redeem(staked + 1, sender=staker)
    with ape.reverts("vault: insufficient unlocked shares"):
        vault.request_redeem(1, sender=trader)  # no shares at all
    vault.request_redeem(staked - 10, sender=staker)
    with ape.reverts("vault: insufficient unlocked shares"):
        vault.request_redeem(11, sender=staker)
    vault.request_redeem(10, sender=staker)
    assert vault.redeem_request(staker)[0] == staked


# --- cooldown timing ------------------------------------------------------------------------


def test_redeem_needs_a_request(staked, vault, staker):
    with ape.reverts("vault: no redeem request"):
        vault.redeem(1, staker, staker, sender=staker)
    with ape.reverts("vault: no redeem request"):
        vault.withdraw(1, staker, staker, sender=staker)


def test_cooldown_boundary(staked, vault, token, staker, chain):
    # Each attempt gets its own timestamp: a reverted transaction may still use up a block.
    tx = vault.request_redeem(staked, sender=staker)
    unlock = tx.timestamp + COOLDOWN
    chain.pending_timestamp = unlock - 3
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(staked, staker, staker, sender=staker)
    chain.pending_timestamp = unlock - 2
    with ape.reverts("vault: cooldown not over"):
        vault.withdraw(1, staker, staker, sender=staker)
    chain.mine(timestamp=unlock - 1)
    assert vault.maxRedeem(staker) == 0
    assert vault.maxWithdraw(staker) == 0
    chain.pending_timestamp = unlock
    before = token.balanceOf(staker)
    tx = vault.redeem(staked // 2, staker, staker, sender=staker)
    assert tx.timestamp == unlock  # matured exactly at requested_at + cooldown
    assert token.balanceOf(staker) - before == events(tx, "Withdraw")[0].assets > 0
    assert vault.maxRedeem(staker) == staked - staked // 2
    assert vault.maxWithdraw(staker) > 0


def test_cooldown_change_applies_to_pending_requests(staked, vault, owner, staker, chain):
    tx = vault.request_redeem(staked, sender=staker)
    chain.pending_timestamp = tx.timestamp + DAY - 10
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(staked, staker, staker, sender=staker)
    vault.set_cooldown(DAY, sender=owner)
    chain.pending_timestamp = tx.timestamp + DAY
    vault.redeem(staked, staker, staker, sender=staker)
    assert vault.balanceOf(staker) == 0


def test_zero_cooldown_redeems_in_the_next_block(funded, owner, token, clearinghouse_account, project, staker):
    vault = owner.deploy(project.InsuranceVault, token, clearinghouse_account, 0)
    token.approve(vault, 10 * USDC, sender=staker)
    vault.deposit(10 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    vault.request_redeem(shares, sender=staker)
    vault.redeem(shares, staker, staker, sender=staker)
    assert vault.totalSupply() == 0


# --- redeem ---------------------------------------------------------------------------------


def test_redeem_at_unchanged_price(staked, vault, token, staker, other, matured):
    vault.request_redeem(staked, sender=staker)
    matured(staker)
    ta, supply = state(vault)
    expected = to_assets(staked, ta, supply)
    assert vault.previewRedeem(staked) == expected
    before = token.balanceOf(other)
    tx = vault.redeem(staked, other, staker, sender=staker)  # to another receiver
    assert token.balanceOf(other) - before == expected
    assert vault.balanceOf(staker) == 0
    assert state(vault) == (ta - expected, supply - staked)
    assert vault.redeem_request(staker) == (0, 0, 0)
    (w,) = events(tx, "Withdraw")
    assert (w.sender, w.receiver, w.owner, w.assets, w.shares) == (
        staker.address, other.address, staker.address, expected, staked)
    (burn,) = events(tx, "Transfer", vault)
    assert (burn.sender, burn.receiver, burn.value) == (staker.address, ZERO, staked)
    (s,) = events(tx, "RedeemSettled")
    assert (s.owner, s.shares, s.assets, s.forfeited, s.remaining_shares, s.remaining_assets) == (
        staker.address, staked, expected, 0, 0, 0)


def test_requested_shares_earn_nothing_more(staked, vault, token, staker, other, revenue, matured):
    """Revenue after the request goes to the remaining stakers, not to the requester."""
    vault.request_redeem(staked, sender=staker)
    request_value = vault.redeem_request(staker)[1]
    revenue(500 * USDC)
    matured(staker)
    now_value = vault.previewRedeem(staked)
    assert now_value > request_value + 250 * USDC  # the share price went up
    other_before = vault.previewRedeem(vault.balanceOf(other))
    before = token.balanceOf(staker)
    tx = vault.redeem(staked, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == request_value
    (s,) = events(tx, "RedeemSettled")
    assert s.forfeited == now_value - request_value
    # The forfeited upside stays in the vault for the other staker.
    assert vault.previewRedeem(vault.balanceOf(other)) >= other_before + s.forfeited - 1
    assert vault.totalAssets() == 1_500 * USDC - request_value


def test_requested_shares_still_bear_losses(staked, vault, token, staker, clearinghouse_account, matured):
    vault.request_redeem(staked, sender=staker)
    request_value = vault.redeem_request(staker)[1]
    vault.cover(300 * USDC, sender=clearinghouse_account)
    matured(staker)
    ta, supply = state(vault)
    now_value = to_assets(staked, ta, supply)
    assert now_value < request_value
    before = token.balanceOf(staker)
    vault.redeem(staked, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == now_value
    # Bears the 30 % loss like everyone else (up to a base unit of virtual-share rounding).
    assert abs(now_value - 600 * USDC * 7 // 10) <= 1


def test_partial_redeem_shrinks_the_request_pro_rata(staked, vault, staker, revenue, matured):
    revenue(3_333_333)
    vault.request_redeem(staked, sender=staker)
    shares0, assets0, at0 = vault.redeem_request(staker)
    revenue(50 * USDC)  # the request price now binds
    matured(staker)
    part = shares0 // 3 + 7
    tx = vault.redeem(part, staker, staker, sender=staker)
    paid = events(tx, "Withdraw")[0].assets
    assert paid == mul_div(assets0, part, shares0)
    rest_shares, rest_assets, at = vault.redeem_request(staker)
    assert rest_shares == shares0 - part
    assert rest_assets == mul_div(assets0, shares0 - part, shares0)
    assert at == at0  # partial redemption does not restart the clock
    # The rest never gains: paid + remaining value never exceeds the original request.
    assert paid + rest_assets <= assets0
    assert rest_assets * shares0 <= assets0 * rest_shares
    vault.redeem(rest_shares, staker, staker, sender=staker)
    assert vault.redeem_request(staker) == (0, 0, 0)


def test_redeem_by_approved_operator(staked, vault, token, staker, other, attacker, matured):
    vault.request_redeem(staked, sender=staker)
    matured(staker)
    with ape.reverts("vault: insufficient allowance"):
        vault.redeem(staked, attacker, staker, sender=attacker)
    vault.approve(other, staked // 2 + 5, sender=staker)
    with ape.reverts("vault: insufficient allowance"):
        vault.redeem(staked // 2 + 6, other, staker, sender=other)
    before = token.balanceOf(other)
    tx = vault.redeem(staked // 2, other, staker, sender=other)
    assert vault.allowance(staker, other) == 5
    assert token.balanceOf(other) - before == events(tx, "Withdraw")[0].assets > 0
    assert events(tx, "Withdraw")[0].sender == other.address


def test_redeem_reverts(staked, vault, staker, matured):
    vault.request_redeem(staked // 2, sender=staker)
    matured(staker)
    with ape.reverts("vault: zero shares"):
        vault.redeem(0, staker, staker, sender=staker)
    with ape.reverts("vault: zero receiver"):
        vault.redeem(1, ZERO, staker, sender=staker)
    with ape.reverts("vault: exceeds requested shares"):
        vault.redeem(staked // 2 + 1, staker, staker, sender=staker)  # owned, but not requested


def test_dust_request_can_be_cleared_for_zero(staked, vault, staker, matured):
    """Shares worth less than one base unit can be requested and redeemed (for 0 assets)."""
    vault.request_redeem(5, sender=staker)
    assert vault.redeem_request(staker)[:2] == (5, 0)
    matured(staker)
    assert vault.maxRedeem(staker) == 5
    assert vault.maxWithdraw(staker) == 0
    with ape.reverts("vault: exceeds requested shares"):
        vault.withdraw(1, staker, staker, sender=staker)
    tx = vault.redeem(5, staker, staker, sender=staker)
    assert events(tx, "Withdraw")[0].assets == 0
    assert vault.redeem_request(staker) == (0, 0, 0)
    assert vault.balanceOf(staker) == staked - 5


# --- withdraw -------------------------------------------------------------------------------


def test_withdraw_at_unchanged_price(staked, vault, token, staker, matured, revenue):
    revenue(1_234_567)
    vault.request_redeem(staked, sender=staker)
    matured(staker)
    ta, supply = state(vault)
    shares0, assets0, _ = vault.redeem_request(staker)
    assets = 123 * USDC + 45
    preview = to_shares(assets, ta, supply, up=True)
    assert vault.previewWithdraw(assets) == preview
    # The recorded request value was rounded down, so its per-share price is a hair lower and
    # may need a few more shares than the preview: less than one base unit's worth.
    expected = max(preview, mul_div(assets, shares0, assets0, up=True))
    assert expected - preview < to_shares(1, ta, supply)
    before = token.balanceOf(staker)
    tx = vault.withdraw(assets, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == assets
    assert vault.balanceOf(staker) == staked - expected
    (w,) = events(tx, "Withdraw")
    assert (w.assets, w.shares) == (assets, expected)
    assert state(vault) == (ta - assets, supply - expected)


def test_withdraw_burns_more_when_the_request_price_binds(staked, vault, token, staker, revenue, matured):
    vault.request_redeem(staked, sender=staker)
    shares0, assets0, _ = vault.redeem_request(staker)
    revenue(400 * USDC)
    matured(staker)
    assets = 100 * USDC
    expected = max(vault.previewWithdraw(assets), mul_div(assets, shares0, assets0, up=True))
    assert expected > vault.previewWithdraw(assets)
    tx = vault.withdraw(assets, staker, staker, sender=staker)
    assert events(tx, "Withdraw")[0].shares == expected
    assert vault.redeem_request(staker)[:2] == (shares0 - expected, mul_div(assets0, shares0 - expected, shares0))


def test_withdraw_reverts(staked, vault, staker, other, matured):
    vault.request_redeem(staked // 2, sender=staker)
    matured(staker)
    with ape.reverts("vault: zero assets"):
        vault.withdraw(0, staker, staker, sender=staker)
    with ape.reverts("vault: zero receiver"):
        vault.withdraw(1, ZERO, staker, sender=staker)
    limit = vault.maxWithdraw(staker)
    with ape.reverts("vault: exceeds requested shares"):
        vault.withdraw(limit + 1, staker, staker, sender=staker)
    with ape.reverts("vault: insufficient allowance"):
        vault.withdraw(1, other, staker, sender=other)
    vault.approve(other, staked, sender=staker)
    vault.withdraw(limit, other, staker, sender=other)  # exactly the limit works
    assert vault.redeem_request(staker)[0] < 10**6  # at most dust shares left
    assert vault.allowance(staker, other) < staked


# --- maxRedeem / maxWithdraw ----------------------------------------------------------------


def test_max_functions_follow_the_request(staked, vault, staker, other, revenue, clearinghouse_account, matured):
    assert vault.maxRedeem(other) == 0 and vault.maxWithdraw(other) == 0  # no request
    vault.request_redeem(staked // 2, sender=staker)
    assert vault.maxRedeem(staker) == 0 and vault.maxWithdraw(staker) == 0  # not matured
    shares0, assets0, _ = vault.redeem_request(staker)
    matured(staker)
    revenue(10 * USDC)
    assert vault.maxRedeem(staker) == shares0
    assert vault.maxWithdraw(staker) == assets0  # the request value binds after revenue
    vault.cover(500 * USDC, sender=clearinghouse_account)
    ta, supply = state(vault)
    assert vault.maxWithdraw(staker) == to_assets(shares0, ta, supply) < assets0  # now the loss binds


@pytest.mark.parametrize("price_move", ["none", "revenue", "cover"])
def test_max_withdraw_is_exactly_withdrawable(staked, vault, token, staker, revenue, clearinghouse_account, matured, price_move):
    vault.request_redeem(staked, sender=staker)
    if price_move == "revenue":
        revenue(99_999_999)
    elif price_move == "cover":
        vault.cover(123_456_789, sender=clearinghouse_account)
    matured(staker)
    limit = vault.maxWithdraw(staker)
    before = token.balanceOf(staker)
    vault.withdraw(limit, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == limit
    assert vault.maxWithdraw(staker) == 0


@pytest.mark.parametrize("price_move", ["none", "revenue", "cover"])
def test_max_redeem_is_exactly_redeemable(staked, vault, staker, revenue, clearinghouse_account, matured, price_move):
    vault.request_redeem(staked, sender=staker)
    if price_move == "revenue":
        revenue(99_999_999)
    elif price_move == "cover":
        vault.cover(123_456_789, sender=clearinghouse_account)
    matured(staker)
    expected = vault.maxWithdraw(staker)
    tx = vault.redeem(vault.maxRedeem(staker), staker, staker, sender=staker)
    assert events(tx, "Withdraw")[0].assets == expected
    assert vault.balanceOf(staker) == 0 and vault.maxRedeem(staker) == 0


def test_last_staker_out_leaves_only_dust(funded, vault, token, staker, matured):
    vault.deposit(1_000 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    vault.request_redeem(shares, sender=staker)
    matured(staker)
    vault.redeem(shares, staker, staker, sender=staker)
    assert vault.totalSupply() == 0
    # The virtual share keeps at most one base unit.
    assert vault.totalAssets() == token.balanceOf(vault) <= 1
    # Supply back to zero with 1 unit of assets; VIRTUAL_SHARES makes the next deposit fair.
    vault.deposit(USDC, staker, sender=staker)
    assert vault.balanceOf(staker) == USDC * VIRTUAL_SHARES // (vault.totalAssets() - USDC + 1)
