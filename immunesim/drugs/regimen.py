"""Dosing regimens: dose (``"40 mg"`` or weight-based ``"8 mg/kg"``), route, schedule.

A regimen expands into engine events: SC and oral doses are boluses of ``F x dose`` into
the depot, IV doses boluses into the central compartment or, with an infusion duration,
zero-order infusions. The schedule is loading doses at the given times (if any), then
maintenance doses every ``every`` from the last loading dose (or from ``start``), up to
``count`` maintenance doses or until ``until`` (exclusive).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from ..errors import ModelError
from ..events import Bolus, Infusion, SetSpecies
from ..limits import MAX_DAYS, MAX_DOSE_MG, MAX_DOSES
from ..units import UnitProblem, days, to_unit
from ..validation import clip as _clip
from ..validation import did_you_mean, each_mapping, finite
from .library import drug as _drug
from .pk import scaled_parameters

_DOSE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(mg|g|ug|mcg)\s*(/\s*kg)?\s*$")


def parse_dose(text) -> tuple[float, bool]:
    """(``amount in mg``, ``per_kg``) from ``"40 mg"``, ``"8 mg/kg"``, ``"1 g"``."""
    m = _DOSE.match(str(text)) if isinstance(text, str) and len(text) <= 64 else None
    if not m:
        raise ModelError(f"dose: expected like \"40 mg\" or \"8 mg/kg\" (units mg, g, ug), "
                         f"got {_clip(text)}")
    factor = {"mg": 1.0, "g": 1000.0, "ug": 1e-3, "mcg": 1e-3}[m.group(2)]
    amount = float(m.group(1)) * factor
    if not (math.isfinite(amount) and 0 < amount <= MAX_DOSE_MG):
        raise ModelError(f"dose: {_clip(text)} is outside (0, {MAX_DOSE_MG:g}] mg"
                         + ("/kg" if m.group(3) else ""))
    return amount, m.group(3) is not None


def parse_times(text) -> list[float]:
    """Days from ``"0,2,6 w"`` (a comma list with one unit) or a list of numbers (days)."""
    if isinstance(text, (list, tuple)):
        items = list(text)
        unit = None
    else:
        m = re.match(r"^\s*([0-9.,\s]+?)\s*([A-Za-z]+)?\s*$", str(text)) if len(str(text)) < 10_000 else None
        if not m:
            raise ModelError(f"loading: expected like \"0,2,6 w\", got {_clip(text)}")
        unit = m.group(2) or "day"
        items = [x.strip() for x in m.group(1).split(",") if x.strip()]
    if len(items) > MAX_DOSES:
        raise ModelError(f"loading: {len(items)} loading doses; at most {MAX_DOSES} allowed")
    out = []
    for x in items:
        try:
            v = to_unit(x if unit is None else f"{x} {unit}", "day")
        except UnitProblem as exc:
            raise ModelError(f"loading: {exc}") from None
        if not 0 <= v <= MAX_DAYS:
            raise ModelError(f"loading: {_clip(x)} is outside [0, {MAX_DAYS:g}] days")
        out.append(v)
    return out


def _days(value, what) -> float:
    """``value`` in days, in ``[0, MAX_DAYS]`` (:func:`immunesim.units.days`), or a ModelError."""
    problems: list = []
    v = days(value, what, problems, positive=False)
    if problems:
        raise ModelError(problems)
    return v


def _count(count) -> int:
    if isinstance(count, float) and math.isfinite(count) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DOSES:
        raise ModelError(f"count: must be an integer in [1, {MAX_DOSES}], got {_clip(count)}")
    return count


def _hours(value) -> float:
    hours = finite(value)
    if hours is None or not 0 < hours <= 24 * 30:
        raise ModelError(f"infusion_hours: must be a number of hours in (0, 720], got {_clip(value)}")
    return hours


def schedule_size(s) -> float:
    """How many doses :func:`schedule_times` gives for a schedule ``s`` (a :class:`Regimen` or
    :class:`SpeciesDose`: ``start``, ``loading``, ``every``, ``count``, ``until``), computed
    without listing them (inf when the schedule has no end)."""
    n = len(s.loading) or (0 if s.every is not None else 1)
    if s.every is None:
        return n
    if s.count is not None:
        return n + s.count
    if s.until is None:
        return math.inf
    t0 = s.start + (s.loading[-1] + s.every if s.loading else 0.0)
    q = (s.until - 1e-9 - t0) / s.every
    return n + max(0.0, math.ceil(q)) if math.isfinite(q) else math.inf   # a subnormal interval


def schedule_times(s, what: str) -> list[float]:
    """The dose times of schedule ``s`` (see :func:`schedule_size`): loading doses at their
    times from ``start``, then one every ``every`` up to ``count`` or until ``until``."""
    n = schedule_size(s)
    if n > MAX_DOSES:
        raise ModelError(f"{what}: {n:.3g} doses; at most {MAX_DOSES} allowed "
                         "(give count or until with every)")
    times = [s.start + t for t in s.loading]
    t0 = times[-1] + (s.every or 0.0) if times else s.start
    if s.every is None:
        times = times or [s.start]
    if s.until is not None:
        # ``until`` ends every dose, loading and single ones too: a drug stopped (a
        # treat-to-target or management decision) before a dose not yet given does not give it
        times = [t for t in times if t < s.until - 1e-9]
    if s.every is None:
        return times
    k = 0
    while True:
        t = t0 + k * s.every
        if s.count is not None and k >= s.count:
            break
        if s.until is not None and t >= s.until - 1e-9:
            break
        if s.count is None and s.until is None:
            raise ModelError(f"{what}: give count or until with every")
        times.append(t)
        k += 1
    return times


def _schedule(every, count, until, start, problems: list) -> dict:
    """The validated schedule fields of a dosing entry (times through :func:`_days`)."""
    values: dict = {}
    for name, fn, args in (("every", _days, (every, "every")), ("count", _count, (count,)),
                           ("until", _days, (until, "until")), ("start", _days, (start, "start"))):
        if args[0] is None and name != "start":
            continue
        try:
            values[name] = fn(*args)
        except ModelError as exc:
            problems.extend(exc.problems)
    if values.get("every") == 0.0:
        problems.append(f"every: must be a positive interval, got {_clip(every)}")
        values.pop("every")
    return values


def _check_size(schedule, every) -> None:
    n = schedule_size(schedule)
    if n > MAX_DOSES and (math.isfinite(n) or schedule.until is not None):   # inf without until: no end yet
        raise ModelError(f"every: {_clip(every)} until {schedule.until:g} is {n:.3g} doses; "
                         f"at most {MAX_DOSES} allowed")


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
        problems, values = [], {}

        def field(name, fn, *args):
            try:
                values[name] = fn(*args)
            except ModelError as exc:
                problems.extend(exc.problems)

        field("dose", parse_dose, dose)
        if not isinstance(route, str) or route not in d["routes"]:
            problems.append(f"route: {d['name']} is given {' or '.join(d['routes'])}, "
                            f"not {_clip(route)}")
        values.update(_schedule(every, count, until, start, problems))
        if loading:
            field("loading", parse_times, loading)
        if infusion_hours is not None:
            if route != "iv":
                problems.append("infusion_hours: only IV doses are infused")
            field("infusion_hours", _hours, infusion_hours)
        if problems:
            raise ModelError(problems)
        amount, per_kg = values["dose"]
        reg = cls(drug=d["name"], dose_mg=amount, per_kg=per_kg, route=route,
                  every=values.get("every"), count=values.get("count"), until=values.get("until"),
                  start=values["start"], loading=tuple(values.get("loading", ())),
                  infusion_hours=values.get("infusion_hours"))
        _check_size(reg, every)
        return reg

    def n_doses(self) -> float:
        """How many doses :meth:`dose_times` gives (inf when the schedule has no end)."""
        return schedule_size(self)

    def dose_times(self) -> list[float]:
        return schedule_times(self, f"regimen of {self.drug}")

    def stopped(self, t: float) -> "Regimen":
        """This regimen with no dose at or after ``t`` (a decision to stop the drug): what was
        given stays given, a ``count`` still ends it earlier, and single or loading doses not
        yet given are dropped too (``until`` ends every dose)."""
        return dataclasses.replace(self, until=t if self.until is None else min(self.until, t))

    def describe(self) -> str:
        """One line: drug, dose, route, schedule."""
        dose = f"{self.dose_mg:g} mg/kg" if self.per_kg else f"{self.dose_mg:g} mg"
        every = f" every {self.every:g} d" if self.every else ""
        return f"{self.drug} {dose} {self.route}{every} from day {self.start:g}"

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


@dataclass(frozen=True)
class SpeciesDose:
    """Doses into a species of an SBML model (``model: file.xml`` scenarios): ``amount`` of
    substance (the model's substance unit) each time, as a bolus or, with ``duration``, infused
    at a constant rate over that time; the schedule as a :class:`Regimen`'s, in the model's time
    unit. :func:`immunesim.scenario.sbml_source.dose_events` turns it into engine events."""

    species: str
    amount: float
    duration: float | None = None
    every: float | None = None
    count: int | None = None
    until: float | None = None
    start: float = 0.0
    loading: tuple = ()

    @classmethod
    def parse(cls, species: str, *, amount, duration=None, every=None, count=None, until=None,
              start=0.0) -> "SpeciesDose":
        problems: list = []
        if not isinstance(species, str) or not species:
            problems.append(f"species: expected an SBML species id, got {_clip(species)}")
        value = finite(amount)
        if value is None or not value > 0:
            problems.append(f"amount: expected a positive number (the model's substance unit), "
                            f"got {_clip(amount)}")
        values = _schedule(every, count, until, start, problems)
        if duration is not None:
            try:
                values["duration"] = _days(duration, "duration")
                if not values["duration"] > 0:
                    problems.append(f"duration: must be a positive time, got {_clip(duration)}")
            except ModelError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ModelError(problems)
        dose = cls(species=species, amount=value, duration=values.get("duration"),
                   every=values.get("every"), count=values.get("count"),
                   until=values.get("until"), start=values["start"])
        _check_size(dose, every)
        return dose

    def n_doses(self) -> float:
        return schedule_size(self)

    def dose_times(self) -> list[float]:
        return schedule_times(self, f"doses into {self.species}")

    def describe(self) -> str:
        how = f" over {self.duration:g}" if self.duration else ""
        every = f" every {self.every:g}" if self.every else ""
        return f"{self.amount:g} into {self.species}{how}{every} from {self.start:g}"


def regimen_events(regimens, weight_kg: float) -> list:
    """Engine events of every regimen's doses for a patient of ``weight_kg``, into the coupled
    model's species (``<drug>_Depot``/``<drug>_Central``), with each drug's bioavailability."""
    out = []
    for r in regimens:
        F = scaled_parameters(r.drug, weight_kg).get("F", 1.0)
        out += r.events(weight_kg, F, prefix=f"{r.drug}_")
    return out


THERAPY_KEYS = ("drug", "dose", "route", "every", "count", "until", "start", "loading",
                "infusion_hours")
SPECIES_DOSE_KEYS = ("species", "amount", "duration", "every", "count", "until", "start")


def parse_therapies(raw, where: str, times, problems: list, *, species=None) -> list:
    """Validated regimens of a scenario's therapy list (``where`` is its field path; ``times``
    the run's output times: a regimen with ``every`` and neither ``count`` nor ``until`` lasts
    the run); every problem appended to ``problems``.

    ``species``: None for a disease preset's scenario (drugs from the library, :class:`Regimen`);
    for an SBML model's, the ids of the species that can be dosed, and the entries are
    :class:`SpeciesDose` (``{species, amount, duration, every, count, until, start}``)."""
    if species is not None:
        return _species_doses(raw, where, times, problems, species)
    regimens = []
    for _, path, th in each_mapping(raw, where, THERAPY_KEYS, problems,
                                 'a mapping like {drug: adalimumab, dose: "40 mg", route: sc, '
                                 'every: "14 d", count: 6}', "regimens"):
        th = {k: v for k, v in th.items() if v is not None}    # `until:` left empty = absent
        if "species" in th:
            problems.append(f"{path}.species: doses into a species need an SBML model "
                            "(model: path/to/model.xml); a disease preset takes drugs")
            continue
        missing = [k for k in ("drug", "dose", "route") if k not in th]
        if missing:
            problems.append(f"{path}: missing {', '.join(missing)} (required: drug, dose, route)")
            continue
        if "every" in th and "count" not in th and "until" not in th:
            th = {**th, "until": times[-1] if times else 0.0}
        try:
            regimens.append(Regimen.parse(th["drug"], dose=th["dose"], route=th["route"],
                                          every=th.get("every"), count=th.get("count"),
                                          until=th.get("until"), start=th.get("start", 0.0),
                                          loading=th.get("loading"),
                                          infusion_hours=th.get("infusion_hours")))
        except ModelError as exc:
            problems += [f"{path}.{p}" if not p.startswith("unknown drug") else f"{path}.drug: {p}"
                         for p in exc.problems]
    return regimens


def _species_doses(raw, where, times, problems, species) -> list:
    out = []
    for _, path, th in each_mapping(raw, where, SPECIES_DOSE_KEYS + ("drug",), problems,
                                 "a mapping like {species: S1, amount: 2.5, every: 12, count: 4}",
                                 "dose entries"):
        th = {k: v for k, v in th.items() if v is not None}
        if "drug" in th:
            problems.append(f"{path}.drug: drugs from the library couple to a disease preset; an "
                            "SBML model takes doses into its species: {species: ID, amount: N}")
            continue
        missing = [k for k in ("species", "amount") if k not in th]
        if missing:
            problems.append(f"{path}: missing {', '.join(missing)} (required: species, amount)")
            continue
        if th["species"] not in species:
            problems.append(f"{path}.species: {_clip(th['species'])} is not a species that can be "
                            f"dosed; {did_you_mean(str(th['species']), species, 'see immunesim sbml info')}")
            continue
        if "every" in th and "count" not in th and "until" not in th:
            th = {**th, "until": times[-1] if times else 0.0}
        try:
            out.append(SpeciesDose.parse(th["species"], amount=th["amount"],
                                         duration=th.get("duration"), every=th.get("every"),
                                         count=th.get("count"), until=th.get("until"),
                                         start=th.get("start", 0.0)))
        except ModelError as exc:
            problems += [f"{path}.{p}" for p in exc.problems]
    return out
