"""Fit the MTX-IR population's between-patient spread to the training trials (issue 21): the
lognormal CVs of the injury weights in ``scenarios/ra_trials_training.yaml``
(``population.parameters``), so that how those values were found can be repeated.

1. Each evaluation runs the whole training trial (500 patients, placebo / adalimumab /
   tocilizumab with methotrexate, 52 weeks, its own seed or each of ``--seeds``, the scores
   averaged) with the CVs set, through
   :func:`immunesim.trial`, on the composed kernels (nothing compiles after the first run).
2. The score is the sum over the 22 published rates of ``trial.published`` (ARMADA, OPTION,
   LITHE) of squared z-scores, ``(simulated - published) / sqrt(q / n_sim + q / n_published)``
   with ``q = p (1 - p)`` of the published rate (at least 0.01): the score
   ``benchmarks/ra_training_fit.py`` minimises over the measurement (its ``z_squared``). It also counts the rates
   inside the simulated 95 % interval (the issue's target: all 22).
3. Nelder-Mead on the logarithms of the CVs, each held in ``BOUNDS``; the population is drawn
   again at every evaluation from the same seed (common random numbers), so the score moves
   only through the CVs.

Only the population's spread is fitted here: the preset's own parameters (and with them the
robustness of item 7 and the preset's patient) are not touched. ORAL Solo is not in the score.
Writes ``benchmarks/results/ra_population_fit.json`` (every evaluation and the best).

Run:  python benchmarks/ra_population_fit.py [--evaluations 40] [--size 500] [--seeds 2026,7] [--out ...]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import yaml
from ra_training_fit import z_squared     # the same score; run from benchmarks/ as the others

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "ra_trials_training.yaml"
#: the fitted CVs and the range each is held in (lognormal CVs of the scenario's population)
NAMES = ["k_inj_TNF", "k_inj_IL6", "k_inj_T", "k_inj_mac", "k_inj_C"]
BOUNDS = [(0.3, 3.0)] * len(NAMES)


def score(summary: dict) -> tuple[float, int, list]:
    """(z-score sum, rates inside the simulated interval, rows) of a trial's ``published`` block."""
    total, inside, rows = 0.0, 0, []
    for p in summary["published"]:
        total += z_squared(p["simulated"], p["published"], p["n"], p["n_published"])
        inside += bool(p["inside"])
        rows.append({k: p[k] for k in ("trial", "arm", "endpoint", "week", "published",
                                        "simulated", "inside")})
    return total, inside, rows


def main() -> None:
    from scipy.optimize import minimize

    import immunesim as im
    from immunesim.durable import write_text_atomic
    from immunesim.scenario.schema import validate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluations", type=int, default=40)
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--seeds", default="",
                    help="comma-separated population seeds whose scores are averaged (default: the "
                         "scenario's own); one population's seed moves the score by ~20")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ra_population_fit.json"))
    args = ap.parse_args()
    base = yaml.safe_load(SCENARIO.read_text())
    base["population"]["size"] = args.size
    base["trial"]["variables"] = []
    history = []

    seeds = [int(x) for x in args.seeds.split(",") if x.strip()] or [int(base["seed"])]

    def evaluate(cvs: dict) -> tuple[float, int, list]:
        t0 = time.perf_counter()
        scores, insides = [], []
        for seed in seeds:
            data = copy.deepcopy(base)
            data["seed"] = seed
            for name, cv in cvs.items():
                data["population"]["parameters"][name] = {"lognormal": float(cv)}
            res = im.trial(validate(data))
            s, inside, rows = score(res.summary)
            scores.append(s)
            insides.append(inside)
        s, inside = float(np.mean(scores)), float(np.mean(insides))
        history.append({"score": s, "inside": inside, "values": cvs, "seeds": seeds, "scores": scores,
                        "seconds": round(time.perf_counter() - t0, 1)})
        print(f"{s:8.1f}  inside {inside:4.1f}  " + "  ".join(f"{k} {v:.3g}" for k, v in cvs.items()),
              flush=True)
        return s, inside, rows

    start = {n: float(base["population"]["parameters"][n]["lognormal"]) for n in NAMES}
    x0 = np.log([start[n] for n in NAMES])
    simplex = np.array([x0] + [x0 + np.log(1.3) * np.eye(len(NAMES))[i] for i in range(len(NAMES))])
    minimize(lambda x: evaluate(dict(zip(NAMES, map(float, np.exp(x)))))[0], x0,
             method="Nelder-Mead", bounds=[(math.log(a), math.log(b)) for a, b in BOUNDS],
             options={"maxfev": args.evaluations, "initial_simplex": simplex, "xatol": 0.03,
                      "fatol": 1.0})
    best = min(history, key=lambda h: h["score"])
    _, _, rows = evaluate(best["values"])
    out = Path(args.out)
    write_text_atomic(out, json.dumps({"start": start, "start_score": history[0]["score"],
                                       "start_inside": history[0]["inside"], "best": best,
                                       "rates": rows, "evaluations": history}, indent=2) + "\n")
    print(f"best {best['score']:.1f}, {best['inside']:.1f} inside (start {history[0]['score']:.1f}, "
          f"{history[0]['inside']} inside)")


if __name__ == "__main__":
    main()
