# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title adl
@notice Loss policy "adl" (auto-deleveraging). The residual deficit of a bankrupt account (what
        the insurance vault could not pay) is paid by the opposite side's positions in profit:
        the bankrupt positions are closed against them at the bankruptcy price, best-ranked
        first. A winner's ranking score is its PnL % at the oracle price, which within one side
        of one market orders positions by entry price alone (a long ranks higher the lower its
        entry, a short the higher), whatever the price: so the ranking can be kept sorted at
        fill time. A winner never pays more than its unrealized profit in that market: a fill
        that would exceed it is cut to size, and the winner's remaining position is re-based at
        the oracle price (its profit there is spent), which drops it out of the winners.
@dev Ranking structure, per market and side: entry-price buckets, log-spaced like a float with
     a 7-bit mantissa: bucket = 128 * msb(entry) + the 7 bits after the top one, so one bucket
     spans 0.39 % to 0.78 % of its price. Each bucket has a count of positions; a bitmap of the
     non-empty buckets (128 words) and a summary of the non-empty words (one half-word per side)
     find the best non-empty bucket in two storage reads. A fill updates the count of the
     position's old and new bucket only when its bucket changed (same-price increases and
     pro-rata reductions keep it), so the common fill pays no storage write here: O(1), no
     account enumeration, gas independent of the number of accounts.
     A position's bucket is a pure function of its (size, cost) word, so the fill hook
     recomputes the old and the new one and reads no per-position storage; a cost basis below
     MIN_RANK_COST base units (far too small to carry a profit) is not ranked. An account
     under resolution is out of the ranking and can neither trade, withdraw nor liquidate.
     What is enforced: every counterparty of a deleveraging fill comes from the best non-empty
     bucket of the opposite side, is in profit at the oracle price and pays at most its profit;
     the keeper may choose the order only inside one bucket, and may declare the winners
     exhausted only when the best bucket lies within two bucket widths of the oracle price
     (winners there have a PnL under ~1.6 %).
     Rounding: the bankruptcy price rounds against the winners (the deficit is never left
     short), at most one base unit per fill; a winner's fill size rounds down (it never pays
     more than its profit).
"""

from . import fixed_math


loss_policy: public(constant(String[32])) = "adl"
# ADL charges per fill, not through loss_index's lazy indices: their Y and |cost| sums stay off
TRACKS_COST: constant(bool) = False
# no index word at all: a fill reads none
CHARGES_INDEX: constant(bool) = False

_MANTISSA_BITS: constant(uint256) = 7
_MANTISSA: constant(uint256) = 2**_MANTISSA_BITS
# ids of ranked buckets are 1 .. _BUCKETS (0: unranked)
_BUCKETS: constant(uint256) = 256 * _MANTISSA
_WORDS: constant(uint256) = _BUCKETS // 256
_HALF: constant(uint256) = 2**128 - 1
_USED: constant(uint256) = 2**255
# a position whose cost basis is below this (base units) is not ranked: its profit at a price
# two buckets (>= 0.39 %) beyond its entry would round to nothing
MIN_RANK_COST: public(constant(uint256)) = 1024


# positions per (market, side, bucket): key market << 17 | long << 16 | bucket id; once used
# a bucket keeps bit 255 set (_USED), so emptying it and filling it again rewrites the slot
# (2,900 gas) instead of creating it (20,000)
_counts: HashMap[uint256, uint256]
# non-empty buckets: key market << 8 | long << 7 | word; bit = bucket id % 256
_bitmap: HashMap[uint256, uint256]
# non-empty bitmap words per market: longs in the high 128 bits, shorts in the low 128
_summary: HashMap[uint256, uint256]
# notional in base units = size * price / _SCALE (as in clearing)
_SCALE: immutable(uint256)

# accounts under resolution: packed deficit at the event (high) | insurance paid (low); 0: none
_resolution: HashMap[address, uint256]
# per account and market under resolution: packed bankruptcy price (high) | the bankrupt
# position's size at the event (low)
_targets: HashMap[address, HashMap[uint256, uint256]]


event Deleveraged:
    account: indexed(address)
    counterparty: indexed(address)
    market: indexed(uint256)
    size: int256
    price: uint256


@deploy
def __init__(decimals: uint256):
    """
    @param decimals The collateral token's decimals (as clearing's).
    """
    _SCALE = 10 ** (36 - decimals)


# ---------------------------------------------------------------- views


@external
@view
def adl_bucket_of_price(price: uint256) -> uint256:
    """
    @notice The ranking bucket id (1 .. 32768) of an entry price (1e18 scale).
    @param price An entry price.
    @return Its bucket id.
    """
    return self._bucket_of(price)


@external
@view
def adl_best_bucket(market: uint256, long_side: bool) -> uint256:
    """
    @notice The best-ranked non-empty bucket of one side of a market (longs: the lowest entry,
            shorts: the highest), 0 when the side has no ranked position. A deleveraging fill
            must take its counterparty from this bucket.
    @param market The market id.
    @param long_side True for the long side.
    @return The bucket id, or 0.
    """
    return self._best(market, long_side)


@external
@view
def adl_bucket_count(market: uint256, long_side: bool, bucket: uint256) -> uint256:
    """
    @notice How many ranked positions of one side of a market sit in a bucket.
    @param market The market id.
    @param long_side True for the long side.
    @param bucket A bucket id (1 .. 32768).
    @return The number of positions.
    """
    return self._counts[self._count_key(market, long_side, bucket)] & (_USED - 1)


@external
@view
def is_deleveraging(account: address) -> bool:
    """
    @notice Whether an account is under resolution: its deficit is not fully resolved yet, so
            it can neither trade nor withdraw nor be liquidated, only deleveraged.
    @param account The account.
    @return True while frozen.
    """
    return self._resolution[account] != 0


@external
@view
def bankruptcy_price(account: address, market: uint256) -> uint256:
    """
    @notice The bankruptcy price at which `account`'s position in `market` is being closed
            against winners (0 when it is not under resolution there): the price that leaves
            its deficit at zero once the whole position is closed at it.
    @param account The account under resolution.
    @param market The market.
    @return The bankruptcy price (1e18 scale), or 0.
    """
    price: uint256 = 0
    size: uint256 = 0
    price, size = self._target(account, market)
    return price


# ---------------------------------------------------------------- hooks


@internal
def _on_fill(account: address, market: uint256, old_word: uint256, new_word: uint256):
    """
    @dev A trade or a liquidation changed `account`'s position in `market` from `old_word` to
         `new_word` (clearing's packed size | cost words): keep the ranking in step. Reverts
         for an account under resolution, whose positions only the resolution may move.
    @param account The account.
    @param market The market.
    @param old_word The position word before.
    @param new_word The position word after.
    """
    assert self._resolution[account] == 0, "adl: account is being deleveraged"
    if old_word != new_word:
        self._move(market, old_word, new_word)


@internal
@view
def _check_active(account: address):
    """
    @dev Revert for an account under resolution: nothing can be withdrawn against an
         unresolved deficit, and it can neither trade nor liquidate.
    """
    assert self._resolution[account] == 0, "adl: account is being deleveraged"


@internal
def _move(market: uint256, old_word: uint256, new_word: uint256):
    """
    @dev Move a position from the bucket of its old entry price to the bucket of its new one.
         Both are recomputed from the words, so no per-position storage is read: a fill that
         keeps the entry price's bucket (a same-price increase, a pro-rata reduction) writes
         nothing.
    @param market The market.
    @param old_word The position word before (0: no position).
    @param new_word The position word after (0: closed).
    """
    old_size: int256 = fixed_math._unpack_lo(old_word)
    new_size: int256 = fixed_math._unpack_lo(new_word)
    if old_size != 0 and new_size != 0 and (old_size > 0) == (new_size > 0):
        old_cost: uint256 = fixed_math._abs(fixed_math._unpack_hi(old_word))
        new_cost: uint256 = fixed_math._abs(fixed_math._unpack_hi(new_word))
        # the same entry price exactly (|cost| / |size| equal; products < 2**254) on the same
        # side of MIN_RANK_COST: the same bucket, without computing it
        if old_cost * fixed_math._abs(new_size) == new_cost * fixed_math._abs(old_size) and (old_cost < MIN_RANK_COST) == (new_cost < MIN_RANK_COST):
            return
    old_id: uint256 = 0
    new_id: uint256 = 0
    if old_size != 0:
        old_id = self._entry_bucket(old_size, fixed_math._unpack_hi(old_word))
    if new_size != 0:
        new_id = self._entry_bucket(new_size, fixed_math._unpack_hi(new_word))
    if old_id == new_id and (old_size > 0) == (new_size > 0):
        return
    if old_id != 0:
        self._remove(market, old_size > 0, old_id)
    if new_id != 0:
        self._insert(market, new_size > 0, new_id)


# ---------------------------------------------------------------- resolution state


@internal
@view
def _is_frozen(account: address) -> bool:
    """
    @dev Whether the account is under resolution.
    """
    return self._resolution[account] != 0


@internal
def _freeze(account: address, deficit: uint256, insurance_paid: uint256):
    """
    @dev Open a resolution: record the event's deficit (> 0) and what the vault paid of it.
    """
    self._resolution[account] = (deficit << 128) | insurance_paid


@internal
def _unfreeze(account: address) -> (uint256, uint256):
    """
    @dev Close a resolution.
    @return The event's deficit and what the vault paid of it.
    """
    word: uint256 = self._resolution[account]
    self._resolution[account] = 0
    return word >> 128, word & _HALF


@internal
def _set_target(account: address, market: uint256, price: uint256, size: uint256):
    """
    @dev Record a market's bankruptcy price and the size (unsigned) the bankrupt position had
         at the event.
    """
    self._targets[account][market] = (price << 128) | size


@internal
@view
def _target(account: address, market: uint256) -> (uint256, uint256):
    """
    @dev A market's bankruptcy price and the bankrupt position's size at the event (0, 0 when
         the market is not being deleveraged).
    """
    word: uint256 = self._targets[account][market]
    return word >> 128, word & _HALF


@internal
def _clear_target(account: address, market: uint256):
    self._targets[account][market] = 0


# ---------------------------------------------------------------- fill arithmetic


@internal
@view
def _is_exhausted(market: uint256, long_side: bool, price: uint256) -> bool:
    """
    @dev Whether one side of a market has no winner left worth ranking: no ranked position, or
         the best bucket lies within one bucket of the oracle price's own bucket. A position two
         or more buckets beyond the price is at least one bucket width (0.39 %) in profit,
         which with a cost basis of MIN_RANK_COST or more is at least two base units.
    """
    best: uint256 = self._best(market, long_side)
    if best == 0:
        return True
    at_price: uint256 = self._bucket_of(price)
    if long_side:
        return best + 1 >= at_price
    return best <= at_price + 1


@internal
@view
def _bankruptcy_price(share: uint256, size: uint256, price: uint256, bankrupt_long: bool) -> uint256:
    """
    @dev The bankruptcy price: the price at which closing `size` of the bankrupt position
         pays `share` (its market's share of the residual), leaving the deficit at zero. A long
         sells above the oracle price, a short buys below it. The step rounds up, against the
         winners; a short's price never goes below 1.
    @param share The market's share of the residual, base units.
    @param size The bankrupt position's size, unsigned.
    @param price The oracle price at the event.
    @param bankrupt_long Whether the bankrupt position is long.
    @return The bankruptcy price.
    """
    step: uint256 = fixed_math._mul_div_up(share, _SCALE, size)
    if bankrupt_long:
        return price + step
    if step >= price:
        return 1
    return price - step


@internal
@view
def _fill_size(remaining: uint256, counterparty_size: uint256, profit: int256, step: uint256) -> uint256:
    """
    @dev How much of a winner is closed: what the bankrupt position still needs, at most the
         winner's size, and at most what its profit pays for at `step` per unit (the
         bankruptcy price's distance from the oracle, against the winner), less one base unit
         for the rounding of the fill's notional: a winner never pays more than its profit.
    @param remaining The bankrupt size still to close.
    @param counterparty_size The winner's size, unsigned.
    @param profit The winner's profit in the market at the oracle price, net of funding owed.
    @param step What closing one unit at the bankruptcy price costs the winner (price units).
    @return The fill size.
    """
    size: uint256 = min(remaining, counterparty_size)
    if step == 0:
        return size
    if profit <= 0:
        return 0
    # rounded down: the fill costs the winner at most profit - 1, plus < 1 of notional rounding
    return min(size, fixed_math._mul_div_down(convert(profit, uint256) - 1, _SCALE, step))


@internal
@view
def _cumulative_notional(filled: uint256, price: uint256, bankrupt_long: bool) -> uint256:
    """
    @dev Notional of the first `filled` units of a bankrupt position at its bankruptcy price:
         a long receives it rounded up, a short pays it rounded down, both against the
         winners. Each fill's notional is the difference of two of these, so the fills of one
         position add up to exactly the notional of the whole.
    """
    if bankrupt_long:
        return fixed_math._mul_div_up(filled, price, _SCALE)
    return fixed_math._mul_div_down(filled, price, _SCALE)


# ---------------------------------------------------------------- private: the ranking


@internal
@pure
def _msb(x: uint256) -> uint256:
    """
    @dev Index of the highest set bit (0 for x <= 1), by binary search.
    """
    r: uint256 = 0
    v: uint256 = x
    if v >= 2**128:
        v >>= 128
        r += 128
    if v >= 2**64:
        v >>= 64
        r += 64
    if v >= 2**32:
        v >>= 32
        r += 32
    if v >= 2**16:
        v >>= 16
        r += 16
    if v >= 2**8:
        v >>= 8
        r += 8
    if v >= 2**4:
        v >>= 4
        r += 4
    if v >= 2**2:
        v >>= 2
        r += 2
    if v >= 2:
        r += 1
    return r


@internal
@pure
def _lsb(x: uint256) -> uint256:
    """
    @dev Index of the lowest set bit of x > 0.
    """
    return self._msb(x & (~x + 1))


@internal
@pure
def _bucket_of(price: uint256) -> uint256:
    """
    @dev Bucket id of a price: 1 + 128 * msb + the 7 bits below the top bit.
    """
    m: uint256 = self._msb(price)
    mantissa: uint256 = 0
    if m >= _MANTISSA_BITS:
        mantissa = (price >> (m - _MANTISSA_BITS)) & (_MANTISSA - 1)
    else:
        mantissa = (price << (_MANTISSA_BITS - m)) & (_MANTISSA - 1)
    return 1 + m * _MANTISSA + mantissa


@internal
@view
def _entry_bucket(size: int256, cost: int256) -> uint256:
    """
    @dev Bucket id of a position's entry price |cost| * scale / |size|, rounded towards a
         worse rank (a long's entry up, a short's down); 0 (unranked) when the cost basis is
         below MIN_RANK_COST.
    """
    cost_abs: uint256 = fixed_math._abs(cost)
    if cost_abs < MIN_RANK_COST:
        return 0
    size_abs: uint256 = fixed_math._abs(size)
    entry: uint256 = 0
    if size > 0:
        entry = fixed_math._mul_div_up(cost_abs, _SCALE, size_abs)
    else:
        entry = fixed_math._mul_div_down(cost_abs, _SCALE, size_abs)
    return self._bucket_of(entry)


@internal
@pure
def _count_key(market: uint256, long_side: bool, bucket: uint256) -> uint256:
    side: uint256 = 0
    if long_side:
        side = 1
    return (market << 17) | (side << 16) | bucket


@internal
@pure
def _word_key(market: uint256, long_side: bool, word: uint256) -> uint256:
    side: uint256 = 0
    if long_side:
        side = 1
    return (market << 8) | (side << 7) | word


@internal
def _insert(market: uint256, long_side: bool, bucket: uint256):
    """
    @dev Count one more position in a bucket (id 1 .. 32768; bit id - 1 of the bitmap); mark
         the bucket (and its word) non-empty.
    """
    key: uint256 = self._count_key(market, long_side, bucket)
    count: uint256 = self._counts[key] & (_USED - 1)
    self._counts[key] = (count + 1) | _USED
    if count != 0:
        return
    word: uint256 = (bucket - 1) // 256
    word_key: uint256 = self._word_key(market, long_side, word)
    bits: uint256 = self._bitmap[word_key]
    self._bitmap[word_key] = bits | (1 << ((bucket - 1) % 256))
    if bits == 0:
        offset: uint256 = 0
        if long_side:
            offset = 128
        self._summary[market] |= 1 << (word + offset)


@internal
def _remove(market: uint256, long_side: bool, bucket: uint256):
    """
    @dev Count one position less in a bucket; clear its bit (and its word's) once empty.
    """
    key: uint256 = self._count_key(market, long_side, bucket)
    count: uint256 = (self._counts[key] & (_USED - 1)) - 1
    self._counts[key] = count | _USED
    if count != 0:
        return
    word: uint256 = (bucket - 1) // 256
    word_key: uint256 = self._word_key(market, long_side, word)
    bits: uint256 = self._bitmap[word_key] & ~(1 << ((bucket - 1) % 256))
    self._bitmap[word_key] = bits
    if bits == 0:
        offset: uint256 = 0
        if long_side:
            offset = 128
        self._summary[market] &= ~(1 << (word + offset))


@internal
@view
def _best(market: uint256, long_side: bool) -> uint256:
    """
    @dev The best non-empty bucket of a side: the lowest for longs, the highest for shorts;
         0 when the side has none.
    """
    summary: uint256 = self._summary[market]
    if long_side:
        summary >>= 128
    else:
        summary &= _HALF
    if summary == 0:
        return 0
    word: uint256 = 0
    if long_side:
        word = self._lsb(summary)
        return 1 + word * 256 + self._lsb(self._bitmap[self._word_key(market, long_side, word)])
    word = self._msb(summary)
    return 1 + word * 256 + self._msb(self._bitmap[self._word_key(market, long_side, word)])
