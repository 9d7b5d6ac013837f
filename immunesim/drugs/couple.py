"""Couple drug PK and PD to the disease model through its named targets.

Each distinct drug of a therapy list adds its PK species (prefixed with the drug name:
``adalimumab_Central``), parameters (weight-scaled to the patient) and the concentration
rule ``<drug>_C`` (ug/mL). Its effect enters through the disease model's drug hooks, never
by editing other internals:

- ``ligand_neutralisation`` of X: the free fraction of X falls as ``f = C/(C + IC50)`` on
  ``neut_X`` (drug in excess over ligand, rapid binding equilibrium);
- ``receptor_blockade`` of XR: receptor occupancy ``f = C/(C + Kd)`` on ``block_XR``;
- ``checkpoint_blockade`` of CTLA4 or PD1: the blocked fraction ``f = C/(C + Kd)`` on
  ``block_CTLA4`` (less costimulation stripped by Tregs) or ``block_PD1`` (less PD-1
  attenuation of the TCR signal);
- ``costimulation_blockade`` (CTLA-4-Ig on CD80/86): ``block_CD80``; ``checkpoint_agonism``
  of PD1: ``agon_PD1`` (PD-1 engaged without its ligands);
- ``cell_depletion`` of a population P: an added death rate ``kmax * C/(C + EC50)`` on
  ``kill_P`` (1/day);
- ``kinase_inhibition`` / ``enzyme_inhibition``: one fractional inhibition per target enzyme
  (``inh_JAK1`` ... ``inh_TYK2``, ``inh_SYK``, ``inh_PDE4``) from that enzyme's IC50 on the
  unbound drug, times a cellular shift where the IC50 is cell-free; the disease model
  multiplies each cytokine's signal by its receptor's JAK pair;
- ``cytokine_agonism`` of IL2 (low-dose aldesleukin): receptor occupancy on CD25-high Tregs
  (``agon_IL2_treg``, high affinity) and CD25-low effectors (``agon_IL2_eff``);
- ``immunosuppression``: ``supp_cytokine`` (glucocorticoids: transcription of inflammatory
  cytokines) or ``supp_prolif`` (antimetabolites: lymphocyte proliferation).

A drug with ``ke0`` acts through an effect compartment (``Ce' = ke0 (C - Ce)``): for
methotrexate, whose effect follows slowly accumulating intracellular polyglutamates rather
than its hours-long plasma half-life.

Several drugs on one fractional hook combine as independent actions: ``1 - prod(1 - f_i)``
(Bliss); depletion rates add.
A hook that a drug drives becomes an assignment rule instead of a parameter.
"""

from __future__ import annotations

import copy
import re

from ..errors import ModelError
from .library import drug as _drug
from .library import drug_names
from .pk import pk_model

#: mechanism kind -> hook name pattern (target = the mechanism's target)
HOOKS = {"ligand_neutralisation": "neut_{target}", "receptor_blockade": "block_{target}",
         "cell_depletion": "kill_{target}", "checkpoint_blockade": "block_{target}",
         "costimulation_blockade": "block_{target}", "checkpoint_agonism": "agon_{target}",
         "kinase_inhibition": "inh_{target}", "enzyme_inhibition": "inh_{target}",
         "cytokine_agonism": "agon_{target}_treg"}
#: immunosuppression targets -> hook
SUPPRESSION = {"cytokine_transcription": "supp_cytokine", "proliferation": "supp_prolif"}
#: the PK species of a coupled drug that hold its amounts (mg; :mod:`.pk`)
PK_AMOUNTS = ("Depot", "Central", "Peripheral")


def pk_amount_species(names) -> list[int]:
    """Indices, in a coupled model's species ``names``, of every library drug's amounts (its
    ``<drug>_Depot``, ``_Central`` and ``_Peripheral``, in mg)."""
    drugs = set(drug_names())
    out = []
    for i, name in enumerate(names):
        head, _, tail = name.rpartition("_")
        if tail in PK_AMOUNTS and head in drugs:
            out.append(i)
    return out


def _rename(expr: str, names: dict) -> str:
    """``expr`` with every identifier in ``names`` replaced by its new name."""
    return re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", lambda m: names.get(m.group(0), m.group(0)), expr)


def _ug_per_ml(d: dict, entry: dict) -> float:
    if entry["unit"] == "ug/mL":
        return float(entry["value"])
    # nM x kDa = ug/L; /1000 for ug/mL (1 nM of a 148 kDa antibody = 0.148 ug/mL)
    return float(entry["value"]) * float(d["molecular_weight_kda"]["value"]) * 1e-3


def effects(d: dict) -> list[tuple[str, float, str, dict | None]]:
    """``(hook, EC50 on total serum concentration in ug/mL, source, max_rate)`` for each
    target drug ``d`` acts on. A potency measured on unbound drug (small molecules) is divided
    by the unbound fraction; a cell-free enzyme IC50 is multiplied by the cellular shift."""
    mech = d["mechanism"]
    kind, target = mech["kind"], mech["target"]
    fu = float(mech.get("unbound_fraction", {}).get("value", 1.0))
    shift = float(mech.get("cellular_shift", {}).get("value", 1.0))

    def ec50(entry):
        return _ug_per_ml(d, entry) * shift / fu

    if "potencies" in mech:
        return [(f"inh_{k}", ec50(e), e["source"], None) for k, e in mech["potencies"].items()]
    pot = mech["potency"]
    if kind == "immunosuppression":
        return [(SUPPRESSION[target], ec50(pot), pot["source"], None)]
    out = [(HOOKS[kind].format(target=target), ec50(pot), pot["source"], mech.get("max_rate"))]
    if kind == "cytokine_agonism":
        low = mech["potency_low"]
        out.append((f"agon_{target}_eff", ec50(low), low["source"], None))
    return out


def couple(data: dict, drugs, weight_kg: float) -> dict:
    """Model-file ``data`` of a disease model with ``drugs`` (names) coupled; a new dict."""
    data = copy.deepcopy(data)
    params = {p["name"]: p for p in data["parameters"]}
    terms: dict[str, list[str]] = {}
    for name in dict.fromkeys(drugs):
        d = _drug(name)
        pk = pk_model(name, weight_kg)
        pre = f"{d['name']}_"
        ren = {s: pre + s for s in pk.species_names}
        ren.update({p.name: pre + p.name for p in pk.parameters})
        ren["C"] = pre + "C"

        for s in pk.species:
            data["species"].append({"name": ren[s.name], "unit": s.unit, "initial": 0.0,
                                    "description": f"{d['name']}: {s.description}"})
        for p in pk.parameters:
            data["parameters"].append({"name": ren[p.name], "value": p.value, "unit": p.unit,
                                       "source": p.source, "bounds": list(p.bounds)})
        data["rules"].append({"name": pre + "C", "expression": f"{pre}Central/{pre}V", "unit": "ug/mL",
                              "description": f"{d['name']} serum concentration"})
        for pr in pk.processes:
            data["processes"].append({"name": pre + pr.name, "rate": _rename(pr.rate, ren),
                                      "stoichiometry": {ren[k]: v for k, v in pr.stoichiometry.items()}})
        conc = pre + "C"
        ke0 = d["mechanism"].get("ke0")
        if ke0:  # effect compartment: the drug acts through a slowly equilibrating pool
            conc = pre + "Ce"
            data["species"].append({"name": conc, "unit": "ug/mL", "initial": 0.0,
                                    "description": f"{d['name']}: effect-site concentration"})
            data["parameters"].append({"name": pre + "ke0", "value": float(ke0["value"]),
                                       "unit": "1/day", "source": ke0["source"]})
            data["processes"].append({"name": pre + "effect_site", "rate": f"{pre}ke0*({pre}C - {conc})",
                                      "stoichiometry": {conc: 1}})
        for hook, ec50, source, max_rate in effects(d):
            if hook not in params:
                raise ModelError(f"drug '{name}': the disease model has no target hook '{hook}'")
            ic = f"{pre}EC50_{hook}"
            data["parameters"].append({"name": ic, "value": ec50, "unit": "ug/mL", "source": source})
            frac = f"{conc}/({conc} + {ic})"
            if max_rate is not None:
                data["parameters"].append({"name": pre + "kmax", "value": float(max_rate["value"]),
                                           "unit": "1/day", "source": max_rate["source"]})
                terms.setdefault(hook, []).append(f"{pre}kmax*{frac}")
            else:
                terms.setdefault(hook, []).append(frac)
    for hook, ts in terms.items():
        unit = params[hook]["unit"]
        data["parameters"] = [p for p in data["parameters"] if p["name"] != hook]
        if hook.startswith("kill_"):
            expr = " + ".join(ts)
        else:
            expr = ts[0] if len(ts) == 1 else "1 - " + "*".join(f"(1 - {t})" for t in ts)
        data["rules"].append({"name": hook, "expression": expr, "unit": unit,
                              "description": f"{hook} driven by {len(ts)} drug(s)"})
    return data
