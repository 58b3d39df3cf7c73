"""Goal-seek: the smallest value of one parameter that meets a target such as 'p95 haircut = 0'.

The metric is assumed to fall (weakly) as the parameter grows - a larger fund, a higher margin, a
lower leverage cap written as its inverse - so the search is a bisection: each probe runs a batch
of seeds at one value (through `simulation.sweep.run_jobs`) and asks whether the target holds on
that batch. The answer is the smallest probed value that met it, with the bracket it lies in and,
for the seeds it ran, the Wilson interval of the probability that the metric exceeds the target."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .stats import METRICS, metric_values, statistic, wilson

TOL = 1e-6   # tokens: "= 0" means no more than a millionth of a token


@dataclass(frozen=True)
class Target:
    """`<statistic> <metric> <op> <value>`, e.g. p95 haircut = 0 (op '=' and '<=' both mean <=)."""

    stat: str
    metric: str
    op: str
    value: float

    def met(self, x: float) -> bool:
        if x != x:  # nan: no run finished
            return False
        return x < self.value if self.op == "<" else x <= self.value + TOL

    def __str__(self) -> str:
        return f"{self.stat} {self.metric} {self.op} {self.value:g}"


def parse_target(text: str) -> Target:
    """Parse 'p95 haircut = 0', 'mean bad_debt <= 1000', 'es99 deficit < 5e4'."""
    m = re.fullmatch(r"\s*([A-Za-z]+[0-9.]*)\s+([A-Za-z_]+)\s*(<=|=|<)\s*([-+0-9.eE_]+)\s*", text)
    if not m:
        raise ValueError(f"--target must look like 'p95 haircut = 0', got {text!r}")
    stat, metric, op, value = m.groups()
    statistic([0.0], stat)  # validates the statistic's name
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r} in --target (one of {', '.join(METRICS)})")
    return Target(stat.lower(), metric, op, float(value.replace("_", "")))


@dataclass
class Probe:
    value: float
    statistic: float
    met: bool
    n: int
    exceed: int             # seeds on which the metric exceeded the target value
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exceed_ci(self) -> tuple[float, float]:
        return wilson(self.exceed, self.n)


@dataclass
class SeekResult:
    target: Target
    param: str
    probes: list[Probe]
    answer: float | None        # smallest probed value that met the target (None: not within range)
    bracket: tuple[float, float] | None   # (largest value that failed, answer)


def midpoint(lo: float, hi: float, geometric: bool, integer: bool) -> float:
    m = math.sqrt(lo * hi) if geometric and lo > 0 else (lo + hi) / 2
    return float(round(m)) if integer else m


def bisect(evaluate: Callable[[float], Probe], lo: float, hi: float, *, probes: int, integer: bool = False,
           geometric: bool | None = None) -> tuple[list[Probe], float | None, tuple[float, float] | None]:
    """Smallest value in [lo, hi] whose probe meets the target, assuming it is met above some value.
    Probes hi first (if it fails, there is no answer in range), then lo, then bisects up to
    `probes` evaluations in all."""
    if not lo < hi:
        raise ValueError(f"goal-seek range must have lo < hi, got {lo} .. {hi}")
    geometric = (lo > 0 and hi / lo >= 10) if geometric is None else geometric
    done: list[Probe] = []

    def run(x: float) -> Probe:
        p = evaluate(x)
        done.append(p)
        return p

    if not run(hi).met:
        return done, None, None
    if probes >= 2 and run(lo).met:
        return done, done[-1].value, (done[-1].value, done[-1].value)
    bad, good = done[-1].value if len(done) > 1 else lo, done[0].value   # the values actually run
    while len(done) < probes:
        x = midpoint(bad, good, geometric, integer)
        if x in (bad, good):
            break
        p = run(x)
        if p.met:
            good = p.value
        else:
            bad = p.value
    return done, good, (bad, good)


def make_probe(target: Target, value: float, rows: Sequence[dict[str, Any]]) -> Probe:
    """Judge one probe's rows against the target."""
    vals = metric_values(rows, target.metric)
    stat = statistic(vals, target.stat) if vals else float("nan")
    exceed = sum(1 for v in vals if not Target(target.stat, target.metric, "<=", target.value).met(v))
    ok = target.met(stat) and len(vals) == len(rows)   # a failed run never counts as meeting the target
    return Probe(value, stat, ok, len(vals), exceed, list(rows))


def plot_seek(path, result: SeekResult, title: str) -> None:
    """The metric's statistic against the parameter, the target line and the answer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = sorted(result.probes, key=lambda p: p.value)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot([p.value for p in pts], [p.statistic for p in pts], marker="o", label=f"{result.target.stat} "
            f"{result.target.metric} over seeds")
    for p in pts:
        ax.annotate("met" if p.met else "not met", (p.value, p.statistic), fontsize=7, xytext=(3, 4),
                    textcoords="offset points")
    ax.axhline(result.target.value, color="grey", ls="--", label=f"target {result.target}")
    if result.answer is not None:
        ax.axvline(result.answer, color="green", ls=":", label=f"answer {result.param} = {result.answer:g}")
    ax.set_xlabel(result.param)
    ax.set_ylabel(f"{result.target.metric} (tokens)" if result.target.metric != "vault_drawdown" else "share")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def seek(scenario_ref: str, sc, param: str, target: Target, *, lo: float, hi: float, seeds: list[int],
         probes: int, blocks: int | None, chain: str, out, workers: int, cluster: str | None = None,
         base_overrides: dict[str, Any] | None = None, argv: Sequence[str] | None = None) -> SeekResult:
    """Run the search (each probe: every seed at one value, through run_jobs) and write
    goalseek.json, goalseek.png and report.md into `out`."""
    import json
    from pathlib import Path

    from .markdown import seek_report
    from .sweep import run_jobs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    current = _current(sc, param)
    integer = isinstance(current, int) and not isinstance(current, bool)
    sc.with_overrides({param: int(lo) if integer else lo})  # validates the name and the range early
    sc.with_overrides({param: int(hi) if integer else hi})

    def evaluate(x: float) -> Probe:
        v = int(round(x)) if integer else float(f"{x:.6g}")
        rows = run_jobs(scenario_ref, sc, [({param: v}, s) for s in seeds], blocks=blocks, chain=chain, out=out,
                        workers=workers, cluster=cluster, desc=f"{param}={v}")
        p = make_probe(target, v, rows)
        print(f"  {param} = {v:g}: {target.stat} {target.metric} = {p.statistic:,.2f} over {p.n} seeds -> "
              f"{'met' if p.met else 'not met'}", flush=True)
        return p

    probes_done, answer, bracket = bisect(evaluate, lo, hi, probes=probes, integer=integer)
    result = SeekResult(target, param, probes_done, answer, bracket)
    (out / "goalseek.json").write_text(json.dumps({
        "target": str(target), "param": param, "answer": answer, "bracket": bracket, "seeds": seeds,
        "probes": [{"value": p.value, "statistic": p.statistic, "met": p.met, "n": p.n, "exceed": p.exceed,
                    "exceed_ci": p.exceed_ci, "rows": p.rows} for p in probes_done]}, indent=2, default=str) + "\n")
    plot_seek(out / "goalseek.png", result, f"{sc.name}: {target}")
    seek_report(out, sc, result, base_overrides or {}, argv)
    return result


def _current(sc, param: str) -> Any:
    """The scenario's current value of a dotted parameter (the first one for a linked `*` key)."""
    node: Any = sc.model_dump(mode="python")
    for part in param.replace("*", "0").split("."):
        node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
    return node
