"""Validation of a scenario's ``trial`` block (``immunesim trial``); the ``population`` block
is validated by :mod:`immunesim.scenario.population_spec`.

::

    population:
      size: 1000                               # accepted patients
      max_candidates: 20000                    # give up (clear error) after this many draws
      parameters:                              # in each parameter's unit
        k_inj_TNF: {lognormal: 0.4}            # CV; median = the preset's value
        p_IL6_dmg: {lognormal: {cv: 0.5, median: 300}}
        w_b_apc: {uniform: [0.3, 1.5]}
      correlation: [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]]   # Gaussian copula, parameters' order
      covariates:
        body_weight: {normal: [75, 15]}        # kg
        age: {normal: [55, 12]}                # years
        sex: {female: 0.75}
        genotypes: {hla_risk_alleles: 0.35}    # risk-allele frequency (Hardy-Weinberg)
      covariate_effects:
        - {parameter: k_inj_TNF, female: 1.1}
        - {parameter: p_IL6_dmg, age: {per_decade: 1.1, reference: 55}}
      constraints:                             # on readouts at baseline (rejection sampling)
        - {readout: DAS28_CRP, above: 5.1}
        - {readout: CRP, between: [5, 100]}
    trial:
      baseline: "365 d"                        # end of the untreated run-in; therapies start here or later
      weeks: 52                                # follow-up after baseline
      output_every: "1 w"
      control: placebo                         # an arm (default: the first)
      primary: ACR20                           # endpoint for waterfall, biomarkers, calibration default
      endpoints:
        ACR20: {readout: DAS28_CRP, improvement: 0.2, weeks: [12, 24]}
        remission: {readout: DAS28_CRP, below: 2.6, weeks: [24]}
        remission_oc: {readout: DAS28_CRP, below: 2.6, weeks: [52], analysis: observed}  # observed cases
        progression: {readout: Irr, increase_above: 0.005, weeks: [52]}
        flare_free: {readout: DAS28_CRP, flare_above: 5.1, after_week: 12}
        infection: {challenge_week: 8, cleared_within: "10 d"}
      variables: [DAS28_CRP, CRP, Dmg, Irr]    # trajectories kept on disk
      biomarkers: [CRP, IL6, TNF, AutoAb, Treg_Teff_ratio]   # baseline values for the analysis
      calibration:                             # published arm-level rates to match
        - {arm: placebo, endpoint: ACR20, week: 24, rate: 0.2}
        - {arm: adalimumab, endpoint: ACR20, week: 24, rate: 0.6}
      chunk: 512                               # candidates per chunk (fixed by the population)
      dropout:                                 # non-responder imputation (clinical endpoints)
        per_year: 0.1                          # withdrawals for other reasons, share per year
        escape:                                # rescue when both joint counts improved < 20 %
          week: 16
          improvement_below: 0.2
          rescue:                              # optional: what escapers of an arm get from then on
            placebo: [{drug: tocilizumab, dose: "4 mg/kg", route: iv, every: "4 w"}]
      published:                               # published arm-level rates, set beside the simulated
        - {trial: OPTION, arm: tocilizumab, endpoint: ACR20, week: 24, rate: 0.59, n: 205, source: "..."}
      management:                              # what clinicians do when a readout crosses a limit
        when: {readout: Teff, above: 5}        # checked at every output time after baseline
        stop: [nivolumab, ipilimumab]          # no further doses (what was given stays in the body)
        give:                                  # courses started then (start: after the decision)
          - {drug: prednisone, dose: "1 mg/kg", route: oral, every: "1 d", count: 14}

``population.background`` (therapies, as an arm's) is taken by every patient in the run-in and
in every arm: e.g. methotrexate for an MTX-IR population (``until:`` for a washout).

On a disease with clinical instruments (a preset's ``clinical`` block, e.g. RA's ``TJC68``,
``SJC66``, ``HAQ``, ``DAS28``), endpoints and population constraints may name them (measured as
at a visit: :mod:`immunesim.diseases.clinical`), and ``{acr: 20, weeks: [24]}`` is the ACR20
response by its definition.

The arms are the scenario's ``arms`` (as for ``immunesim compare``); their therapies' ``start``
is in scenario time and must be at or after ``trial.baseline``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..drugs.regimen import parse_therapies
from ..units import days
from ..validation import (
    as_list,
    check_keys,
    clip,
    did_you_mean,
    is_one_of,
    mapping,
    name_list,
    number,
)
from .endpoints import ACR, ANALYSES, CHALLENGE, FLARE, HARMS, KINDS, NRI, OBSERVED, Endpoint
from .population import BLOCK
from .regimen_search import check, expand

TRIAL_KEYS = ("baseline", "weeks", "output_every", "control", "primary", "endpoints", "variables",
              "biomarkers", "calibration", "chunk", "regimen_search", "dropout", "published",
              "management")
ENDPOINT_KEYS = ("readout", "weeks", "after_week", "cleared_within", "harm", "analysis") + KINDS
DEFAULT_BIOMARKERS = ("CRP", "TNF", "IL6", "IL17", "IFNg", "AutoAb", "Treg_Teff_ratio")


@dataclass(frozen=True)
class Dropout:
    """Withdrawals and escape to rescue therapy, counted as non-responders (or, by an endpoint
    with ``analysis: observed``, withdrawals left out and escapers assessed on their rescue)."""

    per_year: float = 0.0                    # share withdrawing within a year, other reasons
    escape_week: float | None = None         # escape visit (weeks after baseline)
    escape_below: float = 0.2                # escape when both joint counts improved less
    rescue: tuple = ()                       # (arm, regimens) pairs: escapers' added therapy

    def rescue_for(self, arm: str) -> tuple:
        """The regimens ``arm``'s escapers add from the escape visit (empty: none)."""
        return next((regs for a, regs in self.rescue if a == arm), ())


@dataclass(frozen=True)
class Management:
    """What clinicians do for a patient whose ``readout`` crosses a limit (e.g. a grade 3-4
    immune-related adverse event): from the first output time after baseline at which it is past
    the limit, the ``stop`` drugs get no further doses and the ``give`` courses start (their
    ``start`` counted from that time)."""

    readout: str
    op: str                    # "above" or "below"
    value: float
    stop: tuple = ()           # drug names
    give: tuple = ()           # Regimen, start (and until) relative to the decision

    def decision_index(self, t: np.ndarray, baseline: float, y: np.ndarray) -> np.ndarray:
        """Per patient (rows of ``y``, the readout at times ``t``), the index of the first output
        time after ``baseline`` at which the limit is crossed, -1 where it never is."""
        past = (y > self.value) if self.op == "above" else (y < self.value)
        past &= (t > baseline + 1e-9)[None, :]
        return np.where(past.any(axis=1), np.argmax(past, axis=1), -1)

    def regimens(self, regimens, t_decision: float) -> list:
        """``regimens`` with the ``stop`` drugs' doses after ``t_decision`` dropped, and the
        ``give`` courses started at ``t_decision``."""
        out = []
        for reg in regimens:
            out.append(reg.stopped(t_decision) if reg.drug in self.stop else reg)
        for reg in self.give:
            out.append(dataclasses.replace(reg, start=reg.start + t_decision,
                                           until=None if reg.until is None else reg.until + t_decision))
        return out


@dataclass(frozen=True)
class Trial:
    baseline: float            # days
    weeks: float
    output_every: float        # days
    control: str
    primary: str
    endpoints: tuple           # Endpoint
    variables: tuple
    biomarkers: tuple
    calibration: tuple         # dicts {arm, endpoint, week, rate}
    chunk: int = 512           # candidates per chunk, a multiple of the 64-candidate block
    regimen_search: object = None   # immunesim.scenario.regimen_search.RegimenSearch
    week: float = 7.0          # a week in the scenario's time unit (an SBML model's may differ)
    clinical: object = None    # the disease's clinical instruments (immunesim.diseases.clinical)
    published: tuple = ()      # dicts {arm, endpoint, week, rate, n, trial, source}: report.html
    dropout: Dropout | None = None
    management: Management | None = None

    def measured(self, readout: str) -> bool:
        """Whether ``readout`` is a clinical instrument (measured with visit variation)."""
        return self.clinical is not None and readout in self.clinical.names

    @property
    def uses_instruments(self) -> bool:
        """Whether an endpoint, kept variable or dropout rule needs the measured visits."""
        return self.clinical is not None and (
            self.dropout is not None or any(self.measured(v) for v in self.variables)
            or any(e.kind == ACR or self.measured(e.readout) for e in self.endpoints))

    def times(self) -> np.ndarray:
        """Output times (days, or an SBML model's time unit): every ``output_every`` from
        baseline, every endpoint week."""
        end = self.baseline + self.week * self.weeks
        grid = set(np.round(np.arange(self.baseline, end + 1e-9, self.output_every), 9))
        grid.add(round(end, 9))
        for ep in self.endpoints:
            grid.update(round(self.baseline + self.week * w, 9) for w in ep.weeks)
        return np.array(sorted(grid))


def validate_trial(raw, arms: dict, names, times, problems, *, week_length: float = 7.0,
                   clinical=None, background=()) -> Trial | None:
    """The ``trial`` block (needs ``arms``), or None. ``week_length``: a week in the scenario's
    time unit (7 days; an SBML model's time unit may differ); ``clinical``: the disease's
    clinical instruments (:class:`immunesim.diseases.clinical.Clinical`) or None;
    ``background``: the population's background regimens (``trial.management`` may stop them)."""

    if raw is None:
        return None
    tr = mapping(raw, "trial", problems)
    check_keys(tr, TRIAL_KEYS, "trial.", problems)
    search = None
    if tr.get("regimen_search") is not None:      # adds the grid's arms to `arms`

        search = expand(tr["regimen_search"], arms, times, problems, parse_therapies)
    if not arms:
        problems.append("trial: needs arms (a mapping of arm name: therapies; [] for placebo)")
        return None
    baseline = days(tr.get("baseline", 0.0), "trial.baseline", problems, positive=False)
    weeks = number(tr.get("weeks", 52), "trial.weeks", problems, 0.0, 520.0, open_lo=True)
    every = days(tr.get("output_every", "1 w"), "trial.output_every", problems)
    control = tr.get("control", next(iter(arms)))
    if not is_one_of(control, arms):
        problems.append(f"trial.control: {clip(control)} is not an arm; arms: {', '.join(arms)}")
    for arm, spec in arms.items():
        if baseline is not None:
            for k, reg in enumerate(spec["therapies"]):
                first = min(reg.dose_times()) if reg.dose_times() else reg.start
                if first < baseline - 1e-9:
                    problems.append(f"arms.{arm}[{k}].start: the first dose (day {first:g}) is before "
                                    f"trial.baseline (day {baseline:g}); the run-in is untreated")
    endpoints = []
    for name, spec in mapping(tr.get("endpoints"), "trial.endpoints", problems).items():
        ep = _endpoint(str(name), spec, f"trial.endpoints.{name}", names, weeks, problems, clinical)
        if ep is not None:
            endpoints.append(ep)
    if not endpoints and "endpoints" in tr:
        problems.append("trial.endpoints: none valid")
    if not tr.get("endpoints"):
        problems.append("trial.endpoints: required; e.g. {ACR20: {readout: DAS28_CRP, improvement: 0.2, weeks: [24]}}")
    primary = tr.get("primary", endpoints[0].name if endpoints else None)
    threshold_eps = [e.name for e in endpoints if not e.time_to_event]
    if endpoints and primary not in threshold_eps:
        problems.append(f"trial.primary: '{primary}' is not a responder endpoint; one of {', '.join(threshold_eps)}")
    measured = list(clinical.names) if clinical is not None else []
    variables = name_list(tr.get("variables"), "trial.variables", [*names, *measured], problems,
                          "variables")       # clinical instruments are kept as measured
    biomarkers = name_list(tr.get("biomarkers"), "trial.biomarkers", names, problems, "variables")
    if biomarkers is None:
        biomarkers = tuple(b for b in DEFAULT_BIOMARKERS if b in names)
    cal = []
    raw_cal = as_list(tr.get("calibration"), "trial.calibration", problems)
    by_name = {e.name: e for e in endpoints}
    for i, c in enumerate(raw_cal):
        path = f"trial.calibration[{i}]"
        if not isinstance(c, Mapping) or set(c) != {"arm", "endpoint", "week", "rate"}:
            problems.append(f"{path}: expected {{arm, endpoint, week, rate}}, got {clip(c)}")
            continue
        entry = _rate_entry(c, path, arms, by_name, problems)
        if entry is not None:
            cal.append(entry)
    chunk = tr.get("chunk", 512)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < BLOCK or chunk % BLOCK:
        problems.append(f"trial.chunk: expected a positive multiple of {BLOCK} (candidates per chunk), got {clip(chunk)}")
        chunk = 512
    if search is not None:

        check(search, endpoints, problems)
    dropout = _dropout(tr.get("dropout"), clinical, weeks, problems, arms=arms, times=times,
                       baseline=baseline, week_length=week_length,
                       management=tr.get("management") is not None)
    for ep in endpoints:
        if ep.analysis == OBSERVED and dropout is None:
            problems.append(f"trial.endpoints.{ep.name}.analysis: 'observed' counts the patients "
                            "still assessed; without trial.dropout every patient is, as with "
                            "'nri': add trial.dropout or leave analysis out")
    # per-patient uses need every patient's outcome: an observed-case endpoint has none for some
    observed = {e.name for e in endpoints if e.analysis == OBSERVED}
    uses = [("trial.primary", primary)] + [(f"trial.calibration[{i}].endpoint", c["endpoint"])
                                           for i, c in enumerate(cal)]
    if search is not None:
        uses.append(("trial.regimen_search.efficacy.endpoint", search.efficacy))
    for path, name in uses:
        if isinstance(name, str) and name in observed:      # any other value is refused above
            problems.append(f"{path}: '{name}' is counted on observed cases (analysis: observed), "
                            "which leaves withdrawn patients without an outcome; name an endpoint "
                            "with non-responder imputation (the default)")
    published = _published(tr.get("published"), arms, by_name, problems)
    management = _management(tr.get("management"), arms, names, clinical, times, problems,
                             background)
    if None in (baseline, weeks, every) or not is_one_of(control, arms):
        return None
    if times is not None and baseline + 7 * weeks > times[-1] + 1e-6:
        problems.append(f"trial.weeks: baseline (day {baseline:g}) + {weeks:g} weeks runs past time.end "
                        f"(day {times[-1]:g}); lengthen time.end")
    return Trial(baseline=baseline, weeks=weeks, output_every=every, control=control,
                 primary=primary, endpoints=tuple(endpoints), variables=variables or (),
                 biomarkers=biomarkers, calibration=tuple(cal), chunk=chunk,
                 regimen_search=search, week=week_length, clinical=clinical, dropout=dropout,
                 published=published, management=management)


PUBLISHED_KEYS = ("arm", "endpoint", "week", "rate", "n", "trial", "source")


def _rate_entry(c: Mapping, path: str, arms, endpoints: dict, problems) -> dict | None:
    """``{arm, endpoint, week, rate}`` of an arm-level rate (a calibration target or a published
    rate): an arm, a responder endpoint of ``endpoints`` and one of its weeks, a rate in [0, 1]."""
    if not is_one_of(c["arm"], arms):
        problems.append(f"{path}.arm: {clip(c['arm'])} is not an arm; " + did_you_mean(c["arm"], arms, ""))
        return None
    ep = endpoints.get(c["endpoint"]) if isinstance(c["endpoint"], str) else None
    if ep is None or ep.time_to_event:
        problems.append(f"{path}.endpoint: {clip(c['endpoint'])} is not a responder endpoint of trial.endpoints")
        return None
    week = number(c["week"], f"{path}.week", problems, 0.0)
    rate = number(c["rate"], f"{path}.rate", problems, 0.0, 1.0)
    if week is not None and week not in ep.weeks and ep.kind != CHALLENGE:
        problems.append(f"{path}.week: {week:g} is not one of {c['endpoint']}'s weeks {list(ep.weeks)}")
        return None
    if week is None or rate is None:
        return None
    return {"arm": c["arm"], "endpoint": ep.name, "week": week, "rate": rate}


def _published(raw, arms, endpoints: dict, problems) -> tuple:
    """``trial.published``: published arm-level rates to set beside the simulated ones."""
    out = []
    for i, c in enumerate(as_list(raw, "trial.published", problems)):
        path = f"trial.published[{i}]"
        if not isinstance(c, Mapping) or not {"arm", "endpoint", "week", "rate", "n"} <= set(c):
            problems.append(f"{path}: expected {{arm, endpoint, week, rate, n, trial, source}}, got {clip(c)}")
            continue
        check_keys(c, PUBLISHED_KEYS, f"{path}.", problems)
        n = c["n"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            problems.append(f"{path}.n: expected the arm's number of patients (a positive integer), got {clip(n)}")
            continue
        entry = _rate_entry(c, path, arms, endpoints, problems)
        if entry is not None:
            out.append({**entry, "n": n, "trial": str(c.get("trial", "")), "source": str(c.get("source", ""))})
    return tuple(out)


def _management(raw, arms: dict, names, clinical, times, problems,
                background=()) -> Management | None:
    """``trial.management``: stop drugs and give courses when a readout crosses a limit."""
    if raw is None:
        return None
    m = mapping(raw, "trial.management", problems)
    check_keys(m, ("when", "stop", "give"), "trial.management.", problems)
    when = mapping(m.get("when"), "trial.management.when", problems)
    check_keys(when, ("readout", "above", "below"), "trial.management.when.", problems)
    readout = when.get("readout")
    ops = [k for k in ("above", "below") if k in when]
    ok = True
    if clinical is not None and readout in clinical.names:
        problems.append(f"trial.management.when.readout: {readout!r} is a clinical instrument; a "
                        "management rule reads a model variable (the decision is taken on the "
                        "course itself, not on a noisy visit)")
        ok = False
    elif not isinstance(readout, str) or (names and readout not in names):
        problems.append("trial.management.when.readout: " + (
            "required" if readout is None else f"{clip(readout)} is not a variable; "
            + did_you_mean(readout, names, "see `immunesim list variables DISEASE`")))
        ok = False
    if len(ops) != 1:
        problems.append(f"trial.management.when: give exactly one of above, below; got {ops or 'none'}")
        return None
    value = number(when[ops[0]], f"trial.management.when.{ops[0]}", problems)
    if any(not hasattr(r, "drug") for spec in arms.values() for r in spec["therapies"]):
        problems.append("trial.management: needs a disease preset's drugs (an SBML model's arms "
                        "dose species)")
        return None
    # an arm's drugs and the population's background ones (each arm runs both)
    given = {r.drug for spec in arms.values() for r in spec["therapies"]}
    given |= {r.drug for r in background}
    stop = m.get("stop", [])
    if not isinstance(stop, list) or not all(isinstance(x, str) for x in stop):
        problems.append(f"trial.management.stop: expected a list of drug names, got {clip(stop)}")
        stop = None
    else:
        for i, x in enumerate(stop):
            if x not in given:
                problems.append(f"trial.management.stop[{i}]: {clip(x)} is not given in any arm "
                                "or as background; "
                                + did_you_mean(x, sorted(given), "drugs given: " + ", ".join(sorted(given))))
    if any(spec.get("treat_to_target") for spec in arms.values()):
        problems.append("trial.management: not combined with treat_to_target arms (their rules "
                        "decide per patient already); put the rule into each arm's treat_to_target")
        ok = False
    give = []
    raw_give = as_list(m.get("give"), "trial.management.give", problems)
    for i, th in enumerate(raw_give):
        if isinstance(th, Mapping) and th.get("every") is not None and th.get("count") is None \
                and th.get("until") is None:
            problems.append(f"trial.management.give[{i}]: a course needs count (or until, counted "
                            "from the decision)")
            ok = False
    if raw_give:
        give = parse_therapies(raw_give, "trial.management.give", times, problems)
    if not stop and not give:
        problems.append("trial.management: name drugs to stop, courses to give, or both")
        ok = False
    if not ok or value is None or stop is None:
        return None
    return Management(readout, ops[0], value, tuple(stop), tuple(give))


def _dropout(raw, clinical, weeks_total, problems, *, arms=None, times=None, baseline=None,
             week_length=7.0, management=False) -> Dropout | None:
    if raw is None:
        return None
    d = mapping(raw, "trial.dropout", problems)
    check_keys(d, ("per_year", "escape"), "trial.dropout.", problems)
    per_year = number(d.get("per_year", 0.0), "trial.dropout.per_year", problems, 0.0, 0.99)
    escape_week, below, rescue = None, 0.2, {}
    if d.get("escape") is not None:
        e = mapping(d["escape"], "trial.dropout.escape", problems)
        check_keys(e, ("week", "improvement_below", "rescue"), "trial.dropout.escape.", problems)
        escape_week = number(e.get("week"), "trial.dropout.escape.week", problems, 0.0,
                             weeks_total if weeks_total is not None else np.inf, open_lo=True)
        below = number(e.get("improvement_below", 0.2), "trial.dropout.escape.improvement_below",
                       problems, 0.0, 1.0)
        if clinical is None or not clinical.acr_joints:
            problems.append("trial.dropout.escape: needs a disease whose clinical instruments name "
                            "the joint counts (the ACR core set)")
            return None
        if e.get("rescue") is not None and escape_week is not None and baseline is not None:
            rescue = _rescue(e["rescue"], arms or {}, times, baseline + week_length * escape_week,
                             escape_week, management, problems)
    if per_year is None or below is None:
        return None
    return Dropout(per_year, escape_week, below, tuple(rescue.items()))


def _rescue(raw, arms: Mapping, times, t_escape: float, escape_week: float, management: bool,
            problems) -> dict:
    """``trial.dropout.escape.rescue``: per arm, the therapies its escapers get from the escape
    visit on (beside the arm's own and the background, which they keep: a blinded escape adds
    to what the patient takes). Their ``start`` is the escape visit, so none is given."""
    out = {}
    root = "trial.dropout.escape.rescue"
    r = mapping(raw, root, problems)
    if r and management:
        problems.append(f"{root}: not combined with trial.management (a patient could be both "
                        "managed and rescued; say which comes first by leaving one out)")
        return out
    for arm, entries in r.items():
        path = f"{root}.{arm}"
        if not is_one_of(arm, arms):
            problems.append(f"{path}: {clip(arm)} is not an arm; " + did_you_mean(arm, list(arms), ""))
            continue
        if arms[arm].get("treat_to_target"):
            problems.append(f"{path}: a treat_to_target arm decides each patient's therapy by its "
                            "rules already; put the rescue into those rules")
            continue
        items = as_list(entries, path, problems)
        bad = False
        for i, th in enumerate(items):
            if isinstance(th, Mapping) and ("start" in th or "until" in th):
                key = "start" if "start" in th else "until"
                problems.append(f"{path}[{i}].{key}: a rescue starts at the escape visit (week "
                                f"{escape_week:g}) and lasts the trial; give count to end it sooner")
                bad = True
        if bad:
            continue
        shifted = [{**th, "start": f"{t_escape!r} d"} if isinstance(th, Mapping) else th for th in items]
        out[str(arm)] = tuple(parse_therapies(shifted, path, times, problems))
    return out


def _endpoint(name, spec, path, names, weeks_total, problems, clinical=None) -> Endpoint | None:

    if not isinstance(spec, Mapping):
        problems.append(f"{path}: expected a mapping like {{readout: DAS28_CRP, improvement: 0.2, weeks: [24]}}")
        return None
    check_keys(spec, ENDPOINT_KEYS, f"{path}.", problems)
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        problems.append(f"{path}: give exactly one of {', '.join(KINDS)}; got {kinds or 'none'}")
        return None
    kind = kinds[0]
    analysis = spec.get("analysis", NRI)
    if analysis not in ANALYSES:
        problems.append(f"{path}.analysis: expected one of {', '.join(ANALYSES)} (non-responder "
                        f"imputation, observed cases), got {clip(analysis)}")
        return None
    if analysis == OBSERVED and (kind in (CHALLENGE, FLARE, *HARMS) or spec.get("harm") is True):
        problems.append(f"{path}.analysis: 'observed' is for responder endpoints; a harm, a "
                        "challenge or a time to flare counts every patient")
        return None
    value = number(spec[kind], f"{path}.{kind}", problems,
                   0.0 if kind in ("improvement", CHALLENGE, ACR) else -np.inf,
                   1.0 if kind == "improvement" else 100.0 if kind == ACR else np.inf,
                   open_lo=kind == ACR)
    if kind == ACR and (clinical is None or not clinical.acr_core):
        problems.append(f"{path}.acr: the disease defines no ACR core set (a preset's clinical "
                        "instruments; RA has one)")
        return None
    if kind == CHALLENGE:
        within = days(spec.get("cleared_within", "14 d"), f"{path}.cleared_within", problems)
        if value is None or within is None:
            return None
        if weeks_total is not None and value >= weeks_total:
            problems.append(f"{path}.challenge_week: {value:g} is not within the trial's {weeks_total:g} weeks")
            return None
        return Endpoint(name, kind, value, "Pathogen", (value,), cleared_within=within)
    readout = spec.get("readout", "" if kind == ACR else None)
    instruments = clinical.names if clinical is not None else ()
    if kind == ACR and readout:
        problems.append(f"{path}.readout: an ACR endpoint reads the core set, not a readout")
        return None
    if kind != ACR and readout not in instruments and (readout is None or (names and readout not in names)):
        problems.append(f"{path}.readout: {'required' if readout is None else repr(readout) + ' is not a variable'}; "
                        + did_you_mean(readout, names, "see `immunesim list variables DISEASE`"))
        return None
    if kind == "flare_above":
        after = number(spec.get("after_week", 0), f"{path}.after_week", problems, 0.0)
        return None if value is None or after is None else Endpoint(name, kind, value, readout, (),
                                                                    after_week=after)
    w = spec.get("weeks")
    if not isinstance(w, list) or not w or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in w):
        problems.append(f"{path}.weeks: expected a list of weeks > 0 after baseline, got {clip(w)}")
        return None
    if weeks_total is not None and max(w) > weeks_total:
        problems.append(f"{path}.weeks: week {max(w):g} is after the trial's end (week {weeks_total:g})")
        return None
    harm = spec.get("harm", False)
    if not isinstance(harm, bool):
        problems.append(f"{path}.harm: expected true or false, got {clip(harm)}")
        return None
    return None if value is None else Endpoint(name, kind, value, readout, tuple(float(x) for x in w),
                                               harm=harm, analysis=analysis)
