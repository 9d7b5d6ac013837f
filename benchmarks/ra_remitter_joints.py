"""Do the simulated DAS28 remitters keep joints outside the 28, and how many? A check of the
measured joint counts that no fit used (issue 21; README, calibration item 10).

Cohorts find activity in the feet (a tender or swollen MTP joint) in 26-40 % of patients in
28-joint remission (van Tuyl et al. 2012, Ann Rheum Dis 71:33) and foot synovitis in 43 % of
those with DAS28-ESR < 2.6 (Wechalekar et al. 2012, doi:10.1002/art.33506). This runs the
training scenario (``scenarios/ra_trials_training.yaml``, every arm) with the measured
full counts kept in the trajectories and reports, among the patients with a measured
DAS28-ESR below 2.6 at weeks 24 and 52: the share with at least one swollen joint outside the
28 (``SJC66`` minus the 28-joint count the preset's share gives), with any tender or swollen
joint outside, with no joint at all in the full counts, and the median full counts.
``--tender-share`` / ``--swollen-share`` (``active,rest,half``) recount the same measured
counts with another 28-joint share (the remission status stays the preset's). Writes
``benchmarks/results/ra_remitter_joints.json``.

Run:  python benchmarks/ra_remitter_joints.py [--size 500] [--seed 2026]
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
PUBLISHED = {"feet_active_in_28_joint_remission": [0.26, 0.40], "source": "van Tuyl 2012; Wechalekar 2012 (43 %)"}


def remitter_joints(outdir: Path, tender, swollen, weeks=(24, 52)) -> dict:
    """The check's numbers per arm and week from a trial's trajectories."""
    import xarray as xr

    pooled: dict = {}
    for f in sorted((outdir / "trajectories").glob("chunk-*.nc")):
        with xr.open_dataset(f) as d:
            tr, t = d["trajectory"], d["time"].values
            for arm in d["arm"].values:
                x = tr.sel(arm=arm)
                for wk in weeks:
                    j = int(np.argmin(np.abs(t - (t[0] + 7.0 * wk))))
                    cols = [x.sel(variable=v).values[:, j] for v in ("DAS28_ESR", "TJC68", "SJC66")]
                    ok = np.isfinite(cols[0])
                    for k, c in enumerate(cols):
                        pooled.setdefault((str(arm), wk), ([], [], []))[k].append(c[ok])
    out = {}
    for (arm, wk), parts in sorted(pooled.items()):
        das, tj, sj = (np.concatenate(p) for p in parts)
        rem = das < 2.6
        if not rem.any():
            continue
        t_out, s_out = tj - tender.count28(tj), sj - swollen.count28(sj)
        out[f"{arm}, week {wk}"] = {
            "remitters": int(rem.sum()), "remission": round(float(rem.mean()), 3),
            "swollen_outside_28": round(float((s_out >= 1)[rem].mean()), 3),
            "any_outside_28": round(float(((t_out >= 1) | (s_out >= 1))[rem].mean()), 3),
            "no_joint_in_full_counts": round(float(((tj + sj) == 0)[rem].mean()), 3),
            "median_TJC68": float(np.median(tj[rem])), "median_SJC66": float(np.median(sj[rem]))}
    return out


def share(text: str | None, default):
    from immunesim.diseases.clinical import JointShare

    if text is None:
        return default
    a, r, h = (float(v) for v in text.split(","))
    return JointShare(a, r, h)


def main() -> None:
    from immunesim.diseases.build import clinical
    from immunesim.durable import write_text_atomic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--tender-share", help="active,rest,half (default: the preset's)")
    ap.add_argument("--swollen-share", help="active,rest,half (default: the preset's)")
    args = ap.parse_args()
    das = clinical("ra").das28
    tender, swollen = share(args.tender_share, das.tender_28_share), share(args.swollen_share, das.swollen_28_share)
    data = yaml.safe_load((ROOT / "scenarios/ra_trials_training.yaml").read_text())
    data["seed"], data["population"]["size"] = args.seed, args.size
    data["trial"]["variables"] = ["DAS28_ESR", "TJC68", "SJC66"]
    data["trial"].pop("published", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        subprocess.run([sys.executable, "-m", "immunesim.cli", "trial", str(path), "-o",
                        str(Path(tmp) / "out"), "--quiet"], check=True)
        arms = remitter_joints(Path(tmp) / "out", tender, swollen)
    result = {"seed": args.seed, "size": args.size, "tender_28_share": str(tender),
              "swollen_28_share": str(swollen), "published": PUBLISHED, "arms": arms}
    for k, v in arms.items():
        print(f"{k}: remission {v['remission']:.1%}; remitters with a swollen joint outside the 28 "
              f"{v['swollen_outside_28']:.0%}, any joint outside {v['any_outside_28']:.0%}, "
              f"none in 68/66 {v['no_joint_in_full_counts']:.0%} (published: feet active in 26-43 %)")
    write_text_atomic(ROOT / "benchmarks/results/ra_remitter_joints.json", json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
