"""The efficacy / infection-risk Pareto front of a regimen search (what the search declares is
:mod:`immunesim.scenario.regimen_search`), for the cohort and per patient."""

from __future__ import annotations

import numpy as np

from ..scenario.regimen_search import RegimenSearch
from .analysis import outcome
from .stats import wilson


def pareto_mask(eff: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Points not dominated in (eff higher, risk lower); along the last axis."""
    e1, e2 = eff[..., :, None], eff[..., None, :]
    r1, r2 = risk[..., :, None], risk[..., None, :]
    dominated = ((e2 >= e1) & (r2 <= r1) & ((e2 > e1) | (r2 < r1))).any(axis=-1)
    return ~dominated


def fronts(ds, search: RegimenSearch, ok: np.ndarray, horizon_days: float) -> dict:
    """Cohort rows (one per regimen) and per-patient fronts over the generated regimens."""
    arms = list(ds["arm"].values)
    idx = [arms.index(a) for a in search.arms]
    resp = outcome(ds, f"{search.efficacy}:{search.week:g}:responder")[idx][:, ok] > 0.5
    val = outcome(ds, f"{search.efficacy}:{search.week:g}:value")[idx][:, ok]
    rk = [k for k in ds.data_vars if str(k).startswith(f"outcome:{search.risk}:") and str(k).endswith(":value")][0]
    days = ds[rk].values[idx][:, ok]
    days = np.where(np.isfinite(days), days, horizon_days)
    rate = resp.mean(axis=1)
    mean_days = days.mean(axis=1)
    on_front = pareto_mask(rate, mean_days)
    rows = []
    for j, name in enumerate(search.arms):
        lo, hi = wilson(int(resp[j].sum()), resp.shape[1])
        rows.append({"regimen": name, "n": int(resp.shape[1]), "response_rate": float(rate[j]),
                     "ci_low": lo, "ci_high": hi, "mean_clearance_days": float(mean_days[j]),
                     "on_cohort_front": bool(on_front[j])})
    patient_front = pareto_mask(val.T, days.T)             # patients x regimens
    for j, row in enumerate(rows):
        row["share_of_patient_fronts"] = float(patient_front[:, j].mean())
    # each patient's lowest-risk regimen among those making them a responder
    masked = np.where(resp.T, days.T, np.inf)
    best = np.argmin(masked, axis=1)
    has = np.isfinite(masked.min(axis=1))
    for j, row in enumerate(rows):
        row["lowest_risk_responding_share"] = float(((best == j) & has).mean())
    pids = ds["patient"].values[ok]
    per_patient = [{"patient": int(pids[i]),
                    "front": [search.arms[j] for j in np.flatnonzero(patient_front[i])],
                    "lowest_risk_responding": search.arms[best[i]] if has[i] else None}
                   for i in range(pids.size)]
    return {"rows": rows, "per_patient": per_patient, "no_responding_regimen": int((~has).sum())}
