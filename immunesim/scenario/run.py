"""Run a validated scenario and write its outputs atomically.

Outputs in ``outdir``: ``results.nc`` (all trajectories, the parameters used, status and
provenance in attrs), ``summary.csv`` (the readouts at the summary times), one PNG per
figure, ``trajectories.csv`` when the ``csv`` format is requested, and ``manifest.json``
(written last: its presence means the run finished) with the scenario hash, seed, model
hash, versions, wall time and the status. Each file is written to a temporary name and
renamed, so a failed or interrupted run never leaves a truncated file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..durable import write_text_atomic
from ..io import MANIFEST, begin_outputs
from .schema import Scenario


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("immunesim", "numpy", "scipy", "numba", "xarray", "pandas", "matplotlib",
                "h5netcdf", "pint", "pyyaml", "sympy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def summary_table(result, scenario: Scenario, counts: dict) -> str:
    """CSV text: one row per summary time (each is also an output time of the run, so the
    values are the solver's, not interpolated), columns time_day and each readout."""
    t = result.time
    rows = ["time_day," + ",".join(scenario.readouts)]
    for ts in scenario.summary_times:
        k = int(np.argmin(np.abs(t - ts)))
        vals = [f"{int(counts[r][k])}" if r in counts else f"{float(result[r].values[k]):.6g}"
                for r in scenario.readouts]
        rows.append(f"{ts:g}," + ",".join(vals))
    return "\n".join(rows) + "\n"


def run_scenario(scenario: Scenario, outdir, *, seed: int | None = None,
                 scenario_file: Path | None = None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Simulate ``scenario`` and write its outputs to ``outdir``; returns the manifest.

    ``seed`` overrides the scenario's seed. The disease model is deterministic, so nothing
    draws from it yet; it is recorded in the manifest and results.nc for the stochastic
    parts (virtual cohorts, the agent-based tissue) that will.
    """
    from ..codegen import kernels_cached
    from ..diseases.build import preset
    from ..diseases.readouts import chronic_check, counts as count_onsets
    from ..simulate import simulate

    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    seed = scenario.seed if seed is None else int(seed)
    outdir = begin_outputs(outdir)    # a killed run must not leave the old manifest behind
    say(f"building the {scenario.disease} model" if scenario.model_kind != "abm" else "building the tissue patch")
    model = scenario.model() if scenario.model_kind != "abm" else None   # abm: no ODE side
    if model is not None and not kernels_cached(model):
        say("compiling its kernels (first use of this model on this machine; later runs load them "
            "from the cache)")
    t = np.asarray(scenario.times)
    say(f"simulating {t[-1] - t[0]:g} days ({t.size} output times, "
        f"{scenario.solver['method'] if scenario.model_kind == 'ode' else scenario.model_kind})")
    t_sim = time.perf_counter()
    decisions, flare = [], None
    if scenario.model_kind != "ode":
        from .tissue_run import run_tissue_scenario

        return run_tissue_scenario(scenario, model, outdir, seed=seed, scenario_file=scenario_file,
                                   say=say, t_start=t_start, versions=_versions)
    if scenario.treat_to_target:
        from .strategy import run_strategy

        result, decisions, flare = run_strategy(scenario, model, say)
    else:
        result = simulate(model, t, params=scenario.parameters, y0=scenario.initial or None,
                          events=scenario.events(), on_failure="flag", **scenario.solver)
    sim_wall = time.perf_counter() - t_sim
    say(f"  {result.message} in {sim_wall:.2f} s ({int(result.dataset['n_steps'])} steps)")
    pr = preset(scenario.disease)
    values = {v: np.asarray(result[v].values) for v in result.variables}
    counts = count_onsets(values, pr.get("counts"))
    full = result
    if scenario.variables:
        keep = list(dict.fromkeys([*scenario.variables, *[r for r in scenario.readouts if r not in counts]]))
        result = type(result)(result.dataset.sel(variable=keep))
    result.dataset.attrs.update(scenario=scenario.name, scenario_hash=scenario.hash, seed=seed,
                                disease=scenario.disease)
    written = []
    say(f"writing outputs to {outdir}/")
    written.append(result.save(outdir / "results.nc"))  # always: the run's record
    if "csv" in scenario.formats:
        write_text_atomic(outdir / "trajectories.csv", result.to_dataframe().to_csv())
        written.append(outdir / "trajectories.csv")
    write_text_atomic(outdir / "summary.csv", summary_table(full, scenario, counts))
    written.append(outdir / "summary.csv")
    if scenario.figures:
        from .figures import write_figures

        written += write_figures(full, scenario.figures, outdir,
                                 readouts=[r["name"] for r in pr.get("readouts") or []],
                                 title=f"{scenario.name} ({pr['title']})")
    values.update(counts)
    check = chronic_check(result.time, values, pr["chronic_state"])  # the preset's characteristic state
    if scenario.treat_to_target:
        rows = ["time_day,rule,action,readout,value"] + [
            f"{d['time_day']:g},{d['rule']},\"{d['action']}\",{d['readout']},"
            + ("" if d["value"] is None else f"{d['value']:.6g}") for d in decisions]
        write_text_atomic(outdir / "decisions.csv", "\n".join(rows) + "\n")
        written.append(outdir / "decisions.csv")
    manifest = {
        "scenario": scenario.name,
        "disease": scenario.disease,
        "scenario_hash": scenario.hash,
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_file_sha256": (hashlib.sha256(Path(scenario_file).read_bytes()).hexdigest()
                                 if scenario_file else None),
        "seed": seed,
        "model": model.name,
        "model_hash": model.hash,
        "status": int(result.status),
        "message": str(result.message),
        "solver": scenario.solver,
        "n_steps": int(result.dataset["n_steps"]),
        "simulation_wall_s": round(sim_wall, 4),
        "wall_s": round(time.perf_counter() - t_start, 4),
        "outputs": sorted(p.name for p in written),
        "versions": _versions(),
        "command": " ".join(sys.argv),
        "preset_chronic_state": check,
        "decisions": decisions,
        "time_to_flare_days": flare,
    }
    write_text_atomic(outdir / MANIFEST, json.dumps(manifest, indent=2, default=float) + "\n")
    say(f"done in {manifest['wall_s']:.2f} s")
    return manifest
