"""``immunesim sensitivity SCENARIO -o OUTDIR``: the sensitivity analysis of a scenario's
``sensitivity:`` block (:mod:`immunesim.analysis.global_sensitivity`) and its files.

OUTDIR gets ``indices.csv`` (output, parameter, the method's indices with their 95 %
confidence intervals, a note where indices could not be computed), ``samples.csv`` (every run:
its parameter values and outputs; not for ``local``), ``sensitivity_<output>.png`` (a bar chart
per output) and ``manifest.json`` last.
"""

from __future__ import annotations

import time

from ..analysis.global_sensitivity import run_sensitivity
from ..durable import write_csv
from ..plot.sensitivity import write_sensitivity_figures
from . import begin_outputs, write_manifest


def run_sensitivity_files(scenario, outdir, *, scenario_file=None, progress=None, say=None,
                          threads=None) -> dict:
    started = time.perf_counter()
    outdir = begin_outputs(outdir)
    res = run_sensitivity(scenario, progress=progress, say=say,
                          threads=threads or scenario.sensitivity.get("threads"))
    write_csv(outdir / "indices.csv", [{k: (repr(v) if isinstance(v, float) else v)
                                        for k, v in r.items()} for r in res.rows])
    outputs = ["indices.csv"]
    if res.method != "local":
        rows = []
        for i in range(res.X.shape[0]):
            row = {"run": i, **{n: repr(float(res.X[i, k])) for k, n in enumerate(res.names)},
                   **{o: repr(float(res.Y[i, j])) for j, o in enumerate(res.outputs)}}
            if i in res.failed:
                row["failed"] = res.failed[i]
            rows.append(row)
        write_csv(outdir / "samples.csv", rows)
        outputs.append("samples.csv")
    outputs += [p.name for p in write_sensitivity_figures(res.method, res.rows, res.outputs,
                                                          outdir)]
    n_runs = int(res.X.shape[0]) if res.method != "local" else 1
    return write_manifest(outdir, "sensitivity", status=0 if not res.failed else 3,
                          message="ok" if not res.failed else
                          f"{len(res.failed)} runs failed; their outputs have no indices",
                          outputs=outputs, started=started, seed=res.seed, scenario=scenario,
                          scenario_file=scenario_file, method=res.method,
                          parameters={n: list(b) for n, b in zip(res.names, res.bounds)},
                          n_runs=n_runs, samples=res.samples, runs_failed=len(res.failed),
                          analysis_wall_s=res.wall_s)


__all__ = ["run_sensitivity_files"]
