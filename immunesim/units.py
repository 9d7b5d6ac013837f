"""Quantities with units in scenario files, converted to the model's units with Pint.

A value is a number (already in the model's unit) or a string ``"<number> <unit>"`` such as
``"2.5 1/day"``, ``"30 min"`` or ``"10 ng/mL"``. Pint parses unit strings with its own
tokenizer (never Python's ``eval``). The model's own non-SI units are defined here:
``cells`` (a cell count), ``AU`` (arbitrary units of a titer or antigen level),
``inoculum`` (pathogen load relative to a challenge dose) and ``alleles``; ``w`` and ``wk``
are weeks (``d`` and ``h`` are Pint's day and hour).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import re

from .limits import MAX_DAYS, MAX_UNIT_CHARS, MAX_UNIT_FACTORS, MAX_UNIT_POWER
from .validation import clip as _clip

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


#: ``(unit written, unit wanted) -> factor`` for the units scenario files are mostly written in
#: (times in days, rates per time, a value in the unit it is wanted in), with the factors Pint computes for them. Pint converts a
#: value as ``value * factor`` (``PlainRegistry._convert``), so these give Pint's numbers to the
#: bit without importing it: its import and unit registry are 1-1.5 s of a scenario's start.
#: tests/test_hardening.py checks every entry against Pint.
_KNOWN = {
    **{(t, "day"): 1.1574074074074073e-05 for t in ("s", "second", "seconds", "sec")},
    **{(t, "day"): 0.0006944444444444444 for t in ("min", "minute", "minutes")},
    **{(t, "day"): 0.041666666666666664 for t in ("h", "hr", "hour", "hours")},
    **{(t, "day"): 1 for t in ("d", "day", "days")},
    **{(t, "day"): 7 for t in ("w", "wk", "week", "weeks")},
    **{(t, "day"): 365.25 for t in ("year", "years", "yr")},
    **{(t, "day"): 30.4375 for t in ("month", "months")},
    ("1/s", "1/day"): 86400, ("1/min", "1/day"): 1440, ("1/h", "1/day"): 24,
    ("1/hour", "1/day"): 24, ("1/d", "1/day"): 1, ("1/w", "1/day"): 0.14285714285714285,
    ("1/week", "1/day"): 0.14285714285714285, ("1/year", "1/day"): 0.0027378507871321013,
    ("1/month", "1/day"): 0.03285420944558522,
    # a value written in the unit it is wanted in, for units Pint knows (factor 1)
    **{(u, u): 1 for u in ("kg", "1/day", "min", "h", "s", "mg", "mg/L", "ng/mL",
                           "pg/mL", "nM", "L", "mL", "um", "AU", "AU/mL", "cells", "cells/uL")},
}

_UNIT_TEXT = re.compile(r"^[A-Za-z0-9_ ./*^()µ%-]+$")
_POWER = re.compile(r"(\*\*|\^)\s*\(?\s*([-+]?[0-9.]+)")


def _unit(text: str):
    """The Pint unit of ``text``, after bounds that keep Pint's evaluator cheap (its parser
    computes powers and products of numbers: ``2**2**2**2**2`` or a product of thousands of
    factors would take gigabytes or end in ``RecursionError``)."""
    if len(text) > MAX_UNIT_CHARS:
        raise UnitProblem(f"unit {text[:20]!r}... is {len(text)} characters long; at most "
                          f"{MAX_UNIT_CHARS} allowed")
    if not _UNIT_TEXT.match(text):
        raise UnitProblem(f"unit {text!r} has characters that are not allowed (letters, digits, "
                          "spaces and . / * ^ ( ) % - only)")
    factors = len(re.findall(r"[A-Za-z_µ%]+", text))
    if factors > MAX_UNIT_FACTORS:
        raise UnitProblem(f"unit {text!r} has {factors} factors; at most {MAX_UNIT_FACTORS} allowed")
    if text.count("**") + text.count("^") > MAX_UNIT_FACTORS:
        raise UnitProblem(f"unit {text!r} has too many powers")
    for m in _POWER.finditer(text):
        try:
            p = float(m.group(2))
        except ValueError:
            raise UnitProblem(f"unit {text!r}: power {m.group(2)!r} is not a number") from None
        if abs(p) > MAX_UNIT_POWER:
            raise UnitProblem(f"unit {text!r}: power {m.group(2)} is outside "
                              f"[-{MAX_UNIT_POWER}, {MAX_UNIT_POWER}]")
    if re.search(r"(\*\*|\^)\s*[-+]?[0-9.]+\s*(\*\*|\^)", text):
        raise UnitProblem(f"unit {text!r}: a power of a power is not allowed")
    ureg = registry()
    try:
        unit = ureg.Unit("dimensionless" if text in ("1", "") else text)
    except UnitProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of Pint's parser means "not a unit"
        raise UnitProblem(f"unknown unit {text!r} ({type(exc).__name__}: "
                          f"{str(exc)[:120] or 'cannot be parsed'})") from None
    return unit


class UnitProblem(ValueError):
    """A value or unit that cannot be used; the message says what is allowed."""


def to_unit(value, unit: str) -> float:
    """``value`` (number, or ``"<number> <unit>"``) expressed in ``unit``; UnitProblem if not."""
    if isinstance(value, bool):
        raise UnitProblem(f"expected a number or \"<number> <unit>\" in {unit}, got {_clip(value)}")
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        m = _NUMBER.match(value)
        if not m:
            raise UnitProblem(f"expected \"<number> <unit>\" (for example \"2.5 {unit}\"), "
                              f"got {_clip(value)}")
        number, text = float(m.group(1)), m.group(4)
        if not math.isfinite(number):
            raise UnitProblem(f"expected a finite number, got {_clip(value)}")
        if not text:
            v = number
        elif (text, unit) in _KNOWN:
            v = number * _KNOWN[text, unit]
        else:
            import pint

            try:
                given = _unit(text)
            except UnitProblem as exc:
                raise UnitProblem(f"{exc}; expected a unit convertible to {unit}") from None
            target = _unit(unit)
            try:
                v = float(registry().Quantity(number, given).to(target).magnitude)
            except pint.errors.DimensionalityError:
                raise UnitProblem(f"{_clip(value)} cannot be converted to {unit} "
                                  f"(different dimensions)") from None
            except Exception as exc:  # noqa: BLE001 - e.g. an offset unit, an overflow
                raise UnitProblem(f"{_clip(value)} cannot be converted to {unit} "
                                  f"({type(exc).__name__})") from None
    else:
        raise UnitProblem(f"expected a number or \"<number> <unit>\" in {unit}, "
                          f"got {type(value).__name__} {_clip(value)}")
    if not math.isfinite(v):
        raise UnitProblem(f"expected a finite number, got {_clip(value)}")
    return v


#: the unit of the times a scenario file gives (see :func:`time_unit`)
_TIME_UNIT: contextvars.ContextVar[str] = contextvars.ContextVar("immunesim_time_unit", default="day")
#: model time units that times with a unit can be converted to: their length in days
TIME_UNITS = {"day": 1.0, "hour": 1.0 / 24.0, "minute": 1.0 / 1440.0, "second": 1.0 / 86400.0}


@contextlib.contextmanager
def time_unit(unit: str):
    """Inside this block, :func:`days` reads times in ``unit`` instead of days: a model's time
    unit (an SBML model's, one of :data:`TIME_UNITS`), or ``"1"`` for a model that declares none,
    where only plain numbers (in the model's time) are times and a time with a unit is refused."""
    token = _TIME_UNIT.set(unit)
    try:
        yield
    finally:
        _TIME_UNIT.reset(token)


def days(value, path: str, problems: list, *, positive: bool = True) -> float | None:
    """``value`` (a number of days or a time with its unit) in days: positive (or, with
    ``positive=False``, >= 0) and at most :data:`~immunesim.limits.MAX_DAYS`; else None with a
    problem appended naming ``path``. Inside :func:`time_unit`, in that unit instead."""
    unit = _TIME_UNIT.get()
    m = _NUMBER.match(value) if isinstance(value, str) and len(value) <= MAX_UNIT_CHARS else None
    if unit not in TIME_UNITS and m and m.group(4):
        problems.append(f"{path}: the model declares no time unit, so times are plain numbers in "
                        f"its time; got {_clip(value)}")
        return None
    try:
        v = to_unit(value, unit if unit in TIME_UNITS else "day")
    except UnitProblem as exc:
        problems.append(f"{path}: {exc}")
        return None
    length = v * TIME_UNITS.get(unit, 1.0)          # in days, for the bound below
    if positive and not v > 0:
        problems.append(f"{path}: must be a positive time, got {_clip(value)}")
        return None
    if not positive and v < 0:
        problems.append(f"{path}: must be >= 0, got {_clip(value)}")
        return None
    if length > MAX_DAYS:
        problems.append(f"{path}: {_clip(value)} is more than {MAX_DAYS:g} days")
        return None
    return v
