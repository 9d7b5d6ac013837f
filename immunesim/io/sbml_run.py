"""Time courses of imported SBML models, as ``immunesim sbml run`` writes them and as the SBML Test
Suite's semantic cases ask for them (settings file, expected results, pass rule)."""

from __future__ import annotations

import csv
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ImmunesimError, InputError, ModelError
from ..model.sbml import SBMLModel, load_sbml
from ..simulate import simulate

#: default tolerances of ``immunesim sbml run``: tight enough for the SBML Test Suite's expected
#: results (most cases ask for 1e-4 relative and 1e-7 absolute or tighter, on values near 1e-6)
RTOL, ATOL = 1e-10, 1e-16


def time_course(model: SBMLModel, *, t_start: float = 0.0, t_end: float, points: int,
                variables=None, amount=(), concentration=(), rtol: float = RTOL,
                atol: float = ATOL, method: str = "rodas5p", kernels: str = "auto"):
    """``(header, values)``: ``time`` and one column per reported SBML id over ``points`` evenly
    spaced times from ``t_start`` to ``t_end``. ``variables`` selects and orders the ids
    (default :meth:`SBMLInfo.reported`); species in ``amount``/``concentration`` are reported
    so, the others as their SBML symbol's value (a concentration unless
    ``hasOnlySubstanceUnits``)."""
    if not (isinstance(points, int) and points >= 2):
        raise InputError(f"points must be an integer >= 2, got {points!r}")
    if not (math.isfinite(t_start) and math.isfinite(t_end) and t_end > t_start):
        raise InputError(f"t_end ({t_end}) must be a finite time after t_start ({t_start})")
    ids = list(variables) if variables else model.sbml.reported()
    amount, concentration = set(amount), set(concentration)
    for sid in [*ids, *amount, *concentration]:
        if sid not in model.sbml.symbols:
            raise InputError(f"'{sid}' is not an SBML id of the model (ids: "
                             f"{', '.join(list(model.sbml.symbols)[:30])})")
    both = amount & concentration
    if both:
        raise InputError(f"{', '.join(sorted(both))}: asked both as amount and as concentration")
    t = np.linspace(t_start, t_end, points)
    result = simulate(model, t_eval=t, rtol=rtol, atol=atol, method=method, kernels=kernels,
                      max_steps=1_000_000)
    cols = [t]
    for sid in ids:
        as_ = "amount" if sid in amount else "concentration" if sid in concentration else None
        cols.append(model.values(result, sid, as_))
    return ["time", *ids], np.column_stack(cols)


def write_csv(path, header, values) -> None:
    """The table as CSV, written atomically (a temporary file renamed into place)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in values:
            w.writerow([repr(float(v)) for v in row])
    tmp.replace(path)


# -- the SBML Test Suite's semantic cases ---------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One semantic case: its folder, SBML file and settings."""

    folder: Path
    sbml: Path
    start: float
    duration: float
    steps: int
    variables: tuple[str, ...]
    absolute: float
    relative: float
    amount: tuple[str, ...]
    concentration: tuple[str, ...]


def read_case(folder) -> Case:
    folder = Path(folder)
    name = folder.name
    settings = {}
    for line in (folder / f"{name}-settings.txt").read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            settings[k.strip()] = v.strip()
    files = sorted(folder.glob(f"{name}-sbml-l*v*.xml"), key=_level_version)
    if not files:
        raise InputError(f"case {name}: no SBML file")

    def ids(key):
        return tuple(x.strip() for x in settings.get(key, "").split(",") if x.strip())

    return Case(folder=folder, sbml=files[-1], start=float(settings["start"]),
                duration=float(settings["duration"]), steps=int(settings["steps"]),
                variables=ids("variables"), absolute=float(settings["absolute"]),
                relative=float(settings["relative"]), amount=ids("amount"),
                concentration=ids("concentration"))


def _level_version(path: Path):
    m = re.search(r"-l(\d+)v(\d+)\.xml$", path.name)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def run_case(folder, *, kernels: str = "generic", sbml: Path | None = None) -> dict:
    """Run one case and judge it by the suite's rule (``|got - expected| <= absolute + relative
    * |expected|`` at every time, for every variable). Returns ``{"case", "status"
    ("passed" | "failed" | "refused"), "message", "seconds"}``."""
    t0 = time.perf_counter()
    case = read_case(folder)
    out = {"case": case.folder.name, "status": "failed", "message": ""}
    try:
        model = load_sbml(sbml or case.sbml)
    except ModelError as exc:
        out.update(status="refused", message=str(exc)[:500])
        out["seconds"] = time.perf_counter() - t0
        return out
    with open(case.folder / f"{case.folder.name}-results.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    names = [h.strip() for h in rows[0]]
    expected = np.array([[float(v) for v in row] for row in rows[1:] if row], dtype=float)
    try:
        missing = [v for v in case.variables if v not in model.sbml.symbols]
        if missing:
            raise ModelError(f"reported ids not in the model: {', '.join(missing)}")
        header, got = time_course(model, t_start=case.start, t_end=case.start + case.duration,
                                  points=case.steps + 1, variables=case.variables,
                                  amount=[v for v in case.amount if v in case.variables],
                                  concentration=[v for v in case.concentration if v in case.variables],
                                  kernels=kernels)
        worst, where = 0.0, ""
        for k, sid in enumerate(case.variables, start=1):
            want = expected[:, names.index(sid, 1) if sid in names[1:] else k]
            have = got[:, k]
            bound = case.absolute + case.relative * np.abs(want)
            bad = ~((np.abs(have - want) <= bound) | (np.isnan(want) & np.isnan(have))
                    | (np.isinf(want) & (have == want)))
            if bad.any():
                i = int(np.argmax(bad))
                excess = float(np.abs(have[i] - want[i]) / bound[i]) if bound[i] > 0 else math.inf
                if not math.isfinite(worst) or excess > worst or not where:
                    worst = excess
                    where = (f"{sid} at t={got[i, 0]:g}: {have[i]!r}, expected {want[i]!r}")
        if where:
            out["message"] = where
        else:
            out["status"] = "passed"
    except ImmunesimError as exc:
        out["message"] = f"{type(exc).__name__}: {str(exc)[:400]}"
    out["seconds"] = time.perf_counter() - t0
    return out
