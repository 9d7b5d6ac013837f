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
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from ..limits import MAX_DECISIONS
from ..drugs.regimen import parse_dose
from ..units import days, to_unit
from ..validation import check_keys, clip, did_you_mean, each_mapping, finite, is_one_of
from ..drugs.regimen import Regimen, regimen_events
from ..events import window_events
from ..result import Result
from ..simulate import simulate

RULE_KEYS = ("at", "every", "from", "if", "then")
IF_KEYS = ("readout", "above", "below", "for")
ACTIONS = ("stop", "start", "switch", "change")


def validate_strategy(raw, names, times, problems: list, therapy_parser) -> dict | None:
    """Validated ``treat_to_target`` block (or None); problems appended with field paths."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"treat_to_target: expected a mapping with rules (and flare), got {clip(raw)}")
        return None
    check_keys(raw, ("rules", "flare"), "treat_to_target.", problems)
    rules = []
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(f"treat_to_target.rules: expected a non-empty list of rules, got {clip(raw_rules)}")
        raw_rules = []
    for i, path, r in each_mapping(raw_rules, "treat_to_target.rules", RULE_KEYS, problems,
                                   "a mapping with at|every, if and then", "rules"):
        rule = {"index": i}
        if ("at" in r) == ("every" in r):
            problems.append(f"{path}: give exactly one of at (a decision time) or every (periodic checks)")
            continue
        if "at" in r:
            rule["at"] = days(r["at"], f"{path}.at", problems, positive=False)
        else:
            rule["every"] = days(r["every"], f"{path}.every", problems)
            rule["from"] = days(r.get("from", 0.0), f"{path}.from", problems, positive=False)
            if None not in (rule["every"], rule["from"]) and times:
                n = (times[-1] - rule["from"]) / rule["every"]
                if n > MAX_DECISIONS:
                    problems.append(f"{path}.every: {clip(r['every'])} is {n:.3g} decision times; "
                                    f"at most {MAX_DECISIONS} allowed")
        cond = r.get("if")
        if cond is not None:
            if not isinstance(cond, Mapping):
                problems.append(f"{path}.if: expected {{readout, above|below, for}}, got {clip(cond)}")
            else:
                check_keys(cond, IF_KEYS, f"{path}.if.", problems)
                ro = cond.get("readout")
                if not is_one_of(ro, names):
                    hint = did_you_mean(ro, names, "see `immunesim list variables`")
                    problems.append(f"{path}.if.readout: {clip(ro)} is not a variable; {hint}")
                if ("above" in cond) == ("below" in cond):
                    problems.append(f"{path}.if: give exactly one of above or below")
                else:
                    op = "above" if "above" in cond else "below"
                    v = cond[op]
                    if finite(v) is None:
                        problems.append(f"{path}.if.{op}: expected a finite number, got {clip(v)}")
                    else:
                        rule["if"] = {"readout": ro, "op": op, "value": float(v),
                                      "for": days(cond["for"], f"{path}.if.for", problems)
                                      if "for" in cond else 0.0}
        then = r.get("then")
        if not isinstance(then, Mapping) or len(then) != 1 or next(iter(then)) not in ACTIONS:
            problems.append(f"{path}.then: expected one action of {', '.join(ACTIONS)}, got {clip(then)}")
            continue
        (kind, arg), = then.items()
        if kind == "stop":
            rule["then"] = ("stop", str(arg))
        elif kind == "start":
            regs = therapy_parser([{**arg, "start": 0.0}] if isinstance(arg, Mapping) else arg,
                                  f"{path}.then.start", times, problems)
            rule["then"] = ("start", arg if regs else None)
        elif kind == "switch":
            if not isinstance(arg, Mapping) or set(arg) != {"from", "to"}:
                problems.append(f"{path}.then.switch: expected {{from: DRUG, to: THERAPY}}, got {clip(arg)}")
                continue
            regs = therapy_parser([{**arg["to"], "start": 0.0}] if isinstance(arg["to"], Mapping) else arg["to"],
                                  f"{path}.then.switch.to", times, problems)
            rule["then"] = ("switch", (str(arg["from"]), arg["to"] if regs else None))
        else:
            if not isinstance(arg, Mapping) or "drug" not in arg or not set(arg) - {"drug"} \
                    or set(arg) - {"drug", "dose", "every"}:
                problems.append(f"{path}.then.change: expected {{drug, dose and/or every}}, got {clip(arg)}")
                continue
            rule["then"] = ("change", dict(arg))
        rules.append(rule)
    flare = raw.get("flare")
    if flare is not None:
        value = (flare.get("above", flare.get("below")) if isinstance(flare, Mapping) else None)
        if (not isinstance(flare, Mapping) or not is_one_of(flare.get("readout"), names)
                or ("above" in flare) == ("below" in flare) or finite(value) is None
                or set(flare) - {"readout", "above", "below"}):
            problems.append(f"treat_to_target.flare: expected {{readout: VARIABLE, above|below: "
                            f"NUMBER}}, got {clip(flare)}")
            flare = None
        else:
            op = "above" if "above" in flare else "below"
            flare = {"readout": flare["readout"], "op": op, "value": float(flare[op])}
    return {"rules": rules, "flare": flare}


def strategy_drugs(strategy: dict) -> list[str]:
    """Drugs a strategy may start (they must be in the model from the beginning)."""
    out = []
    for rule in strategy["rules"]:
        kind, arg = rule["then"]
        if kind == "start" and arg:
            out.append(str(arg["drug"]).lower())
        elif kind == "switch" and arg[1]:
            out.append(str(arg[1]["drug"]).lower())
    return out


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
                     events=segment_events(a, b), on_failure="flag", **scenario.solver)
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
    import xarray as xr

    y = xr.DataArray(ys[keep], dims=("time", "variable"),
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
                until = t if reg.until is None else min(reg.until, t)
                active[i] = dataclasses.replace(reg, until=until,
                                                count=None if reg.every else reg.count)
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
