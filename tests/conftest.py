"""Shared fixtures: role-named accounts, the collateral token, price feeds.

Role accounts are ape's well-known devnet test accounts; never bare `accounts[i]` in a test.
"""
import os
from pathlib import Path

import pytest

# Let `ape test --network ethereum:local:foundry` find the project's own anvil (installed from
# the npm registry by ./clawback setup) without the caller exporting PATH.
_ANVIL_DIR = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"
if _ANVIL_DIR.is_dir() and str(_ANVIL_DIR) not in os.environ.get("PATH", ""):
    os.environ["PATH"] = f"{_ANVIL_DIR}{os.pathsep}{os.environ.get('PATH', '')}"

USDC = 10**6
PRICE = 10**18  # 1 collateral token per base asset


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def trader(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def maker(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def liquidator(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def staker(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def other(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def token(owner, project):
    return owner.deploy(project.MockToken, "Mock USD Coin", "mUSDC", 6)


@pytest.fixture(scope="module")
def token18(owner, project):
    return owner.deploy(project.MockToken, "Mock Dai", "mDAI", 18)


@pytest.fixture(scope="module")
def feed(owner, project):
    # 8-decimal feed like Chainlink's USD feeds: BTC at 50,000.
    return owner.deploy(project.MockAggregator, 8, 50_000 * 10**8)
