"""How the RA model's immune state moves under each training drug, week by week: a diagnostic
of the on-treatment course that no fit used (issue 21; README, calibration item 12).

Runs a training scenario (``scenarios/ra_trials_training.yaml``, or ORAL Solo's
``scenarios/ra_trials_oral_solo.yaml`` with ``--trial oral-solo``) with the latent states kept
in the trajectories and reports, per arm and state, the median at the baseline visit and the
median of each patient's value relative to it at weeks 1 to 52 (those inside the trial).
``--set NAME=VALUE`` (repeatable) sets a model parameter for every patient (the scenario's
``parameters:``), to measure a variant the same way; the README's tried variants were
measured so. Prints the table and the trial's endpoint rates, and writes
``benchmarks/results/ra_on_treatment_course.json`` (``--out`` another file).

Run:  python benchmarks/ra_on_treatment_course.py [--trial training|oral-solo] [--seed 2026]
          [--size 500] [--set k_mac_il10=0 --set d_mac=0.9] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"training": ROOT / "scenarios/ra_trials_training.yaml",
             "oral-solo": ROOT / "scenarios/ra_trials_oral_solo.yaml"}
#: the states followed: effector and regulatory T cells, the IL-2 between them, the IL-10 the
#: Tregs make and the macrophages it deactivates, the restimulation of effectors, the damage
STATES = ["Th1", "Th17", "Treg", "IL2", "IL10", "sig_IL10", "activation", "Mac", "TNF", "IL6",
          "Dmg", "DAS28_CRP"]
WEEKS = (1, 2, 4, 8, 12, 24, 52)


def course(outdir: Path, baseline_day: float, states=STATES, weeks=WEEKS) -> dict:
    """Per arm and state: the median at baseline and the median fold change at each week."""
    import immunesim as im

    ds = im.open_trajectories(outdir).load()
    t = ds.time.values
    wk = (t - baseline_day) / 7.0
    j0 = int(np.argmin(np.abs(wk)))
    out: dict = {}
    for arm in ds.arm.values:
        rows = {}
        for v in states:
            x = ds.trajectory.sel(arm=arm, variable=v).values
            base = x[:, j0]
            ok = np.isfinite(base) & (np.abs(base) > 0)
            row = {"baseline_median": float(np.median(base[ok]))}
            for w in weeks:
                j = int(np.argmin(np.abs(wk - w)))
                if abs(wk[j] - w) < 0.5:
                    rel = x[ok, j] / base[ok]
                    row[f"week {w}"] = round(float(np.nanmedian(rel)), 3)
            rows[v] = row
        out[str(arm)] = rows
    return out


def main() -> None:
    from immunesim.durable import write_text_atomic
    from immunesim.units import to_unit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trial", choices=sorted(SCENARIOS), default="training")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--size", type=int, default=None, help="patients per arm (default: the scenario's)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a model parameter for every patient (repeatable)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ra_on_treatment_course.json")
    args = ap.parse_args()
    path = SCENARIOS[args.trial]
    data = yaml.safe_load(path.read_text())
    data["seed"] = args.seed
    pop = data["population"]
    if "from" in pop:                                  # a path relative to the scenario's folder
        pop["from"] = str((path.parent / pop["from"]).resolve())
    if args.size:
        pop["size"] = args.size
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        if not name or not value:
            sys.exit(f"--set: expected NAME=VALUE, got {item!r}")
        overrides[name.strip()] = float(value)
    if overrides:
        data["parameters"] = {**(data.get("parameters") or {}), **overrides}
    data["trial"]["variables"] = STATES
    baseline = to_unit(data["trial"]["baseline"], "day")          # "365 d", "1 year" or days
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.yaml"
        scenario.write_text(yaml.safe_dump(data, sort_keys=False))
        outdir = Path(tmp) / "out"
        run = subprocess.run([sys.executable, "-m", "immunesim.cli", "trial", str(scenario), "-o",
                              str(outdir), "--quiet"], check=False)
        if run.returncode not in (0, 3):                # 3: a published rate outside its interval
            sys.exit(run.returncode)
        table = course(outdir, baseline)
        summary = json.loads((outdir / "trial.json").read_text())
    rates = {f"{a['arm']} {a['endpoint']} week {a['week']:g}": round(a["rate"], 3) for a in summary["arms"]}
    for arm, rows in table.items():
        for v, row in rows.items():
            cells = " ".join(f"w{k.split()[1]} {x:.2f}" for k, x in row.items() if k.startswith("week"))
            print(f"{arm:12s} {v:11s} baseline {row['baseline_median']:9.3g} | {cells}")
    for k, r in rates.items():
        print(f"{k}: {r:.1%}")
    result = {"trial": args.trial, "scenario": str(path.relative_to(ROOT)), "seed": args.seed,
              "size": pop.get("size"), "parameters_set": overrides,
              "note": "median over patients of each state relative to its baseline value", "course": table,
              "rates": rates}
    write_text_atomic(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
