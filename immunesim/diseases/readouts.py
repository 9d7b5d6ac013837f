"""Readouts computed from trajectories after a run: event counts and the chronic-state check.

Assignment-rule readouts (DAS28-CRP, SLEDAI-2K, ...) are part of the model and come out of
the solver. What needs the whole trajectory lives here:

- ``counts`` in a preset: ``{name: {variable: v}}`` counts onsets of ``v`` (rises from
  <= 0.5 to > 0.5 between consecutive output times; ``v`` is a 0/1 indicator such as MS's
  ``in_relapse``), cumulatively at each output time. Onsets between two output times that
  are closer together than the output spacing are missed: request output at least daily.
- ``chronic_state`` in a preset: ``{variable: [lo, hi]}`` (the mean over the last third of
  the run lies in the range) or ``{variable: {stat: [lo, hi]}}`` with ``stat`` one of mean,
  min, max, final (over the last third) or per_year (the final value divided by the run's
  length in years; for counts).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import ModelError

STATS = ("mean", "min", "max", "final", "per_year")
DAYS_PER_YEAR = 365.25


def count_onsets(indicator: np.ndarray) -> np.ndarray:
    """Cumulative number of 0 -> 1 onsets of ``indicator`` (along the last axis)."""
    x = np.asarray(indicator) > 0.5
    onsets = np.zeros(x.shape, dtype=np.int64)
    onsets[..., 1:] = x[..., 1:] & ~x[..., :-1]
    return np.cumsum(onsets, axis=-1)


def counts(values: Mapping[str, np.ndarray], spec: Mapping[str, Mapping]) -> dict[str, np.ndarray]:
    """``{count name: cumulative onsets}`` for a preset's ``counts`` over trajectories."""
    out = {}
    for name, entry in (spec or {}).items():
        var = entry["variable"]
        if var not in values:
            raise ModelError(f"counts.{name}: variable '{var}' is not in the results")
        out[name] = count_onsets(values[var])
    return out


def chronic_check(t: np.ndarray, values: Mapping[str, np.ndarray], spec: Mapping) -> list[dict]:
    """Evaluate a preset's ``chronic_state`` on one trajectory; one dict per criterion with
    name, stat, value, low, high and ok."""
    t = np.asarray(t, dtype=float)
    late = t >= t[0] + (t[-1] - t[0]) * 2.0 / 3.0
    years = (t[-1] - t[0]) / DAYS_PER_YEAR
    rows = []
    for name, rule in spec.items():
        if name not in values:
            raise ModelError(f"chronic_state.{name}: not a variable or count of the model")
        items = {"mean": rule} if isinstance(rule, (list, tuple)) else dict(rule)
        x = np.asarray(values[name], dtype=float)
        for stat, (lo, hi) in items.items():
            if stat not in STATS:
                raise ModelError(f"chronic_state.{name}.{stat}: unknown statistic (allowed: {', '.join(STATS)})")
            if stat == "per_year":
                v = float(x[-1]) / years
            elif stat == "final":
                v = float(x[-1])
            else:
                v = float(getattr(np, stat)(x[late]))
            rows.append(dict(name=name, stat=stat, value=v, low=float(lo), high=float(hi),
                             ok=bool(lo <= v <= hi)))
    return rows


def infection_course(t, pathogen, threshold: float = 1e-3) -> dict:
    """Peak load, its time, and the time to clearance of a pathogen challenge.

    Cleared means the load falls below ``threshold`` (inoculum units; 1e-3 of a typical
    inoculum by default) after its peak and stays there to the end of the output.
    ``clearance_time`` is NaN if it is never cleared within the output.
    """
    t, x = np.asarray(t, dtype=float), np.asarray(pathogen, dtype=float)
    k = int(np.argmax(x))
    above = np.flatnonzero(x[k:] >= threshold)
    if above.size == 0:
        clear = t[k]
    elif k + above[-1] + 1 < x.size:
        clear = t[k + above[-1] + 1]
    else:
        clear = float("nan")
    return {"peak": float(x[k]), "peak_time": float(t[k]), "clearance_time": float(clear)}
