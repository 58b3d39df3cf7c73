# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title profit_clawback
@notice Loss policy "pro rata to unrealized profit": the residual deficit of a market (after
        the insurance vault) is charged to the positions on the side opposite to the bankrupt
        position in proportion to their unrealized profit in that market at the event's
        oracle price (size * price - cost, on the book before the keeper's takeover). Each
        profitable position pays the same fraction h of its profit, h = residual / (the
        side's net unrealized profit), capped at 1: none pays more than its profit at the
        event, a position not in profit pays nothing, and what the side's net profit cannot
        cover is bad debt.
@dev Index units: loss_index X (price units per unit of size) and Y (1e18 per unit of
     |cost|). An event adds, on the charged side, dX = sign * h * price and dY = -sign * h
     (sign = +1 for longs, -1 for shorts), so a position owes
         u = h * (|size| * price - |cost|)   (longs)    u = h * (|cost| - |size| * price)   (shorts)
     which is h times its unrealized profit; summed over the side, u = h * (side's net
     profit) = residual exactly, also across several events between two touches (size and
     cost are fixed between touches). Positions not in profit have u < 0 and are clamped to
     0, so the side pays more than the residual: the excess is h times the losers' unrealized
     loss at the event (plus rounding, below 2 base units per position and one per 1e18 of
     size), and goes to the insurance vault when the clamped position settles
     (`clearing._settle`; `policy_excess(account)` shows what is still unsettled). Rounding:
     dX rounds away from a smaller charge (up for longs, towards 0 for shorts' negative dX),
     dY likewise, each position's two terms round up, and the side's profit is rounded down:
     the total is never below the residual. The bound "never more than its profit" holds per
     event; a position left untouched over several events pays each event's fraction of its
     profit at that event. Gas per event O(1), whatever the number of accounts: one index word
     (the side's X and Y) and the side's event count are written; the per-side |cost| sums
     (which carry the event counts) cost one storage write per fill.
"""

from . import fixed_math
from . import loss_index

uses: loss_index


loss_policy: public(constant(String[32])) = "profit_clawback"
# the policy charges per unit of cost too: loss_index keeps Y and the per-side |cost| sums
TRACKS_COST: constant(bool) = True
# the policy charges through loss_index's indices
CHARGES_INDEX: constant(bool) = True

_WAD: constant(uint256) = 10**18


event ProfitClawedBack:
    market: indexed(uint256)
    long_side: bool
    amount: uint256
    side_profit: uint256
    index_x: int256
    index_y: int256


@external
@view
def clawback_index(market: uint256, long_side: bool) -> (int256, int256):
    """
    @notice The cumulative clawback indices of one side of a market.
    @param market The market id.
    @param long_side True for the long side.
    @return X (price units per unit of size) and Y (1e18 = 100 % of |cost|).
    """
    return loss_index._index(market, long_side)


@external
@view
def side_cost(market: uint256, long_side: bool) -> uint256:
    """
    @notice Sum of |cost| (collateral base units) over the open positions of one side; the
            side's net unrealized profit at price P is size * P - cost for longs and
            cost - size * P for shorts (size = open_interest(market)).
    @param market The market id.
    @param long_side True for the long side.
    @return The side's |cost| sum.
    """
    return loss_index._cost_sum(market, long_side)


@internal
def _charge(market: uint256, charge_longs: bool, amount: uint256, open_interest: uint256, price: uint256, scale: uint256) -> uint256:
    """
    @dev The event hook: charge `amount` to the positions of side `charge_longs` pro rata to
         their unrealized profit at `price`.
    @param market The market.
    @param charge_longs The side opposite to the bankrupt position.
    @param amount The market's share of the residual (collateral base units).
    @param open_interest That side's total size before the takeover.
    @param price The event's oracle price.
    @param scale 10**(36 - token decimals).
    @return What was charged: min(amount, the side's net unrealized profit); the caller
            records the rest as bad debt.
    """
    if amount == 0 or open_interest == 0:
        return 0
    cost: uint256 = loss_index._cost_sum(market, charge_longs)
    # the side's net unrealized profit, rounded down (h rounds up: never short)
    profit: uint256 = 0
    if charge_longs:
        value: uint256 = fixed_math._mul_div_down(open_interest, price, scale)
        if value <= cost:
            return 0
        profit = value - cost
    else:
        value: uint256 = fixed_math._mul_div_up(open_interest, price, scale)
        if cost <= value:
            return 0
        profit = cost - value
    # h = charged / profit <= 1
    charged: uint256 = min(amount, profit)
    dx: int256 = 0
    dy: int256 = 0
    if charge_longs:
        # u = h * (|size| * price - |cost|): X up (rounded up), Y down (magnitude rounded down)
        dx = convert(fixed_math._mul_div_up(charged, price, profit), int256)
        dy = -convert(fixed_math._mul_div_down(charged, _WAD, profit), int256)
    else:
        # u = h * (|cost| - |size| * price): Y up (rounded up), X down (magnitude rounded down)
        dx = -convert(fixed_math._mul_div_down(charged, price, profit), int256)
        dy = convert(fixed_math._mul_div_up(charged, _WAD, profit), int256)
    if not loss_index._bump(market, charge_longs, dx, dy):
        return 0
    loss_index._record(market, charged)
    x: int256 = 0
    y: int256 = 0
    x, y = loss_index._index(market, charge_longs)
    log ProfitClawedBack(market=market, long_side=charge_longs, amount=charged, side_profit=profit, index_x=x, index_y=y)
    return charged
