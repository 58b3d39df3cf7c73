"""Who pays: only the opposite side's positions in profit at the event, the keeper's included
(it is charged on the book before its takeover); the bankrupt's side, flat accounts and
positions opened after the event pay nothing."""
from conftest import P_EVENT, UNIT, WAD


def test_keeper_holding_a_winning_short_pays_its_share(example, winners, trader, liquidator):
    """The first winner resolves the bankruptcy itself: its takeover nets its short 8 against
    the trader's long 12.5, but it still pays 0.6 of its profit (4.8)."""
    ch = example.clearinghouse
    keeper = winners[0]
    example.fund(keeper, 100)
    example.set_price(9)
    before = ch.equity(keeper)
    ch.liquidate_bankrupt(trader, sender=keeper)
    assert before - ch.equity(keeper) == 4_800_000
    assert ch.position_size(keeper, 0) == 4 * WAD + WAD // 2
    assert [ch.equity(w) for w in winners[1:]] == [2_600_000, 700_000]


def test_same_side_flat_and_later_positions_pay_nothing(example, winners, trader, maker, other, liquidator):
    ch = example.clearinghouse
    example.fund(maker, 1_000)
    example.fund(other, 1_000)
    example.fill(maker, winners[1], -WAD, 10 * WAD)  # the maker buys 1 (same side as the trader)
    example.set_price(9)
    maker_equity, other_equity = ch.equity(maker), ch.equity(other)
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert ch.equity(maker) == maker_equity  # long like the bankrupt account
    assert ch.equity(other) == other_equity  # flat
    assert ch.clawback_index(0, True) == (0, 0)
    # a short opened after the event snapshots the index and is never charged for it
    example.fill(other, maker, WAD, P_EVENT)  # the maker buys 1 more, other sells 1 at 9
    example.set_price(8)
    assert ch.equity(other) == other_equity + 1 * UNIT
    assert ch.policy_excess(other) == 0
