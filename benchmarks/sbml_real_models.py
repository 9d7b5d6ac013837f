"""Real published SBML models: immunesim's import against libRoadRunner at tight tolerances.

The models are BioModels BIOMD0000000732 (Kirschner and Panetta 1998, tumour-immune dynamics
with IL-2 immunotherapy, doi:10.1007/s002850050127; in ``tests/data/biomodels/``, its
annotations left out), BioModels BIOMD0000000536 (Dwivedi et al. 2014, IL-6 signalling in
Crohn's disease with sgp130Fc dosed by 13 events, doi:10.1038/psp.2013.64; 39 species, 66
reactions; transcribed into ``tests/data/biomodels/`` by the script beside it, here with a
weekly dose of 10 and a four-weekly one of 20 over 14 weeks) and the two of ``../shared/petab/`` (Boehm et al. 2014,
doi:10.1021/pr5006923, and Fujita et al. 2010, doi:10.1126/scisignal.2000810; each as its PEtab
problem ships it, skipped where that folder is absent). Each is
imported with :func:`immunesim.load_sbml` and simulated on the generic kernels, and loaded and
simulated by libRoadRunner, both at rtol 1e-10 and atol 1e-14. Every id ``immunesim sbml run``
reports (the species as concentrations, and what rules change) is compared at every output time:
``max_rel_diff`` is the largest ``|ours - roadrunner| / |roadrunner|`` (with 1e-12 of the
series' largest value added to the denominator, so a value crossing zero does not divide by
zero). Target (issue 19): agreement to 1e-4 relative.

Run:  python benchmarks/sbml_real_models.py [--out benchmarks/results/sbml_real_models.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import immunesim as im

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "petab"
#: (label, SBML file, simulated span, values set): the PEtab models over their measurements'
#: span, Fujita's with one of its conditions
MODELS = (("BIOMD0000000732_Kirschner1998", ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000732.xml",
           1000.0, {}),
          ("BIOMD0000000536_Dwivedi2014", ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000536.xml",
           2352.0, {"parameter_1": 10.0, "parameter_3": 20.0}),
          ("Boehm_JProteomeRes2014", SHARED / "Boehm_JProteomeRes2014" / "model_Boehm_JProteomeRes2014.xml",
           240.0, {}),
          ("Fujita_SciSignal2010", SHARED / "Fujita_SciSignal2010" / "model_Fujita_SciSignal2010.xml",
           3600.0, {"EGF_0": 30.0, "EGF_rate": 0.0, "EGF_end": 3600.0}))
RTOL, ATOL, POINTS = 1e-10, 1e-14, 97


def with_values(path: Path, values: dict) -> str:
    """The SBML text of ``path`` with parameter ``values`` set by libsbml (both tools read it)."""
    import libsbml

    doc = libsbml.readSBMLFromFile(str(path))
    for pid, v in values.items():
        doc.getModel().getParameter(pid).setValue(v)
    return libsbml.writeSBMLToString(doc)


def compare(name: str, path: Path, t_end: float, values: dict) -> dict:
    """One model: import and simulate both ways; the worst relative difference and the times."""
    import roadrunner

    text = with_values(path, values)
    t = np.linspace(0.0, t_end, POINTS)
    start = time.perf_counter()
    model = im.load_sbml(text)
    ours = im.simulate(model, t, rtol=RTOL, atol=ATOL, kernels="generic")
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    ids = model.sbml.reported()
    symbols = model.sbml.symbols
    rr.timeCourseSelections = ["time"] + [
        f"[{i}]" if symbols[i].kind == "species" and not symbols[i].only_substance else i
        for i in ids]
    theirs = rr.simulate(0.0, t_end, POINTS)
    rr_s = time.perf_counter() - start
    worst, where = 0.0, ""
    for k, sid in enumerate(ids):
        a, b = model.values(ours, sid), theirs[:, k + 1]
        rel = np.abs(a - b) / (np.abs(b) + 1e-12 * max(np.abs(b).max(), 1e-300))
        if rel.max() > worst:
            worst, where = float(rel.max()), sid
    return {"model": name, "counts": model.sbml.counts, "time_unit": model.time_unit,
            "values_set": values, "t_end": t_end, "points": POINTS, "ids_compared": len(ids), "status": ours.message,
            "max_rel_diff": worst, "worst_id": where, "immunesim_first_result_s": round(ours_s, 3),
            "roadrunner_first_result_s": round(rr_s, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sbml_real_models.json"))
    args = ap.parse_args(argv)
    rows = []
    for spec in MODELS:
        if not spec[1].is_file():
            print(f"{spec[0]}: skipped, {spec[1]} is absent")
            continue
        rows.append(compare(*spec))
    for r in rows:
        print(f"{r['model']}: {r['ids_compared']} ids, max relative difference "
              f"{r['max_rel_diff']:.2e} ({r['worst_id']}); first result immunesim "
              f"{r['immunesim_first_result_s']:.2f} s (in this process), libRoadRunner "
              f"{r['roadrunner_first_result_s']:.2f} s")
    out = {"rtol": RTOL, "atol": ATOL, "target_max_rel_diff": 1e-4, "models": rows}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
