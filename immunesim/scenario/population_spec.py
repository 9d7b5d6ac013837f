"""Validation of a scenario's ``population`` block (see :mod:`immunesim.scenario.trial_spec` for the
whole trial scenario, and :mod:`immunesim.scenario.population` for what each field means)."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..diseases.covariates import COVARIATES
from ..limits import MAX_POPULATION
from ..validation import as_list, check_keys, clip, did_you_mean, mapping, number
from .endpoints import Constraint
from .population import (
    DISTRIBUTIONS,
    LOGNORMAL,
    NORMAL,
    UNIFORM,
    CovariateEffect,
    Distribution,
    Population,
)

POP_KEYS = ("size", "max_candidates", "parameters", "correlation", "covariates",
            "covariate_effects", "constraints", "background")
COV_KEYS = ("body_weight", "age", "sex", "genotypes")
MAX_SIZE = MAX_POPULATION




def _distribution(raw, path, problems) -> Distribution | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in DISTRIBUTIONS:
        problems.append(f"{path}: expected one of {{lognormal: CV}}, {{lognormal: {{cv, median}}}}, "
                        f"{{normal: [mean, sd]}}, {{uniform: [low, high]}}; got {clip(raw)}")
        return None
    kind, arg = next(iter(raw.items()))
    if kind == LOGNORMAL:
        if isinstance(arg, Mapping):

            check_keys(arg, ("cv", "median"), f"{path}.lognormal.", problems)
            cv = number(arg.get("cv"), f"{path}.lognormal.cv", problems, 0.0, 10.0)
            med = arg.get("median")
            med = None if med is None else number(med, f"{path}.lognormal.median", problems, 0.0, open_lo=True)
            return None if cv is None else Distribution(kind, med, cv)
        cv = number(arg, f"{path}.lognormal", problems, 0.0, 10.0)
        return None if cv is None else Distribution(kind, None, cv)
    if not isinstance(arg, list) or len(arg) != 2:
        problems.append(f"{path}.{kind}: expected [{'mean, sd' if kind == NORMAL else 'low, high'}], got {clip(arg)}")
        return None
    a = number(arg[0], f"{path}.{kind}[0]", problems)
    b = number(arg[1], f"{path}.{kind}[1]", problems)
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

    if raw is None:
        return None
    pop = mapping(raw, "population", problems)
    check_keys(pop, POP_KEYS, "population.", problems)
    size = pop.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        problems.append(f"population.size: expected an integer 1..{MAX_SIZE}, got {clip(size)}")
        size = None
    maxc = pop.get("max_candidates")
    if maxc is not None and (isinstance(maxc, bool) or not isinstance(maxc, int) or maxc < 1):
        problems.append(f"population.max_candidates: expected a positive integer, got {clip(maxc)}")
        maxc = None
    params = {p["name"]: p for p in mdata["parameters"]} if mdata else {}
    dists = {}
    for name, spec in mapping(pop.get("parameters"), "population.parameters", problems).items():
        if mdata and name not in params:
            problems.append(f"population.parameters.{name}: not a parameter of the model; "
                            + did_you_mean(name, params, "see `immunesim list parameters DISEASE`"))
            continue
        d = _distribution(spec, f"population.parameters.{name}", problems)
        if d is not None:
            dists[name] = d
    corr = pop.get("correlation")
    if corr is not None:
        raw_params = pop.get("parameters")
        k = len(raw_params) if isinstance(raw_params, Mapping) else 0
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
        except (TypeError, ValueError, OverflowError) as exc:
            problems.append(f"population.correlation: {str(exc)[:200]}")
            corr = None
    cov = mapping(pop.get("covariates"), "population.covariates", problems)
    check_keys(cov, COV_KEYS, "population.covariates.", problems)
    weight = _distribution(cov["body_weight"], "population.covariates.body_weight", problems) \
        if "body_weight" in cov else None
    age = _distribution(cov["age"], "population.covariates.age", problems) if "age" in cov else None
    female = 0.5
    if "sex" in cov:
        sex = cov["sex"]
        if not isinstance(sex, Mapping) or set(sex) != {"female"}:
            problems.append(f"population.covariates.sex: expected {{female: fraction}}, got {clip(sex)}")
        else:
            female = number(sex["female"], "population.covariates.sex.female", problems, 0.0, 1.0) or 0.0
    genotypes = {}
    alleles = [k for k, v in COVARIATES.items() if v["kind"] == "multiply_parameter"]
    for name, p in mapping(cov.get("genotypes"), "population.covariates.genotypes", problems).items():
        if name not in alleles:
            problems.append(f"population.covariates.genotypes.{name}: not an allele-count covariate; "
                            + did_you_mean(name, alleles, f"allowed: {', '.join(alleles)}"))
            continue
        v = number(p, f"population.covariates.genotypes.{name}", problems, 0.0, 1.0)
        if v is not None:
            genotypes[name] = v
    effects = []
    for i, e in enumerate(as_list(pop.get("covariate_effects"), "population.covariate_effects", problems)):
        path = f"population.covariate_effects[{i}]"
        if not isinstance(e, Mapping) or "parameter" not in e or len(e) != 2:
            problems.append(f"{path}: expected {{parameter, female: f}}, {{parameter, age: {{per_decade, "
                            f"reference}}}} or {{parameter, body_weight: {{exponent, reference}}}}; got {clip(e)}")
            continue
        name = e["parameter"]
        if mdata and name not in params:
            problems.append(f"{path}.parameter: '{name}' is not a parameter of the model")
            continue
        (cov_name, arg), = [(k, v) for k, v in e.items() if k != "parameter"]
        if cov_name == "female":
            f = number(arg, f"{path}.female", problems, 0.0, open_lo=True)
            if f is not None:
                effects.append(CovariateEffect(name, "sex", f))
        elif cov_name in ("age", "body_weight"):
            keys = ("per_decade", "reference") if cov_name == "age" else ("exponent", "reference")
            if not isinstance(arg, Mapping) or set(arg) != set(keys):
                problems.append(f"{path}.{cov_name}: expected {{{', '.join(keys)}}}, got {clip(arg)}")
                continue
            f = number(arg[keys[0]], f"{path}.{cov_name}.{keys[0]}", problems,
                        0.0 if cov_name == "age" else -10.0, 10.0, open_lo=cov_name == "age")
            ref = number(arg["reference"], f"{path}.{cov_name}.reference", problems, 0.0, open_lo=True)
            if f is not None and ref is not None:
                effects.append(CovariateEffect(name, "age" if cov_name == "age" else "body_weight", f, ref))
        else:
            problems.append(f"{path}: unknown covariate '{cov_name}'; allowed: female, age, body_weight")
    constraints = []
    for i, c in enumerate(as_list(pop.get("constraints"), "population.constraints", problems)):
        con = _constraint(c, f"population.constraints[{i}]", variable_names, problems)
        if con is not None:
            constraints.append(con)
    if size is None:
        return None
    return Population(size=size, parameters=dists, correlation=corr, body_weight=weight, age=age,
                      female=female, genotypes=genotypes, effects=tuple(effects),
                      constraints=tuple(constraints), max_candidates=maxc)


def _constraint(c, path, names, problems) -> Constraint | None:

    if not isinstance(c, Mapping) or "readout" not in c or len(c) != 2 \
            or not ({"above", "below", "between"} & set(c)):
        problems.append(f"{path}: expected {{readout, above: x}}, {{readout, below: x}} or "
                        f"{{readout, between: [low, high]}}; got {clip(c)}")
        return None
    r = c["readout"]
    if names and r not in names:
        problems.append(f"{path}.readout: '{r}' is not a variable of the model; "
                        + did_you_mean(r, names, "see `immunesim list variables DISEASE`"))
        return None
    if "between" in c:
        b = c["between"]
        if not isinstance(b, list) or len(b) != 2:
            problems.append(f"{path}.between: expected [low, high], got {clip(b)}")
            return None
        lo, hi = number(b[0], f"{path}.between[0]", problems), number(b[1], f"{path}.between[1]", problems)
        if lo is None or hi is None:
            return None
        if not hi > lo:
            problems.append(f"{path}.between: high must exceed low, got {clip(b)}")
            return None
        return Constraint(r, lo, hi)
    key = "above" if "above" in c else "below"
    v = number(c[key], f"{path}.{key}", problems)
    if v is None:
        return None
    return Constraint(r, low=v) if key == "above" else Constraint(r, high=v)
