"""Run a validated scenario in memory: ``immunesim.run(scenario) -> ScenarioResult``.

The command line writes what this returns to files (:func:`immunesim.io.run.run_scenario`).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..codegen import kernels_cached
from ..diseases.build import preset
from ..diseases.readouts import chronic_check
from ..diseases.readouts import counts as count_onsets
from ..simulate import choose_tier, simulate
from .build import scenario_events, scenario_model, solver_options
from .scenario_result import ScenarioResult
from .schema import Scenario
from .strategy import run_strategy


def run(scenario: Scenario, *, seed: int | None = None,
        progress: Callable[[str], None] | None = None) -> ScenarioResult:
    """Simulate ``scenario``; returns every variable over its times and what the run decided.

    ``seed`` overrides the scenario's seed. The ODE disease model is deterministic, so nothing
    draws from it; the seed drives the agent-based tissue (``model: abm`` or ``hybrid``) and is
    recorded either way. ``progress`` receives one line per stage.
    """
    say = progress or (lambda msg: None)
    seed = scenario.seed if seed is None else int(seed)
    say(f"building the {scenario.disease or scenario.sbml.file_name} model"
        if scenario.model_kind != "abm" else "building the tissue patch")
    model = scenario_model(scenario) if scenario.model_kind != "abm" else None   # abm: no ODE side
    tier = choose_tier(model, "auto") if model is not None else None
    if tier == "generic":
        say("running it on the generic kernels (nothing is compiled for a new model; the generic "
            "kernels compile once per machine)")
    elif tier == "specialised" and not kernels_cached(model):
        say("compiling its kernels (first use of this model on this machine; later runs load them "
            "from the cache)")
    elif tier == "composed":
        say("running it on the disease preset's compiled kernels, its drugs on the generic ones")
    t = np.asarray(scenario.times)
    unit = {"day": "days", "1": "time units"}.get(scenario.time_unit, f"{scenario.time_unit}s")
    say(f"simulating {t[-1] - t[0]:g} {unit} ({t.size} output times, "
        f"{scenario.solver['method'] if scenario.model_kind == 'ode' else scenario.model_kind})")
    if scenario.model_kind != "ode":
        from .tissue_run import run_tissue_scenario  # here: the tissue's kernels import Numba

        return run_tissue_scenario(scenario, model, seed=seed, say=say)
    t_sim = time.perf_counter()
    decisions, flare = [], None
    if scenario.treat_to_target:
        result, decisions, flare = run_strategy(scenario, model, say)
    else:
        result = simulate(model, t, params=scenario.parameters, y0=scenario.initial or None,
                          events=scenario_events(scenario), on_failure="flag",
                          **solver_options(scenario, model))
    sim_wall = time.perf_counter() - t_sim
    say(f"  {result.message} in {sim_wall:.2f} s ({result.n_steps} steps)")
    counts, check = {}, ()
    if scenario.sbml is None:
        pr = preset(scenario.disease)
        values = {v: result.array(v) for v in result.variables}
        counts = count_onsets(values, pr.get("counts"))
        values.update(counts)
        check = chronic_check(result.time, values, pr["chronic_state"])  # the preset's characteristic state
    result.attrs.update(scenario=scenario.name, scenario_hash=scenario.hash, seed=seed,
                        disease=scenario.disease)
    if scenario.sbml is not None:
        result.attrs.update(sbml_file=scenario.sbml.path, sbml_sha256=scenario.sbml.sha256)
    return ScenarioResult(result, scenario=scenario, seed=seed, model=model,
                          readouts=scenario.readouts, counts=counts, decisions=decisions,
                          time_to_flare_days=flare, chronic_state=check,
                          simulation_wall_s=sim_wall)
