"""`clawback-sim compare`: the same scenario once per loss policy for each seed (a
`protocol.loss_policy` override), every run through the sweep's job runner; then the fairness
metrics of each run (simulation.fairness), compare.csv / compare.json, a printed table (mean, p50
and p95 over seeds per policy) and the comparison plots (simulation.compare_plots)."""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from . import fairness as F

POLICY_KEY = "protocol.loss_policy"
KNOWN_POLICIES = ("pro_rata_size", "profit_clawback", "adl")
EXIT_OK, EXIT_ERROR, EXIT_FAILED_RUN = 0, 2, 3

# runner(scenario_ref, sc, jobs, *, blocks, chain, out, workers, cluster=None, desc="") -> rows: one
# dict per job with at least "seed" and "out" (the run's folder), and "error"/"violation" if it failed
JobRunner = Callable[..., list[dict[str, Any]]]


class CompareError(ValueError):
    """Bad comparison input (one line)."""


def parse_policies(text: str | Sequence[str]) -> list[str]:
    """A comma-separated list (or a list) of at least two distinct known loss policies."""
    items = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    unknown = [p for p in items if p not in KNOWN_POLICIES]
    if unknown:
        raise CompareError(f"unknown loss policy {unknown[0]!r} (known: {', '.join(KNOWN_POLICIES)})")
    if len(set(items)) != len(items):
        raise CompareError(f"loss policy listed twice in {','.join(items)!r}")
    if len(items) < 2:
        raise CompareError(f"compare needs at least two loss policies, got {len(items)} ({','.join(items) or 'none'})")
    return items


def compare_jobs(policies: Sequence[str], seeds: Sequence[int]) -> list[tuple[dict[str, Any], int]]:
    """For each seed, one job per policy: ({protocol.loss_policy: policy}, seed)."""
    return [({POLICY_KEY: p}, s) for s in seeds for p in policies]


def _default_runner() -> JobRunner:
    try:
        from .sweep import run_jobs  # noqa: PLC0415 - the sweep's job runner (and its cluster) on demand
    except ImportError:
        raise CompareError("simulation.sweep has no run_jobs job runner in this build") from None
    return run_jobs


def _in_job_order(jobs: Sequence[tuple[dict[str, Any], int]],
                  results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runner's rows in job order: matched on (policy, seed) when every row names both,
    otherwise taken in the order returned."""
    if all(POLICY_KEY in r and "seed" in r for r in results):
        by_key = {(r[POLICY_KEY], int(r["seed"])): r for r in results}
        missing = [(pt[POLICY_KEY], s) for pt, s in jobs if (pt[POLICY_KEY], s) not in by_key]
        if missing:
            raise CompareError(f"the job runner returned no row for {missing[0][0]} seed {missing[0][1]}")
        return [by_key[(pt[POLICY_KEY], s)] for pt, s in jobs]
    return list(results)


def _percentile(vals: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile of the finite values (NaN if none)."""
    xs = sorted(v for v in vals if v is not None and math.isfinite(v))
    if not xs:
        return math.nan
    k = (len(xs) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _mean(vals: Sequence[float]) -> float:
    xs = [v for v in vals if v is not None and math.isfinite(v)]
    return sum(xs) / len(xs) if xs else math.nan


def aggregate(rows: Sequence[dict[str, Any]], policies: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """policy -> metric -> {mean, p50, p95, runs} over the seeds that ran without error."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for p in policies:
        ok = [r for r in rows if r["policy"] == p and not r.get("error")]
        out[p] = {k: {"mean": _mean([r[k] for r in ok]), "p50": _percentile([r[k] for r in ok], 50),
                      "p95": _percentile([r[k] for r in ok], 95), "runs": len(ok)} for k in F.METRIC_KEYS}
    return out


def _json_safe(x: Any) -> Any:
    """NaN and infinities as null: compare.json stays standard JSON."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def _fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.3f}"


def format_table(agg: dict[str, dict[str, dict[str, float]]], policies: Sequence[str], seeds: int) -> str:
    """One line per metric, one column per policy: mean (p50 / p95) over the seeds."""
    head = ["metric (mean, p50 / p95 over seeds)", *policies]
    body = [[label, *(f"{_fmt(agg[p][k]['mean'])} ({_fmt(agg[p][k]['p50'])} / {_fmt(agg[p][k]['p95'])})"
                      for p in policies)] for k, label in F.METRICS]
    body.append(["runs", *(f"{agg[p]['deficit']['runs']} of {seeds}" for p in policies)])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_compare(scenario_ref: str, sc: Any, policies: Sequence[str], seeds: Sequence[int], *, blocks: int | None,
                chain: str, out: Path, workers: int, runner: JobRunner | None = None, cluster: Any = None,
                plots: bool = True, stream=None) -> int:
    """Run every (policy, seed), write compare.csv / compare.json (and the plots), print the
    table; 0 if every run completed, 3 if one failed or violated an invariant."""
    stream = stream or sys.stdout
    policies = parse_policies(list(policies))
    seeds = list(seeds)
    if not seeds:
        raise CompareError("compare needs at least one seed")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = compare_jobs(policies, seeds)
    run = runner or _default_runner()
    results = run(scenario_ref, sc, jobs, blocks=blocks, chain=chain, out=out, workers=workers, cluster=cluster,
                  desc=f"compare {sc.name}")
    if len(results) != len(jobs):
        raise CompareError(f"the job runner returned {len(results)} rows for {len(jobs)} jobs")
    decimals = sc.protocol.collateral_decimals
    rows: list[dict[str, Any]] = []
    outcomes: list[F.RunOutcome] = []
    for (point, seed), res in zip(jobs, _in_job_order(jobs, results)):
        policy = point[POLICY_KEY]
        row: dict[str, Any] = {"policy": policy, "seed": seed, "out": res.get("out", ""),
                               "violation": res.get("violation") or "", "error": res.get("error") or ""}
        if not row["error"]:
            try:
                o = F.load_outcome(res["out"], policy=policy, seed=seed, decimals=decimals)
                outcomes.append(o)
                row.update(F.metrics(o))
            except (F.OutcomeError, KeyError) as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
        if row["error"]:
            row.update({k: math.nan for k in F.METRIC_KEYS})
        rows.append(row)
    cols = ["policy", "seed", *F.METRIC_KEYS, "violation", "error", "out"]
    with open(out / "compare.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    agg = aggregate(rows, policies)
    doc = {"scenario": sc.name, "policies": list(policies), "seeds": seeds, "runs": rows, "aggregate": agg}
    (out / "compare.json").write_text(json.dumps(_json_safe(doc), indent=2, default=str, allow_nan=False) + "\n")
    print(f"{sc.name}: {len(policies)} loss policies x {len(seeds)} seeds", file=stream)
    print(format_table(agg, policies, len(seeds)), file=stream)
    written = ["compare.csv", "compare.json"]
    if plots and outcomes:
        from .compare_plots import plot_compare  # noqa: PLC0415 - matplotlib only when plotting

        written += [p.name for p in plot_compare(out, outcomes, rows, policies, sc.name)]
    print(f"\nComparison: {out}/ ({', '.join(written)})", file=stream)
    bad = [r for r in rows if r["error"] or r["violation"]]
    for r in bad:
        print(f"  {r['policy']} seed {r['seed']}: {r['error'] or 'invariant violated: ' + str(r['violation'])}",
              file=stream)
    return EXIT_FAILED_RUN if bad else EXIT_OK


# -- command line ---------------------------------------------------------------------------------

def _count(text: str) -> int:
    """A positive integer argument (the CLI's own parser, written once in cli.py)."""
    from .cli import _count as count  # noqa: PLC0415 - cli imports this module when it builds its parser

    return count(text)


def add_compare_parser(sub: Any) -> argparse.ArgumentParser:
    """The `compare` subcommand on clawback-sim's subparsers."""
    c = sub.add_parser("compare", help="run a scenario once per loss policy for each seed and compare fairness",
                       description="For each seed, run the scenario once per loss policy (protocol.loss_policy) and "
                                   "compare deficit split, overshoot, who paid, concentration (Gini, PTSR, PMR) and "
                                   "what happened next; write compare.csv and plots.")
    c.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name or a path to a .toml file")
    c.add_argument("--policies", default=",".join(KNOWN_POLICIES), metavar="P1,P2,...",
                   help=f"at least two loss policies (default: {','.join(KNOWN_POLICIES)})")
    c.add_argument("--seeds", type=_count, default=4, help="seeds 1..N per policy (default 4)")
    from .cli import add_run_options  # noqa: PLC0415 - cli imports this module when it builds its parser

    add_run_options(c)
    c.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/compare-SCENARIO)")
    c.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="sets",
                   help="override a scenario parameter for every run, e.g. agents.stakers.capital=20000 (repeatable)")
    c.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return c


def main_compare(args: argparse.Namespace, runner: JobRunner | None = None, stream=None) -> int:
    """`clawback-sim compare`; bad input is one line on stderr and exit code 2."""
    from .scenario import ScenarioError, load_scenario, parse_value  # noqa: PLC0415

    try:
        policies = parse_policies(args.policies)
        sc = load_scenario(args.scenario)
        overrides: dict[str, Any] = {}
        for item in args.sets or ():
            if "=" not in item:
                raise CompareError(f"--set expects param=value, got {item!r}")
            k, v = item.split("=", 1)
            if k.strip() == POLICY_KEY:
                raise CompareError(f"--set {POLICY_KEY} is what compare varies: use --policies")
            overrides[k.strip()] = parse_value(v)
        if overrides:
            sc = sc.with_overrides(overrides)
        out = Path(args.out) if args.out else Path("runs") / f"compare-{sc.name}"
        return run_compare(args.scenario, sc, policies, range(1, args.seeds + 1), blocks=args.blocks,
                           chain=args.chain, out=out, workers=args.workers, runner=runner,
                           cluster=getattr(args, "cluster", None), plots=not args.no_plots, stream=stream)
    except (CompareError, ScenarioError, F.OutcomeError) as exc:
        print(f"clawback-sim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
