"""notify_revenue and cover: access control, balance checks, per-event limit, reserve, donations."""
import ape
import pytest
from insurance_vault_helpers import USDC, WAD, events, state, to_assets


@pytest.fixture
def staked(funded, vault, staker, other):
    vault.deposit(600 * USDC, staker, sender=staker)
    vault.deposit(400 * USDC, other, sender=other)
    return vault


# --- notify_revenue -------------------------------------------------------------------------


def test_revenue_raises_the_share_price(staked, vault, token, staker, clearinghouse_account):
    shares = vault.balanceOf(staker)
    value_before = vault.convertToAssets(shares)
    token.transfer(vault, 50 * USDC, sender=clearinghouse_account)
    tx = vault.notify_revenue(50 * USDC, sender=clearinghouse_account)
    assert vault.totalAssets() == 1_050 * USDC
    (ev,) = events(tx, "Revenue")
    assert (ev.amount, ev.total_assets) == (50 * USDC, 1_050 * USDC)
    ta, supply = state(vault)
    assert vault.convertToAssets(shares) == to_assets(shares, ta, supply)
    assert vault.convertToAssets(shares) - value_before == pytest.approx(30 * USDC, abs=1)


def test_revenue_only_clearinghouse(staked, vault, token, attacker, owner):
    token.transfer(vault, USDC, sender=attacker)
    for caller in (attacker, owner):
        with ape.reverts("notify_revenue: only clearinghouse"):
            vault.notify_revenue(USDC, sender=caller)


def test_revenue_must_have_been_received(staked, vault, token, clearinghouse_account):
    with ape.reverts("notify_revenue: revenue not received"):
        vault.notify_revenue(1, sender=clearinghouse_account)
    token.transfer(vault, 10 * USDC, sender=clearinghouse_account)
    with ape.reverts("notify_revenue: revenue not received"):
        vault.notify_revenue(10 * USDC + 1, sender=clearinghouse_account)
    vault.notify_revenue(10 * USDC, sender=clearinghouse_account)  # exactly the balance
    assert vault.totalAssets() == token.balanceOf(vault) == 1_010 * USDC
    # The same tokens cannot be notified twice.
    with ape.reverts("notify_revenue: revenue not received"):
        vault.notify_revenue(1, sender=clearinghouse_account)


def test_zero_revenue_is_a_noop(staked, vault, clearinghouse_account):
    tx = vault.notify_revenue(0, sender=clearinghouse_account)
    assert events(tx, "Revenue") == []
    assert vault.totalAssets() == 1_000 * USDC


def test_donation_does_not_move_the_price(staked, vault, token, staker, attacker):
    shares = vault.balanceOf(staker)
    before = (vault.totalAssets(), vault.convertToAssets(shares), vault.previewDeposit(USDC))
    token.transfer(vault, 500 * USDC, sender=attacker)
    assert (vault.totalAssets(), vault.convertToAssets(shares), vault.previewDeposit(USDC)) == before
    assert token.balanceOf(vault) == vault.totalAssets() + 500 * USDC


# --- cover ----------------------------------------------------------------------------------


def test_cover_pays_the_clearinghouse(staked, vault, token, staker, clearinghouse_account):
    shares = vault.balanceOf(staker)
    value_before = vault.convertToAssets(shares)
    before = token.balanceOf(clearinghouse_account)
    assert vault.cover.call(100 * USDC, sender=clearinghouse_account) == 100 * USDC
    tx = vault.cover(100 * USDC, sender=clearinghouse_account)
    assert token.balanceOf(clearinghouse_account) - before == 100 * USDC
    assert vault.totalAssets() == token.balanceOf(vault) == 900 * USDC
    (ev,) = events(tx, "Cover")
    assert (ev.requested, ev.paid, ev.total_assets) == (100 * USDC, 100 * USDC, 900 * USDC)
    assert vault.convertToAssets(shares) - value_before == pytest.approx(-60 * USDC, abs=1)


def test_cover_per_event_limit_rounds_down(funded, vault, token, staker, clearinghouse_account):
    vault.deposit(1_000 * USDC + 1, staker, sender=staker)  # odd: half is not a whole unit
    limit = (1_000 * USDC + 1) * (WAD // 2) // WAD
    assert vault.cover.call(10**12, sender=clearinghouse_account) == limit == 500 * USDC
    tx = vault.cover(10**12, sender=clearinghouse_account)
    (ev,) = events(tx, "Cover")
    assert (ev.requested, ev.paid, ev.total_assets) == (10**12, limit, 500 * USDC + 1)
    # The next event is limited by the smaller vault: covers shrink geometrically.
    assert vault.cover.call(10**12, sender=clearinghouse_account) == 250 * USDC


def test_cover_keeps_the_reserve(funded, vault, owner, staker, clearinghouse_account):
    vault.deposit(3 * USDC, staker, sender=staker)
    vault.set_max_cover_ratio(WAD, sender=owner)
    # 3 tokens, default reserve 1 token: at most 2 tokens.
    tx = vault.cover(5 * USDC, sender=clearinghouse_account)
    (ev,) = events(tx, "Cover")
    assert (ev.requested, ev.paid, ev.total_assets) == (5 * USDC, 2 * USDC, USDC)
    # At the reserve: pays nothing, does not revert.
    assert vault.cover.call(1, sender=clearinghouse_account) == 0
    tx = vault.cover(1, sender=clearinghouse_account)
    (ev,) = events(tx, "Cover")
    assert (ev.paid, ev.total_assets) == (0, USDC)
    # The floor: even with a 100 % ratio and the lowest reserve, one base unit stays.
    vault.set_min_reserve(1, sender=owner)
    vault.cover(10 * USDC, sender=clearinghouse_account)
    assert vault.totalAssets() == 1
    assert vault.cover.call(10 * USDC, sender=clearinghouse_account) == 0


def test_cover_below_reserve_pays_nothing(funded, vault, token, staker, clearinghouse_account):
    vault.deposit(USDC // 2, staker, sender=staker)  # below the 1-token reserve
    before = token.balanceOf(clearinghouse_account)
    tx = vault.cover(USDC, sender=clearinghouse_account)
    assert events(tx, "Cover")[0].paid == 0
    assert token.balanceOf(clearinghouse_account) == before
    assert vault.totalAssets() == USDC // 2


def test_cover_on_an_empty_vault_returns_zero(vault, clearinghouse_account):
    assert vault.cover.call(USDC, sender=clearinghouse_account) == 0
    tx = vault.cover(USDC, sender=clearinghouse_account)
    assert events(tx, "Cover")[0].paid == 0


def test_cover_zero(staked, vault, clearinghouse_account):
    tx = vault.cover(0, sender=clearinghouse_account)
    (ev,) = events(tx, "Cover")
    assert (ev.requested, ev.paid, ev.total_assets) == (0, 0, 1_000 * USDC)


def test_cover_only_clearinghouse(staked, vault, attacker, owner):
    for caller in (attacker, owner):
        with ape.reverts("cover: only clearinghouse"):
            vault.cover(1, sender=caller)


def test_cover_ignores_donations(staked, vault, token, attacker, clearinghouse_account):
    """Donated tokens are not assets: they do not raise the per-event limit."""
    token.transfer(vault, 10_000 * USDC, sender=attacker)
    assert vault.cover.call(10**12, sender=clearinghouse_account) == 500 * USDC


@pytest.mark.parametrize("ratio", [1, WAD // 10, WAD])
def test_cover_follows_the_ratio(staked, vault, owner, clearinghouse_account, ratio):
    vault.set_max_cover_ratio(ratio, sender=owner)
    expected = min(1_000 * USDC * ratio // WAD, 1_000 * USDC - USDC)
    assert vault.cover.call(10**12, sender=clearinghouse_account) == expected
