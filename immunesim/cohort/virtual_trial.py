"""Run a virtual trial and analyse it, in memory: ``immunesim.trial(scenario)``.

The cohort's trajectories stream to chunk files as they are computed (so a killed run
resumes); the tables come back as pandas objects. ``immunesim trial SCENARIO -o OUTDIR``
writes them (:mod:`immunesim.io.trial`; each file atomically, ``manifest.json`` last):

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

import dataclasses
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..result import import_xarray
from . import analysis
from .biomarkers import auc_table, personalised_rule
from .calibrate import calibrate
from .regimens import fronts
from .stats import wilson
from .trial import execute

xr = import_xarray()


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """A virtual trial, analysed: what ``immunesim trial`` writes, in memory.

    ``trajectories`` (xarray, ``arm x patient x ...``: outcomes, baselines, covariates),
    ``arms`` / ``biomarkers`` / ``regimens`` / ``patients`` (pandas tables, as the CSV files),
    ``summary`` (the ``trial.json`` mapping), ``execution`` (candidates, acceptance, chunks,
    wall time), ``ok`` (patients that completed every arm), ``failures``, ``calibration``
    with its ``weights`` and ``selected`` patients, ``rule`` (the personalised rule),
    ``risk`` (infection risk per arm), ``front`` (efficacy-safety Pareto front), ``search``
    (regimen search), ``primary`` (the primary endpoint and its last week) and ``outdir``
    (where the chunks are; None when they were temporary).
    """

    scenario: object
    outdir: Path | None
    trajectories: xr.Dataset
    execution: dict
    ok: np.ndarray
    failures: list
    calibration: dict | None
    weights: np.ndarray | None
    selected: np.ndarray | None
    rows: list
    biomarker_rows: list
    rule: dict | None
    risk: dict | None
    front: list | None
    search: dict | None
    primary: tuple

    @property
    def arms(self) -> pd.DataFrame:
        """``arms.csv``: one row per arm and endpoint(-week)."""
        return pd.DataFrame(self.rows)

    @property
    def biomarkers(self) -> pd.DataFrame:
        """``biomarkers.csv``: ROC AUC of each baseline biomarker for response to each arm."""
        return pd.DataFrame(self.biomarker_rows)

    @property
    def regimens(self) -> pd.DataFrame | None:
        """``regimens.csv`` of a regimen search (None without one)."""
        return None if self.search is None else pd.DataFrame(self.search["rows"])

    @property
    def patient_regimens(self) -> list[dict] | None:
        """``patient_regimens.csv`` rows of a regimen search (None without one)."""
        if self.search is None:
            return None
        return [{"patient": p["patient"], "front": "; ".join(p["front"]),
                 "lowest_risk_responding": p["lowest_risk_responding"] or ""}
                for p in self.search["per_patient"]]

    @property
    def patients(self) -> pd.DataFrame:
        """``patients.csv``: one row per patient and arm."""
        return pd.concat(list(patient_frames(self)), ignore_index=True)

    @property
    def summary(self) -> dict:
        """``trial.json``: the arms table, infection risk, Pareto front, calibration, the
        personalised rule, failures and the regimen search."""
        search = self.search
        return {"arms": self.rows, "baseline": baseline_table(self),
                "published": published_rows(self),
                "infection_risk": self.risk, "pareto_front": self.front,
                "calibration": self.calibration, "personalised_rule": self.rule,
                "failures": self.failures,
                "regimen_search": None if search is None else {
                    "regimens": search["rows"],
                    "patients_without_responding_regimen": search["no_responding_regimen"]}}


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


def trial(scenario, outdir=None, *, resume=False, workers=None, scheduler=None,
          progress: Callable | None = None, say: Callable[[str], None] | None = None) -> TrialResult:
    """Run ``scenario``'s virtual trial and analyse it; returns the tables in memory.

    The trajectories stream, chunk by chunk, to ``outdir/trajectories/`` (``resume=True``
    continues a killed run there). Without ``outdir`` they go to a temporary folder and are
    loaded into memory before it is removed. ``workers``/``scheduler`` choose a Dask
    backend; ``progress(done, total, candidates)`` is called as chunks finish; ``say`` gets
    one line per stage.
    """
    if outdir is None:
        with tempfile.TemporaryDirectory(prefix="immunesim-trial-") as tmp:
            res = trial(scenario, tmp, resume=False, workers=workers, scheduler=scheduler,
                        progress=progress, say=say)
            return dataclasses.replace(res, trajectories=res.trajectories.load(), outdir=None)
    say = say or (lambda msg: None)
    spec, pop = scenario.trial, scenario.population
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
    if spec.calibration and not ok.any():
        cal = {"skipped": "no patient completed every arm, so there is nothing to weight"}
        say(f"calibration skipped: {cal['skipped']}")
    elif spec.calibration:
        arms = list(ds["arm"].values)
        F = np.stack([analysis.outcome(ds, f"{c['endpoint']}:{c['week']:g}:responder")[arms.index(c["arm"]), ok] > 0.5
                      for c in spec.calibration], axis=1)
        fit = calibrate(F, np.array([c["rate"] for c in spec.calibration]), scenario.seed)
        weights = np.zeros(ds.sizes["patient"])
        weights[ok] = fit["weights"]
        cal = {"targets": [{**c, "achieved": float(a), "residual": float(r), "selected_rate": float(s)}
                           for c, a, r, s in zip(spec.calibration, fit["achieved"], fit["residual"],
                                                 fit["selected_rates"])],
               "effective_sample_size": fit["ess"], "n": int(ok.sum()),
               "selected": int(fit["selected"].sum()), "converged": fit["converged"],
               "method": "maximum-entropy weights; selection with probability w/max(w) (Allen 2016)"}
        selected = np.zeros(ds.sizes["patient"], bool)
        selected[ok] = fit["selected"]
        say(f"calibration: effective sample size {fit['ess']:.0f} of {int(ok.sum())}; "
            + "; ".join(f"{t['arm']} {t['endpoint']} wk{t['week']:g} {t['achieved']:.2f} (target {t['rate']:.2f})"
                        for t in cal["targets"]))
    rows = analysis.arm_rows(ds, spec, weights)
    responses, ep, week = _responses(ds, spec, ok)
    markers = _markers(ds, spec, ok)
    bio_rows = [{**r, "endpoint": ep.name, "week": week} for r in auc_table(markers, responses)]
    rule = personalised_rule(markers, responses, scenario.seed)
    if rule:
        say(f"personalised rule: {rule['rule']}: held-out response {rule['test_rate']:.2f} vs "
            f"{rule['best_single_arm']} {rule['best_single_test_rate']:.2f}")
    risk = analysis.infection_risk(ds, spec)
    front = None
    if risk:
        eff = {r["arm"]: r["rate"] for r in rows if r["endpoint"] == ep.name and r["week"] == week}
        front = pareto_front({a: (eff[a], risk[a]["mean_clearance_days"]) for a in eff})
    search = None
    if spec.regimen_search is not None:
        ch = next(e for e in spec.endpoints if e.name == spec.regimen_search.risk)
        search = fronts(ds, spec.regimen_search, ok, spec.week * (spec.weeks - ch.value))
        best = [r["regimen"] for r in search["rows"] if r["on_cohort_front"]]
        say(f"regimen search: {len(search['rows'])} regimens, cohort Pareto front: {'; '.join(best)}")
    return TrialResult(scenario=scenario, outdir=Path(outdir), trajectories=ds, execution=exec_stats,
                       ok=ok, failures=fails, calibration=cal, weights=weights, selected=selected,
                       rows=rows, biomarker_rows=bio_rows, rule=rule, risk=risk, front=front,
                       search=search, primary=(ep, week))


def published_rows(res: TrialResult) -> list[dict]:
    """Each published rate of ``trial.published`` beside the simulated one: the published
    rate with its Wilson 95 % interval (from the trial's arm size), the simulated rate with
    its interval, ``inside``: the published rate lies inside the simulated 95 % interval, and
    ``within_published_ci``: the simulated rate lies inside the published one (a trial arm of
    60 patients has a wide interval)."""
    sim = {(r["arm"], r["endpoint"], float(r["week"])): r for r in res.rows}
    out = []
    for p in res.scenario.trial.published:
        r = sim.get((p["arm"], p["endpoint"], float(p["week"])))
        if r is None:
            continue
        lo, hi = wilson(round(p["rate"] * p["n"]), p["n"])
        out.append({"trial": p["trial"], "arm": p["arm"], "endpoint": p["endpoint"], "week": p["week"],
                    "published": p["rate"], "published_ci_low": lo, "published_ci_high": hi,
                    "n_published": p["n"], "simulated": r["rate"], "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"], "n": r["n"],
                    "inside": bool(r["ci_low"] <= p["rate"] <= r["ci_high"]),
                    "within_published_ci": bool(lo <= r["rate"] <= hi), "source": p["source"]})
    return out


def baseline_table(res: TrialResult) -> dict:
    """Mean, SD and quartiles of each measured baseline instrument over the trial's patients
    (those that completed every arm): to set beside a trial's published baseline table."""
    ds = res.trajectories
    if "clinical_baseline" not in ds:
        return {}
    out = {}
    for j, ins in enumerate(ds["instrument"].values):
        x = ds["clinical_baseline"].values[res.ok, j]
        if x.size:
            q = np.percentile(x, [25, 50, 75])
            out[str(ins)] = {"mean": float(x.mean()), "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
                             "q25": float(q[0]), "median": float(q[1]), "q75": float(q[2])}
    return out


def patient_frames(res: TrialResult):
    """The patients table, one DataFrame per arm (one row per patient): covariates, baseline
    biomarkers, status, every outcome, and the calibration weight and selection. Built
    column-wise, one arm at a time (10^5 patients stay cheap in time and memory)."""
    ds, spec, weights, selected = res.trajectories, res.scenario.trial, res.weights, res.selected
    arms = list(ds["arm"].values)
    names = list(ds["readout"].values)
    common = {"patient": ds["patient"].values.astype(np.int64)}
    for c in ["body_weight", "age", "female", *[str(v) for v in ds.data_vars if str(v).endswith("_alleles")]]:
        common[c] = ds[c].values
    for b in spec.biomarkers:
        common[f"baseline_{b}"] = ds["baseline"].values[:, names.index(b)]
    if "clinical_baseline" in ds:            # the measured baseline visit
        for j, ins in enumerate(ds["instrument"].values):
            common[f"baseline_{ins}"] = ds["clinical_baseline"].values[:, j]
    if weights is not None:
        common["weight"] = weights
        common["selected"] = selected.astype(int)
    pids = ds["patient"].values
    outcomes = [str(v) for v in ds.data_vars if str(v).startswith("outcome:")]
    for a, arm in enumerate(arms):
        status = np.full(ds.sizes["patient"], "success", dtype=object)
        for f in ds.attrs["failures"]:
            if f["arm"] == arm:
                status[np.searchsorted(pids, f["patient"])] = f["message"]   # ids increase
        cols = {**common, "arm": arm, "status": status}
        for v in outcomes:
            cols[v[len("outcome:"):].replace(":", "_")] = ds[v].values[a]
        yield pd.DataFrame(cols)
