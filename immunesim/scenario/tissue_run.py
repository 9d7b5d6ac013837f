"""``immunesim run`` for ``model: abm`` and ``model: hybrid`` scenarios.

Writes, atomically: ``results.nc`` (readouts over time and the lattice snapshots),
``summary.csv``, ``tissue_cells.png`` (counts, tissue state and field means over time),
one ``tissue_day<N>.png`` per snapshot, ``tissue.gif`` (unless ``animation: none``), the
ODE figures for hybrid runs, and ``manifest.json`` last.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..durable import atomic_path, write_text_atomic
from ..io import MANIFEST

#: summary.csv columns of an abm run
ABM_READOUTS = ("health_mean", "damaged_fraction", "dead_fraction", "Th1_active", "Th17_active",
                "Treg", "B", "Plasma", "Mac_active", "TNF_mean", "IL6_mean", "IL2_mean")


def _series_figure(result, names, outdir, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.time
    panels = [("cells", [n for n in names if n.split("tissue_")[-1] in
                         ("Th1", "Th17", "Treg", "B", "Plasma", "Mac", "DC", "Th1_active", "Th17_active")], "log"),
              ("tissue (fraction of sites)", [n for n in names if n.split("tissue_")[-1] in
                                              ("health_mean", "damaged_fraction", "dead_fraction", "regenerating_fraction")], "linear"),
              ("field means (pg/mL)", [n for n in names if n.endswith("_mean") and n.split("tissue_")[-1][:-5]
                                       in ("TNF", "IL6", "IL2", "IL10", "IFNg", "IL17", "CHEM")], "log")]
    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True)
    for ax, (label, vs, scale) in zip(axes, panels):
        for v in vs:
            y = np.asarray(result[v].values, dtype=float)
            ax.plot(t, np.maximum(y, 1e-3) if scale == "log" else y, label=v.replace("tissue_", ""))
        ax.set_yscale(scale)
        ax.set_ylabel(label, fontsize=8)
        ax.legend(fontsize=6, ncol=3)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (days)")
    fig.suptitle(f"{title}: tissue", fontsize=10)
    fig.tight_layout()
    path = Path(outdir) / "tissue_cells.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def run_tissue_scenario(scenario, model, outdir, *, seed, scenario_file, say, t_start, versions):
    from ..diseases.build import preset
    from ..result import Result
    from ..tissue.hybrid import run_hybrid
    from ..tissue.pictures import write_pictures
    from ..tissue.run import run_tissue
    from .figures import write_figures
    from .run import summary_table
    from .tissue import tissue_config

    import dataclasses

    opts = scenario.tissue
    config = dataclasses.replace(tissue_config(opts), seed=seed)
    outdir = Path(outdir)
    t = np.asarray(scenario.times)
    ny, nx = config.shape
    say(f"tissue: {ny} x {nx} sites of {config.dx_um:g} um, step {config.dt_min:g} min, "
        f"{int(round((t[-1] - t[0]) * 1440 / config.dt_min))} steps")
    t_sim = time.perf_counter()
    pr = preset(scenario.disease)
    if scenario.model_kind == "abm":
        if scenario.therapies:
            say("  note: model abm has no systemic side; therapies act only in model: hybrid")
        ds, _ = run_tissue(config, t, snapshot_every=opts["snapshot_every"], field=opts["field"],
                           progress=say)
        result = Result(ds)
        readouts = [r for r in ABM_READOUTS if r in result.variables]
    else:
        result = run_hybrid(scenario, model, config, opts["exchange_every"], say,
                            snapshot_every=opts["snapshot_every"], field=opts["field"])
        readouts = list(scenario.readouts) + [f"tissue_{r}" for r in ABM_READOUTS[:4]]
        readouts = [r for r in readouts if r in result.variables]
    sim_wall = time.perf_counter() - t_sim
    say(f"  {result.message} in {sim_wall:.2f} s")
    result.dataset.attrs.update(scenario=scenario.name, scenario_hash=scenario.hash, seed=seed,
                                disease=scenario.disease)
    say(f"writing outputs to {outdir}/")
    written = [result.save(outdir / "results.nc")]
    sc = dataclasses.replace(scenario, readouts=tuple(readouts))
    write_text_atomic(outdir / "summary.csv", summary_table(result, sc, {}))
    written.append(outdir / "summary.csv")
    if "csv" in scenario.formats:
        write_text_atomic(outdir / "trajectories.csv", result.to_dataframe().to_csv())
        written.append(outdir / "trajectories.csv")
    title = f"{scenario.name} ({pr['title']})"
    tissue_vars = [v for v in result.variables if v in ABM_READOUTS or v.startswith("tissue_")
                   or result.dataset["kind"].values[result.variables.index(v)] == "tissue"]
    written.append(_series_figure(result, tissue_vars, outdir, title))
    if scenario.model_kind == "hybrid" and scenario.figures:
        written += write_figures(result, scenario.figures, outdir,
                                 readouts=[r["name"] for r in pr.get("readouts") or []], title=title)
    written += write_pictures(result.dataset, outdir, title=title, animation=opts["animation"])
    manifest = {
        "scenario": scenario.name, "disease": scenario.disease, "model": scenario.model_kind,
        "scenario_hash": scenario.hash,
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_file_sha256": (hashlib.sha256(Path(scenario_file).read_bytes()).hexdigest()
                                 if scenario_file else None),
        "seed": seed, "model_hash": model.hash if scenario.model_kind == "hybrid" else None,
        "tissue": {"shape": list(config.shape), "dx_um": config.dx_um, "dt_min": config.dt_min,
                   "exchange_every_day": opts["exchange_every"] if scenario.model_kind == "hybrid" else None,
                   "agents_final": int(result.dataset.attrs.get("agents_final", 0)) or None},
        "status": int(result.status), "message": str(result.message),
        "n_steps": int(result.dataset["n_steps"]), "simulation_wall_s": round(sim_wall, 4),
        "wall_s": round(time.perf_counter() - t_start, 4),
        "outputs": sorted(p.name for p in written), "versions": versions(),
        "command": " ".join(sys.argv),
    }
    write_text_atomic(outdir / MANIFEST, json.dumps(manifest, indent=2, default=float) + "\n")
    say(f"done in {manifest['wall_s']:.2f} s")
    return manifest
