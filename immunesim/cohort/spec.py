"""Validation of a scenario's ``population`` and ``trial`` blocks (``immunesim trial``).

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
        progression: {readout: Irr, increase_above: 0.005, weeks: [52]}
        flare_free: {readout: DAS28_CRP, flare_above: 5.1, after_week: 12}
        infection: {challenge_week: 8, cleared_within: "10 d"}
      variables: [DAS28_CRP, CRP, Dmg, Irr]    # trajectories kept on disk
      biomarkers: [CRP, IL6, TNF, AutoAb, Treg_Teff_ratio]   # baseline values for the analysis
      calibration:                             # published arm-level rates to match
        - {arm: placebo, endpoint: ACR20, week: 24, rate: 0.2}
        - {arm: adalimumab, endpoint: ACR20, week: 24, rate: 0.6}
      chunk: 512                               # candidates per chunk (fixed by the population)

The arms are the scenario's ``arms`` (as for ``immunesim compare``); their therapies' ``start``
is in scenario time and must be at or after ``trial.baseline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .endpoints import CHALLENGE, KINDS, Constraint, Endpoint
from .population import BLOCK, DISTRIBUTIONS, LOGNORMAL, NORMAL, UNIFORM, CovariateEffect, Distribution, Population

POP_KEYS = ("size", "max_candidates", "parameters", "correlation", "covariates",
            "covariate_effects", "constraints")
COV_KEYS = ("body_weight", "age", "sex", "genotypes")
TRIAL_KEYS = ("baseline", "weeks", "output_every", "control", "primary", "endpoints", "variables",
              "biomarkers", "calibration", "chunk", "regimen_search")
ENDPOINT_KEYS = ("readout", "weeks", "after_week", "cleared_within", "harm") + KINDS
DEFAULT_BIOMARKERS = ("CRP", "TNF", "IL6", "IL17", "IFNg", "AutoAb", "Treg_Teff_ratio")
MAX_SIZE = 10_000_000


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
    regimen_search: object = None   # immunesim.cohort.regimens.RegimenSearch

    def times(self) -> np.ndarray:
        """Output times (days): every ``output_every`` from baseline, every endpoint week."""
        end = self.baseline + 7.0 * self.weeks
        grid = set(np.round(np.arange(self.baseline, end + 1e-9, self.output_every), 9))
        grid.add(round(end, 9))
        for ep in self.endpoints:
            grid.update(round(self.baseline + 7.0 * w, 9) for w in ep.weeks)
        return np.array(sorted(grid))


def _number(v, path, problems, lo=-np.inf, hi=np.inf, open_lo=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) \
            or v < lo or v > hi or (open_lo and v <= lo):
        rng = f"({lo:g}, {hi:g}]" if open_lo else f"[{lo:g}, {hi:g}]"
        problems.append(f"{path}: expected a number in {rng}, got {v!r}")
        return None
    return float(v)


def _distribution(raw, path, problems) -> Distribution | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in DISTRIBUTIONS:
        problems.append(f"{path}: expected one of {{lognormal: CV}}, {{lognormal: {{cv, median}}}}, "
                        f"{{normal: [mean, sd]}}, {{uniform: [low, high]}}; got {raw!r}")
        return None
    kind, arg = next(iter(raw.items()))
    if kind == LOGNORMAL:
        if isinstance(arg, Mapping):
            from ..scenario.schema import _unknown

            _unknown(arg, ("cv", "median"), f"{path}.lognormal.", problems)
            cv = _number(arg.get("cv"), f"{path}.lognormal.cv", problems, 0.0, 10.0)
            med = arg.get("median")
            med = None if med is None else _number(med, f"{path}.lognormal.median", problems, 0.0, open_lo=True)
            return None if cv is None else Distribution(kind, med, cv)
        cv = _number(arg, f"{path}.lognormal", problems, 0.0, 10.0)
        return None if cv is None else Distribution(kind, None, cv)
    if not isinstance(arg, list) or len(arg) != 2:
        problems.append(f"{path}.{kind}: expected [{'mean, sd' if kind == NORMAL else 'low, high'}], got {arg!r}")
        return None
    a = _number(arg[0], f"{path}.{kind}[0]", problems)
    b = _number(arg[1], f"{path}.{kind}[1]", problems)
    if a is None or b is None:
        return None
    if kind == NORMAL and b < 0:
        problems.append(f"{path}.normal: sd must be >= 0, got {b:g}")
        return None
    if kind == UNIFORM and not b > a:
        problems.append(f"{path}.uniform: high must exceed low, got [{a:g}, {b:g}]")
        return None
    return Distribution(kind, a, b)


def validate_population(raw, mdata, variable_names, problems) -> Population | None:
    """The ``population`` block, or None (problems appended, each with its field path)."""
    from ..diseases.covariates import COVARIATES
    from ..scenario.schema import _mapping, _not_one_of, _unknown

    if raw is None:
        return None
    pop = _mapping(raw, "population", problems)
    _unknown(pop, POP_KEYS, "population.", problems)
    size = pop.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        problems.append(f"population.size: expected an integer 1..{MAX_SIZE}, got {size!r}")
        size = None
    maxc = pop.get("max_candidates")
    if maxc is not None and (isinstance(maxc, bool) or not isinstance(maxc, int) or maxc < 1):
        problems.append(f"population.max_candidates: expected a positive integer, got {maxc!r}")
        maxc = None
    params = {p["name"]: p for p in mdata["parameters"]} if mdata else {}
    dists = {}
    for name, spec in _mapping(pop.get("parameters"), "population.parameters", problems).items():
        if mdata and name not in params:
            problems.append(f"population.parameters.{name}: not a parameter of the model; "
                            + _not_one_of(name, params, "see `immunesim list parameters DISEASE`"))
            continue
        d = _distribution(spec, f"population.parameters.{name}", problems)
        if d is not None:
            dists[name] = d
    corr = pop.get("correlation")
    if corr is not None:
        k = len(pop.get("parameters") or {})
        try:
            R = np.array(corr, dtype=float)
            if R.shape != (k, k):
                raise ValueError(f"shape {R.shape}, expected ({k}, {k}): one row per listed parameter")
            if not np.allclose(R, R.T) or not np.allclose(np.diag(R), 1.0) or np.any(np.abs(R) > 1):
                raise ValueError("must be symmetric with ones on the diagonal and entries in [-1, 1]")
            np.linalg.cholesky(R)
            corr = tuple(map(tuple, R.tolist()))
        except np.linalg.LinAlgError:
            problems.append("population.correlation: not positive definite")
            corr = None
        except (TypeError, ValueError) as exc:
            problems.append(f"population.correlation: {exc}")
            corr = None
    cov = _mapping(pop.get("covariates"), "population.covariates", problems)
    _unknown(cov, COV_KEYS, "population.covariates.", problems)
    weight = _distribution(cov["body_weight"], "population.covariates.body_weight", problems) \
        if "body_weight" in cov else None
    age = _distribution(cov["age"], "population.covariates.age", problems) if "age" in cov else None
    female = 0.5
    if "sex" in cov:
        sex = cov["sex"]
        if not isinstance(sex, Mapping) or set(sex) != {"female"}:
            problems.append(f"population.covariates.sex: expected {{female: fraction}}, got {sex!r}")
        else:
            female = _number(sex["female"], "population.covariates.sex.female", problems, 0.0, 1.0) or 0.0
    genotypes = {}
    alleles = [k for k, v in COVARIATES.items() if v["kind"] == "multiply_parameter"]
    for name, p in _mapping(cov.get("genotypes"), "population.covariates.genotypes", problems).items():
        if name not in alleles:
            problems.append(f"population.covariates.genotypes.{name}: not an allele-count covariate; "
                            + _not_one_of(name, alleles, f"allowed: {', '.join(alleles)}"))
            continue
        v = _number(p, f"population.covariates.genotypes.{name}", problems, 0.0, 1.0)
        if v is not None:
            genotypes[name] = v
    effects = []
    raw_eff = pop.get("covariate_effects") or []
    if not isinstance(raw_eff, list):
        problems.append(f"population.covariate_effects: expected a list, got {raw_eff!r}")
        raw_eff = []
    for i, e in enumerate(raw_eff):
        path = f"population.covariate_effects[{i}]"
        if not isinstance(e, Mapping) or "parameter" not in e or len(e) != 2:
            problems.append(f"{path}: expected {{parameter, female: f}}, {{parameter, age: {{per_decade, "
                            f"reference}}}} or {{parameter, body_weight: {{exponent, reference}}}}; got {e!r}")
            continue
        name = e["parameter"]
        if mdata and name not in params:
            problems.append(f"{path}.parameter: '{name}' is not a parameter of the model")
            continue
        (cov_name, arg), = [(k, v) for k, v in e.items() if k != "parameter"]
        if cov_name == "female":
            f = _number(arg, f"{path}.female", problems, 0.0, open_lo=True)
            if f is not None:
                effects.append(CovariateEffect(name, "sex", f))
        elif cov_name in ("age", "body_weight"):
            keys = ("per_decade", "reference") if cov_name == "age" else ("exponent", "reference")
            if not isinstance(arg, Mapping) or set(arg) != set(keys):
                problems.append(f"{path}.{cov_name}: expected {{{', '.join(keys)}}}, got {arg!r}")
                continue
            f = _number(arg[keys[0]], f"{path}.{cov_name}.{keys[0]}", problems,
                        0.0 if cov_name == "age" else -10.0, 10.0, open_lo=cov_name == "age")
            ref = _number(arg["reference"], f"{path}.{cov_name}.reference", problems, 0.0, open_lo=True)
            if f is not None and ref is not None:
                effects.append(CovariateEffect(name, "age" if cov_name == "age" else "body_weight", f, ref))
        else:
            problems.append(f"{path}: unknown covariate '{cov_name}'; allowed: female, age, body_weight")
    constraints = []
    raw_c = pop.get("constraints") or []
    if not isinstance(raw_c, list):
        problems.append(f"population.constraints: expected a list, got {raw_c!r}")
        raw_c = []
    for i, c in enumerate(raw_c):
        con = _constraint(c, f"population.constraints[{i}]", variable_names, problems)
        if con is not None:
            constraints.append(con)
    if size is None:
        return None
    return Population(size=size, parameters=dists, correlation=corr, body_weight=weight, age=age,
                      female=female, genotypes=genotypes, effects=tuple(effects),
                      constraints=tuple(constraints), max_candidates=maxc)


def _constraint(c, path, names, problems) -> Constraint | None:
    from ..scenario.schema import _not_one_of

    if not isinstance(c, Mapping) or "readout" not in c or len(c) != 2 \
            or not ({"above", "below", "between"} & set(c)):
        problems.append(f"{path}: expected {{readout, above: x}}, {{readout, below: x}} or "
                        f"{{readout, between: [low, high]}}; got {c!r}")
        return None
    r = c["readout"]
    if names and r not in names:
        problems.append(f"{path}.readout: '{r}' is not a variable of the model; "
                        + _not_one_of(r, names, "see `immunesim list variables DISEASE`"))
        return None
    if "between" in c:
        b = c["between"]
        if not isinstance(b, list) or len(b) != 2:
            problems.append(f"{path}.between: expected [low, high], got {b!r}")
            return None
        lo, hi = _number(b[0], f"{path}.between[0]", problems), _number(b[1], f"{path}.between[1]", problems)
        if lo is None or hi is None:
            return None
        if not hi > lo:
            problems.append(f"{path}.between: high must exceed low, got {b!r}")
            return None
        return Constraint(r, lo, hi)
    key = "above" if "above" in c else "below"
    v = _number(c[key], f"{path}.{key}", problems)
    if v is None:
        return None
    return Constraint(r, low=v) if key == "above" else Constraint(r, high=v)


def validate_trial(raw, arms: dict, names, times, problems) -> Trial | None:
    """The ``trial`` block (needs ``arms``), or None."""
    from ..scenario.schema import _days, _mapping, _not_one_of, _unknown

    if raw is None:
        return None
    tr = _mapping(raw, "trial", problems)
    _unknown(tr, TRIAL_KEYS, "trial.", problems)
    search = None
    if tr.get("regimen_search") is not None:      # adds the grid's arms to `arms`
        from ..scenario.schema import _therapies
        from .regimens import expand

        search = expand(tr["regimen_search"], arms, times, problems, _therapies)
    if not arms:
        problems.append("trial: needs arms (a mapping of arm name: therapies; [] for placebo)")
        return None
    baseline = _days(tr.get("baseline", 0.0), "trial.baseline", problems, positive=False)
    weeks = _number(tr.get("weeks", 52), "trial.weeks", problems, 0.0, 520.0, open_lo=True)
    every = _days(tr.get("output_every", "1 w"), "trial.output_every", problems)
    control = tr.get("control", next(iter(arms)))
    if control not in arms:
        problems.append(f"trial.control: '{control}' is not an arm; arms: {', '.join(arms)}")
    for arm, spec in arms.items():
        if baseline is not None:
            for k, reg in enumerate(spec["therapies"]):
                first = min(reg.dose_times()) if reg.dose_times() else reg.start
                if first < baseline - 1e-9:
                    problems.append(f"arms.{arm}[{k}].start: the first dose (day {first:g}) is before "
                                    f"trial.baseline (day {baseline:g}); the run-in is untreated")
    endpoints = []
    for name, spec in _mapping(tr.get("endpoints"), "trial.endpoints", problems).items():
        ep = _endpoint(str(name), spec, f"trial.endpoints.{name}", names, weeks, problems)
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
    variables = _names(tr.get("variables"), "trial.variables", names, problems)
    biomarkers = _names(tr.get("biomarkers"), "trial.biomarkers", names, problems)
    if biomarkers is None:
        biomarkers = tuple(b for b in DEFAULT_BIOMARKERS if b in names)
    cal = []
    raw_cal = tr.get("calibration") or []
    if not isinstance(raw_cal, list):
        problems.append(f"trial.calibration: expected a list of {{arm, endpoint, week, rate}}, got {raw_cal!r}")
        raw_cal = []
    by_name = {e.name: e for e in endpoints}
    for i, c in enumerate(raw_cal):
        path = f"trial.calibration[{i}]"
        if not isinstance(c, Mapping) or set(c) != {"arm", "endpoint", "week", "rate"}:
            problems.append(f"{path}: expected {{arm, endpoint, week, rate}}, got {c!r}")
            continue
        if c["arm"] not in arms:
            problems.append(f"{path}.arm: '{c['arm']}' is not an arm; " + _not_one_of(c["arm"], arms, ""))
            continue
        ep = by_name.get(c["endpoint"])
        if ep is None or ep.time_to_event:
            problems.append(f"{path}.endpoint: '{c['endpoint']}' is not a responder endpoint of trial.endpoints")
            continue
        week = _number(c["week"], f"{path}.week", problems, 0.0)
        rate = _number(c["rate"], f"{path}.rate", problems, 0.0, 1.0)
        if week is not None and week not in ep.weeks and ep.kind != CHALLENGE:
            problems.append(f"{path}.week: {week:g} is not one of {c['endpoint']}'s weeks {list(ep.weeks)}")
            continue
        if week is not None and rate is not None:
            cal.append({"arm": c["arm"], "endpoint": ep.name, "week": week, "rate": rate})
    chunk = tr.get("chunk", 512)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < BLOCK or chunk % BLOCK:
        problems.append(f"trial.chunk: expected a positive multiple of {BLOCK} (candidates per chunk), got {chunk!r}")
        chunk = 512
    if search is not None:
        from .regimens import check

        check(search, endpoints, problems)
    if None in (baseline, weeks, every) or control not in arms:
        return None
    if times is not None and baseline + 7 * weeks > times[-1] + 1e-6:
        problems.append(f"trial.weeks: baseline (day {baseline:g}) + {weeks:g} weeks runs past time.end "
                        f"(day {times[-1]:g}); lengthen time.end")
    return Trial(baseline=baseline, weeks=weeks, output_every=every, control=control,
                 primary=primary, endpoints=tuple(endpoints), variables=variables or (),
                 biomarkers=biomarkers, calibration=tuple(cal), chunk=chunk,
                 regimen_search=search)


def _names(raw, path, names, problems):
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        problems.append(f"{path}: expected a list of variable names, got {raw!r}")
        return None
    from ..scenario.schema import _not_one_of

    for i, x in enumerate(raw):
        if x not in names:
            problems.append(f"{path}[{i}]: '{x}' is not a variable; "
                            + _not_one_of(x, names, "see `immunesim list variables DISEASE`"))
    return tuple(raw)


def _endpoint(name, spec, path, names, weeks_total, problems) -> Endpoint | None:
    from ..scenario.schema import _days, _not_one_of, _unknown

    if not isinstance(spec, Mapping):
        problems.append(f"{path}: expected a mapping like {{readout: DAS28_CRP, improvement: 0.2, weeks: [24]}}")
        return None
    _unknown(spec, ENDPOINT_KEYS, f"{path}.", problems)
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        problems.append(f"{path}: give exactly one of {', '.join(KINDS)}; got {kinds or 'none'}")
        return None
    kind = kinds[0]
    value = _number(spec[kind], f"{path}.{kind}", problems,
                    0.0 if kind in ("improvement", CHALLENGE) else -np.inf,
                    1.0 if kind == "improvement" else np.inf)
    if kind == CHALLENGE:
        within = _days(spec.get("cleared_within", "14 d"), f"{path}.cleared_within", problems)
        if value is None or within is None:
            return None
        if weeks_total is not None and value >= weeks_total:
            problems.append(f"{path}.challenge_week: {value:g} is not within the trial's {weeks_total:g} weeks")
            return None
        return Endpoint(name, kind, value, "Pathogen", (value,), cleared_within=within)
    readout = spec.get("readout")
    if readout is None or (names and readout not in names):
        problems.append(f"{path}.readout: {'required' if readout is None else repr(readout) + ' is not a variable'}; "
                        + _not_one_of(readout, names, "see `immunesim list variables DISEASE`"))
        return None
    if kind == "flare_above":
        after = _number(spec.get("after_week", 0), f"{path}.after_week", problems, 0.0)
        return None if value is None or after is None else Endpoint(name, kind, value, readout, (),
                                                                    after_week=after)
    w = spec.get("weeks")
    if not isinstance(w, list) or not w or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in w):
        problems.append(f"{path}.weeks: expected a list of weeks > 0 after baseline, got {w!r}")
        return None
    if weeks_total is not None and max(w) > weeks_total:
        problems.append(f"{path}.weeks: week {max(w):g} is after the trial's end (week {weeks_total:g})")
        return None
    harm = spec.get("harm", False)
    if not isinstance(harm, bool):
        problems.append(f"{path}.harm: expected true or false, got {harm!r}")
        return None
    return None if value is None else Endpoint(name, kind, value, readout, tuple(float(x) for x in w),
                                               harm=harm)
