"""Assemble the disease model from its modules and a preset.

The model is the same for every disease; a preset (``presets/<name>.yaml``) changes
parameter values (each with its own source), the initial state (the documented start), and
adds its disease-activity readouts as assignment rules. Patient covariates then multiply
documented parameters (:mod:`.covariates`).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any, Mapping

from ..errors import ModelError
from ..model.loader import model_from_dict
from ..model.model import Model
from ..safe_yaml import load_yaml
from ..validation import clip, closest
from .clinical import Clinical, parse_clinical
from .modules import MODULES
from .covariates import apply_covariates

PRESET_KEYS = {"name", "title", "aliases", "description", "references", "tissue", "start",
               "parameters", "initial", "readouts", "counts", "chronic_state", "t_end", "clinical"}


@functools.lru_cache(maxsize=None)
def _preset_names() -> tuple[str, ...]:
    files = resources.files("immunesim.diseases").joinpath("presets").iterdir()
    return tuple(sorted(f.name[:-5] for f in files if f.name.endswith(".yaml")))


@functools.lru_cache(maxsize=None)
def _read_preset(name: str) -> dict:
    text = resources.files("immunesim.diseases").joinpath("presets", f"{name}.yaml").read_text()
    data = load_yaml(text, f"preset '{name}'", ModelError)
    unknown = set(data) - PRESET_KEYS
    if unknown:
        raise ModelError(f"preset '{name}': unknown keys {sorted(unknown)}")
    return data


def diseases() -> dict[str, dict]:
    """Preset name -> its metadata (title, description, tissue, start, references)."""
    return {n: {k: v for k, v in _read_preset(n).items()
                if k not in ("parameters", "initial", "readouts", "counts", "clinical")}
            for n in _preset_names()}


def resolve_disease(name: str) -> str:
    """Canonical preset name for ``name`` or an alias (case-insensitive); ModelError otherwise."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    for preset in _preset_names():
        data = _read_preset(preset)
        if key == preset or key in [a.lower() for a in data.get("aliases", [])]:
            return preset
    choices = list(_preset_names())
    names = {c: c for c in choices}
    for c in choices:
        names.update({a.lower(): c for a in _read_preset(c).get("aliases", [])})
    close = closest(key, names)
    hint = f"; did you mean '{names[close]}'?" if close else ""
    raise ModelError(f"unknown disease {clip(name)}{hint} (available: {', '.join(choices)})")


def preset(name: str) -> dict:
    """The preset's data (a copy)."""
    return copy.deepcopy(_read_preset(resolve_disease(name)))


def model_data(disease: str = "healthy") -> dict[str, Any]:
    """The model of ``disease`` as plain model-file data (before covariates and overrides)."""
    data = preset(disease)
    species, parameters, rules, processes = [], [], [], []
    for module in MODULES:
        species += copy.deepcopy(module.SPECIES)
        parameters += copy.deepcopy(module.PARAMETERS)
        rules += copy.deepcopy(module.RULES)
        processes += copy.deepcopy(module.PROCESSES)
    # the drug hooks (their sources say so in the modules): inputs that a coupled drug drives
    hooks = [p["name"] for p in parameters if p["source"].startswith("drug hook")]
    by_name = {p["name"]: p for p in parameters}
    for pname, entry in (data.get("parameters") or {}).items():
        if pname not in by_name:
            raise ModelError(f"preset '{data['name']}': parameters.{pname} is not a model parameter")
        if not isinstance(entry, Mapping) or set(entry) != {"value", "source"}:
            raise ModelError(f"preset '{data['name']}': parameters.{pname} must be "
                             "{value: ..., source: ...}")
        by_name[pname].update(value=entry["value"], source=entry["source"])
    sp = {s["name"]: s for s in species}
    for sname, value in (data.get("initial") or {}).items():
        if sname not in sp:
            raise ModelError(f"preset '{data['name']}': initial.{sname} is not a species")
        sp[sname]["initial"] = value
    rules += copy.deepcopy(data.get("readouts") or [])
    return {"name": f"immunesim_{data['name']}", "time_unit": "day",
            "description": data.get("description", ""), "references": data.get("references", []),
            "species": species, "parameters": parameters, "rules": rules, "processes": processes,
            "inputs": hooks}


@functools.lru_cache(maxsize=None)
def clinical(disease: str) -> Clinical | None:
    """The preset's clinical instruments (:mod:`.clinical`), or None where it defines none."""
    name = resolve_disease(disease)
    raw = _read_preset(name).get("clinical")
    if raw is None:
        return None
    data = model_data(name)
    variables = {x["name"] for part in ("species", "rules") for x in data[part]}
    return parse_clinical(raw, f"preset '{name}': clinical", variables)


def disease_model_data(disease: str = "healthy", covariates: Mapping[str, float] | None = None) -> dict:
    """Model-file data of ``disease`` with patient covariates applied."""
    data = model_data(disease)
    if covariates:
        apply_covariates(data, covariates)
    return data


def disease_model(disease: str = "healthy", *, covariates: Mapping[str, float] | None = None) -> Model:
    """The mechanistic model for a disease preset, with patient covariates applied.

    Parameters
    ----------
    disease : a preset name or alias (``immunesim list diseases``).
    covariates : ``{name: value}`` (see :data:`immunesim.diseases.covariates.COVARIATES`).
    """
    data = model_data(disease)
    if covariates:
        apply_covariates(data, covariates)
    return model_from_dict(data, where=f"disease model '{disease}'")
