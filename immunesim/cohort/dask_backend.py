"""Dask distributed backend: chunks of patients sent to worker processes.

``--workers N`` starts a ``LocalCluster`` of N single-threaded worker processes on this
machine (each chunk then runs its batched kernel with one thread, and N chunks run at once);
``--scheduler ADDRESS`` connects to a running scheduler (workers on other machines need
immunesim installed and, to skip compilation, ``IMMUNESIM_CACHE_DIR`` on a shared disk or a
warm cache). A chunk is a pure function of (scenario, chunk index), so any worker computes
the same arrays as the local backend; the results come back to this process, which writes
them (one writer: no shared-filesystem assumptions).
"""

from __future__ import annotations

import logging
import os
import re

from ..validation import clip
from ..errors import TrialError
from .chunk import run_chunk


def _run_chunk_single_threaded(scenario, index):
    import numba

    numba.set_num_threads(1)     # one chunk per worker process at a time; the cluster parallelises
    return run_chunk(scenario, index)


def dask_client(workers: int | None = None, scheduler: str | None = None):
    """``(client, cluster or None)``: a client of the running scheduler at ``scheduler``, or of
    a new local cluster of ``workers`` single-threaded worker processes (the environment's
    ``IMMUNESIM_*`` and ``NUMBA_*`` settings passed on). Raises TrialError naming the option
    where Dask distributed is missing, the address is malformed or cannot be reached."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise TrialError("--workers/--scheduler need Dask distributed: "
                         "pip install 'immunesim[dask]'") from None
    if scheduler:
        if not re.match(r"^(tcp|tls|ws|wss|ucx|inproc)://[^\s/]+:\d{1,5}$", scheduler or ""):
            raise TrialError(f"--scheduler {clip(scheduler)}: expected an address like "
                             "tcp://host:8786")
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, ValueError, TypeError) as exc:   # TimeoutError is an OSError
            raise TrialError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    env = {k: v for k, v in os.environ.items() if k.startswith(("IMMUNESIM_", "NUMBA_"))}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1", env=env or None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


class DaskBackend:
    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        self.client, self._cluster = dask_client(workers, scheduler)
        n = len(self.client.scheduler_info()["workers"])
        self.width = max(2 * n, 2)      # chunks in flight: keep every worker busy

    def submit(self, scenario, index):
        return self.client.submit(_run_chunk_single_threaded, scenario, index, pure=False,
                                  key=f"immunesim-chunk-{scenario.hash[:12]}-{index}")

    def result(self, future):
        return future.result()

    def cancel(self, future):
        future.cancel()

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
