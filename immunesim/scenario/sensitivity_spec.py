"""The ``sensitivity:`` block of a scenario: which parameters vary, how, and what is measured
(``immunesim sensitivity SCENARIO -o OUTDIR``; the analysis is
:mod:`immunesim.analysis.global_sensitivity`)::

    sensitivity:
      method: sobol          # sobol | morris | fast | local (default sobol)
      samples: 1024          # SALib's base sample size N (sobol: N (D + 2) runs; morris: N
                             # trajectories, N (D + 1) runs; fast: N D runs); local: unused
      seed: 1                # default: the scenario's seed
      second_order: false    # sobol: also the second-order indices S2 (N (2 D + 2) runs)
      parameters:            # each: [low, high] in the parameter's unit, or "20%" (+- around
        k_act: [0.25, 0.4]   # the scenario's value), or calibrated: "20%" for every parameter
        r_eff: "20%"         # whose source says it was calibrated
      outputs:
        - {variable: DAS28_CRP, at: ["1 year", "2 years"]}      # value at each time
        - {auc: Dmg}                                             # time integral over the run
        - {variable: DAS28_CRP, improvement: 0.2, from: "1 year", at: "1 year + 24 w"}
                             # responder status (1/0): relative fall from ``from`` to ``at``
                             # of at least 0.2, as a trial's improvement endpoint
        - {variable: DAS28_CRP, below: 2.6, at: ["76 w"]}        # responder: value below 2.6

Times are in days (or with a unit), in the model's time unit for an SBML model. Every problem
is reported with its field path.
"""

from __future__ import annotations

import math
import re

from ..limits import MAX_POPULATION
from ..units import days
from ..validation import check_keys, clip, did_you_mean, each_mapping, mapping

METHODS = ("sobol", "morris", "fast", "local")
KEYS = ("method", "samples", "seed", "parameters", "outputs", "threads", "second_order")
OUTPUT_KEYS = ("variable", "at", "auc", "improvement", "below", "from")
_PERCENT = re.compile(r"^\s*(?:\+-|±)?\s*(\d+(?:\.\d*)?)\s*%\s*$")


def _percent(value) -> float | None:
    m = _PERCENT.match(value) if isinstance(value, str) else None
    return float(m.group(1)) / 100.0 if m else None


def validate_sensitivity(raw, params: dict, sources: dict, names, seed: int, t_end: float | None,
                         problems: list) -> dict | None:
    """The validated block, or None when absent. ``params``: parameter name -> (value at the
    scenario's settings, (lower, upper) bounds); ``sources``: name -> source text; ``names``:
    the model's variables."""
    if raw is None:
        return None
    section = mapping(raw, "sensitivity", problems)
    check_keys(section, KEYS, "sensitivity.", problems)
    method = section.get("method", "sobol")
    if method not in METHODS:
        problems.append(f"sensitivity.method: {clip(method)}; allowed {', '.join(METHODS)}")
    n = section.get("samples", 1024 if method != "morris" else 64)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_POPULATION:
        problems.append(f"sensitivity.samples: expected an integer in [2, {MAX_POPULATION}], "
                        f"got {clip(n)}")
        n = 2
    if method == "sobol" and n & (n - 1):
        problems.append(f"sensitivity.samples: Sobol' sampling needs a power of 2 (e.g. 512, "
                        f"1024), got {n}")
    if method == "fast" and n <= 64:
        problems.append(f"sensitivity.samples: FAST needs more than 64 samples (4 M^2 with "
                        f"M = 4), got {n}")
    s = section.get("seed", seed)
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**32:
        problems.append(f"sensitivity.seed: expected an integer in [0, 2**32), got {clip(s)}")
        s = 0
    second = section.get("second_order", False)
    if not isinstance(second, bool):
        problems.append(f"sensitivity.second_order: expected true or false, got {clip(second)}")
    elif second and method != "sobol":
        problems.append("sensitivity.second_order: only with method sobol")
    threads = section.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        problems.append(f"sensitivity.threads: expected a positive integer, got {clip(threads)}")
    ranges = {}
    praw = mapping(section.get("parameters"), "sensitivity.parameters", problems)
    if not praw:
        problems.append("sensitivity.parameters: required, e.g. {k_act: [0.25, 0.4], r_eff: "
                        "\"20%\"} or {calibrated: \"20%\"}")
    for key, value in praw.items():
        path = f"sensitivity.parameters.{key}"
        if key == "calibrated":
            frac = _percent(value)
            chosen = [p for p, src in sources.items() if "calibrat" in src.lower()]
            if frac is None or not 0 < frac < 1:
                problems.append(f"{path}: expected a percentage below 100 %, like \"20%\", got "
                                f"{clip(value)}")
            elif not chosen:
                problems.append(f"{path}: the model has no parameter whose source says it was "
                                "calibrated")
            for p in chosen:
                if frac is not None and 0 < frac < 1:
                    ranges.setdefault(p, _relative(p, params[p], frac, path, problems))
            continue
        if key not in params:
            problems.append(f"{path}: not a parameter of the model; "
                            f"{did_you_mean(key, params, 'see immunesim list parameters')}")
            continue
        frac = _percent(value)
        if frac is not None:
            if not 0 < frac < 1:
                problems.append(f"{path}: expected a percentage between 0 and 100 %, got "
                                f"{clip(value)}")
                continue
            ranges[key] = _relative(key, params[key], frac, path, problems)
        elif (isinstance(value, list) and len(value) == 2
              and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      and math.isfinite(v) for v in value) and value[0] < value[1]):
            lo, hi = params[key][1]
            if value[0] < lo or value[1] > hi:
                problems.append(f"{path}: [{value[0]}, {value[1]}] leaves the parameter's bounds "
                                f"[{lo}, {hi}]")
            ranges[key] = (float(value[0]), float(value[1]))
        else:
            problems.append(f"{path}: expected [low, high] (low < high, in the parameter's "
                            f"unit) or a percentage like \"20%\", got {clip(value)}")
    ranges = {k: v for k, v in ranges.items() if v is not None}
    outputs = _outputs(section.get("outputs"), names, t_end, method, problems)
    return {"method": method, "samples": int(n), "seed": int(s), "ranges": ranges,
            "outputs": outputs, "threads": threads, "second_order": second is True}


def _relative(name, entry, frac, path, problems):
    value, (lo, hi) = entry
    if value == 0:
        problems.append(f"{path}: '{name}' is 0 in this scenario, so a relative range is empty; "
                        "give [low, high]")
        return None
    a, b = sorted((value * (1 - frac), value * (1 + frac)))
    if a < lo or b > hi:
        problems.append(f"{path}: {name} = {value:g} +- {frac:.0%} leaves its bounds [{lo}, {hi}]")
        return None
    return (a, b)


def _outputs(raw, names, t_end, method, problems) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        problems.append("sensitivity.outputs: required, a list such as [{variable: DAS28_CRP, "
                        "at: [\"1 year\"]}, {auc: Dmg}]")
        return []
    out = []
    for _, path, item in each_mapping(raw, "sensitivity.outputs", OUTPUT_KEYS, problems,
                                      "a mapping", "outputs"):
        if "auc" in item:
            v = item["auc"]
            if v not in names:
                problems.append(f"{path}.auc: {clip(v)} is not a variable; "
                                f"{did_you_mean(v, names, 'see the model variables')}")
            elif set(item) - {"auc"}:
                problems.append(f"{path}: auc takes no other keys")
            else:
                out.append({"kind": "auc", "variable": v, "name": f"{v}_auc"})
            continue
        v = item.get("variable")
        if v not in names:
            problems.append(f"{path}.variable: {clip(v)} is not a variable; "
                            f"{did_you_mean(v, names, 'see the model variables')}")
            continue
        at = item.get("at")
        at = at if isinstance(at, list) else [at] if at is not None else []
        if not at:
            problems.append(f"{path}.at: required: the time(s) of the output")
            continue
        times = [days(a, f"{path}.at[{k}]", problems, positive=False) for k, a in enumerate(at)]
        if None in times:
            continue
        if t_end is not None and any(t > t_end + 1e-9 for t in times):
            problems.append(f"{path}.at: a time after the scenario's end ({t_end:g})")
            continue
        kinds = [k for k in ("improvement", "below") if k in item]
        if len(kinds) > 1:
            problems.append(f"{path}: give improvement or below, not both")
            continue
        if not kinds:
            if "from" in item:
                problems.append(f"{path}.from: only with improvement")
            out += [{"kind": "value", "variable": v, "at": t, "name": f"{v}@{t:g}"}
                    for t in times]
            continue
        kind = kinds[0]
        thr = item[kind]
        if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not math.isfinite(thr):
            problems.append(f"{path}.{kind}: expected a number, got {clip(thr)}")
            continue
        if method == "local":
            problems.append(f"{path}: a responder status has no derivative; method local "
                            "takes values and AUCs")
            continue
        base = None
        if kind == "improvement":
            base = days(item.get("from"), f"{path}.from", problems, positive=False) \
                if "from" in item else None
            if base is None:
                problems.append(f"{path}.from: required with improvement: the baseline time")
                continue
        for t in times:
            label = (f"{v}_improved_{thr:g}@{t:g}" if kind == "improvement"
                     else f"{v}_below_{thr:g}@{t:g}")
            out.append({"kind": kind, "variable": v, "at": t, "threshold": float(thr),
                        "from": base, "name": label})
    seen = set()
    for o in out:
        if o["name"] in seen:
            problems.append(f"sensitivity.outputs: '{o['name']}' is listed twice")
        seen.add(o["name"])
    return out


__all__ = ["METHODS", "validate_sensitivity"]
