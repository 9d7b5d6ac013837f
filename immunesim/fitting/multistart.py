"""Multistart fitting and profile likelihoods of PEtab problems.

The objective is the problem's negative log-likelihood (:func:`.petab_problem.evaluate`) as a
function of the estimated parameters on their PEtab scales (``lin``, ``log``, ``log10``), with
its gradient from forward sensitivities. Each start is a local optimisation by fides
(Fröhlich & Sorger 2022, doi:10.1371/journal.pcbi.1010322: an interior trust-region method
for box bounds), with the expected Fisher information as the Hessian (Gauss-Newton, as
pyPESTO does with AMICI: from the same forward sensitivities) until 20 successive iterations
leave the trust region unchanged, then BFGS (fides' ``HybridFixed``): BFGS alone took 500
iterations and stalled at nllh 7834 from a Fujita start, the Fisher information alone
converges slowly near a fit with non-zero residuals (301 iterations on a Boehm start), from a point drawn uniformly
inside the bounds on the parameter scale (a seeded generator: the same seed gives the same
starts). Where observables' scaling factors are set in closed form (:class:`Objective`), each
start then continues on the full problem, the scalings optimised too (``finish``,
:func:`local_fit`). Starts run in parallel: on this machine's cores in worker processes, or on Dask
(``workers``/``scheduler``, as ``immunesim trial`` does). A start is a pure function of the
problem file, its index and the seed, so where it runs does not change its result.

Profile likelihoods: each estimated parameter is fixed at points stepping away from the best
fit on its scale, the others re-optimised from the previous point's optimum (the usual
continuation), until the nllh rises by more than the 95 % threshold
``chi2(1, 0.95) / 2 = 1.92`` or a bound is reached. The 95 % interval is where the profile
crosses that threshold (linear interpolation between points), ``-inf``/``inf`` where it does
not cross inside the bounds (a practically non-identifiable direction).
"""

from __future__ import annotations

import logging
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .petab_problem import (PetabError, Problem, analytic_scalings, evaluate,
                            load_problem, log_prior)

#: the simulations' tolerances while fitting (the reported best nllh is evaluated again at the
#: objective's own, tighter, 1e-10 / 1e-14: ``nllh_check`` in fit.json)
FIT_RTOL, FIT_ATOL = 1e-8, 1e-12
#: the nllh rise that bounds a 95 % profile-likelihood interval: chi2(1, 0.95) / 2
PROFILE_THRESHOLD = 1.920729410347062
#: fides' exit flags (``fides.ExitFlag``: DELTA_TOO_SMALL -5, EXCEEDED_BOUNDARY -4, NOT_FINITE
#: -3, MAXTIME -2, MAXITER -1, DID_NOT_RUN 0, FTOL 1, XTOL 2, GTOL 3), in words
EXIT = {-5: "trust region too small", -4: "exceeded bounds", -3: "not finite", -2: "maxtime",
        -1: "maxiter", 0: "did not finish", 1: "converged (f tolerance)",
        2: "converged (x tolerance)", 3: "converged (gradient tolerance)"}
#: the exit flag of a start whose first simulation fails (fides' NOT_FINITE)
NOT_FINITE = -3


def to_linear(scale: str, x: float) -> float:
    """A parameter's linear value from its value on ``scale`` (PEtab's parameterScale)."""
    return x if scale == "lin" else math.exp(x) if scale == "log" else 10.0 ** x


def to_scale(scale: str, v: float) -> float:
    """A parameter's value on ``scale`` from its linear value."""
    return v if scale == "lin" else math.log(v) if scale == "log" else math.log10(v)


#: a parameter counts as at a bound where it is within this share of its range (on its scale)
AT_BOUND_SHARE = 0.01


def at_bounds(problem: Problem, x: dict, share: float = AT_BOUND_SHARE) -> dict:
    """The parameters of ``x`` (scaled values by id) within ``share`` of their range, on their
    scale, from a bound: id -> ``"lower"`` or ``"upper"``. In wide bounds a local optimiser
    often ends where a bound stops it along a near-symmetry of the model (an amount against
    its rate and its scaling); which bound that is tells the basins apart."""
    scales, bounds, out = problem.scales, problem.bounds(), {}
    for p, v in x.items():
        lo, hi = bounds[p]
        if scales[p] != "lin" and (lo <= 0 or hi <= 0):
            continue
        lo, hi = to_scale(scales[p], lo), to_scale(scales[p], hi)
        tol = share * (hi - lo)
        if not (math.isfinite(v) and math.isfinite(tol)):
            continue
        if v - lo <= tol:
            out[p] = "lower"
        elif hi - v <= tol:
            out[p] = "upper"
    return out


@dataclass
class Objective:
    """The nllh and its gradient over the estimated parameters on their scales (a vector in
    ``ids`` order: ``problem.estimated`` less ``fixed`` and the analytic scalings);
    ``fixed``: ids held at given linear values (profiles).

    ``hierarchical`` (default): the scaling factors of observables that have a closed-form
    optimum (:func:`.petab_problem.analytic_scalings`) are not optimised over but set to that
    optimum at each point, so the optimiser sees the nllh minimised over them (Loos et al. 2018,
    doi:10.1093/bioinformatics/bty514: it converges from many more starts). Its gradient is
    the partial one at the optimum (they are optimal, or held at a bound) and its Fisher
    information the Schur complement of theirs (the Gauss-Newton matrix of the reduced
    problem). ``complete(x)`` gives every estimated parameter, the scalings included."""

    problem: Problem
    fixed: dict = field(default_factory=dict)
    n_calls: int = 0
    hierarchical: bool = True

    def __post_init__(self):
        self.scalings = [p for p in analytic_scalings(self.problem) if p not in self.fixed] \
            if self.hierarchical else []
        self.ids = [p for p in self.problem.estimated
                    if p not in self.fixed and p not in self.scalings]
        scales, bounds = self.problem.scales, self.problem.bounds()
        self.scales = [scales[p] for p in self.ids]
        self.lb = np.array([to_scale(s, bounds[p][0]) for p, s in zip(self.ids, self.scales)])
        self.ub = np.array([to_scale(s, bounds[p][1]) for p, s in zip(self.ids, self.scales)])

    def values(self, x) -> dict:
        return {**self.fixed, **{p: to_linear(s, float(v))
                                 for p, s, v in zip(self.ids, self.scales, x)}}

    def complete(self, x) -> dict:
        """Every estimated, non-fixed parameter on its scale at ``x``: the optimised ones, and
        the analytic scalings at their optimum there."""
        out = dict(zip(self.ids, map(float, x)))
        if self.scalings:
            r = evaluate(self.problem, self.values(x), rtol=FIT_RTOL, atol=FIT_ATOL,
                         optimal_scalings=self.scalings)
            scales = self.problem.scales
            sc = r.get("scalings") or {p: self.problem.nominal()[p] for p in self.scalings}
            out.update({p: to_scale(scales[p], v) for p, v in sc.items()})
        return {p: out[p] for p in self.problem.estimated if p in out}

    def __call__(self, x) -> tuple[float, np.ndarray, np.ndarray]:
        """``(nllh - log prior, gradient, Fisher information)`` at ``x`` (scaled); without priors
        the negative log-likelihood."""
        self.n_calls += 1
        values = self.values(x)
        r = evaluate(self.problem, values, gradient=True, rtol=FIT_RTOL, atol=FIT_ATOL,
                     optimal_scalings=self.scalings)
        values.update(r.get("scalings") or {})
        curv = {}
        lp, lp_grad = log_prior(self.problem, {**self.problem.nominal(), **values}, curv)
        f = float(r["nllh"]) - lp
        g = np.array([r["grad"][p] - lp_grad.get(p, 0.0) for p in self.ids], dtype=float)
        n = len(self.ids)
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            return math.inf, np.full(n, math.nan), np.full((n, n), math.nan)
        est = self.problem.estimated
        keep = [est.index(p) for p in self.ids]
        fim = r["fim"][np.ix_(keep, keep)]
        bounds = self.problem.bounds()
        inner = [est.index(p) for p in self.scalings
                 if bounds[p][0] < values[p] < bounds[p][1]]     # those held at a bound stay
        if inner:
            f_oi = r["fim"][np.ix_(keep, inner)]
            fim = fim - f_oi @ np.linalg.pinv(r["fim"][np.ix_(inner, inner)]) @ f_oi.T
        fim = psd(fim) + np.diag([curv.get(p, 0.0) for p in self.ids])
        return f, g, fim


def psd(a: np.ndarray) -> np.ndarray:
    """The symmetric part of ``a`` with its negative eigenvalues set to zero. A Fisher
    information is positive semi-definite, but along the flat directions of a problem such as
    Fujita's (condition numbers of 1e300) the Schur complement of the scalings leaves
    eigenvalues of -1e-11 from rounding; fides' trust-region subproblem then divides by
    ``eigenvalue + lambda = 0`` on its Newton path (NaN warnings, a fallback root search)."""
    a = 0.5 * (a + a.T)
    w, v = np.linalg.eigh(a)
    if w.size == 0 or w.min() >= 0.0:
        return a
    return (v * np.maximum(w, 0.0)) @ v.T


def draw_starts(problem: Problem, n_starts: int, seed: int,
                hierarchical: bool = True) -> np.ndarray:
    """``n_starts`` points uniform inside the bounds on each parameter's scale (rows, in
    ``Objective(problem, hierarchical=hierarchical).ids`` order)."""
    obj = Objective(problem, hierarchical=hierarchical)
    rng = np.random.default_rng(seed)
    return obj.lb + rng.random((n_starts, len(obj.ids))) * (obj.ub - obj.lb)


def local_fit(problem: Problem, x0, *, fixed: dict | None = None, max_iter: int = 1000,
              max_time: float = math.inf, hierarchical: bool = True,
              finish: bool = False) -> dict:
    """One local optimisation from ``x0`` (scaled: a vector in :class:`Objective`'s ``ids``
    order, or id -> value): ``{nllh, x (every estimated, non-fixed parameter, scaled, by id),
    iterations, n_evaluations, status, exitflag, time_s}``.

    ``finish`` (with ``hierarchical`` and a problem that has closed-form scalings): from where
    the optimisation on the reduced problem stops, a second one (up to ``max_iter`` more
    iterations) optimises the scalings as ordinary parameters too, and the start keeps the
    lower of the two (``nllh_hierarchical``, ``finish_iterations`` say what each did;
    ``iterations``, ``n_evaluations`` and ``time_s`` are both phases'). The closed form is the
    optimum only inside the scalings' bounds: where one is held at a bound, the reduced
    problem no longer sees how it would move with the others, and its optimiser crawls. On
    Fujita's problem, from the end points of the 20-start fits of seeds 2, 4 and 6 (-23.16,
    -66.547, -60.498, the first and second at their iteration limit) the second phase reaches
    -66.581 in 75-540 iterations (README, "Fujita"). Where every scaling is inside its bounds
    the end point is already stationary for the full problem, and the second phase stops
    within a few iterations."""
    try:
        import fides
    except ImportError:
        raise PetabError("fitting needs the fides optimiser: pip install 'immunesim[fit]'") from None

    obj = Objective(problem, dict(fixed or {}), hierarchical=hierarchical)
    t0 = time.perf_counter()
    if isinstance(x0, dict):
        x0 = [x0[p] for p in obj.ids]
    x0 = np.clip(np.asarray(x0, dtype=float), obj.lb, obj.ub)
    f0 = obj(x0)[0]
    out = {"nllh_start": f0}
    if not math.isfinite(f0):
        return out | {"nllh": math.inf, "x": dict(zip(obj.ids, map(float, x0))),
                      "iterations": 0,
                      "n_evaluations": obj.n_calls, "exitflag": NOT_FINITE,
                      "status": "the start's simulation failed",
                      "time_s": time.perf_counter() - t0}
    opt = fides.Optimizer(obj, ub=obj.ub, lb=obj.lb, verbose=logging.ERROR,
                          hessian_update=fides.HybridFixed(fides.BFGS(), switch_iteration=20),
                          options={fides.Options.MAXITER: int(max_iter),
                                   fides.Options.MAXTIME: float(max_time),
                                   fides.Options.FATOL: 1e-8, fides.Options.FRTOL: 1e-10,
                                   fides.Options.GATOL: 1e-6})
    logging.getLogger("fides").setLevel(logging.ERROR)
    fval, x, _, _ = opt.minimize(x0)
    flag = int(opt.exitflag)
    r = out | {"nllh": float(fval), "x": obj.complete(x),
               "iterations": int(opt.iteration), "n_evaluations": obj.n_calls,
               "exitflag": flag, "status": EXIT.get(flag, str(opt.exitflag)),
               "time_s": time.perf_counter() - t0}
    if not (finish and obj.scalings and math.isfinite(r["nllh"])):
        return r
    full = local_fit(problem, r["x"], fixed=fixed, max_iter=max_iter, hierarchical=False,
                     max_time=max(max_time - r["time_s"], 1e-9))
    both = {"nllh_hierarchical": r["nllh"], "finish_iterations": full["iterations"],
            "iterations": r["iterations"] + full["iterations"],
            "n_evaluations": r["n_evaluations"] + full["n_evaluations"],
            "time_s": time.perf_counter() - t0}
    if full["nllh"] <= r["nllh"]:       # fides returns its best point: never worse, but rounding
        r |= {k: full[k] for k in ("nllh", "x", "exitflag", "status")}
    return r | both


_PROBLEMS: dict = {}


def exit_with_parent(parent_pid: int, every: float = 0.5) -> None:
    """Make this (worker) process exit when process ``parent_pid`` is gone: a start runs for
    minutes, and a pool's worker only notices its parent's death between tasks, so a killed
    ``immunesim fit`` would leave its starts computing. A daemon thread checks the parent every
    ``every`` seconds (a process whose parent dies is given another one)."""
    import threading

    def watch():
        while True:
            time.sleep(every)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


#: draws of a new start point where the objective cannot be computed at the drawn one
RESAMPLE = 20


def run_start(problem_path: str, x0, index: int, max_iter: int = 1000, seed: int = 0,
              hierarchical: bool = True, max_time: float = math.inf,
              kernels: str = "generic", finish: bool = False) -> dict:
    """Start ``index`` from ``x0``, in whatever process runs it (the problem is read once per
    process). Where the simulation fails at ``x0`` (extreme rates at the edge of wide bounds),
    the start is drawn again, up to :data:`RESAMPLE` times, from a generator seeded by
    ``(seed, index, attempt)`` (as pyPESTO's start-point resampling does); ``resampled`` says
    how often. ``max_time``: seconds of wall-clock time per local fit (fides' MAXTIME, checked
    after each iteration): the start then stops with status ``maxtime``; it makes the result
    depend on the machine's speed. ``kernels``: the problem's kernel tier
    (:func:`~immunesim.fitting.petab_problem.load_problem`). ``finish``: :func:`local_fit`'s
    second phase on the full problem."""
    import numba

    numba.set_num_threads(1)        # one start per process: the pool parallelises
    key = (str(Path(problem_path).resolve()), kernels)
    if key not in _PROBLEMS:
        _PROBLEMS[key] = load_problem(problem_path, kernels=kernels)
    problem = _PROBLEMS[key]
    r = local_fit(problem, x0, max_iter=max_iter, hierarchical=hierarchical, max_time=max_time,
                  finish=finish)
    attempt = 0
    while not math.isfinite(r["nllh_start"]) and attempt < RESAMPLE:
        attempt += 1
        obj = Objective(problem, hierarchical=hierarchical)
        rng = np.random.default_rng([int(seed), int(index), attempt])
        x0 = obj.lb + rng.random(len(obj.ids)) * (obj.ub - obj.lb)
        r = local_fit(problem, x0, max_iter=max_iter, hierarchical=hierarchical,
                      max_time=max_time, finish=finish)
    return {"start": int(index), "resampled": attempt} | r


def _run_tasks(path: str, tasks, done, *, seed: int, processes, workers, scheduler,
               hierarchical: bool, max_time: float, kernels: str, finish: bool) -> None:
    """Run :func:`run_start` for each ``(x0, index, max_iter)`` of ``tasks`` on Dask, local
    worker processes or here, calling ``done(result)`` as each ends."""
    if not tasks:
        return
    if workers is not None or scheduler is not None:
        from ..cohort.dask_backend import dask_client   # Dask: with --workers/--scheduler only

        client, cluster = dask_client(workers, scheduler)
        try:
            from distributed import as_completed

            futures = [client.submit(run_start, path, x0, i, it, seed,
                                     hierarchical, max_time, kernels, finish, pure=False)
                       for x0, i, it in tasks]
            for fut in as_completed(futures):
                done(fut.result())
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif (processes or os.cpu_count() or 1) > 1 and len(tasks) > 1:
        import multiprocessing

        from concurrent.futures import as_completed as done_as_completed

        n = min(processes or os.cpu_count() or 1, len(tasks))
        # spawned (not forked: Numba's threading layer does not survive a fork), with this
        # process's environment (the kernel cache, IMMUNESIM_* and NUMBA_* settings)
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(run_start, path, x0, i, it, seed, hierarchical,
                                   max_time, kernels, finish)
                       for x0, i, it in tasks]
            for fut in done_as_completed(futures):
                done(fut.result())
    else:
        for x0, i, it in tasks:
            done(run_start(path, x0, i, it, seed, hierarchical, max_time, kernels, finish))


def multistart(problem_path, n_starts: int = 20, *, seed: int = 0, processes: int | None = None,
               workers: int | None = None, scheduler: str | None = None, max_iter: int = 1000,
               done: dict | None = None, on_result=None, progress=None,
               hierarchical: bool = True, max_time: float = math.inf,
               kernels: str = "generic", screen: int = 0, screen_iter: int = 100,
               screened: dict | None = None, on_screen=None,
               finish: bool = True) -> list[dict]:
    """Run ``n_starts`` local fits of the problem at ``problem_path`` from seeded random starts.

    ``processes``: local worker processes (default: the cores); ``workers``/``scheduler``: run
    the starts on Dask instead (a local cluster of N processes, or a running scheduler).
    ``done``: start index -> result already computed (a resumed run; those are not run again);
    ``on_result(result)`` is called as each start finishes (to save it); ``progress(n_done,
    n_total)``. ``hierarchical``: the observables' scaling factors set to their closed-form
    optimum (:class:`Objective`). ``max_time``: seconds per start (:func:`run_start`).
    ``kernels``: the problem's kernel tier; the specialised kernels are compiled here, once,
    before the starts are sent out (each worker then loads them from the disk cache).

    ``screen`` (> ``n_starts``; 0: off): draw that many uniform candidates instead, run each for
    ``screen_iter`` iterations, and continue the ``n_starts`` lowest from where they stopped,
    up to ``max_iter`` iterations in all. A start's basin shows early on wide bounds: on
    Fujita's problem the two uniform starts of 40 that reached the published optimum were the
    lowest of their 20 after 100 objective evaluations (README, "Fujita"). ``screened``:
    candidate index -> screening result already computed (resumed); ``on_screen(result)`` as
    each candidate finishes. The continued starts carry ``candidate``, ``nllh_screen`` and
    ``screen_iterations``. ``finish`` (with ``hierarchical``): each start ends with a second
    local optimisation on the full problem, the scalings optimised too (:func:`local_fit`);
    screening candidates do not. Returns the results in start order."""
    problem = load_problem(problem_path, kernels=kernels)
    results = dict(done or {})
    path = str(problem_path)
    opts = dict(seed=seed, processes=processes, workers=workers, scheduler=scheduler,
                hierarchical=hierarchical, max_time=max_time, kernels=kernels)
    screening = bool(screen) and screen > n_starts
    total = n_starts + (screen if screening else 0)
    sres = dict(screened or {}) if screening else {}
    todo = [i for i in range(n_starts) if i not in results]
    if kernels != "generic" and (todo or (screening and len(sres) < screen)):
        evaluate(problem)                    # the conditions' kernels, and with their
        evaluate(problem, gradient=True)     # sensitivities: compiled now, not per worker
    if progress:
        progress(len(results) + len(sres), total)

    if screening:
        def candidate_done(r):
            sres[r["start"]] = r
            if on_screen:
                on_screen(r)
            if progress:
                progress(len(results) + len(sres), total)

        cand = draw_starts(problem, screen, seed, hierarchical)
        _run_tasks(path, [(cand[i], i, int(screen_iter)) for i in range(screen) if i not in sres],
                   candidate_done, finish=False, **opts)
        chosen = sorted(sres, key=lambda i: (not math.isfinite(sres[i]["nllh"]),   # best first
                                             sres[i]["nllh"], i))[:n_starts]
        starts = [sres[c]["x"] for c in chosen]
        rest = max(1, int(max_iter) - int(screen_iter))
    else:
        chosen = None
        starts = draw_starts(problem, n_starts, seed, hierarchical)
        rest = int(max_iter)

    def start_done(r):
        if chosen is not None:
            c = chosen[r["start"]]
            r.update(candidate=c, nllh_screen=sres[c]["nllh"],
                     screen_iterations=sres[c]["iterations"], nllh_start=sres[c]["nllh_start"])
        results[r["start"]] = r
        if on_result:
            on_result(r)
        if progress:
            progress(len(results) + len(sres), total)

    _run_tasks(path, [(starts[i], i, rest) for i in todo], start_done,
               finish=finish and hierarchical, **opts)
    return [results[i] for i in range(n_starts)]


def profile(problem: Problem, best: dict, *, points: int = 12, step: float = 0.1,
            max_iter: int = 200, progress=None, hierarchical: bool = True) -> list[dict]:
    """Profile likelihoods of the estimated parameters from the best fit ``best`` (id ->
    scaled value): rows ``{parameter, value (scaled), value_linear, nllh, delta}``, on each side
    up to ``points`` steps of ``step`` (on the parameter's scale, doubled while the nllh rises
    by less than 0.1 per step) or until the nllh rises by more than twice the 95 % threshold."""
    ids, scales, bounds = problem.estimated, problem.scales, problem.bounds()
    f_best = evaluate(problem, {p: to_linear(scales[p], best[p]) for p in ids})["nllh"]
    rows = []
    for n, pid in enumerate(ids):
        lo, hi = (to_scale(scales[pid], b) for b in bounds[pid])
        rows.append({"parameter": pid, "value": best[pid],
                     "value_linear": to_linear(scales[pid], best[pid]), "nllh": f_best,
                     "delta": 0.0})
        for direction in (-1.0, 1.0):
            x_prev = {p: best[p] for p in ids if p != pid}
            v, h, f_prev = best[pid], step, f_best
            for _ in range(points):
                v = min(max(v + direction * h, lo), hi)
                fixed = {pid: to_linear(scales[pid], v)}
                r = local_fit(problem, x_prev, fixed=fixed, max_iter=max_iter,
                              hierarchical=hierarchical)
                f = r["nllh"]
                rows.append({"parameter": pid, "value": v,
                             "value_linear": to_linear(scales[pid], v), "nllh": f,
                             "delta": f - f_best})
                if not math.isfinite(f) or f - f_best > 2 * PROFILE_THRESHOLD \
                        or v in (lo, hi):
                    break
                if f - f_prev < 0.1:
                    h *= 2.0
                x_prev, f_prev = r["x"], f
        if progress:
            progress(n + 1, len(ids))
    rows.sort(key=lambda r: (ids.index(r["parameter"]), r["value"]))
    return rows


def profile_intervals(rows: list[dict], ids) -> dict:
    """Each parameter's 95 % profile interval (scaled) from :func:`profile`'s rows."""
    out = {}
    for pid in ids:
        pts = [(r["value"], r["delta"]) for r in rows if r["parameter"] == pid]
        k = int(np.argmin([d for _, d in pts]))
        ends = []
        for side in (range(k, -1, -1), range(k, len(pts))):
            side = list(side)
            end = None
            for a, b in zip(side, side[1:]):
                (va, da), (vb, db) = pts[a], pts[b]
                if da <= PROFILE_THRESHOLD < db:
                    end = va + (PROFILE_THRESHOLD - da) * (vb - va) / (db - da)
                    break
            ends.append(end)
        lower = ends[0] if ends[0] is not None else -math.inf
        upper = ends[1] if ends[1] is not None else math.inf
        out[pid] = (lower, upper)
    return out


__all__ = ["AT_BOUND_SHARE", "EXIT", "Objective", "PROFILE_THRESHOLD", "PetabError", "at_bounds",
           "draw_starts", "exit_with_parent",
           "local_fit",
           "multistart", "profile", "profile_intervals", "run_start"]
