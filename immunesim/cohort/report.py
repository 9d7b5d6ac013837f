"""``immunesim trial``: run a virtual trial and write its tables, figures and manifest.

Written to ``OUTDIR`` (each file atomically; ``manifest.json`` last):

- ``trajectories/chunk-NNNNN.nc``: the cohort's trajectories, chunk by chunk
  (:func:`immunesim.cohort.open_trajectories` opens them as one dataset);
- ``arms.csv``: one row per arm and endpoint(-week): ``arm, endpoint, week, n, responders,
  rate, ci_low, ci_high`` (Wilson 95 %), then ``diff_vs_control, diff_ci_low, diff_ci_high``
  (paired, Newcombe), ``nnt, nnt_ci``, and with calibration ``calibrated_rate,
  calibrated_ci_low, calibrated_ci_high, n_eff``. Time-to-event endpoints give Kaplan-Meier
  event-free survival at the trial's end as ``rate``;
- ``patients.csv``: one row per patient and arm: covariates, baseline biomarkers, status,
  every outcome, and the calibration weight and selection;
- ``biomarkers.csv``: ROC AUC of each baseline biomarker for response to each treated arm;
- ``trial.json``: the arms table, infection risk per arm, the efficacy-safety Pareto front,
  the calibration fit, the personalised rule; figures ``waterfall.png``, ``bands.png``,
  ``km.png`` (when a flare endpoint is given), ``efficacy_safety.png`` (with a challenge);
- with ``trial.regimen_search``: ``regimens.csv`` (per generated regimen: response rate with
  its interval, mean clearance days, on the cohort front, share of patients whose own front
  holds it, share for whom it is the lowest-risk responding regimen) and
  ``patient_regimens.csv`` (each patient's front and lowest-risk responding regimen).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..durable import write_csv, write_text_atomic
from ..io import MANIFEST, begin_outputs
from . import analysis
from .biomarkers import auc_table, personalised_rule
from .trial import execute


def _responses(ds, trial, ok) -> dict:
    """Primary-endpoint response (last week) per treated arm, valid patients only."""
    ep = next(e for e in trial.endpoints if e.name == trial.primary)
    week = ep.weeks[-1]
    x = analysis.outcome(ds, f"{ep.name}:{week:g}:responder")[:, ok] > 0.5
    if ep.lower_is_better:
        x = ~x
    return {arm: x[a] for a, arm in enumerate(ds["arm"].values) if arm != trial.control}, ep, week


def _markers(ds, trial, ok) -> dict:
    names = list(ds["readout"].values)
    out = {b: ds["baseline"].values[ok, names.index(b)] for b in trial.biomarkers}
    for k in ds.data_vars:
        if str(k).endswith("_alleles"):
            out[str(k)] = ds[k].values[ok]
    return out


def pareto_front(points: dict) -> list[str]:
    """Arms not dominated in (efficacy higher, risk lower)."""
    front = []
    for a, (e, r) in points.items():
        if not any((e2 >= e and r2 <= r) and (e2 > e or r2 < r) for b, (e2, r2) in points.items() if b != a):
            front.append(a)
    return front


def run_trial(scenario, outdir, *, resume=False, workers=None, scheduler=None, scenario_file=None,
              progress: Callable | None = None, say: Callable[[str], None] | None = None) -> dict:
    """Run ``scenario``'s trial into ``outdir``; returns the manifest."""
    from ..scenario.run import _versions

    say = say or (lambda msg: None)
    t_start = time.perf_counter()
    outdir = begin_outputs(outdir)
    trial, pop = scenario.trial, scenario.population
    ds, exec_stats = execute(scenario, outdir, resume=resume, workers=workers, scheduler=scheduler,
                             progress=progress, notice=say)
    say(f"{pop.size} patients from {exec_stats['candidates']} candidates "
        f"(acceptance {100 * exec_stats['acceptance_rate']:.1f} %), {len(scenario.arms)} arms, "
        f"{exec_stats['wall_s']:.1f} s")
    ok = analysis.valid_patients(ds)
    fails = analysis.failures(ds)
    if fails:
        say(f"{len({f['patient'] for f in fails})} patient(s) failed in some arm and are excluded "
            f"from every arm (first: patient {fails[0]['patient']}, {fails[0]['arm']}: {fails[0]['message']})")
    cal = None
    weights = selected = None
    if trial.calibration and not ok.any():
        cal = {"skipped": "no patient completed every arm, so there is nothing to weight"}
        say(f"calibration skipped: {cal['skipped']}")
    elif trial.calibration:
        arms = list(ds["arm"].values)
        F = np.stack([analysis.outcome(ds, f"{c['endpoint']}:{c['week']:g}:responder")[arms.index(c["arm"]), ok] > 0.5
                      for c in trial.calibration], axis=1)
        from .calibrate import calibrate

        fit = calibrate(F, np.array([c["rate"] for c in trial.calibration]), scenario.seed)
        weights = np.zeros(ds.sizes["patient"])
        weights[ok] = fit["weights"]
        cal = {"targets": [{**c, "achieved": float(a), "residual": float(r), "selected_rate": float(s)}
                           for c, a, r, s in zip(trial.calibration, fit["achieved"], fit["residual"],
                                                 fit["selected_rates"])],
               "effective_sample_size": fit["ess"], "n": int(ok.sum()),
               "selected": int(fit["selected"].sum()), "converged": fit["converged"],
               "method": "maximum-entropy weights; selection with probability w/max(w) (Allen 2016)"}
        selected = np.zeros(ds.sizes["patient"], bool)
        selected[ok] = fit["selected"]
        say(f"calibration: effective sample size {fit['ess']:.0f} of {int(ok.sum())}; "
            + "; ".join(f"{t['arm']} {t['endpoint']} wk{t['week']:g} {t['achieved']:.2f} (target {t['rate']:.2f})"
                        for t in cal["targets"]))
    rows = analysis.arm_rows(ds, trial, weights)
    write_csv(outdir / "arms.csv", rows)
    responses, ep, week = _responses(ds, trial, ok)
    markers = _markers(ds, trial, ok)
    bio_rows = [{**r, "endpoint": ep.name, "week": week} for r in auc_table(markers, responses)]
    write_csv(outdir / "biomarkers.csv", bio_rows)
    rule = personalised_rule(markers, responses, scenario.seed)
    if rule:
        say(f"personalised rule: {rule['rule']}: held-out response {rule['test_rate']:.2f} vs "
            f"{rule['best_single_arm']} {rule['best_single_test_rate']:.2f}")
    _write_patients(outdir / "patients.csv", ds, trial, weights, selected)
    risk = analysis.infection_risk(ds, trial)
    front = None
    if risk:
        eff = {r["arm"]: r["rate"] for r in rows if r["endpoint"] == ep.name and r["week"] == week}
        front = pareto_front({a: (eff[a], risk[a]["mean_clearance_days"]) for a in eff})
    search = None
    if trial.regimen_search is not None:
        from .regimens import fronts

        ch = next(e for e in trial.endpoints if e.name == trial.regimen_search.risk)
        search = fronts(ds, trial.regimen_search, ok, 7.0 * (trial.weeks - ch.value))
        write_csv(outdir / "regimens.csv", search["rows"])
        write_csv(outdir / "patient_regimens.csv",
                   [{"patient": p["patient"], "front": "; ".join(p["front"]),
                     "lowest_risk_responding": p["lowest_risk_responding"] or ""} for p in search["per_patient"]])
        best = [r["regimen"] for r in search["rows"] if r["on_cohort_front"]]
        say(f"regimen search: {len(search['rows'])} regimens, cohort Pareto front: {'; '.join(best)}")
    from ..plot.trial import write_trial_figures

    figures = write_trial_figures(outdir, ds, trial, rows, risk, front, (ep, week))
    summary = {"arms": rows, "infection_risk": risk, "pareto_front": front, "calibration": cal,
               "personalised_rule": rule, "failures": fails,
               "regimen_search": None if search is None else {
                   "regimens": search["rows"], "patients_without_responding_regimen": search["no_responding_regimen"]}}
    write_text_atomic(outdir / "trial.json", json.dumps(summary, indent=2, default=_json) + "\n")
    manifest = {
        "scenario": scenario.name, "disease": scenario.disease, "scenario_hash": scenario.hash,
        "scenario_file_sha256": (hashlib.sha256(Path(scenario_file).read_bytes()).hexdigest()
                                 if scenario_file else None),
        "seed": scenario.seed, "arms": list(scenario.arms), "patients": pop.size,
        "patients_excluded": int((~ok).sum()), **{f"execution_{k}": v for k, v in exec_stats.items()},
        "candidates": ds.attrs["candidates"],
        "wall_s": round(time.perf_counter() - t_start, 3),
        "outputs": sorted(["arms.csv", "patients.csv", "biomarkers.csv", "trial.json", "trajectories/",
                           *(["regimens.csv", "patient_regimens.csv"] if search else []),
                           *[p.name for p in figures]]),
        "versions": _versions(),
    }
    write_text_atomic(outdir / MANIFEST, json.dumps(manifest, indent=2, default=_json) + "\n")
    return manifest


def _json(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    return str(o)


def _write_patients(path, ds, trial, weights, selected) -> None:
    """patients.csv, one row per patient and arm, built column-wise and written one arm at a
    time (10^5 patients stay cheap in time and memory)."""
    import pandas as pd

    from ..durable import atomic_path

    arms = list(ds["arm"].values)
    names = list(ds["readout"].values)
    common = {"patient": ds["patient"].values.astype(np.int64)}
    for c in ["body_weight", "age", "female", *[str(v) for v in ds.data_vars if str(v).endswith("_alleles")]]:
        common[c] = ds[c].values
    for b in trial.biomarkers:
        common[f"baseline_{b}"] = ds["baseline"].values[:, names.index(b)]
    if weights is not None:
        common["weight"] = weights
        common["selected"] = selected.astype(int)
    pids = ds["patient"].values
    outcomes = [str(v) for v in ds.data_vars if str(v).startswith("outcome:")]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        for a, arm in enumerate(arms):
            status = np.full(ds.sizes["patient"], "success", dtype=object)
            for f in ds.attrs["failures"]:
                if f["arm"] == arm:
                    status[np.searchsorted(pids, f["patient"])] = f["message"]   # ids increase
            cols = {**common, "arm": arm, "status": status}
            for v in outcomes:
                cols[v[len("outcome:"):].replace(":", "_")] = ds[v].values[a]
            pd.DataFrame(cols).to_csv(fh, index=False, header=(a == 0), float_format="%.6g")
