"""Fixtures for the profit_clawback unit tests (no insurance vault: every deficit goes to the
policy). Fees are zero so the numbers are the worked example's.

`example`: one market at 10 (imr 2 %, mmr 1 %). Three winners sell to the trader: sizes 8, 4
and 0.5 with 2, 1 and 0.5 tokens deposited; the trader (5 deposited) is long 12.5. At 9 the
winners' equities are 10, 5 and 1 (protected cash 2, 1, 0.5 plus profit 8, 4, 0.5) and the
trader's is -7.5: h = 7.5 / 12.5 = 0.6 of each winner's profit is clawed back.
"""
import pytest

WAD = 10**18
UNIT = 10**6
SCALE = 10**30  # 10**(36 - 6)
P0 = 10 * WAD
P_EVENT = 9 * WAD
WINNER_SIZES = (8 * WAD, 4 * WAD, WAD // 2)
WINNER_CASH = (2 * UNIT, 1 * UNIT, UNIT // 2)


@pytest.fixture(scope="session", autouse=True)
def _clawback_roles(owner, trader, maker, liquidator, staker, other, guardian, attacker):
    """Create the session-scoped accounts before any module snapshot."""


@pytest.fixture(scope="module")
def winners(accounts, owner):
    generated = [accounts.generate_test_account() for _ in WINNER_SIZES]
    for account in generated:
        owner.transfer(account, 10**18)
    return generated


@pytest.fixture(scope="module")
def clawback(protocol_builder, owner):
    """A bare profit_clawback protocol: one market at 10, no vault, no fees."""
    protocol = protocol_builder(loss_policy="profit_clawback", with_vault=False, price=10.0, imr=WAD // 50, mmr=WAD // 100)
    protocol.clearinghouse.set_fees(0, 0, 0, sender=owner)
    return protocol


@pytest.fixture(scope="module")
def example(clawback, winners, trader, liquidator):
    clawback.fund(liquidator, 1_000)
    clawback.fund(trader, 5)
    for account, size, cash in zip(winners, WINNER_SIZES, WINNER_CASH):
        clawback.fund(account, cash / UNIT)
        clawback.fill(trader, account, -size, P0)  # the winner sells, the trader buys
    return clawback
