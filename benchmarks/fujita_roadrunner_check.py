"""An independent check of a Fujita fit (issue 20): the negative log-likelihood of
``../shared/petab/Fujita_SciSignal2010`` at a fit's ``best.csv``, computed with
libroadrunner's CVODE instead of immunesim's solvers and objective.

It reads the problem's tables itself and writes out its three observables (Fujita et al.
2010, doi:10.1126/scisignal.2000810, as posed in the PEtab benchmark collection): pAkt_tot =
s_pAkt (pAkt + pAkt_S6), pEGFR_tot = s_pEGFR (pEGFR + pEGFR_Akt), pS6_tot = s_pS6 pS6, with
normal noise of the measurement table's standard deviations. The scalings are taken from
``best.csv`` as they are, not re-optimised. The EGF input is integrated in pieces, switched
off at each condition's ``EGF_end``, so that the integrator never steps across the switch.

Run:  python benchmarks/fujita_roadrunner_check.py [BEST_CSV] [--rtol 1e-10] [--atol 1e-16]
      (no BEST_CSV: the parameter table's nominal values, whose nllh AMICI gives as
      -53.08377736998929)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT.parent / "shared" / "petab" / "Fujita_SciSignal2010"
END = 3600.0                                       # the last measurement, s
OUTPUTS = ("pAkt", "pAkt_S6", "pEGFR", "pEGFR_Akt", "pS6")


def table(name: str) -> list[dict]:
    with open(PROBLEM / name, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def parameters(best: Path | None) -> dict:
    """Linear values by id: a fit's ``best.csv`` (columns parameter, value) or the nominal ones."""
    if best is None:
        return {r["parameterId"]: float(r["nominalValue"])
                for r in table("parameters_Fujita_SciSignal2010.tsv")}
    with open(best, newline="") as f:
        return {r["parameter"]: float(r["value"]) for r in csv.DictReader(f)}


def simulate(rr, par: dict, cond: dict, times: list[float]) -> dict:
    """Species of OUTPUTS at ``times`` for one condition (EGF_0 + EGF_rate t until EGF_end)."""
    rr.resetAll()
    for k, v in par.items():
        if not k.startswith("scaling_"):
            rr[k] = v
    rr["EGFR"], rr["Akt"], rr["S6"] = par["init_EGFR"], par["init_AKT"], par["init_S6"]
    e0, rate, end = float(cond["EGF_0"]), float(cond["EGF_rate"]), float(cond["EGF_end"])
    rr["EGF_end"] = 1e30                            # the pieces below do the switching
    pieces = [(0.0, min(end, END), e0, rate)] + ([(end, END, 0.0, 0.0)] if end < END else [])
    out = {}
    for a, b, egf0, slope in pieces:
        rr["EGF_0"], rr["EGF_rate"] = egf0, slope
        pts = sorted({a, b, *(t for t in times if a <= t <= b)})
        for row in rr.simulate(times=pts, selections=["time", *OUTPUTS]):
            t = float(row[0])
            if t in times and t not in out:
                out[t] = dict(zip(OUTPUTS, map(float, row[1:])))
    return out


def nllh(par: dict, rtol: float, atol: float) -> float:
    import roadrunner

    rr = roadrunner.RoadRunner(str(PROBLEM / "model_Fujita_SciSignal2010.xml"))
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = 10 ** 6
    conds = {r["conditionId"]: r for r in table("experimentalCondition_Fujita_SciSignal2010.tsv")}
    meas = table("measurementData_step_Fujita_SciSignal2010.tsv")
    times: dict = {}
    for m in meas:
        times.setdefault(m["simulationConditionId"], set()).add(float(m["time"]))
    sims = {c: simulate(rr, par, conds[c], sorted(ts)) for c, ts in times.items()}
    total = 0.0
    for m in meas:
        x = sims[m["simulationConditionId"]][float(m["time"])]
        g = {"pAkt_tot": x["pAkt"] + x["pAkt_S6"], "pEGFR_tot": x["pEGFR"] + x["pEGFR_Akt"],
             "pS6_tot": x["pS6"]}[m["observableId"]]
        h = par[m["observableParameters"]] * g
        sd = float(m["noiseParameters"])
        total += 0.5 * math.log(2 * math.pi * sd * sd) + 0.5 * ((float(m["measurement"]) - h) / sd) ** 2
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("best", nargs="?", type=Path, help="a fit's best.csv (default: nominal values)")
    ap.add_argument("--rtol", type=float, default=1e-10)
    ap.add_argument("--atol", type=float, default=1e-16)
    args = ap.parse_args(argv)
    if not PROBLEM.is_dir():
        ap.error(f"the shared Fujita problem is absent ({PROBLEM})")
    value = nllh(parameters(args.best), args.rtol, args.atol)
    print(json.dumps({"nllh_libroadrunner": value, "best": str(args.best or "nominal"),
                      "rtol": args.rtol, "atol": args.atol}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
