"""Redeem requests (ERC-7540), the cooldown and the claim window, redeem/withdraw at
min(value at request, value now), maxRedeem and maxWithdraw, and every revert of that path."""
import ape
import pytest
from insurance_vault_helpers import COOLDOWN, DAY, USDC, VIRTUAL_SHARES, events, mul_div, state, to_assets

ZERO = "0x0000000000000000000000000000000000000000"
WINDOW = 3 * DAY


@pytest.fixture
def staked(funded, vault, staker, other):
    """Two stakers: staker 600 tokens, other 400 tokens; returns staker's shares."""
    vault.deposit(600 * USDC, staker, sender=staker)
    vault.deposit(400 * USDC, other, sender=other)
    return vault.balanceOf(staker)


def claim_value(vault, controller):
    """min(value now, value at request) of the whole request, from the public views."""
    req = vault.redeem_request(controller)
    return min(vault.convertToAssets(req.shares), req.assets)


# --- requestRedeem --------------------------------------------------------------------------


def test_request_records_shares_value_and_window(staked, vault, staker, revenue):
    revenue(77_777_777)  # an odd price, so the recorded value is rounded
    ta, supply = state(vault)
    shares = staked // 3
    tx = vault.request_redeem(shares, sender=staker)
    value = to_assets(shares, ta, supply)
    assert tuple(vault.redeem_request(staker)) == (shares, value, tx.timestamp + COOLDOWN, tx.timestamp + COOLDOWN + WINDOW)
    assert vault.balanceOf(staker) == staked - shares and vault.balanceOf(vault) == shares
    assert state(vault) == (ta, supply)  # a request moves neither assets nor supply
    assert vault.pendingRedeemRequest(0, staker) == shares
    assert vault.claimableRedeemRequest(0, staker) == 0
    assert vault.pendingRedeemRequest(1, staker) == 0  # only request id 0 exists
    (ev,) = events(tx, "RedeemRequest")
    assert (ev.controller, ev.owner, ev.requestId, ev.sender, ev.shares) == (
        staker.address, staker.address, 0, staker.address, shares)
    (sc,) = events(tx, "RedeemScheduled")
    assert (sc.shares, sc.assets, sc.claimable_from) == (shares, value, tx.timestamp + COOLDOWN)


def test_request_redeem_returns_request_id_zero(staked, vault, staker, other):
    assert vault.requestRedeem.call(staked, other, staker, sender=staker) == 0
    vault.requestRedeem(staked, other, staker, sender=staker)  # for another controller
    assert vault.redeem_request(other).shares == staked
    assert vault.redeem_request(staker).shares == 0


def test_new_request_adds_and_restarts_the_clock(staked, vault, staker, chain, revenue):
    first = vault.request_redeem(staked // 2, sender=staker)
    value1 = vault.redeem_request(staker).assets
    revenue(100 * USDC)
    chain.pending_timestamp = first.timestamp + 6 * DAY
    ta, supply = state(vault)
    second = vault.request_redeem(staked // 4, sender=staker)
    value2 = to_assets(staked // 4, ta, supply)
    req = vault.redeem_request(staker)
    assert (req.shares, req.assets, req.claimable_from) == (staked // 2 + staked // 4, value1 + value2, second.timestamp + COOLDOWN)
    chain.pending_timestamp = first.timestamp + COOLDOWN
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(1, staker, staker, sender=staker)
    assert vault.maxRedeem(staker) == 0
    chain.pending_timestamp = second.timestamp + COOLDOWN
    vault.redeem(staked // 2 + staked // 4, staker, staker, sender=staker)
    assert tuple(vault.redeem_request(staker)) == (0, 0, 0, 0)


def test_request_reverts(staked, vault, staker, trader, other):
    with ape.reverts("requestRedeem: zero shares"):
        vault.request_redeem(0, sender=staker)  # nothing to renew
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.request_redeem(staked + 1, sender=staker)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.request_redeem(1, sender=trader)  # no shares at all
    with ape.reverts("requestRedeem: zero controller"):
        vault.requestRedeem(1, ZERO, staker, sender=staker)
    with ape.reverts("erc20: insufficient allowance"):
        vault.requestRedeem(1, other, staker, sender=other)  # someone else's shares
    vault.request_redeem(staked - 10, sender=staker)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.request_redeem(11, sender=staker)
    # Nobody else can add to (and so restart the clock of) an existing request.
    with ape.reverts("requestRedeem: not controller or operator"):
        vault.requestRedeem(1, staker, other, sender=other)
    vault.request_redeem(10, sender=staker)
    assert vault.redeem_request(staker).shares == staked


def test_request_with_allowance_or_operator(staked, vault, staker, other, attacker):
    vault.approve(other, 100, sender=staker)
    vault.requestRedeem(100, other, staker, sender=other)  # spends the share allowance
    assert vault.allowance(staker, other) == 0
    assert vault.redeem_request(other).shares == 100
    tx = vault.setOperator(attacker, True, sender=staker)
    (ev,) = events(tx, "OperatorSet")
    assert (ev.controller, ev.operator, ev.approved) == (staker.address, attacker.address, True)
    assert vault.isOperator(staker, attacker)
    vault.requestRedeem(50, staker, staker, sender=attacker)  # no allowance needed
    assert vault.redeem_request(staker).shares == 50
    vault.setOperator(attacker, False, sender=staker)
    with ape.reverts("requestRedeem: not controller or operator"):
        vault.requestRedeem(1, staker, staker, sender=attacker)
    with ape.reverts("setOperator: self"):
        vault.setOperator(staker, True, sender=staker)


# --- cooldown and claim window --------------------------------------------------------------


def test_redeem_needs_a_request(staked, vault, staker):
    with ape.reverts("vault: no redeem request"):
        vault.redeem(1, staker, staker, sender=staker)
    with ape.reverts("vault: no redeem request"):
        vault.withdraw(1, staker, staker, sender=staker)


def test_cooldown_and_window_boundaries(staked, vault, token, staker, chain):
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
    assert vault.maxRedeem(staker) == 0 and vault.maxWithdraw(staker) == 0
    chain.pending_timestamp = unlock
    before = token.balanceOf(staker)
    tx = vault.redeem(staked // 2, staker, staker, sender=staker)
    assert tx.timestamp == unlock  # claimable exactly at claimable_from
    assert token.balanceOf(staker) - before == events(tx, "Withdraw")[0].assets > 0
    chain.mine(timestamp=unlock + WINDOW)  # the last claimable second
    assert vault.maxRedeem(staker) == vault.claimableRedeemRequest(0, staker) == staked - staked // 2
    assert vault.pendingRedeemRequest(0, staker) == 0
    chain.pending_timestamp = unlock + WINDOW + 1
    with ape.reverts("vault: request lapsed, renew it"):
        vault.redeem(1, staker, staker, sender=staker)


def test_lapsed_request_stays_capped_until_renewed(staked, vault, staker, chain, revenue):
    """A request not claimed in its window lapses: no exit, the shares stay in the vault with
    their cap, and only a renewal (which restarts the cooldown) opens a new window."""
    tx = vault.request_redeem(staked, sender=staker)
    cap = vault.redeem_request(staker).assets
    chain.mine(timestamp=tx.timestamp + COOLDOWN + WINDOW + 1)
    assert vault.maxRedeem(staker) == vault.maxWithdraw(staker) == 0
    assert vault.pendingRedeemRequest(0, staker) == staked
    revenue(500 * USDC)  # the lapsed request still earns nothing
    renew = vault.request_redeem(0, sender=staker)
    req = vault.redeem_request(staker)
    assert (req.shares, req.assets, req.claimable_from) == (staked, cap, renew.timestamp + COOLDOWN)
    assert events(renew, "RedeemRequest") == []  # no shares added
    chain.pending_timestamp = renew.timestamp + COOLDOWN - 1
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(staked, staker, staker, sender=staker)
    chain.pending_timestamp = renew.timestamp + COOLDOWN
    tx = vault.redeem(staked, staker, staker, sender=staker)
    assert events(tx, "Withdraw")[0].assets == cap


def test_cooldown_change_does_not_act_on_pending_requests(staked, vault, owner, staker, other, chain):
    """Issue 8 item 7: a request keeps the maturity and window it was given."""
    tx = vault.request_redeem(staked, sender=staker)
    vault.set_cooldown(DAY, sender=owner)  # shorter: the pending request does not mature sooner
    chain.pending_timestamp = tx.timestamp + DAY
    with ape.reverts("vault: cooldown not over"):
        vault.redeem(staked, staker, staker, sender=staker)
    vault.set_claim_window(3600, sender=owner)
    vault.set_cooldown(30 * DAY, sender=owner)  # longer: it does not mature later either
    other_shares = vault.balanceOf(other)
    later = vault.request_redeem(other_shares, sender=other)
    assert vault.redeem_request(other).claimable_from == later.timestamp + 30 * DAY  # new ones use it
    assert vault.redeem_request(other).claimable_until == later.timestamp + 30 * DAY + 3600
    chain.pending_timestamp = tx.timestamp + COOLDOWN + WINDOW  # the old window still applies
    vault.redeem(staked, staker, staker, sender=staker)
    assert vault.redeem_request(staker).shares == 0


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
    assert vault.maxWithdraw(staker) == expected
    before = token.balanceOf(other)
    tx = vault.redeem(staked, other, staker, sender=staker)  # to another receiver
    assert token.balanceOf(other) - before == expected
    assert vault.balanceOf(vault) == 0
    assert state(vault) == (ta - expected, supply - staked)
    assert tuple(vault.redeem_request(staker)) == (0, 0, 0, 0)
    (w,) = events(tx, "Withdraw")
    assert (w.sender, w.receiver, w.owner, w.assets, w.shares) == (
        staker.address, other.address, staker.address, expected, staked)
    (burn,) = events(tx, "Transfer", vault)
    assert (burn.sender, burn.receiver, burn.value) == (vault.address, ZERO, staked)
    (s,) = events(tx, "RedeemSettled")
    assert (s.controller, s.shares, s.assets, s.forfeited, s.remaining_shares, s.remaining_assets) == (
        staker.address, staked, expected, 0, 0, 0)


def test_requested_shares_earn_nothing_more(staked, vault, token, staker, other, revenue, matured):
    """Revenue after the request goes to the remaining stakers, not to the requester."""
    vault.request_redeem(staked, sender=staker)
    request_value = vault.redeem_request(staker).assets
    revenue(500 * USDC)
    matured(staker)
    now_value = vault.convertToAssets(staked)
    assert now_value > request_value + 250 * USDC  # the share price went up
    other_before = vault.convertToAssets(vault.balanceOf(other))
    before = token.balanceOf(staker)
    tx = vault.redeem(staked, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == request_value
    (s,) = events(tx, "RedeemSettled")
    assert s.forfeited == now_value - request_value
    # The forfeited upside stays in the vault for the other staker.
    assert vault.convertToAssets(vault.balanceOf(other)) >= other_before + s.forfeited - 1
    assert vault.totalAssets() == 1_500 * USDC - request_value


def test_requested_shares_still_bear_losses(staked, vault, token, staker, clearinghouse_account, matured):
    vault.request_redeem(staked, sender=staker)
    request_value = vault.redeem_request(staker).assets
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


def test_partial_redeem_pays_pro_rata_of_the_claim(staked, vault, staker, revenue, matured):
    revenue(3_333_333)
    vault.request_redeem(staked, sender=staker)
    req0 = vault.redeem_request(staker)
    revenue(50 * USDC)  # the request price now binds
    matured(staker)
    value = claim_value(vault, staker)
    assert value == req0.assets == vault.maxWithdraw(staker)
    part = req0.shares // 3 + 7
    tx = vault.redeem(part, staker, staker, sender=staker)
    paid = events(tx, "Withdraw")[0].assets
    assert paid == mul_div(part, value, req0.shares)
    rest = vault.redeem_request(staker)
    assert rest.shares == req0.shares - part
    assert rest.assets == mul_div(req0.assets, req0.shares - part, req0.shares)
    assert rest.claimable_from == req0.claimable_from  # a partial claim does not restart the clock
    # The rest never gains: paid + remaining value never exceeds the original request.
    assert paid + rest.assets <= req0.assets
    vault.redeem(rest.shares, staker, staker, sender=staker)
    assert vault.redeem_request(staker).shares == 0


def test_redeem_by_operator(staked, vault, token, staker, other, attacker, matured):
    vault.request_redeem(staked, sender=staker)
    matured(staker)
    with ape.reverts("vault: not controller or operator"):
        vault.redeem(staked, attacker, staker, sender=attacker)
    vault.approve(other, staked, sender=staker)  # a share allowance is not enough (ERC-7540)
    with ape.reverts("vault: not controller or operator"):
        vault.redeem(staked, other, staker, sender=other)
    vault.setOperator(other, True, sender=staker)
    before = token.balanceOf(other)
    tx = vault.redeem(staked // 2, other, staker, sender=other)
    assert token.balanceOf(other) - before == events(tx, "Withdraw")[0].assets > 0
    assert events(tx, "Withdraw")[0].sender == other.address
    vault.withdraw(1, other, staker, sender=other)


def test_redeem_reverts(staked, vault, staker, matured):
    vault.request_redeem(staked // 2, sender=staker)
    matured(staker)
    with ape.reverts("redeem: zero shares"):
        vault.redeem(0, staker, staker, sender=staker)
    with ape.reverts("redeem: zero receiver"):
        vault.redeem(1, ZERO, staker, sender=staker)
    with ape.reverts("redeem: exceeds requested shares"):
        vault.redeem(staked // 2 + 1, staker, staker, sender=staker)  # owned, but not requested


def test_dust_request_can_be_cleared_for_zero(staked, vault, staker, matured):
    """Shares worth less than one base unit can be requested and redeemed (for 0 assets)."""
    vault.request_redeem(5, sender=staker)
    assert vault.redeem_request(staker)[:2] == (5, 0)
    matured(staker)
    assert vault.maxRedeem(staker) == 5
    assert vault.maxWithdraw(staker) == 0
    with ape.reverts("withdraw: exceeds claimable assets"):
        vault.withdraw(1, staker, staker, sender=staker)
    tx = vault.redeem(5, staker, staker, sender=staker)
    assert events(tx, "Withdraw")[0].assets == 0
    assert vault.redeem_request(staker).shares == 0
    assert vault.balanceOf(staker) == staked - 5


# --- withdraw -------------------------------------------------------------------------------


@pytest.mark.parametrize("price_move", ["none", "revenue"])
def test_withdraw_burns_pro_rata_of_the_claim(staked, vault, token, staker, matured, revenue, price_move):
    revenue(1_234_567)
    vault.request_redeem(staked, sender=staker)
    if price_move == "revenue":
        revenue(400 * USDC)  # the request price binds
    matured(staker)
    ta, supply = state(vault)
    req0 = vault.redeem_request(staker)
    value = vault.maxWithdraw(staker)
    assets = 123 * USDC + 45
    expected = mul_div(assets, req0.shares, value, up=True)
    before = token.balanceOf(staker)
    tx = vault.withdraw(assets, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == assets
    (w,) = events(tx, "Withdraw")
    assert (w.assets, w.shares) == (assets, expected)
    assert state(vault) == (ta - assets, supply - expected)
    assert vault.redeem_request(staker)[:2] == (req0.shares - expected, mul_div(req0.assets, req0.shares - expected, req0.shares))


def test_withdraw_reverts(staked, vault, staker, other, matured):
    vault.request_redeem(staked // 2, sender=staker)
    matured(staker)
    with ape.reverts("withdraw: zero assets"):
        vault.withdraw(0, staker, staker, sender=staker)
    with ape.reverts("withdraw: zero receiver"):
        vault.withdraw(1, ZERO, staker, sender=staker)
    limit = vault.maxWithdraw(staker)
    with ape.reverts("withdraw: exceeds claimable assets"):
        vault.withdraw(limit + 1, staker, staker, sender=staker)
    with ape.reverts("vault: not controller or operator"):
        vault.withdraw(1, other, staker, sender=other)
    vault.withdraw(limit, staker, staker, sender=staker)  # exactly the limit works
    assert vault.redeem_request(staker).shares == 0


# --- maxRedeem / maxWithdraw ----------------------------------------------------------------


def test_max_functions_follow_the_request(staked, vault, staker, other, revenue, clearinghouse_account, matured):
    assert vault.maxRedeem(other) == 0 and vault.maxWithdraw(other) == 0  # no request
    vault.request_redeem(staked // 2, sender=staker)
    assert vault.maxRedeem(staker) == 0 and vault.maxWithdraw(staker) == 0  # not matured
    req = vault.redeem_request(staker)
    matured(staker)
    revenue(10 * USDC)
    assert vault.maxRedeem(staker) == req.shares
    assert vault.maxWithdraw(staker) == req.assets  # the request value binds after revenue
    vault.cover(500 * USDC, sender=clearinghouse_account)
    ta, supply = state(vault)
    assert vault.maxWithdraw(staker) == to_assets(req.shares, ta, supply) < req.assets  # now the loss binds


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
    tx = vault.withdraw(limit, staker, staker, sender=staker)
    assert token.balanceOf(staker) - before == limit
    assert events(tx, "Withdraw")[0].shares == staked  # the whole request, no dust left
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
    assert vault.balanceOf(vault) == 0 and vault.maxRedeem(staker) == 0


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
