"""Token decimals: the same trades on a 6-decimal and an 18-decimal collateral token give the same
economic result, every amount scaled by 10**12 (exactly when nothing rounds, within a few base
units of the coarser token when something does)."""
import pytest

from support.drivers import fill, fund, set_feed
from support.model import DEFAULT_FUNDING_PERIOD, PRICE, WAD, Ledger as Book

FACTOR = 10**12


@pytest.fixture(scope="module")
def pair(protocol, protocol_builder, owner, trader, maker):
    """(6-decimal protocol, 18-decimal protocol), funding off, both traders funded alike."""
    p18 = protocol_builder(decimals=18)
    for p in (protocol, p18):
        p.clearinghouse.set_funding_params(0, DEFAULT_FUNDING_PERIOD, 0, sender=owner)
        fund(p, trader, 20_000 * p.unit)
        fund(p, maker, 50_000 * p.unit)
    return protocol, p18


def _snapshot(p, accounts):
    ch = p.clearinghouse
    out = {"treasury": ch.treasury(), "balance": p.token.balanceOf(ch), "oi": ch.open_interest(0)}
    for a in accounts:
        summary = ch.account_summary(a)
        out[str(a)] = (
            ch.position_size(a, 0),
            summary.collateral,
            summary.equity,
            summary.initial_margin,
            summary.maintenance_margin,
        )
    return out


def _run(p, trader, maker, steps, decimals):
    """Apply (kind, *args) steps to protocol `p` and to a Book; check both agree exactly."""
    book = Book(decimals=decimals)
    book.deposit(trader, 20_000 * p.unit)
    book.deposit(maker, 50_000 * p.unit)
    mark = PRICE
    for kind, *args in steps:
        if kind == "fill":
            size, price = args
            fill(p, trader, maker, size, price)
            book.fill(maker, trader, size, price)
        elif kind == "mark":
            (mark,) = args
            set_feed(p, mark)
        elif kind == "withdraw":
            (tokens,) = args
            amount = tokens * p.unit
            p.clearinghouse.withdraw(amount, sender=trader)
            book.collateral[str(trader)] -= amount
    ch = p.clearinghouse
    for a in (trader, maker):
        assert ch.collateral(a) == book.collateral[str(a)]
        assert ch.equity(a) == book.equity(a, mark)
    assert ch.treasury() == book.fees
    return _snapshot(p, (trader, maker))


def test_defaults_scale_with_the_token_unit(pair):
    p6, p18 = pair
    assert p18.clearinghouse.keeper_reward() == p6.clearinghouse.keeper_reward() * FACTOR
    assert p18.clearinghouse.dust_notional() == p6.clearinghouse.dust_notional() * FACTOR
    assert p18.clearinghouse.collateral_token() == p18.token.address
    assert p18.token.decimals() == 18


def test_same_trades_same_economics_exactly(pair, trader, maker):
    """Round numbers: nothing rounds, so every amount is exactly 10**12 times larger."""
    steps = [
        ("fill", WAD // 2, 50_100 * WAD),  # maker buys 0.5 at 50,100 (fees 5.01 and 12.525)
        ("mark", 52_000 * WAD),
        ("fill", -(WAD // 5), 51_900 * WAD),  # maker sells 0.2: realizes 0.2 * (51,900 - 50,100)
        ("withdraw", 1_000),
        ("fill", WAD, 52_400 * WAD),  # maker buys 1 more
        ("mark", 49_500 * WAD),
    ]
    p6, p18 = pair
    s6 = _run(p6, trader, maker, steps, 6)
    s18 = _run(p18, trader, maker, steps, 18)
    assert s6["oi"] == s18["oi"] == WAD // 2 - WAD // 5 + WAD
    for key, v6 in s6.items():
        v18 = s18[key]
        if key == "oi":
            continue
        if isinstance(v6, tuple):
            assert v18[0] == v6[0]  # sizes are in base-asset units: identical
            assert list(v18[1:]) == [x * FACTOR for x in v6[1:]]
        else:
            assert v18 == v6 * FACTOR
    # spot-check one figure by hand: the maker's settled balance is 50,000 - fees (5.01 +
    # 2.076 + 10.48) + the 360 realized by selling 0.2 at 51,900 bought at 50,100
    maker_collateral = (50_000 * 10**6 - 5_010_000 - 2_076_000 - 10_480_000 + 360 * 10**6)
    assert s6[str(maker)][1] == maker_collateral
    assert s18[str(maker)][1] == maker_collateral * FACTOR


def test_same_trades_same_economics_within_rounding(pair, trader, maker):
    """Odd sizes and prices: the 6-decimal token rounds to 1e-6 where the 18-decimal one rounds
    to 1e-18; amounts agree to within a few 6-decimal base units, each in the protocol's
    favour where the rounding direction is fixed (fees rounded up)."""
    steps = [
        ("fill", 123_456_789_012_345_678, 50_123_456_789_012_345_678_901),
        ("mark", 51_234_567_890_000_000_000_000),
        ("fill", -98_765_432_109_876_543, 51_111_111_111_111_111_111_111),
        ("fill", -333_333_333_333_333_333, 50_987_654_321_987_654_321_987),
    ]
    p6, p18 = pair
    s6 = _run(p6, trader, maker, steps, 6)
    s18 = _run(p18, trader, maker, steps, 18)
    # fees: each rounded up in its own unit, so the coarse token charges at least as much
    assert 0 <= s6["treasury"] * FACTOR - s18["treasury"] < 6 * FACTOR
    for a in (trader, maker):
        size6, coll6, eq6, im6, mm6 = s6[str(a)]
        size18, coll18, eq18, im18, mm18 = s18[str(a)]
        assert size6 == size18
        assert abs(coll6 * FACTOR - coll18) < 6 * FACTOR
        assert abs(eq6 * FACTOR - eq18) < 6 * FACTOR
        # margins are rounded up in both units
        assert 0 <= im6 * FACTOR - im18 < 2 * FACTOR
        assert 0 <= mm6 * FACTOR - mm18 < 2 * FACTOR
