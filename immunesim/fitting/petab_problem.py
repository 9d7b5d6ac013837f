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
- each simulation condition runs from t = 0 to its last measurement time on the problem's
  kernel tier (``Problem.kernels``: the generic kernels, nothing to compile, for one
  evaluation; a fit that repays a compile runs the model's own specialised kernels,
  :func:`fit_kernels`) at rtol 1e-10, atol 1e-14 (tighter than the reference's solver, so the
  simulation error does not reach the objective's 1e-3);
- a measurement's observable and noise parameters (``observableParameters``,
  ``noiseParameters``: numbers or parameter table ids, ``;``-separated) fill the formulas'
  ``observableParameter{n}_{observableId}`` and ``noiseParameter{n}_{observableId}``.

The negative log-likelihood of a measurement ``y`` with simulated ``m`` and noise ``s``
(PEtab v1): normal ``0.5 log(2 pi s^2) + 0.5 ((y - m)/s)^2``; Laplace ``log(2 s) + |y - m|/s``;
with ``log``/``log10`` transformations the residual is taken between the transformed values
and ``log(y)`` (``log(y ln 10)`` for log10) is added, the density's change of variable.

Priors (``objectivePriorType``/``objectivePriorParameters``, or the older ``priorType``/
``priorParameters``) are :func:`log_prior`: the fit minimises ``nllh - log prior`` (the negative
log posterior); ``--evaluate`` reports the likelihood alone, as PEtab's reference values are.

Not supported yet, refused by name: preequilibration, several models.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ExpressionError, ImmunesimError, ModelError
from ..model.expr import evaluate as evaluate_expression
from ..model.expr import from_sympy, parse
from ..model.sbml import load_sbml
from ..simulate import simulate

RTOL, ATOL = 1e-10, 1e-14
SCALES = ("lin", "log", "log10")
#: the kernel tiers a problem may run on (:attr:`Problem.kernels`)
FIT_KERNELS = ("generic", "specialised")
#: :func:`fit_kernels`: a fit is worth its own kernels (a compile of ~30-40 s per model
#: structure, cached on disk) from this many objective evaluations (starts x iterations) ...
SPECIALISE_EVALUATIONS = 2000
#: ... and this many sensitivity equations (species x (1 + estimated parameters)) per solve
SPECIALISE_STATES = 50


class PetabError(ImmunesimError, ValueError):
    """A PEtab problem that cannot be read or evaluated; ``problems`` holds one line each."""


@dataclass
class Problem:
    """A PEtab problem as read: the petab library's ``Problem``, its SBML text, and where its
    YAML is."""

    petab: object
    sbml: str
    path: Path
    kernels: str = "generic"       # the conditions' kernel tier (FIT_KERNELS)
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

    @property
    def estimated(self) -> list[str]:
        """The ids of the parameters to estimate (``estimate`` = 1), in table order."""
        df = self.petab.parameter_df
        return [pid for pid in df.index if int(df.loc[pid, "estimate"]) == 1]

    @property
    def scales(self) -> dict[str, str]:
        df = self.petab.parameter_df
        return {pid: str(df.loc[pid, "parameterScale"]) for pid in df.index}

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each parameter's (lower, upper) bound, linear scale."""
        df = self.petab.parameter_df
        return {pid: (float(df.loc[pid, "lowerBound"]), float(df.loc[pid, "upperBound"]))
                for pid in df.index}

    def formulas(self) -> dict:
        """Observable id -> (observable formula, noise formula, transformation, distribution),
        parsed once by the petab library's own parser."""
        if "formulas" not in self._models:
            from petab.v1.math import sympify_petab   # the petab library's formula parser

            odf = self.petab.observable_df
            out = {}
            for oid in odf.index:
                row = odf.loc[oid]
                out[oid] = (_Formula(sympify_petab(row["observableFormula"]),
                                     f"observable {oid}"),
                            _Formula(sympify_petab(row["noiseFormula"]), f"noise of {oid}"),
                            str(row.get("observableTransformation", "lin") or "lin"),
                            str(row.get("noiseDistribution", "normal") or "normal"))
            self._models["formulas"] = out
        return self._models["formulas"]


def load_problem(path, kernels: str = "generic") -> Problem:
    """Read a PEtab v1 problem (its YAML file) with the petab library. ``kernels``: the tier its
    simulations run on, ``"generic"`` (nothing to compile) or ``"specialised"`` (the model's own
    kernels: compiled once per model structure and cached on disk; several times faster per
    gradient on the benchmark problems)."""
    if kernels not in FIT_KERNELS:
        raise PetabError(f"kernels: expected one of {', '.join(FIT_KERNELS)}, got {kernels!r}")
    try:
        import petab.v1       # heavy (pandas, SymPy, ANTLR): only when a problem is read
    except ImportError:
        raise PetabError("PEtab problems need the petab library: pip install "
                         "'immunesim[fit]'") from None
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
    for col in ("time", "measurement"):
        values = pd_numeric(mdf[col]) if col in mdf else None
        if values is None or not np.all(np.isfinite(values)):
            raise PetabError(f"{path}: the measurement table's {col} column must hold finite "
                             "numbers in every row")
    if np.any(pd_numeric(mdf["time"]) < 0):
        raise PetabError(f"{path}: a measurement time is negative")
    bad = sorted(set(problem.parameter_df["parameterScale"]) - set(SCALES))
    if bad:
        raise PetabError(f"{path}: parameterScale {bad}; allowed {', '.join(SCALES)}")
    return Problem(petab=problem, sbml=sbml_path.read_text(), path=path, kernels=kernels)


def fit_kernels(problem: Problem, n_evaluations: int) -> str:
    """The kernel tier a fit of about ``n_evaluations`` objective and gradient evaluations
    should run on: ``"specialised"`` where it repays the compile (at least
    :data:`SPECIALISE_EVALUATIONS` evaluations of a system of at least
    :data:`SPECIALISE_STATES` states with its sensitivities), else ``"generic"``. A rule of the
    problem's size, not of a timing, so a fit's tier (and with it its rounding) does not depend
    on the machine. Measured (``benchmarks/fit.py``, 2026-12-07, 2 cores): objective and
    gradient 0.47 s generic against 0.088 s specialised on Fujita, 0.079 s against 0.063 s on
    Boehm; the small decay problem of the tests stays generic."""
    cid = str(problem.petab.measurement_df["simulationConditionId"].iloc[0])
    model, _, _ = _condition_model(problem, cid, problem.petab.condition_df, problem.nominal())
    states = len(model.species_names) * (1 + len(problem.estimated))
    big = n_evaluations >= SPECIALISE_EVALUATIONS and states >= SPECIALISE_STATES
    return "specialised" if big else "generic"


def pd_numeric(column) -> np.ndarray | None:
    """A table column as floats, or None where an entry is not a number."""
    try:
        return np.asarray(column, dtype=float)
    except (TypeError, ValueError):
        return None


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


def analytic_scalings(problem: Problem) -> list[str]:
    """The estimated parameters whose best value given all the others has a closed form: scaling
    factors of observables (Weber et al. 2011, doi:10.1186/1471-2105-12-247; Loos et al. 2018,
    doi:10.1093/bioinformatics/bty514, "hierarchical optimisation").

    A parameter qualifies where it enters the likelihood only through measurements'
    ``observableParameters``, each time in the place of a placeholder that the observable's
    formula multiplies (``formula = placeholder * g``, g free of it), with ``lin`` transformation,
    ``normal`` noise whose formula does not read it, and no other such parameter in the same
    measurement; it is not a model, condition, formula or noise symbol and has no prior. The nllh
    is then a convex quadratic in it: the optimum ``sum(g y / s^2) / sum(g^2 / s^2)``, clipped to
    the bounds, is exact (:func:`evaluate` ``optimal_scalings=``)."""
    if "scalings" in problem._models:
        return problem._models["scalings"]
    import libsbml   # compiled; loaded with SBML work only

    sbml = libsbml.readSBMLFromString(problem.sbml).getModel()
    obs = problem.formulas()
    cdf = problem.petab.condition_df
    named = {str(v).strip() for v in cdf.to_numpy().ravel()} if cdf is not None else set()
    named |= set(cdf.columns) if cdf is not None else set()
    for formula, noise, _, _ in obs.values():
        named |= set(formula.names) | set(noise.names)
    mdf = problem.petab.measurement_df
    for entry in (mdf["noiseParameters"] if "noiseParameters" in mdf else []):
        named |= set(_tokens(entry))
    with_prior = set(priors(problem))
    candidates = {p for p in problem.estimated
                  if p not in named and p not in with_prior and sbml.getElementBySId(p) is None}
    bad, used = set(), set()
    for row in mdf.itertuples(index=False):
        toks = _tokens(getattr(row, "observableParameters", None))
        here = [(n, t) for n, t in enumerate(toks, start=1) if t in candidates]
        if not here:
            continue
        formula, noise, transformation, distribution = obs[row.observableId]
        ok = len(here) == 1 and transformation == "lin" and distribution == "normal"
        for n, tok in here:
            ph = f"observableParameter{n}_{row.observableId}"
            used.add(tok)
            ok = ok and ph not in noise.names and _is_factor(formula, ph) \
                and sum(t == tok for t in toks) == 1
        if not ok:
            bad |= {t for _, t in here}
    out = [p for p in problem.estimated if p in used and p not in bad]
    problem._models["scalings"] = out
    return out


def _is_factor(formula: "_Formula", name: str) -> bool:
    """Whether ``formula`` is ``name * g`` with g free of ``name`` (SymPy)."""
    if name not in formula.names:
        return False
    import sympy

    sym = next(x for x in formula.expr.free_symbols if str(x) == name)
    g = formula.expr.diff(sym)
    return sym not in g.free_symbols and sympy.simplify(formula.expr - sym * g) == 0


def _measurement_env(row, run: "_Run", pt: dict) -> tuple[dict, int]:
    """``(env, k)`` for one measurement row: the model's symbols at the row's time (index ``k``
    of ``run.times``), the table's values ``pt``, and the row's observable and noise
    placeholders filled from its overrides."""
    oid = row.observableId
    k = int(np.searchsorted(run.times, float(row.time)))
    env = {name: float(v[k]) for name, v in run.series.items()}
    env.update(pt)
    for prefix, column in (("observableParameter", "observableParameters"),
                           ("noiseParameter", "noiseParameters")):
        for n, v in enumerate(_overrides(getattr(row, column, None), pt,
                                         f"measurement of {oid}"), start=1):
            env[f"{prefix}{n}_{oid}"] = v
    return env, k


def evaluate(problem: Problem, params: dict | None = None, *, gradient: bool = False,
             rtol: float = RTOL, atol: float = ATOL, optimal_scalings=()) -> dict:
    """The negative log-likelihood at ``params`` (parameter table id -> linear value; default:
    the nominal values), with the number of measurements and the simulations' statuses.
    ``rtol``, ``atol``: the simulations' tolerances (default :data:`RTOL`, :data:`ATOL`).

    ``gradient=True`` adds ``fim`` (the expected Fisher information matrix on the parameters'
    scales, in ``problem.estimated`` order: a positive semi-definite Gauss-Newton approximation
    of the nllh's Hessian) and ``grad``: the derivative of the nllh with respect to each estimated
    parameter on its own scale (``parameterScale``: ``d/d log10(theta)`` for a log10
    parameter), from forward sensitivities (:func:`immunesim.simulate` ``sensitivities=``)
    through the observable and noise formulas (their SymPy derivatives) and the noise model.
    The start values' derivatives (initial assignments that read the parameters) are exact
    (:meth:`~immunesim.model.sbml.SBMLModel.start_slopes`).

    ``optimal_scalings``: ids of :func:`analytic_scalings` to set to their best values given
    the others (their values in ``params`` are not used); ``scalings`` in the result holds
    those values (linear). The gradient is then the partial one at them, which is the total
    derivative of the nllh minimised over them (they are optimal, or held at a bound)."""
    pt = problem.nominal()
    pt.update(params or {})
    mdf = problem.petab.measurement_df
    obs = problem.formulas()
    est = problem.estimated if gradient else []
    total, statuses = 0.0, {}
    grad = np.zeros(len(est))
    fim = np.zeros((len(est), len(est)))
    runs = {}
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        runs[cid] = run = _run_condition(problem, cid, pt, est, tolerances=(rtol, atol))
        statuses[cid] = run.message
        if run.series is None:
            return {"nllh": math.inf, "n_measurements": problem.n_measurements,
                    "statuses": statuses} | ({"grad": dict.fromkeys(est, math.nan)}
                                             if gradient else {})
    if optimal_scalings:
        pt.update(_optimal_scalings(problem, list(optimal_scalings), runs, pt))
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        run = runs[cid]
        for row in rows.itertuples(index=False):
            oid = row.observableId
            formula, noise, transformation, distribution = obs[oid]
            env, k = _measurement_env(row, run, pt)
            m, sd = formula(env), noise(env)
            y = float(row.measurement)
            total += nllh_term(y, m, sd, transformation, distribution)
            if not gradient:
                continue
            dm_dm, dsd = _term_slopes(y, m, sd, transformation, distribution)
            refs = {}         # placeholder -> the table parameter it stands for
            for prefix, entry in (("observableParameter", getattr(row, "observableParameters",
                                                                  None)),
                                  ("noiseParameter", getattr(row, "noiseParameters", None))):
                for n, tok in enumerate(_tokens(entry), start=1):
                    if tok in pt:
                        refs[f"{prefix}{n}_{oid}"] = tok
            dm = np.array([formula.total(env, theta, run.dseries[j] if run.dseries else {}, k,
                                         refs) for j, theta in enumerate(est)])
            ds = np.array([noise.total(env, theta, run.dseries[j] if run.dseries else {}, k,
                                       refs) for j, theta in enumerate(est)])
            grad += dm_dm * dm + dsd * ds
            # the expected Fisher information of this measurement (normal: location 1/s^2 and
            # scale 2/s^2; Laplace: 1/s^2 and 1/s^2), on the transformed scale of m
            dmt = 1.0 if transformation == "lin" else 1.0 / (
                m * (1.0 if transformation == "log" else math.log(10.0)))
            w_s = 2.0 if distribution == "normal" else 1.0
            fim += (dmt * dmt * np.outer(dm, dm) + w_s * np.outer(ds, ds)) / (sd * sd)
    out = {"nllh": total, "n_measurements": problem.n_measurements, "statuses": statuses}
    if optimal_scalings:
        out["scalings"] = {p: pt[p] for p in optimal_scalings}
    if gradient:
        scale = problem.scales
        d = np.array([_scale_factor(scale[theta], pt[theta]) for theta in est])
        out["grad"] = {theta: float(grad[j] * d[j]) for j, theta in enumerate(est)}
        out["fim"] = fim * np.outer(d, d)
    return out


def _optimal_scalings(problem: Problem, ids: list, runs: dict, pt: dict) -> dict:
    """The best value of each scaling in ``ids`` (:func:`analytic_scalings`) given the
    simulations ``runs`` and the other values ``pt``: ``sum(g y / s^2) / sum(g^2 / s^2)`` over
    its measurements (g: the observable with the scaling at 1), clipped to its bounds."""
    unknown = sorted(set(ids) - set(analytic_scalings(problem)))
    if unknown:
        raise PetabError(f"optimal_scalings: {', '.join(unknown)} is not a scaling factor "
                         "with a closed-form optimum (see analytic_scalings)")
    obs = problem.formulas()
    num, den = dict.fromkeys(ids, 0.0), dict.fromkeys(ids, 0.0)
    mdf = problem.petab.measurement_df
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        run = runs[cid]
        for row in rows.itertuples(index=False):
            toks = _tokens(getattr(row, "observableParameters", None))
            mine = [(n, t) for n, t in enumerate(toks, start=1) if t in num]
            if not mine:
                continue
            oid = row.observableId
            formula, noise = obs[oid][:2]
            env, _ = _measurement_env(row, run, pt)
            (n, pid), = mine
            env[f"observableParameter{n}_{oid}"] = 1.0
            g, sd = formula(env), noise(env)
            num[pid] += g * float(row.measurement) / (sd * sd)
            den[pid] += g * g / (sd * sd)
    bounds, out = problem.bounds(), {}
    for pid in ids:
        lo, hi = bounds[pid]
        best = num[pid] / den[pid] if den[pid] > 0 and math.isfinite(num[pid] / den[pid]) \
            else pt[pid]              # no information on it: the objective does not depend on it
        out[pid] = min(max(best, lo), hi)
    return out


PRIORS = ("uniform", "normal", "laplace", "logNormal", "logLaplace", "parameterScaleUniform",
          "parameterScaleNormal", "parameterScaleLaplace")


def priors(problem: Problem) -> dict:
    """Estimated parameter id -> (prior type, (a, b)) for those with an objective prior."""
    df = problem.petab.parameter_df
    out = {}
    for type_col, par_col in (("objectivePriorType", "objectivePriorParameters"),
                              ("priorType", "priorParameters")):
        if type_col not in df:
            continue
        for pid in problem.estimated:
            kind = df.loc[pid, type_col]
            if pid in out or not isinstance(kind, str) or not kind.strip():
                continue
            kind = kind.strip()
            if kind not in PRIORS:
                raise PetabError(f"parameter {pid}: {type_col} {kind!r}; allowed "
                                 f"{', '.join(PRIORS)}")
            try:
                a, b = (float(x) for x in str(df.loc[pid, par_col]).split(";"))
            except (TypeError, ValueError, KeyError):
                raise PetabError(f"parameter {pid}: {par_col} must be two numbers 'a;b', got "
                                 f"{df.loc[pid, par_col] if par_col in df else None!r}") from None
            out[pid] = (kind, (a, b))
    return out


def log_prior(problem: Problem, params: dict, curvature: dict | None = None) -> tuple[float, dict]:
    """``(log prior density, its derivative on each parameter's scale)`` at ``params``
    (linear values; PEtab v1 priors: the ``parameterScale*`` kinds act on the parameter's
    scale, the others on its linear value, ``log*`` on its natural log). ``curvature``, when
    given, receives each normal prior's Fisher information on the parameter's scale."""
    total, grad = 0.0, {}
    scales = problem.scales
    for pid, (kind, (a, b)) in priors(problem).items():
        x = params[pid]
        scale = scales[pid]
        if kind.startswith("parameterScale"):
            u = {"lin": x, "log": math.log(x), "log10": math.log10(x)}[scale]
            du = 1.0                                  # d u / d (parameter on its scale)
            base = kind[len("parameterScale"):].lower()
        elif kind.startswith("log"):
            u, du = math.log(x), _scale_factor(scale, x) / x
            base = kind[3:].lower()
            total -= u                                # density of x: 1/x times that of log x
            grad[pid] = grad.get(pid, 0.0) - du
        else:
            u, du, base = x, _scale_factor(scale, x), kind
        if base == "uniform":
            inside = a <= u <= b
            total += -math.log(b - a) if inside else -math.inf
        elif base == "normal":
            total += -0.5 * math.log(2 * math.pi * b * b) - 0.5 * ((u - a) / b) ** 2
            grad[pid] = grad.get(pid, 0.0) - (u - a) / (b * b) * du
            if curvature is not None:
                curvature[pid] = du * du / (b * b)
        else:                                         # laplace
            total += -math.log(2 * b) - abs(u - a) / b
            grad[pid] = grad.get(pid, 0.0) - math.copysign(1.0, u - a) / b * du
    return total, grad


def _scale_factor(scale: str, value: float) -> float:
    """d theta / d (theta on ``scale``)."""
    return {"lin": 1.0, "log": value, "log10": value * math.log(10.0)}[scale]


def _tokens(entry) -> list[str]:
    if entry is None or (isinstance(entry, float) and math.isnan(entry)):
        return []
    if isinstance(entry, (int, float, np.floating, np.integer)):
        return []
    return [x.strip() for x in str(entry).split(";") if x.strip()]


def _term_slopes(y, m, sd, transformation, distribution) -> tuple[float, float]:
    """(d term / d m, d term / d sd) of :func:`nllh_term`."""
    if transformation in ("log", "log10"):
        if not (y > 0 and m > 0):
            return math.nan, math.nan
        scale = math.log if transformation == "log" else math.log10
        dmt = 1.0 / (m * (1.0 if transformation == "log" else math.log(10.0)))
        r = scale(y) - scale(m)
    else:
        dmt, r = 1.0, y - m
    if distribution == "normal":
        return -r / sd**2 * dmt, 1.0 / sd - r * r / sd**3
    return -math.copysign(1.0, r) / sd * dmt if r != 0 else 0.0, 1.0 / sd - abs(r) / sd**2


class _Formula:
    """An observable's or noise formula, as the petab library parsed it (SymPy), evaluated in
    immunesim's expression language where it can be written there (about 100x faster than
    SymPy's substitution), else by substitution; neither runs code."""

    def __init__(self, expr, what: str):
        self.expr, self.what = expr, what
        self._d = {}
        self.names = sorted(str(s) for s in expr.free_symbols)
        try:
            self.parsed = parse(from_sympy(expr), what)
        except ExpressionError:
            self.parsed = None

    def derivative(self, name: str) -> "_Formula":
        """The formula's partial derivative with respect to symbol ``name`` (SymPy's)."""
        if name not in self._d:
            sym = next(x for x in self.expr.free_symbols if str(x) == name)
            self._d[name] = _Formula(self.expr.diff(sym), f"d({self.what})/d{name}")
        return self._d[name]

    def total(self, env: dict, theta: str, dseries: dict, k: int, refs: dict) -> float:
        """d formula / d theta at ``env``: through the model's symbols (``dseries``: symbol ->
        d value / d theta over time, at index ``k``), theta itself where the formula names it,
        and the measurement's placeholders that stand for theta (``refs``)."""
        out = 0.0
        for name in self.names:
            if name == theta or refs.get(name) == theta:
                slope = 1.0
            elif name in dseries and name not in refs:
                slope = float(dseries[name][k])
            else:
                continue
            if slope != 0.0:
                out += self.derivative(name)(env) * slope
        return out

    def __call__(self, env: dict) -> float:
        missing = [n for n in self.names if n not in env]
        if missing:
            raise PetabError(f"{self.what}: {', '.join(missing)} is not a symbol of the model, "
                             "the parameter table or the measurement's overrides")
        if self.parsed is not None:
            return evaluate_expression(self.parsed, {n: env[n] for n in self.names})
        return float(self.expr.subs({s: env[str(s)] for s in self.expr.free_symbols}))


@dataclass
class _Run:
    """One condition's simulation: its ``times``, ``series`` (SBML id -> values over times; None
    where the simulation failed), and per estimated parameter ``dseries`` (SBML id -> d values /
    d parameter)."""

    times: np.ndarray
    series: dict | None
    dseries: list
    message: str


def simulate_conditions(problem: Problem, params: dict | None = None,
                        n_points: int = 200) -> list[dict]:
    """The observables simulated at ``params`` (id -> linear value; default nominal) on a fine
    time grid, with their data: one dict per (observable, condition) measured, with
    ``observable``, ``condition``, ``t`` and ``value`` (the curve; the first measurement's
    observable parameters), ``data_t``, ``data`` and ``sd`` (the noise at each data point)."""
    pt = problem.nominal()
    pt.update(params or {})
    mdf = problem.petab.measurement_df
    obs = problem.formulas()
    out = []
    for cid, rows in mdf.groupby("simulationConditionId", sort=False):
        t_end = float(rows["time"].max())
        grid = np.linspace(0.0, t_end if t_end > 0 else 1e-9, n_points)
        run = _run_condition(problem, cid, pt, [], extra_times=grid)
        if run.series is None:
            continue
        for oid, orows in rows.groupby("observableId", sort=False):
            formula, noise, _, _ = obs[oid]
            first = orows.iloc[0]
            env0 = dict(pt)
            for n, v in enumerate(_overrides(first.get("observableParameters"), pt,
                                             f"measurement of {oid}"), start=1):
                env0[f"observableParameter{n}_{oid}"] = v
            curve = []
            for t in grid:
                k = int(np.searchsorted(run.times, t))
                env = {name: float(v[k]) for name, v in run.series.items()} | env0
                curve.append(formula(env))
            sds = []
            for row in orows.itertuples(index=False):
                sds.append(noise(_measurement_env(row, run, pt)[0]))
            out.append({"observable": oid, "condition": cid, "t": grid,
                        "value": np.array(curve), "data_t": orows["time"].to_numpy(float),
                        "data": orows["measurement"].to_numpy(float), "sd": np.array(sds)})
    return out


def _run_condition(problem: Problem, cid: str, pt: dict, est: list, extra_times=None,
                   tolerances=(RTOL, ATOL)) -> _Run:
    cdf, mdf = problem.petab.condition_df, problem.petab.measurement_df
    rows = mdf[mdf["simulationConditionId"] == cid]
    model, params, y0 = _condition_model(problem, cid, cdf, pt)
    times = np.unique(np.concatenate([[0.0], rows["time"].to_numpy(dtype=float),
                                      [] if extra_times is None else extra_times]))
    if times.size < 2:
        times = np.array([0.0, max(times[-1], 1e-9)])
    directions, slopes = [], None
    if est:
        if params is None:
            raise PetabError(f"condition {cid}: the gradient needs a start that can be "
                             "re-evaluated (the model has a fast reaction or rateOf)")
        full = _start_slopes(problem, cid, cdf, pt, est, model)   # (n_p + n_y, n_est)
        nonzero = np.flatnonzero(np.any(full != 0.0, axis=1))
        names = list(model.parameter_names) + list(model.species_names)
        directions = [names[i] for i in nonzero]
        slopes = full[nonzero]
    r = simulate(model, times, params=params, y0=y0, rtol=tolerances[0], atol=tolerances[1],
                 kernels=problem.kernels, on_failure="flag", sensitivities=directions or None)
    if not r.ok:
        return _Run(times, None, [], str(r.message))
    symbols = model.sbml.symbols
    series, where = {}, {}
    index = {n: i for i, n in enumerate(r.variables)}
    Y = np.asarray(r.dataset["y"].values, dtype=float)     # time x variable, read once
    for sid, sym in symbols.items():         # each symbol's value (as model.values(r, sid))
        if sym.role != "inline" and sym.kind in ("species", "parameter", "compartment"):
            series[sid] = Y[:, index[sym.name]] if sym.name in index else np.full(
                times.size, model.parameters[model.parameter_index[sym.name]].value)
            where[sid] = sym.name
    for sid, sym in symbols.items():      # the run's parameter values, not the import's
        if sym.role == "parameter" and params is not None and sym.name in params:
            series[sid] = np.full(times.size, params[sym.name])
    dseries = []
    if est:
        S = r.sensitivities.values if directions else np.zeros((times.size, len(index), 0))
        dS = S @ slopes                                       # time x variable x n_est
        p_index = model.parameter_index
        for j in range(len(est)):
            d = {}
            for sid, name in where.items():
                if name in index:
                    d[sid] = dS[:, index[name], j]
                elif name in p_index:
                    d[sid] = np.full(times.size, full[p_index[name], j])
            dseries.append(d)
    return _Run(times, series, dseries, str(r.message))


def _start_slopes(problem: Problem, cid: str, cdf, pt: dict, est: list, model) -> np.ndarray:
    """d (p, y0) / d theta for the estimated parameters ``est`` (rows: the model's parameters
    then its species; columns: ``est``): exact, by the chain rule through the initial
    assignments (:meth:`~immunesim.model.sbml.SBMLModel.start_slopes`); by central differences
    of the start map (relative step 1e-6) where a derivative cannot be written."""
    values, _ = _start_values(problem, cid, cdf, pt, model)
    sets = {theta: [sid for sid, tok in _start_tokens(problem, cid, cdf, pt, model).items()
                    if tok == theta] for theta in est}
    wrt = sorted({sid for sids in sets.values() for sid in sids})
    n_p = len(model.parameter_names)
    out = np.zeros((n_p + len(model.species_names), len(est)))
    try:
        dy0, dp = model.start_slopes(values, wrt) if wrt else (None, None)
    except ModelError:
        return _start_differences(problem, cid, cdf, pt, est, model)
    for j, theta in enumerate(est):
        for sid in sets[theta]:
            k = wrt.index(sid)
            out[:n_p, j] += dp[:, k]
            out[n_p:, j] += dy0[:, k]
    return out


def _start_differences(problem: Problem, cid: str, cdf, pt: dict, est: list, model) -> np.ndarray:
    n_p = len(model.parameter_names)
    out = np.zeros((n_p + len(model.species_names), len(est)))
    for j, theta in enumerate(est):
        v = pt[theta]
        h = 1e-6 * abs(v) if v != 0 else 1e-9
        hi = _condition_model(problem, cid, cdf, {**pt, theta: v + h})
        lo = _condition_model(problem, cid, cdf, {**pt, theta: v - h})
        for part, off in ((1, 0), (2, n_p)):     # (model, params, y0): params, then y0
            va, vb = (np.array(list(x[part].values())) for x in (hi, lo))
            out[off:off + va.size, j] = (va - vb) / (2.0 * h)
    return out


def _start_tokens(problem: Problem, cid: str, cdf, pt: dict, model) -> dict:
    """SBML id -> the parameter table id whose value the start sets it to (the table's own
    parameters, and the condition's columns that name one)."""
    recipe = model.start_recipe
    numbers, refs = _condition_entries(cid, cdf, pt)
    out = {pid: pid for pid in pt
           if pid in recipe.t0 and pid not in recipe.fixed and pid not in numbers}
    cells = dict(_condition_cells(cid, cdf))
    for col in refs:
        out[col] = str(cells[col]).strip()
    return out


def _start_values(problem: Problem, cid: str, cdf, pt: dict, model) -> tuple[dict, dict]:
    """(SBML id -> value set in the start, the condition's numbers)."""
    recipe = model.start_recipe
    numbers, refs = _condition_entries(cid, cdf, pt)
    values = {pid: v for pid, v in pt.items()
              if pid in recipe.t0 and pid not in recipe.fixed and pid not in numbers}
    return {**values, **refs}, numbers


def _condition_entries(cid: str, cdf, pt: dict) -> tuple[dict, dict]:
    """The condition's columns: (SBML id -> number, SBML id -> value of the table parameter
    it names)."""
    numbers, refs = {}, {}
    for col, raw in _condition_cells(cid, cdf):
        try:
            numbers[col] = float(raw)
        except (TypeError, ValueError):
            refs[col] = _value(raw, pt, f"condition {cid}, column {col}")
    return numbers, refs


_CELLS: dict = {}


def _condition_cells(cid: str, cdf) -> list:
    """The condition's set cells ``(column, raw value)`` (not conditionName, not NaN: the
    model's own value), read from the table once per table (a fit reads them thousands of
    times)."""
    key = (id(cdf), cid)
    hit = _CELLS.get(key)
    if hit is None or hit[0] is not cdf:
        cells = []
        if cid in cdf.index:
            for col in cdf.columns:
                raw = cdf.loc[cid, col]
                if col != "conditionName" and not (isinstance(raw, float) and math.isnan(raw)):
                    cells.append((col, raw))
        hit = _CELLS[key] = (cdf, cells)
    return hit[1]


def _condition_model(problem: Problem, cid: str, cdf, pt: dict):
    """``(model, params, y0)`` for condition ``cid`` at the table's values ``pt``: the SBML model
    imported once per condition with the condition's numbers set, and the table's parameters
    and the condition's parameter references set in its start
    (:meth:`~immunesim.model.sbml.SBMLModel.start`: initial assignments re-evaluated, no new
    import)."""
    numbers, refs = _condition_entries(cid, cdf, pt)
    if cid not in problem._models:
        problem._models[cid] = load_sbml(problem.sbml, values=numbers, report_rates=False)
    model = problem._models[cid]
    if model.start_recipe is None:     # a start that cannot be re-evaluated: import with them
        model = load_sbml(problem.sbml, values={**numbers, **refs, **_settable(problem, pt)},
                          report_rates=False)
        return model, None, None
    values, _ = _start_values(problem, cid, cdf, pt, model)
    y0, p = model.start(values)
    return model, dict(zip(model.parameter_names, p)), dict(zip(model.species_names, y0))


def _settable(problem: Problem, pt: dict) -> dict:
    """The table's values of the SBML model's parameters that the document may set."""
    import libsbml   # compiled; loaded with SBML work only

    m = libsbml.readSBMLFromString(problem.sbml).getModel()
    return {pid: v for pid, v in pt.items()
            if m.getParameter(pid) is not None and m.getInitialAssignment(pid) is None
            and not (m.getRule(pid) is not None and m.getRule(pid).isAssignment())}
