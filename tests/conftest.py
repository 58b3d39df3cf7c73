"""Shared fixtures: role-named accounts, the collateral token, price feeds.

Role accounts are ape's well-known devnet test accounts; never bare `accounts[i]` in a test.
"""
import os
from pathlib import Path

import pytest

# Let `ape test --network ethereum:local:foundry` find the project's own anvil (installed from
# the npm registry by ./clawback setup) without the caller exporting PATH: the platform binary,
# first on PATH (node_modules/.bin/anvil is a node wrapper that exits 0 whatever anvil did).
for _anvil in sorted((Path(__file__).resolve().parents[1] / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
    if not os.environ.get("PATH", "").startswith(str(_anvil.parent)):
        os.environ["PATH"] = f"{_anvil.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    break

USDC = 10**6
PRICE = 10**18  # 1 collateral token per base asset


@pytest.fixture(scope="session", autouse=True)
def _no_print_replay():
    """After every transaction ape looks for the contracts' `print()` output (Vyper's debug
    logs): on the in-process chain it replays the whole transaction as an eth_call at its block
    to build a call tree (on anvil it asks for debug_traceTransaction), a second EVM execution of
    every transaction and about a fifth of the suite's time. No contract here prints
    (tests/unit/ops/test_tooling.py::test_no_contract_prints), so for the tests ape's post-send
    hook keeps only its log line. ape is pinned (requirements.txt); the assert catches an
    upgrade that moves the hook."""
    import ape_ethereum.provider as web3_provider

    original = getattr(web3_provider, "_post_send_transaction", None)
    assert callable(original), "ape moved its post-send hook (ape_ethereum.provider._post_send_transaction)"

    def post_send_transaction(tx, receipt):
        web3_provider.logger.info(f"Confirmed {receipt.txn_hash} (total fees paid = {receipt.total_fees_paid})")

    web3_provider._post_send_transaction = post_send_transaction
    yield
    web3_provider._post_send_transaction = original


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


@pytest.fixture(scope="module")
def protocol(project, chain, owner):
    """A deployed protocol: 6-decimal token, one BTC-like market at 50,000 (imr 10 %,
    mmr 5 %), insurance vault wired. Module-scoped; tests isolate state with chain.isolate
    (ape's default per-test isolation)."""
    from support.protocol import build_protocol

    return build_protocol(project, chain, owner)


@pytest.fixture(scope="module")
def protocol_builder(project, chain, owner):
    """Build a protocol with non-default options (decimals, markets, margins, no vault)."""
    from support.protocol import build_protocol

    def _build(**kwargs):
        return build_protocol(project, chain, owner, **kwargs)

    return _build
