"""The cbINS share token: ERC-20 transfers, allowances, and shares moved into the vault by redeem requests."""
import ape
from insurance_vault_helpers import MAX_UINT, USDC, events

ZERO = "0x0000000000000000000000000000000000000000"


def test_transfer(funded, vault, staker, other):
    vault.deposit(100 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    tx = vault.transfer(other, shares // 3, sender=staker)
    assert vault.balanceOf(staker) == shares - shares // 3
    assert vault.balanceOf(other) == shares // 3
    assert vault.totalSupply() == shares
    (ev,) = events(tx, "Transfer", vault)
    assert (ev.sender, ev.receiver, ev.value) == (staker.address, other.address, shares // 3)


def test_transfer_reverts(funded, vault, staker, other):
    vault.deposit(100 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    with ape.reverts("erc20: transfer to the zero address"):
        vault.transfer(ZERO, 1, sender=staker)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.transfer(other, shares + 1, sender=staker)
    vault.transfer(other, shares, sender=staker)  # the whole balance is fine
    assert vault.balanceOf(staker) == 0


def test_approve(vault, staker, other):
    tx = vault.approve(other, 123, sender=staker)
    assert vault.allowance(staker, other) == 123
    (ev,) = events(tx, "Approval")
    assert (ev.owner, ev.spender, ev.value) == (staker.address, other.address, 123)
    vault.approve(other, 5, sender=staker)  # replaces, does not add
    assert vault.allowance(staker, other) == 5


def test_approve_zero_spender_reverts(vault, staker):
    with ape.reverts("erc20: approve to the zero address"):
        vault.approve(ZERO, 1, sender=staker)


def test_transfer_from(funded, vault, staker, other, attacker):
    vault.deposit(100 * USDC, staker, sender=staker)
    vault.approve(other, 1000, sender=staker)
    vault.transferFrom(staker, attacker, 600, sender=other)
    assert vault.allowance(staker, other) == 400
    assert vault.balanceOf(attacker) == 600
    with ape.reverts("erc20: insufficient allowance"):
        vault.transferFrom(staker, attacker, 401, sender=other)
    with ape.reverts("erc20: insufficient allowance"):
        vault.transferFrom(staker, attacker, 1, sender=attacker)


def test_infinite_allowance_is_not_spent(funded, vault, staker, other):
    vault.deposit(100 * USDC, staker, sender=staker)
    vault.approve(other, MAX_UINT, sender=staker)
    vault.transferFrom(staker, other, 10**6, sender=other)
    assert vault.allowance(staker, other) == MAX_UINT


def test_requested_shares_move_into_the_vault(funded, vault, staker, other):
    """ERC-7540: a request takes the shares out of the owner's balance into the vault's."""
    vault.deposit(100 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    locked = shares // 4
    tx = vault.request_redeem(locked, sender=staker)
    assert vault.balanceOf(staker) == shares - locked
    assert vault.balanceOf(vault) == locked
    assert vault.totalSupply() == shares  # still shares: they keep bearing losses
    (ev,) = events(tx, "Transfer", vault)
    assert (ev.sender, ev.receiver, ev.value) == (staker.address, vault.address, locked)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.transfer(other, shares - locked + 1, sender=staker)
    vault.transfer(other, shares - locked, sender=staker)
    assert vault.balanceOf(staker) == 0
    assert vault.redeem_request(staker).shares == locked


def test_remaining_request_stays_in_the_vault_after_partial_redeem(funded, vault, staker, matured):
    vault.deposit(100 * USDC, staker, sender=staker)
    shares = vault.balanceOf(staker)
    vault.request_redeem(shares // 2, sender=staker)
    matured(staker)
    vault.redeem(shares // 4, staker, staker, sender=staker)
    locked = shares // 2 - shares // 4
    assert vault.redeem_request(staker).shares == locked == vault.balanceOf(vault)
    assert vault.balanceOf(staker) == shares - shares // 2


def test_permit_and_metadata_come_from_snekmate(vault):
    assert vault.nonces(ZERO) == 0
    assert len(vault.DOMAIN_SEPARATOR()) == 32
