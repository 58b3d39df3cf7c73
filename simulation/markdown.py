"""One Markdown report per run, sweep and goal-seek (report.md in the output folder), written for
a risk committee: the verdict first, then the tables and plots, the resolved configuration with
every override, the data range, the code version and the exact command that reproduces it."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from .paths import repo_root, resolve_data_path
from .scenario import Scenario


def code_version() -> str:
    """`git describe --always --dirty --tags` of the checkout, or the package version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=repo_root(),
                             capture_output=True, text=True, timeout=5)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version

        return f"clawback {version('clawback')} (no git)"
    except Exception:  # noqa: BLE001
        return "unknown"


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed (clawback-sim + its arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return "clawback-sim " + shlex.join(args)


def data_range(sc: Scenario) -> str:
    """Where the prices come from, with the historical file and dates if any."""
    pc = sc.prices
    impact = pc.impact
    imp = ("exogenous only (no price impact)" if impact.model == "none" else
           f"square-root impact of net taker flow (coef {impact.coef:g}, depth {impact.depth:,.0f}, "
           f"thinning {impact.thinning:g}, decay {impact.decay:g})")
    if pc.model == "historical":
        h = pc.historical
        return (f"historical replay of `{h.file}` ({resolve_data_path(h.file).name}) from {h.start} to {h.end}, "
                f"{h.blocks_per_day} blocks a day, vol scale {h.vol_scale:g}; {imp}")
    crash = f", crash {pc.crash.size:+.0%} at block {pc.crash.block} over {pc.crash.duration}" if pc.crash else ""
    return f"synthetic `{pc.model}` paths (sigma {pc.sigma:g}{crash}); {imp}"


def _provenance(sc: Scenario, overrides: dict[str, Any], argv: Sequence[str] | None) -> list[str]:
    ov = "\n".join(f"| `{k}` | `{v}` |" for k, v in overrides.items()) or "| (none) | |"
    return [
        "## Reproduce", "", "```", command_line(argv), "```", "",
        f"- code version: `{code_version()}`",
        f"- written: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- prices: {data_range(sc)}", "",
        "### Overrides", "", "| parameter | value |", "|---|---|", ov, "",
        "### Resolved configuration", "", "<details><summary>scenario after overrides</summary>", "",
        "```json", json.dumps(sc.model_dump(mode="json"), indent=1), "```", "</details>", "",
    ]


def _images(out: Path, names: Sequence[str]) -> list[str]:
    return [f"![{n}]({n})" for n in names if (out / n).is_file()] + [""]


def run_report(out: Path, summary: dict[str, Any], sc: Scenario, overrides: dict[str, Any],
               argv: Sequence[str] | None = None) -> Path:
    from .report import summary_table, verdict

    lines = [f"# Run report: {sc.name} (seed {summary['seed']})", "", sc.description, "",
             "## Verdict", "", *verdict(summary).splitlines(), "",
             "## Outcome", "", "```", summary_table(summary), "```", "",
             *_images(out, ["prices.png", "waterfall.png", "vault.png", "haircuts.png"]),
             *_provenance(sc, overrides, argv)]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fmt(x: float) -> str:
    return "nan" if x != x else f"{x:,.0f}"


def stats_table(stats: Sequence[dict[str, Any]], params: Sequence[str]) -> list[str]:
    """The decision table: per grid point and metric, the distribution over seeds."""
    head = [*params, "metric", "runs", "mean", "p50", "p95", "p99", "ES95", "P(>0)", "95% CI"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in stats:
        for m in ("deficit", "haircut", "bad_debt"):
            d = s[m]
            lo, hi = d["p_positive_ci"]
            pos = "" if m == "deficit" else f"{d['p_positive']:.0%}"
            ci = "" if m == "deficit" else f"{lo:.0%}-{hi:.0%}"
            lines.append("| " + " | ".join([*(str(s["point"].get(p)) for p in params), m, str(d["n"]),
                                            _fmt(d["mean"]), _fmt(d["p50"]), _fmt(d["p95"]), _fmt(d["p99"]),
                                            _fmt(d["es95"]), pos, ci]) + " |")
    return lines


def sweep_verdict(stats: Sequence[dict[str, Any]], params: Sequence[str]) -> list[str]:
    lines = []
    for s in stats:
        pt = ", ".join(f"{k}={v}" for k, v in s["point"].items()) or "the scenario as configured"
        h, b = s["haircut"], s["bad_debt"]
        lo, hi = h["p_positive_ci"]
        blo, bhi = b["p_positive_ci"]
        lines.append(f"- **{pt}** ({s['runs']} seeds{', ' + str(s['failed']) + ' failed' if s['failed'] else ''}): "
                     f"a haircut in {h['p_positive']:.0%} of runs (95% CI {lo:.0%}-{hi:.0%}), p95 haircut "
                     f"{_fmt(h['p95'])}; bad debt in {b['p_positive']:.0%} (CI {blo:.0%}-{bhi:.0%}); "
                     f"p95 deficit {_fmt(s['deficit']['p95'])} tokens.")
    return lines


def sweep_report(out: Path, sc: Scenario, stats: Sequence[dict[str, Any]], params: Sequence[str],
                 base_overrides: dict[str, Any], grid: dict[str, list[Any]], argv: Sequence[str] | None = None) -> Path:
    ov = dict(base_overrides)
    ov.update({k: ",".join(str(x) for x in v) + " (swept)" for k, v in grid.items()})
    lines = [f"# Sweep report: {sc.name}", "", sc.description, "", "## Verdict", "",
             *sweep_verdict(stats, params), "",
             "## Distribution over seeds (tokens)", "",
             "P(>0) is the share of seeds with a positive value, with its Wilson 95 % interval; ES95 is the "
             "mean of the worst 5 % of seeds (at least one).", "",
             *stats_table(stats, params), "",
             *_images(out, ["sweep.png", "cdf.png", "fan.png"]),
             "Rows per run: `sweep.csv` / `sweep.json`; statistics: `stats.json`.", "",
             *_provenance(sc, ov, argv)]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def seek_report(out: Path, sc: Scenario, result: Any, base_overrides: dict[str, Any],
                argv: Sequence[str] | None = None) -> Path:
    t = result.target
    if result.answer is None:
        hi = max(p.value for p in result.probes)
        verdict = [f"**Not met within the range**: even at `{result.param}` = {hi:g} the {t.stat} {t.metric} "
                   f"was {_fmt(result.probes[0].statistic)} (target {t})."]
    else:
        best = next(p for p in result.probes if p.value == result.answer)
        lo, hi = best.exceed_ci
        below = result.bracket[0] if result.bracket and result.bracket[0] != result.answer else None
        verdict = [f"**`{result.param}` = {result.answer:g}** is the smallest probed value meeting `{t}`"
                   + (f" (it failed at {below:g})" if below is not None else " (the bottom of the range)") + ".",
                   f"On its {best.n} seeds the metric exceeded {t.value:g} in {best.exceed} "
                   f"(P = {best.exceed / max(best.n, 1):.0%}, Wilson 95 % CI {lo:.0%}-{hi:.0%}): with this many "
                   f"seeds a tail event rarer than {hi:.0%} cannot be ruled out."]
    rows = ["| value | " + f"{t.stat} {t.metric}" + " | met | seeds | exceed |", "|---|---|---|---|---|"]
    for p in sorted(result.probes, key=lambda p: p.value):
        rows.append(f"| {p.value:g} | {_fmt(p.statistic)} | {'yes' if p.met else 'no'} | {p.n} | {p.exceed} |")
    lines = [f"# Goal-seek report: {sc.name}", "", f"Target: `{t}` by varying `{result.param}`.", "",
             "## Verdict", "", *verdict, "", "## Probes", "", *rows, "", *_images(out, ["goalseek.png"]),
             *_provenance(sc, base_overrides, argv)]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
