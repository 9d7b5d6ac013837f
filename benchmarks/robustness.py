"""Robustness of each preset's documented state to its calibrated parameters (issue 21, item 7).

For every preset: ``n`` joint perturbations of all parameters whose source says they were
calibrated, each by an independent factor uniform in 1 ± 20 %, the untreated preset run from
its documented start to its ``t_end``, and the share of draws that keep every criterion of its
``chronic_state`` (:func:`immunesim.analysis.robustness.robustness`). Writes
``benchmarks/results/robustness.json``.

Run:  python benchmarks/robustness.py [--n 1000] [--spread 0.2] [--out benchmarks/results/robustness.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from immunesim.analysis.robustness import robustness
from immunesim.diseases.build import diseases
from immunesim.durable import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--spread", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "robustness.json"))
    args = ap.parse_args()
    rows = {}
    for name in diseases():
        t0 = time.perf_counter()
        r = robustness(name, n=args.n, spread=args.spread, seed=args.seed)
        r["wall_s"] = round(time.perf_counter() - t0, 2)
        rows[name] = r
        worst = max(r["criteria"].items(), key=lambda kv: kv[1], default=("-", 0.0))
        print(f"{name:10s} {len(r['parameters']):3d} parameters  kept {100 * r['kept']:5.1f} %  "
              f"(most failed: {worst[0]} {100 * worst[1]:.1f} %)  {r['wall_s']:.1f} s", flush=True)
    write_text_atomic(args.out, json.dumps({"n": args.n, "spread": args.spread, "seed": args.seed,
                                       "presets": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
