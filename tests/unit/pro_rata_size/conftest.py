"""Fixtures for the haircut unit tests (no insurance vault: every deficit goes to the haircut).

`crowd`: two markets at 50,000 (imr 10 %, mmr 5 %). The trader (6,000 deposited) bought
1 unit in market 0 from three generated short accounts of uneven sizes, 0.5 + 7 wei,
0.3 + 11 wei and 0.2 - 18 wei, each with 10,000 deposited; the liquidator has 100,000. At
43,000 the trader's equity is about -1,025 and its deficit is charged to the three shorts.

The reference arithmetic is the shared model (tests/support/model.py).
"""
import pytest
from pro_rata_size_scenario import SHORT_DEPOSIT, SHORT_SIZES, TRADER_DEPOSIT
from support.model import MAKER_FEE, P0, TAKER_FEE, WAD, AccountBook as Book, tokens


@pytest.fixture(scope="session", autouse=True)
def _haircut_roles(owner, trader, maker, liquidator, staker, other, guardian, attacker):
    """Create the session-scoped accounts before any module snapshot."""


@pytest.fixture(scope="module")
def shorts(accounts, owner):
    """Three generated accounts with ether for gas (they only need to sign and deposit)."""
    generated = [accounts.generate_test_account() for _ in SHORT_SIZES]
    for account in generated:
        owner.transfer(account, 10**18)
    return generated


@pytest.fixture(scope="module")
def crowd(protocol_builder, shorts, trader, liquidator):
    assert sum(SHORT_SIZES) == WAD
    protocol = protocol_builder(markets=2, with_vault=False)
    protocol.fund(liquidator, 100_000)
    protocol.fund(trader, TRADER_DEPOSIT)
    for account, size in zip(shorts, SHORT_SIZES):
        protocol.fund(account, SHORT_DEPOSIT)
        protocol.fill(trader, account, -size, P0)  # the short sells, the trader buys
    return protocol


@pytest.fixture
def trader_model():
    model = Book(collateral=tokens(TRADER_DEPOSIT))
    for size in SHORT_SIZES:
        model.trade(0, size, P0, TAKER_FEE)
    return model


@pytest.fixture
def short_models():
    models = []
    for size in SHORT_SIZES:
        model = Book(collateral=tokens(SHORT_DEPOSIT))
        model.trade(0, -size, P0, MAKER_FEE)
        models.append(model)
    return models
