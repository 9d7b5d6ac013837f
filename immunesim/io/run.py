"""Files of ``immunesim run`` and ``immunesim simulate``.

``run`` writes to ``outdir``: ``results.nc`` (the trajectories of ``outputs.variables`` and
the readouts, or every variable; the parameters used, status and provenance in attrs),
``summary.csv`` (the readouts at the summary times), one PNG per figure,
``trajectories.csv`` when the ``csv`` format is requested, ``decisions.csv`` for a
treat-to-target run, the tissue figures, pictures and animation for ``model: abm`` and
``hybrid``, and ``manifest.json`` last. Each file is written to a temporary name and renamed,
so a failed or interrupted run never leaves a truncated file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..diseases.build import preset
from ..durable import write_text_atomic
from ..plot.scenario import write_figures, write_trajectories
from ..plot.tissue import write_pictures, write_tissue_series
from ..scenario.run import run
from ..scenario.scenario_result import ScenarioResult
from ..scenario.schema import Scenario
from ..scenario.tissue import ABM_READOUTS
from . import begin_outputs, write_manifest


def summary_table(result, readouts, summary_times, counts: dict, time_column: str = "time_day") -> str:
    """CSV text: one row per summary time (each is also an output time of the run, so the
    values are the solver's, not interpolated), columns ``time_column`` (``time_day``; an SBML
    model's: ``time``, in its time unit) and each readout."""
    t = result.time
    rows = [f"{time_column}," + ",".join(readouts)]
    for ts in summary_times:
        k = int(np.argmin(np.abs(t - ts)))
        vals = [f"{int(counts[r][k])}" if r in counts else f"{float(result.array(r)[k]):.6g}"
                for r in readouts]
        rows.append(f"{ts:g}," + ",".join(vals))
    return "\n".join(rows) + "\n"


def run_scenario(scenario: Scenario, outdir, *, seed: int | None = None,
                 scenario_file: Path | None = None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Run ``scenario`` (:func:`immunesim.run`) and write its outputs to ``outdir``; returns
    the manifest."""
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    begin_outputs(outdir)      # before simulating: a killed run leaves no manifest at all
    res = run(scenario, seed=seed, progress=say)
    written = write_run(res, outdir, say)
    manifest = _manifest(res, outdir, written, started, scenario_file)
    say(f"done in {manifest['wall_s']:.2f} s")
    return manifest


def write_run(res: ScenarioResult, outdir, say=lambda m: None) -> list[Path]:
    """Every output file of a scenario's run but the manifest; returns the paths written."""
    sc = res.scenario
    outdir = begin_outputs(outdir)   # a killed run must not leave the old manifest behind
    say(f"writing outputs to {outdir}/")
    if sc.sbml is None:
        pr = preset(sc.disease)
        title = f"{sc.name} ({pr['title']})"
        figure_readouts = [r["name"] for r in pr.get("readouts") or []]
    else:                               # an SBML model: its trajectories figure
        title, figure_readouts = sc.title, []
    saved = res
    if sc.model_kind == "ode" and sc.variables:
        keep = list(dict.fromkeys([*sc.variables, *[r for r in sc.readouts if r not in res.counts]]))
        saved = res.select(keep)
    written = [saved.save(outdir / "results.nc")]   # always: the run's record
    summary = summary_table(res, res.readouts, sc.summary_times, res.counts,
                            "time_day" if sc.sbml is None else "time")
    if sc.model_kind == "ode":
        if "csv" in sc.formats:
            write_text_atomic(outdir / "trajectories.csv", saved.to_csv())
            written.append(outdir / "trajectories.csv")
        write_text_atomic(outdir / "summary.csv", summary)
        written.append(outdir / "summary.csv")
        if sc.figures and sc.sbml is not None:
            written.append(write_trajectories(res, sc.variables or sc.readouts, outdir, title,
                                              sc.time_unit))
        elif sc.figures:
            written += write_figures(res, sc.figures, outdir, readouts=figure_readouts, title=title)
        if sc.treat_to_target:
            rows = ["time_day,rule,action,readout,value"] + [
                f"{d['time_day']:g},{d['rule']},\"{d['action']}\",{d['readout']},"
                + ("" if d["value"] is None else f"{d['value']:.6g}") for d in res.decisions]
            write_text_atomic(outdir / "decisions.csv", "\n".join(rows) + "\n")
            written.append(outdir / "decisions.csv")
        return written
    write_text_atomic(outdir / "summary.csv", summary)
    written.append(outdir / "summary.csv")
    if "csv" in sc.formats:
        write_text_atomic(outdir / "trajectories.csv", res.to_csv())
        written.append(outdir / "trajectories.csv")
    kinds = res.dataset["kind"].values
    tissue_vars = [v for i, v in enumerate(res.variables)
                   if v in ABM_READOUTS or v.startswith("tissue_") or kinds[i] == "tissue"]
    written.append(write_tissue_series(res, tissue_vars, outdir, title))
    if sc.model_kind == "hybrid" and sc.figures:
        written += write_figures(res, sc.figures, outdir, readouts=figure_readouts, title=title)
    written += write_pictures(res.dataset, outdir, title=title, animation=sc.tissue["animation"])
    return written


def _manifest(res: ScenarioResult, outdir, written, started, scenario_file) -> dict:
    sc = res.scenario
    common = dict(status=int(res.status), message=str(res.message),
                  outputs=[p.name for p in written], started=started, seed=res.seed,
                  scenario=sc, scenario_file=scenario_file, model_kind=sc.model_kind,
                  n_steps=int(res.n_steps),
                  simulation_wall_s=round(res.simulation_wall_s, 4))
    if sc.model_kind == "ode":
        if sc.sbml is not None:
            common.update(model_file=sc.sbml.path, time_unit=sc.time_unit)
        return write_manifest(outdir, "run", model=res.model,
                              solver={**sc.solver, "pk_atol": sc.pk_atol},
                              preset_chronic_state=res.chronic_state, decisions=res.decisions,
                              time_to_flare_days=res.time_to_flare_days, **common)
    # tissue runs record the model kind as `model` (as they always have)
    return write_manifest(outdir, "run", model=sc.model_kind, tissue=res.tissue, **common,
                          **({"model_hash": res.model.hash} if res.model is not None else {}))


def write_simulation(result, model, outdir, *, model_file, started, solver: dict) -> dict:
    """``immunesim simulate``'s files: ``results.nc``, ``trajectories.csv``, ``manifest.json``."""
    outdir = begin_outputs(outdir)
    result.save(outdir / "results.nc")
    write_text_atomic(outdir / "trajectories.csv", result.to_csv())
    return write_manifest(outdir, "simulate", status=result.status, message=result.message,
                          outputs=["results.nc", "trajectories.csv"], started=started,
                          model=model, model_file=model_file,
                          n_steps=result.n_steps, **solver)
