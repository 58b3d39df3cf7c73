"""Dask distributed for sweeps: a local cluster (one process per worker, one thread each) or an
existing scheduler at an address (`dask scheduler` / `dask worker tcp://HOST:8786` elsewhere).

Each task is one run with its own chain; on a revm worker the chain is the worker process's
long-lived one, restored from its deployment snapshot (simulation.devnets).
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator

TASK_RETRIES = 2  # a task that raised (a chain that died, a lost worker) runs up to 2 more times
# A local cluster's bookkeeping costs CPU the runs need on a small machine: no statistical profiler
# sampling every worker's stack 100 times a second, a slower system monitor, and the event loops'
# health check once a second instead of every 20 ms (that alone was ~3 % of a core per process).
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "5s",
                "distributed.admin.tick.interval": "1s"}


@contextlib.contextmanager
def dask_client(workers: int, address: str | None = None) -> Iterator["distributed.Client"]:  # noqa: F821
    """A Client on a fresh LocalCluster of `workers` processes (closed afterwards), or on the
    scheduler at `address` (left running: it is someone else's)."""
    import dask
    from distributed import Client, LocalCluster

    if address:
        client = Client(address, timeout="20s")
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set(LOCAL_CONFIG):  # read by the workers as they start
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, memory_limit=0)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
