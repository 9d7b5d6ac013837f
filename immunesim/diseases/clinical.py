"""Clinical instruments of a disease: what a trial's assessor measures at a visit, from the model.

The mechanistic model gives noise-free *latent* disease activity (e.g. RA's inflamed synovial
fraction ``Dmg`` and its proxies ``SJC28``, ``TJC28``, ``PGA``, and ``CRP``). A trial does not see
those: it counts tender and swollen joints, asks the patient for a global assessment, pain
and a disability questionnaire, and measures CRP in one blood sample, at each visit. A
preset's ``clinical`` block says how each instrument relates to the latent state; the
cohort (:mod:`immunesim.cohort.clinical`) draws the patients' and visits' variation. For one
instrument ``X`` of patient ``i`` at visit ``t`` (weeks after baseline)::

    X = min(max, (scale * latent(t) * a_i * f_it + o_i) * e_it * (1 - x_i * (1 - exp(-t / onset))))

- ``a_i`` (lognormal, median 1, CV ``patient_cv``): how strongly this patient's inflammation
  shows in the instrument (e.g. which joints the synovitis involves);
- ``o_i`` (lognormal, median ``other.median``, CV ``other.cv``): the part that inflammation does
  not explain and therapy does not reach (pain sensitisation, osteoarthritis, fibromyalgia,
  damage, comorbidity);
- ``f_it`` (lognormal, median 1, CV ``fluctuation.cv``), the patient's disease activity
  fluctuating around the model's course, shared by every instrument at a visit and correlated
  between visits (a stationary AR(1) process on the log scale with correlation time
  ``fluctuation.weeks``): flares and good spells that no drug caused;
- ``e_it`` (lognormal, median 1, CV ``visit_cv``), independent per visit: measurement error
  and short-term fluctuation (between-visit variability). Selecting patients on a measured
  baseline (``population.constraints`` on an instrument) then makes regression to the mean;
- ``x_i`` (normal ``expectation: [mean, sd]`` clipped to [0, 0.9]): the expectation (placebo)
  effect on the subjective instruments, in every blinded arm from baseline on, approached
  with time constant ``expectation_onset_weeks``;
- counts are rounded to whole joints.

``acr: {joints: [tender, swollen], core: [five instruments]}`` names the ACR core set (Felson
et al. 1995, Arthritis Rheum 38:727, doi:10.1002/art.1780380602): ACR20/50/70 is an
improvement of at least 20/50/70 % in both joint counts and in 3 of the 5 others.
``das28: {tender, swollen, tender_28_share, swollen_28_share, crp, global}`` gives the measured
DAS28-CRP (Wells et al. 2009, doi:10.1136/ard.2007.084459) as the instrument ``DAS28``, with
28-joint counts taken as a share of the full counts: a number (the same share at every
activity), or ``{active, rest, half}``, a share that moves from ``rest`` (few joints involved)
towards ``active`` as the full count ``n`` grows, ``rest + (active - rest) * n / (n + half)``
(:class:`JointShare`); the 28-joint count is ``min(28, round(share * n))``. ``esr: INSTRUMENT`` in it adds the
DAS28-ESR (Prevoo et al. 1995, doi:10.1002/art.1780380107), the DAS28 of the pivotal trials of
the 2000s, as ``DAS28_ESR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..errors import ModelError
from ..validation import check_keys, clip, number

INSTRUMENT_KEYS = ("name", "unit", "description", "latent", "scale", "patient_cv", "other",
                   "visit_cv", "expectation", "max", "integer", "source")
CLINICAL_KEYS = ("instruments", "acr", "das28", "expectation_onset_weeks", "fluctuation", "source")
DAS28, DAS28_ESR = "DAS28", "DAS28_ESR"
DAS28_KEYS = ("tender", "swollen", "tender_28_share", "swollen_28_share", "crp", "global", "esr")
SHARE_KEYS = ("active", "rest", "half")


@dataclass(frozen=True)
class Instrument:
    """One clinical measurement (see the module docstring for the formula)."""

    name: str
    unit: str
    description: str
    latent: str                 # a model variable
    scale: float
    patient_cv: float
    other_median: float
    other_cv: float
    visit_cv: float
    expectation_mean: float
    expectation_sd: float
    maximum: float
    integer: bool
    source: str


@dataclass(frozen=True)
class JointShare:
    """The 28 joints' share of a full joint count of ``n`` joints: ``rest + (active - rest) *
    n / (n + half)``, ``half`` in joints of the full count; one number when ``active == rest``."""

    active: float
    rest: float
    half: float = 1.0

    def of(self, count) -> np.ndarray:
        """The share at full counts ``count`` (any shape)."""
        n = np.asarray(count, dtype=float)
        return self.rest + (self.active - self.rest) * n / (n + self.half)

    def count28(self, count) -> np.ndarray:
        """The 28-joint count from full counts ``count``: ``min(28, round(share * count))``."""
        n = np.asarray(count, dtype=float)
        return np.minimum(28.0, np.round(n * self.of(n)))


@dataclass(frozen=True)
class Das28:
    tender: str
    swollen: str
    tender_28_share: JointShare
    swollen_28_share: JointShare
    crp: str
    global_: str
    esr: str | None = None


@dataclass(frozen=True)
class Clinical:
    """A disease's clinical instruments, its ACR core set and its measured DAS28."""

    instruments: tuple          # Instrument
    acr_joints: tuple = ()      # (tender, swollen)
    acr_core: tuple = ()        # the five other core-set measures
    das28: Das28 | None = None
    expectation_onset_weeks: float = 2.0
    source: str = ""
    fluctuation_cv: float = 0.0
    fluctuation_weeks: float = 4.0

    @property
    def composites(self) -> tuple:
        """The measured composite scores (DAS28, DAS28_ESR) the disease defines."""
        if self.das28 is None:
            return ()
        return (DAS28,) + ((DAS28_ESR,) if self.das28.esr else ())

    @property
    def names(self) -> tuple:
        """Every instrument a trial can name (the measured composites included)."""
        return tuple(i.name for i in self.instruments) + self.composites

    @property
    def latents(self) -> tuple:
        """The model variables the instruments are measured from."""
        return tuple(dict.fromkeys(i.latent for i in self.instruments))


def parse_clinical(raw, where: str, variables) -> Clinical:
    """A preset's ``clinical`` block; ModelError listing every problem. ``variables``: the
    model's variable names (each instrument's latent must be one)."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise ModelError(f"{where}: expected a mapping with instruments, acr, das28")
    check_keys(raw, CLINICAL_KEYS, f"{where}.", problems)
    instruments = []
    for k, spec in enumerate(raw.get("instruments") or []):
        path = f"{where}.instruments[{k}]"
        if not isinstance(spec, Mapping):
            problems.append(f"{path}: expected a mapping")
            continue
        check_keys(spec, INSTRUMENT_KEYS, f"{path}.", problems)
        name = spec.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(f"{path}.name: expected an identifier, got {clip(name)}")
            continue
        if spec.get("latent") not in variables:
            problems.append(f"{path}.latent: {clip(spec.get('latent'))} is not a model variable")
            continue
        if name in variables:
            problems.append(f"{path}.name: '{name}' is already a model variable; an instrument "
                            "needs its own name")
            continue
        other = spec.get("other", {"median": 0.0, "cv": 0.0})
        exp = spec.get("expectation", [0.0, 0.0])
        if not isinstance(other, Mapping) or set(other) != {"median", "cv"}:
            problems.append(f"{path}.other: expected {{median, cv}}, got {clip(other)}")
            continue
        if not isinstance(exp, list) or len(exp) != 2:
            problems.append(f"{path}.expectation: expected [mean, sd], got {clip(exp)}")
            continue
        vals = [number(spec.get("scale", 1.0), f"{path}.scale", problems, 0.0),
                number(spec.get("patient_cv", 0.0), f"{path}.patient_cv", problems, 0.0, 5.0),
                number(other["median"], f"{path}.other.median", problems, 0.0),
                number(other["cv"], f"{path}.other.cv", problems, 0.0, 5.0),
                number(spec.get("visit_cv", 0.0), f"{path}.visit_cv", problems, 0.0, 5.0),
                number(exp[0], f"{path}.expectation[0]", problems, 0.0, 0.9),
                number(exp[1], f"{path}.expectation[1]", problems, 0.0, 1.0),
                number(spec.get("max", float("inf")), f"{path}.max", problems, 0.0, open_lo=True)
                if "max" in spec else float("inf")]
        if not isinstance(spec.get("source"), str) or not spec["source"].strip():
            problems.append(f"{path}.source: required (a citation, or 'assumed: why')")
            continue
        if None in vals:
            continue
        instruments.append(Instrument(name, str(spec.get("unit", "1")), str(spec.get("description", "")),
                                      spec["latent"], *vals, bool(spec.get("integer", False)),
                                      spec["source"]))
    names = [i.name for i in instruments]
    acr = raw.get("acr") or {}
    joints, core = tuple(acr.get("joints", ())), tuple(acr.get("core", ()))
    if acr and (len(joints) != 2 or len(core) != 5 or not set(joints + core) <= set(names)):
        problems.append(f"{where}.acr: expected {{joints: [tender, swollen], core: [5 instruments]}} "
                        f"naming instruments ({', '.join(names)})")
    das = None
    if raw.get("das28") is not None:
        d = raw["das28"]
        if not isinstance(d, Mapping) or not set(DAS28_KEYS) - {"esr"} <= set(d) <= set(DAS28_KEYS):
            problems.append(f"{where}.das28: expected the keys {', '.join(DAS28_KEYS)} (esr optional)")
        elif not {d["tender"], d["swollen"], d["crp"], d["global"], d.get("esr", d["crp"])} <= set(names):
            problems.append(f"{where}.das28: tender, swollen, crp, global and esr must name instruments")
        else:
            shares = [joint_share(d[k], f"{where}.das28.{k}", problems)
                      for k in ("tender_28_share", "swollen_28_share")]
            if None not in shares:
                das = Das28(d["tender"], d["swollen"], *shares, d["crp"], d["global"], d.get("esr"))
    onset = number(raw.get("expectation_onset_weeks", 2.0), f"{where}.expectation_onset_weeks",
                   problems, 0.0, open_lo=True)
    fl = raw.get("fluctuation", {"cv": 0.0, "weeks": 4.0})
    if not isinstance(fl, Mapping) or set(fl) != {"cv", "weeks"}:
        problems.append(f"{where}.fluctuation: expected {{cv, weeks}}, got {clip(fl)}")
        fl = {"cv": 0.0, "weeks": 4.0}
    fcv = number(fl["cv"], f"{where}.fluctuation.cv", problems, 0.0, 5.0)
    fweeks = number(fl["weeks"], f"{where}.fluctuation.weeks", problems, 0.0, open_lo=True)
    if problems:
        raise ModelError(problems)
    return Clinical(tuple(instruments), joints, core, das, onset, str(raw.get("source", "")),
                    fcv, fweeks)


def joint_share(raw, where: str, problems: list) -> JointShare | None:
    """A ``*_28_share``: a number in (0, 1], or ``{active, rest, half}`` (shares in (0, 1],
    ``half`` > 0 joints); None with a problem appended naming ``where``."""
    if isinstance(raw, Mapping):
        if set(raw) != set(SHARE_KEYS):
            problems.append(f"{where}: expected a share in (0, 1] or {{active, rest, half}}, "
                            f"got {clip(raw)}")
            return None
        vals = [number(raw["active"], f"{where}.active", problems, 0.0, 1.0, open_lo=True),
                number(raw["rest"], f"{where}.rest", problems, 0.0, 1.0, open_lo=True),
                number(raw["half"], f"{where}.half", problems, 0.0, open_lo=True)]
        return None if None in vals else JointShare(*vals)
    v = number(raw, where, problems, 0.0, 1.0, open_lo=True)
    return None if v is None else JointShare(v, v)
