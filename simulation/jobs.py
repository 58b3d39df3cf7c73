"""Run many (grid point, seed) jobs on Dask, streaming results into a resumable ledger.

Each job is one Dask task: one run with its own chain in a worker process. The worker runs it in
a scratch folder and ships the row and the run's files back; the client writes them into
`out/<point>/seed<N>/` and then `row.json` last, so a job is done once its `row.json` exists. A
rerun of the same command finds those and skips them (a row.json written for a different
scenario, point, seed or block count, or for a run that failed, does not count). Ctrl-C loses
only the runs in flight.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .scenario import Scenario

RUN_FILES = ("metrics.csv", "events.jsonl", "accounts.csv", "summary.json", "violation.json")
LEDGER = "row.json"


def job_dir(out: Path, point: dict[str, Any], seed: int) -> Path:
    slug = "_".join(f"{k.split('.')[-1]}={v}" for k, v in point.items()) or "base"
    return out / slug / f"seed{seed}"


def job_id(sc_json: str, point: dict[str, Any], seed: int, blocks: int | None) -> str:
    """What a finished run depends on (not the chain: revm and anvil write the same outputs)."""
    blob = json.dumps([json.loads(sc_json), point, seed, blocks], sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_one(scenario_ref: str, sc_json: str, point: dict[str, Any], seed: int, blocks: int | None,
            chain: str) -> dict[str, Any]:
    """One run (in a worker): {"row": the outcome row, "files": {name: bytes}}. Raises on failure
    so Dask can retry it."""
    from .runner import run_scenario
    from .sweep import OUTCOME_KEYS

    sc = Scenario.model_validate_json(sc_json).with_overrides(point)
    with tempfile.TemporaryDirectory(prefix="clawback-run-") as tmp:
        res = run_scenario(sc, scenario_ref=scenario_ref, seed=seed, blocks=blocks, chain=chain, out=Path(tmp),
                           progress=False, plots=False, overrides=point, reuse_chain=True)
        files = {f: (Path(tmp) / f).read_bytes() for f in RUN_FILES if (Path(tmp) / f).is_file()}
    s = res.summary
    row: dict[str, Any] = {"seed": seed, **point, **{k: s.get(k) for k in OUTCOME_KEYS}}
    row["solvent"] = s["solvent"]
    row["violation"] = s["violation"]["check"] if s["violation"] else ""
    row["error"] = ""
    return {"row": row, "files": files}


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def record(d: Path, ident: str, row: dict[str, Any], files: dict[str, bytes]) -> None:
    """Write a finished run's files, then its ledger entry (last: it marks the job done)."""
    d.mkdir(parents=True, exist_ok=True)
    for f in RUN_FILES:
        if f not in files:
            (d / f).unlink(missing_ok=True)
    for name, data in files.items():
        _write_atomic(d / name, data)
    _write_atomic(d / LEDGER, json.dumps({"id": ident, "row": row}, default=str).encode())


def done_row(d: Path, ident: str) -> dict[str, Any] | None:
    """The row of a job already finished without error under the same id, else None."""
    try:
        entry = json.loads((d / LEDGER).read_text())
    except (OSError, ValueError):
        return None
    row = entry.get("row") or {}
    if entry.get("id") != ident or row.get("error"):
        return None
    return row


def run_jobs(scenario_ref: str, sc: Scenario, jobs: list[tuple[dict, int]], *, blocks: int | None, chain: str,
             out: Path, workers: int, cluster: str | None = None, desc: str = "") -> list[dict]:
    """One row per (point, seed) job, in job order; see the module docstring."""
    from distributed import as_completed
    from tqdm import tqdm

    from .cluster import TASK_RETRIES, dask_client

    out.mkdir(parents=True, exist_ok=True)
    sc_json = sc.model_dump_json()
    rows: list[dict | None] = [None] * len(jobs)
    todo = []
    for i, (point, seed) in enumerate(jobs):
        d = job_dir(out, point, seed)
        ident = job_id(sc_json, point, seed, blocks)
        row = done_row(d, ident)
        if row is not None:
            rows[i] = {**row, "out": str(d)}
        else:
            todo.append((i, point, seed, d, ident))
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=desc or f"sweep {sc.name}", unit="run",
               dynamic_ncols=True)
    try:
        if todo:
            with dask_client(max(1, min(workers, len(todo))), cluster) as client:
                futs = {}
                for i, point, seed, d, ident in todo:  # point-major: a worker keeps its deployment snapshot
                    f = client.submit(run_one, scenario_ref, sc_json, point, seed, blocks, chain, pure=False,
                                      retries=TASK_RETRIES, key=f"run-{ident}-{i}")
                    futs[f] = (i, point, seed, d, ident)
                for f in as_completed(futs):
                    i, point, seed, d, ident = futs.pop(f)
                    try:
                        res = f.result()
                        row, files = res["row"], res["files"]
                    except Exception as exc:  # noqa: BLE001 - retries exhausted: a row, not a crash
                        row = {"seed": seed, **point, "solvent": None, "violation": "",
                               "error": f"{type(exc).__name__}: {exc}"}
                        files = {}
                    record(d, ident, row, files)
                    rows[i] = {**row, "out": str(d)}
                    bar.update(1)
    finally:
        bar.close()
    return [r for r in rows if r is not None]
