"""Fixtures for the Clearinghouse unit tests (issue 2: the trading core).

Deployments are module-scoped; ape isolates every test with a chain snapshot.
Reference arithmetic lives in tests/support/model.py, protocol verbs in tests/support/drivers.py.
"""
import pytest


@pytest.fixture(scope="session", autouse=True)
def _clearinghouse_roles(owner, trader, maker, liquidator, staker, other, guardian, attacker):
    """Create the session-scoped role accounts before any module snapshot."""


@pytest.fixture(scope="module")
def ch(protocol):
    return protocol.clearinghouse
