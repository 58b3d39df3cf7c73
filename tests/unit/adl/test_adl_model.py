"""The reference model on its own: the textbook ADL queue (the five-account example from the
ADL literature), the bucket arithmetic, and the bankruptcy-price and fill-size rules."""
from fractions import Fraction as F

from support.adl_model import (
    MIN_RANK_COST, Ranking, bankruptcy_price, bucket_bounds, bucket_of, clawback_queue, cumulative_notional,
    entry_bucket, fill_size,
)

SCALE = 10**30
WAD = 10**18


def test_five_account_example():
    """e = (10, 5, 1, -3, -12), protected cash c = (2, 1, 0.5, 0, 0): winners' profit w = e - c =
    (8, 4, 0.5); a deficit of 15 of which theta = 1/2 (7.5) is clawed back. A queue ranking
    account 2 first, then 1, then 3 takes all 4 from account 2 and 3.5 from account 1."""
    equity = [F(10), F(5), F(1), F(-3), F(-12)]
    cash = [F(2), F(1), F(1, 2), F(0), F(0)]
    profits = [e - c for e, c in zip(equity[:3], cash[:3])]
    assert profits == [8, 4, F(1, 2)]
    deficit = -sum(e for e in equity if e < 0)
    assert deficit == 15
    clawed = deficit * F(1, 2)
    taken, left = clawback_queue(profits, order=[1, 0, 2], amount=clawed)
    assert taken == [F(7, 2), 4, 0] and left == 0
    assert [e - t for e, t in zip(equity, taken)] == [F(13, 2), 1, 1]  # post-ADL equities
    # another order changes who pays, never the total
    taken, left = clawback_queue(profits, order=[0, 1, 2], amount=clawed)
    assert taken == [F(15, 2), 0, 0] and left == 0
    # winners' profit smaller than the clawback: the rest is left (bad debt)
    taken, left = clawback_queue(profits, order=[1, 0, 2], amount=F(13))
    assert taken == profits and left == F(1, 2)


def test_buckets_are_log_spaced_and_monotone():
    prices = [10**12, 3 * 10**15, 2_000 * WAD, 50_000 * WAD, 50_001 * WAD, 10**36]
    ids = [bucket_of(p) for p in prices]
    assert ids == sorted(ids)
    for price in (2_000 * WAD, 50_000 * WAD, 123_456_789 * 10**9):
        low, high = bucket_bounds(bucket_of(price))
        assert low <= price < high
        assert F(1, 256) < F(high - low, low) <= F(1, 128)  # 0.39 % .. 0.78 % wide
        assert bucket_of(high) == bucket_of(price) + 1 and bucket_of(low - 1) == bucket_of(price) - 1


def test_entry_bucket_rounds_towards_a_worse_rank_and_skips_dust():
    size = 3 * WAD
    price = 50_000 * WAD
    # cost exactly at a bucket's lower edge: a long's entry rounds up, a short's down
    low, _ = bucket_bounds(bucket_of(price))
    cost = low * size // SCALE
    assert entry_bucket(size, cost + 1, SCALE) == bucket_of(mul_up(cost + 1, SCALE, size))
    assert entry_bucket(-size, -cost, SCALE) == bucket_of(cost * SCALE // size)
    assert entry_bucket(WAD, MIN_RANK_COST - 1, SCALE) == 0
    assert entry_bucket(WAD, MIN_RANK_COST, SCALE) != 0


def mul_up(a, b, d):
    return -((-a * b) // d)


def test_ranking_best_and_exhausted():
    r = Ranking()
    p = 50_000 * WAD
    at = bucket_of(p)
    for b in (at + 5, at + 1, at - 3):
        r.insert(0, False, b)  # shorts: the highest entry ranks first
        r.insert(0, True, b)  # longs: the lowest entry ranks first
    assert r.best(0, False) == at + 5 and r.best(0, True) == at - 3
    assert not r.is_exhausted(0, False, p) and not r.is_exhausted(0, True, p)
    r.remove(0, False, at + 5)
    assert r.best(0, False) == at + 1 and r.is_exhausted(0, False, p)  # within one bucket
    r.remove(0, True, at - 3)
    assert r.best(0, True) == at + 1 and r.is_exhausted(0, True, p)
    assert Ranking().is_exhausted(0, True, p)


def test_bankruptcy_price_pays_the_share_exactly():
    p = 50_000 * WAD
    size = 7 * WAD // 3
    share = 1_234_567_891
    for long in (True, False):
        b = bankruptcy_price(share, size, p, long, SCALE)
        if long:
            paid = cumulative_notional(size, b, True, SCALE) - size * p // SCALE
        else:
            paid = mul_up(size, p, SCALE) - cumulative_notional(size, b, False, SCALE)
        assert 0 <= paid - share <= 2
    # a short's price never reaches zero
    assert bankruptcy_price(10**20, WAD, p, False, SCALE) == 1


def test_fill_size_never_pays_more_than_the_profit():
    step = 10**20  # 100 tokens per unit above the oracle
    profit = 1_000 * 10**6  # 1,000 tokens
    q = fill_size(10 * WAD, 50 * WAD, profit, step, SCALE)
    assert q == (profit - 1) * SCALE // step
    assert mul_up(q, step, SCALE) < profit
    assert fill_size(WAD, 50 * WAD, profit, step, SCALE) == WAD  # needs less than the profit buys
    assert fill_size(WAD, WAD // 2, profit, step, SCALE) == WAD // 2
    assert fill_size(WAD, WAD, 0, step, SCALE) == 0
    assert fill_size(WAD, WAD, -5, 0, SCALE) == WAD  # nothing left to pay: a plain close


def test_keeper_picks_counterparties_in_ranking_order():
    from simulation.liquidation_policy import DELEVERAGE, Action, WinnerReading, adl_counterparties

    shorts = [
        WinnerReading("0xa", -WAD, bucket=5000, profit=10),
        WinnerReading("0xb", -WAD, bucket=5002, profit=3),
        WinnerReading("0xc", -WAD, bucket=5002, profit=7),
        WinnerReading("0xd", -WAD, bucket=5009, profit=-1),  # a loser
        WinnerReading("0xe", WAD, bucket=4000, profit=50),  # same side as the bankrupt long
        WinnerReading("0xf", -WAD, bucket=0, profit=99),  # not ranked
    ]
    assert adl_counterparties(WAD, shorts) == ["0xc", "0xb", "0xa"]
    assert adl_counterparties(WAD, shorts, limit=2) == ["0xc", "0xb"]
    longs = [WinnerReading("0x1", WAD, 4001, 5), WinnerReading("0x2", WAD, 3999, 1)]
    assert adl_counterparties(-WAD, longs) == ["0x2", "0x1"]  # longs: the lowest entry first
    action = Action(DELEVERAGE, "0xbad", 0, None, 100, counterparties=("0xc", "0xb"))
    assert action.call_args() == ("0xbad", 0, ["0xc", "0xb"])
