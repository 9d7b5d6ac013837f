"""Simulate a regimen of one drug and summarise exposure over the last dosing interval."""

from __future__ import annotations

import numpy as np

from ..limits import MAX_OUTPUT_POINTS
from ..simulate import simulate
from .library import drug as _drug
from .metrics import interval_metrics
from .pk import REFERENCE_WEIGHT_KG, pk_model, scaled_parameters
from .regimen import Regimen
from ..errors import ModelError


def simulate_pk(regimen: Regimen, days: float, weight_kg: float = REFERENCE_WEIGHT_KG,
                points_per_day: int | None = None):
    """(times, concentration ug/mL, metrics) for ``regimen`` over ``days``.

    Output is dense enough to resolve absorption and infusion peaks: at least 48 points
    per day for small molecules (``ka`` > 10/day or half-life < 1 day), 4 per day otherwise.
    """
    if not (isinstance(days, (int, float)) and np.isfinite(days) and days > 0):
        raise ModelError(f"days: must be > 0, got {days!r}")
    p = scaled_parameters(regimen.drug, weight_kg)
    model = pk_model(regimen.drug, weight_kg)
    fast = p.get("ka", 0.0) > 10.0 or np.log(2) * p["V"] / p["CL"] < 1.0
    n = points_per_day or (48 if fast else 4)
    if regimen.infusion_hours:
        n = max(n, int(np.ceil(48.0 / regimen.infusion_hours)))
    points = int(min(round(days * n), MAX_OUTPUT_POINTS + 1)) + 1
    if points > MAX_OUTPUT_POINTS:
        raise ModelError(f"days: {days:g} days at {n} points per day is more than "
                         f"{MAX_OUTPUT_POINTS} output points")
    t = np.linspace(0.0, days, points)
    doses = [d for d in regimen.dose_times() if d < days]
    events = [e for e in regimen.events(weight_kg, p.get("F", 1.0))
              if getattr(e, "time", getattr(e, "start", 0.0)) < days]
    r = simulate(model, t, events=events, rtol=1e-8, atol=1e-10)
    c = r["C"].values
    last = doses[-1] if doses else 0.0
    end = min(last + regimen.every, days) if regimen.every else days
    metrics = interval_metrics(t, c, last, end)
    metrics.update(drug=_drug(regimen.drug)["name"], last_dose_day=last, interval_days=end - last,
                   n_doses=len(doses), dose_mg=regimen.amount_mg(weight_kg), weight_kg=weight_kg)
    return t, c, metrics
