"""The figures of a scenario run (PNG, written atomically).

A disease preset's four: cells: autoreactive T-cell subsets, B cells and plasma cells;
cytokines: the seven cytokines and IL-12 (log scale); tissue: damaged and irreversibly lost
fractions; biomarkers: CRP, autoantibody, complement, and the preset's disease-activity readouts.
An SBML model's one: trajectories: one panel per variable (:func:`write_trajectories`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .png import save_png

PANELS = {
    "cells": [("T cells (cells/uL)", ["Tn", "Th1", "Th17", "Treg"], "log"),
              ("B lineage (cells/uL)", ["B", "SLPC", "LLPC"], "log")],
    "cytokines": [("pro-inflammatory (pg/mL)", ["TNF", "IL6", "IL17", "IFNg", "IL12"], "log"),
                  ("IL-2 and regulatory (pg/mL)", ["IL2", "IL10", "TGFb"], "log")],
    "tissue": [("target tissue (fraction)", ["Healthy", "Dmg", "Irr"], "linear")],
    "biomarkers": [("CRP (mg/L)", ["CRP"], "linear"), ("autoantibody (AU/mL)", ["AutoAb"], "log"),
                   ("complement C3 (fraction of normal)", ["C3"], "linear")],
}


def write_figures(result, which, outdir: Path, readouts=(), title: str = "") -> list[Path]:
    """Write ``<name>.png`` for each figure in ``which``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.time
    scale, unit = (365.25, "years") if t[-1] > 3 * 365 else (1.0, "days")
    written = []
    for name in which:
        panels = list(PANELS[name])
        if name == "biomarkers":
            panels += [(r, [r], "linear") for r in readouts if r in result.variables]
        fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.3 * len(panels) + 0.6), sharex=True,
                                 squeeze=False)
        for ax, (label, names, yscale) in zip(axes[:, 0], panels):
            for v in names:
                if v in result.variables:
                    y = np.asarray(result[v].values, dtype=float)
                    ax.plot(t / scale, np.maximum(y, 1e-6) if yscale == "log" else y, label=v)
            ax.set_yscale(yscale)
            ax.set_ylabel(label, fontsize=8)
            ax.legend(fontsize=7, loc="best")
            ax.grid(alpha=0.3)
        axes[-1, 0].set_xlabel(f"time ({unit})")
        fig.suptitle(f"{title}: {name}" if title else name, fontsize=10)
        written.append(save_png(fig, Path(outdir) / f"{name}.png"))
    return written


#: most panels of the trajectories figure (the first variables; the rest are in the files)
MAX_PANELS = 8


def write_trajectories(result, names, outdir: Path, title: str = "", time_unit: str = "day") -> Path:
    """``trajectories.png``: one panel per variable of ``names`` (at most :data:`MAX_PANELS`),
    against time in ``time_unit`` (an SBML model's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in names if n in result.variables]
    shown = names[:MAX_PANELS] or list(result.variables[:MAX_PANELS])
    fig, axes = plt.subplots(len(shown), 1, figsize=(7, 1.8 * len(shown) + 0.8), sharex=True,
                             squeeze=False)
    for ax, v in zip(axes[:, 0], shown):
        ax.plot(result.time, np.asarray(result[v].values, dtype=float))
        ax.set_ylabel(v, fontsize=8)
        ax.grid(alpha=0.3)
    unit = {"1": "model time", "day": "days"}.get(time_unit, f"{time_unit}s")
    axes[-1, 0].set_xlabel(f"time ({unit})")
    more = f" (first {len(shown)} of {len(names)})" if len(names) > len(shown) else ""
    fig.suptitle(f"{title}: trajectories{more}" if title else f"trajectories{more}", fontsize=10)
    return save_png(fig, Path(outdir) / "trajectories.png")
