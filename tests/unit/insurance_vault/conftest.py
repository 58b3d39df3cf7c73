"""Fixtures for the InsuranceVault unit tests.

The Clearinghouse is played by a plain account, `clearinghouse_account`, so `cover` and
`notify_revenue` can be called directly.
"""
import pytest

USDC = 10**6
DAY = 86_400
COOLDOWN = 7 * DAY
VIRTUAL_SHARES = 10**6  # 10**DECIMALS_OFFSET
VIRTUAL_ASSETS = 1
WAD = 10**18


@pytest.fixture(scope="session")
def clearinghouse_account(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def vault(owner, token, clearinghouse_account, project):
    return owner.deploy(project.InsuranceVault, token, clearinghouse_account, COOLDOWN)


@pytest.fixture(scope="module")
def funded(vault, token, staker, other, attacker, clearinghouse_account):
    """Give the stakers 1,000,000 tokens each, approved to the vault; fund the clearinghouse."""
    for acct in (staker, other, attacker):
        token.mint(acct, 1_000_000 * USDC, sender=acct)
        token.approve(vault, 2**256 - 1, sender=acct)
    token.mint(clearinghouse_account, 1_000_000 * USDC, sender=clearinghouse_account)
    return vault
