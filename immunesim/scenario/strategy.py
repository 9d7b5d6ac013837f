"""Treat-to-target rules: declarative decisions taken during a run, never code.

A scenario's ``treat_to_target`` block::

    treat_to_target:
      rules:
        - at: "449 d"                                   # a decision time, or
          # every: "4 w"  (with from: "365 d")          # periodic checks until the rule fires
          if: {readout: DAS28_CRP, above: 3.2}          # optional; below: X; for: "24 w"
          then: {switch: {from: adalimumab, to: {drug: tocilizumab, dose: "8 mg/kg",
                                                 route: iv, infusion_hours: 1, every: "4 w"}}}
        - every: "4 w"
          from: "365 d"
          if: {readout: CRP, below: 5, for: "24 w"}     # held at every output time of the window
          then: {change: {drug: adalimumab, every: "21 d"}}
        - at: "729 d"
          then: {stop: adalimumab}
      flare: {readout: DAS28_CRP, above: 3.2}           # time to flare after the last stop

Actions: ``stop: DRUG``; ``start: THERAPY``; ``switch: {from: DRUG, to: THERAPY}``;
``change: {drug: DRUG, dose: D, every: I}`` (the next dose comes one new interval after the
last dose given, or at the decision if that is already past). A rule fires at most once.

The run is integrated segment by segment between decision times, each segment starting from
the state the previous one ended in; doses due at a decision time are given after the
decision (a switch at week 12 replaces the week-12 dose), and an infusion running across a
decision time continues.

The block is validated by :mod:`immunesim.scenario.strategy_spec`; this module runs it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..drugs.regimen import Regimen, parse_dose, regimen_events
from ..events import window_events
from ..result import Result, import_xarray
from ..simulate import simulate
from ..units import to_unit
from .build import solver_options


def _holds(cond, t, values, now) -> tuple[bool, float]:
    y = values[cond["readout"]]
    k = int(np.searchsorted(t, now, side="right")) - 1
    current = float(y[k])
    window = (t >= now - cond["for"] - 1e-9) & (t <= now + 1e-9)
    if cond["for"] > 0 and t[0] > now - cond["for"] + 1e-9:
        return False, current                     # the window reaches before the run began
    seg = y[window]
    ok = np.all(seg > cond["value"]) if cond["op"] == "above" else np.all(seg < cond["value"])
    return bool(ok), current


def run_strategy(scenario, model, say=lambda m: None, extra_events=()):
    """Integrate ``scenario`` under its treat-to-target rules (``extra_events``: boluses added
    to the run, such as a pathogen challenge).

    Returns (Result over all output times, decisions, time_to_flare or None)."""
    strategy = scenario.treat_to_target
    t_out = np.asarray(scenario.times)
    W = scenario.body_weight
    active: list[Regimen] = list(scenario.therapies)
    decision_times = set()
    for rule in strategy["rules"]:
        if "at" in rule:
            decision_times.add(rule["at"])
        else:
            k = 1
            while rule["from"] + k * rule["every"] < t_out[-1]:
                decision_times.add(rule["from"] + k * rule["every"])
                k += 1
    decision_times = sorted(x for x in decision_times if t_out[0] < x < t_out[-1])
    grid = np.unique(np.concatenate([t_out, decision_times]))
    bounds = [grid[0], *decision_times, grid[-1]]
    fired, decisions, pieces, y0 = set(), [], [], scenario.initial or None
    stops = []

    def segment_events(a, b):
        return window_events([*extra_events, *regimen_events(active, W)], a, b, b == bounds[-1])

    names = list(model.variable_names)

    def values_so_far():
        # raw arrays: selecting variables one by one through xarray costs ~1 ms each
        tt = np.concatenate([p.time for p in pieces])
        Y = np.concatenate([p.dataset["y"].values for p in pieces], axis=0)
        keep = np.concatenate([[True], np.diff(tt) > 0])
        return tt[keep], {n: Y[keep, j] for j, n in enumerate(names)}

    for a, b in zip(bounds[:-1], bounds[1:]):
        seg_t = grid[(grid >= a) & (grid <= b)]
        r = simulate(model, seg_t, params=scenario.parameters, y0=y0,
                     events=segment_events(a, b), on_failure="flag",
                     **solver_options(scenario, model))
        pieces.append(r)
        if not r.ok:
            break
        y0 = dict(zip(model.species_names, r.dataset["y"].values[-1, :len(model.species_names)]))
        if b == bounds[-1]:
            break
        tt, vals = values_so_far()
        for rule in strategy["rules"]:
            if rule["index"] in fired:
                continue
            due = rule.get("at") == b or ("every" in rule and b > rule["from"]
                                          and abs((b - rule["from"]) / rule["every"]
                                                  - round((b - rule["from"]) / rule["every"])) < 1e-9)
            if not due:
                continue
            value = None
            if "if" in rule:
                ok, value = _holds(rule["if"], tt, vals, b)
                if not ok:
                    continue
            fired.add(rule["index"])
            kind, arg = rule["then"]
            text = _apply(kind, arg, b, active, Regimen, float(t_out[-1]))
            if kind in ("stop", "switch"):
                stops.append(b)
            decisions.append({"time_day": float(b), "rule": rule["index"], "action": text,
                              "readout": rule["if"]["readout"] if "if" in rule else "",
                              "value": value})
            say(f"day {b:g}: rule {rule['index']}: {text}")
    tt, _ = values_so_far()
    ys = np.concatenate([p.dataset["y"].values for p in pieces], axis=0)
    keep = np.concatenate([[True], np.diff(np.concatenate([p.time for p in pieces])) > 0])
    ds = pieces[-1].dataset.copy()
    ds = ds.drop_vars("y").drop_dims("time", errors="ignore")
    y = import_xarray().DataArray(ys[keep], dims=("time", "variable"),
                                  coords={"time": tt, "variable": pieces[0].dataset["variable"]})
    ds = ds.assign(y=y)
    for stat in ("n_steps", "n_accepted", "n_rejected", "n_rhs", "n_jac", "n_lu", "n_dense_lu",
                 "n_clipped"):
        if stat in ds:
            ds[stat] = sum(int(p.dataset[stat]) for p in pieces)
    result = Result(ds)
    on_out = np.isin(tt, t_out)
    result = Result(result.dataset.isel(time=np.flatnonzero(on_out)))
    if result.time.size < t_out.size:     # a segment failed: NaN after it, as simulate gives
        result = Result(result.dataset.reindex(time=t_out))
    flare_t = None
    fl = strategy.get("flare")
    if fl is not None and stops:
        t_stop = stops[-1]
        y_fl = np.asarray(result[fl["readout"]].values)
        tr = result.time
        hit = (tr > t_stop) & ((y_fl > fl["value"]) if fl["op"] == "above" else (y_fl < fl["value"]))
        flare_t = float(tr[np.argmax(hit)] - t_stop) if hit.any() else float("nan")
    return result, decisions, flare_t


def _apply(kind, arg, t, active, Regimen, t_end) -> str:
    def stop(drug):
        found = False
        for i, reg in enumerate(active):
            if reg.drug == drug:
                active[i] = reg.stopped(t)
                found = True
        return found

    def start(th):
        reg = Regimen.parse(th["drug"], dose=th["dose"], route=th["route"], every=th.get("every"),
                            count=th.get("count"), until=th.get("until"), start=t,
                            loading=th.get("loading"), infusion_hours=th.get("infusion_hours"))
        if reg.every is not None and reg.count is None and reg.until is None:
            reg = dataclasses.replace(reg, until=t_end + 1e-9)
        active.append(reg)
        return reg

    if kind == "stop":
        return f"stop {arg}" + ("" if stop(arg) else " (was not being given)")
    if kind == "start":
        start(arg)
        return f"start {arg['drug']}"
    if kind == "switch":
        src, dst = arg
        stop(src)
        start(dst)
        return f"switch {src} -> {dst['drug']}"
    drug = arg["drug"]
    current = [r for r in active if r.drug == drug and (r.until is None or r.until > t)]
    if not current:
        return f"change {drug} (not being given: no change)"
    reg = current[-1]
    given = [d for d in reg.dose_times() if d <= t + 1e-9]
    stop(drug)
    new = reg
    if "dose" in arg:
        amount, per_kg = parse_dose(arg["dose"])
        new = dataclasses.replace(new, dose_mg=amount, per_kg=per_kg)
    if "every" in arg:
        new = dataclasses.replace(new, every=to_unit(arg["every"], "day"))   # validated already
    nxt = max(t, (given[-1] + new.every) if given and new.every else t)
    active.append(dataclasses.replace(new, start=nxt, loading=(), count=None, until=t_end + 1e-9))
    parts = [f"dose {arg['dose']}" if "dose" in arg else "", f"every {arg['every']}" if "every" in arg else ""]
    return f"change {drug}: " + ", ".join(p for p in parts if p) + f" (next dose day {nxt:g})"
