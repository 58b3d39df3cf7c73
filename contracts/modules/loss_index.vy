# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title loss_index
@notice The lazy half every loss policy shares: two cumulative indices per market side, the
        per-side sum of |cost|, and the pending charge of a position. A policy's event hook
        (`_charge` in pro_rata_size.vy, profit_clawback.vy, ...) moves the indices of the side
        it charges; `clearing` snapshots them when a position opens or flips, includes the
        pending charge in every equity, margin and collateral view and settles it on touch.
        Vyper fixes imports at compile time, so `clearing` imports this one module and each
        deployable picks the policy module whose `_charge` its waterfall calls.
@dev Index units, per side: X per unit of size (price units, 1e18 = one collateral token per
     base unit) and Y per unit of |cost| (1e18 = 100 %). A position of `size` and `cost`
     (both fixed between two touches, because every touch settles and re-snapshots) owes
         u = ceil(|size| * dX / SCALE) + ceil(|cost| * dY / 1e18)
     since its snapshot, each term rounded up so the sum over positions never falls short of
     what the policy charged; `_pending` clamps u at 0 (a position never receives money from a
     loss policy) and `clearing._settle` sends the clamped-away part to the insurance vault.
     Both indices are signed int128, both sides of a market packed in one word (long high,
     short low), so a fill reads one word for X and, only when Y is in use, one for Y. The
     |cost| sums (and Y) are kept only when the deployment's policy needs them
     (`_TRACK_COST`): pro_rata_size pays no gas for them. Gas per event O(1), whatever the
     number of accounts.
"""

from . import fixed_math


_INT128_MAX: constant(int256) = 2**127 - 1
_WAD: constant(uint256) = 10**18

# whether Y and the per-side |cost| sums are maintained (set once by the deployable)
_TRACK_COST: immutable(bool)

# X of both sides of a market: long in the high 128 bits, short in the low (int128 each)
_x: HashMap[uint256, uint256]
# Y of both sides of a market, same packing (only when _TRACK_COST)
_y: HashMap[uint256, uint256]
# sum of |cost| over the open positions of each side: long high, short low (only when _TRACK_COST)
_cost_sums: HashMap[uint256, uint256]
# total the loss policy took per market (collateral base units), whatever the policy
socialized_loss: public(HashMap[uint256, uint256])


@deploy
def __init__(track_cost: bool):
    """
    @param track_cost Keep Y and the per-side |cost| sums (a policy that charges per unit of
           cost, such as profit_clawback); false for a policy charging per unit of size.
    """
    _TRACK_COST = track_cost


@internal
@view
def _tracks_cost() -> bool:
    """
    @dev Whether this deployment keeps Y and the |cost| sums.
    """
    return _TRACK_COST


@internal
@pure
def _side(word: uint256, long_side: bool) -> int256:
    """
    @dev One side's int128 out of a packed word (long high, short low).
    """
    if long_side:
        return fixed_math._unpack_hi(word)
    return fixed_math._unpack_lo(word)


@internal
@view
def _index(market: uint256, long_side: bool) -> (int256, int256):
    """
    @dev The side's current X and Y (Y is 0 when cost is not tracked).
    @return X (price units per unit of size), Y (1e18 = 100 % of |cost|).
    """
    y: int256 = 0
    if _TRACK_COST:
        y = self._side(self._y[market], long_side)
    return self._side(self._x[market], long_side), y


@internal
@view
def _y_nonzero(market: uint256, long_side: bool) -> bool:
    """
    @dev Whether the side's Y ever moved (it only moves away from zero: longs down, shorts up).
    """
    return self._side(self._y[market], long_side) != 0


@internal
@view
def _accrued(market: uint256, size: int256, cost: int256, snap_x: int256, snap_y: int256, scale: uint256) -> int256:
    """
    @dev The unclamped charge u of a position since its snapshot (negative for a position the
         policy's formula would credit: clamped to 0 by `_pending`). Each term rounds towards
         plus infinity, so the sum over a side is never below what was charged to it.
    @param scale 10**(36 - token decimals): notional = size * price / scale.
    """
    if size == 0:
        return 0
    x: int256 = 0
    y: int256 = 0
    x, y = self._index(market, size > 0)
    dx: int256 = x - snap_x
    dy: int256 = y - snap_y
    owed: int256 = 0
    if dx != 0:
        owed = fixed_math._div_ceil(convert(fixed_math._abs(size), int256) * dx, convert(scale, int256))
    if dy != 0:
        owed += fixed_math._div_ceil(convert(fixed_math._abs(cost), int256) * dy, convert(_WAD, int256))
    return owed


@internal
@view
def _pending(market: uint256, size: int256, cost: int256, snap_x: int256, snap_y: int256, scale: uint256) -> uint256:
    """
    @dev The charge a position owes since its snapshot, never negative.
    """
    return convert(max(self._accrued(market, size, cost, snap_x, snap_y, scale), 0), uint256)


@internal
def _bump(market: uint256, long_side: bool, dx: int256, dy: int256) -> bool:
    """
    @dev Add (dx, dy) to one side's indices. Returns False, changing nothing, when an index
         would leave the int128 range (the caller then records the amount as bad debt).
    @return Whether the indices moved.
    """
    x: int256 = 0
    y: int256 = 0
    x, y = self._index(market, long_side)
    if dx > _INT128_MAX - x or dx < -_INT128_MAX - x or dy > _INT128_MAX - y or dy < -_INT128_MAX - y:
        return False
    if dx != 0:
        self._x[market] = self._put(self._x[market], long_side, x + dx)
    if dy != 0:
        self._y[market] = self._put(self._y[market], long_side, y + dy)
    return True


@internal
def _record(market: uint256, amount: uint256):
    """
    @dev Count `amount` as taken by the loss policy in `market` (the `socialized_loss` view).
    """
    self.socialized_loss[market] += amount


@internal
def _on_cost_change(market: uint256, old_size: int256, old_cost: int256, new_size: int256, new_cost: int256):
    """
    @dev Keep the per-side |cost| sums equal to the sum over open positions (called by every
         position change, after settlement). No-op when cost is not tracked.
    """
    if not _TRACK_COST:
        return
    word: uint256 = self._cost_sums[market]
    long_sum: int256 = fixed_math._unpack_hi(word)
    short_sum: int256 = fixed_math._unpack_lo(word)
    if old_size > 0:
        long_sum -= convert(fixed_math._abs(old_cost), int256)
    elif old_size < 0:
        short_sum -= convert(fixed_math._abs(old_cost), int256)
    if new_size > 0:
        long_sum += convert(fixed_math._abs(new_cost), int256)
    elif new_size < 0:
        short_sum += convert(fixed_math._abs(new_cost), int256)
    new_word: uint256 = fixed_math._pack(short_sum, long_sum)
    if new_word != word:
        self._cost_sums[market] = new_word


@internal
@view
def _cost_sum(market: uint256, long_side: bool) -> uint256:
    """
    @dev Sum of |cost| (collateral base units) over the open positions of one side.
    """
    return convert(self._side(self._cost_sums[market], long_side), uint256)


@internal
@pure
def _put(word: uint256, long_side: bool, side_value: int256) -> uint256:
    """
    @dev Replace one side's int128 in a packed word.
    """
    if long_side:
        return fixed_math._pack(fixed_math._unpack_lo(word), side_value)
    return fixed_math._pack(side_value, fixed_math._unpack_hi(word))
