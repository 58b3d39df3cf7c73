"""Fixtures for the InsuranceVault unit tests.

The Clearinghouse is played by a plain account, `clearinghouse_account`, so `cover` and
`notify_revenue` can be called directly. Reference arithmetic lives in insurance_vault_helpers.
"""
import pytest
from insurance_vault_helpers import COOLDOWN, MAX_UINT, USDC


@pytest.fixture(scope="session")
def clearinghouse_account(accounts):
    return accounts[8]


@pytest.fixture(scope="session", autouse=True)
def _vault_roles(owner, trader, staker, other, guardian, attacker, clearinghouse_account):
    """Create the session-scoped accounts before any module snapshot (keeps ape's isolation cheap)."""


@pytest.fixture(scope="module")
def vault(owner, token, clearinghouse_account, project):
    return owner.deploy(project.InsuranceVault, token, clearinghouse_account, COOLDOWN)


@pytest.fixture(scope="module")
def funded(vault, token, staker, other, attacker, clearinghouse_account):
    """1,000,000 tokens for each staker, approved to the vault, and for the clearinghouse."""
    for acct in (staker, other, attacker, clearinghouse_account):
        token.mint(acct, 1_000_000 * USDC, sender=acct)
        token.approve(vault, MAX_UINT, sender=acct)
    return vault


@pytest.fixture
def revenue(vault, token, clearinghouse_account):
    """Pay `amount` of revenue into the vault the way the Clearinghouse does."""

    def pay(amount):
        token.transfer(vault, amount, sender=clearinghouse_account)
        return vault.notify_revenue(amount, sender=clearinghouse_account)

    return pay


@pytest.fixture
def matured(vault, chain):
    """Mine a block at the moment `account`'s request becomes claimable (views and the next tx see it)."""

    def advance(account):
        chain.mine(timestamp=vault.redeem_request(account).claimable_from)

    return advance
