# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title haircut
@notice Loss-mutualization policy "pro rata opposite side": a residual deficit in a market is
        charged to the open positions on the side opposite to the bankrupt position, pro rata
        to their size, through a cumulative per-market, per-side index. Accounts settle their
        charge lazily when their position is next touched, and every equity and margin view
        includes the pending charge, so a socialization costs O(1) gas whatever the number of
        accounts.
@dev Index unit: price units (1e18 = one collateral token per whole base asset), so a position
     of `size` owes size * (index - snapshot) / 10**(36 - token_decimals), rounded up.
     Positions opened after an event snapshot the index and are never charged for it.
"""

from . import fixed_math


event Socialized:
    market: indexed(uint256)
    long_side: bool
    amount: uint256
    index: uint256


# Indices are stored packed as int128 beside the funding snapshot; keep them in range.
MAX_INDEX: constant(uint256) = 2**127 - 1
MAX_SIDE: constant(uint256) = 2**128 - 1

# cumulative charge per unit of size, both sides of a market in one word (a fill touches both
# sides, so one storage read serves both): long side in the high 128 bits, short in the low
_indices: HashMap[uint256, uint256]
# total charged (the residual amounts socialized) per market
socialized_loss: public(HashMap[uint256, uint256])


@external
@view
def haircut_index(market: uint256, long_side: bool) -> uint256:
    """
    @notice Cumulative haircut charged per unit of size (price units: 1e18 = one collateral
            token per base unit) to the long or the short side of a market.
    """
    return self._index(market, long_side)


@internal
@view
def _index(market: uint256, long_side: bool) -> uint256:
    word: uint256 = self._indices[market]
    if long_side:
        return word >> 128
    return word & MAX_SIDE


@internal
@view
def _pending(market: uint256, size: int256, snapshot: uint256, scale: uint256) -> uint256:
    """
    @dev What a position of `size` owes since its snapshot. Rounded up: the sum over accounts
         is never below what was socialized.
    """
    if size == 0:
        return 0
    delta: uint256 = self._index(market, size > 0) - snapshot
    if delta == 0:
        return 0
    return fixed_math._mul_div_up(fixed_math._abs(size), delta, scale)


@internal
def _socialize(market: uint256, charge_longs: bool, amount: uint256, open_interest: uint256, scale: uint256) -> uint256:
    """
    @dev Charge `amount` to the side `charge_longs` whose total size is `open_interest`.
         Returns what was charged: `amount`, or 0 when nobody can be charged (no open
         interest, or so little that the index would overflow) and the caller must record
         the amount as bad debt instead.
    """
    if amount == 0 or open_interest == 0:
        return 0
    # rounded up, so sum(size_i * delta) / scale >= amount: the charge never falls short
    delta: uint256 = fixed_math._mul_div_up(amount, scale, open_interest)
    index: uint256 = self._index(market, charge_longs)
    if delta > MAX_INDEX - index:
        return 0
    index += delta
    if charge_longs:
        self._indices[market] = (index << 128) | (self._indices[market] & MAX_SIDE)
    else:
        self._indices[market] = (self._indices[market] >> 128 << 128) | index
    self.socialized_loss[market] += amount
    log Socialized(market=market, long_side=charge_longs, amount=amount, index=index)
    return amount
