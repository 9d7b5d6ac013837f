"""Compare therapy arms on the same patient: ``immunesim compare SCENARIO -o OUTDIR``.

Every arm is the scenario with its ``therapies`` replaced by the arm's list (an empty list is
the untreated arm), or by ``{therapies: [...], treat_to_target: {...}}`` for a strategy arm
(its decisions are appended to the arm's description). Written atomically to ``OUTDIR``:

- ``arms.csv``, one row per arm: ``damage_auc`` (integral of the damaged fraction over the
  run, fraction x day), ``final_irreversible`` (``Irr`` at the end), the outcome readout at
  each of ``compare.weeks`` after ``compare.from``, and, when ``compare.challenge_at`` is
  given, the clearance time and peak load of a pathogen challenge (1 inoculum) given then,
  from a second run of the arm (the main trajectories stay unchallenged);
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
import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..durable import atomic_path, write_csv, write_text_atomic
from ..io import MANIFEST, begin_outputs
from .schema import Scenario, ScenarioError


def _describe(regimens) -> str:
    if not regimens:
        return "untreated"
    parts = []
    for r in regimens:
        dose = f"{r.dose_mg:g} mg/kg" if r.per_kg else f"{r.dose_mg:g} mg"
        every = f" every {r.every:g} d" if r.every else ""
        parts.append(f"{r.drug} {dose} {r.route}{every} from day {r.start:g}")
    return "; ".join(parts)


def compare_arms(scenario: Scenario, outdir, *, scenario_file=None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Run every arm of ``scenario`` and write the comparison; returns the manifest."""
    from ..diseases.build import preset
    from ..diseases.readouts import infection_course
    from ..events import Bolus
    from ..simulate import simulate
    from .run import _versions
    from .strategy import run_strategy

    if not scenario.arms:
        raise ScenarioError("arms: `immunesim compare` needs arms (a mapping of arm name: therapies)")
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    outdir = begin_outputs(outdir)
    pr = preset(scenario.disease)
    opts = scenario.compare
    outcome = opts["outcome"] or next((r["name"] for r in pr.get("readouts") or []), "Dmg")
    t = np.asarray(scenario.times)
    week_times = [opts["from"] + 7.0 * w for w in opts["weeks"]]
    for w, tw in zip(opts["weeks"], week_times):
        if not t[0] <= tw <= t[-1]:
            raise ScenarioError(f"compare.weeks: week {w:g} after day {opts['from']:g} is outside "
                                f"the simulated time [{t[0]:g}, {t[-1]:g}] days")
    rows, curves, failures = [], {}, []
    model = scenario.model(drugs=scenario.arm_drugs())   # one kernel for every arm
    for arm, spec in scenario.arms.items():
        regimens, rules = spec["therapies"], spec["treat_to_target"]
        say(f"arm '{arm}': {_describe(regimens)}" + (" with treat-to-target rules" if rules else ""))
        sc = dataclasses.replace(scenario, therapies=tuple(regimens), treat_to_target=rules)
        decisions = []
        if rules:
            r, decisions, _ = run_strategy(sc, model)
        else:
            r = simulate(model, t, params=sc.parameters, y0=sc.initial or None, events=sc.events(),
                         on_failure="flag", **sc.solver)
        if not r.ok:
            failures.append(f"arm '{arm}': {r.message}")
        dmg = np.asarray(r["Dmg"].values)
        y = np.asarray(r[outcome].values)
        row = {"arm": arm, "therapies": _describe(regimens)
               + "".join(f"; day {d['time_day']:g}: {d['action']}" for d in decisions),
               "status": r.message,
               "damage_auc": float(np.trapezoid(dmg, t)),
               "final_irreversible": float(r["Irr"].values[-1])}
        for w, tw in zip(opts["weeks"], week_times):
            row[f"{outcome}_week{w:g}"] = float(np.interp(tw, t, y))
        if opts["challenge_at"] is not None:
            tc = float(opts["challenge_at"])
            challenge = Bolus(time=tc, target="Pathogen", amount=1.0)
            if rules:
                ch = run_strategy(sc, model, extra_events=[challenge])[0]
            else:
                ch = simulate(model, t, params=sc.parameters, y0=sc.initial or None,
                              events=[*sc.events(), challenge], on_failure="flag", **sc.solver)
            after = t >= tc
            course = infection_course(t[after], ch["Pathogen"].values[after])
            row["infection_clearance_days"] = course["clearance_time"] - tc
            row["infection_peak_inoculum"] = course["peak"]
        rows.append(row)
        curves[arm] = (y, dmg, np.asarray(r["Irr"].values),
                       [d for reg in regimens for d in reg.dose_times()])
    synergy = None
    if opts.get("synergy"):
        s = opts["synergy"]
        last = f"{outcome}_week{opts['weeks'][-1]:g}"
        by = {row["arm"]: row[last] for row in rows}
        e = {k: 1.0 - by[s[k]] / by[s["control"]] for k in ("a", "b", "combination")}
        expected = e["a"] + e["b"] - e["a"] * e["b"]
        synergy = {"outcome": last, "effect_a": e["a"], "effect_b": e["b"],
                   "effect_combination": e["combination"], "bliss_expected": expected,
                   "bliss_synergy": e["combination"] - expected, "arms": s}
    write_csv(outdir / "arms.csv", rows)
    write_text_atomic(outdir / "comparison.json",
                      json.dumps({"outcome": outcome, "arms": rows, "synergy": synergy}, indent=2,
                                 default=float) + "\n")
    _figure(t, curves, outcome, outdir / "arms.png", f"{scenario.name} ({pr['title']})")
    manifest = {"scenario": scenario.name, "disease": scenario.disease, "scenario_hash": scenario.hash,
                "scenario_file_sha256": (hashlib.sha256(Path(scenario_file).read_bytes()).hexdigest()
                                         if scenario_file else None),
                "seed": scenario.seed, "arms": list(scenario.arms), "outcome": outcome,
                "failures": failures, "wall_s": round(time.perf_counter() - t_start, 4),
                "outputs": ["arms.csv", "arms.png", "comparison.json"], "versions": _versions()}
    write_text_atomic(outdir / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    say(f"done in {manifest['wall_s']:.2f} s")
    return manifest


def _figure(t, curves, outcome, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale, unit = (365.25, "years") if t[-1] > 3 * 365 else (1.0, "days")
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    for k, (arm, (y, dmg, irr, doses)) in enumerate(curves.items()):
        color = f"C{k % 10}"
        axes[0].plot(t / scale, y, color=color, label=arm)
        axes[1].plot(t / scale, dmg, color=color)
        axes[2].plot(t / scale, irr, color=color)
        if doses:
            lo = axes[0].get_ylim()[0]
            axes[0].plot(np.asarray(doses) / scale, np.full(len(doses), lo), "|", color=color,
                         markersize=10, clip_on=False)
    axes[0].set_ylabel(f"{outcome} (| = doses)")
    axes[1].set_ylabel("damaged fraction")
    axes[2].set_ylabel("irreversible fraction")
    axes[2].set_xlabel(f"time ({unit})")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
