"""Run the tissue alone (``model: abm``) or coupled to the ODE core (``model: hybrid``).

Hybrid coupling, by operator splitting at the exchange interval ``exchange_every``
(default 6 h). Over each window ``[a, b]`` the ODE advances first, then the tissue steps
through the window under what the ODE supplied at ``b``:

- ODE -> tissue: the drug hooks (``neut_TNF``, ``kill_B``, ``jak_gc``, ``jak_treg``, JAK1 x JAK2
  signalling, ``supp_cytokine``), the same numbers the ODE applies, so a drug acts in the
  tissue by the same mechanism; the influx of each immune kind scaled by the ODE's
  population relative to its value at the start (Th1, Th17, Treg, B, Mac, DC; at most
  20-fold, ``hybrid.INFLUX_SCALE_MAX``: recruitment through endothelium saturates); the
  circulating autoantibody (deposition).
- tissue -> ODE, at ``b``: the damaged fraction of the target tissue ``Dmg`` becomes
  ``1 - mean health`` of the patch (scaled to what is not irreversibly lost), so the ODE's
  antigen release and danger signals follow the tissue; and cytokine spill-over: the
  patch's mean TNF and IL-6 above the healthy baseline add ``spill`` (default 1e-4: the
  patch is a small share of the distribution volume, assumed) of their excess to the
  serum species.

The first-order splitting error is that of a lag of one window; halving the window
halves it (the tests check that the hybrid result moves little when it is halved).
"""

from __future__ import annotations

import time as _time
from typing import Callable

import numpy as np

from ..kernels import tissue_agents as K
from ..result import import_xarray
from . import params as P
from .config import TissueConfig
from .lattice import Tissue, no_drug

xr = import_xarray()

UNITS = {**{k: "cells" for k in P.KINDS}, **{f"{k}_active": "cells" for k in P.KINDS},
         "Th_exhausted": "cells", "health_mean": "1", "damaged_fraction": "1",
         "dead_fraction": "1", "regenerating_fraction": "1",
         **{f"{f}_mean": "pg/mL" for f in P.FIELDS}, "immune_complex_mean": "deposit units",
         "damage_rate": "1/day", "antigen_release": "cells/day"}
#: ODE population that scales the influx of each tissue kind
INFLUX_FROM = {"Th1": "Th1", "Th17": "Th17", "Treg": "Treg", "B": "B", "Mac": "Mac", "DC": "DC"}


def snapshot(t: Tissue, field: int):
    """The lattice of ``t`` now: site states, most numerous kind per site, and one field."""
    K.deposit(t.x, t.y, t.kind, t.state, t.n, t.counts, t.ch)   # positions after the last step
    return t.tstate.copy(), t.dominant_kind(), t.fields[field].astype(np.float32)


def snapshot_vars(snaps, field: str) -> dict:
    """Dataset variables ``lattice_state``, ``lattice_cells``, ``lattice_field`` on
    ``(snapshot, row, col)`` from :func:`snapshot` tuples."""
    return {
        "lattice_state": (("snapshot", "row", "col"), np.stack([a for a, _, _ in snaps]),
                          {"meaning": "0 healthy, 1 damaged, 2 dead, 3 regenerating"}),
        "lattice_cells": (("snapshot", "row", "col"), np.stack([b for _, b, _ in snaps]),
                          {"meaning": "most numerous immune kind on the site (-1 none): "
                           + ", ".join(f"{i} {k}" for i, k in enumerate(P.KINDS))}),
        "lattice_field": (("snapshot", "row", "col"), np.stack([c for _, _, c in snaps]),
                          {"units": "pg/mL", "field": field}),
    }


class ProgressClock:
    """True when a progress message is due: first after ``first`` seconds, then every
    ``every`` seconds (long runs say where they are without flooding the terminal)."""

    def __init__(self, first: float = 5.0, every: float = 10.0):
        self.every = every
        self.next = _time.perf_counter() + first

    def __call__(self) -> bool:
        now = _time.perf_counter()
        if now <= self.next:
            return False
        self.next = now + self.every
        return True


def run_tissue(config: TissueConfig, times, *, drive: Callable | None = None,
               snapshot_every: float | None = None, field: str = "TNF",
               progress: Callable[[str], None] | None = None):
    """Step ``config``'s patch to ``times[-1]`` (days), recording :meth:`Tissue.summary` at
    ``times`` (rounded to whole steps) and lattice snapshots every ``snapshot_every`` days.

    ``drive(t) -> (drug vector, ab_sys, influx_scale)`` supplies the systemic side (default:
    no drug), read at every step. Returns ``(dataset, tissue)``: the dataset holds ``y (time, variable)`` and snapshots
    ``lattice_state``/``lattice_cells``/``lattice_field`` on ``(snapshot, row, col)``.
    """
    say = progress or (lambda m: None)
    t = Tissue(config)
    dt = t.dt
    times = np.asarray(times, dtype=float)
    steps_at = np.rint(times / dt).astype(np.int64)
    n_total = int(steps_at[-1])
    f_idx = P.FIELDS.index(field)
    snap_steps = set()
    if snapshot_every:
        k = max(1, int(round(snapshot_every / dt)))
        snap_steps = set(range(0, n_total + 1, k)) | {n_total}
    rows, snaps, snap_t = [], [], []
    drug, ab_sys, scale = (no_drug(), 0.0, None) if drive is None else drive(0.0)
    wall0 = _time.perf_counter()
    report_due = ProgressClock()
    out_i = 0
    for s in range(n_total + 1):
        if drive is not None:
            drug, ab_sys, scale = drive(s * dt)
        while out_i < steps_at.size and steps_at[out_i] == s:
            rows.append(t.summary(drug))
            out_i += 1
        if s in snap_steps:
            snaps.append(snapshot(t, f_idx))
            snap_t.append(s * dt)
        if s == n_total:
            break
        t.step(drug, ab_sys, scale)
        if report_due():
            say(f"  tissue day {t.time:.2f} of {times[-1]:g}: {t.n} agents, "
                f"{(_time.perf_counter() - wall0) / (s + 1) * 1e3:.2f} ms/step")
    names = list(rows[0])
    y = np.array([[r[n] for n in names] for r in rows])
    data = {"y": (("time", "variable"), y), "status": ((), 0),
            "message": ((), "tissue run finished"), "n_steps": ((), n_total)}
    coords = {"time": ("time", steps_at * dt, {"units": "day"}), "variable": names,
              "unit": ("variable", [UNITS.get(n, "1") for n in names]),
              "kind": ("variable", ["tissue"] * len(names))}
    if snaps:
        data.update(snapshot_vars(snaps, field))
        coords["snapshot"] = ("snapshot", np.array(snap_t), {"units": "day"})
    c = config
    attrs = {"model": "tissue", "time_unit": "day", "method": "abm", "seed": c.seed,
             "shape": list(c.shape), "dx_um": c.dx_um, "dt_min": c.dt_min,
             "wall_s": round(_time.perf_counter() - wall0, 3), "agents_final": int(t.n)}
    return xr.Dataset(data, coords=coords, attrs=attrs), t
