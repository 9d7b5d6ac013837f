"""Models from data: a mapping (or a YAML file read with ``yaml.safe_load``) -> :class:`Model`.

Nothing read from a file is executed: expressions go through the safe parser.
Unknown keys are rejected with a "did you mean" hint; every problem names its
field path (``species[2].unit``).

File layout::

    name: pk_one_compartment
    time_unit: day
    description: ...
    references: [doi:...]
    species:
      - {name: Central, unit: mg/L, initial: 0, description: ..., nonnegative: true}
    parameters:
      - {name: k, value: 0.1, unit: 1/day, source: "doi:...", bounds: [0, 10]}
    rules:
      - {name: conc, expression: "Central / V", unit: mg/L}
    processes:
      - {name: elimination, rate: "k * Central", stoichiometry: {Central: -1}}
    inputs: [k]  # optional: parameters another component drives (a disease model's drug hooks)
    events:      # state events (optional): when the trigger turns true, set species/parameters
      - {name: redose, trigger: "conc < 0.5", assignments: {Central: "Central + 10"},
         delay: 0.5}   # also: priority, persistent, initial_value, use_values_from_trigger_time
"""

from __future__ import annotations

from typing import Any, Mapping

from .. import safe_yaml
from ..errors import ExpressionError, ModelError
from ..validation import check_keys, clip
from .components import Event, Parameter, Process, Rule, Species
from .model import Model

_TOP = {"name", "time_unit", "description", "references", "species", "parameters", "rules",
        "processes", "events", "simulation", "inputs"}
_FIELDS = {"species": (Species, {"name", "unit", "initial", "description", "nonnegative"}),
           "parameters": (Parameter, {"name", "value", "unit", "source", "bounds", "description"}),
           "rules": (Rule, {"name", "expression", "unit", "description"}),
           "processes": (Process, {"name", "rate", "stoichiometry", "description"}),
           "events": (Event, {"name", "trigger", "assignments", "delay", "priority", "persistent",
                              "initial_value", "use_values_from_trigger_time", "description"})}


def _unknown(keys, allowed, where) -> list[str]:
    out: list[str] = []
    check_keys(keys, sorted(allowed), f"{where}.", out)
    return out


def _text(data, key, where, problems, default=""):
    """An optional text field: a string of at most 10,000 printable characters."""
    value = data.get(key, default)
    if not isinstance(value, str) or len(value) > 10_000 or not (value.isprintable() or key == "description"):
        problems.append(f"{where}.{key}: expected a line of printable text (at most 10,000 "
                        f"characters), got {clip(value)}")
        return default
    return value


def model_from_dict(data: Mapping[str, Any], where: str = "model") -> Model:
    """Build a :class:`Model` from plain data, collecting every problem into one ModelError."""
    if not isinstance(data, Mapping):
        raise ModelError(f"{where}: expected a mapping, got {type(data).__name__}")
    problems = _unknown(data, _TOP, where)
    name = _text(data, "name", where, problems, "unnamed")
    description = _text(data, "description", where, problems)
    time_unit = _text(data, "time_unit", where, problems, "day")
    references = data.get("references", ())
    if not isinstance(references, (list, tuple)) or not all(isinstance(r, str) for r in references):
        problems.append(f"{where}.references: expected a list of citations (text), got "
                        f"{clip(references)}")
        references = ()
    inputs = data.get("inputs", ())
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(n, str) for n in inputs):
        problems.append(f"{where}.inputs: expected a list of parameter or rule names, got {clip(inputs)}")
        inputs = ()
    parts: dict[str, list] = {}
    for section, (cls, allowed) in _FIELDS.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            problems.append(f"{where}.{section}: expected a list, got {type(items).__name__}")
            continue
        parts[section] = []
        for i, item in enumerate(items):
            path = f"{where}.{section}[{i}]"
            if not isinstance(item, Mapping):
                problems.append(f"{path}: expected a mapping, got {type(item).__name__}")
                continue
            bad = _unknown(item, allowed, path)
            if bad:
                problems += bad
                continue
            try:
                kwargs = dict(item)
                if "bounds" in kwargs and isinstance(kwargs["bounds"], list):
                    kwargs["bounds"] = tuple(kwargs["bounds"])
                parts[section].append(cls(**kwargs))
            except TypeError as exc:  # a required field is missing
                problems.append(f"{path}: {exc}".replace("__init__() ", ""))
            except RecursionError:
                problems.append(f"{path}: nested too deeply")
            except (ModelError, ExpressionError) as exc:
                problems.append(f"{path}: {exc}")
    if problems:
        raise ModelError(problems)
    try:
        return Model(name, species=parts["species"],
                     parameters=parts["parameters"], processes=parts["processes"],
                     rules=parts["rules"], events=parts["events"], time_unit=time_unit,
                     description=description,
                     references=references, inputs=inputs)
    except ModelError as exc:
        raise ModelError([f"{where}: {p}" for p in exc.problems]) from None


def read_yaml(path) -> Any:
    """A model file's data, read by the bounded YAML reader (:mod:`immunesim.safe_yaml`) with
    errors that name the file and line."""
    return safe_yaml.read_yaml(path, ModelError, "model file")


def load_model(path) -> Model:
    """Read a model file (YAML)."""
    return model_from_dict(read_yaml(path), where=str(path))
