"""``immunesim fit PROBLEM.yaml -o OUTDIR``: a PEtab problem fitted by multistart local
optimisation, with its outputs.

OUTDIR gets ``best.csv`` (parameter, value (linear), value on its scale, scale, bounds,
estimated), ``starts.csv`` (one row per start: final nllh, iterations, evaluations, status,
seconds, the start's nllh; where each start is finished on the full problem, its nllh before
that and the finish's iterations), ``fit.json`` (the problem, its file hashes, the settings, the
best nllh and parameters, package versions), ``waterfall.png`` (the starts' final nllh,
sorted), ``fit_<observable>.png`` (data and the best fit per observable, one colour per
condition), with ``--profile`` ``profiles.csv`` and ``profiles.png`` (profile likelihoods with
the 95 % threshold), with ``--screen N`` ``screen.csv`` (every screened candidate: nllh after
its short run, and which start continued it), and ``manifest.json`` last.

Each finished start is saved at once in ``OUTDIR/starts/start_NNNN.json`` (atomically):
``--resume`` runs only the starts not saved yet (same problem files, seed and number of
starts, checked), so an interrupted fit loses at most the starts in flight.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

from ..durable import sha256_file, write_csv, write_text_atomic
from ..errors import InputError
from ..fitting.multistart import (PROFILE_THRESHOLD, at_bounds, multistart, profile,
                                  profile_intervals, to_linear, to_scale)
from ..fitting.petab_problem import (FIT_KERNELS, analytic_scalings, evaluate, fit_kernels,
                                     load_problem, log_prior, priors, simulate_conditions)
from ..plot.fit import write_fit_figures, write_profile_figure, write_waterfall
from ..provenance import versions
from . import begin_outputs, to_json, write_manifest


def problem_files(path: Path) -> dict:
    """SHA-256 of the problem's YAML and of every file it names (a fit resumes only on the same
    files)."""
    import yaml

    path = Path(path)
    config = yaml.safe_load(path.read_text())
    files = {path.name: sha256_file(path)}
    for part in config.get("problems") or []:
        for key in ("sbml_files", "condition_files", "measurement_files", "observable_files",
                    "visualization_files"):
            for name in part.get(key) or []:
                files[str(name)] = sha256_file(path.parent / name)
    par = config.get("parameter_file")
    for name in ([par] if isinstance(par, str) else par or []):
        files[str(name)] = sha256_file(path.parent / name)
    return files


def run_fit(problem_path, outdir, *, n_starts: int = 20, seed: int = 0,
            processes: int | None = None, workers: int | None = None,
            scheduler: str | None = None, max_iter: int = 1000, with_profile: bool = False,
            resume: bool = False, progress=None, say=None, hierarchical: bool = True,
            max_time: float | None = None, kernels: str = "auto", screen: int = 0,
            screen_iter: int = 100, finish: bool = True) -> dict:
    """Fit the PEtab problem at ``problem_path`` and write OUTDIR (module docstring); returns
    the contents of fit.json. ``hierarchical``: the observables' scaling factors with a
    closed-form optimum are set to it instead of optimised over
    (:class:`~immunesim.fitting.multistart.Objective`). ``max_time``: seconds of wall-clock
    time per start (default: none; only the iteration limit). ``kernels``: ``"auto"``
    (:func:`~immunesim.fitting.petab_problem.fit_kernels`: the model's own kernels where the
    fit repays their compile), ``"generic"`` or ``"specialised"``. ``screen`` (> ``n_starts``):
    that many candidates run ``screen_iter`` iterations each and the ``n_starts`` lowest are
    continued (:func:`~immunesim.fitting.multistart.multistart`); each candidate is saved in
    ``starts/screen_NNNN.json`` and listed in ``screen.csv``. ``finish`` (default; with
    ``hierarchical`` and closed-form scalings in the problem): each start ends with a local
    optimisation of the full problem, the scalings optimised too
    (:func:`~immunesim.fitting.multistart.local_fit`); ``starts.csv`` then adds
    ``nllh_hierarchical`` and ``finish_iterations``."""
    started = time.perf_counter()
    problem_path = Path(problem_path)
    problem = load_problem(problem_path)
    if not problem.estimated:
        raise InputError(f"{problem_path}: no parameter has estimate = 1; nothing to fit")
    screening = bool(screen) and int(screen) > int(n_starts)
    if kernels == "auto":
        work = int(n_starts) * int(max_iter) + (int(screen) * int(screen_iter) if screening else 0)
        kernels = fit_kernels(problem, work)
    elif kernels not in FIT_KERNELS:
        raise InputError(f"kernels: expected auto or one of {', '.join(FIT_KERNELS)}, got {kernels!r}")
    problem = dataclasses.replace(problem, kernels=kernels)   # the imported models kept
    files = problem_files(problem_path)
    settings = {"n_starts": int(n_starts), "seed": int(seed), "max_iter": int(max_iter),
                "hierarchical": bool(hierarchical)}
    if max_time is not None:        # only where set: folders from before stay resumable
        settings["max_time_s"] = float(max_time)
    if kernels != "generic":        # likewise: the tier changes a start's rounding
        settings["kernels"] = kernels
    if screening:                   # likewise
        settings["screen"], settings["screen_iter"] = int(screen), int(screen_iter)
    scalings = analytic_scalings(problem) if hierarchical else []
    finishing = bool(finish and scalings)
    if finishing:                   # the default since 2026-12-08; folders from before lack it
        settings["finish"] = True
    outdir = begin_outputs(outdir)
    saved = outdir / "starts"
    done, screened = {}, {}
    stamp = {"files": files, **settings}
    if resume and (saved / "run.json").is_file():
        if json.loads((saved / "run.json").read_text()) != stamp:
            raise InputError(f"--resume: {saved} holds starts of another problem, seed, number "
                             "of starts, --max-iter, --max-time, --no-hierarchical, kernel "
                             "tier (--kernels), screening (--screen, --screen-iter) or "
                             "--no-finish; use another OUTDIR or run without --resume")
        for f in sorted(saved.glob("start_*.json")):
            r = json.loads(f.read_text())
            done[int(r["start"])] = r
        for f in sorted(saved.glob("screen_*.json")):
            r = json.loads(f.read_text())
            screened[int(r["start"])] = r
        if say:
            say(f"resuming: {len(done)} of {n_starts} starts already done"
                + (f", {len(screened)} of {screen} candidates screened" if screening else ""))
    else:
        saved.mkdir(parents=True, exist_ok=True)
        for f in [*saved.glob("start_*.json"), *saved.glob("screen_*.json")]:
            f.unlink()
    write_text_atomic(saved / "run.json", json.dumps(stamp, indent=1))

    def save(r, prefix="start"):
        write_text_atomic(saved / f"{prefix}_{r['start']:04d}.json",
                          json.dumps(r, default=to_json, allow_nan=True))

    def save_screen(r):
        screened[int(r["start"])] = r
        save(r, "screen")

    results = multistart(problem_path, n_starts, seed=seed, processes=processes,
                         workers=workers, scheduler=scheduler, max_iter=max_iter, done=done,
                         on_result=save, progress=progress, hierarchical=hierarchical,
                         max_time=math.inf if max_time is None else float(max_time),
                         kernels=kernels, screen=int(screen) if screening else 0,
                         screen_iter=int(screen_iter), screened=dict(screened),
                         on_screen=save_screen, finish=finishing)
    order = sorted(range(n_starts), key=lambda i: (not math.isfinite(results[i]["nllh"]),
                                                   results[i]["nllh"]))
    best = results[order[0]]
    if not math.isfinite(best["nllh"]):
        raise InputError(f"{problem_path}: every start failed (first: {best['status']})")
    scales, bounds, nominal = problem.scales, problem.bounds(), problem.nominal()
    linear = dict(nominal)
    linear.update({p: to_linear(scales[p], v) for p, v in best["x"].items()})
    outputs = []
    rows = [{"parameter": p, "value": repr(float(linear[p])),
             "value_scaled": repr(float(to_scale(scales[p], linear[p])) if linear[p] > 0
                                  or scales[p] == "lin" else math.nan),
             "scale": scales[p], "lower": repr(bounds[p][0]), "upper": repr(bounds[p][1]),
             "estimated": p in best["x"]} for p in problem.parameter_ids]
    write_csv(outdir / "best.csv", rows)
    write_csv(outdir / "starts.csv", [
        {"start": r["start"], "nllh": repr(float(r["nllh"])), "iterations": r["iterations"],
         "n_evaluations": r["n_evaluations"], "status": r["status"], "exitflag": r["exitflag"],
         "time_s": r["time_s"], "nllh_start": repr(float(r["nllh_start"])),
         "resampled": r.get("resampled", 0), "rank": k + 1,
         "at_bounds": ";".join(f"{p}:{side}" for p, side in at_bounds(problem, r["x"]).items())
         if math.isfinite(r["nllh"]) else "",
         **({"candidate": r["candidate"], "nllh_screen": repr(float(r["nllh_screen"])),
             "screen_iterations": r["screen_iterations"]} if screening else {}),
         **({"nllh_hierarchical": repr(float(r.get("nllh_hierarchical", r["nllh"]))),
             "finish_iterations": r.get("finish_iterations", 0)} if finishing else {})}
        for k, r in sorted(((order.index(i), results[i]) for i in range(n_starts)),
                           key=lambda kr: kr[1]["start"])])
    outputs += ["best.csv", "starts.csv"]
    if screening:
        continued = {r["candidate"]: r["start"] for r in results}
        write_csv(outdir / "screen.csv", [
            {"candidate": i, "nllh": repr(float(screened[i]["nllh"])),
             "iterations": screened[i]["iterations"], "status": screened[i]["status"],
             "nllh_start": repr(float(screened[i]["nllh_start"])),
             "continued_as_start": continued.get(i, "")}
            for i in sorted(screened)])
        outputs.append("screen.csv")
    outputs.append(write_waterfall([r["nllh"] for r in results], outdir / "waterfall.png",
                                   problem_path.stem).name)
    check = evaluate(problem, linear)
    has_priors = bool(priors(problem))
    curves = simulate_conditions(problem, linear)
    outputs += [p.name for p in write_fit_figures(curves, outdir)]
    intervals = None
    if with_profile:
        if say:
            say(f"profiles of {len(problem.estimated)} parameters")
        prows = profile(problem, {p: best["x"][p] for p in problem.estimated},
                        hierarchical=hierarchical)
        intervals = profile_intervals(prows, problem.estimated)
        write_csv(outdir / "profiles.csv", [
            {"parameter": r["parameter"], "value_scaled": repr(r["value"]),
             "value": repr(r["value_linear"]), "nllh": repr(r["nllh"]),
             "delta_nllh": repr(r["delta"])} for r in prows])
        outputs += ["profiles.csv",
                    write_profile_figure(prows, intervals, scales, outdir / "profiles.png").name]
    n_conv = sum(1 for r in results if math.isfinite(r["nllh"])
                 and r["nllh"] <= best["nllh"] + 1e-3 * max(1.0, abs(best["nllh"])))
    fit = {"problem": str(problem_path), "files": files, **settings,
           "optimizer": "fides (interior trust region; Fisher information, then BFGS)"
                        + ("; each start finished on the full problem, its scalings optimised too"
                           if finishing else ""),
           "kernels": kernels,
           "analytic_scalings": scalings,
           "nllh": check["nllh"], "best_start": best["start"],
           "nllh_fit": best["nllh"], "n_measurements": problem.n_measurements,
           "objective": ("negative log posterior (nllh - log prior)" if has_priors
                         else "negative log-likelihood"),
           "starts_at_best": n_conv,
           "best_at_bounds": at_bounds(problem, best["x"]),
           "parameters": {p: linear[p] for p in problem.estimated},
           "parameters_scaled": best["x"], "scales": {p: scales[p] for p in problem.estimated},
           "nominal_nllh": evaluate(problem)["nllh"],
           "time_s": time.perf_counter() - started, "versions": versions()}
    if has_priors:
        fit["log_prior"] = log_prior(problem, linear)[0]
        fit["neg_log_posterior"] = check["nllh"] - fit["log_prior"]
    if intervals is not None:
        fit["profile_threshold"] = PROFILE_THRESHOLD
        fit["intervals_95_scaled"] = {p: list(v) for p, v in intervals.items()}
    write_text_atomic(outdir / "fit.json", json.dumps(fit, indent=1, default=to_json,
                                                      allow_nan=True))
    outputs.append("fit.json")
    write_manifest(outdir, "fit", status=0, message="ok", outputs=outputs, started=started,
                   seed=seed, model=problem_path.stem, model_file=str(problem_path),
                   model_hash=files[problem_path.name][:20], nllh=check["nllh"])
    return fit


__all__ = ["problem_files", "run_fit"]
