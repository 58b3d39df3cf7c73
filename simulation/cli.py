"""`clawback-sim`: run, sweep, list and bench agent-based simulations against Clawback."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

EXIT_ERROR = 2


def _parse_sets(items: Sequence[str] | None, multi: bool) -> dict[str, Any]:
    from .scenario import ScenarioError, parse_value

    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ScenarioError(f"--set expects param=value, got {item!r}")
        k, v = item.split("=", 1)
        vals = [parse_value(x) for x in v.split(",")] if multi else parse_value(v)
        out[k.strip()] = vals
    return out


def _count(text: str) -> int:
    """A positive integer argument."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _seed(text: str) -> int:
    """A non-negative integer seed."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clawback-sim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one scenario and write its report",
                       description="Run one scenario on a devnet; write metrics.csv, events.jsonl, summary.json and plots.")
    r.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name (see `list`) or a path to a .toml file")
    r.add_argument("--seed", type=_seed, default=None, help="random seed (default: the scenario's seed)")
    r.add_argument("--blocks", type=_count, default=None, help="number of blocks to simulate (default: the scenario's)")
    r.add_argument("--chain", default="anvil", metavar="anvil|revm|URL",
                   help="anvil: start a private anvil (default, the devnet of record); revm: in process, no node, "
                        "same outputs, faster ('embedded' is an alias); URL: attach to a running anvil-compatible node")
    r.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/SCENARIO-seedN)")
    r.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="sets",
                   help="override a scenario parameter by dotted path, e.g. agents.stakers.capital=500000 (repeatable)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sweep", help="run seeds x a parameter grid in parallel and compare outcomes",
                       description="Run a scenario for several seeds and every combination of --set values, each run a Dask "
                                   "task with its own chain; write sweep.csv and sweep.png. Finished runs are kept: "
                                   "the same command again skips them.")
    s.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name or a path to a .toml file")
    s.add_argument("--seeds", type=_count, required=True, help="number of seeds per grid point (seeds 1..N)")
    s.add_argument("--set", action="append", metavar="PARAM=V1,V2,...", dest="sets",
                   help="a parameter and the values to sweep, e.g. agents.stakers.capital=20000,60000 (repeatable)")
    s.add_argument("--workers", type=_count, default=2,
                   help="local Dask worker processes, one thread each (default 2; ignored with --cluster)")
    s.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="submit the runs to a running Dask scheduler, e.g. tcp://10.0.0.5:8786, instead of a local cluster")
    s.add_argument("--blocks", type=_count, default=None, help="blocks per run (default: the scenario's)")
    s.add_argument("--chain", default="revm", metavar="revm|anvil",
                   help="chain per run: revm (default: in process, deployed once per worker and restored from a "
                        "snapshot) or anvil (a private anvil per run)")
    s.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/sweep-SCENARIO)")

    sub.add_parser("list", help="list the shipped scenarios, one line each",
                   description="List the shipped scenarios with their descriptions.")

    b = sub.add_parser("bench", help="throughput of revm, anvil batched and ape side by side, and the per-run cost",
                       description="Send the same signed-order fills in process on revm, batched over raw JSON-RPC to "
                                   "anvil and one by one through ape; print the rates and ratios, then the per-run "
                                   "cost of a short scenario on each chain. --scale: the scale curve instead.")
    b.add_argument("--txs", type=_count, default=2000, help="transactions for the batched path (default 2000)")
    b.add_argument("--ape-txs", type=_count, default=100, help="transactions for the ape path (default 100)")
    b.add_argument("--per-block", type=_count, default=200, help="transactions per block on the batched paths")
    b.add_argument("--run-blocks", type=_count, default=30, help="blocks of the short scenario timed per run (default 30)")
    b.add_argument("--runs", type=int, default=3, help="runs per chain for the per-run cost (default 3; 0 skips it)")
    b.add_argument("--scenario", default="default", help="scenario for the per-run cost and --scale (default: default)")
    b.add_argument("--scale", default=None, metavar="N1,N2,...",
                   help="instead: the scale curve, the scenario with N trader accounts each on revm, time per block "
                        "and where it goes, e.g. --scale 100,300,1000")
    b.add_argument("--scale-blocks", type=_count, default=1000, help="blocks per --scale point (default 1000)")
    return p


def _install_sigterm() -> None:
    def handler(signum, frame):  # turn SIGTERM into SystemExit so every `finally` (anvil stop) runs
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def cmd_list() -> int:
    from .scenario import ScenarioError, load_scenario, shipped_scenarios

    for name in shipped_scenarios():
        try:
            sc = load_scenario(name)
            print(f"{name:<20} {sc.effective_blocks():>5} blocks  {sc.description}")
        except ScenarioError as exc:
            print(f"{name:<20} INVALID: {exc}")
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from .report import summary_table, verdict
    from .runner import run_scenario
    from .scenario import load_scenario

    sc = load_scenario(a.scenario)
    overrides = _parse_sets(a.sets, multi=False)
    if overrides:
        sc = sc.with_overrides(overrides)
    seed = sc.seed if a.seed is None else a.seed
    out = Path(a.out) if a.out else Path("runs") / f"{sc.name}-seed{seed}"
    res = run_scenario(sc, scenario_ref=a.scenario, seed=seed, blocks=a.blocks, chain=a.chain, out=out,
                       progress=not a.quiet, plots=not a.no_plots, overrides=overrides)
    print(summary_table(res.summary))
    print()
    print(verdict(res.summary))
    print(f"\nReport: {res.out}/ (summary.json, metrics.csv, events.jsonl, accounts.csv"
          + (", " + ", ".join(p.name for p in res.plots) if res.plots else "") + ")")
    if res.violation:
        print(f"violation.json written: {res.out / 'violation.json'}", file=sys.stderr)
    return res.exit_code


def cmd_sweep(a: argparse.Namespace) -> int:
    from .scenario import load_scenario
    from .sweep import run_sweep

    from .devnets import normalize_kind

    if normalize_kind(a.chain) not in ("revm", "anvil"):
        raise ValueError(f"sweep --chain must be revm or anvil (each run gets its own chain), got {a.chain!r}")
    sc = load_scenario(a.scenario)
    grid = _parse_sets(a.sets, multi=True)
    sc.with_overrides({k: v[0] for k, v in grid.items()})  # validate names and first values early
    out = Path(a.out) if a.out else Path("runs") / f"sweep-{sc.name}"
    return run_sweep(a.scenario, sc, grid, seeds=a.seeds, workers=a.workers, blocks=a.blocks, chain=a.chain, out=out,
                     cluster=a.cluster)


def cmd_bench(a: argparse.Namespace) -> int:
    from .bench import run_bench

    scale = [int(x) for x in a.scale.split(",")] if a.scale else None
    return run_bench(n_batched=a.txs, n_ape=a.ape_txs, per_block=a.per_block, run_blocks=a.run_blocks, runs=a.runs,
                     scale=scale, scale_blocks=a.scale_blocks, scenario=a.scenario)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; every expected failure is one line on stderr and exit code 2."""
    from .abi import ArtifactError
    from .anvil import AnvilNotFound
    from .engine import SimulationError
    from .rpc import ChainUnreachable
    from .scenario import ScenarioError

    args = build_parser().parse_args(argv)
    _install_sigterm()
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "run":
            return cmd_run(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "bench":
            return cmd_bench(args)
    except (ScenarioError, AnvilNotFound, ChainUnreachable, ArtifactError, SimulationError, ValueError) as exc:
        print(f"clawback-sim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("clawback-sim: interrupted", file=sys.stderr)
        return 130
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
