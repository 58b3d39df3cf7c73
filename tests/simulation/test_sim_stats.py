"""Sweep statistics against hand-computed values."""
import math

import pytest

from simulation.stats import describe, expected_shortfall, point_statistics, quantile, statistic, wilson


def test_quantile_interpolates_between_order_statistics():
    x = [0, 10, 20, 30, 40]
    assert quantile(x, 0.5) == 20
    assert quantile(x, 0.95) == pytest.approx(38.0)      # 4 * 0.95 = 3.8 -> 30 + 0.8 * 10
    assert quantile([5], 0.99) == 5
    assert math.isnan(quantile([], 0.5))


def test_expected_shortfall_is_the_mean_of_the_worst_tail():
    x = list(range(1, 21))                               # 1..20
    assert expected_shortfall(x, 0.95) == 20             # ceil(20 * 0.05) = 1 worst value
    assert expected_shortfall(x, 0.90) == 19.5           # 2 worst: (20 + 19) / 2
    assert expected_shortfall([3, 1, 2], 0.5) == 2.5     # ceil(1.5) = 2 worst: (3 + 2) / 2
    assert expected_shortfall([7], 0.99) == 7


def test_wilson_interval_matches_the_formula():
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)     # 3.8415 / 13.8415
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson(10, 10)
    assert hi == pytest.approx(1) and lo == pytest.approx(0.7225, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_named_statistics():
    x = [0, 0, 0, 100]
    assert statistic(x, "mean") == 25 and statistic(x, "max") == 100
    assert statistic(x, "p50") == 0 and statistic(x, "es75") == 100
    with pytest.raises(ValueError, match="unknown statistic"):
        statistic(x, "median")


def test_describe_and_point_statistics():
    d = describe([0, 0, 5, 0])
    assert d["n"] == 4 and d["p_positive"] == 0.25 and d["mean"] == 1.25
    rows = [{"seed": s, "p": p, "total_deficit": 10.0 * s, "socialized_loss": 0.0 if p == 1 else 1.0,
             "bad_debt": 0.0} for p in (1, 2) for s in (1, 2, 3)]
    rows.append({"seed": 4, "p": 2, "error": "ChainUnreachable: x"})
    st = point_statistics(rows, ["p"])
    assert [s["point"] for s in st] == [{"p": 1}, {"p": 2}]
    assert st[0]["haircut"]["p_positive"] == 0 and st[1]["haircut"]["p_positive"] == 1
    assert st[1]["runs"] == 4 and st[1]["failed"] == 1 and st[1]["deficit"]["n"] == 3   # errored rows left out
    assert st[0]["deficit"]["p50"] == 20
