"""PEtab (format version 1) problems: read with the petab library, their negative
log-likelihood computed on immunesim's kernels.

A PEtab problem is an SBML model with tables: conditions (values set per experiment),
observables (formulas of the model's symbols, with noise formulas, transformations and noise
distributions), measurements, and parameters (scales, bounds, nominal values). The tables are
read and checked by the petab library (``petab.Problem.from_yaml``; its formula parser builds
SymPy expressions with its own ANTLR grammar, nothing is executed), and the formulas are
evaluated by substitution into those expressions.

How a problem is simulated here:

- each condition's numbers are set in the SBML document before it is imported, once per
  condition (:func:`immunesim.model.sbml.load_sbml` ``values=``); the parameter table's values
  and the condition's references to them are set in the imported model's start
  (:meth:`~immunesim.model.sbml.SBMLModel.start`), so initial assignments see them, as PEtab
  says, without importing again for each parameter vector;
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

Not supported yet, refused by name: preequilibration, several models; priors are read but
not added to the objective.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ExpressionError, ImmunesimError
from ..model.expr import evaluate as evaluate_expression
from ..model.expr import from_sympy, parse
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
        obs[oid] = (_Formula(sympify_petab(row["observableFormula"]), f"observable {oid}"),
                    _Formula(sympify_petab(row["noiseFormula"]), f"noise of {oid}"),
                    str(row.get("observableTransformation", "lin") or "lin"),
                    str(row.get("noiseDistribution", "normal") or "normal"))
    total, statuses = 0.0, {}
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        model, params, y0 = _condition_model(problem, cid, cdf, pt)
        times = np.unique(np.concatenate([[0.0], rows["time"].to_numpy(dtype=float)]))
        if times.size < 2:
            times = np.array([0.0, max(times[-1], 1e-9)])
        r = simulate(model, times, params=params, y0=y0, rtol=RTOL, atol=ATOL, kernels="generic",
                     on_failure="flag")
        statuses[cid] = r.message
        if not r.ok:
            return {"nllh": math.inf, "n_measurements": problem.n_measurements,
                    "statuses": statuses}
        symbols = model.sbml.symbols
        series = {sid: model.values(r, sid) for sid, s in symbols.items()
                  if s.role != "inline" and s.kind in ("species", "parameter", "compartment")}
        for sid, s in symbols.items():      # the run's parameter values, not the import's
            if s.role == "parameter" and params is not None and s.name in params:
                series[sid] = np.full(times.size, params[s.name])
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
            m, s = formula(env), noise(env)
            total += nllh_term(float(row["measurement"]), m, s, transformation, distribution)
    return {"nllh": total, "n_measurements": problem.n_measurements, "statuses": statuses}


class _Formula:
    """An observable's or noise formula, as the petab library parsed it (SymPy), evaluated in
    immunesim's expression language where it can be written there (about 100x faster than
    SymPy's substitution), else by substitution; neither runs code."""

    def __init__(self, expr, what: str):
        self.expr, self.what = expr, what
        self.names = sorted(str(s) for s in expr.free_symbols)
        try:
            self.parsed = parse(from_sympy(expr), what)
        except ExpressionError:
            self.parsed = None

    def __call__(self, env: dict) -> float:
        missing = [n for n in self.names if n not in env]
        if missing:
            raise PetabError(f"{self.what}: {', '.join(missing)} is not a symbol of the model, "
                             "the parameter table or the measurement's overrides")
        if self.parsed is not None:
            return evaluate_expression(self.parsed, {n: env[n] for n in self.names})
        return float(self.expr.subs({s: env[str(s)] for s in self.expr.free_symbols}))


def _condition_model(problem: Problem, cid: str, cdf, pt: dict):
    """``(model, params, y0)`` for condition ``cid`` at the table's values ``pt``: the SBML model
    imported once per condition with the condition's numbers set, and the table's parameters
    and the condition's parameter references set in its start
    (:meth:`~immunesim.model.sbml.SBMLModel.start`: initial assignments re-evaluated, no new
    import)."""
    numbers, refs = {}, {}
    if cid in cdf.index:
        for col in cdf.columns:
            raw = cdf.loc[cid, col]
            if col == "conditionName" or (isinstance(raw, float) and math.isnan(raw)):
                continue                                 # NaN: the model's own value
            try:
                numbers[col] = float(raw)
            except (TypeError, ValueError):
                refs[col] = _value(raw, pt, f"condition {cid}, column {col}")
    if cid not in problem._models:
        problem._models[cid] = load_sbml(problem.sbml, values=numbers, report_rates=False)
    model = problem._models[cid]
    recipe = model.start_recipe
    if recipe is None:                 # a start that cannot be re-evaluated: import with them
        model = load_sbml(problem.sbml, values={**numbers, **refs, **_settable(problem, pt)},
                          report_rates=False)
        return model, None, None
    values = {pid: v for pid, v in pt.items()
              if pid in recipe.t0 and pid not in recipe.fixed and pid not in numbers}
    y0, p = model.start({**values, **refs})
    return model, dict(zip(model.parameter_names, p)), dict(zip(model.species_names, y0))


def _settable(problem: Problem, pt: dict) -> dict:
    """The table's values of the SBML model's parameters that the document may set."""
    import libsbml   # compiled; loaded with SBML work only

    m = libsbml.readSBMLFromString(problem.sbml).getModel()
    return {pid: v for pid, v in pt.items()
            if m.getParameter(pid) is not None and m.getInitialAssignment(pid) is None
            and not (m.getRule(pid) is not None and m.getRule(pid).isAssignment())}
