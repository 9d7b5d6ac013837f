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
- ``cell_depletion`` of a population P: an added death rate ``kmax * C/(C + EC50)`` on
  ``kill_P`` (1/day).

Several drugs on one fractional hook combine as independent actions: ``1 - prod(1 - f_i)``
(Bliss); depletion rates add.
A hook that a drug drives becomes an assignment rule instead of a parameter.
"""

from __future__ import annotations

import copy
import re

from ..errors import ModelError
from .library import drug as _drug
from .pk import pk_model

#: mechanism kind -> hook name pattern (target = the mechanism's target)
HOOKS = {"ligand_neutralisation": "neut_{target}", "receptor_blockade": "block_{target}",
         "cell_depletion": "kill_{target}", "checkpoint_blockade": "block_{target}"}


def _rename(expr: str, names: dict) -> str:
    """``expr`` with every identifier in ``names`` replaced by its new name."""
    return re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", lambda m: names.get(m.group(0), m.group(0)), expr)


def potency_ug_per_ml(d: dict) -> float:
    pot = d["mechanism"]["potency"]
    if pot["unit"] == "ug/mL":
        return float(pot["value"])
    if pot["unit"] == "nM":  # nM x kDa = ug/L -> /1000 for ug/mL ... 1 nM x 148 kDa = 0.148 ug/mL
        return float(pot["value"]) * float(d["molecular_weight_kda"]["value"]) * 1e-3
    raise ModelError(f"drug '{d['name']}': potency unit must be ug/mL or nM, got {pot['unit']!r}")


def couple(data: dict, drugs, weight_kg: float) -> dict:
    """Model-file ``data`` of a disease model with ``drugs`` (names) coupled; a new dict."""
    data = copy.deepcopy(data)
    params = {p["name"]: p for p in data["parameters"]}
    effects: dict[str, list[str]] = {}
    for name in dict.fromkeys(drugs):
        d = _drug(name)
        kind = d["mechanism"]["kind"]
        if kind not in HOOKS:
            raise ModelError(f"drug '{name}': its mechanism ({kind}) is not coupled to the disease "
                             f"model yet (coupled: {', '.join(HOOKS)})")
        hook = HOOKS[kind].format(target=d["mechanism"]["target"])
        if hook not in params:
            raise ModelError(f"drug '{name}': the disease model has no target hook '{hook}'")
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
                                       "source": p.source})
        ic50 = potency_ug_per_ml(d)
        data["parameters"].append({"name": pre + "IC50", "value": ic50, "unit": "ug/mL",
                                   "source": d["mechanism"]["potency"]["source"]})
        data["rules"].append({"name": pre + "C", "expression": f"{pre}Central/{pre}V", "unit": "ug/mL",
                              "description": f"{d['name']} serum concentration"})
        for pr in pk.processes:
            data["processes"].append({"name": pre + pr.name, "rate": _rename(pr.rate, ren),
                                      "stoichiometry": {ren[k]: v for k, v in pr.stoichiometry.items()}})
        if kind == "cell_depletion":
            mr = d["mechanism"]["max_rate"]
            data["parameters"].append({"name": pre + "kmax", "value": float(mr["value"]),
                                       "unit": mr["unit"], "source": mr["source"]})
            effects.setdefault(hook, []).append(f"{pre}kmax*{pre}C/({pre}C + {pre}IC50)")
        else:
            effects.setdefault(hook, []).append(f"{pre}C/({pre}C + {pre}IC50)")
    for hook, terms in effects.items():
        unit = params[hook]["unit"]
        del params[hook]
        data["parameters"] = [p for p in data["parameters"] if p["name"] != hook]
        if hook.startswith("kill_"):
            expr = " + ".join(terms)
        else:
            expr = terms[0] if len(terms) == 1 else "1 - " + "*".join(f"(1 - {t})" for t in terms)
        data["rules"].append({"name": hook, "expression": expr, "unit": unit,
                              "description": f"{hook} driven by {len(terms)} drug(s)"})
    return data
