"""The figure of ``immunesim compare``: every arm of a comparison on one patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .png import save_png


def write_comparison_figure(t, curves, outcome, path, title, time_unit: str = "day") -> Path:
    """``arms.png``: the outcome, damaged and irreversible fractions of every arm over time
    (``curves``: arm -> (outcome, damage, irreversible, dose times); damage None: the outcome
    alone, against time in ``time_unit``), doses marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    damage = any(c[1] is not None for c in curves.values())
    if time_unit != "day":
        scale, unit = 1.0, time_unit if time_unit != "1" else "model time"
    else:
        scale, unit = (365.25, "years") if t[-1] > 3 * 365 else (1.0, "days")
    fig, axes = plt.subplots(3 if damage else 1, 1, figsize=(8, 8 if damage else 4), sharex=True,
                             squeeze=False)
    axes = axes[:, 0]
    for k, (arm, (y, dmg, irr, doses)) in enumerate(curves.items()):
        color = f"C{k % 10}"
        axes[0].plot(t / scale, y, color=color, label=arm)
        if damage:
            axes[1].plot(t / scale, dmg, color=color)
            axes[2].plot(t / scale, irr, color=color)
        if doses:
            lo = axes[0].get_ylim()[0]
            axes[0].plot(np.asarray(doses) / scale, np.full(len(doses), lo), "|", color=color,
                         markersize=10, clip_on=False)
    axes[0].set_ylabel(f"{outcome} (| = doses)")
    if damage:
        axes[1].set_ylabel("damaged fraction")
        axes[2].set_ylabel("irreversible fraction")
    axes[-1].set_xlabel(f"time ({unit})")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return save_png(fig, path)
