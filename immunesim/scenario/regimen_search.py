"""Regimen and combination search: a grid of drugs x doses x intervals run as trial arms, and
the regimens on the efficacy / infection-risk Pareto front, for the cohort and per patient.

::

    trial:
      regimen_search:
        start: "365 d"                    # first dose of every generated regimen
        max_drugs: 2                      # singles, and combinations of up to this many drugs
        efficacy: {endpoint: ACR20, week: 24}
        risk: infection                   # a challenge_week endpoint: days to clear
        grid:
          adalimumab: {route: sc, doses: ["40 mg", "80 mg"], every: ["7 d", "14 d"]}
          tofacitinib: {route: oral, doses: ["5 mg", "10 mg"], every: ["12 h"]}

Each grid point becomes an arm named like ``adalimumab 40 mg q14d`` (combinations joined by
`` + ``), added to the scenario's own arms (e.g. a placebo control), and runs on the same
patients as every other arm. Cohort front: arms not dominated in (response rate higher, mean
clearance days lower). Per patient: regimens not dominated in (the efficacy endpoint's value,
e.g. the relative DAS28 improvement, higher; the patient's own clearance time lower); for each
patient also the lowest-risk regimen that makes them a responder.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..limits import MAX_ARMS
from ..units import days
from ..validation import check_keys, clip, finite, mapping

KEYS = ("start", "max_drugs", "efficacy", "risk", "grid")
GRID_KEYS = ("route", "doses", "every", "infusion_hours")


@dataclass(frozen=True)
class RegimenSearch:
    arms: tuple          # generated arm names
    efficacy: str        # endpoint name
    week: float
    risk: str            # challenge endpoint name


def _label(every_text: str) -> str:
    return "q" + str(every_text).replace(" ", "")


def expand(raw, arms: dict, times, problems: list, therapies_fn) -> RegimenSearch | None:
    """Add the grid's arms to ``arms`` (in place); the search spec, or None with problems."""

    rs = mapping(raw, "trial.regimen_search", problems)
    check_keys(rs, KEYS, "trial.regimen_search.", problems)
    grid = mapping(rs.get("grid"), "trial.regimen_search.grid", problems)
    if not grid:
        problems.append("trial.regimen_search.grid: required, e.g. {adalimumab: {route: sc, doses: [\"40 mg\"], every: [\"14 d\"]}}")
        return None
    start = rs.get("start", "0 d")
    if days(start, "trial.regimen_search.start", problems, positive=False) is None:
        return None
    max_drugs = rs.get("max_drugs", 1)
    if isinstance(max_drugs, bool) or not isinstance(max_drugs, int) or not 1 <= max_drugs <= 3:
        problems.append(f"trial.regimen_search.max_drugs: expected 1, 2 or 3, got {clip(max_drugs)}")
        return None
    per_drug = {}
    for drug, spec in grid.items():
        path = f"trial.regimen_search.grid.{drug}"
        spec = mapping(spec, path, problems)
        check_keys(spec, GRID_KEYS, f"{path}.", problems)
        doses, every = spec.get("doses"), spec.get("every")
        if not isinstance(doses, list) or not doses or not isinstance(every, list) or not every:
            problems.append(f"{path}: expected {{route, doses: [..], every: [..]}} with non-empty lists")
            continue
        options = []
        for d, e in itertools.product(doses, every):
            th = {"drug": drug, "dose": d, "route": spec.get("route"), "every": e, "start": start}
            if spec.get("infusion_hours") is not None:
                th["infusion_hours"] = spec["infusion_hours"]
            options.append((f"{drug} {d} {_label(e)}", th))
        per_drug[drug] = options
    generated = []
    drugs = list(per_drug)
    # arms the grid makes, counted before any is built: sum over k <= max_drugs of the k-th
    # elementary symmetric polynomial of the option counts
    e = [1] + [0] * max_drugs
    for options in per_drug.values():
        for k in range(max_drugs, 0, -1):
            e[k] += e[k - 1] * len(options)
    if sum(e[1:]) + len(arms) > MAX_ARMS:
        problems.append(f"trial.regimen_search.grid: {sum(e[1:])} regimens (with max_drugs "
                        f"{max_drugs}); at most {MAX_ARMS} arms in all")
        return None
    for k in range(1, max_drugs + 1):
        for combo in itertools.combinations(drugs, k):
            for choice in itertools.product(*(per_drug[d] for d in combo)):
                name = " + ".join(c[0] for c in choice)
                regs = therapies_fn([c[1] for c in choice], f"arms.{name}", times, problems)
                if name in arms:
                    problems.append(f"trial.regimen_search: generated arm '{name}' clashes with an arm of the scenario")
                    continue
                arms[name] = {"therapies": tuple(regs), "treat_to_target": None}
                generated.append(name)
    eff = mapping(rs.get("efficacy"), "trial.regimen_search.efficacy", problems)
    if (set(eff) != {"endpoint", "week"} or not isinstance(eff["endpoint"], str)
            or finite(eff["week"]) is None or eff["week"] < 0):
        problems.append(f"trial.regimen_search.efficacy: expected {{endpoint: NAME, week: WEEK >= 0}}, "
                        f"got {clip(eff)}")
        return None
    risk = rs.get("risk")
    if not isinstance(risk, str):
        problems.append(f"trial.regimen_search.risk: expected the name of a challenge_week endpoint, got {clip(risk)}")
        return None
    return RegimenSearch(arms=tuple(generated), efficacy=str(eff["endpoint"]), week=float(eff["week"]),
                         risk=risk)


def check(search: RegimenSearch, endpoints, problems: list) -> None:
    """The efficacy and risk endpoints exist and have the right kinds."""
    by = {e.name: e for e in endpoints}
    e = by.get(search.efficacy)
    if e is None or e.time_to_event or search.week not in e.weeks:
        problems.append(f"trial.regimen_search.efficacy: '{search.efficacy}' at week {search.week:g} is not "
                        "a responder endpoint of trial.endpoints at that week")
    r = by.get(search.risk)
    if r is None or r.kind != "challenge_week":
        problems.append(f"trial.regimen_search.risk: '{search.risk}' is not a challenge_week endpoint")
