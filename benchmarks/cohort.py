"""Virtual-trial benchmark: the default RA model, 1 year, 2 arms, 10^4 and 10^5 patients.

The trial (``trial_scenario`` below): RA patients (the preset with between-patient variation
in four mechanisms and body weight) whose disease develops untreated for a year (the
screening run-in, counted in the time), then 52 weeks of placebo or adalimumab 40 mg every 2
weeks, weekly output; ACR20 at weeks 12, 24 and 52. Everything ``immunesim trial`` does is
timed: sampling, run-in, both arms, endpoints, writing the chunk files, the analysis tables
and figures. Each size runs in its own process (``immunesim trial``), so its peak resident
memory (``getrusage`` of the child) is its own; the kernels are compiled before the clock by a
warm-up run. Reported: patient-arms per second on this machine's cores, peak memory at 10^4
and 10^5, and the Dask backend with 2 local worker processes against the local backend at
10^4 (same results, checked).

Run:  python benchmarks/cohort.py [--out benchmarks/results/cohort.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def trial_scenario(size: int, chunk: int = 512) -> dict:
    return {
        "name": f"bench-ra-{size}", "disease": "ra", "seed": 1,
        "time": {"end": "105 w", "output_every": "1 w"},
        "arms": {"placebo": [],
                 "adalimumab": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                 "every": "14 d", "start": "365 d"}]},
        "population": {"size": size,
                       "parameters": {"k_inj_TNF": {"lognormal": 0.5}, "p_TNF_mac": {"lognormal": 0.5},
                                      "p_IL6_dmg": {"lognormal": 0.5}, "w_b_apc": {"lognormal": 0.4}},
                       "covariates": {"body_weight": {"normal": [76, 16]}, "sex": {"female": 0.8}}},
        "trial": {"baseline": "365 d", "weeks": 52, "chunk": chunk,
                  "endpoints": {"ACR20": {"readout": "DAS28_CRP", "improvement": 0.2,
                                          "weeks": [12, 24, 52]}},
                  "variables": ["DAS28_CRP", "CRP"]},
        "solver": {"rtol": 1.0e-5},
    }


def run(size: int, workdir: Path, extra=()) -> dict:
    path = workdir / f"trial_{size}.yaml"
    path.write_text(yaml.safe_dump(trial_scenario(size)))
    out = workdir / f"out_{size}_{'_'.join(extra) or 'local'}"
    code = ("import resource, sys, time; from immunesim.cli import main; t = time.perf_counter(); "
            f"rc = main(['trial', {str(path)!r}, '-o', {str(out)!r}, '-q', *{list(extra)!r}]); "
            "w = time.perf_counter() - t; "
            "print('BENCH', rc, w, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCH")), None)
    if line is None:
        raise RuntimeError(p.stdout + p.stderr)
    _, rc, wall, rss_kb = line.split()
    # peak of the whole tree for Dask: the workers are children of the client process
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest = json.loads((out / "manifest.json").read_text())
    return {"rc": int(rc), "wall_s": float(wall), "peak_mb": int(rss_kb) / 1024.0,
            "children_peak_mb": children / 1024.0, "out": str(out),
            "patient_arms_per_s": 2 * size / float(wall),
            "acceptance_rate": manifest["execution_acceptance_rate"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cohort.json"))
    ap.add_argument("--quick", action="store_true", help="10^3 and 10^4 patients instead")
    args = ap.parse_args(argv)
    small, large = (1_000, 10_000) if args.quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("warm-up (compiles the trial's kernels once)", flush=True)
        run(128, work)
        res = {}
        for n in (small, large):
            print(f"{n} patients x 2 arms ...", flush=True)
            res[n] = run(n, work)
            print(f"  {res[n]['wall_s']:.1f} s, {res[n]['patient_arms_per_s']:.0f} patient-arms/s, "
                  f"peak {res[n]['peak_mb']:.0f} MB", flush=True)
        print(f"{small} patients with Dask, 2 local workers ...", flush=True)
        dask = run(small, work, ("--workers", "2"))
        same = all((Path(dask["out"]) / f).read_text() == (Path(res[small]["out"]) / f).read_text()
                   for f in ("arms.csv", "patients.csv"))
        print(f"  {dask['wall_s']:.1f} s, {dask['patient_arms_per_s']:.0f} patient-arms/s, same results: {same}")
    result = {
        "model": "ra (default preset) + adalimumab, 1 year run-in + 52 weeks, weekly output, rtol 1e-5",
        "patients_small": small, "patients_large": large, "arms": 2,
        "patient_arms_per_s": res[large]["patient_arms_per_s"],
        "patient_arms_per_s_small": res[small]["patient_arms_per_s"],
        "wall_s_large": res[large]["wall_s"], "wall_s_small": res[small]["wall_s"],
        "peak_mb_1e4": res[small]["peak_mb"], "peak_mb_1e5": res[large]["peak_mb"],
        "peak_ratio": res[large]["peak_mb"] / res[small]["peak_mb"],
        "acceptance_rate": res[large]["acceptance_rate"],
        "dask_2_workers_patient_arms_per_s": dask["patient_arms_per_s"],
        "dask_slowdown_vs_local": res[small]["wall_s"] and dask["wall_s"] / res[small]["wall_s"],
        "dask_results_identical": same,
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "targets": {"patient_arms_per_s": ">= 1000 (aim 2000)", "peak_ratio": "<= 1.5",
                    "dask_slowdown_vs_local": "<= 1.3"},
    }
    if args.quick:
        result["note"] = "quick run: sizes 10^3 and 10^4, keys named for 10^4/10^5 hold those"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
