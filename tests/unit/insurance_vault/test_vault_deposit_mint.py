"""deposit / mint, their previews and conversions, rounding directions, and their reverts."""
import ape
import pytest
from insurance_vault_helpers import MAX_UINT, USDC, VIRTUAL_SHARES, events, state, to_assets, to_shares

ZERO = "0x0000000000000000000000000000000000000000"


def test_first_deposit(funded, vault, token, staker):
    before = token.balanceOf(staker)
    tx = vault.deposit(250 * USDC, staker, sender=staker)
    # Empty vault: shares = assets * (0 + 10**6) / (0 + 1).
    shares = 250 * USDC * VIRTUAL_SHARES
    assert vault.balanceOf(staker) == shares
    assert vault.totalSupply() == shares
    assert vault.totalAssets() == 250 * USDC
    assert token.balanceOf(vault) == 250 * USDC
    assert token.balanceOf(staker) == before - 250 * USDC
    (dep,) = events(tx, "Deposit")
    assert (dep.sender, dep.owner, dep.assets, dep.shares) == (staker.address, staker.address, 250 * USDC, shares)
    (mint,) = events(tx, "Transfer", vault)
    assert (mint.sender, mint.receiver, mint.value) == (ZERO, staker.address, shares)


def test_deposit_for_another_receiver(funded, vault, token, staker, other):
    tx = vault.deposit(10 * USDC, other, sender=staker)
    assert vault.balanceOf(other) == 10 * USDC * VIRTUAL_SHARES
    assert vault.balanceOf(staker) == 0
    (dep,) = events(tx, "Deposit")
    assert (dep.sender, dep.owner) == (staker.address, other.address)


def test_mint(funded, vault, token, staker, other):
    tx = vault.mint(7 * 10**12, other, sender=staker)
    # Empty vault: assets = ceil(shares * 1 / 10**6).
    assert vault.totalAssets() == 7 * USDC
    assert vault.balanceOf(other) == 7 * 10**12
    (dep,) = events(tx, "Deposit")
    assert (dep.sender, dep.owner, dep.assets, dep.shares) == (staker.address, other.address, 7 * USDC, 7 * 10**12)


@pytest.fixture
def odd_price(funded, vault, staker, revenue):
    """A share price that is not a round number, so every conversion has a remainder."""
    vault.deposit(1_000 * USDC, staker, sender=staker)
    revenue(333_333_337)
    ta, supply = state(vault)
    assert (ta + 1) % (supply + VIRTUAL_SHARES) != 0
    return ta, supply


def test_deposit_rounds_shares_down(odd_price, vault, other):
    ta, supply = odd_price
    assets = 12_345_679
    expected = to_shares(assets, ta, supply)
    assert (assets * (supply + VIRTUAL_SHARES)) % (ta + 1) != 0  # rounding matters here
    assert vault.previewDeposit(assets) == expected
    assert vault.convertToShares(assets) == expected
    vault.deposit(assets, other, sender=other)
    assert vault.balanceOf(other) == expected
    # Rounded down: the shares are worth no more than what was paid.
    assert expected * (ta + 1) <= assets * (supply + VIRTUAL_SHARES) < (expected + 1) * (ta + 1)


def test_mint_rounds_assets_up(odd_price, vault, token, other):
    ta, supply = odd_price
    shares = 98_765_432_101_234
    expected = to_assets(shares, ta, supply, up=True)
    assert (shares * (ta + 1)) % (supply + VIRTUAL_SHARES) != 0
    assert vault.previewMint(shares) == expected
    assert vault.convertToAssets(shares) == expected - 1  # convert rounds down
    before = token.balanceOf(other)
    vault.mint(shares, other, sender=other)
    assert before - token.balanceOf(other) == expected
    assert vault.totalAssets() == ta + expected
    # Rounded up: what was paid covers the shares' value.
    assert expected * (supply + VIRTUAL_SHARES) >= shares * (ta + 1)


def test_convert_rounds_down_preview_mint_up(odd_price, vault):
    ta, supply = odd_price
    assets, shares = 55_555_551, 4_444_444_443_333
    assert vault.convertToShares(assets) == to_shares(assets, ta, supply)
    assert vault.convertToAssets(shares) == to_assets(shares, ta, supply)
    assert vault.previewMint(shares) == vault.convertToAssets(shares) + 1


def test_deposit_never_lowers_the_price(odd_price, vault, other):
    """A deposit's rounding dust stays with the vault: assets per share never drop."""
    ta, supply = odd_price
    vault.deposit(777_777, other, sender=other)
    ta2, supply2 = state(vault)
    # (ta2 + 1) / (supply2 + v) >= (ta + 1) / (supply + v), and the gain is below one share.
    gain = (ta2 + 1) * (supply + VIRTUAL_SHARES) - (ta + 1) * (supply2 + VIRTUAL_SHARES)
    assert 0 < gain < ta + 1


def test_max_deposit_and_mint_unlimited(vault, staker):
    assert vault.maxDeposit(staker) == MAX_UINT
    assert vault.maxMint(staker) == MAX_UINT


def test_zero_amount_reverts(funded, vault, staker):
    with ape.reverts("deposit: zero assets"):
        vault.deposit(0, staker, sender=staker)
    with ape.reverts("mint: zero shares"):
        vault.mint(0, staker, sender=staker)


def test_zero_receiver_reverts(funded, vault, staker):
    with ape.reverts("deposit: zero receiver"):
        vault.deposit(1, ZERO, sender=staker)
    with ape.reverts("mint: zero receiver"):
        vault.mint(1, ZERO, sender=staker)


def test_deposit_worth_zero_shares_reverts(funded, vault, staker, revenue):
    # Revenue into an empty vault makes one base unit worth less than one share.
    revenue(2 * USDC)
    assert vault.previewDeposit(1) == 0
    with ape.reverts("deposit: zero shares"):
        vault.deposit(1, staker, sender=staker)
    vault.deposit(3, staker, sender=staker)  # 3 * 10**6 // (2 * 10**6 + 1) == 1 share
    assert vault.balanceOf(staker) == 1


def test_deposit_without_token_allowance_reverts(vault, token, trader):
    token.mint(trader, USDC, sender=trader)
    assert token.allowance(trader, vault) == 0
    with ape.reverts("token: insufficient allowance"):
        vault.deposit(USDC, trader, sender=trader)


@pytest.fixture
def faulty(owner, project, clearinghouse_account, staker):
    bad = owner.deploy(project.MockVaultFaultyToken, 6)
    vault = owner.deploy(project.InsuranceVault, bad, clearinghouse_account, 0)
    bad.mint(staker, 1_000 * USDC, sender=staker)
    bad.approve(vault, MAX_UINT, sender=staker)
    return bad, vault


def test_fee_on_transfer_token_is_refused(faulty, staker):
    bad, vault = faulty
    bad.set_fee(1, sender=staker)
    with ape.reverts("vault: asset transfer short"):
        vault.deposit(USDC, staker, sender=staker)
    with ape.reverts("vault: asset transfer short"):
        vault.mint(10**12, staker, sender=staker)
    bad.set_fee(0, sender=staker)
    vault.deposit(USDC, staker, sender=staker)
    assert vault.totalAssets() == bad.balanceOf(vault) == USDC


def test_false_returning_token_is_refused(faulty, staker, clearinghouse_account, chain):
    bad, vault = faulty
    vault.deposit(10 * USDC, staker, sender=staker)
    bad.set_return_false(True, sender=staker)
    with ape.reverts("vault: asset transfer failed"):
        vault.deposit(USDC, staker, sender=staker)
    vault.request_redeem(vault.balanceOf(staker), sender=staker)
    with ape.reverts("vault: asset transfer failed"):
        vault.redeem(vault.redeem_request(staker).shares, staker, staker, sender=staker)
    with ape.reverts("vault: asset transfer failed"):
        vault.cover(USDC, sender=clearinghouse_account)
