"""Fixtures for the liquidation unit tests.

`book`: the default protocol (one market at 50,000, imr 10 %, mmr 5 %, vault wired) where the
trader holds a 1-unit long bought from the maker at 50,000 with 6,000 tokens deposited, and the
maker and the liquidator have 100,000 each. With the 5 bp taker fee the trader's collateral is
5,975, so at 50,000 - x its equity is 5,975 - x:

    healthy          above 46,342.1...   (equity >= 5 % of the notional)
    liquidatable     44,025 .. 46,342    (0 <= equity < maintenance margin)
    bankrupt         below 44,025        (equity < 0)

`trader_model` mirrors the trader's account in Python (support.model.AccountBook).
"""
import pytest
from support.model import MAKER_FEE, P0, TAKER_FEE, UNIT, WAD, AccountBook as Book

TRADER_DEPOSIT = 6_000


@pytest.fixture(scope="session", autouse=True)
def _liquidation_roles(owner, trader, maker, liquidator, staker, other, guardian, attacker):
    """Create the session-scoped accounts before any module snapshot."""


@pytest.fixture(scope="module")
def book(protocol, trader, maker, liquidator):
    protocol.fund(maker, 100_000)
    protocol.fund(liquidator, 100_000)
    protocol.fund(trader, TRADER_DEPOSIT)
    protocol.fill(trader, maker, -WAD, P0)  # the maker sells 1, the trader buys 1
    return protocol


@pytest.fixture
def trader_model():
    model = Book(collateral=TRADER_DEPOSIT * UNIT)
    model.trade(0, WAD, P0, TAKER_FEE)
    return model


@pytest.fixture
def maker_model():
    model = Book(collateral=100_000 * UNIT)
    model.trade(0, -WAD, P0, MAKER_FEE)
    return model


@pytest.fixture
def stake(protocol, staker):
    """Deposit `amount` base units into the insurance vault as the staker."""

    def _stake(amount: int):
        protocol.token.mint(staker, amount, sender=staker)
        protocol.token.approve(protocol.vault, amount, sender=staker)
        protocol.vault.deposit(amount, staker, sender=staker)

    return _stake
