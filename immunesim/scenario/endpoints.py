"""Trial endpoints and baseline constraints as a scenario declares them (their evaluation on
batched trajectories is :mod:`immunesim.cohort.endpoints`).

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
- ``ever_above: x`` (cumulative incidence, e.g. of a grade 3-4 adverse event): an event when
  the readout was above ``x`` at any output time after baseline up to the endpoint week,
  whether or not it resolved since; its rate is the share of patients with the event (lower is
  better), its value the highest level reached;
- ``flare_above: x`` (flare- or relapse-free survival): time from ``after_week`` to the first
  output time with the readout above ``x``, censored at the end; reported as Kaplan-Meier
  event-free survival at each week;
- ``acr: 20`` (or 50, 70; any level in percent): the ACR response by its definition (Felson et
  al. 1995) on the disease's measured clinical instruments
  (:mod:`immunesim.diseases.clinical`): both joint counts and 3 of the 5 other core-set
  measures improved by that percentage from the baseline visit;
- ``challenge_week: w`` with ``cleared_within: days``: a pathogen inoculum (1 unit into
  ``Pathogen``) given at week ``w`` in a second run of the arm; responder = cleared (load below
  1e-3 of the inoculum) within the given days. Its clearance time is the arm's infection-risk
  proxy.

A threshold endpoint's ``readout`` may be a model variable (noise-free) or one of the disease's
clinical instruments (measured as at a trial visit, e.g. RA's ``DAS28``, ``TJC68``, ``HAQ``).
With ``trial.dropout``, patients who have withdrawn or escaped to rescue therapy by an
endpoint's week count as non-responders (non-responder imputation, ``analysis: nri``, the
default), harms excepted. ``analysis: observed`` counts instead the patients still assessed at
that week (observed cases): those withdrawn by then leave the denominator, and those who escaped
are assessed on their rescue therapy (``trial.dropout.escape.rescue``; without one for their
arm, on the arm's own). Trials report some endpoints this way: LITHE gave DAS28 remission as
responders among evaluable patients, its ACR responses with non-responder imputation (the
two-year data: Ther Adv Musculoskelet Dis 2011;3:133, doi:10.1177/1759720X11407540, Table 2).

``harm: true`` marks any threshold endpoint as a harm (e.g. an immune-related adverse event
``{readout: Teff, above: 5}``): its NNT becomes a number needed to harm, and the biomarker
analysis and personalised rule look for patients *without* it.

A ``Constraint`` on a baseline readout (``above``, ``below`` or ``between``) selects plausible
patients at the end of the run-in (rejection sampling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMPROVEMENT, DECREASE, BELOW, ABOVE, INCREASE, EVER, FLARE, CHALLENGE, ACR = (
    "improvement", "decrease_by", "below", "above", "increase_above", "ever_above", "flare_above",
    "challenge_week", "acr")
KINDS = (IMPROVEMENT, DECREASE, BELOW, ABOVE, INCREASE, EVER, FLARE, CHALLENGE, ACR)
#: how an endpoint counts patients who left the trial (``analysis:``): non-responder
#: imputation over every randomised patient, or observed cases among those still assessed
NRI, OBSERVED = "nri", "observed"
ANALYSES = (NRI, OBSERVED)
#: kinds whose "responders" are patients with a bad outcome (lower rate is better)
HARMS = (INCREASE, EVER)


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
    analysis: str = NRI           # NRI or OBSERVED (see the module docstring)

    @property
    def time_to_event(self) -> bool:
        return self.kind == FLARE

    @property
    def lower_is_better(self) -> bool:
        return self.kind in HARMS or self.harm
