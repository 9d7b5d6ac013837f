"""Time to the first result: each case in a new process, on a kernel cache with no model in it.

The generic kernels (solver code compiled once for every model, README "Kernels: what compiles
when") are built first, once, into a fresh cache: the ahead-of-time extension of the default
method's single-run entry point, which every case below loads (``generic_compile_s``), then the
same code JIT-compiled by Numba (``generic_jit_compile_s``). Each case then copies that cache,
so it holds the generic kernels and no model's own kernels, and runs in a new process:

- ``first_result_s_small``: ``immunesim simulate scenarios/models/antitnf_cytokine.yaml``;
- ``first_result_s_small_jit``: the same on the JIT-compiled generic kernels
  (``IMMUNESIM_AOT=off``: what every first result cost before the extension);
- ``first_result_s_ra``: ``immunesim run scenarios/ra.yaml`` (figures off);
- ``first_result_s_new_drug``: the RA scenario with a drug combination (tocilizumab +
  baricitinib), on a cache where the RA scenario already ran;
- ``warm_start_s``: the small model again on its own (cached) cache;
- ``roadrunner_first_result_s``: the small model exported to SBML with its model file's dosing
  regimen (27 doses, one SBML event), loaded and simulated by libRoadRunner in a new process
  over the same 365 days at the same daily points and tolerances (rtol 1e-6, atol 1e-9), its
  trajectories saved (when the ``bench`` extra is installed); ``roadrunner_max_rel_diff`` is
  the largest relative difference of its trajectories from immunesim's ``results.nc``, so the
  two first results are of the same run;
- ``roadrunner_first_result_s_undosed_100d``: libRoadRunner as this benchmark first measured
  it (no doses, 100 days at 101 points), kept for comparison with earlier numbers;
- ``ratio_first_result_vs_roadrunner``: immunesim's small-model time over libRoadRunner's;
- ``batch_new_drug_set_s``: a batch of 256 RA patients (one year) with a drug combination not
  run before (tocilizumab + baricitinib), in a new process on a cache where a batch of RA with
  adalimumab already ran: ``kernels="auto"`` runs it on the preset's composed kernels
  (README, "Kernels: drugs composed with a compiled preset"), compiling nothing;
  ``batch_new_drug_set_s_own_kernels`` is the same batch on that cache with the model's own
  specialised kernels forced (what every new drug set cost before: they compile first), and
  ``batch_new_drug_set_s_generic`` on the generic kernels;
- ``cohort_sims_per_s_ratio``: a 512-patient RA cohort's throughput with ``kernels="auto"``
  over its throughput with the specialised kernels forced, in one process, the median of 8
  alternated runs each (auto picks the specialised kernels, cached by the first forced run, so
  this stays 1 within noise).

The commands run with their default kernel tier (``"auto"``): a model whose specialised kernels
are not cached runs on the generic kernels, compiling nothing of its own.

immunesim's own Python files are byte-compiled first, as ``pip install`` does for an installed
package (an editable install writes them on the first import): this sandbox sets
``PYTHONDONTWRITEBYTECODE``, and without the bytecode every process would compile ~90 modules'
source again (0.4-0.8 s here), which no installed copy does.

Each case runs ``--repeats`` times (3), each time in a new process on a fresh copy of its cache,
and the median is reported (the samples are kept under ``samples``).

Run:  python benchmarks/latency.py [--out benchmarks/results/latency.json] [--repeats 3]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "models" / "antitnf_cytokine.yaml"


def run(cmd, cache: Path, cwd: Path, **extra_env) -> float:
    env = dict(os.environ, IMMUNESIM_CACHE_DIR=str(cache))
    env.pop("IMMUNESIM_KERNELS", None)
    env.pop("IMMUNESIM_AOT", None)
    env.update(extra_env)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def fresh(base: Path, name: str) -> Path:
    dst = base.parent / name
    shutil.copytree(base, dst)
    return dst


def roadrunner_available() -> bool:
    try:
        import roadrunner  # noqa: F401 - the bench extra
    except ImportError:
        return False
    return True


#: libRoadRunner's tolerances: immunesim's defaults (rtol 1e-6, atol 1e-9), as the CLI runs
RR_RTOL, RR_ATOL = 1e-6, 1e-9


def small_sbml(work: Path, doses: bool) -> Path:
    """The small model as SBML: with its model file's dosing regimen (27 doses of 40 mg every 14
    days, exported as an SBML event) where ``doses``, else as ``immunesim sbml`` prints it."""
    import immunesim as im
    from immunesim.io.sbml import to_sbml
    from immunesim.safe_yaml import read_yaml

    model = im.load_model(SMALL)
    regimens = read_yaml(SMALL)["simulation"]["doses"] if doses else ()
    path = work / ("small_dosed.xml" if doses else "small.xml")
    path.write_text(to_sbml(model, doses=regimens))
    return path


def roadrunner_first_result(sbml: Path, t_end: float, out: Path) -> float:
    """libRoadRunner in a new process: load ``sbml``, simulate 0..t_end at daily points with
    immunesim's default tolerances, save the trajectories (``np.save``; immunesim's first result
    writes its files too)."""
    points = int(t_end) + 1
    code = ("import sys, numpy as np, roadrunner; r = roadrunner.RoadRunner(sys.argv[1]); "
            f"r.integrator.relative_tolerance = {RR_RTOL}; "
            f"r.integrator.absolute_tolerance = {RR_ATOL}; "
            "r.timeCourseSelections = ['time'] + sys.argv[3].split(','); "
            f"np.save(sys.argv[2], r.simulate(0, {t_end}, {points}))")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(sbml), str(out), ",".join(small_species())],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def small_species() -> list[str]:
    from immunesim.safe_yaml import read_yaml

    return [s["name"] for s in read_yaml(SMALL)["species"]]


def roadrunner_agreement(rr_npy: Path, nc: Path) -> float:
    """Largest relative difference between libRoadRunner's trajectories and immunesim's
    ``results.nc`` (every species at every day, relative to max(|y|, 1e-6 x the species'
    largest value)): the two first results are of the same dosed run."""
    import numpy as np
    import xarray as xr

    ids = small_species()
    rr = np.load(rr_npy)[:, 1:]
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        ours = ds["y"].sel(variable=ids).values
    scale = np.maximum(np.abs(ours), 1e-6 * np.abs(ours).max(axis=0))
    return float(np.max(np.abs(rr - ours) / np.where(scale > 0, scale, 1.0)))


def cohort_ratio() -> float:
    import numpy as np

    import immunesim as im
    from immunesim.scenario import load_scenario, scenario_events, scenario_model

    sc = load_scenario(ROOT / "scenarios" / "ra_adalimumab.yaml")
    model, events = scenario_model(sc), scenario_events(sc)
    name = model.parameters[0].name
    base = model.parameter_vector()[0]
    P = {name: base * np.exp(np.random.default_rng(1).normal(0, 0.2, 512))}
    t = np.asarray(sc.times)
    rates = {}
    for kernels in ("specialised", "auto") * 8:
        im.simulate_batch(model, {name: P[name][:8]}, t, events=events, kernels=kernels)
        t0 = time.perf_counter()
        im.simulate_batch(model, P, t, events=events, kernels=kernels)
        rates.setdefault(kernels, []).append(512 / (time.perf_counter() - t0))
    # medians of 8 each, alternated: this shared machine gives the same batch on the same kernels
    # 0.57-0.87 s from one run to the next (best of 2 each measured 0.80-1.42)
    return statistics.median(rates["auto"]) / statistics.median(rates["specialised"])


#: a 256-patient batch of the RA preset with the drugs named in argv[1], one year, on the tier
#: named in argv[2] (checked: the timing is of that tier); doses as the scenario files give them
BATCH = """
import sys, numpy as np, yaml, immunesim as im
from immunesim.scenario import scenario_events, scenario_model
from immunesim.scenario.schema import validate
data = yaml.safe_load(open(%r).read())
doses = {"adalimumab": {"dose": "40 mg", "route": "sc", "every": "2 w"},
         "tocilizumab": {"dose": "8 mg/kg", "route": "iv", "infusion_hours": 1, "every": "4 w"},
         "baricitinib": {"dose": "4 mg", "route": "oral", "every": "1 d"}}
data["therapies"] = [dict(drug=d, **doses[d]) for d in sys.argv[1].split(",")]
data["time"] = {"end": "1 year", "output_every": "1 week"}
sc = validate(data)
model, events = scenario_model(sc), scenario_events(sc)
name = model.parameters[0].name
P = {name: model.parameter_vector()[0] * np.exp(np.random.default_rng(1).normal(0, 0.1, 256))}
r = im.simulate_batch(model, P, np.asarray(sc.times), events=events)
assert r.ok.all(), r.message
assert r.attrs["kernels"] == sys.argv[2], (r.attrs["kernels"], sys.argv[2])   # the tier intended
"""


def median_of(repeats: int, once) -> tuple[float, list[float]]:
    """The median of ``repeats`` calls of ``once()`` (each a new process on its own fresh cache:
    this shared machine's timings of one process start vary by up to 1.5x), and the samples."""
    samples = [once(k) for k in range(repeats)]
    return float(statistics.median(samples)), [round(x, 3) for x in samples]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latency.json"))
    ap.add_argument("--repeats", type=int, default=3, help="runs per case (median reported)")
    args = ap.parse_args(argv)
    py = sys.executable
    compileall.compile_dir(str(ROOT / "immunesim"), quiet=1)     # as an installed package has
    with tempfile.TemporaryDirectory(prefix="immunesim-latency-") as tmp:
        work = Path(tmp)
        base = work / "generic"
        out, samples = {}, {}
        code = "import immunesim as im; im.simulate(im.load_model(%r), [0, 1], kernels='generic')" % str(SMALL)
        out["generic_compile_s"] = run([py, "-c", code], base, ROOT)
        out["generic_jit_compile_s"] = run([py, "-c", code], base, ROOT, IMMUNESIM_AOT="off")
        simulate_small = [py, "-m", "immunesim.cli", "simulate", str(SMALL), "-o", str(work / "o1")]
        out["first_result_s_small"], samples["first_result_s_small"] = median_of(
            args.repeats, lambda k: run(simulate_small, fresh(base, f"small{k}"), ROOT))
        out["first_result_s_small_jit"], samples["first_result_s_small_jit"] = median_of(
            args.repeats, lambda k: run(simulate_small, fresh(base, f"small_jit{k}"), ROOT,
                                        IMMUNESIM_AOT="off"))
        out["warm_start_s"], samples["warm_start_s"] = median_of(
            args.repeats, lambda k: run(simulate_small, work / "small0", ROOT))
        import yaml

        scenario = yaml.safe_load((ROOT / "scenarios" / "ra.yaml").read_text())
        scenario["outputs"]["figures"] = []
        ra = work / "ra.yaml"
        ra.write_text(yaml.safe_dump(scenario))
        run_ra = [py, "-m", "immunesim.cli", "run", str(ra), "-o", str(work / "o3")]
        out["first_result_s_ra"], samples["first_result_s_ra"] = median_of(
            args.repeats, lambda k: run(run_ra, fresh(base, f"ra{k}"), ROOT))
        scenario["therapies"] = [
            {"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv", "infusion_hours": 1,
             "every": "4 w", "start": "1 year"},
            {"drug": "baricitinib", "dose": "4 mg", "route": "oral", "every": "1 d", "start": "1 year"}]
        combo = work / "ra_combo.yaml"
        combo.write_text(yaml.safe_dump(scenario))
        run_combo = [py, "-m", "immunesim.cli", "run", str(combo), "-o", str(work / "o4")]
        out["first_result_s_new_drug"], samples["first_result_s_new_drug"] = median_of(
            args.repeats, lambda k: run(run_combo, work / f"ra{k}", ROOT))   # RA already ran there
        rr = None
        if roadrunner_available():
            dosed, undosed = small_sbml(work, doses=True), small_sbml(work, doses=False)
            rr, samples["roadrunner_first_result_s"] = median_of(
                args.repeats, lambda k: roadrunner_first_result(dosed, 365, work / "rr.npy"))
            out["roadrunner_max_rel_diff"] = roadrunner_agreement(
                work / "rr.npy", work / "o1" / "results.nc")
            (out["roadrunner_first_result_s_undosed_100d"],
             samples["roadrunner_first_result_s_undosed_100d"]) = median_of(
                args.repeats, lambda k: roadrunner_first_result(undosed, 100, work / "rr0.npy"))
        out["roadrunner_first_result_s"] = rr
        out["ratio_first_result_vs_roadrunner"] = (out["first_result_s_small"] / rr) if rr else None
        batch = BATCH % str(ROOT / "scenarios" / "ra.yaml")
        seed_cache = fresh(base, "batch")
        run([py, "-c", batch, "adalimumab", "composed"], seed_cache, ROOT)   # builds the module
        for key, tier, env in (
                ("batch_new_drug_set_s", "composed", {}),
                ("batch_new_drug_set_s_own_kernels", "specialised", {"IMMUNESIM_KERNELS": "specialised"}),
                ("batch_new_drug_set_s_generic", "generic", {"IMMUNESIM_KERNELS": "generic"})):
            out[key], samples[key] = median_of(1 if env else args.repeats, lambda k: run(
                [py, "-c", batch, "tocilizumab,baricitinib", tier],
                fresh(seed_cache, f"{key}{k}"), ROOT, **env))
    out["cohort_sims_per_s_ratio"] = cohort_ratio()
    out["samples"] = samples
    out["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
