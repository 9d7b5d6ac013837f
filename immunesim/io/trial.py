"""Files of ``immunesim trial``: the tables, figures and manifest of a virtual trial (what
each holds is in :mod:`immunesim.cohort.virtual_trial`); the trajectories' chunks are
written as the trial runs, into ``OUTDIR/trajectories/``."""

from __future__ import annotations

import json
import time
from typing import Callable

from ..cohort.virtual_trial import TrialResult, patient_frames, trial
from ..durable import atomic_path, write_csv, write_text_atomic
from ..plot.trial import write_published_figure, write_trial_figures
from . import MANIFEST, begin_outputs, to_json, write_manifest
from .report import write_report


def run_trial(scenario, outdir, *, resume=False, workers=None, scheduler=None, scenario_file=None,
              progress: Callable | None = None, say: Callable[[str], None] | None = None) -> dict:
    """Run ``scenario``'s trial into ``outdir`` (:func:`immunesim.trial`) and write its files;
    returns the manifest (``status`` 3 when some patient was excluded for a failed run)."""
    started = time.perf_counter()
    outdir = begin_outputs(outdir)     # before the first chunk is written
    res = trial(scenario, outdir, resume=resume, workers=workers, scheduler=scheduler,
                progress=progress, say=say)
    summary = res.summary
    outputs = write_trial(res, outdir, summary) + ["report.html"]
    excluded = int((~res.ok).sum())
    manifest = write_manifest(
        outdir, "trial", status=3 if excluded else 0,
        message=(f"{excluded} patient(s) excluded for failed integrations" if excluded
                 else f"{scenario.population.size} patients x {len(scenario.arms)} arms"),
        outputs=outputs, started=started, seed=scenario.seed, scenario=scenario,
        scenario_file=scenario_file, arms=list(scenario.arms), patients=scenario.population.size,
        patients_excluded=excluded, **{f"execution_{k}": v for k, v in res.execution.items()},
        candidates=res.trajectories.attrs["candidates"])
    figures = sorted(p for p in outdir.glob("*.png") if p.name in outputs)
    write_report(outdir, summary, manifest, figures, f"Virtual trial: {scenario.name}")
    # the manifest stays the last file written (its presence says the run finished)
    write_text_atomic(outdir / MANIFEST, json.dumps(manifest, indent=2, default=to_json) + "\n")
    return manifest


def write_trial(res: TrialResult, outdir, summary: dict | None = None) -> list[str]:
    """The trial's tables and figures (not the manifest); returns their names. ``summary``:
    ``res.summary`` when the caller has it already."""
    summary = res.summary if summary is None else summary
    write_csv(outdir / "arms.csv", res.rows)
    write_csv(outdir / "biomarkers.csv", res.biomarker_rows)
    with atomic_path(outdir / "patients.csv") as tmp, open(tmp, "w", newline="") as fh:
        for a, frame in enumerate(patient_frames(res)):
            frame.to_csv(fh, index=False, header=(a == 0), float_format="%.6g")
    outputs = ["arms.csv", "patients.csv", "biomarkers.csv", "trial.json", "trajectories/"]
    if res.search is not None:
        write_csv(outdir / "regimens.csv", res.search["rows"])
        write_csv(outdir / "patient_regimens.csv", res.patient_regimens)
        outputs += ["regimens.csv", "patient_regimens.csv"]
    figures = write_trial_figures(outdir, res.trajectories, res.scenario.trial, res.rows, res.risk,
                                  res.front, res.primary)
    extra = write_published_figure(outdir, summary["published"])
    if extra is not None:
        figures.append(extra)
    write_text_atomic(outdir / "trial.json", json.dumps(summary, indent=2, default=to_json) + "\n")
    return outputs + [p.name for p in figures]
