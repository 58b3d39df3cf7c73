"""`backstop_bankrupt`: a whale bankruptcy that no keeper can take over whole is still resolved
at once. The waterfall runs on the book as it stands (the winners are charged now, before they
can close and leave), the positions move at the oracle price to the Clearinghouse's own
backstop account at equity zero, and keepers then take them over piece by piece with
`liquidate(clearinghouse, market, size)` (no penalty: the backstop has no equity to pay it)."""
import ape
import pytest
from liquidation_model import P0, SCALE, WAD, ceil_div, mul_div_up, price, set_price, tokens

P_BANK = price(43_000)


@pytest.fixture(scope="module")
def whale(protocol_builder, trader, maker, liquidator):
    """No vault: the trader (6,000) is long 1 from the maker; the liquidator holds only 1,000."""
    protocol = protocol_builder(with_vault=False)
    protocol.fund(maker, 100_000)
    protocol.fund(liquidator, 1_000)
    protocol.fund(trader, 6_000)
    protocol.fill(trader, maker, -WAD, P0)
    set_price(protocol, P_BANK)
    return protocol


def test_a_keeper_too_small_for_the_book_cannot_take_it_over(whale, trader, liquidator):
    with ape.reverts("liquidate: liquidator below initial margin"):
        whale.clearinghouse.liquidate_bankrupt(trader, sender=liquidator)


def test_backstop_resolves_now_and_keepers_take_it_piece_by_piece(whale, trader, maker, liquidator):
    ch = whale.clearinghouse
    deficit = -ch.equity(trader)
    maker_equity = ch.equity(maker)
    keeper_collateral = ch.collateral(liquidator)

    receipt = ch.backstop_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (deficit, 0, deficit, 0)
    [takeover] = receipt.events.filter(ch.BankruptcyTakeover)
    assert (takeover.liquidator, takeover.size, takeover.price) == (ch.address, WAD, P_BANK)
    assert receipt.events.filter(ch.KeeperRewarded) == []
    # the winner is charged at once, and the trader is flat and empty
    assert ch.equity(maker) == maker_equity - mul_div_up(WAD, ceil_div(deficit * SCALE, WAD), SCALE)
    assert ch.position_size(trader, 0) == 0 and ch.equity(trader) == ch.collateral(trader) == 0
    # the backstop book holds the position at equity zero (rounding aside), open interest unchanged
    assert ch.position_size(ch.address, 0) == WAD
    assert ch.equity(ch.address) == 0
    assert ch.open_interest(0) == WAD
    assert ch.collateral(liquidator) == keeper_collateral
    # a keeper (with 5,000 more) takes half (the close factor) at the oracle price, no penalty
    whale.fund(liquidator, 5_000)
    size = ch.max_liquidatable_size(ch.address, 0)
    assert size == WAD // 2
    [liq] = ch.liquidate(ch.address, 0, size, sender=liquidator).events.filter(ch.Liquidation)
    assert (liq.account, liq.size, liq.penalty) == (ch.address, -(WAD // 2), 0)
    assert ch.position_size(ch.address, 0) == WAD // 2
    assert ch.position_size(liquidator, 0) == WAD // 2


def test_backstop_of_a_solvent_account_reverts(whale, maker, liquidator):
    with ape.reverts("liquidate_bankrupt: account is not bankrupt"):
        whale.clearinghouse.backstop_bankrupt(maker, sender=liquidator)
    with ape.reverts("liquidate_bankrupt: cannot liquidate yourself"):
        whale.clearinghouse.backstop_bankrupt(liquidator, sender=liquidator)
