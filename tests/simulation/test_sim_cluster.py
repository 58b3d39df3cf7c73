"""Sweeps on Dask: a local cluster of two worker processes (started once for this module and
reached through --cluster ADDRESS), error rows after retries, and resume after Ctrl-C. The
default path (no --cluster: a LocalCluster per sweep) runs in test_sim_e2e's sweep test."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from simulation.cli import main
from simulation.jobs import job_dir
from simulation.runner import run_scenario
from simulation.sweep import run_jobs


@pytest.fixture(scope="module")
def scheduler():
    from simulation.cluster import dask_client

    with dask_client(2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        yield client.scheduler.address


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_sweep_on_a_local_cluster_of_two_workers(tmp_path, tiny_toml, tiny, artifacts, capsys, scheduler):
    sc = tmp_path / "tiny.toml"
    sc.write_text(tiny_toml)
    rc = main(["sweep", str(sc), "--seeds", "2", "--set", "agents.stakers.capital=5000,50000", "--cluster", scheduler,
               "--blocks", "8", "--out", str(tmp_path / "sw")])
    assert rc == 0, capsys.readouterr().out
    rows = _rows(tmp_path / "sw" / "sweep.csv")
    assert [(r["agents.stakers.capital"], r["seed"]) for r in rows] == [("5000", "1"), ("5000", "2"),
                                                                        ("50000", "1"), ("50000", "2")]
    assert all(r["error"] == "" and r["violation"] == "" for r in rows)
    # a sweep run (restored from its worker's deployment snapshot) is the run you get on its own
    one = run_scenario(tiny.with_overrides({"agents.stakers.capital": 50000}), scenario_ref="tiny", seed=2, blocks=8,
                       chain="revm", out=tmp_path / "alone", progress=False, plots=False)
    d = job_dir(tmp_path / "sw", {"agents.stakers.capital": 50000}, 2)
    for f in ("metrics.csv", "events.jsonl", "accounts.csv"):
        assert (d / f).read_bytes() == (tmp_path / "alone" / f).read_bytes(), f
    assert float(rows[3]["bankruptcies"]) == one.summary["bankruptcies"]


def test_a_failing_run_is_retried_then_reported_as_a_row(tmp_path, tiny, scheduler):
    jobs = [({}, 1)]
    rows = run_jobs("tiny", tiny, jobs, blocks=3, chain="http://127.0.0.1:9", out=tmp_path, workers=1,
                    cluster=scheduler)
    assert len(rows) == 1 and "ChainUnreachable" in rows[0]["error"] and rows[0]["seed"] == 1
    ledger = json.loads((job_dir(tmp_path, {}, 1) / "row.json").read_text())
    assert ledger["row"]["error"]  # kept, but a failed run is not "done": a rerun tries it again


def test_interrupted_sweep_keeps_finished_runs_and_resumes(tmp_path, tiny_toml, artifacts, scheduler):
    sc = tmp_path / "tiny.toml"
    sc.write_text(tiny_toml)
    out = tmp_path / "sw"
    args = ["sweep", str(sc), "--seeds", "8", "--cluster", scheduler, "--blocks", "12", "--out", str(out)]
    cmd = [sys.executable, "-m", "simulation.cli", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 120
    while not list(out.glob("base/seed*/row.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-500:]
    done = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("base/seed*/row.json")}
    assert 1 <= len(done) < 8, done
    assert not (out / "sweep.csv").exists()
    assert main(args) == 0
    assert [r["seed"] for r in _rows(out / "sweep.csv")] == [str(s) for s in range(1, 9)]
    for name, mtime in done.items():  # finished runs were skipped, not run again
        assert (out / "base" / name / "row.json").stat().st_mtime_ns == mtime
