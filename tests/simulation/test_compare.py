"""`clawback-sim compare` orchestration with an injected job runner that writes fabricated run
folders (the five-account example), and its bad-input errors."""
from __future__ import annotations

import argparse
import csv
import io
import json

import pytest

from simulation import compare as C
from simulation.scenario import load_scenario
from support import fabricated_run as X


class FakeRunner:
    """Stands in for simulation.sweep.run_jobs: records the jobs, writes one run folder per job
    (the example's queue for adl, its pro-rata haircuts otherwise) and returns the rows, reversed
    to check that compare matches them back to their jobs."""

    def __init__(self, fail: tuple[str, int] | None = None):
        self.calls: list[dict] = []
        self.fail = fail

    def __call__(self, scenario_ref, sc, jobs, *, blocks, chain, out, workers, cluster=None, desc=""):
        self.calls.append({"scenario_ref": scenario_ref, "name": sc.name, "jobs": jobs, "blocks": blocks,
                           "chain": chain, "workers": workers, "desc": desc})
        rows = []
        for point, seed in jobs:
            policy = point[C.POLICY_KEY]
            run_dir = out / policy / f"seed{seed}"
            row = {"seed": seed, **point, "out": str(run_dir)}
            if self.fail == (policy, seed):
                row["error"] = "SimulationError: the chain died"
            else:
                X.write_run(run_dir, policy)
            rows.append(row)
        return rows[::-1]


def _args(tmp_path, **kw):
    base = dict(scenario="hyperliquid-2025-10", policies="profit_clawback,adl", seeds=2, workers=1, blocks=60,
                chain="anvil", out=str(tmp_path / "cmp"), sets=None, no_plots=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_compare_two_policies_two_seeds(tmp_path):
    runner = FakeRunner()
    printed = io.StringIO()
    assert C.main_compare(_args(tmp_path), runner=runner, stream=printed) == 0
    # every seed runs the same scenario once per policy, through one call of the job runner
    (call,) = runner.calls
    assert call["jobs"] == [({C.POLICY_KEY: "profit_clawback"}, 1), ({C.POLICY_KEY: "adl"}, 1),
                            ({C.POLICY_KEY: "profit_clawback"}, 2), ({C.POLICY_KEY: "adl"}, 2)]
    assert call["name"] == "hyperliquid-2025-10" and call["blocks"] == 60 and call["chain"] == "anvil"
    out = tmp_path / "cmp"
    rows = list(csv.DictReader(open(out / "compare.csv")))
    assert [(r["policy"], r["seed"]) for r in rows] == [("profit_clawback", "1"), ("adl", "1"),
                                                        ("profit_clawback", "2"), ("adl", "2")]
    adl = rows[1]
    assert float(adl["max_haircut_pct"]) == pytest.approx(100.0)
    assert float(adl["ptsr"]) == pytest.approx(0.3) and float(adl["oi_closed"]) == pytest.approx(3.0)
    assert float(rows[0]["ptsr"]) == pytest.approx(3.2 / 15) and float(rows[0]["accounts_hit"]) == 3
    agg = json.loads((out / "compare.json").read_text())["aggregate"]
    assert agg["adl"]["haircut_gini"]["mean"] == pytest.approx(16 / 45)
    assert agg["profit_clawback"]["pmr"]["p95"] == pytest.approx(3.2 / 12)
    for name in ("compare_metrics.png", "compare_haircuts.png", "compare_lorenz.png", "compare_prices.png"):
        assert (out / name).stat().st_size > 5_000, name
    text = printed.getvalue()
    assert "PTSR" in text and "profit_clawback" in text and "adl" in text
    ptsr_line = next(line for line in text.splitlines() if line.startswith("PTSR"))
    assert "0.213 (0.213 / 0.213)" in ptsr_line and "0.300 (0.300 / 0.300)" in ptsr_line
    assert "2 of 2" in text


def test_a_failed_run_is_a_row_and_exit_3(tmp_path):
    printed = io.StringIO()
    code = C.main_compare(_args(tmp_path, no_plots=True), runner=FakeRunner(fail=("adl", 2)), stream=printed)
    assert code == 3
    rows = list(csv.DictReader(open(tmp_path / "cmp" / "compare.csv")))
    failed = [r for r in rows if r["error"]]
    assert [(r["policy"], r["seed"]) for r in failed] == [("adl", "2")]
    assert failed[0]["ptsr"] == "nan"
    runs = json.loads((tmp_path / "cmp" / "compare.json").read_text())["runs"]
    assert [r["ptsr"] for r in runs if r["error"]] == [None]  # standard JSON: null, not NaN
    assert "1 of 2" in printed.getvalue() and "adl seed 2: SimulationError" in printed.getvalue()
    assert not (tmp_path / "cmp" / "compare_metrics.png").exists()


@pytest.mark.parametrize("policies,message", [
    ("profit_clawback,fifo", "unknown loss policy 'fifo'"),
    ("adl", "at least two loss policies, got 1"),
    ("adl,adl", "listed twice"),
])
def test_bad_policies_are_one_line_errors(tmp_path, capsys, policies, message):
    runner = FakeRunner()
    assert C.main_compare(_args(tmp_path, policies=policies), runner=runner) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert runner.calls == []


def test_other_bad_input(tmp_path, capsys):
    assert C.main_compare(_args(tmp_path, scenario="no-such-scenario"), runner=FakeRunner()) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert C.main_compare(_args(tmp_path, sets=[f"{C.POLICY_KEY}=adl"]), runner=FakeRunner()) == 2
    assert "use --policies" in capsys.readouterr().err


def test_parser_and_runner_contract(tmp_path):
    p = argparse.ArgumentParser()
    C.add_compare_parser(p.add_subparsers(dest="command"))
    a = p.parse_args(["compare", "default", "--seeds", "3", "--policies", "pro_rata_size,adl", "--no-plots"])
    assert (a.command, a.seeds, a.policies, a.no_plots, a.workers) == ("compare", 3, "pro_rata_size,adl", True, 2)
    assert C.parse_policies(p.parse_args(["compare", "default"]).policies) == list(C.KNOWN_POLICIES)
    sc = load_scenario("hyperliquid-2025-10")
    with pytest.raises(C.CompareError, match="returned 1 rows for 4 jobs"):
        C.run_compare("x", sc, ["adl", "pro_rata_size"], [1, 2], blocks=None, chain="anvil", out=tmp_path,
                      workers=1, runner=lambda *a, **k: [{"seed": 1, "out": ""}])


def test_the_hyperliquid_scenario_is_a_fast_16_wave_crash():
    sc = load_scenario("hyperliquid-2025-10")
    crash = sc.prices.crash
    assert (crash.block, crash.duration, crash.size) == (30, 16, -0.20)
    assert crash.block + crash.duration <= 60  # `--blocks 60` sees the whole crash
    true = sc.price_paths().true[0]
    start, end = crash.block - 1, crash.block + crash.duration - 1  # the crash moves blocks 30..45
    waves = true[start + 1: end + 1] / true[start: end]
    assert len(waves) == 16 and (waves < 0.995).all()  # every one of the 16 blocks falls at least 0.5 %
    assert 0.75 < true[end] / true[start] < 0.85
    assert sc.agents.noise_traders.leverage.median < 1.5 < sc.agents.momentum_traders.leverage.median


def test_without_the_sweeps_job_runner_compare_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    from simulation import sweep

    monkeypatch.delattr(sweep, "run_jobs", raising=False)
    assert C.main_compare(_args(tmp_path)) == 2
    assert "no run_jobs job runner" in capsys.readouterr().err


def test_compare_end_to_end_on_revm(tmp_path, artifacts):
    # the real job runner (Dask, one worker), two policies, one seed, through the crash of the
    # Hyperliquid scenario: both runs succeed, bankrupt the same accounts and split the deficit
    # differently (adl closes open interest, pro_rata_size none)
    args = _args(tmp_path, policies="pro_rata_size,adl", seeds=1, blocks=60, chain="revm", no_plots=True,
                 sets=["agents.stakers.panic_prob=0"])
    printed = io.StringIO()
    assert C.main_compare(args, stream=printed) == 0
    rows = {r["policy"]: r for r in csv.DictReader(open(tmp_path / "cmp" / "compare.csv"))}
    assert set(rows) == {"pro_rata_size", "adl"} and not any(r.get("error") for r in rows.values())
    pro, adl = rows["pro_rata_size"], rows["adl"]
    assert float(pro["deficit"]) > 0 and float(pro["deficit"]) == pytest.approx(float(adl["deficit"]), rel=0.05)
    assert float(adl["oi_closed"]) > 0 and float(pro["oi_closed"]) == 0
    assert float(adl["taken_from_winners"]) > 0 and float(pro["taken_from_winners"]) > 0
    assert "adl" in printed.getvalue() and "overshoot" in printed.getvalue()
