"""Run one scenario end to end: chain, engine loop with progress bar, invariants, output files."""
from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .engine import Engine, open_chain
from .metrics import MetricsRecorder
from .report import build_summary
from .scenario import Scenario

EXIT_OK = 0
EXIT_VIOLATION = 3


@dataclass
class RunResult:
    summary: dict[str, Any]
    out: Path
    violation: dict[str, Any] | None = None
    plots: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATION if self.violation else EXIT_OK


def replay_command(scenario_ref: str, seed: int, blocks: int, chain: str, overrides: dict[str, Any] | None = None) -> str:
    """The exact command that replays a run."""
    cmd = ["clawback-sim", "run", scenario_ref, "--seed", str(seed), "--blocks", str(blocks), "--chain", chain]
    for k, v in (overrides or {}).items():
        cmd += ["--set", f"{k}={v}"]
    return shlex.join(cmd)


def account_table(engine: Engine) -> list[dict[str, Any]]:
    """Per account: kind, deposited, withdrawn, final equity, profit, haircut (token units): what
    the loss policy took (Settled.haircut; for adl also the winners' fill concession
    |size| x |oracle - fill price|, which haircut_adl repeats on its own)."""
    d = 10**engine.decimals
    r = engine.readings
    kinds = {a.address: a.kind for a in engine.agents}
    for a in engine.agents:
        for k in a.extra_keys():
            kinds[k.address] = a.kind
    rows = []
    for addr in engine.accounts:
        acc = r.accounts.get(addr)
        if acc is None:
            continue
        dep = engine.deposits.get(addr, 0)
        wd = engine.withdrawals.get(addr, 0)
        rows.append({"account": addr, "kind": kinds.get(addr, "unknown"), "deposited": dep / d,
                     "withdrawn": wd / d, "equity": acc.equity / d, "profit": (acc.equity + wd - dep) / d,
                     "haircut": engine.haircuts.get(addr, 0) / d,
                     "haircut_adl": engine.adl_haircuts.get(addr, 0) / d})
    return rows


def run_fairness(out: Path, policy: str, seed: int, decimals: int) -> dict[str, float] | None:
    """simulation.fairness's metrics of the run just written to `out` (who paid how much relative
    to what they had); None if the folder cannot be read as an outcome."""
    from .fairness import OutcomeError, load_outcome, metrics

    try:
        return metrics(load_outcome(out, policy=policy, seed=seed, decimals=decimals))
    except OutcomeError:
        return None


def run_scenario(sc: Scenario, *, scenario_ref: str, seed: int | None = None, blocks: int | None = None,
                 chain: str = "anvil", out: Path | str = "runs/default", progress: bool = True,
                 plots: bool = True, overrides: dict[str, Any] | None = None, report: bool = False,
                 argv: list[str] | None = None, reuse_chain: bool = False) -> RunResult:
    """Run `sc` and write metrics.csv, events.jsonl, summary.json, plots (and violation.json).
    `reuse_chain`: run on this process's long-lived chain, restored from its deployment snapshot
    (sweep workers; see simulation.devnets)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "violation.json").unlink(missing_ok=True)
    seed = sc.seed if seed is None else seed
    t_start = time.perf_counter()
    with open_chain(chain, reuse=reuse_chain) as ch:
        eng = Engine(sc, ch, seed=seed, blocks=blocks)
        eng.setup()
        t_setup = time.perf_counter() - t_start
        rec = MetricsRecorder([m.name for m in sc.markets], eng.decimals)
        rec.record(0, eng.readings, eng.true[:, 0], [], 0, 0, eng.t0)
        violation = None
        bar = tqdm(total=eng.blocks, desc=f"{sc.name} seed {seed}", unit="block", disable=None if progress else True,
                   dynamic_ncols=True, leave=False)
        t_loop = time.perf_counter()
        try:
            while eng.block < eng.blocks:
                o = eng.step()
                rec.record(o.block, o.readings, eng.true[:, o.block], o.events, o.sent, o.reverted, eng.t0)
                bar.update(1)
                if o.block % 10 == 0:
                    bar.set_postfix(liq=rec.cum_liquidations, bk=rec.cum_bankruptcies, tx=eng.sent, refresh=False)
                if o.violations:
                    v = o.violations[0]
                    violation = {"scenario": sc.name, "seed": seed, "block": o.block, "check": v.check,
                                 "expected": v.expected, "actual": v.actual, "detail": v.detail,
                                 "all": [x.to_dict() for x in o.violations],
                                 "replay": replay_command(scenario_ref, seed, eng.blocks, chain, overrides)}
                    if sc.invariants.stop_on_violation:
                        break
        finally:
            bar.close()
        loop_s = time.perf_counter() - t_loop
        if violation is None:
            settled = eng.settle_all()
            for e in settled:
                if e.name == "Settled" and e.args.get("haircut"):
                    rec.note(eng.block, "Settled", account=e.args["account"], market=e.args["market"],
                             haircut=e.args["haircut"], funding=e.args["funding"])
            final = eng.checker.final(settled)  # the loss policy's whole-run bounds
            if final:
                v = final[0]
                violation = {"scenario": sc.name, "seed": seed, "block": eng.block, "check": v.check,
                             "expected": v.expected, "actual": v.actual, "detail": v.detail,
                             "all": [x.to_dict() for x in final],
                             "replay": replay_command(scenario_ref, seed, eng.blocks, chain, overrides)}
        accounts = account_table(eng)
        for n in eng.agent_reports():
            rec.note(n["block"], n.get("event", "AgentReport"), **{k: v for k, v in n.items() if k not in ("block", "event")})
        wall = time.perf_counter() - t_start
        summary = build_summary(sc, eng, rec, accounts, chain=chain, seed=seed, wall_s=wall, setup_s=t_setup,
                                loop_s=loop_s, violation=violation)
    rec.write(out)
    with open(out / "accounts.csv", "w") as fh:
        if accounts:
            keys = list(accounts[0])
            fh.write(",".join(keys) + "\n")
            for a in accounts:
                fh.write(",".join(str(a[k]) for k in keys) + "\n")
    summary["overrides"] = dict(overrides or {})
    summary["loss_policy"] = sc.protocol.loss_policy
    summary["fairness"] = run_fairness(out, sc.protocol.loss_policy, seed, sc.protocol.collateral_decimals)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if violation:
        (out / "violation.json").write_text(json.dumps(violation, indent=2, default=str) + "\n")
    paths = []
    if plots:
        from .plots import plot_run

        paths = plot_run(out, rec.rows, rec.events, [m.name for m in sc.markets], accounts, sc.name)
    if report:
        from .markdown import run_report

        paths.append(run_report(out, summary, sc, dict(overrides or {}), argv))
    return RunResult(summary, out, violation, paths)
