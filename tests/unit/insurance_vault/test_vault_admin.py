"""Owner setters and the two-step ownership transfer."""
import ape
import pytest
from insurance_vault_helpers import DAY, WAD, events

ZERO = "0x0000000000000000000000000000000000000000"


def test_set_cooldown(vault, owner):
    tx = vault.set_cooldown(30 * DAY, sender=owner)
    assert vault.cooldown() == 30 * DAY
    (ev,) = events(tx, "CooldownUpdated")
    assert (ev.old_cooldown, ev.new_cooldown) == (7 * DAY, 30 * DAY)
    vault.set_cooldown(0, sender=owner)
    assert vault.cooldown() == 0


def test_set_cooldown_reverts(vault, owner, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        vault.set_cooldown(DAY, sender=attacker)
    with ape.reverts("set_cooldown: cooldown too long"):
        vault.set_cooldown(30 * DAY + 1, sender=owner)


def test_set_claim_window(vault, owner):
    tx = vault.set_claim_window(3600, sender=owner)
    assert vault.claim_window() == 3600
    (ev,) = events(tx, "ClaimWindowUpdated")
    assert (ev.old_window, ev.new_window) == (3 * DAY, 3600)
    vault.set_claim_window(30 * DAY, sender=owner)
    assert vault.claim_window() == 30 * DAY


def test_set_claim_window_reverts(vault, owner, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        vault.set_claim_window(DAY, sender=attacker)
    with ape.reverts("set_claim_window: window too short"):
        vault.set_claim_window(3599, sender=owner)
    with ape.reverts("set_claim_window: window too long"):
        vault.set_claim_window(30 * DAY + 1, sender=owner)


def test_set_max_cover_ratio(vault, owner):
    tx = vault.set_max_cover_ratio(WAD, sender=owner)
    assert vault.max_cover_ratio() == WAD
    (ev,) = events(tx, "MaxCoverRatioUpdated")
    assert (ev.old_ratio, ev.new_ratio) == (WAD // 2, WAD)
    vault.set_max_cover_ratio(1, sender=owner)
    assert vault.max_cover_ratio() == 1


def test_set_max_cover_ratio_reverts(vault, owner, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        vault.set_max_cover_ratio(WAD, sender=attacker)
    with ape.reverts("set_max_cover_ratio: zero ratio"):
        vault.set_max_cover_ratio(0, sender=owner)
    with ape.reverts("set_max_cover_ratio: ratio above 100%"):
        vault.set_max_cover_ratio(WAD + 1, sender=owner)


def test_set_min_reserve(vault, owner):
    tx = vault.set_min_reserve(1, sender=owner)
    assert vault.min_reserve() == 1
    (ev,) = events(tx, "MinReserveUpdated")
    assert (ev.old_reserve, ev.new_reserve) == (10**6, 1)
    vault.set_min_reserve(10**30, sender=owner)  # a huge reserve switches cover off
    assert vault.min_reserve() == 10**30


def test_set_min_reserve_reverts(vault, owner, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        vault.set_min_reserve(5, sender=attacker)
    with ape.reverts("set_min_reserve: reserve below floor"):
        vault.set_min_reserve(0, sender=owner)


def test_two_step_ownership(vault, owner, guardian, attacker):
    tx = vault.transfer_ownership(guardian, sender=owner)
    assert vault.pending_owner() == guardian.address
    assert vault.owner() == owner.address  # nothing changes before acceptance
    (ev,) = events(tx, "OwnershipTransferStarted")
    assert (ev.previous_owner, ev.new_owner) == (owner.address, guardian.address)
    with ape.reverts("ownable_2step: caller is not the new owner"):
        vault.accept_ownership(sender=attacker)
    tx = vault.accept_ownership(sender=guardian)
    assert vault.owner() == guardian.address
    assert vault.pending_owner() == ZERO
    (ev,) = events(tx, "OwnershipTransferred")
    assert (ev.previous_owner, ev.new_owner) == (owner.address, guardian.address)
    # The old owner lost its powers; the new one has them.
    with ape.reverts("ownable: caller is not the owner"):
        vault.set_cooldown(DAY, sender=owner)
    vault.set_cooldown(DAY, sender=guardian)
    assert vault.cooldown() == DAY


def test_transfer_ownership_reverts_and_cancel(vault, owner, guardian, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        vault.transfer_ownership(attacker, sender=attacker)
    vault.transfer_ownership(guardian, sender=owner)
    vault.transfer_ownership(ZERO, sender=owner)  # cancels
    assert vault.pending_owner() == ZERO
    with ape.reverts("ownable_2step: caller is not the new owner"):
        vault.accept_ownership(sender=guardian)
    # With nothing pending, nobody (not even the zero-address check) can accept.
    with ape.reverts("ownable_2step: caller is not the new owner"):
        vault.accept_ownership(sender=owner)


@pytest.mark.parametrize("setter,arg", [("set_cooldown", DAY), ("set_claim_window", DAY), ("set_max_cover_ratio", WAD), ("set_min_reserve", 5)])
def test_pending_owner_has_no_powers(vault, owner, guardian, setter, arg):
    vault.transfer_ownership(guardian, sender=owner)
    with ape.reverts("ownable: caller is not the owner"):
        getattr(vault, setter)(arg, sender=guardian)
