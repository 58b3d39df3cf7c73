"""InsuranceVault constructor: metadata, defaults, events and every constructor revert."""
import ape
import pytest
from insurance_vault_helpers import COOLDOWN, DAY, WAD, events

ZERO = "0x0000000000000000000000000000000000000000"


def test_metadata_and_defaults(vault, token, owner, clearinghouse_account):
    assert vault.name() == "Clawback Insurance"
    assert vault.symbol() == "cbINS"
    assert vault.decimals() == token.decimals() + vault.DECIMALS_OFFSET() == 12
    assert vault.asset() == token.address
    assert vault.clearinghouse() == clearinghouse_account.address
    assert vault.cooldown() == COOLDOWN
    assert vault.max_cover_ratio() == WAD // 2
    # Default reserve: one whole token.
    assert vault.min_reserve() == 10 ** token.decimals()
    assert vault.owner() == owner.address
    assert vault.pending_owner() == ZERO
    assert vault.totalSupply() == 0
    assert vault.totalAssets() == 0
    assert vault.MAX_COOLDOWN() == 30 * DAY
    assert vault.MIN_RESERVE_FLOOR() == 1
    assert vault.claim_window() == vault.DEFAULT_CLAIM_WINDOW() == 3 * DAY
    assert vault.open_losses() == 0
    assert vault.share() == vault.address
    # ERC-165, ERC-7575, ERC-7540 operator and async redeem; not async deposit.
    for interface_id in ("0x01ffc9a7", "0x2f0a18c5", "0xe3bc4e65", "0x620ee8e4"):
        assert vault.supportsInterface(interface_id)
    assert not vault.supportsInterface("0xce3bbe50")
    assert not vault.supportsInterface("0xffffffff")


def test_deploy_events(vault, owner):
    receipt = vault.creation_metadata.receipt
    (own,) = events(receipt, "OwnershipTransferred")
    assert own.previous_owner == ZERO and own.new_owner == owner.address
    (cd,) = events(receipt, "CooldownUpdated")
    assert (cd.old_cooldown, cd.new_cooldown) == (0, COOLDOWN)
    (ratio,) = events(receipt, "MaxCoverRatioUpdated")
    assert (ratio.old_ratio, ratio.new_ratio) == (0, WAD // 2)
    (res,) = events(receipt, "MinReserveUpdated")
    assert (res.old_reserve, res.new_reserve) == (0, 10**6)


def test_18_decimal_asset(owner, token18, clearinghouse_account, project):
    vault = owner.deploy(project.InsuranceVault, token18, clearinghouse_account, 0)
    assert vault.decimals() == 24
    assert vault.min_reserve() == 10**18
    assert vault.cooldown() == 0


def test_max_cooldown_accepted(owner, token, clearinghouse_account, project):
    vault = owner.deploy(project.InsuranceVault, token, clearinghouse_account, 30 * DAY)
    assert vault.cooldown() == 30 * DAY


def test_revert_cooldown_too_long(owner, token, clearinghouse_account, project):
    with ape.reverts("vault: cooldown too long"):
        owner.deploy(project.InsuranceVault, token, clearinghouse_account, 30 * DAY + 1)


def test_revert_zero_clearinghouse(owner, token, project):
    with ape.reverts("vault: zero clearinghouse"):
        owner.deploy(project.InsuranceVault, token, ZERO, COOLDOWN)


@pytest.mark.parametrize("asset", ["eoa", "zero"])
def test_revert_asset_not_contract(owner, other, clearinghouse_account, project, asset):
    address = other.address if asset == "eoa" else ZERO
    with ape.reverts("vault: asset is not a contract"):
        owner.deploy(project.InsuranceVault, address, clearinghouse_account, COOLDOWN)


def test_revert_asset_decimals_above_18(owner, clearinghouse_account, project):
    token19 = owner.deploy(project.MockToken, "Nineteen", "N19", 19)
    with ape.reverts("vault: asset decimals above 18"):
        owner.deploy(project.InsuranceVault, token19, clearinghouse_account, COOLDOWN)
