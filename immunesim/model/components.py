"""The declarative pieces of a model: species, parameters, assignment rules, processes.

Each is a frozen, keyword-only record validated at construction. Units are
free-text strings in the form used throughout immunesim (``"cells/uL"``,
``"1/day"``, ``"ng/mL"``, ``"1"`` for dimensionless); they are required so that
every number a user sees carries its unit.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..errors import ModelError
from ..validation import clip
from .expr import RESERVED, Expression, parse

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_UNIT = re.compile(r"^[A-Za-z0-9_ ./*^()%µ+-]+$")


def check_name(name, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelError(f"{what} name {clip(name)} is not allowed: use a letter followed by "
                         "letters, digits or '_'")
    if name in RESERVED or keyword.iskeyword(name):
        raise ModelError(f"{what} name '{name}' is reserved (reserved: "
                         f"{', '.join(sorted(RESERVED))} and Python keywords)")


def check_unit(unit, where: str) -> None:
    if not isinstance(unit, str) or not unit.strip():
        raise ModelError(f"{where}: a unit is required (e.g. 'cells/uL', '1/day', 'ng/mL', "
                         "'1' for dimensionless)")
    if not _UNIT.match(unit.strip()):
        raise ModelError(f"{where}: unit {clip(unit)} has characters that are not allowed")


def check_number(value, where: str, *, finite: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = (" (YAML reads exponent numbers without a sign, like 1.0e8, as text: "
                        "write 1.0e+8)" if "e" in value.lower() else " (a quoted number is text)")
            except ValueError:
                pass
        raise ModelError(f"{where}: expected a number, got {clip(value)}{hint}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ModelError(f"{where}: expected a finite number, got {clip(value)}")
    return value


@dataclass(frozen=True, kw_only=True)
class Species:
    """A dynamic quantity of the model (a cell population, a cytokine, a drug amount).

    Parameters
    ----------
    name : identifier used in expressions.
    unit : unit of the amount or concentration.
    initial : initial value, in ``unit``.
    nonnegative : the solver keeps it >= 0 and reports an excursion below
        ``-(atol + rtol*|y|)`` as a failure instead of hiding it.
    """

    name: str
    unit: str
    initial: float = 0.0
    description: str = ""
    nonnegative: bool = True

    def __post_init__(self):
        check_name(self.name, "species")
        check_unit(self.unit, f"species '{self.name}'")
        init = check_number(self.initial, f"species '{self.name}' initial")
        if self.nonnegative and init < 0:
            raise ModelError(f"species '{self.name}' initial {init} is negative but the species "
                             "is declared non-negative")
        object.__setattr__(self, "initial", init)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """A constant of the model with its unit, bounds and source.

    ``source`` is a DOI, a drug label, or ``"assumed: <reason>"``. ``bounds``
    (inclusive) default to ``(0, inf)``: most rate constants, half-saturation
    constants and Hill coefficients are non-negative.
    """

    name: str
    value: float
    unit: str
    source: str
    bounds: tuple[float, float] = (0.0, math.inf)
    description: str = ""

    def __post_init__(self):
        check_name(self.name, "parameter")
        where = f"parameter '{self.name}'"
        check_unit(self.unit, where)
        if not isinstance(self.source, str) or not self.source.strip():
            raise ModelError(f"{where}: a source is required (a DOI, a drug label, or "
                             "'assumed: <reason>')")
        value = check_number(self.value, f"{where} value")
        try:
            lo, hi = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise ModelError(f"{where}: bounds must be (lower, upper), got {clip(self.bounds)}") from None
        if not lo <= hi:
            raise ModelError(f"{where}: bounds ({lo}, {hi}) have lower > upper")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "bounds", (lo, hi))
        self.check_value(value)

    def check_value(self, value: float, where: str = "") -> None:
        lo, hi = self.bounds
        if not lo <= value <= hi:
            raise ModelError(f"{where or 'parameter'} '{self.name}' = {value} is outside its "
                             f"bounds [{lo}, {hi}] ({self.unit})")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """An assignment rule: a named quantity computed from species, parameters, time and other rules.

    Rules are reported in results alongside species (a biomarker, a free drug
    fraction, a Treg:Teff ratio).
    """

    name: str
    expression: str
    unit: str
    description: str = ""
    parsed: Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_name(self.name, "rule")
        check_unit(self.unit, f"rule '{self.name}'")
        object.__setattr__(self, "parsed", parse(self.expression, f"rule '{self.name}'"))


@dataclass(frozen=True, kw_only=True)
class Process:
    """A process with a rate (an expression) and its effect on species (stoichiometry).

    ``d species / dt += coefficient * rate`` for every entry of ``stoichiometry``;
    a production process has ``{"X": 1}``, a decay ``{"X": -1}``, a conversion
    ``{"A": -1, "B": 1}``. The rate is in species units per time unit.
    """

    name: str
    rate: str
    stoichiometry: Mapping[str, float]
    description: str = ""
    parsed: Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_name(self.name, "process")
        where = f"process '{self.name}'"
        if not isinstance(self.stoichiometry, Mapping) or not self.stoichiometry:
            raise ModelError(f"{where}: stoichiometry must be a non-empty mapping "
                             "{species: coefficient}")
        stoich = {str(k): check_number(v, f"{where} stoichiometry of '{k}'")
                  for k, v in self.stoichiometry.items()}
        object.__setattr__(self, "stoichiometry", MappingProxyType(stoich))
        object.__setattr__(self, "parsed", parse(self.rate, f"{where} rate"))


_CONDITION_NODES = ("Compare", "BoolOp", "UnaryOp")


@dataclass(frozen=True, kw_only=True)
class Event:
    """A state-triggered event: when ``trigger`` (a condition on species, parameters, rules and
    time, e.g. ``"CRP < 5"``) changes from false to true, ``assignments`` (``{target:
    expression}``, targets species or parameters) are executed.

    The solver locates the change in time on the step's continuous extension (bisection, to
    the last bits of the time), stops there, executes the event, and restarts, as it does at a
    scheduled dose. ``delay`` (an expression, in the model's time unit) executes the
    assignments that long after the trigger; their values are computed when the trigger fires
    if ``use_values_from_trigger_time`` (default), else when they are executed. A
    ``persistent=False`` event is cancelled if its trigger turns false before it executes.
    ``initial_value`` is the trigger's value just before the start (so a trigger true at the
    start fires then only if ``initial_value`` is False). Events executed at the same time go
    by ``priority`` (an expression; higher first; then the model's order). These are SBML's
    event semantics (SBML L3V2 core, section 4.12)."""

    name: str
    trigger: str
    assignments: Mapping[str, str]
    delay: str | None = None
    priority: str | None = None
    persistent: bool = True
    initial_value: bool = True
    use_values_from_trigger_time: bool = True
    description: str = ""
    parsed_trigger: Expression = field(init=False, repr=False, compare=False)
    parsed_assignments: tuple = field(init=False, repr=False, compare=False)
    parsed_delay: Expression | None = field(init=False, repr=False, compare=False)
    parsed_priority: Expression | None = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_name(self.name, "event")
        where = f"event '{self.name}'"
        cond = parse(self.trigger, f"{where} trigger")
        if type(cond.tree).__name__ not in _CONDITION_NODES:
            raise ModelError(f"{where}: the trigger {clip(self.trigger)} is not a condition (use a "
                             "comparison such as 'X > 5', combined with and/or/not)")
        # as a number (1 while true, 0 while false): what the kernels evaluate
        object.__setattr__(self, "parsed_trigger",
                           parse(f"piecewise(1, {cond.text}, 0)", f"{where} trigger"))
        if not isinstance(self.assignments, Mapping) or not self.assignments:
            raise ModelError(f"{where}: assignments must be a non-empty mapping {{target: "
                             "expression}")
        parsed = tuple((str(k), parse(v, f"{where} assignment to '{k}'"))
                       for k, v in self.assignments.items())
        object.__setattr__(self, "assignments", MappingProxyType({k: e.text for k, e in parsed}))
        object.__setattr__(self, "parsed_assignments", parsed)
        for attr, text in (("parsed_delay", self.delay), ("parsed_priority", self.priority)):
            object.__setattr__(self, attr, None if text is None else
                               parse(text, f"{where} {attr.split('_')[1]}"))
        for flag in ("persistent", "initial_value", "use_values_from_trigger_time"):
            if not isinstance(getattr(self, flag), bool):
                raise ModelError(f"{where}: {flag} must be true or false, got "
                                 f"{clip(getattr(self, flag))}")

    @property
    def names(self) -> frozenset:
        """Every name the event's expressions use."""
        out = set(self.parsed_trigger.names)
        for _, e in self.parsed_assignments:
            out |= e.names
        for e in (self.parsed_delay, self.parsed_priority):
            if e is not None:
                out |= e.names
        return frozenset(out)
