"""Pharmacokinetic models of library drugs, built as engine models.

Species (mg): ``Depot`` (SC or gut, first-order absorption ``ka``), ``Central`` and, for a
two-compartment drug, ``Peripheral``. Concentration ``C = Central / V`` in ug/mL (1 mg/L =
1 ug/mL). Elimination is linear (``CL``) plus, where the drug has it, Michaelis-Menten
(``Vmax * C / (Km + C)``: the quasi-steady-state limit of target-mediated disposition when
the target is small relative to the drug; Mager & Jusko 2001, doi:10.1023/A:1014414520282).
Where a label reports clearance falling over treatment (pembrolizumab, nivolumab), the
linear clearance is ``CL x exp(CL_Emax x Ttx^g / (CL_T50^g + Ttx^g))`` with ``Ttx`` the days
since the first dose (1e-6 day added to keep the Jacobian finite at the first dose; a sigmoid-Emax function of time: Bajaj et al. 2017, CPT Pharmacometrics
Syst Pharmacol 6:58, doi:10.1002/psp4.12143); ``Ttx`` runs once the switch species ``TxOn``
is set to 1 by the first dose's event.
Bioavailability ``F`` scales what reaches the depot. Weight scaling:
``CL, Q, Vmax x (W/70)^e_CL``, ``V, V2 x (W/70)^e_V``.
"""

from __future__ import annotations

from ..model.loader import model_from_dict
from ..model.model import Model
from .library import PK_UNITS
from .library import drug as _drug

REFERENCE_WEIGHT_KG = 70.0


def scaled_parameters(name: str, weight_kg: float = REFERENCE_WEIGHT_KG) -> dict[str, float]:
    """PK parameter values for a patient of ``weight_kg`` (units as in the library)."""
    d = _drug(name)
    pk = d["pk"]
    r = weight_kg / REFERENCE_WEIGHT_KG
    e_cl = pk.get("weight_exponent_CL", {}).get("value", 0.0)
    e_v = pk.get("weight_exponent_V", {}).get("value", 0.0)
    out = {}
    for p, entry in pk["parameters"].items():
        v = float(entry["value"])
        if p in ("CL", "Q", "Vmax"):
            v *= r ** e_cl
        elif p in ("V", "V2"):
            v *= r ** e_v
        out[p] = v
    return out


def pk_model(name: str, weight_kg: float = REFERENCE_WEIGHT_KG) -> Model:
    """The PK model of drug ``name`` for a patient of ``weight_kg``."""
    d = _drug(name)
    pk = d["pk"]
    p = scaled_parameters(name, weight_kg)
    two = pk["model"] == "two_compartment"
    species = [{"name": "Depot", "unit": "mg", "initial": 0.0, "description": "SC depot or gut"},
               {"name": "Central", "unit": "mg", "initial": 0.0, "description": "central compartment"}]
    if two:
        species.append({"name": "Peripheral", "unit": "mg", "initial": 0.0,
                        "description": "peripheral compartment"})
    tv = "CL_Emax" in p
    if tv:
        species += [{"name": "TxOn", "unit": "1", "initial": 0.0,
                     "description": "1 once the first dose is given (switch for time on treatment)"},
                    {"name": "Ttx", "unit": "day", "initial": 0.0, "description": "time since the first dose"}]
    src = {k: v["source"] for k, v in pk["parameters"].items()}
    params = [{"name": k, "value": v, "unit": PK_UNITS[k],
               "source": src[k] + ("" if weight_kg == REFERENCE_WEIGHT_KG else f"; scaled to {weight_kg:g} kg")}
              for k, v in p.items()]
    for entry in params:
        if entry["name"] == "CL_Emax":  # a log-fold change: negative when clearance falls
            entry["bounds"] = [-5.0, 5.0]
    if "ka" not in p:
        params.append({"name": "ka", "value": 1.0, "unit": "1/day",
                       "source": "unused: this drug is given IV only"})
    processes = [
        {"name": "absorption", "rate": "ka*Depot", "stoichiometry": {"Depot": -1, "Central": 1}},
        {"name": "linear_elimination",
         "rate": "CL*exp(CL_Emax/(1 + (CL_T50/(Ttx + 1e-6))^CL_gamma))*C" if tv else "CL*C",
         "stoichiometry": {"Central": -1}},
    ]
    if tv:
        processes.append({"name": "time_on_treatment", "rate": "TxOn", "stoichiometry": {"Ttx": 1}})
    if "Vmax" in p:
        processes.append({"name": "target_mediated_elimination", "rate": "Vmax*C/(Km + C)",
                          "stoichiometry": {"Central": -1}})
    if two:
        processes.append({"name": "distribution", "rate": "Q*(C - Peripheral/V2)",
                          "stoichiometry": {"Central": -1, "Peripheral": 1}})
    return model_from_dict({
        "name": f"pk_{d['name']}", "time_unit": "day",
        "description": f"{d['name']} ({d.get('brand', '')}) pharmacokinetics",
        "species": species, "parameters": params,
        "rules": [{"name": "C", "expression": "Central/V", "unit": "ug/mL",
                   "description": "serum concentration"}],
        "processes": processes}, where=f"PK model of {d['name']}")


def population_parameters(name: str, weights_kg, rng) -> dict:
    """Per-patient PK parameters: weight-scaled typical values times log-normal
    between-patient variability from the drug's ``variability`` block (its covariance of
    log-parameters, from the cited population-PK analysis). Drugs without one get the
    typical values."""
    import numpy as np

    d = _drug(name)
    w = np.asarray(weights_kg, dtype=float)
    typical = [scaled_parameters(name, float(x)) for x in w]
    out = {k: np.array([p[k] for p in typical]) for k in typical[0]}
    var = d.get("variability")
    if var:
        eta = rng.multivariate_normal(np.zeros(len(var["parameters"])), np.asarray(var["omega"]),
                                      size=w.size)
        for j, k in enumerate(var["parameters"]):
            out[k] = out[k] * np.exp(eta[:, j])
    return out
