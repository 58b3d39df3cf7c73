"""`clawback-sim sweep`: seeds x a parameter grid, each run a Dask task with its own chain (revm by
default), combined into sweep.csv and sweep.png."""
from __future__ import annotations

import csv
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from .scenario import Scenario

OUTCOME_KEYS = ("bankruptcies", "liquidations", "total_deficit", "insurance_paid", "socialized_loss", "bad_debt",
                "vault_max_drawdown", "share_price_max_drawdown", "share_price_min", "share_price_end",
                "max_pending_deficit", "accounts_negative_equity_at_end", "agent_tx_sent", "agent_tx_reverted",
                "wall_time_s")


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (one empty point for an empty grid)."""
    if not grid:
        return [{}]
    keys = list(grid)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]


def run_jobs(scenario_ref: str, sc: Scenario, jobs: list[tuple[dict, int]], *, blocks: int | None, chain: str,
             out: Path, workers: int, cluster: str | None = None, desc: str = "") -> list[dict]:
    """Run every (point, seed) job as a Dask task (a local cluster of `workers` processes, or the
    scheduler at `cluster`), each with its own chain; returns one row per job in job order (seed,
    the point's params, OUTCOME_KEYS, solvent, violation, error, out). Finished runs are kept in
    out/<point>/seed<N>/ (row.json last) and skipped when the same command runs again."""
    from .jobs import run_jobs as _run_jobs

    return _run_jobs(scenario_ref, sc, jobs, blocks=blocks, chain=chain, out=out, workers=workers,
                     cluster=cluster, desc=desc)


ROWS_FILE = "sweep.json"
EXIT_ERROR = 2
EXIT_VIOLATION = 3


def parse_seeds(text: str) -> list[int]:
    """'10' -> seeds 1..10; '21-40' -> seeds 21..40; '1,5,9' -> those seeds."""
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            seeds = list(range(a, b + 1))
        elif "," in text:
            seeds = [int(x) for x in text.split(",")]
        else:
            seeds = list(range(1, int(text) + 1))
    except ValueError:
        raise ValueError(f"--seeds expects N, A-B or a,b,c, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise ValueError(f"--seeds must name at least one non-negative seed, got {text!r}")
    return seeds


def _key(row: dict[str, Any], params: list[str]) -> tuple:
    return (tuple(str(row.get(p)) for p in params), int(row["seed"]))


def earlier_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of an earlier sweep in `out` (empty if none)."""
    f = out / ROWS_FILE
    if not f.is_file():
        return []
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{f}: not a sweep rows file ({exc})") from None


def run_sweep(scenario_ref: str, sc: Scenario, grid: dict[str, list[Any]], *, seeds: list[int] | int, workers: int,
              blocks: int | None, chain: str, out: Path, force: bool = False, cluster: str | None = None,
              base_overrides: dict[str, Any] | None = None, argv: list[str] | None = None) -> int:
    """Run the sweep (merging with an earlier sweep's rows in `out`), write sweep.csv / sweep.json /
    stats.json / sweep.png / cdf.png / fan.png / report.md and print the table."""
    if isinstance(seeds, int):
        seeds = list(range(1, seeds + 1))
    params = list(grid)
    old = earlier_rows(out)
    if old and sorted(k for k in old[0] if k in params) != sorted(k for k in params if k in old[0]) \
            or (old and any(p not in old[0] for p in params)):
        raise ValueError(f"{out} holds a sweep over other parameters; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    points = grid_points(grid)
    for p in points:  # every value must validate before any worker starts
        sc.with_overrides(p)
    jobs = [(p, s) for p in points for s in seeds]
    done = {_key(r, params) for r in old}
    overlap = [j for j in jobs if _key({**j[0], "seed": j[1]}, params) in done]
    if overlap and not force:
        raise ValueError(f"{out} already has {len(overlap)} of these runs (e.g. seed {overlap[0][1]}); extend with "
                         f"other seeds (--seeds A-B) or pass --force to rerun them")
    new = run_jobs(scenario_ref, sc, jobs, blocks=blocks, chain=chain, out=out, workers=workers, cluster=cluster,
                   desc=f"sweep {sc.name}")
    fresh = {_key(r, params) for r in new}
    rows = [r for r in old if _key(r, params) not in fresh] + new
    order = {tuple(str(v) for v in p.values()): i for i, p in enumerate(points)}
    rows.sort(key=lambda r: (order.get(tuple(str(r.get(k)) for k in params), len(order)), int(r["seed"])))
    write_rows(out, rows, params)
    from .stats import point_statistics

    stats = point_statistics(rows, params)
    (out / "stats.json").write_text(json.dumps(stats, indent=2, default=str) + "\n")
    print(format_table(rows, params))
    if params:
        plot_sweep(out / "sweep.png", rows, params, sc.name)
    from .plots import plot_cdf, plot_fan

    plot_cdf(out / "cdf.png", rows, params, sc.name)
    plot_fan(out / "fan.png", rows, params, sc.name)
    from .markdown import sweep_report

    report = sweep_report(out, sc, stats, params, base_overrides or {}, grid, argv)
    print(f"\nSweep table: {out / 'sweep.csv'} ({len(rows)} runs, {len(new)} new); report: {report}")
    if any(r.get("error") for r in new):
        first = next(r for r in new if r.get("error"))
        print(f"clawback-sim: error: {sum(1 for r in new if r.get('error'))} run(s) failed, e.g. seed "
              f"{first['seed']}: {first['error']}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_VIOLATION if any(r.get("violation") for r in new) else 0


def write_rows(out: Path, rows: list[dict[str, Any]], params: list[str]) -> None:
    cols = ["seed", *params, *OUTCOME_KEYS, "solvent", "violation", "error", "out"]
    with open(out / "sweep.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    (out / ROWS_FILE).write_text(json.dumps(rows, indent=2, default=str) + "\n")


def aggregate(rows: list[dict[str, Any]], params: list[str]) -> list[dict[str, Any]]:
    """Mean outcome per grid point (over seeds)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(p) for p in params), []).append(r)
    out = []
    for key, rs in groups.items():
        ok = [r for r in rs if not r.get("error")]
        agg: dict[str, Any] = dict(zip(params, key))
        agg["runs"] = len(rs)
        for k in ("total_deficit", "insurance_paid", "socialized_loss", "bad_debt", "vault_max_drawdown",
                  "share_price_max_drawdown", "share_price_min", "bankruptcies"):
            vals = [float(r[k]) for r in ok if r.get(k) is not None]
            agg[k] = sum(vals) / len(vals) if vals else float("nan")
        agg["violations"] = sum(1 for r in rs if r.get("violation") or r.get("error"))
        out.append(agg)
    return out


def format_table(rows: list[dict[str, Any]], params: list[str]) -> str:
    agg = aggregate(rows, params)
    head = [*params, "runs", "bankruptcies", "deficit", "insurance", "socialized", "bad_debt", "share_px_dd_%",
            "violations"]
    lines = ["  ".join(f"{h:>14}" for h in head)]
    for a in agg:
        vals = [*(a[p] for p in params), a["runs"], f"{a['bankruptcies']:.1f}", f"{a['total_deficit']:,.0f}",
                f"{a['insurance_paid']:,.0f}", f"{a['socialized_loss']:,.0f}", f"{a['bad_debt']:,.0f}",
                f"{100 * a['share_price_max_drawdown']:.1f}", a["violations"]]
        lines.append("  ".join(f"{str(v):>14}" for v in vals))
    return "\n".join(lines)


def plot_sweep(path: Path, rows: list[dict[str, Any]], params: list[str], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_param = params[0]
    agg = aggregate(rows, params)
    others = params[1:]
    series: dict[tuple, list[dict]] = {}
    for a in agg:
        series.setdefault(tuple(a[p] for p in others), []).append(a)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, pts in series.items():
        pts.sort(key=lambda a: a[x_param])
        xs = [a[x_param] for a in pts]
        label = ", ".join(f"{p}={v}" for p, v in zip(others, key))
        ax1.plot(xs, [a["socialized_loss"] + a["bad_debt"] for a in pts], marker="o",
                 label=f"socialized + bad debt {label}".strip())
        ax1.plot(xs, [a["insurance_paid"] for a in pts], marker="s", ls="--", label=f"insurance paid {label}".strip())
        ax2.plot(xs, [100 * a["share_price_max_drawdown"] for a in pts], marker="o",
                 label=label or "share price max drawdown")
    ax1.set_xlabel(x_param)
    ax1.set_ylabel("tokens (mean over seeds)")
    ax1.set_title(f"{title}: who pays the deficit")
    ax1.legend(fontsize=7)
    ax2.set_xlabel(x_param)
    ax2.set_ylabel("max share-price drawdown (%)")
    ax2.set_title("insurance vault drawdown")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
