"""Without an insurance vault the waterfall starts at the haircut: nothing is asked of a vault,
no keeper reward is paid, and the whole deficit is charged to the opposite side."""
import pytest
from support.drivers import set_price
from support.model import (
    MAKER_FEE,
    P0,
    SCALE,
    TAKER_FEE,
    WAD,
    AccountBook as Book,
    ceil_div,
    conservation_gap,
    fee,
    mul_div_up,
    notional,
    price,
    tokens,
)

P_BANK = price(43_000)


@pytest.fixture(scope="module")
def bare(protocol_builder, trader, maker, liquidator):
    protocol = protocol_builder(with_vault=False)
    protocol.fund(maker, 100_000)
    protocol.fund(liquidator, 100_000)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)
    return protocol


def test_deficit_goes_straight_to_the_haircut(bare, trader, maker, liquidator):
    ch = bare.clearinghouse
    assert ch.insurance_vault() == "0x" + "00" * 20
    set_price(bare, P_BANK)
    trader_model = Book(collateral=tokens(6_000))
    trader_model.trade(0, WAD, P0, TAKER_FEE)
    maker_model = Book(collateral=tokens(100_000))
    maker_model.trade(0, -WAD, P0, MAKER_FEE)
    deficit = -trader_model.equity({0: P_BANK})
    assert deficit == tokens(1_025)
    treasury = ch.treasury()
    opening = notional(WAD, P0)
    assert treasury == fee(opening, TAKER_FEE) + fee(opening, MAKER_FEE)
    liquidator_collateral = ch.collateral(liquidator)

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    assert receipt.events.filter(ch.KeeperRewarded) == []
    assert ch.collateral(liquidator) == liquidator_collateral
    assert ch.treasury() == treasury  # nothing swept anywhere
    assert ch.socialized_loss(0) == deficit
    delta = ceil_div(deficit * SCALE, WAD)
    assert ch.haircut_index(0, False) == delta
    assert ch.equity(maker) == maker_model.equity({0: P_BANK}) - mul_div_up(WAD, delta, SCALE)
    assert ch.position_size(trader, 0) == 0 and ch.collateral(trader) == 0
    assert ch.bad_debt() == 0
    assert 0 <= conservation_gap(bare, [trader, maker, liquidator]) <= 3
