"""Scheduled discontinuities: bolus doses, infusions, parameter and state changes.

Each event happens exactly at its time: the integrator stops there, applies it,
and restarts. Events at the same time apply in the order given. Times are in
the model's time unit; amounts in the target species' unit; infusion rates in
species unit per time unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .errors import ModelError
from .limits import MAX_DOSES
from .validation import clip
from .kernels.constants import EV_ADD_INPUT, EV_ADD_SPECIES, EV_SET_PARAM, EV_SET_SPECIES
from .model.components import check_number
from .model.model import Model


@dataclass(frozen=True, kw_only=True)
class Bolus:
    """Add ``amount`` to species ``target`` at ``time`` (an IV push, an SC injection into a depot)."""

    time: float
    target: str
    amount: float


@dataclass(frozen=True, kw_only=True)
class Infusion:
    """A zero-order input of ``rate`` into ``target`` from ``start`` for ``duration``."""

    start: float
    duration: float
    target: str
    rate: float


@dataclass(frozen=True, kw_only=True)
class SetParameter:
    """Set parameter ``name`` to ``value`` from ``time`` on."""

    time: float
    name: str
    value: float


@dataclass(frozen=True, kw_only=True)
class SetSpecies:
    """Set species ``name`` to ``value`` at ``time``."""

    time: float
    name: str
    value: float


Event = Bolus | Infusion | SetParameter | SetSpecies


def doses(*, target: str, amount: float, every: float, count: int, start: float = 0.0) -> list[Bolus]:
    """``count`` boluses of ``amount`` into ``target`` every ``every`` time units from ``start``."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DOSES:
        raise ModelError(f"doses: count must be an integer in [1, {MAX_DOSES}], got {clip(count)}")
    if check_number(every, "doses: every") <= 0:
        raise ModelError(f"doses: every must be > 0, got {every!r}")
    return [Bolus(time=start + k * every, target=target, amount=amount) for k in range(count)]


def window_events(events: Iterable[Event], a: float, b: float, last: bool) -> list[Event]:
    """The events of ``[a, b)`` (``[a, b]`` for the ``last`` window) for a run integrated in
    windows, each starting from the state the previous ended in: an infusion running
    across a boundary is cut into the part inside the window."""
    out = []
    for e in events:
        if isinstance(e, Infusion):
            s, end = e.start, e.start + e.duration
            s2, end2 = max(s, a), min(end, b)
            if end2 > s2:
                out.append(Infusion(start=s2, duration=end2 - s2, target=e.target, rate=e.rate))
        elif a <= e.time < b or (last and e.time == b):
            out.append(e)
    return out


@dataclass(frozen=True)
class Schedule:
    """Events as sorted arrays, the form the kernels take."""

    time: np.ndarray
    kind: np.ndarray
    index: np.ndarray
    value: np.ndarray

    def __len__(self):
        return self.time.shape[0]


def compile_schedule(model: Model, events: Iterable[Event], t0: float) -> Schedule:
    """Validate events against ``model`` and sort them (stable) by time."""
    rows = []
    for n, ev in enumerate(events):
        where = f"events[{n}] ({type(ev).__name__})"
        if isinstance(ev, Bolus):
            i = _species(model, ev.target, where)
            rows.append((_time(ev.time, t0, where), EV_ADD_SPECIES, i,
                         check_number(ev.amount, f"{where} amount")))
        elif isinstance(ev, Infusion):
            i = _species(model, ev.target, where)
            start = _time(ev.start, t0, where)
            dur = check_number(ev.duration, f"{where} duration")
            rate = check_number(ev.rate, f"{where} rate")
            if dur <= 0:
                raise ModelError(f"{where}: duration must be > 0, got {dur}")
            rows += [(start, EV_ADD_INPUT, i, rate), (start + dur, EV_ADD_INPUT, i, -rate)]
        elif isinstance(ev, SetParameter):
            i = model.index_of(ev.name, "parameter")
            value = check_number(ev.value, f"{where} value")
            model.parameters[i].check_value(value, where)
            rows.append((_time(ev.time, t0, where), EV_SET_PARAM, i, value))
        elif isinstance(ev, SetSpecies):
            i = _species(model, ev.name, where)
            value = check_number(ev.value, f"{where} value")
            if model.species[i].nonnegative and value < 0:
                raise ModelError(f"{where}: value {value} is negative but species '{ev.name}' "
                                 "is non-negative")
            rows.append((_time(ev.time, t0, where), EV_SET_SPECIES, i, value))
        else:
            raise ModelError(f"{where}: not an event; use Bolus, Infusion, SetParameter or "
                             "SetSpecies")
    order = sorted(range(len(rows)), key=lambda k: rows[k][0])
    rows = [rows[k] for k in order]
    return Schedule(np.array([r[0] for r in rows], dtype=np.float64),
                    np.array([r[1] for r in rows], dtype=np.int64),
                    np.array([r[2] for r in rows], dtype=np.int64),
                    np.array([r[3] for r in rows], dtype=np.float64))


def concat_schedules(schedules: Sequence[Schedule]):
    """Flatten per-patient schedules: (ptr, time, kind, index, value) with patient i at ptr[i]:ptr[i+1]."""
    ptr = np.zeros(len(schedules) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(s) for s in schedules])
    cat = [np.concatenate([getattr(s, f) for s in schedules]) if schedules else np.zeros(0)
           for f in ("time", "kind", "index", "value")]
    return (ptr, cat[0].astype(np.float64), cat[1].astype(np.int64), cat[2].astype(np.int64),
            cat[3].astype(np.float64))


def _species(model: Model, name: str, where: str) -> int:
    try:
        return model.index_of(name, "species")
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None


def _time(t, t0, where) -> float:
    t = check_number(t, f"{where} time")
    if t < t0 or not math.isfinite(t):
        raise ModelError(f"{where}: time {t} is before the start of the run ({t0})")
    return t
