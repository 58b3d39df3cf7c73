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
     Both indices are signed int128.
     Layout and gas, chosen so that a fill with no event since the positions' snapshots reads
     one policy word per market (`_stamp`): a position's snapshot word in clearing holds, next
     to its funding snapshot, the side's stamp when it was taken.
       - No index (adl, which charges by deleveraging fills): the stamp is 0 and nothing is
         read.
       - Size only (pro_rata_size): the stamp is X itself; both sides' X share one word
         (`_x`, long high, short low). Y and the |cost| sums stay off.
       - Cost tracked (`_TRACK_COST`, profit_clawback): the stamp is the side's event count,
         kept in the |cost|-sum word that every fill reads and writes anyway (`_cost_sums`);
         X and Y of one side share one word (`_xy`, so an event writes one index word), read
         only by an event and by a position that has missed one. The position's own (X, Y)
         snapshot (`_snap_xy`) is written only when its stamp is not 0 (an event has happened
         on that side), and read only when its stamp is behind the side's: a stamp of 0 means
         (X, Y) = (0, 0), since the indices move only at events.
     Gas per event O(1), whatever the number of accounts.
"""

from . import fixed_math


_INT128_MAX: constant(int256) = 2**127 - 1
_WAD: constant(uint256) = 10**18
# the |cost|-sum word (cost tracked): long sum << 156 | short sum << 56 | in use << 55 |
# long events << 27 | short events. Each sum stays below 2**100 base units (1.2e12 whole
# tokens of an 18-decimal collateral: a fill that would pass it reverts, as one past int128
# did before); each count below 2**27 (an event that would reach it is not charged: the
# caller books it as bad debt). The in-use bit, set by the first fill, keeps the word from
# returning to zero when the market empties, so the next opening rewrites it (2,900 gas)
# instead of creating it (20,000).
_COST_MAX: constant(uint256) = 2**100 - 1
_COUNT_BITS: constant(uint256) = 27
_COUNT_MAX: constant(uint256) = 2**27 - 1
_IN_USE: constant(uint256) = 2**55

# whether the policy charges through the indices at all (set once by the deployable)
_INDEXED: immutable(bool)
# whether Y and the per-side |cost| sums are maintained (set once by the deployable)
_TRACK_COST: immutable(bool)

# size only: X of both sides of a market, long in the high 128 bits, short in the low
_x: HashMap[uint256, uint256]
# cost tracked: X (low) | Y (high) of one side, key market << 1 | long
_xy: HashMap[uint256, uint256]
# cost tracked: per-side |cost| sums and event counts of a market (layout above)
_cost_sums: HashMap[uint256, uint256]
# cost tracked: a position's X (low) | Y (high) at its snapshot, valid while its stamp is not 0
_snap_xy: HashMap[address, HashMap[uint256, uint256]]
# total the loss policy took per market (collateral base units), whatever the policy
socialized_loss: public(HashMap[uint256, uint256])


@deploy
def __init__(track_cost: bool, charges_index: bool):
    """
    @param track_cost Keep Y and the per-side |cost| sums (a policy that charges per unit of
           cost, such as profit_clawback); false for a policy charging per unit of size.
    @param charges_index Whether the policy charges through the indices (false for adl: no fill
           then reads an index word).
    """
    _INDEXED = charges_index
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
@pure
def _xy_key(market: uint256, long_side: bool) -> uint256:
    """
    @dev Key of one side's (X, Y) word.
    """
    if long_side:
        return (market << 1) | 1
    return market << 1


@internal
@view
def _index(market: uint256, long_side: bool) -> (int256, int256):
    """
    @dev The side's current X and Y (Y is 0 when cost is not tracked).
    @return X (price units per unit of size), Y (1e18 = 100 % of |cost|).
    """
    if not _INDEXED:
        return 0, 0
    if _TRACK_COST:
        word: uint256 = self._xy[self._xy_key(market, long_side)]
        return fixed_math._unpack_lo(word), fixed_math._unpack_hi(word)
    return self._side(self._x[market], long_side), 0


@internal
@pure
def _count(word: uint256, long_side: bool) -> uint256:
    """
    @dev One side's event count out of a |cost|-sum word.
    """
    if long_side:
        return (word >> _COUNT_BITS) & _COUNT_MAX
    return word & _COUNT_MAX


@internal
@view
def _stamp(market: uint256, long_side: bool) -> int256:
    """
    @dev The side's stamp: what a position's snapshot records and what tells whether an event
         charged the side since (X when only size is charged, the event count otherwise; 0
         without an index).
    """
    if not _INDEXED:
        return 0
    if _TRACK_COST:
        return convert(self._count(self._cost_sums[market], long_side), int256)
    return self._side(self._x[market], long_side)


@internal
@view
def _snapshot_xy(account: address, market: uint256, long_side: bool, stamp: int256) -> uint256:
    """
    @dev The (X, Y) snapshot word of a position whose snapshot recorded `stamp`, read only
         when the position has missed an event (cost tracked, stamp behind the side's); 0
         otherwise (then it is not needed, or it is (0, 0)).
    """
    if not _TRACK_COST or stamp == 0:
        return 0
    if stamp == self._stamp(market, long_side):
        return 0
    return self._snap_xy[account][market]


@internal
def _resnap(account: address, market: uint256, long_side: bool) -> int256:
    """
    @dev Bring a position's policy snapshot to now (it opened, flipped, or missed an event and
         was settled): under cost tracking, store the side's (X, Y) unless no event ever
         charged it (stamp 0).
    @return The side's stamp, for the position's snapshot word.
    """
    stamp: int256 = self._stamp(market, long_side)
    if _TRACK_COST and stamp != 0:
        self._snap_xy[account][market] = self._xy[self._xy_key(market, long_side)]
    return stamp


@internal
@view
def _accrued(market: uint256, size: int256, cost: int256, stamp: int256, snap_xy: uint256, scale: uint256) -> int256:
    """
    @dev The unclamped charge u of a position since its snapshot (negative for a position the
         policy's formula would credit: clamped to 0 by `_pending`). Each term rounds towards
         plus infinity, so the sum over a side is never below what was charged to it.
    @param stamp The side's stamp recorded in the position's snapshot.
    @param snap_xy The position's (X, Y) snapshot word (`_snapshot_xy`).
    @param scale 10**(36 - token decimals): notional = size * price / scale.
    """
    if size == 0:
        return 0
    now: int256 = self._stamp(market, size > 0)
    if now == stamp:
        return 0
    dx: int256 = now - stamp
    dy: int256 = 0
    if _TRACK_COST:
        x: int256 = 0
        y: int256 = 0
        x, y = self._index(market, size > 0)
        dx = x - fixed_math._unpack_lo(snap_xy)
        dy = y - fixed_math._unpack_hi(snap_xy)
    owed: int256 = 0
    if dx != 0:
        owed = fixed_math._div_ceil(convert(fixed_math._abs(size), int256) * dx, convert(scale, int256))
    if dy != 0:
        owed += fixed_math._div_ceil(convert(fixed_math._abs(cost), int256) * dy, convert(_WAD, int256))
    return owed


@internal
@view
def _pending(market: uint256, size: int256, cost: int256, stamp: int256, snap_xy: uint256, scale: uint256) -> uint256:
    """
    @dev The charge a position owes since its snapshot, never negative.
    """
    return convert(max(self._accrued(market, size, cost, stamp, snap_xy, scale), 0), uint256)


@internal
def _bump(market: uint256, long_side: bool, dx: int256, dy: int256) -> bool:
    """
    @dev Add (dx, dy) to one side's indices (one event: under cost tracking the side's event
         count goes up by one). Returns False, changing nothing, when an index would leave the
         int128 range or the count its cap (the caller then records the amount as bad debt).
    @return Whether the indices moved.
    """
    if not _INDEXED:
        return False
    x: int256 = 0
    y: int256 = 0
    x, y = self._index(market, long_side)
    if dx > _INT128_MAX - x or dx < -_INT128_MAX - x or dy > _INT128_MAX - y or dy < -_INT128_MAX - y:
        return False
    if not _TRACK_COST:
        if dx != 0:
            self._x[market] = self._put(self._x[market], long_side, x + dx)
        return True
    sums: uint256 = self._cost_sums[market]
    if self._count(sums, long_side) == _COUNT_MAX:
        return False
    self._xy[self._xy_key(market, long_side)] = fixed_math._pack(x + dx, y + dy)
    # the count's field does not carry over: it is below _COUNT_MAX
    if long_side:
        self._cost_sums[market] = sums + (1 << _COUNT_BITS)
    else:
        self._cost_sums[market] = sums + 1
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
    long_sum: uint256 = word >> 156
    short_sum: uint256 = (word >> 56) & _COST_MAX
    # a side's sum includes every open position's |cost|, so the subtraction cannot underflow
    if old_size > 0:
        long_sum -= fixed_math._abs(old_cost)
    elif old_size < 0:
        short_sum -= fixed_math._abs(old_cost)
    if new_size > 0:
        long_sum += fixed_math._abs(new_cost)
    elif new_size < 0:
        short_sum += fixed_math._abs(new_cost)
    assert long_sum <= _COST_MAX and short_sum <= _COST_MAX, "loss_index: cost sum out of range"
    new_word: uint256 = (long_sum << 156) | (short_sum << 56) | _IN_USE | (word & (_IN_USE - 1))
    if new_word != word:
        self._cost_sums[market] = new_word


@internal
@view
def _cost_sum(market: uint256, long_side: bool) -> uint256:
    """
    @dev Sum of |cost| (collateral base units) over the open positions of one side.
    """
    word: uint256 = self._cost_sums[market]
    if long_side:
        return word >> 156
    return (word >> 56) & _COST_MAX


@internal
@pure
def _put(word: uint256, long_side: bool, side_value: int256) -> uint256:
    """
    @dev Replace one side's int128 in a packed word.
    """
    if long_side:
        return fixed_math._pack(fixed_math._unpack_lo(word), side_value)
    return fixed_math._pack(side_value, fixed_math._unpack_hi(word))
