"""Quantities with units in scenario files, converted to the model's units with Pint.

A value is a number (already in the model's unit) or a string ``"<number> <unit>"`` such as
``"2.5 1/day"``, ``"30 min"`` or ``"10 ng/mL"``. Pint parses unit strings with its own
tokenizer (never Python's ``eval``). The model's own non-SI units are defined here:
``cells`` (a cell count), ``AU`` (arbitrary units of a titer or antigen level),
``inoculum`` (pathogen load relative to a challenge dose) and ``alleles``; ``w`` and ``wk``
are weeks (``d`` and ``h`` are Pint's day and hour).
"""

from __future__ import annotations

import functools
import math
import re

_NUMBER = re.compile(r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(.*?)\s*$")


@functools.lru_cache(maxsize=None)
def registry():
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("cells = [cell_count] = cell")
    ureg.define("AU = [arbitrary_unit]")
    ureg.define("inoculum = [pathogen_load]")
    ureg.define("alleles = [] = allele")
    ureg.define("@alias week = w = wk")    # "4 w", as dosing schedules are written
    return ureg


def _unit(text: str):
    ureg = registry()
    return ureg.Unit("dimensionless" if text in ("1", "") else text)


class UnitProblem(ValueError):
    """A value or unit that cannot be used; the message says what is allowed."""


def to_unit(value, unit: str) -> float:
    """``value`` (number, or ``"<number> <unit>"``) expressed in ``unit``; UnitProblem if not."""
    if isinstance(value, bool):
        raise UnitProblem(f"expected a number or \"<number> <unit>\" in {unit}, got {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        m = _NUMBER.match(value)
        if not m:
            raise UnitProblem(f"expected \"<number> <unit>\" (for example \"2.5 {unit}\"), "
                              f"got {value!r}")
        number, text = float(m.group(1)), m.group(4)
        if not text:
            v = number
        else:
            import pint

            try:
                given = _unit(text)
                target = _unit(unit)
            except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError,
                    AttributeError, ValueError, TypeError) as exc:
                raise UnitProblem(f"unknown unit {text!r} in {value!r} ({exc}); "
                                  f"expected a unit convertible to {unit}") from None
            try:
                v = float(registry().Quantity(number, given).to(target).magnitude)
            except pint.errors.DimensionalityError:
                raise UnitProblem(f"{value!r} cannot be converted to {unit} "
                                  f"(different dimensions)") from None
    else:
        raise UnitProblem(f"expected a number or \"<number> <unit>\" in {unit}, "
                          f"got {type(value).__name__} {value!r}")
    if not math.isfinite(v):
        raise UnitProblem(f"expected a finite number, got {value!r}")
    return v
