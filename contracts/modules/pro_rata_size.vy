# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title pro_rata_size
@notice Loss policy "pro rata to size": the residual deficit of a market (after the insurance
        vault) is charged to the open positions on the side opposite to the bankrupt
        position, pro rata to their size, sized on the book as it stood before the keeper's
        takeover (which includes the bankrupt position itself, so no dust side can be left
        to absorb a residual).
@dev Index unit: X of `loss_index` (price units), so a position of `size` owes
     |size| * dX / 10**(36 - token_decimals), rounded up per position, and dX itself rounds
     up: the sum over the side is never below the amount charged, and exceeds it by less than
     one base unit per position plus open_interest / 10**(36 - decimals) base units. Y is not
     used. Gas per event: one index write, whatever the number of accounts; charges settle
     lazily when a position is next touched (`clearing._settle`).
"""

from . import fixed_math
from . import loss_index

uses: loss_index


loss_policy: public(constant(String[32])) = "pro_rata_size"
# the policy charges per unit of size only: loss_index's Y and |cost| sums stay off
TRACKS_COST: constant(bool) = False
# the policy charges through loss_index's indices
CHARGES_INDEX: constant(bool) = True

event Socialized:
    market: indexed(uint256)
    long_side: bool
    amount: uint256
    index: uint256


@external
@view
def haircut_index(market: uint256, long_side: bool) -> uint256:
    """
    @notice Cumulative charge per unit of size (price units: 1e18 = one collateral token per
            base unit) of the long or the short side of a market.
    @param market The market id.
    @param long_side True for the long side.
    @return The side's index.
    """
    x: int256 = 0
    y: int256 = 0
    x, y = loss_index._index(market, long_side)
    return convert(x, uint256)


@internal
def _charge(market: uint256, charge_longs: bool, amount: uint256, open_interest: uint256, price: uint256, scale: uint256) -> uint256:
    """
    @dev The event hook: charge `amount` to the side `charge_longs`, whose total size is
         `open_interest`, at the event's oracle `price`.
    @param market The market.
    @param charge_longs The side opposite to the bankrupt position.
    @param amount The market's share of the residual (collateral base units).
    @param open_interest That side's total size before the takeover.
    @param price The event's oracle price.
    @param scale 10**(36 - token decimals).
    @return What was charged (at most `amount`); the caller records the rest as bad debt.
    """
    if amount == 0 or open_interest == 0:
        return 0
    # the side's size includes the bankrupt position itself (the book is read before the
    # takeover), so the charge per unit stays below the bankrupt's loss per unit: a dust side
    # cannot absorb a whole residual, and the int128 index cannot be run to its cap
    charged: uint256 = amount
    # rounded up, so sum(|size_i| * delta) / scale >= charged: the charge never falls short
    delta: uint256 = fixed_math._mul_div_up(charged, scale, open_interest)
    if not loss_index._bump(market, charge_longs, convert(delta, int256), 0):
        return 0
    loss_index._record(market, charged)
    x: int256 = 0
    y: int256 = 0
    x, y = loss_index._index(market, charge_longs)
    log Socialized(market=market, long_side=charge_longs, amount=charged, index=convert(x, uint256))
    return charged
