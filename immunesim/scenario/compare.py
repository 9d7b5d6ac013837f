"""Compare therapy arms on the same patient, in memory: ``immunesim.compare(scenario)``.

``immunesim compare SCENARIO -o OUTDIR`` writes what this returns (:mod:`immunesim.io.compare`).

Every arm is the scenario with its ``therapies`` replaced by the arm's list (an empty list is
the untreated arm), or by ``{therapies: [...], treat_to_target: {...}}`` for a strategy arm
(its decisions are appended to the arm's description). What it computes, as ``immunesim compare`` writes it
to ``OUTDIR`` (:mod:`immunesim.io.compare`):

- ``arms.csv``, one row per arm: ``damage_auc`` (integral of the damaged fraction over the
  run, fraction x day), ``final_irreversible`` (``Irr`` at the end), the outcome readout at
  each of ``compare.weeks`` after ``compare.from`` (column ``<outcome>_week<w>``) and at each of
  ``compare.times`` (``<outcome>_t<time>``), and, when ``compare.challenge_at`` is
  given, the clearance time and peak load of a pathogen challenge (1 inoculum) given then,
  from a second run of the arm (the main trajectories stay unchallenged). On an SBML model
  (:mod:`immunesim.scenario.sbml_source`) ``<outcome>_auc`` (the outcome's integral over the
  run) takes the place of the damage columns, and the outcome is reported at the end by default;
- ``arms.png``: the outcome, damage and irreversible loss of every arm over time, with each
  arm's dose times marked;
- ``comparison.json``: the table, and Bliss independence synergy when ``compare.synergy``
  names control, a, b and combination arms. With ``E = 1 - Y/Y_control`` the fractional
  reduction of the outcome ``Y`` (lower is better) at the last requested week, Bliss expects
  ``E_ab = E_a + E_b - E_a E_b`` (Bliss 1939, doi:10.1111/j.1744-7348.1939.tb06990.x);
  ``synergy = E_ab observed - expected`` (> 0 synergy, < 0 antagonism);
- ``manifest.json`` (last).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ..diseases.build import preset
from ..diseases.readouts import infection_course
from ..events import Bolus
from ..result import import_xarray
from ..simulate import simulate
from .build import scenario_events, scenario_model, solver_options
from .schema import Scenario, ScenarioError
from .strategy import run_strategy


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The arms of a comparison: ``rows`` (one dict per arm, the columns of ``arms.csv``),
    ``synergy`` (Bliss, or None), ``failures`` (one line per failed arm), and per arm the
    outcome, damaged and irreversible fractions over ``times`` with its dose times (``curves``)."""

    scenario: Scenario
    outcome: str
    rows: list
    synergy: dict | None
    failures: list
    times: np.ndarray
    curves: dict
    title: str = ""

    @property
    def arms(self):
        """The table, one row per arm (index ``arm``)."""
        import pandas as pd    # here, not at import: a single run's command never needs it

        return pd.DataFrame(self.rows).set_index("arm")

    @property
    def trajectories(self):
        """The outcome readout, ``Dmg`` and ``Irr`` (disease presets) of every arm: dims
        ``arm x time``."""
        arms = list(self.curves)
        stack = {name: (("arm", "time"), np.array([self.curves[a][k] for a in arms]))
                 for k, name in enumerate((self.outcome, "Dmg", "Irr"))
                 if arms and self.curves[arms[0]][k] is not None}
        unit = self.scenario.time_unit
        return import_xarray().Dataset(
            stack, coords={"arm": arms, "time": ("time", self.times, {"units": unit})})


def _describe(regimens) -> str:
    return "; ".join(r.describe() for r in regimens) if regimens else "untreated"


def _points(scenario: Scenario, outcome: str, t) -> list[tuple[str, float]]:
    """(column, time) of each time the outcome is reported at: ``compare.weeks`` after
    ``compare.from``, then ``compare.times`` (an SBML model with neither: its end)."""
    opts = scenario.compare
    week = opts.get("week", 7.0)
    points = [(f"{outcome}_week{w:g}", opts["from"] + week * w) for w in opts["weeks"]]
    points += [(f"{outcome}_t{x:g}", x) for x in opts.get("times", ())]
    if not points:
        points = [(f"{outcome}_t{t[-1]:g}", float(t[-1]))]
    for column, tw in points:
        if not t[0] <= tw <= t[-1]:
            what = (f"compare.weeks: week {column.rsplit('_week', 1)[1]} after {opts['from']:g}"
                    if "_week" in column else f"compare.times: {tw:g}")
            raise ScenarioError(f"{what} is outside the simulated time [{t[0]:g}, {t[-1]:g}]"
                                + (" days" if scenario.sbml is None else ""))
    return points


def compare(scenario: Scenario, *, progress: Callable[[str], None] | None = None) -> Comparison:
    """Run every arm of ``scenario`` on its one patient; returns the comparison."""
    if not scenario.arms:
        raise ScenarioError("arms: `immunesim compare` needs arms (a mapping of arm name: therapies)")
    say = progress or (lambda msg: None)
    opts = scenario.compare
    disease = scenario.sbml is None          # an SBML model has no damage compartments
    if disease:
        pr = preset(scenario.disease)
        outcome = opts["outcome"] or next((r["name"] for r in pr.get("readouts") or []), "Dmg")
    else:
        outcome = opts["outcome"] or scenario.readouts[0]
    t = np.asarray(scenario.times)
    points = _points(scenario, outcome, t)
    rows, curves, failures = [], {}, []
    model = scenario_model(scenario, drugs=scenario.arm_drugs())   # one kernel for every arm
    for arm, spec in scenario.arms.items():
        regimens, rules = spec["therapies"], spec["treat_to_target"]
        say(f"arm '{arm}': {_describe(regimens)}" + (" with treat-to-target rules" if rules else ""))
        sc = dataclasses.replace(scenario, therapies=tuple(regimens), treat_to_target=rules)
        decisions = []
        if rules:
            r, decisions, _ = run_strategy(sc, model)
        else:
            r = simulate(model, t, params=sc.parameters, y0=sc.initial or None, events=scenario_events(sc),
                         on_failure="flag", **solver_options(sc, model))
        if not r.ok:
            failures.append(f"arm '{arm}': {r.message}")
        y = np.asarray(r[outcome].values)
        row = {"arm": arm, "therapies": _describe(regimens)
               + "".join(f"; day {d['time_day']:g}: {d['action']}" for d in decisions),
               "status": r.message}
        if disease:
            dmg, irr = np.asarray(r["Dmg"].values), np.asarray(r["Irr"].values)
            row.update(damage_auc=float(np.trapezoid(dmg, t)), final_irreversible=float(irr[-1]))
        else:
            dmg = irr = None
            row[f"{outcome}_auc"] = float(np.trapezoid(y, t))
        for column, tw in points:
            row[column] = float(np.interp(tw, t, y))
        if opts["challenge_at"] is not None:
            tc = float(opts["challenge_at"])
            challenge = Bolus(time=tc, target="Pathogen", amount=1.0)
            if rules:
                ch = run_strategy(sc, model, extra_events=[challenge])[0]
            else:
                ch = simulate(model, t, params=sc.parameters, y0=sc.initial or None,
                              events=[*scenario_events(sc), challenge], on_failure="flag",
                              **solver_options(sc, model))
            after = t >= tc
            course = infection_course(t[after], ch["Pathogen"].values[after])
            row["infection_clearance_days"] = course["clearance_time"] - tc
            row["infection_peak_inoculum"] = course["peak"]
        rows.append(row)
        curves[arm] = (y, dmg, irr, [d for reg in regimens for d in reg.dose_times()])
    synergy = None
    if opts.get("synergy"):
        s = opts["synergy"]
        last = points[-1][0]
        by = {row["arm"]: row[last] for row in rows}
        e = {k: 1.0 - by[s[k]] / by[s["control"]] for k in ("a", "b", "combination")}
        expected = e["a"] + e["b"] - e["a"] * e["b"]
        synergy = {"outcome": last, "effect_a": e["a"], "effect_b": e["b"],
                   "effect_combination": e["combination"], "bliss_expected": expected,
                   "bliss_synergy": e["combination"] - expected, "arms": s}
    return Comparison(scenario=scenario, outcome=outcome, rows=rows, synergy=synergy,
                      failures=failures, times=t, curves=curves,
                      title=f"{scenario.name} ({pr['title']})" if disease else scenario.title)
