"""The hybrid run: the ODE core and the tissue patch advanced by operator splitting.

See :mod:`immunesim.tissue.run` for what crosses in each direction. Windows end at every
output time and every exchange time; the ODE integrates a window from the state the last
one ended in (doses inside it are given there; an infusion crossing a boundary is split),
then the tissue steps through the same window under the systemic values at its end.
"""

from __future__ import annotations

import time as _time

import numpy as np

from ..events import window_events
from ..result import Result, import_xarray
from ..simulate import simulate
from . import params as P
from .config import TissueConfig
from .lattice import DRUG_HOOKS, Tissue, drug_vector
from .run import INFLUX_FROM, UNITS, ProgressClock, snapshot, snapshot_vars

xr = import_xarray()

#: serum spill-over: share of the patch's excess TNF/IL-6 added to the serum species per exchange
SPILL = 1e-4
#: most the systemic side may multiply a kind's influx (assumed: endothelial recruitment saturates)
INFLUX_SCALE_MAX = 20.0


def run_hybrid(model, times, config: TissueConfig, exchange: float, *, events=(), params=None,
               y0=None, solver=None, say=lambda m: None, snapshot_every: float | None = None,
               field: str = "TNF") -> Result:
    """A Result holding ``model``'s variables and the tissue readouts (prefixed ``tissue_``) at
    ``times`` (days), with the lattice snapshots (when ``snapshot_every`` is given). The two
    sides exchange every ``exchange`` days (rounded to tissue steps); ``events``, ``params``,
    ``y0`` and ``solver`` (options of :func:`immunesim.simulate`) are the ODE side's."""
    t_out = np.asarray(times, dtype=float)
    solver = dict(solver or {})
    tis = Tissue(config)
    dt = tis.dt
    ex = max(dt, round(exchange / dt) * dt)
    grid = np.unique(np.concatenate([t_out, np.arange(t_out[0], t_out[-1], ex)]))
    names = list(model.variable_names)
    species = list(model.species_names)
    pvals = dict(zip(model.parameter_names, model.parameter_vector(params or {})))
    y0 = y0 or None
    ode_t, ode_y, tis_rows = [], [], []
    base = None
    f_idx = P.FIELDS.index(field)
    snaps, snap_t = [], []
    snap_k = max(1, int(round(snapshot_every / dt))) if snapshot_every else None
    wall0 = _time.perf_counter()
    report_due = ProgressClock()
    drug = drug_vector({})
    tis_rows.append(tis.summary(drug))
    if snap_k:
        snaps.append(snapshot(tis, f_idx))
        snap_t.append(0.0)
    healthy_tnf = healthy_il6 = None
    for w, (a, b) in enumerate(zip(grid[:-1], grid[1:])):
        last = b == grid[-1]
        r = simulate(model, [a, b], params=params, y0=y0,
                     events=window_events(events, a, b, last), on_failure="flag", **solver)
        if not r.ok:
            raise RuntimeError(f"hybrid run: the ODE failed in [{a:g}, {b:g}] days: {r.message}")
        Y = r.dataset["y"].values
        if w == 0:
            ode_t.append(a)
            ode_y.append(Y[0])
            base = {k: max(float(Y[0, names.index(v)]), 1e-12) for k, v in INFLUX_FROM.items()}
            healthy_tnf = float(Y[0, names.index("TNF")]) if "TNF" in names else 0.0
            healthy_il6 = float(Y[0, names.index("IL6")]) if "IL6" in names else 0.0
        vals = {n: float(v) for n, v in zip(names, Y[-1])}
        hooks = {h: vals.get(h, pvals.get(h, untreated)) for h, untreated in DRUG_HOOKS.items()}
        drug = drug_vector(hooks)
        scale = np.array([min(INFLUX_SCALE_MAX, vals[INFLUX_FROM[k]] / base[k])
                          if k in INFLUX_FROM else 1.0 for k in P.KINDS])
        ab_sys = vals.get("AutoAb", 0.0)
        for _ in range(int(round((b - a) / dt))):
            tis.step(drug, ab_sys, scale)
            if snap_k and tis.step_index % snap_k == 0:
                snaps.append(snapshot(tis, f_idx))
                snap_t.append(tis.time)
        s = tis.summary(drug)
        # tissue -> ODE at b: damage, and serum spill-over of TNF and IL-6
        y_end = dict(zip(species, Y[-1, :len(species)]))
        if "Dmg" in y_end:
            irr = y_end.get("Irr", 0.0)
            y_end["Dmg"] = float(np.clip(1.0 - s["health_mean"], 0.0, 1.0)) * (1.0 - irr)
            vals["Dmg"] = y_end["Dmg"]
        for sp, h0 in (("TNF", healthy_tnf), ("IL6", healthy_il6)):
            if sp in y_end:
                y_end[sp] += SPILL * max(0.0, s[f"{sp}_mean"] - h0)
                vals[sp] = y_end[sp]
        y0 = y_end
        if np.any(np.isclose(t_out, b)):
            ode_t.append(b)
            ode_y.append(np.array([vals[n] for n in names]))
            tis_rows.append(s)
        if report_due():
            say(f"  hybrid day {b:.2f} of {t_out[-1]:g}: {tis.n} agents, tissue health "
                f"{s['health_mean']:.3f}")
    tnames = list(tis_rows[0])
    Yo = np.array(ode_y)
    Yt = np.array([[row[n] for n in tnames] for row in tis_rows])
    ds = r.dataset
    allnames = names + [f"tissue_{n}" for n in tnames]
    data = {"y": (("time", "variable"), np.concatenate([Yo, Yt], axis=1)),
            "status": ((), 0), "message": ((), "hybrid run finished"),
            "n_steps": ((), int(tis.step_index))}
    coords = {"time": ("time", np.array(ode_t), {"units": "day"}), "variable": allnames,
              "unit": ("variable", list(model.variable_units) + [UNITS.get(n, "1") for n in tnames]),
              "kind": ("variable", list(ds["kind"].values) + ["tissue"] * len(tnames))}
    if snaps:
        data.update(snapshot_vars(snaps, field))
        coords["snapshot"] = ("snapshot", np.array(snap_t), {"units": "day"})
    attrs = {k: v for k, v in ds.attrs.items()}
    attrs.update(method=f"hybrid ({attrs.get('method')} + abm)", exchange_day=float(ex),
                 seed=config.seed, shape=list(config.shape), dt_min=config.dt_min,
                 wall_s=round(_time.perf_counter() - wall0, 3))
    return Result(xr.Dataset(data, coords=coords, attrs=attrs))
