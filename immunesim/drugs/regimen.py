"""Dosing regimens: dose (``"40 mg"`` or weight-based ``"8 mg/kg"``), route, schedule.

A regimen expands into engine events: SC and oral doses are boluses of ``F x dose`` into
the depot, IV doses boluses into the central compartment or, with an infusion duration,
zero-order infusions. The schedule is loading doses at the given times (if any), then
maintenance doses every ``every`` from the last loading dose (or from ``start``), up to
``count`` maintenance doses or until ``until`` (exclusive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ModelError
from ..events import Bolus, Infusion, SetSpecies
from ..scenario.units import UnitProblem, to_unit
from .library import drug as _drug

_DOSE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(mg|g|ug|mcg)\s*(/\s*kg)?\s*$")


def parse_dose(text) -> tuple[float, bool]:
    """(``amount in mg``, ``per_kg``) from ``"40 mg"``, ``"8 mg/kg"``, ``"1 g"``."""
    m = _DOSE.match(str(text))
    if not m:
        raise ModelError(f"dose: expected like \"40 mg\" or \"8 mg/kg\" (units mg, g, ug), got {text!r}")
    factor = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "mcg": 1e-3}[m.group(2)]
    return float(m.group(1)) * factor, m.group(3) is not None


def parse_times(text) -> list[float]:
    """Days from ``"0,2,6 w"`` (a comma list with one unit) or a list of numbers (days)."""
    if isinstance(text, (list, tuple)):
        return [to_unit(x, "day") for x in text]
    m = re.match(r"^\s*([0-9.,\s]+?)\s*([A-Za-z]+)?\s*$", str(text))
    if not m:
        raise ModelError(f"loading: expected like \"0,2,6 w\", got {text!r}")
    unit = m.group(2) or "day"
    try:
        return [to_unit(f"{x.strip()} {unit}", "day") for x in m.group(1).split(",") if x.strip()]
    except UnitProblem as exc:
        raise ModelError(f"loading: {exc}") from None


def _days(value, what) -> float:
    try:
        return to_unit(value, "day")
    except UnitProblem as exc:
        raise ModelError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class Regimen:
    drug: str
    dose_mg: float
    per_kg: bool
    route: str
    every: float | None = None        # days
    count: int | None = None
    until: float | None = None        # days
    start: float = 0.0
    loading: tuple = ()
    infusion_hours: float | None = None

    @classmethod
    def parse(cls, drug: str, *, dose, route: str, every=None, count=None, until=None,
              start=0.0, loading=None, infusion_hours=None) -> "Regimen":
        d = _drug(drug)
        amount, per_kg = parse_dose(dose)
        if route not in d["routes"]:
            raise ModelError(f"route: {d['name']} is given {' or '.join(d['routes'])}, not {route!r}")
        ev = _days(every, "every") if every is not None else None
        if ev is not None and ev <= 0:
            raise ModelError(f"every: must be a positive interval, got {every!r}")
        if count is not None and (isinstance(count, bool) or int(count) != count or count < 1):
            raise ModelError(f"count: must be a positive integer, got {count!r}")
        if infusion_hours is not None:
            if route != "iv":
                raise ModelError("infusion_hours: only IV doses are infused")
            if not float(infusion_hours) > 0:
                raise ModelError(f"infusion_hours: must be > 0, got {infusion_hours!r}")
        return cls(drug=d["name"], dose_mg=amount, per_kg=per_kg, route=route, every=ev,
                   count=None if count is None else int(count),
                   until=_days(until, "until") if until is not None else None,
                   start=_days(start, "start"),
                   loading=tuple(parse_times(loading)) if loading else (),
                   infusion_hours=None if infusion_hours is None else float(infusion_hours))

    def dose_times(self) -> list[float]:
        times = [self.start + t for t in self.loading]
        t0 = times[-1] + (self.every or 0.0) if times else self.start
        if self.every is None:
            return times or [self.start]
        k = 0
        while True:
            t = t0 + k * self.every
            if self.count is not None and k >= self.count:
                break
            if self.until is not None and t >= self.until - 1e-9:
                break
            if self.count is None and self.until is None:
                raise ModelError("regimen: give count or until with every")
            times.append(t)
            k += 1
        return times

    def amount_mg(self, weight_kg: float) -> float:
        return self.dose_mg * weight_kg if self.per_kg else self.dose_mg

    def events(self, weight_kg: float, F: float = 1.0, prefix: str = "") -> list:
        """Engine events for the PK model (species ``<prefix>Depot`` and ``<prefix>Central``, mg)."""
        amount = self.amount_mg(weight_kg)
        tv = "CL_Emax" in _drug(self.drug)["pk"]["parameters"]
        out = []
        for t in self.dose_times():
            if tv:  # start the clock of time-varying clearance (idempotent at later doses)
                out.append(SetSpecies(time=t, name=prefix + "TxOn", value=1.0))
            if self.route == "iv" and self.infusion_hours:
                dur = self.infusion_hours / 24.0
                out.append(Infusion(start=t, duration=dur, target=prefix + "Central", rate=amount / dur))
            elif self.route == "iv":
                out.append(Bolus(time=t, target=prefix + "Central", amount=amount))
            else:
                out.append(Bolus(time=t, target=prefix + "Depot", amount=amount * F))
        return out


def regimen_events(regimens, weight_kg: float) -> list:
    """Engine events of every regimen's doses for a patient of ``weight_kg``, into the coupled
    model's species (``<drug>_Depot``/``<drug>_Central``), with each drug's bioavailability."""
    from .pk import scaled_parameters

    out = []
    for r in regimens:
        F = scaled_parameters(r.drug, weight_kg).get("F", 1.0)
        out += r.events(weight_kg, F, prefix=f"{r.drug}_")
    return out
