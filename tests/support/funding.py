"""Reference arithmetic of the funding rule (contracts/modules/clearing.vy, `_funding_state`
and `_accrue`), shared by the unit tests and the Python model.

    fill premium  = sign(fill - oracle) * min(floor(|fill - oracle| * 1e18 / oracle), cap)
    after a fill  : p += trunc((fill premium - p) * fill / (open interest + fill))
    without fills : |p| falls by floor(2 * cap * elapsed / period), never below zero
    index step    = sign(p) * floor(decay * (2|p| - decay) * price / (4 * cap * 1e18))

The last line is the area under the linearly decaying premium, (p^2 - p'^2) * period / (4 cap),
times price / period: longs pay shorts that much per unit of size (payers round up per account).
"""
WAD = 10**18


def trunc_div(a: int, d: int) -> int:
    """EVM signed division (Vyper `//` on int256): rounds towards zero."""
    q = abs(a) // abs(d)
    return q if (a >= 0) == (d > 0) else -q


def clamp(premium: int, cap: int) -> int:
    return max(-cap, min(cap, premium))


def fill_premium(fill_price: int, oracle: int, cap: int) -> int:
    level = min(abs(fill_price - oracle) * WAD // oracle, cap)
    return -level if fill_price < oracle else level


def blend(premium: int, fill_premium_: int, fill_size: int, open_interest_before: int) -> int:
    """The premium after a fill, from the premium at the fill's time (already decayed)."""
    return premium + trunc_div((fill_premium_ - premium) * fill_size, open_interest_before + fill_size)


def decay(premium: int, cap: int, period: int, elapsed: int) -> int:
    """How much |premium| (clamped to the cap) falls over `elapsed` seconds."""
    return min(abs(clamp(premium, cap)), 2 * cap * elapsed // period)


def advance(index: int, premium: int, elapsed: int, price: int, cap: int, period: int) -> tuple[int, int]:
    """(index, premium) after `elapsed` seconds without fills."""
    premium = clamp(premium, cap)
    if premium == 0:
        return index, 0
    level = abs(premium)
    d = decay(premium, cap, period, elapsed)
    step = d * (2 * level - d) * price // (4 * cap * WAD)
    if premium < 0:
        return index - step, premium + d
    return index + step, premium - d


def total_index(premium: int, price: int, cap: int) -> int:
    """What a premium pays per unit of size (index units) until it has decayed to zero."""
    level = abs(clamp(premium, cap))
    return level * level * price // (4 * cap * WAD) if cap else 0
