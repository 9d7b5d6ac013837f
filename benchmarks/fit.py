"""Fitting and sensitivity speed (issue 20), measured on this machine in one run:

- ``boehm_s_per_gradient``, ``fujita_s_per_gradient``: seconds per objective + gradient
  evaluation (forward sensitivities) at the nominal parameters of the two problems in
  ``../shared/petab/`` (mean of 3, after a first call that builds the sensitivity model), on
  the kernel tier a 20-start fit runs on (``*_kernels``; the generic tier's times beside it
  as ``*_generic_*`` where that is another);
- ``*_s_per_objective``: the objective alone, and ``gradient_speedup_vs_fd`` (per problem):
  the cost of a central finite-difference gradient (2 objective evaluations per estimated
  parameter) over the forward-sensitivity gradient's (target >= 3x on Fujita);
- ``*_gradient_max_rel_err_vs_fd``: the largest ``|g - fd| / max(|fd|, 1)`` over the components
  at a point away from the optimum (step 1e-4 on the parameter's scale; target 1e-4);
- ``*_fit_best_nllh``, ``*_fit_s``: ``immunesim fit`` with ``--starts`` starts (default 20,
  from ``--seed``, default 0, recorded as ``*_fit_seed``) on both cores, and the reference nllh
  (target: at least as good); Fujita's fits from seeds 0-6 and their check by libRoadRunner:
  ``benchmarks/results/fujita_seeds_2026-12-07.json`` (``benchmarks/fujita_roadrunner_check.py``);
- ``sobol_ra_s``: a Sobol' analysis (second order, so N (2 D + 2) runs) of the RA preset over 10
  of its calibrated parameters (+-20 %), N = 1024: 22,528 runs of one year (target <= 60 s on 2
  cores), kernels compiled beforehand (cached) so that the time is the analysis'.

Run:  python benchmarks/fit.py [--starts 20] [--seed 0] [--problems boehm,fujita] [--skip-fits] [--skip-sobol]
      [--out benchmarks/results/fit.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from immunesim.durable import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "petab"
PROBLEMS = {"boehm": "Boehm_JProteomeRes2014", "fujita": "Fujita_SciSignal2010"}
REFERENCE = {"boehm": 138.22199693517703, "fujita": -53.08377736998929}
RA_PARAMETERS = ("k_act", "K_act", "r_eff", "K_cap", "r_treg", "d_treg", "k_pd1", "gain",
                 "K_treg_resist", "w_itreg")


def gradient_timings(key: str) -> dict:
    """Objective and objective+gradient times on the kernel tier a 20-start fit runs on
    (``fit_kernels``; its first evaluations, which compile, are not timed), the central
    differences' cost as the ratio, and, where that tier is not the generic one, the generic
    tier's times beside it (``*_generic_*``)."""
    from immunesim.fitting import load_problem
    from immunesim.fitting.petab_problem import fit_kernels

    path = SHARED / PROBLEMS[key] / f"{PROBLEMS[key]}.yaml"
    tier = fit_kernels(load_problem(path), 20 * 1000)
    out = {f"{key}_kernels": tier, **_timings(key, load_problem(path, kernels=tier))}
    if tier != "generic":
        generic = _timings(key, load_problem(path))
        out.update({f"{key}_generic_{k[len(key) + 1:]}": v for k, v in generic.items()
                    if not k.endswith(("n_estimated", "max_rel_err_vs_fd"))})
    return out


def _timings(key: str, problem) -> dict:
    from immunesim.fitting import evaluate

    evaluate(problem, gradient=True)
    evaluate(problem)
    t0 = time.perf_counter()
    for _ in range(3):
        evaluate(problem)
    f = (time.perf_counter() - t0) / 3
    t0 = time.perf_counter()
    for _ in range(3):
        evaluate(problem, gradient=True)
    g = (time.perf_counter() - t0) / 3
    n = len(problem.estimated)
    rng = np.random.default_rng(1)
    nominal = problem.nominal()
    point = {p: nominal[p] * 10 ** rng.uniform(-0.3, 0.3) for p in problem.estimated}
    grad = evaluate(problem, point, gradient=True)["grad"]
    worst = 0.0
    for p in problem.estimated:
        h = 1e-4
        up = evaluate(problem, {**point, p: point[p] * 10 ** h})["nllh"]
        down = evaluate(problem, {**point, p: point[p] * 10 ** -h})["nllh"]
        fd = (up - down) / (2 * h)
        worst = max(worst, abs(grad[p] - fd) / max(abs(fd), 1.0))
    return {f"{key}_s_per_gradient": g, f"{key}_s_per_objective": f,
            f"{key}_n_estimated": n, f"{key}_gradient_speedup_vs_fd": 2 * n * f / g,
            f"{key}_gradient_max_rel_err_vs_fd": worst}


def fit(key: str, starts: int, keep: Path | None = None, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(keep / key) if keep else tmp
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "immunesim.cli", "fit",
                            str(SHARED / PROBLEMS[key] / f"{PROBLEMS[key]}.yaml"), "-o", out,
                            "--starts", str(starts), "--seed", str(seed), "--json", "-q"],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            return {f"{key}_fit_error": p.stderr[-500:]}
        r = json.loads(p.stdout)
        starts_csv = (Path(out) / "starts.csv").read_text()
    return {f"{key}_fit_best_nllh": r["nllh"], f"{key}_fit_reference_nllh": REFERENCE[key],
            f"{key}_fit_starts": starts, f"{key}_fit_seed": seed,
            f"{key}_fit_starts_at_best": r["starts_at_best"],
            f"{key}_fit_s": wall, f"{key}_fit_starts_csv": starts_csv}


def sobol_ra() -> dict:
    from immunesim.analysis.global_sensitivity import run_sensitivity
    from immunesim.scenario.schema import validate

    sc = validate({"name": "ra-sobol-benchmark", "disease": "ra",
                   "time": {"end": "1 year", "output_every": "7 d"},
                   "sensitivity": {"method": "sobol", "samples": 1024, "second_order": True,
                                   "seed": 1,
                                   "parameters": {p: "20%" for p in RA_PARAMETERS},
                                   "outputs": [{"variable": "DAS28_CRP", "at": ["1 year"]},
                                               {"auc": "Dmg"}]}})
    from immunesim.scenario.build import scenario_model
    from immunesim.simulate import simulate_batch

    simulate_batch(scenario_model(sc), n_patients=256, t_eval=[0.0, 1.0])   # compile, cached
    t0 = time.perf_counter()
    res = run_sensitivity(sc)
    wall = time.perf_counter() - t0
    top = sorted((r for r in res.rows if r["output"] == res.outputs[0] and "ST" in r),
                 key=lambda r: -r["ST"])[:3]
    return {"sobol_ra_s": wall, "sobol_ra_runs": int(res.X.shape[0]),
            "sobol_ra_failed": len(res.failed),
            "sobol_ra_top_total_indices": {res.outputs[0]: {r["parameter"]: round(r["ST"], 3) for r in top}}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="the fits' start-point seed (recorded as *_fit_seed)")
    ap.add_argument("--skip-fits", action="store_true")
    ap.add_argument("--skip-sobol", action="store_true")
    ap.add_argument("--keep", type=Path, help="write each fit's OUTDIR to KEEP/<problem> "
                    "(watch its starts/ as it runs) instead of a temporary folder")
    ap.add_argument("--problems", default=",".join(PROBLEMS),
                    help="which PEtab problems (comma-separated; default both)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fit.json")
    args = ap.parse_args(argv)
    out = {"machine": f"{os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}
    keys = [k.strip() for k in args.problems.split(",") if k.strip()]
    if set(keys) - set(PROBLEMS):
        ap.error(f"--problems: expected some of {', '.join(PROBLEMS)}, got {args.problems}")
    if SHARED.is_dir():
        for key in keys:
            out.update(gradient_timings(key))
            print(json.dumps({k: v for k, v in out.items() if k.startswith(key)}), flush=True)
        if "fujita" in keys:
            out["gradient_speedup_vs_fd"] = out["fujita_gradient_speedup_vs_fd"]
        if not args.skip_fits:
            for key in keys:
                out.update(fit(key, args.starts, args.keep, args.seed))
                out[f"{key}_fit_date"] = out["date"]     # "date" is the latest run's, of any part
                print(key, out.get(f"{key}_fit_best_nllh"), out.get(f"{key}_fit_s"), flush=True)
    else:
        print(f"the shared PEtab problems are absent ({SHARED}): gradients and fits skipped")
    if not args.skip_sobol:
        out.update(sobol_ra())
        out["sobol_ra_date"] = out["date"]
        print("sobol_ra_s", out["sobol_ra_s"], flush=True)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    previous.update({k: v for k, v in out.items() if not (isinstance(v, float) and math.isnan(v))})
    write_text_atomic(args.out, json.dumps(previous, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if not k.endswith("starts_csv")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
