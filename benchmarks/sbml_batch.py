"""A 1,000-patient batch of an imported SBML model against the same model built in: the example
anti-TNF model (scenarios/models/antitnf_cytokine.yaml, 25 variables) exported to SBML and
imported back with ``immunesim.load_sbml``, each run as a cohort on its specialised kernels
(compiled first, not timed), one patient per parameter draw, in one process.

Writes ``benchmarks/results/sbml_batch.json``: ``builtin_sims_per_s``, ``imported_sims_per_s``
(imported with ``report_rates=False``: the cohort records what the built-in one records),
``imported_with_rates_sims_per_s`` (the default: every reaction's rate recorded too), their
ratios to the built-in model (best of ``--repeats`` timings each, the three interleaved), the largest relative
difference between the built-in and imported cohorts' trajectories, and the machine.

Run:  python benchmarks/sbml_batch.py [--patients 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sbml_batch.json")
    args = ap.parse_args()
    import immunesim as im
    from immunesim.io.sbml import to_sbml

    builtin = im.load_model(ROOT / "scenarios" / "models" / "antitnf_cytokine.yaml")
    imported = im.load_sbml(to_sbml(builtin), report_rates=False)
    reported = im.load_sbml(to_sbml(builtin))            # every reaction's rate reported too
    rng = np.random.default_rng(7)
    name = "s_ag"                       # the antigen source: the disease's drive
    base = builtin.parameters[builtin.parameter_index[name]].value
    values = base * np.exp(rng.normal(0.0, 0.2, args.patients))
    t = np.linspace(0.0, 120.0, 121)
    out, results = {}, {}
    models = {"builtin": builtin, "imported": imported, "imported_with_rates": reported}
    for model in models.values():
        im.simulate_batch(model, {name: values[:2]}, t, kernels="specialised")   # compile
    best = dict.fromkeys(models, np.inf)
    for _ in range(args.repeats):       # interleaved: the machine's drift falls on all alike
        for label, model in models.items():
            t0 = time.perf_counter()
            results[label] = im.simulate_batch(model, {name: values}, t, kernels="specialised",
                                               rtol=1e-6, atol=1e-9)
            best[label] = min(best[label], time.perf_counter() - t0)
    for label in models:
        out[f"{label}_sims_per_s"] = round(args.patients / best[label], 1)
    a = np.stack([results["builtin"].dataset["y"].sel(variable=s).values
                  for s in builtin.species_names])
    b = np.stack([results["imported"].dataset["y"].sel(variable=imported.sbml.symbols[s].name).values
                  for s in builtin.species_names])
    scale = np.abs(a).max(axis=(1, 2), keepdims=True) + 1e-300
    out["max_rel_difference"] = float(np.max(np.abs(a - b) / scale))
    out["ratio_imported_vs_builtin"] = round(out["imported_sims_per_s"] / out["builtin_sims_per_s"], 3)
    out["ratio_imported_with_rates_vs_builtin"] = round(
        out["imported_with_rates_sims_per_s"] / out["builtin_sims_per_s"], 3)
    out["patients"] = args.patients
    out["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(args.out)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
