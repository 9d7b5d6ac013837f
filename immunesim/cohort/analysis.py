"""Arm-level results of a virtual trial: response rates with 95 % intervals, paired
differences against control, number needed to treat, event-free survival.

Patients whose integration failed in any arm are excluded from every arm (the arms stay
paired) and listed with their reason; they are never averaged in. An endpoint counted on
observed cases (``analysis: observed``) has, per arm, the patients still assessed at its week
(``n``), and its difference to control is paired over those assessed in both arms.
"""

from __future__ import annotations

import numpy as np

from . import stats
from ..result import import_xarray
from ..scenario.endpoints import CHALLENGE

xr = import_xarray()


def outcome(ds: xr.Dataset, key: str) -> np.ndarray:
    """``arm x patient`` array of outcome ``key`` (e.g. ``ACR20:24:responder``)."""
    return ds[f"outcome:{key}"].values


def valid_patients(ds: xr.Dataset) -> np.ndarray:
    """Patients whose every arm succeeded."""
    return (ds["status"].values == 0).all(axis=0)


def failures(ds: xr.Dataset) -> list[dict]:
    """``{patient, arm, message}`` of every failed integration (excluded patients)."""
    return list(ds.attrs["failures"])


def arm_rows(ds: xr.Dataset, trial, weights: np.ndarray | None = None) -> list[dict]:
    """One row per arm and endpoint(-week): ``arm, endpoint, week, n, responders, rate,
    ci_low, ci_high`` then the paired difference to control with its interval, the NNT, and
    (with ``weights``) the calibrated rate with its interval on the effective sample size."""
    ok = valid_patients(ds)
    arms = list(ds["arm"].values)
    c = arms.index(trial.control)
    w = None if weights is None else weights[ok]
    rows = []
    for ep in trial.endpoints:
        if ep.time_to_event:
            rows += _survival_rows(ds, ep, trial, arms, ok, w)
            continue
        for week in ep.weeks:
            raw = outcome(ds, f"{ep.name}:{week:g}:responder")[:, ok]
            seen = np.isfinite(raw)     # assessed: all, but for observed cases (analysis: observed)
            x = raw > 0.5
            for a, arm in enumerate(arms):
                m = seen[a]
                n, k = int(m.sum()), int(x[a][m].sum())
                lo, hi = stats.wilson(k, n)
                row = {"arm": arm, "endpoint": ep.name, "week": week, "n": n, "responders": k,
                       "rate": k / n if n else float("nan"), "ci_low": lo, "ci_high": hi}
                if a != c:
                    both = m & seen[c]          # paired: patients assessed in both arms
                    d, dlo, dhi = stats.paired_difference(x[a][both], x[c][both])
                    sign = -1.0 if ep.lower_is_better else 1.0   # NNT for benefit
                    v, text = stats.nnt(sign * d, *sorted((sign * dlo, sign * dhi)))
                    row.update(diff_vs_control=d, diff_ci_low=dlo, diff_ci_high=dhi,
                               nnt=v, nnt_ci=text)
                else:
                    row.update(diff_vs_control=0.0, diff_ci_low=0.0, diff_ci_high=0.0,
                               nnt=float("inf"), nnt_ci="control")
                if w is not None:
                    wr = stats.weighted_rate(x[a][m], w[m])
                    row.update(calibrated_rate=wr["rate"], calibrated_ci_low=wr["ci_low"],
                               calibrated_ci_high=wr["ci_high"], n_eff=wr["n_eff"])
                rows.append(row)
    return rows


def _survival_rows(ds, ep, trial, arms, ok, w):
    rows = []
    t = outcome(ds, f"{ep.name}:time")[:, ok]
    e = outcome(ds, f"{ep.name}:event")[:, ok] > 0.5
    week = trial.weeks - ep.after_week
    for a, arm in enumerate(arms):
        km = stats.kaplan_meier(t[a], e[a], [week])
        n = int(t.shape[1])
        row = {"arm": arm, "endpoint": ep.name, "week": trial.weeks, "n": n,
               "responders": int(n - e[a].sum()), "rate": float(km["s"][0]),
               "ci_low": float(km["ci_low"][0]), "ci_high": float(km["ci_high"][0])}
        if w is not None:
            kw = stats.kaplan_meier(t[a], e[a], [week], weights=w)
            row.update(calibrated_rate=float(kw["s"][0]))
        rows.append(row)
    return rows


def infection_risk(ds: xr.Dataset, trial) -> dict | None:
    """Per arm: mean days to clear the challenge (not cleared = the rest of the trial) and
    the share not cleared within the endpoint's window; None without a challenge endpoint."""
    ep = next((e for e in trial.endpoints if e.kind == CHALLENGE), None)
    if ep is None:
        return None
    ok = valid_patients(ds)
    days = outcome(ds, f"{ep.name}:{ep.value:g}:value")[:, ok]
    horizon = trial.week * (trial.weeks - ep.value)
    days = np.where(np.isfinite(days), days, horizon)
    cleared = outcome(ds, f"{ep.name}:{ep.value:g}:responder")[:, ok] > 0.5
    return {arm: {"mean_clearance_days": float(days[a].mean()),
                  "not_cleared_within": float(1.0 - cleared[a].mean())}
            for a, arm in enumerate(ds["arm"].values)}
