"""Sweep statistics for decisions: quantiles, expected shortfall, exceedance probabilities with
Wilson confidence intervals, per grid point over seeds.

Conventions (so a committee can recompute them by hand):
- quantile(x, q): linear interpolation between order statistics (numpy's default, "type 7");
- expected_shortfall(x, q): the mean of the worst ceil(n * (1 - q)) outcomes (at least one), i.e.
  the average loss in the (1 - q) tail;
- wilson(k, n): the Wilson score interval for k successes in n trials at 95 % (z = 1.96)."""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

Z95 = 1.959963984540054

# report name -> sweep row key
METRICS = {"deficit": "total_deficit", "haircut": "socialized_loss", "bad_debt": "bad_debt",
           "insurance": "insurance_paid", "vault_drawdown": "share_price_max_drawdown"}
DECISION_METRICS = ("deficit", "haircut", "bad_debt")


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1), linear interpolation; nan for no values."""
    if not len(values):
        return float("nan")
    return float(np.quantile(np.asarray(values, dtype=float), q))


def expected_shortfall(values: Sequence[float], q: float) -> float:
    """Mean of the worst ceil(n (1 - q)) values (the largest ones: these are losses)."""
    if not len(values):
        return float("nan")
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    k = max(1, math.ceil(len(x) * (1 - q) - 1e-12))
    return float(x[:k].mean())


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion k / n."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def statistic(values: Sequence[float], name: str) -> float:
    """A named statistic: mean, max, pNN (quantile NN %), esNN (expected shortfall beyond NN %)."""
    name = name.lower()
    if name == "mean":
        return float(np.mean(values)) if len(values) else float("nan")
    if name == "max":
        return float(np.max(values)) if len(values) else float("nan")
    if name.startswith("p") and name[1:].replace(".", "", 1).isdigit():
        return quantile(values, float(name[1:]) / 100)
    if name.startswith("es") and name[2:].replace(".", "", 1).isdigit():
        return expected_shortfall(values, float(name[2:]) / 100)
    raise ValueError(f"unknown statistic {name!r} (mean, max, pNN, esNN)")


def describe(values: Sequence[float], threshold: float = 0.0) -> dict[str, Any]:
    """mean, p50, p95, p99, es95, es99, max and P(value > threshold) with its Wilson interval."""
    v = [float(x) for x in values]
    k = sum(1 for x in v if x > threshold + 1e-9)
    lo, hi = wilson(k, len(v))
    return {"n": len(v), "mean": statistic(v, "mean"), "p50": quantile(v, 0.5), "p95": quantile(v, 0.95),
            "p99": quantile(v, 0.99), "es95": expected_shortfall(v, 0.95), "es99": expected_shortfall(v, 0.99),
            "max": statistic(v, "max"), "p_positive": k / len(v) if v else float("nan"), "p_positive_ci": (lo, hi)}


def metric_values(rows: Iterable[dict[str, Any]], metric: str) -> list[float]:
    """One metric over the rows that ran (errored rows are left out)."""
    key = METRICS.get(metric, metric)
    return [float(r[key]) for r in rows if not r.get("error") and r.get(key) not in (None, "")]


def group_rows(rows: Sequence[dict[str, Any]], params: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Rows by grid point, in first-seen order."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(p) for p in params), []).append(r)
    return groups


def point_statistics(rows: Sequence[dict[str, Any]], params: Sequence[str]) -> list[dict[str, Any]]:
    """Per grid point: the point, runs, failed runs, and describe() of every decision metric."""
    out = []
    for key, rs in group_rows(rows, params).items():
        entry: dict[str, Any] = {"point": dict(zip(params, key)), "runs": len(rs),
                                 "seeds": sorted(int(r["seed"]) for r in rs),
                                 "failed": sum(1 for r in rs if r.get("error") or r.get("violation"))}
        for m in DECISION_METRICS:
            entry[m] = describe(metric_values(rs, m))
        out.append(entry)
    return out
