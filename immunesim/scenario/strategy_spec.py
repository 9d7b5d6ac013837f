"""Treat-to-target rules as data: the ``treat_to_target`` block validated (field paths in every
problem) and the drugs its rules may start. Running them is :mod:`immunesim.scenario.strategy`,
which documents the block."""

from __future__ import annotations

from typing import Mapping

from ..drugs.regimen import parse_therapies
from ..limits import MAX_DECISIONS
from ..units import days
from ..validation import check_keys, clip, did_you_mean, each_mapping, finite, is_one_of

RULE_KEYS = ("at", "every", "from", "if", "then")
IF_KEYS = ("readout", "above", "below", "for")
ACTIONS = ("stop", "start", "switch", "change")


def validate_strategy(raw, names, times, problems: list) -> dict | None:
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
            regs = parse_therapies([{**arg, "start": 0.0}] if isinstance(arg, Mapping) else arg,
                                  f"{path}.then.start", times, problems)
            rule["then"] = ("start", arg if regs else None)
        elif kind == "switch":
            if not isinstance(arg, Mapping) or set(arg) != {"from", "to"}:
                problems.append(f"{path}.then.switch: expected {{from: DRUG, to: THERAPY}}, got {clip(arg)}")
                continue
            regs = parse_therapies([{**arg["to"], "start": 0.0}] if isinstance(arg["to"], Mapping) else arg["to"],
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
