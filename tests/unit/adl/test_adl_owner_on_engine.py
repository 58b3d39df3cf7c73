"""ClearinghouseAdl runs the owner's vault wiring and protocol-fee withdrawal on its engine
(LiquidationAdl, by DELEGATECALL on the Clearinghouse's storage, to keep the deployable under
EIP-170): the same behaviour and reverts as every other Clearinghouse, and nothing works
before the engine is wired."""
import ape
import pytest

WAD = 10**18
UNIT = 10**6
ZERO_ADDRESS = "0x" + "00" * 20
NOT_OWNER = "ownable: caller is not the owner"


@pytest.fixture(scope="module")
def adl(protocol_builder):
    """An adl protocol without an insurance vault."""
    return protocol_builder(loss_policy="adl", with_vault=False)


def test_set_insurance_vault_runs_on_the_engine(adl, project, owner, attacker):
    ch = adl.clearinghouse
    vault = owner.deploy(project.InsuranceVault, adl.token, ch, 86400)
    with ape.reverts(NOT_OWNER):
        ch.set_insurance_vault(vault, sender=attacker)
    with ape.reverts("clearing: zero vault"):
        ch.set_insurance_vault(ZERO_ADDRESS, sender=owner)
    other_asset = owner.deploy(project.MockToken, "Other", "OTH", 18)
    with ape.reverts("clearing: vault asset mismatch"):
        ch.set_insurance_vault(owner.deploy(project.InsuranceVault, other_asset, ch, 86400), sender=owner)
    foreign = owner.deploy(project.InsuranceVault, adl.token, attacker, 86400)
    with ape.reverts("clearing: vault bound to another clearinghouse"):
        ch.set_insurance_vault(foreign, sender=owner)
    receipt = ch.set_insurance_vault(vault, sender=owner)
    [logged] = receipt.events.filter(ch.InsuranceVaultSet)
    assert logged.vault == vault.address and ch.insurance_vault() == vault.address
    with ape.reverts("clearing: vault already set"):
        ch.set_insurance_vault(vault, sender=owner)


def test_withdraw_protocol_fees_runs_on_the_engine(adl, owner, trader, maker, other, attacker):
    ch, token = adl.clearinghouse, adl.token
    for who in (trader, maker):
        adl.fund(who, 100_000)
    before = ch.treasury()
    adl.fill(trader, maker, WAD, adl.price())
    fees = ch.treasury() - before
    assert fees > 0
    with ape.reverts(NOT_OWNER):
        ch.withdraw_protocol_fees(attacker, 1, sender=attacker)
    with ape.reverts("clearing: zero receiver"):
        ch.withdraw_protocol_fees(ZERO_ADDRESS, 1, sender=owner)
    with ape.reverts("clearing: zero amount"):
        ch.withdraw_protocol_fees(other, 0, sender=owner)
    # the unswept fees are split first (the vault's share waits for it); the rest is withdrawable
    available = fees - fees * ch.insurance_fee_share() // WAD
    with ape.reverts("clearing: exceeds protocol fees"):
        ch.withdraw_protocol_fees(other, available + 1, sender=owner)
    receipt = ch.withdraw_protocol_fees(other, available, sender=owner)
    [logged] = receipt.events.filter(ch.ProtocolFeesWithdrawn)
    assert (logged.receiver, logged.amount) == (other.address, available)
    assert token.balanceOf(other) == available and ch.protocol_fees() == 0


def test_owner_functions_need_the_engine(project, owner):
    token = owner.deploy(project.MockToken, "Mock USD Coin", "mUSDC", 6)
    ch = owner.deploy(project.ClearinghouseAdl, token)
    vault = owner.deploy(project.InsuranceVault, token, ch, 86400)
    with ape.reverts("clearinghouse: no liquidation engine"):
        ch.set_insurance_vault(vault, sender=owner)
    with ape.reverts("clearinghouse: no liquidation engine"):
        ch.withdraw_protocol_fees(owner, 1, sender=owner)
