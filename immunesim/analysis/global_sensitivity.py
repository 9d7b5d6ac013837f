"""Global (and local) sensitivity of a scenario's outputs to its parameters:
``immunesim sensitivity SCENARIO -o OUTDIR`` with a ``sensitivity:`` block
(:mod:`immunesim.scenario.sensitivity_spec`).

Sampling and indices are SALib's (Herman & Usher 2017, doi:10.21105/joss.00097; Iwanaga et al.
2022, doi:10.18174/sesmo.18155):

- ``sobol``: Saltelli's extension of Sobol' sequences (``SALib.sample.sobol``, N (D + 2) runs,
  or N (2 D + 2) with ``second_order``) and Sobol' first-order and total indices ``S1``, ``ST``
  (and ``S2`` for each pair, rows ``a:b``) with bootstrap 95 % confidence intervals
  (``SALib.analyze.sobol``);
- ``morris``: elementary effects on a 4-level grid, ``mu``, ``mu_star`` (with its bootstrap
  interval) and ``sigma``;
- ``fast``: the extended Fourier amplitude sensitivity test, ``S1`` and ``ST``;
- ``local``: normalised derivatives ``(p / y) dy/dp`` at the scenario's values, from forward
  sensitivities (:func:`immunesim.simulate` ``sensitivities=``), no sampling.

Every sample is one virtual run of the scenario (its therapies, its solver settings) with the
sampled parameter values, run through the batched kernels (:func:`immunesim.simulate_batch`)
in chunks, so memory stays bounded by the chunk and not by the number of runs. Outputs are a
variable's value at a time, a variable's time integral over the run (trapezoid on the
scenario's output times), or a responder status (1/0): an improvement from a baseline time, or
a value below a threshold, as a trial's endpoints define them.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..scenario.build import scenario_events, scenario_model, solver_options
from ..scenario.sbml_source import patient_starts
from ..scenario.schema import Scenario
from ..simulate import simulate, simulate_batch

#: runs per batch: the trajectories of one chunk are held in memory at once
CHUNK = 2048


@dataclass
class SensitivityResult:
    """``names``/``bounds`` of the parameters, ``X`` (runs x parameters), ``Y`` (runs x outputs,
    ``outputs`` their names), ``rows`` (one per output and parameter: the indices), the
    ``method``, the runs that failed (``failed``: run index -> message) and the wall time."""

    method: str
    names: list
    bounds: list
    outputs: list
    X: np.ndarray
    Y: np.ndarray
    rows: list
    failed: dict
    wall_s: float
    samples: int
    seed: int


def _problem(spec: dict) -> dict:
    names = list(spec["ranges"])
    return {"num_vars": len(names), "names": names,
            "bounds": [list(spec["ranges"][n]) for n in names]}


def sample(spec: dict) -> np.ndarray:
    """The parameter samples of ``spec``'s method (runs x parameters), seeded."""
    problem, n, seed = _problem(spec), spec["samples"], spec["seed"]
    method = spec["method"]
    if method == "sobol":
        from SALib.sample import sobol as s

        return s.sample(problem, n, calc_second_order=spec.get("second_order", False), seed=seed)
    if method == "morris":
        from SALib.sample import morris as s

        return s.sample(problem, n, num_levels=4, seed=seed)
    if method == "fast":
        from SALib.sample import fast_sampler as s

        return s.sample(problem, n, M=4, seed=seed)
    raise ValueError(method)


def _times(scenario: Scenario) -> np.ndarray:
    t = set(float(x) for x in scenario.times)
    for o in scenario.sensitivity["outputs"]:
        for key in ("at", "from"):
            if o.get(key) is not None:
                t.add(float(o[key]))
    return np.array(sorted(t))


def outputs_of(scenario: Scenario, t: np.ndarray, variables: list, y: np.ndarray) -> np.ndarray:
    """The outputs (runs x outputs) from trajectories ``y`` (runs x times x variables)."""
    col = {n: i for i, n in enumerate(variables)}
    grid = np.isin(t, np.asarray(scenario.times, dtype=float))
    out = np.empty((y.shape[0], len(scenario.sensitivity["outputs"])))
    for j, o in enumerate(scenario.sensitivity["outputs"]):
        v = y[:, :, col[o["variable"]]]
        if o["kind"] == "auc":
            out[:, j] = np.trapezoid(v[:, grid], t[grid], axis=1)
            continue
        k = int(np.searchsorted(t, o["at"]))
        if o["kind"] == "value":
            out[:, j] = v[:, k]
        elif o["kind"] == "below":
            out[:, j] = np.where(np.isfinite(v[:, k]), (v[:, k] < o["threshold"]) * 1.0, np.nan)
        else:
            b = v[:, int(np.searchsorted(t, o["from"]))]
            with np.errstate(divide="ignore", invalid="ignore"):
                change = np.where(b > 0, (b - v[:, k]) / b, 0.0)
            out[:, j] = np.where(np.isfinite(v[:, k]) & np.isfinite(b),
                                 (change >= o["threshold"] - 1e-12) * 1.0, np.nan)
    return out


def run_sensitivity(scenario: Scenario, *, progress=None, say=None,
                    threads: int | None = None) -> SensitivityResult:
    """Sample, simulate and analyse ``scenario``'s ``sensitivity:`` block."""
    spec = scenario.sensitivity
    if spec is None:
        raise InputError(f"scenario '{scenario.name}' has no sensitivity: block (see immunesim "
                         "sensitivity --help)")
    started = time.perf_counter()
    say = say or (lambda m: None)
    model = scenario_model(scenario)
    events = scenario_events(scenario)
    t = _times(scenario)
    names = list(spec["ranges"])
    bounds = [spec["ranges"][n] for n in names]
    outputs = [o["name"] for o in spec["outputs"]]
    solver = solver_options(scenario, model)
    if spec["method"] == "local":
        return _local(scenario, model, events, t, names, bounds, outputs, solver, started)
    X = sample(spec)
    n = X.shape[0]
    unit = {"day": "days", "1": "time units"}.get(scenario.time_unit, f"{scenario.time_unit}s")
    say(f"{spec['method']}: {n} runs of {len(names)} parameters ({t[-1] - t[0]:g} {unit} "
        "each)")
    base = model.parameter_vector(scenario.parameters or None)
    cols = [model.index_of(p, "parameter") for p in names]
    Y = np.full((n, len(outputs)), np.nan)
    failed = {}
    y0 = scenario.initial or None
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        P = np.tile(base, (b - a, 1))
        P[:, cols] = X[a:b]
        Y0 = None
        if scenario.sbml is not None and model.start_recipe is not None:
            Y0, P, bad = patient_starts(model, P, names)
            failed.update({a + i: m for i, m in bad.items()})
            Y0 = np.where(np.isfinite(Y0), Y0, 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # failures are collected below
            r = simulate_batch(model, P, t, y0=Y0 if Y0 is not None else y0, events=events,
                               on_failure="flag", n_threads=threads, **solver)
        y = r.dataset["y"].values
        Y[a:b] = outputs_of(scenario, t, r.variables, y)
        for i in np.flatnonzero(r.status != 0):
            failed.setdefault(a + int(i), str(r.message[i]))
        if progress:
            progress(b, n)
    for i in failed:
        Y[i] = np.nan
    rows = analyse(spec, X, Y, names, outputs, failed)
    return SensitivityResult(spec["method"], names, bounds, outputs, X, Y, rows, failed,
                             time.perf_counter() - started, spec["samples"], spec["seed"])


def analyse(spec: dict, X: np.ndarray, Y: np.ndarray, names: list, outputs: list,
            failed: dict) -> list[dict]:
    """SALib's indices of each output column of ``Y`` (rows for indices.csv). An output with a
    failed run, or with no variance, gets NaN indices and a note saying why."""
    problem, seed = _problem(spec), spec["seed"]
    rows = []
    for j, name in enumerate(outputs):
        y = Y[:, j]
        note = ""
        if failed:
            note = f"{len(failed)} of {len(y)} runs failed: indices not computed"
        elif np.nanstd(y) == 0:
            note = "the output does not vary over the samples"
        if note:
            for p in names:
                rows.append({"output": name, "parameter": p, "note": note})
            continue
        if spec["method"] == "sobol":
            from SALib.analyze import sobol

            second = spec.get("second_order", False)
            si = sobol.analyze(problem, y, calc_second_order=second, seed=seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
            if second:      # S2 of each pair k < l, in rows named "k:l" after the others
                pairs = [{"output": name, "parameter": f"{p}:{q}", "S2": float(si["S2"][k, m]),
                          "S2_conf": float(si["S2_conf"][k, m]), "note": ""}
                         for k, p in enumerate(names) for m, q in enumerate(names) if m > k]
        elif spec["method"] == "fast":
            from SALib.analyze import fast

            with warnings.catch_warnings():   # SALib: its bootstrap intervals for FAST are
                warnings.simplefilter("ignore", UserWarning)   # indicative (README says so)
                si = fast.analyze(problem, y, M=4, seed=seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            si = morris.analyze(problem, X, y, num_levels=4, seed=seed)
            keys = ("mu", "mu_star", "mu_star_conf", "sigma")
        for k, p in enumerate(names):
            rows.append({"output": name, "parameter": p,
                         **{key: float(np.asarray(si[key])[k]) for key in keys}, "note": ""})
        if spec["method"] == "sobol" and spec.get("second_order", False):
            rows += pairs
    return rows


def _local(scenario, model, events, t, names, bounds, outputs, solver, started):
    """Normalised local sensitivities ``(p / y) dy/dp`` from forward sensitivities."""
    r = simulate(model, t, params=scenario.parameters or None, y0=scenario.initial or None,
                 events=events, sensitivities=names, on_failure="raise", **solver)
    p = model.parameter_vector(scenario.parameters or None)[[model.index_of(n, "parameter")
                                                             for n in names]]
    y = r.dataset["y"].values[None]
    S = r.sensitivities.values                      # time x variable x direction
    value = outputs_of(scenario, t, r.variables, y)[0]
    rows = []
    for j, o in enumerate(scenario.sensitivity["outputs"]):
        # the derivative of each output: the same functional applied to each direction's
        # sensitivity (a value at a time, or a trapezoid integral: both linear)
        d = np.array([outputs_of(scenario, t, r.variables, S[None, :, :, k])[0][j]
                      for k in range(len(names))])
        for k, pname in enumerate(names):
            norm = d[k] * p[k] / value[j] if value[j] != 0 else np.nan
            rows.append({"output": o["name"], "parameter": pname, "dy_dp": float(d[k]),
                         "normalised": float(norm), "note": "" if value[j] != 0 else
                         "the output is 0: not normalised"})
    X = p[None, :]
    return SensitivityResult("local", names, bounds, outputs, X, value[None, :], rows, {},
                             time.perf_counter() - started, 1, 0)


__all__ = ["CHUNK", "SensitivityResult", "analyse", "outputs_of", "run_sensitivity", "sample"]
