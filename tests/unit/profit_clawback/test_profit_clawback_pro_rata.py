"""Proportions: each winner pays the same fraction h of its unrealized profit, h = residual /
the side's net profit, capped at 1 (the rest is bad debt)."""
from conftest import P_EVENT, SCALE, UNIT, WAD, WINNER_SIZES
from support.profit_clawback_model import charge, owed

RESIDUAL = 7_500_000  # 7.5 tokens


def test_worked_example_takes_sixty_percent_of_each_winners_profit(example, winners, trader, liquidator):
    """e = (10, 5, 1), protected cash (2, 1, 0.5), profit (8, 4, 0.5); 7.5 clawed back:
    h = 7.5 / 12.5 = 0.6, post equities 5.2, 2.6, 0.7."""
    ch = example.clearinghouse
    example.set_price(9)
    assert [ch.equity(w) for w in winners] == [10 * UNIT, 5 * UNIT, 1 * UNIT]
    assert ch.equity(trader) == -RESIDUAL
    assert ch.loss_policy() == "profit_clawback"

    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)

    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.insurance_paid, log.socialized, log.bad_debt) == (RESIDUAL, 0, RESIDUAL, 0)
    [event] = receipt.events.filter(ch.ProfitClawedBack)
    assert (event.market, event.long_side, event.amount, event.side_profit) == (0, False, RESIDUAL, 12_500_000)
    assert ch.clawback_index(0, False) == (-54 * WAD // 10, 6 * WAD // 10)
    assert [ch.equity(w) for w in winners] == [5_200_000, 2_600_000, 700_000]
    assert ch.socialized_loss(0) == RESIDUAL
    # the reference model agrees
    charged, dx, dy = charge(RESIDUAL, sum(WINNER_SIZES), 125 * UNIT, P_EVENT, False, SCALE)
    assert charged == RESIDUAL
    assert [owed(s, s * 10 // 10**12, dx, dy, SCALE) for s in WINNER_SIZES] == [4_800_000, 2_400_000, 300_000]


def test_smaller_residual_takes_a_smaller_fraction(example, winners, trader, liquidator):
    """At 9.5 the winners' profit is 6.25 and the trader's deficit 1.25: h = 0.2 of each
    winner's profit (4, 2, 0.25)."""
    ch = example.clearinghouse
    example.set_price(9.5)
    assert ch.equity(trader) == -1_250_000
    before = [ch.equity(w) for w in winners]
    ch.liquidate_bankrupt(trader, sender=liquidator)
    assert [b - ch.equity(w) for b, w in zip(before, winners)] == [800_000, 400_000, 50_000]


def test_side_profit_below_the_residual_takes_all_of_it_and_the_rest_is_bad_debt(example, winners, trader, maker, other, liquidator):
    """`other` sold 10 at 8 (to the maker), so at 9 the short side's net profit is
    12.5 - 10 = 2.5 against a residual of 7.5: h = 1, the winners lose their whole profit
    (never more: their cash is untouched), `other` (not in profit) pays nothing, 5 is bad
    debt, and the 10 clamped away from `other` goes to the insurance vault when it settles."""
    ch = example.clearinghouse
    example.fund(maker, 1_000)
    example.fund(other, 1_000)
    example.set_price(8)
    example.fill(maker, other, -10 * WAD, 8 * WAD)  # other sells 10 at 8
    example.set_price(9)
    other_equity = ch.equity(other)
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.deficit, log.socialized, log.bad_debt) == (RESIDUAL, 2_500_000, 5_000_000)
    assert [ch.equity(w) for w in winners] == [2 * UNIT, 1 * UNIT, UNIT // 2]
    assert ch.equity(other) == other_equity
    assert ch.policy_excess(other) == 10 * UNIT
    treasury = ch.treasury()
    [settled] = ch.settle(other, sender=liquidator).events.filter(ch.Settled)
    assert (settled.haircut, settled.excess) == (0, 10 * UNIT)
    assert ch.treasury() == treasury + 10 * UNIT
    assert ch.policy_excess(other) == 0 and ch.equity(other) == other_equity
