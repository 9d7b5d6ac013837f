"""Trial endpoints evaluated on batched trajectories; what each kind means is in
:mod:`immunesim.scenario.endpoints`, where endpoints are declared."""

from __future__ import annotations

import numpy as np

from ..scenario.endpoints import ABOVE, BELOW, DECREASE, EVER, FLARE, IMPROVEMENT, INCREASE, Endpoint

CLEARED = 1e-3    # pathogen load (inoculum units) counted as cleared


def evaluate(ep: Endpoint, t_weeks: np.ndarray, y: np.ndarray, base: np.ndarray) -> dict:
    """Per-patient outcome of ``ep``.

    ``t_weeks`` (times), ``y`` (patients x times, the readout), ``base`` (patients, at week 0).
    Returns ``{"responder": (patients x weeks) bool, "value": (patients x weeks)}`` for
    threshold kinds, ``{"time": weeks to event or to censoring, "event": bool}`` for flares.
    """
    if ep.kind == FLARE:
        after = t_weeks >= ep.after_week - 1e-9
        hit = (y > ep.value) & after[None, :]
        any_hit = hit.any(axis=1)
        first = np.argmax(hit, axis=1)
        time = np.where(any_hit, t_weeks[first], t_weeks[-1]) - ep.after_week
        return {"time": time, "event": any_hit}
    cols = [int(np.argmin(np.abs(t_weeks - w))) for w in ep.weeks]
    if ep.kind == EVER:     # the highest level after baseline up to each endpoint week
        after = t_weeks > 1e-9
        peak = np.maximum.accumulate(np.where(after[None, :], y, -np.inf), axis=1)[:, cols]
        return {"responder": peak > ep.value, "value": peak}
    v = y[:, cols]
    b = base[:, None]
    if ep.kind == IMPROVEMENT:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(b > 0, (b - v) / b, 0.0)
        return {"responder": change >= ep.value - 1e-12, "value": change}
    if ep.kind == DECREASE:
        return {"responder": b - v >= ep.value - 1e-12, "value": b - v}
    if ep.kind == BELOW:
        return {"responder": v < ep.value, "value": v}
    if ep.kind == ABOVE:
        return {"responder": v > ep.value, "value": v}
    if ep.kind == INCREASE:
        return {"responder": v - b > ep.value, "value": v - b}
    raise ValueError(f"endpoint kind {ep.kind!r} is evaluated by challenge_outcome")


def challenge_outcome(ep: Endpoint, t_days: np.ndarray, load: np.ndarray, t_challenge: float) -> dict:
    """Clearance after a challenge at ``t_challenge`` (days): ``clearance_days`` (inf when not
    cleared by the end), ``peak`` load, and ``responder`` = cleared within ``cleared_within``.
    The load is read at the output times (hourly in a trial), so clearance is resolved to that."""
    after = t_days >= t_challenge - 1e-9
    tt, x = t_days[after], load[:, after]
    peak_idx = np.argmax(x, axis=1)
    peak = x[np.arange(x.shape[0]), peak_idx]
    below = (x < CLEARED) & (np.arange(tt.size)[None, :] > peak_idx[:, None])
    cleared = below.any(axis=1)
    t_clear = np.where(cleared, tt[np.argmax(below, axis=1)] - t_challenge, np.inf)
    return {"responder": (t_clear <= ep.cleared_within)[:, None], "value": t_clear[:, None],
            "clearance_days": t_clear, "peak": peak}
