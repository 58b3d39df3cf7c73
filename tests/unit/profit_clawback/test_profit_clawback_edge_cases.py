"""Edge cases: a side with no net profit (everything is bad debt), the over-collection bound
(the excess is h times the losers' unrealized loss at the event, plus rounding), and the
engine wiring (only an engine of the same policy and collateral)."""
import ape
from conftest import P_EVENT, SCALE, UNIT, WAD, WINNER_SIZES
from support.profit_clawback_model import charge, excess, owed


def test_side_without_net_profit_records_bad_debt(clawback, trader, maker, liquidator):
    """The maker sold 5 to the trader at 10; at 9.7 the trader is bankrupt, but the maker has
    bought its short back from `liquidator`, who sold at 9.7: the short side holds no profit
    at the event price, so nothing can be clawed back and the residual is bad debt."""
    ch = clawback.clearinghouse
    clawback.fund(maker, 1_000)
    clawback.fund(liquidator, 1_000)
    clawback.fund(trader, 1)
    clawback.fill(trader, maker, -5 * WAD, 10 * WAD)  # trader long 5 with 1 token
    clawback.set_price(9.7)  # trader equity 1 - 1.5 < 0; shorts' profit 1.5 >= deficit 0.5
    assert ch.equity(trader) == -500_000
    # the maker buys back from `liquidator` at 9.7, who is now the only short
    clawback.fill(maker, liquidator, -5 * WAD, 97 * WAD // 10)
    assert ch.side_cost(0, False) == 5 * 97 * UNIT // 10  # the new short's cost at 9.7
    receipt = ch.liquidate_bankrupt(trader, sender=liquidator)
    [log] = receipt.events.filter(ch.Bankruptcy)
    assert (log.socialized, log.bad_debt) == (0, 500_000)
    assert receipt.events.filter(ch.ProfitClawedBack) == []
    assert ch.bad_debt() == 500_000


def test_over_collection_is_h_times_the_losers_loss(example, winners, trader, maker, other, liquidator):
    """`other` sold 1 at 8.5 (a loser at 9); the residual 7.5 against a net profit of
    12.5 - 0.5 = 12: h = 0.625. Winners pay 0.625 of their profit (7.8125 in all); the excess
    over the residual, 0.3125, is exactly h x other's loss, and goes to the vault on settle."""
    ch = example.clearinghouse
    example.fund(maker, 1_000)
    example.fund(other, 1_000)
    example.set_price(8.5)
    example.fill(maker, other, -WAD, 85 * WAD // 10)
    example.set_price(9)
    before = [ch.equity(w) for w in winners]
    ch.liquidate_bankrupt(trader, sender=liquidator)
    paid = [b - ch.equity(w) for b, w in zip(before, winners)]
    charged, dx, dy = charge(7_500_000, sum(WINNER_SIZES) + WAD, 125 * UNIT + 85 * UNIT // 10, P_EVENT, False, SCALE)
    assert charged == 7_500_000
    assert paid == [owed(s, s // 10**12 * 10, dx, dy, SCALE) for s in WINNER_SIZES] == [5_000_000, 2_500_000, 312_500]
    over = sum(paid) - charged
    assert over == excess(WAD, 85 * UNIT // 10, dx, dy, SCALE) == ch.policy_excess(other) == 312_500
    assert 0 <= over - 625 * 500_000 // 1000 <= 2 * 4  # h x 0.5 of loss, plus rounding


def test_engine_of_another_policy_is_refused(project, owner, token):
    ch = owner.deploy(project.ClearinghouseProfitClawback, token)
    wrong = owner.deploy(project.LiquidationProRataSize, token)
    with ape.reverts("set_loss_engine: engine runs another loss policy"):
        ch.set_loss_engine(wrong, sender=owner)
    other_token = owner.deploy(project.MockToken, "Other", "OTH", 6)
    foreign = owner.deploy(project.LiquidationProfitClawback, other_token)
    with ape.reverts("set_loss_engine: engine over another collateral"):
        ch.set_loss_engine(foreign, sender=owner)
    with ape.reverts("clearinghouse: no liquidation engine"):
        ch.liquidate_bankrupt(owner, sender=owner)
    right = owner.deploy(project.LiquidationProfitClawback, token)
    ch.set_loss_engine(right, sender=owner)
    assert ch.loss_engine() == right
    with ape.reverts("set_loss_engine: engine already set"):
        ch.set_loss_engine(right, sender=owner)
