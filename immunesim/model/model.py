"""The Model: a validated, immutable collection of species, parameters, rules and processes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import cached_property
from typing import Iterable, Mapping

import numpy as np

from ..errors import ModelError
from ..validation import clip, closest
from .components import Event, Parameter, Process, Rule, Species, check_number, check_unit
from .expr import TIME


class Model:
    """A declarative ODE model.

    ``d y_i / dt = sum_k S_ik * rate_k(t, y, p, rules)``, with assignment rules
    evaluated in dependency order. Building validates everything at once and
    raises :class:`~immunesim.errors.ModelError` listing every problem.

    Parameters
    ----------
    name : model name (appears in results and manifests).
    species, parameters, processes, rules : the components.
    time_unit : unit of ``t`` and of every rate's denominator (default ``"day"``).
    references : citations (DOIs) for the model as a whole.
    inputs : names of parameters (or of the rules that replace them) that another component
        drives, such as a disease model's drug hooks (``neut_TNF``). They change no result:
        they let the engine compile the model once with them as inputs and compose it with
        whatever drives them (README, "Kernels: drugs composed with a compiled preset").
    """

    def __init__(self, name: str, *, species: Iterable[Species], parameters: Iterable[Parameter],
                 processes: Iterable[Process] = (), rules: Iterable[Rule] = (),
                 events: Iterable[Event] = (),
                 time_unit: str = "day", description: str = "", references: Iterable[str] = (),
                 inputs: Iterable[str] = ()):
        self.name = str(name)
        self.species = tuple(species)
        self.parameters = tuple(parameters)
        self.processes = tuple(processes)
        self.events = tuple(events)
        self.time_unit = time_unit
        self.description = description
        self.references = tuple(references)
        self.inputs = tuple(inputs)
        problems: list[str] = []
        for kind, items, cls in (("species", self.species, Species),
                                 ("parameters", self.parameters, Parameter),
                                 ("processes", self.processes, Process),
                                 ("rules", tuple(rules), Rule), ("events", self.events, Event)):
            for item in items:
                if not isinstance(item, cls):
                    problems.append(f"{kind}: expected {cls.__name__}, got {type(item).__name__}")
        if problems:
            raise ModelError(problems)
        try:
            check_unit(time_unit, "model time_unit")
        except ModelError as exc:
            problems.extend(exc.problems)
        if not self.species:
            problems.append("the model has no species")
        problems += self._check_names(rules)
        rules = tuple(rules)
        order, rule_problems = _order_rules(rules, self._defined_names(rules))
        problems += rule_problems
        for proc in self.processes:
            undefined = proc.parsed.names - self._defined_names(rules)
            if undefined:
                problems.append(f"process '{proc.name}' rate '{proc.rate}' uses undefined "
                                f"name(s): {', '.join(sorted(undefined))}")
            for sp_name in proc.stoichiometry:
                if sp_name not in self.species_index:
                    problems.append(f"process '{proc.name}' stoichiometry names '{sp_name}', "
                                    f"which is not a species (species: "
                                    f"{', '.join(self.species_names)})")
        problems += self._check_events(rules)
        problems += self._check_inputs(rules)
        if problems:
            raise ModelError(problems)
        self.rules = tuple(rules[i] for i in order)

    # -- validation helpers -------------------------------------------------
    def _defined_names(self, rules) -> set[str]:
        return ({s.name for s in self.species} | {p.name for p in self.parameters}
                | {r.name for r in rules} | {TIME})

    def _check_events(self, rules) -> list[str]:
        problems = []
        counts = Counter(e.name for e in self.events)
        problems += [f"duplicate event name '{n}'" for n, c in sorted(counts.items()) if c > 1]
        defined = self._defined_names(rules)
        species, params = set(self.species_names), set(self.parameter_names)
        for e in self.events:
            undefined = e.names - defined
            if undefined:
                problems.append(f"event '{e.name}' uses undefined name(s): "
                                f"{', '.join(sorted(undefined))}")
            for target in e.assignments:
                if target not in species and target not in params:
                    problems.append(f"event '{e.name}' assigns '{target}', which is not a species "
                                    "or a parameter (rules are computed, not set)")
        return problems

    def _check_inputs(self, rules) -> list[str]:
        known = {p.name for p in self.parameters} | {r.name for r in rules}
        problems = [f"inputs: '{clip(n)}' is not a parameter or rule of the model" for n in self.inputs
                    if not isinstance(n, str) or n not in known]
        problems += [f"inputs: '{n}' is listed twice" for n, c in Counter(
            n for n in self.inputs if isinstance(n, str)).items() if c > 1]
        return problems

    def _check_names(self, rules) -> list[str]:
        seen: dict[str, str] = {}
        problems = []
        for kind, items in (("species", self.species), ("parameter", self.parameters),
                            ("rule", rules)):
            for item in items:
                if item.name in seen:
                    problems.append(f"duplicate name '{item.name}' ({seen[item.name]} and {kind})")
                seen.setdefault(item.name, kind)
        counts = Counter(p.name for p in self.processes)
        for name in sorted(n for n, c in counts.items() if c > 1):
            problems.append(f"duplicate process name '{name}'")
        return problems

    # -- names and indices -------------------------------------------------
    @cached_property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    @cached_property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @cached_property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Names reported in results: species, then rules."""
        return self.species_names + self.rule_names

    @property
    def variable_units(self) -> tuple[str, ...]:
        return tuple(s.unit for s in self.species) + tuple(r.unit for r in self.rules)

    @cached_property
    def species_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.species_names)}

    @cached_property
    def parameter_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.parameter_names)}

    # -- vectors -----------------------------------------------------------
    def parameter_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Parameter values in model order, with ``overrides`` applied and checked against bounds."""
        p = np.array([q.value for q in self.parameters], dtype=np.float64)
        for name, value in (overrides or {}).items():
            i = self.index_of(name, "parameter")
            value = check_number(value, f"parameter override '{name}'")
            self.parameters[i].check_value(value, "override of parameter")
            p[i] = value
        return p

    def initial_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Initial state in model order, with ``overrides`` applied."""
        y = np.array([s.initial for s in self.species], dtype=np.float64)
        for name, value in (overrides or {}).items():
            i = self.index_of(name, "species")
            value = check_number(value, f"initial value of '{name}'")
            if self.species[i].nonnegative and value < 0:
                raise ModelError(f"initial value of '{name}' = {value} is negative but the "
                                 "species is declared non-negative")
            y[i] = value
        return y

    def index_of(self, name: str, kind: str = "parameter") -> int:
        """Position of the parameter (``kind="parameter"``) or species (``kind="species"``)
        ``name`` in the model's parameter or state vector; a ModelError naming the closest
        match (case folded first) when there is none."""
        if kind not in ("parameter", "species"):
            raise ValueError(f"kind must be 'parameter' or 'species', got {kind!r}")
        index = self.parameter_index if kind == "parameter" else self.species_index
        try:
            return index[name]
        except (KeyError, TypeError):
            folded = [k for k in index if k.lower() == str(name).lower()]
            close = folded[0] if folded else closest(name, index)
            hint = f"; did you mean '{close}'?" if close else ""
            raise ModelError(f"{clip(name)} is not a {kind} of model '{self.name}'{hint}") from None

    # -- hashes --------------------------------------------------------------
    def _structure(self) -> dict:
        """What the compiled kernels depend on (not values, which enter as arrays)."""
        return {
            "species": [[s.name, s.nonnegative] for s in self.species],
            "parameters": list(self.parameter_names),
            "rules": [[r.name, r.expression] for r in self.rules],
            "processes": [[p.name, p.rate, sorted(p.stoichiometry.items())]
                          for p in self.processes],
        } | ({"events": [[e.name, e.trigger, list(e.assignments.items()), e.delay, e.priority,
                          e.persistent, e.initial_value, e.use_values_from_trigger_time]
                         for e in self.events]} if self.events else {}) | (
            {"inputs": list(self.inputs)} if self.inputs else {})

    @cached_property
    def structure_hash(self) -> str:
        """Hash of the model's structure: equal for models that share compiled kernels."""
        return _sha(self._structure())

    @cached_property
    def hash(self) -> str:
        """Hash of everything in the model, values, units and sources included (provenance)."""
        full = self._structure() | {
            "name": self.name, "time_unit": self.time_unit,
            "species_full": [[s.name, s.unit, s.initial] for s in self.species],
            "parameters_full": [[p.name, p.value, p.unit, list(p.bounds), p.source]
                                for p in self.parameters],
            "rule_units": [r.unit for r in self.rules],
        }
        return _sha(full)

    def __repr__(self):
        ev = f", {len(self.events)} events" if self.events else ""
        return (f"Model({self.name!r}: {len(self.species)} species, {len(self.parameters)} "
                f"parameters, {len(self.processes)} processes, {len(self.rules)} rules{ev})")


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"),
                                     allow_nan=True).encode()).hexdigest()[:20]


def _order_rules(rules, defined) -> tuple[list[int], list[str]]:
    """Topological order of assignment rules; report undefined names and cycles."""
    problems = []
    names = {r.name: i for i, r in enumerate(rules)}
    for r in rules:
        undefined = r.parsed.names - defined
        if undefined:
            problems.append(f"rule '{r.name}' expression '{r.expression}' uses undefined "
                            f"name(s): {', '.join(sorted(undefined))}")
    order, state = [], {}
    # depth-first, with an explicit stack: a chain of thousands of rules is no recursion
    for root in range(len(rules)):
        if state.get(root) == 2:
            continue
        stack = [(root, iter(sorted(rules[root].parsed.names & names.keys())))]
        path = [rules[root].name]
        state[root] = 1
        while stack:
            i, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                state[i] = 2
                order.append(i)
                stack.pop()
                path.pop()
                continue
            j = names[dep]
            if state.get(j) == 2:
                continue
            if state.get(j) == 1:
                cycle = " -> ".join(path[path.index(rules[j].name):] + [rules[j].name])
                problems.append(f"assignment rules form a cycle: {cycle}")
                continue
            state[j] = 1
            stack.append((j, iter(sorted(rules[j].parsed.names & names.keys()))))
            path.append(rules[j].name)
    return order, problems
