"""The drug library: one YAML file per drug in ``library/``, every parameter with unit and source.

A drug file gives its mechanism (the named target of the disease model it acts on) and its
pharmacokinetics: a one- or two-compartment model with first-order absorption (SC, oral)
and optional Michaelis-Menten elimination (the quasi-steady-state limit of target-mediated
drug disposition, for antibodies cleared through their target), with allometric weight
scaling of clearances and volumes relative to 70 kg.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources

from ..errors import ModelError
from ..safe_yaml import load_yaml
from ..validation import clip, closest

DRUG_KEYS = {"name", "brand", "class", "mechanism", "molecular_weight_kda", "routes", "pk",
             "variability", "label_checks"}
PK_MODELS = {"one_compartment": {"CL", "V"}, "two_compartment": {"CL", "V", "Q", "V2"}}
PK_OPTIONAL = {"F", "ka", "Vmax", "Km", "CL_Emax", "CL_T50", "CL_gamma"}
PK_UNITS = {"CL": "L/day", "V": "L", "Q": "L/day", "V2": "L", "F": "1", "ka": "1/day",
            "Vmax": "mg/day", "Km": "ug/mL", "CL_Emax": "1", "CL_T50": "day", "CL_gamma": "1"}
TIME_VARYING = ("CL_Emax", "CL_T50", "CL_gamma")
#: mechanism kind -> its allowed targets (the disease model's hook for each is in couple.py)
MECHANISMS = {
    "ligand_neutralisation": {"TNF", "IL6", "IL17", "IFNg", "IL2", "IL10", "TGFb", "IL12"},
    "receptor_blockade": {"TNFR", "IL6R", "IL17R", "IFNgR", "IL2R", "IL10R", "TGFbR", "IL12R"},
    "checkpoint_blockade": {"CTLA4", "PD1"},
    "checkpoint_agonism": {"PD1"},
    "costimulation_blockade": {"CD80"},
    "cell_depletion": {"B"},
    "kinase_inhibition": {"JAK", "SYK"},
    "enzyme_inhibition": {"PDE4"},
    "cytokine_agonism": {"IL2"},
    "immunosuppression": {"cytokine_transcription", "proliferation"},
}
POTENCY_UNITS = ("nM", "ug/mL")
ROUTES = ("iv", "sc", "oral")


@functools.lru_cache(maxsize=None)
def _names() -> tuple[str, ...]:
    files = resources.files("immunesim.drugs").joinpath("library").iterdir()
    return tuple(sorted(f.name[:-5] for f in files if f.name.endswith(".yaml")))


def drug_names() -> tuple[str, ...]:
    """Names of the drugs in the library."""
    return _names()


@functools.lru_cache(maxsize=None)
def _read(name: str) -> dict:
    text = resources.files("immunesim.drugs").joinpath("library", f"{name}.yaml").read_text()
    data = load_yaml(text, f"drug '{name}'", ModelError)
    _check(name, data)
    return data


def _check(name: str, data: dict) -> None:
    where = f"drug '{name}'"
    problems = [f"{where}: unknown key '{k}'" for k in set(data) - DRUG_KEYS]
    pk = data.get("pk") or {}
    model = pk.get("model")
    if model not in PK_MODELS:
        problems.append(f"{where}: pk.model must be one of {sorted(PK_MODELS)}, got {model!r}")
    else:
        params = pk.get("parameters") or {}
        for p in PK_MODELS[model] - set(params):
            problems.append(f"{where}: pk.parameters.{p} is required for a {model} model")
        for p, entry in params.items():
            if p not in PK_UNITS:
                problems.append(f"{where}: pk.parameters.{p}: unknown (allowed: {', '.join(PK_UNITS)})")
            elif entry.get("unit") != PK_UNITS[p] or "source" not in entry:
                problems.append(f"{where}: pk.parameters.{p} needs unit {PK_UNITS[p]} and a source")
        if ("Vmax" in params) != ("Km" in params):
            problems.append(f"{where}: Vmax and Km go together (Michaelis-Menten elimination)")
        if set(TIME_VARYING) & set(params) and not set(TIME_VARYING) <= set(params):
            problems.append(f"{where}: time-varying clearance needs all of {', '.join(TIME_VARYING)}")
    problems += _check_mechanism(where, data.get("mechanism") or {})
    for r in data.get("routes", []):
        if r not in ROUTES:
            problems.append(f"{where}: route {r!r} not one of {ROUTES}")
    if problems:
        raise ModelError(problems)


def _check_mechanism(where: str, mech: dict) -> list[str]:
    kind, target = mech.get("kind"), mech.get("target")
    if kind not in MECHANISMS:
        return [f"{where}: mechanism.kind must be one of {sorted(MECHANISMS)}, got {kind!r}"]
    if target not in MECHANISMS[kind]:
        return [f"{where}: mechanism.target for {kind} must be one of {sorted(MECHANISMS[kind])}, "
                f"got {target!r}"]
    out = []
    entries = dict(mech.get("potencies") or {})
    for key in ("potency", "potency_low"):
        if key in mech:
            entries[key] = mech[key]
    if not entries:
        out.append(f"{where}: mechanism needs a potency (or potencies per target)")
    for k, e in entries.items():
        if not isinstance(e, dict) or e.get("unit") not in POTENCY_UNITS or "source" not in e:
            out.append(f"{where}: mechanism potency {k} needs a value, a unit in {POTENCY_UNITS} "
                       "and a source")
    for k in ("unbound_fraction", "cellular_shift", "max_rate", "ke0"):
        if k in mech and not ({"value", "source"} <= set(mech[k] or {})):
            out.append(f"{where}: mechanism.{k} needs a value and a source")
    if kind == "cell_depletion" and "max_rate" not in mech:
        out.append(f"{where}: cell_depletion needs max_rate (1/day)")
    if kind == "cytokine_agonism" and "potency_low" not in mech:
        out.append(f"{where}: cytokine_agonism needs potency (high-affinity receptor) and "
                   "potency_low (low-affinity receptor)")
    return out


def resolve_drug(name: str) -> str:
    key = str(name).strip().lower()
    by_brand = {_read(n).get("brand", "").lower(): n for n in _names()}
    if key in _names():
        return key
    if key in by_brand:
        return by_brand[key]
    close = closest(key, list(_names()) + list(by_brand))
    hint = f"; did you mean '{by_brand.get(close, close)}'?" if close else ""
    raise ModelError(f"unknown drug {clip(name)}{hint} (available: {', '.join(_names())})")


def drug(name: str) -> dict:
    """The library entry of ``name`` (generic or brand name, case-insensitive), a copy."""
    return copy.deepcopy(_read(resolve_drug(name)))
