"""Run a ``model: abm`` or ``model: hybrid`` scenario in memory (:func:`immunesim.run` calls
this; the command line writes the lattice pictures and figures, :mod:`immunesim.io.run`)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..result import Result
from ..tissue.hybrid import run_hybrid
from ..tissue.run import run_tissue
from .build import scenario_events, solver_options
from .scenario_result import ScenarioResult
from .tissue import ABM_READOUTS, tissue_config


def run_tissue_scenario(scenario, model, *, seed: int, say) -> ScenarioResult:
    """The tissue patch alone (``abm``) or coupled to the ODE ``model`` (``hybrid``)."""
    opts = scenario.tissue
    config = dataclasses.replace(tissue_config(opts), seed=seed)
    t = np.asarray(scenario.times)
    ny, nx = config.shape
    say(f"tissue: {ny} x {nx} sites of {config.dx_um:g} um, step {config.dt_min:g} min, "
        f"{int(round((t[-1] - t[0]) * 1440 / config.dt_min))} steps")
    t_sim = time.perf_counter()
    if scenario.model_kind == "abm":
        if scenario.therapies:
            say("  note: model abm has no systemic side; therapies act only in model: hybrid")
        ds, _ = run_tissue(config, t, snapshot_every=opts["snapshot_every"], field=opts["field"],
                           progress=say)
        result = Result(ds)
        readouts = [r for r in ABM_READOUTS if r in result.variables]
    else:
        result = run_hybrid(model, t, config, opts["exchange_every"], events=scenario_events(scenario),
                            params=scenario.parameters, y0=scenario.initial,
                            solver=solver_options(scenario, model),
                            say=say, snapshot_every=opts["snapshot_every"], field=opts["field"])
        readouts = list(scenario.readouts) + [f"tissue_{r}" for r in ABM_READOUTS[:4]]
        readouts = [r for r in readouts if r in result.variables]
    sim_wall = time.perf_counter() - t_sim
    say(f"  {result.message} in {sim_wall:.2f} s")
    result.dataset.attrs.update(scenario=scenario.name, scenario_hash=scenario.hash, seed=seed,
                                disease=scenario.disease)
    tissue = {"shape": list(config.shape), "dx_um": config.dx_um, "dt_min": config.dt_min,
              "exchange_every_day": opts["exchange_every"] if scenario.model_kind == "hybrid" else None,
              "agents_final": int(result.dataset.attrs.get("agents_final", 0)) or None}
    return ScenarioResult(result.dataset, scenario=scenario, seed=seed, model=model,
                          readouts=readouts, simulation_wall_s=sim_wall, tissue=tissue)
