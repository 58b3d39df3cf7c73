"""Attack: liquidate a position in slices that leave a dust remainder, a position too small
for any keeper to bother with (gas above the penalty) that can drift into bad debt; or farm
penalties with tiny slices.

Defence: a partial liquidation must leave at least `dust_notional` (10 tokens) of notional,
and when the largest partial take would leave less, the whole position may be taken instead.
Every slice pays a penalty proportional to its notional, so slicing earns nothing extra.
"""
import ape
import pytest
from support.protocol import WAD

UNIT = 10**6
SCALE = 10**30
P0 = 50_000 * WAD
PENALTY = WAD // 40  # mmr / 2


def notional(size, price):
    return size * price // SCALE


@pytest.fixture(scope="module")
def market(protocol, maker, attacker):
    protocol.fund(maker, 200_000)
    protocol.fund(attacker, 200_000)
    return protocol


def test_partial_take_cannot_leave_dust(market, trader, maker, attacker):
    """A 15-token position: half of it would leave 7.5 (dust), so only all of it may go."""
    ch = market.clearinghouse
    size = 3 * 10**14  # 0.0003 units = 15 tokens at 50,000
    market.fund(trader, 2)
    market.fill(trader, maker, -size, P0)
    market.set_price(45_000)
    p = market.price()
    assert ch.is_liquidatable(trader) and ch.equity(trader) >= 0
    dust = ch.dust_notional()
    assert dust == 10 * UNIT
    assert ch.max_liquidatable_size(trader, 0) == size
    for leave in (size // 2, size // 10, 1):
        assert notional(leave, p) < dust
        with ape.reverts("liquidate: would leave a dust position"):
            ch.liquidate(trader, 0, size - leave, sender=attacker)
    ch.liquidate(trader, 0, size, sender=attacker)
    assert ch.position_size(trader, 0) == 0


def test_liquidating_in_maximal_slices_never_leaves_dust(market, trader, maker, attacker):
    """Keep liquidating the maximum: after every call the position is either gone or at
    least the dust notional, and the slices' penalties add up to no more than one take."""
    ch = market.clearinghouse
    size = 4 * 10**15  # 0.004 units = 200 tokens at 50,000
    market.fund(trader, 21)
    market.fill(trader, maker, -size, P0)
    market.set_price(45_500)  # equity 2.9, below the maintenance margin of 9.1
    p = market.price()
    assert ch.is_liquidatable(trader)
    penalties, taken, steps = 0, 0, 0
    while ch.is_liquidatable(trader) and ch.position_size(trader, 0) != 0:
        step = ch.max_liquidatable_size(trader, 0)
        assert step > 0
        receipt = ch.liquidate(trader, 0, step, sender=attacker)
        penalties += receipt.events.filter(ch.Liquidation)[0].penalty
        taken += step
        steps += 1
        left = ch.position_size(trader, 0)
        assert left == 0 or notional(left, p) >= ch.dust_notional()
        assert ch.equity(trader) >= 0
    assert steps >= 3  # a close factor of 50 % takes several slices here
    assert taken == size and ch.position_size(trader, 0) == 0
    # slicing charges no more than one penalty on the whole notional (rounded up per slice)
    assert penalties <= -(-notional(taken, p) * PENALTY // WAD) + 4


def test_one_wei_slices_pay_the_attacker_nothing(market, trader, maker, attacker):
    ch = market.clearinghouse
    market.fund(trader, 6_000)
    market.fill(trader, maker, -WAD, P0)
    market.set_price(46_000)
    assert ch.is_liquidatable(trader)
    collateral = ch.collateral(attacker)
    receipt = ch.liquidate(trader, 0, 1, sender=attacker)
    log = receipt.events.filter(ch.Liquidation)[0]
    assert (log.penalty, log.liquidator_reward) == (0, 0)  # zero notional, zero penalty
    assert ch.collateral(attacker) == collateral
    assert notional(ch.position_size(trader, 0), market.price()) >= ch.dust_notional()
