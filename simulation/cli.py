"""`clawback-sim`: run, sweep, goal-seek, list and bench agent-based simulations against Clawback."""
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


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that runs many runs as Dask tasks shares: where the runs go
    (--workers / --cluster), how long each is (--blocks) and on which chain (--chain)."""
    parser.add_argument("--workers", type=_count, default=2,
                        help="local Dask worker processes, one thread each (default 2; ignored with --cluster)")
    parser.add_argument("--cluster", default=None, metavar="ADDRESS",
                        help="submit the runs to a running Dask scheduler, e.g. tcp://10.0.0.5:8786, instead of a "
                             "local cluster")
    parser.add_argument("--blocks", type=_count, default=None, help="blocks per run (default: the scenario's)")
    parser.add_argument("--chain", default="revm", metavar="revm|anvil",
                        help="chain per run: revm (default: in process, deployed once per worker and restored from "
                             "a snapshot) or anvil (a private anvil per run)")


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
    r.add_argument("--force", action="store_true", help="write into an existing output folder")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sweep", help="run seeds x a parameter grid in parallel and compare outcomes",
                       description="Run a scenario for several seeds and every combination of --set values, each run a Dask "
                                   "task with its own chain; write sweep.csv and sweep.png. Finished runs are kept: "
                                   "the same command again skips them.")
    s.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name or a path to a .toml file")
    s.add_argument("--seeds", required=True, metavar="N|A-B",
                   help="seeds per grid point: N (seeds 1..N) or a range A-B; a range run into the folder of an "
                        "earlier sweep extends it and the rows are merged")
    s.add_argument("--set", action="append", metavar="PARAM=V1,V2,...", dest="sets",
                   help="a parameter and the values to sweep, e.g. agents.stakers.capital=20000,60000 (repeatable)")
    add_run_options(s)
    s.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/sweep-SCENARIO)")
    s.add_argument("--force", action="store_true", help="rerun (and replace) runs the output folder already has, "
                                                        "or write into a folder that is not a sweep's")

    pa = sub.add_parser("params", help="list every dotted parameter of a scenario and its value",
                        description="List every parameter --set / --param accept (markets.*.KEY moves all markets).")
    pa.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name or a path to a .toml file")

    for name, what in (("goal-seek", "any parameter"), ("size-fund", "the insurance fund")):
        g = sub.add_parser(name, help=f"smallest value of {what} that meets a target, e.g. 'p95 haircut = 0'",
                           description="Bisection over a parameter: each probe runs a batch of seeds; prints the "
                                       "smallest value meeting the target, with its confidence, and writes "
                                       "goalseek.json, goalseek.png and report.md.")
        g.add_argument("scenario", metavar="SCENARIO", help="a shipped scenario name or a path to a .toml file")
        g.add_argument("--target", required=True, metavar="'STAT METRIC = V'",
                       help="STAT: mean, max, pNN, esNN; METRIC: haircut, bad_debt, deficit, insurance, "
                            "vault_drawdown; e.g. 'p95 haircut = 0'")
        if name == "goal-seek":
            g.add_argument("--param", required=True, metavar="PARAM",
                           help="the dotted parameter to search, e.g. markets.*.mmr (see `params`)")
            g.add_argument("--range", dest="span", required=True, metavar="LO:HI", help="search range, e.g. 0.01:0.2")
        else:
            g.add_argument("--param", default="agents.protocol_fund.capital", metavar="PARAM",
                           help="the fund parameter (default agents.protocol_fund.capital: the protocol-owned, "
                                "non-redeemable stake, in tokens)")
            g.add_argument("--range", dest="span", default="10000:4000000", metavar="LO:HI",
                           help="search range in tokens (default 10000:4000000, bisected geometrically)")
        g.add_argument("--seeds", default="10", metavar="N|A-B", help="seeds per probe (default 10: seeds 1..10)")
        g.add_argument("--probes", type=_count, default=6, help="most probes (runs of all seeds), default 6")
        g.add_argument("--set", action="append", metavar="PARAM=VALUE", dest="sets",
                       help="a fixed override for every run (repeatable)")
        add_run_options(g)
        g.add_argument("--out", default=None, metavar="DIR", help="output folder (default: runs/NAME-SCENARIO)")
        g.add_argument("--force", action="store_true", help="write into an existing output folder")

    from .compare import add_compare_parser

    add_compare_parser(sub)

    sub.add_parser("list", help="list the shipped scenarios, one line each",
                   description="List the shipped scenarios with their descriptions.")

    b = sub.add_parser("bench", help="throughput of revm, anvil batched and ape side by side, and the per-run cost",
                       description="Send the same signed-order fills in process on revm, batched over raw JSON-RPC to "
                                   "anvil and one by one through ape; print the rates and ratios, then the per-run "
                                   "cost of a short scenario on each chain. --scale: the scale curve instead.")
    b.add_argument("--txs", type=_count, default=10_000,
                   help="transactions for the batched paths (default 10000: shorter runs swing by ±15 %% here)")
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


def _taken(out: Path) -> bool:
    return out.exists() and (not out.is_dir() or any(out.iterdir()))


def claim_out(out: Path, force: bool, default: bool = False) -> Path:
    """An output folder that does not exist yet (or is empty); an existing one only with --force. A
    default folder (no --out) that exists is not overwritten: the run goes to a new sibling (-2, -3, ...)."""
    if default and not force and _taken(out):
        n = 2
        while _taken(out.with_name(f"{out.name}-{n}")):
            n += 1
        return out.with_name(f"{out.name}-{n}")
    if _taken(out) and not force:
        raise ValueError(f"output folder {out} already exists (pass --force to write into it, or choose --out)")
    return out


def check_blocks(sc, blocks: int | None) -> None:
    """A crash scheduled after the last simulated block is an error, not a quiet calm run."""
    n = min(blocks, sc.effective_blocks()) if blocks else sc.effective_blocks()
    c = sc.prices.crash
    if c is not None and c.block > n:
        from .scenario import ScenarioError

        raise ScenarioError(f"the crash is scheduled at block {c.block}, after the last block ({n}): "
                            f"raise --blocks or move prices.crash.block")


def check_chain(chain: str) -> None:
    """A --chain URL must answer before any run starts (a dead node is bad input, exit 2)."""
    if chain.startswith(("http://", "https://")):
        from .chain import RpcChain

        RpcChain(chain).close()


def load(a: argparse.Namespace, multi: bool = False):
    from .scenario import load_scenario

    sc = load_scenario(a.scenario)
    overrides = _parse_sets(a.sets, multi=multi)
    return sc, overrides


def cmd_run(a: argparse.Namespace) -> int:
    from .report import summary_table, verdict
    from .runner import run_scenario

    sc, overrides = load(a)
    if overrides:
        sc = sc.with_overrides(overrides)
    check_blocks(sc, a.blocks)
    seed = sc.seed if a.seed is None else a.seed
    out = claim_out(Path(a.out) if a.out else Path("runs") / f"{sc.name}-seed{seed}", a.force, default=not a.out)
    res = run_scenario(sc, scenario_ref=a.scenario, seed=seed, blocks=a.blocks, chain=a.chain, out=out,
                       progress=not a.quiet, plots=not a.no_plots, overrides=overrides, report=True,
                       argv=a.argv)
    print(summary_table(res.summary))
    print()
    print(verdict(res.summary))
    print(f"\nReport: {res.out}/report.md (summary.json, metrics.csv, events.jsonl, accounts.csv"
          + (", " + ", ".join(p.name for p in res.plots if p.suffix == ".png") if res.plots else "") + ")")
    if res.violation:
        print(f"violation.json written: {res.out / 'violation.json'}", file=sys.stderr)
    return res.exit_code


def cmd_sweep(a: argparse.Namespace) -> int:
    from .sweep import earlier_rows, parse_seeds, run_sweep

    sc, grid = load(a, multi=True)
    fixed = {k: v[0] for k, v in grid.items() if len(v) == 1}
    grid = {k: v for k, v in grid.items() if len(v) > 1}
    if fixed:
        sc = sc.with_overrides(fixed)
    sc.with_overrides({k: v[0] for k, v in grid.items()})  # validate names and first values early
    for k, vals in grid.items():
        for v in vals:
            check_blocks(sc.with_overrides({k: v}), a.blocks)
    check_blocks(sc, a.blocks)
    seeds = parse_seeds(a.seeds)
    out = Path(a.out) if a.out else Path("runs") / f"sweep-{sc.name}"
    from .jobs import LEDGER

    # an earlier sweep (its rows) or an interrupted one (finished runs in its ledger) is resumed
    if not earlier_rows(out) and not any(out.glob(f"*/seed*/{LEDGER}")):
        claim_out(out, a.force)
    check_chain(a.chain)
    from .devnets import normalize_kind

    if normalize_kind(a.chain) not in ("revm", "anvil"):
        raise ValueError(f"sweep --chain must be revm or anvil (each run gets its own chain), got {a.chain!r}")
    return run_sweep(a.scenario, sc, grid, seeds=seeds, workers=a.workers, blocks=a.blocks, chain=a.chain, out=out,
                     force=a.force, base_overrides=fixed, argv=a.argv, cluster=a.cluster)


def cmd_params(a: argparse.Namespace) -> int:
    from .scenario import load_scenario, parameters

    sc = load_scenario(a.scenario)
    rows = parameters(sc)
    w = max(len(k) for k, _, _ in rows)
    for k, v, d in rows:
        print(f"{k.ljust(w)}  {str(v):<24} {d}".rstrip())
    return 0


def cmd_seek(a: argparse.Namespace) -> int:
    from .goalseek import parse_target, seek
    from .sweep import parse_seeds

    sc, overrides = load(a)
    if overrides:
        sc = sc.with_overrides(overrides)
    check_blocks(sc, a.blocks)
    target = parse_target(a.target)
    try:
        lo, hi = (float(x) for x in a.span.split(":"))
    except ValueError:
        raise ValueError(f"--range expects LO:HI, got {a.span!r}") from None
    seeds = parse_seeds(a.seeds)
    out = claim_out(Path(a.out) if a.out else Path("runs") / f"{a.command}-{sc.name}", a.force, default=not a.out)
    check_chain(a.chain)
    print(f"{a.command} {sc.name}: smallest {a.param} in [{lo:g}, {hi:g}] with {target} "
          f"({len(seeds)} seeds per probe, at most {a.probes} probes)")
    res = seek(a.scenario, sc, a.param, target, lo=lo, hi=hi, seeds=seeds, probes=a.probes, blocks=a.blocks,
               chain=a.chain, out=out, workers=a.workers, cluster=a.cluster, base_overrides=overrides, argv=a.argv)
    if res.answer is None:
        print(f"NOT MET within [{lo:g}, {hi:g}]: at {a.param} = {hi:g} the {target.stat} {target.metric} is "
              f"{res.probes[0].statistic:,.2f}. Report: {out / 'report.md'}")
        return 1
    best = next(p for p in res.probes if p.value == res.answer)
    plo, phi = best.exceed_ci
    bracket = f" (fails at {res.bracket[0]:g})" if res.bracket and res.bracket[0] != res.answer else ""
    print(f"ANSWER: {a.param} = {res.answer:g}{bracket} meets {target} on {best.n} seeds; "
          f"P({target.metric} > {target.value:g}) = {best.exceed}/{best.n}, Wilson 95% CI {plo:.0%}-{phi:.0%}. "
          f"Report: {out / 'report.md'}, plot: {out / 'goalseek.png'}")
    return 0


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
    args.argv = list(sys.argv[1:] if argv is None else argv)
    _install_sigterm()
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "run":
            return cmd_run(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "compare":
            from .compare import main_compare

            return main_compare(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "params":
            return cmd_params(args)
        if args.command in ("goal-seek", "size-fund"):
            return cmd_seek(args)
    except (ScenarioError, AnvilNotFound, ChainUnreachable, ArtifactError, SimulationError, ValueError) as exc:
        print(f"clawback-sim: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("clawback-sim: interrupted", file=sys.stderr)
        return 130
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
