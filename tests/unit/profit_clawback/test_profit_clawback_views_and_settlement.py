"""The clawback is lazy: every view includes it from the event on; settling (explicitly or
by the next trade) moves it into collateral once, with a Settled event."""
import ape
from conftest import UNIT, WAD

CHARGES = (4_800_000, 2_400_000, 300_000)


def test_views_include_the_pending_charge_and_settle_moves_it_once(example, winners, trader, liquidator):
    ch = example.clearinghouse
    example.set_price(9)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    winner = winners[0]
    # pending: collateral already shows it (2 - 4.8), equity too (10 - 4.8)
    assert ch.collateral(winner) == 2 * UNIT - CHARGES[0]
    assert ch.equity(winner) == 10 * UNIT - CHARGES[0]
    with ape.reverts("withdraw: exceeds settled collateral"):
        ch.withdraw(1, sender=winner)
    [settled] = ch.settle(winner, sender=liquidator).events.filter(ch.Settled)
    assert (settled.account, settled.haircut, settled.excess) == (winner, CHARGES[0], 0)
    assert ch.collateral(winner) == 2 * UNIT - CHARGES[0]
    assert ch.equity(winner) == 10 * UNIT - CHARGES[0]
    assert ch.settle(winner, sender=liquidator).events.filter(ch.Settled) == []


def test_next_trade_settles_the_charge(example, winners, trader, maker, liquidator):
    ch = example.clearinghouse
    example.fund(maker, 1_000)
    example.set_price(9)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    winner = winners[1]
    equity = ch.equity(winner)
    receipt = example.fill(maker, winner, WAD, 9 * WAD)  # the winner buys 1 back at 9
    settled = [e for e in receipt.events.filter(ch.Settled) if e.account == winner]
    assert len(settled) == 1 and settled[0].haircut == CHARGES[1]
    assert ch.equity(winner) == equity
    assert ch.position_size(winner, 0) == -3 * WAD
    # the |cost| sum of the short side follows the reduced position (4 -> 3 at a cost of 10)
    assert ch.side_cost(0, False) == ch.side_cost(0, False)  # readable
    assert ch.side_cost(0, False) > 0
