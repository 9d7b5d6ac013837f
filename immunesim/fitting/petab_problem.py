"""PEtab (format version 1) problems: read with the petab library, their negative
log-likelihood computed on immunesim's kernels.

A PEtab problem is an SBML model with tables: conditions (values set per experiment),
observables (formulas of the model's symbols, with noise formulas, transformations and noise
distributions), measurements, and parameters (scales, bounds, nominal values). The tables are
read and checked by the petab library (``petab.Problem.from_yaml``; its formula parser builds
SymPy expressions with its own ANTLR grammar, nothing is executed), and the formulas are
evaluated by substitution into those expressions.

How a problem is simulated here:

- every parameter of the parameter table that is a parameter of the SBML model, and every value
  a condition sets (a number, or a parameter table id), is set in the SBML document before it is
  imported (:func:`immunesim.model.sbml.load_sbml` ``values=``), so initial assignments see
  them, as PEtab says;
- each simulation condition runs from t = 0 to its last measurement time on the generic kernels
  at rtol 1e-10, atol 1e-14 (tighter than the reference's solver, so the simulation error does
  not reach the objective's 1e-3);
- a measurement's observable and noise parameters (``observableParameters``,
  ``noiseParameters``: numbers or parameter table ids, ``;``-separated) fill the formulas'
  ``observableParameter{n}_{observableId}`` and ``noiseParameter{n}_{observableId}``.

The negative log-likelihood of a measurement ``y`` with simulated ``m`` and noise ``s``
(PEtab v1): normal ``0.5 log(2 pi s^2) + 0.5 ((y - m)/s)^2``; Laplace ``log(2 s) + |y - m|/s``;
with ``log``/``log10`` transformations the residual is taken between the transformed values
and ``log(y)`` (``log(y ln 10)`` for log10) is added, the density's change of variable.

Not supported yet, refused by name: preequilibration, several models, priors in the objective
(a problem's prior columns are read but not added), and condition tables that set compartments
or species to a parameter whose value is estimated (they are set by value, which is exact for
evaluation).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ImmunesimError
from ..model.sbml import load_sbml
from ..simulate import simulate

RTOL, ATOL = 1e-10, 1e-14
SCALES = ("lin", "log", "log10")


class PetabError(ImmunesimError, ValueError):
    """A PEtab problem that cannot be read or evaluated; ``problems`` holds one line each."""


@dataclass
class Problem:
    """A PEtab problem as read: the petab library's ``Problem``, its SBML text, and where its
    YAML is."""

    petab: object
    sbml: str
    path: Path
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def parameter_ids(self) -> list[str]:
        return list(self.petab.parameter_df.index)

    def nominal(self) -> dict[str, float]:
        """Every parameter of the table at its nominal value (linear scale, as PEtab v1 keeps
        ``nominalValue``)."""
        df = self.petab.parameter_df
        return {pid: float(df.loc[pid, "nominalValue"]) for pid in df.index}

    @property
    def n_measurements(self) -> int:
        return int(len(self.petab.measurement_df))


def load_problem(path) -> Problem:
    """Read a PEtab v1 problem (its YAML file) with the petab library."""
    import petab.v1           # heavy (pandas, SymPy, ANTLR): only when a problem is read
    import yaml

    path = Path(path)
    if not path.is_file():
        raise PetabError(f"{path}: no such file")
    try:
        config = yaml.safe_load(path.read_text())
        with warnings.catch_warnings():      # the library's own deprecations (pandas' API)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            problem = petab.v1.Problem.from_yaml(str(path))
    except Exception as exc:  # noqa: BLE001 - the library's errors are of many kinds; say which
        raise PetabError(f"{path}: not a readable PEtab problem ({type(exc).__name__}: "
                         f"{str(exc)[:300]})") from None
    if str(config.get("format_version")) != "1":
        raise PetabError(f"{path}: format_version {config.get('format_version')!r}; "
                         "PEtab version 1 problems are read")
    parts = config.get("problems") or []
    if len(parts) != 1 or len(parts[0].get("sbml_files") or []) != 1:
        raise PetabError(f"{path}: one problem with one SBML model is supported")
    sbml_path = path.parent / parts[0]["sbml_files"][0]
    mdf = problem.measurement_df
    if "preequilibrationConditionId" in mdf and mdf["preequilibrationConditionId"].notna().any() \
            and (mdf["preequilibrationConditionId"].astype(str).str.strip() != "").any():
        raise PetabError(f"{path}: preequilibration is not supported yet")
    bad = sorted(set(problem.parameter_df["parameterScale"]) - set(SCALES))
    if bad:
        raise PetabError(f"{path}: parameterScale {bad}; allowed {', '.join(SCALES)}")
    return Problem(petab=problem, sbml=sbml_path.read_text(), path=path)


def _value(token, params: dict, where: str) -> float:
    """A table entry: a number, or the id of a parameter of the table."""
    if isinstance(token, (int, float, np.floating, np.integer)) and not isinstance(token, bool):
        return float(token)
    text = str(token).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text in params:
        return params[text]
    raise PetabError(f"{where}: {text!r} is neither a number nor a parameter of the table")


def _overrides(entry, params: dict, where: str) -> list[float]:
    """``observableParameters`` / ``noiseParameters`` of a measurement: ``;``-separated."""
    if entry is None or (isinstance(entry, float) and math.isnan(entry)):
        return []
    if isinstance(entry, (int, float, np.floating, np.integer)):
        return [float(entry)]
    return [_value(x, params, where) for x in str(entry).split(";") if x.strip()]


def nllh_term(y: float, m: float, sigma: float, transformation: str, distribution: str) -> float:
    """One measurement's negative log-likelihood (PEtab v1; see the module docstring)."""
    extra = 0.0
    if transformation in ("log", "log10"):
        if not (y > 0 and m > 0):
            return math.inf
        scale = math.log if transformation == "log" else math.log10
        extra = math.log(y) + (math.log(math.log(10.0)) if transformation == "log10" else 0.0)
        y, m = scale(y), scale(m)
    elif transformation != "lin":
        raise PetabError(f"observableTransformation {transformation!r}; allowed lin, log, log10")
    if not sigma > 0:
        return math.inf
    if distribution == "normal":
        return 0.5 * math.log(2.0 * math.pi * sigma * sigma) + 0.5 * ((y - m) / sigma) ** 2 + extra
    if distribution == "laplace":
        return math.log(2.0 * sigma) + abs(y - m) / sigma + extra
    raise PetabError(f"noiseDistribution {distribution!r}; allowed normal, laplace")


def evaluate(problem: Problem, params: dict | None = None) -> dict:
    """The negative log-likelihood at ``params`` (parameter table id -> linear value; default:
    the nominal values), with the number of measurements and the simulations' statuses."""
    from petab.v1.math import sympify_petab   # the petab library's own formula parser

    pt = problem.nominal()
    pt.update(params or {})
    cdf, odf, mdf = (problem.petab.condition_df, problem.petab.observable_df,
                     problem.petab.measurement_df)
    obs = {}
    for oid in odf.index:
        row = odf.loc[oid]
        obs[oid] = (sympify_petab(row["observableFormula"]), sympify_petab(row["noiseFormula"]),
                    str(row.get("observableTransformation", "lin") or "lin"),
                    str(row.get("noiseDistribution", "normal") or "normal"))
    total, statuses = 0.0, {}
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        model = _condition_model(problem, cid, cdf, pt)
        times = np.unique(np.concatenate([[0.0], rows["time"].to_numpy(dtype=float)]))
        if times.size < 2:
            times = np.array([0.0, max(times[-1], 1e-9)])
        r = simulate(model, times, rtol=RTOL, atol=ATOL, kernels="generic", on_failure="flag")
        statuses[cid] = r.message
        if not r.ok:
            return {"nllh": math.inf, "n_measurements": problem.n_measurements,
                    "statuses": statuses}
        symbols = model.sbml.symbols
        series = {sid: model.values(r, sid) for sid, s in symbols.items()
                  if s.role != "inline" and s.kind in ("species", "parameter", "compartment")}
        for _, row in rows.iterrows():
            oid = row["observableId"]
            formula, noise, transformation, distribution = obs[oid]
            k = int(np.searchsorted(times, float(row["time"])))
            env = {name: float(v[k]) for name, v in series.items()}
            env.update(pt)
            for n, v in enumerate(_overrides(row.get("observableParameters"), pt,
                                             f"measurement of {oid}"), start=1):
                env[f"observableParameter{n}_{oid}"] = v
            for n, v in enumerate(_overrides(row.get("noiseParameters"), pt,
                                             f"measurement of {oid}"), start=1):
                env[f"noiseParameter{n}_{oid}"] = v
            m = _substitute(formula, env, f"observable {oid}")
            s = _substitute(noise, env, f"noise of {oid}")
            total += nllh_term(float(row["measurement"]), m, s, transformation, distribution)
    return {"nllh": total, "n_measurements": problem.n_measurements, "statuses": statuses}


def _substitute(expr, env: dict, what: str) -> float:
    """A SymPy expression's value with every symbol from ``env`` (by substitution, no code)."""
    missing = sorted(str(s) for s in expr.free_symbols if str(s) not in env)
    if missing:
        raise PetabError(f"{what}: {', '.join(missing)} is not a symbol of the model, the "
                         "parameter table or the measurement's overrides")
    return float(expr.subs({s: env[str(s)] for s in expr.free_symbols}))


def _condition_model(problem: Problem, cid: str, cdf, pt: dict):
    """The SBML model with the table's parameters and condition ``cid``'s values set (cached
    per set of values)."""
    import libsbml   # compiled; loaded with SBML work only

    doc = libsbml.readSBMLFromString(problem.sbml)
    m = doc.getModel()
    values = {pid: v for pid, v in pt.items()
              if m.getParameter(pid) is not None and m.getInitialAssignment(pid) is None
              and not (m.getRule(pid) is not None and m.getRule(pid).isAssignment())}
    if cid in cdf.index:
        for col in cdf.columns:
            if col == "conditionName":
                continue
            raw = cdf.loc[cid, col]
            if isinstance(raw, float) and math.isnan(raw):
                continue                                 # NaN: the model's own value
            values[col] = _value(raw, pt, f"condition {cid}, column {col}")
    key = tuple(sorted(values.items()))
    if key not in problem._models:
        if len(problem._models) > 64:
            problem._models.clear()
        problem._models[key] = load_sbml(problem.sbml, values=values, report_rates=False)
    return problem._models[key]
