"""Trial endpoints and baseline constraints, evaluated on batched trajectories.

Times are weeks after the trial's baseline (the end of the untreated run-in, when therapy
starts). Values at an endpoint week are the solver's own outputs: the trial's output grid
contains every endpoint week. Kinds:

- ``improvement: f`` (ACR20/50/70-like on a composite): responder when
  ``(baseline - value) / baseline >= f`` (0.2 for "20 % improvement");
- ``decrease_by: d`` (an absolute fall, e.g. SLEDAI-2K by >= 4 as in the SLE Responder
  Index): responder when ``baseline - value >= d``;
- ``below: x`` (remission, e.g. DAS28-CRP < 2.6) or ``above: x``: responder when the value is
  below / above ``x``;
- ``increase_above: d`` (progression of irreversible damage): an event when
  ``value - baseline > d``; its rate is the share of progressors (lower is better);
- ``flare_above: x`` (flare- or relapse-free survival): time from ``after_week`` to the first
  output time with the readout above ``x``, censored at the end; reported as Kaplan-Meier
  event-free survival at each week;
- ``challenge_week: w`` with ``cleared_within: days``: a pathogen inoculum (1 unit into
  ``Pathogen``) given at week ``w`` in a second run of the arm; responder = cleared (load below
  1e-3 of the inoculum) within the given days. Its clearance time is the arm's infection-risk
  proxy.

``harm: true`` marks any threshold endpoint as a harm (e.g. an immune-related adverse event
``{readout: Teff, above: 5}``): its NNT becomes a number needed to harm, and the biomarker
analysis and personalised rule look for patients *without* it.

A ``Constraint`` on a baseline readout (``above``, ``below`` or ``between``) selects plausible
patients at the end of the run-in (rejection sampling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLEARED = 1e-3    # pathogen load (inoculum units) counted as cleared
IMPROVEMENT, DECREASE, BELOW, ABOVE, INCREASE, FLARE, CHALLENGE = (
    "improvement", "decrease_by", "below", "above", "increase_above", "flare_above", "challenge_week")
KINDS = (IMPROVEMENT, DECREASE, BELOW, ABOVE, INCREASE, FLARE, CHALLENGE)
#: kinds whose "responders" are patients with a bad outcome (lower rate is better)
HARMS = (INCREASE,)


@dataclass(frozen=True)
class Constraint:
    readout: str
    low: float = -np.inf
    high: float = np.inf

    def passes(self, x: np.ndarray) -> np.ndarray:
        return (x > self.low) & (x < self.high)

    def describe(self) -> str:
        if np.isfinite(self.low) and np.isfinite(self.high):
            return f"{self.low:g} < {self.readout} < {self.high:g}"
        return f"{self.readout} > {self.low:g}" if np.isfinite(self.low) else f"{self.readout} < {self.high:g}"


@dataclass(frozen=True)
class Endpoint:
    name: str
    kind: str
    value: float
    readout: str = ""
    weeks: tuple = ()
    after_week: float = 0.0
    cleared_within: float = 0.0   # days (challenge)
    harm: bool = False            # the "responders" are patients with a bad outcome (toxicity)

    @property
    def time_to_event(self) -> bool:
        return self.kind == FLARE

    @property
    def lower_is_better(self) -> bool:
        return self.kind in HARMS or self.harm


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
