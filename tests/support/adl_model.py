"""Reference model of the `adl` loss policy (contracts/modules/adl.vy and deleveraging.vy),
shared by the ADL unit tests and the waterfall fuzz machine.

Three layers, each plain integers with the contract's rounding:

* the ranking: an entry price's bucket (a float with a 7-bit mantissa), a position's bucket
  from its cost basis, and `Ranking`, the per market-side bucket counts with the best
  non-empty bucket and the "winners exhausted" test;
* one deleveraging fill: the bankruptcy price, the fill size a winner's profit pays for, and
  the cumulative notional that makes the fills of one bankrupt position add up exactly;
* `clawback_queue`, the textbook ADL queue over abstract equities (who pays how much, in
  queue order, capped at each winner's profit), which the contract's fills implement.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MANTISSA_BITS = 7
MIN_RANK_COST = 1024
BUCKETS = 256 << MANTISSA_BITS


class Revert(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def mul_div_up(a: int, b: int, d: int) -> int:
    return -((-a * b) // d)


# ---------------------------------------------------------------- the ranking
def msb(x: int) -> int:
    return max(x.bit_length() - 1, 0)


def bucket_of(price: int) -> int:
    """Bucket id (1 .. 32768) of a 1e18-scaled price: 1 + 128 * msb + the next 7 bits."""
    m = msb(price)
    if m >= MANTISSA_BITS:
        mantissa = (price >> (m - MANTISSA_BITS)) & ((1 << MANTISSA_BITS) - 1)
    else:
        mantissa = (price << (MANTISSA_BITS - m)) & ((1 << MANTISSA_BITS) - 1)
    return 1 + (m << MANTISSA_BITS) + mantissa


def bucket_bounds(bucket: int) -> tuple[int, int]:
    """The prices [low, high) of a bucket id (for msb >= 7)."""
    b = bucket - 1
    m, mantissa = b >> MANTISSA_BITS, b & ((1 << MANTISSA_BITS) - 1)
    step = 1 << (m - MANTISSA_BITS)
    low = (1 << m) + mantissa * step
    return low, low + step


def entry_price(size: int, cost: int, scale: int) -> int:
    """Entry price rounded towards a worse rank: a long's up, a short's down."""
    if size > 0:
        return mul_div_up(abs(cost), scale, abs(size))
    return abs(cost) * scale // abs(size)


def entry_bucket(size: int, cost: int, scale: int) -> int:
    """A position's bucket id, 0 (unranked) for a cost basis below MIN_RANK_COST."""
    if size == 0 or abs(cost) < MIN_RANK_COST:
        return 0
    return bucket_of(entry_price(size, cost, scale))


def ranks_above(a: int, b: int, long_side: bool) -> bool:
    """Whether bucket `a` ranks above bucket `b` on a side (longs: lower entry first)."""
    return a < b if long_side else a > b


@dataclass
class Ranking:
    """Bucket counts per (market, long side?, bucket)."""

    counts: dict = field(default_factory=dict)

    def insert(self, market: int, long_side: bool, bucket: int):
        key = (market, long_side, bucket)
        self.counts[key] = self.counts.get(key, 0) + 1

    def remove(self, market: int, long_side: bool, bucket: int):
        key = (market, long_side, bucket)
        assert self.counts.get(key, 0) > 0, f"model: removing from an empty bucket {key}"
        self.counts[key] -= 1
        if self.counts[key] == 0:
            del self.counts[key]

    def move(self, market: int, old_size: int, old_bucket: int, new_size: int, new_bucket: int) -> int:
        """A position changed from (old_size, old_bucket) to new_size at new_bucket."""
        if old_size and new_size and (old_size > 0) == (new_size > 0) and old_bucket == new_bucket:
            return new_bucket
        if old_size and old_bucket:
            self.remove(market, old_size > 0, old_bucket)
        if new_size and new_bucket:
            self.insert(market, new_size > 0, new_bucket)
        return new_bucket

    def best(self, market: int, long_side: bool) -> int:
        buckets = [b for (m, s, b) in self.counts if m == market and s == long_side]
        if not buckets:
            return 0
        return min(buckets) if long_side else max(buckets)

    def is_exhausted(self, market: int, long_side: bool, price: int) -> bool:
        """No winner worth ranking left: no ranked position, or the best bucket within one
        bucket of the oracle price's own bucket."""
        best = self.best(market, long_side)
        if best == 0:
            return True
        at_price = bucket_of(price)
        return best + 1 >= at_price if long_side else best <= at_price + 1


# ---------------------------------------------------------------- one fill
def bankruptcy_price(share: int, size: int, price: int, bankrupt_long: bool, scale: int) -> int:
    """The price at which closing |size| of the bankrupt position pays `share` of the deficit:
    a long sells above the oracle, a short buys below; the step rounds up (against the
    winners); a short's price never goes below 1."""
    step = mul_div_up(share, scale, abs(size))
    if bankrupt_long:
        return price + step
    return 1 if step >= price else price - step


def fill_size(remaining: int, counterparty_size: int, profit: int, step: int, scale: int) -> int:
    """How much of a winner is closed: what the bankrupt position still needs, at most the
    winner's size, and at most what its profit (less one unit for the notional's rounding)
    pays for at `step` per unit."""
    size = min(remaining, abs(counterparty_size))
    if step == 0:
        return size
    if profit <= 0:
        return 0
    return min(size, (profit - 1) * scale // step)


def cumulative_notional(filled: int, price: int, bankrupt_long: bool, scale: int) -> int:
    """Notional of the first `filled` units of a bankrupt position at the bankruptcy price:
    a long receives it rounded up, a short pays it rounded down (both against the winners).
    Fill i's notional is cumulative(Q_i) - cumulative(Q_{i-1}), so they add up exactly."""
    if bankrupt_long:
        return mul_div_up(filled, price, scale)
    return filled * price // scale


# ---------------------------------------------------------------- the textbook queue
def clawback_queue(profits, order, amount):
    """Take `amount` from the winners in queue `order` (indices into `profits`), each at most
    its profit. Returns the amount taken from each winner (same indexing as `profits`) and
    what is left untaken (bad debt)."""
    taken = [0] * len(profits)
    left = amount
    for i in order:
        if left <= 0:
            break
        take = min(profits[i], left)
        taken[i] = take
        left -= take
    return taken, left
