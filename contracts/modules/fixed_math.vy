# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title fixed_math
@notice Stateless integer helpers with an explicit rounding direction, and the packing of two
        signed 128-bit values into one storage word. Every caller states which way it rounds
        and why that direction favours the protocol.
"""

HALF_WORD: constant(uint256) = 2**128
LOW_MASK: constant(uint256) = 2**128 - 1
INT128_MAX: constant(int256) = 2**127 - 1
INT128_MIN: constant(int256) = -(2**127)


@internal
@pure
def _mul_div_down(a: uint256, b: uint256, d: uint256) -> uint256:
    """
    @dev floor(a * b / d).
    """
    return a * b // d


@internal
@pure
def _mul_div_up(a: uint256, b: uint256, d: uint256) -> uint256:
    """
    @dev ceil(a * b / d).
    """
    p: uint256 = a * b
    q: uint256 = p // d
    if q * d != p:
        q += 1
    return q


@internal
@pure
def _div_floor(a: int256, d: int256) -> int256:
    """
    @dev floor(a / d) towards minus infinity, for d > 0 (EVM signed division truncates).
    """
    q: int256 = a // d
    if a < 0 and q * d != a:
        q -= 1
    return q


@internal
@pure
def _div_ceil(a: int256, d: int256) -> int256:
    """
    @dev ceil(a / d) towards plus infinity, for d > 0.
    """
    q: int256 = a // d
    if a > 0 and q * d != a:
        q += 1
    return q


@internal
@pure
def _abs(a: int256) -> uint256:
    if a < 0:
        return convert(-a, uint256)
    return convert(a, uint256)


@internal
@pure
def _pack(lo: int256, hi: int256) -> uint256:
    """
    @dev Two int128 values in one word: `lo` in the low 128 bits, `hi` in the high 128 bits,
         each as two's complement. Reverts if either does not fit.
    """
    assert lo >= INT128_MIN and lo <= INT128_MAX, "math: value out of int128 range"
    assert hi >= INT128_MIN and hi <= INT128_MAX, "math: value out of int128 range"
    lo_bits: uint256 = convert(convert(lo, bytes32), uint256) & LOW_MASK
    hi_bits: uint256 = convert(convert(hi, bytes32), uint256) & LOW_MASK
    return (hi_bits << 128) | lo_bits


@internal
@pure
def _unpack_lo(word: uint256) -> int256:
    # shift the low half to the top, then arithmetic-shift back to sign-extend it
    return convert(convert(word << 128, bytes32), int256) >> 128


@internal
@pure
def _unpack_hi(word: uint256) -> int256:
    return convert(convert(word, bytes32), int256) >> 128
