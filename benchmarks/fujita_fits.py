"""Fujita fits over several seeds (issue 20's target: a 20-start fit reaches the reference
nllh): each seed runs ``immunesim fit ../shared/petab/Fujita_SciSignal2010/... -o
WORKDIR/seed_S_... --seed S [--screen N] [--no-finish] --resume`` (with ``--screen N``: N
uniform candidates, 100 iterations each, the 20 lowest continued to 1000 iterations in all;
README "Fitting"), and the record collects, per seed, the best nllh, whether it is at least as
good as the reference, each start's final nllh (and where the fit finishes each start on the
full problem, its nllh before that) and the screen's lowest candidates.

Run:  python benchmarks/fujita_fits.py --seeds 0 1 2 [--screen 0|200] [--no-finish]
          [--workdir DIR] [--processes 2] [--out benchmarks/results/fujita_fits.json]

Each fit is resumable (its folder keeps every finished candidate and start), and the record is
rewritten atomically after each seed, keeping the seeds of earlier runs that this one does not
repeat. A seed takes ~20-45 minutes on 2 cores (Fujita's kernels compiled once, ~70 s, and
cached).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from immunesim.durable import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT.parent / "shared" / "petab" / "Fujita_SciSignal2010" / "Fujita_SciSignal2010.yaml"
#: AMICI's value at the parameter table's nominal values (../shared/petab/README.md)
REFERENCE = -53.08377736998929


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def collect(folder: Path, seed: int, wall_s: float | None) -> dict:
    """One finished screened fit's summary from its folder."""
    fit = json.loads((folder / "fit.json").read_text())
    starts = sorted(rows(folder / "starts.csv"), key=lambda r: float(r["nllh"]))
    screen = sorted(rows(folder / "screen.csv"), key=lambda r: float(r["nllh"])) \
        if (folder / "screen.csv").is_file() else []
    return {
        "seed": seed, "screen": fit.get("screen"), "screen_iter": fit.get("screen_iter"),
        "n_starts": fit["n_starts"], "max_iter": fit["max_iter"], "kernels": fit["kernels"],
        "finish": fit.get("finish", False),
        "best_nllh": fit["nllh"], "reaches_reference": fit["nllh"] <= REFERENCE + 1e-3,
        "best_start": fit["best_start"], "best_at_bounds": fit["best_at_bounds"],
        "starts_final_nllh_sorted": [round(float(r["nllh"]), 3) for r in starts],
        "starts_at_limit": [round(float(r["nllh"]), 3) for r in starts if r["status"] == "maxiter"],
        "starts_before_finish": {int(r["start"]): round(float(r["nllh_hierarchical"]), 3)
                                 for r in starts if "nllh_hierarchical" in r},
        "screen_lowest": [{"candidate": int(r["candidate"]), "nllh_after_screen": round(float(r["nllh"]), 3),
                           "continued_as_start": r["continued_as_start"]} for r in screen[:8]],
        "candidates_below_700_after_screen": sum(float(r["nllh"]) < 700 for r in screen),
        "parameters_scaled": fit["parameters_scaled"],
        "fit_time_s": fit.get("time_s"), "wall_s_this_run": wall_s,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--screen", type=int, default=0, help="candidates to screen (0: a plain fit)")
    ap.add_argument("--no-finish", action="store_true", help="pass --no-finish to the fit")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/fujita_fits"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fujita_fits.json")
    args = ap.parse_args(argv)
    if not PROBLEM.is_file():
        print(f"fujita_fits: {PROBLEM} not found (the shared PEtab problems)", file=sys.stderr)
        return 2
    exe = shutil.which("immunesim")
    if exe is None:
        print("fujita_fits: the immunesim command is not on PATH (pip install -e '.[fit]')",
              file=sys.stderr)
        return 2
    record = json.loads(args.out.read_text()) if args.out.is_file() else {}
    record.update(problem="Fujita_SciSignal2010", reference_nllh=REFERENCE,
                  command="immunesim fit PROBLEM -o DIR --seed S [--screen N] [--no-finish] "
                          "--resume (20 starts, --screen-iter 100, --max-iter 1000, specialised "
                          "kernels); fits are keyed SEED:KIND")
    fits = record.setdefault("fits", {})
    for seed in args.seeds:
        kind = (f"screen_{args.screen}" if args.screen else "plain") + \
            ("_no_finish" if args.no_finish else "")
        folder = args.workdir / f"seed_{seed}_{kind}"
        t0 = time.perf_counter()
        cmd = [exe, "fit", str(PROBLEM), "-o", str(folder), "--seed", str(seed),
               "--processes", str(args.processes), "--quiet", "--json"]
        cmd += ["--screen", str(args.screen)] if args.screen else []
        cmd += ["--no-finish"] if args.no_finish else []
        if (folder / "starts" / "run.json").is_file():
            cmd.append("--resume")
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"seed {seed}: immunesim fit failed ({done.returncode}):\n{done.stderr[-2000:]}",
                  file=sys.stderr)
            return 1
        summary = collect(folder, seed, time.perf_counter() - t0)
        summary["date"] = date.today().isoformat()
        fits[f"{seed}:{kind}"] = summary
        write_text_atomic(args.out, json.dumps(record, indent=1) + "\n")
        print(f"seed {seed}, {kind}: best {summary['best_nllh']:.4f} "
              f"({'reaches' if summary['reaches_reference'] else 'misses'} the reference "
              f"{REFERENCE:.4f}); continued starts: {summary['starts_final_nllh_sorted'][:5]} ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
