"""Helpers shared by every validator of user input (model files, scenarios, the command line).

Each problem is one line: the field path, what was given (cut short: a message never echoes a
huge input whole) and what is allowed. Validators collect problems in a list and raise once, so
a file's every problem is reported at once.
"""

from __future__ import annotations

import difflib
import math
from typing import Iterable, Iterator, Mapping


def clip(value, n: int = 60) -> str:
    """``repr(value)``, cut to about ``n`` characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails is still reported
        text = f"<{type(value).__name__}>"
    return text if len(text) <= n else text[:n] + "..."


def closest(name, choices: Iterable) -> str | None:
    """The choice closest to ``name``, or None. Only ``name``'s first 100 characters are
    compared: difflib's cost grows with the product of the lengths."""
    close = difflib.get_close_matches(str(name)[:100], [str(c) for c in choices], n=1)
    return close[0] if close else None


def did_you_mean(name, choices: Iterable, fallback: str) -> str:
    """``did you mean 'x'?`` for the closest of ``choices``, else ``fallback``."""
    close = closest(name, choices)
    return f"did you mean '{close}'?" if close else fallback


def number(value, where: str, problems: list, lo: float = -math.inf, hi: float = math.inf,
           open_lo: bool = False) -> float | None:
    """``value`` as a float in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``), or None with a
    problem appended naming ``where``."""
    f = finite(value)
    if f is None or f < lo or f > hi or (open_lo and f <= lo):
        rng = f"({lo:g}, {hi:g}]" if open_lo else f"[{lo:g}, {hi:g}]"
        problems.append(f"{where}: expected a number in {rng}, got {clip(value)}")
        return None
    return f


def finite(value) -> float | None:
    """``value`` as a float if it is a finite number (not a bool, not text), else None; an
    integer beyond the float range is not finite (``math.isfinite`` would raise on it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        v = float(value)
    except OverflowError:
        return None
    return v if math.isfinite(v) else None


def is_one_of(value, choices) -> bool:
    """``value`` is a name among ``choices`` (False for a list or mapping, which a YAML file
    may give anywhere: ``[] in {...}`` would raise)."""
    return isinstance(value, str) and value in choices


def each_mapping(raw, where: str, allowed, problems: list, what: str,
                 items: str) -> Iterator[tuple[int, str, Mapping]]:
    """``(index, path, item)`` for each mapping of the list ``raw`` (absent: none), its keys checked
    against ``allowed``; a problem for anything else (``what`` describes one item, ``items``
    the list)."""
    if raw is None:
        return
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list of {items}, got {clip(raw)}")
        return
    for i, item in enumerate(raw):
        path = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{path}: expected {what}, got {clip(item)}")
            continue
        check_keys(item, allowed, f"{path}.", problems)
        yield i, path, item


def check_keys(data: Mapping, allowed, path: str, problems: list) -> None:
    """Append a problem for every key of ``data`` not in ``allowed`` (``path`` ends in '.')."""
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, allowed, f"allowed: {', '.join(allowed)}")
            problems.append(f"{path}{clip(key, 40) if not isinstance(key, str) else key[:60]}: "
                            f"unknown key; {hint}")


def mapping(data, path: str, problems: list) -> dict:
    """``data`` as a dict of name: value (absent: empty); anything else is a problem."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problems.append(f"{path}: expected a mapping of name: value, got {type(data).__name__} {clip(data)}")
        return {}
    return dict(data)


def as_list(raw, path: str, problems: list) -> list:
    """A list field (absent: empty); anything else is a problem."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{path}: expected a list, got {clip(raw)}")
        return []
    return raw


def name_list(data, path: str, allowed, problems: list, what: str) -> tuple | None:
    """A list of names, each one of ``allowed`` (``what`` names them, as in ``immunesim list``)."""
    if data is None:
        return None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        problems.append(f"{path}: expected a list of names, got {clip(data)}")
        return None
    for i, x in enumerate(data):
        if x not in allowed:
            hint = did_you_mean(x, allowed, f"see `immunesim list {what}`")
            problems.append(f"{path}[{i}]: '{x}' is not one of the {what}; {hint}")
    return tuple(data)
