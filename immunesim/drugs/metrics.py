"""Exposure metrics over the last dosing interval, as labels report them.

- ``cmax`` and ``tmax`` (days after the start of the interval), ``trough`` (the
  concentration at the end of the interval, just before the next dose would be given);
- ``auc_tau``: trapezoidal AUC over the interval (ug*day/mL) on the simulation's fine grid;
- ``half_life``: terminal half-life from a log-linear fit over the last third of the
  interval (the NCA lambda-z estimate; concentration-dependent for drugs with target-mediated
  elimination).
"""

from __future__ import annotations

import numpy as np


def interval_metrics(t, c, t_start: float, t_end: float) -> dict[str, float]:
    t, c = np.asarray(t, dtype=float), np.asarray(c, dtype=float)
    sel = (t >= t_start - 1e-12) & (t <= t_end + 1e-12)
    ti, ci = t[sel], c[sel]
    k = int(np.argmax(ci))
    late = ti >= t_start + (t_end - t_start) * 2.0 / 3.0
    late &= ci > 0
    if late.sum() >= 3:
        slope = np.polyfit(ti[late], np.log(ci[late]), 1)[0]
        half = float(np.log(2) / -slope) if slope < 0 else float("inf")
    else:
        half = float("nan")
    return {"cmax_ug_per_ml": float(ci[k]), "tmax_days": float(ti[k] - t_start),
            "trough_ug_per_ml": float(ci[-1]),
            "auc_tau_ug_day_per_ml": float(np.trapezoid(ci, ti)),
            "half_life_days": half}
