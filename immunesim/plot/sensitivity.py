"""Figures of ``immunesim sensitivity``: one bar chart per output."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from .png import save_png


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]


def write_sensitivity_figures(method: str, rows: list[dict], outputs: list, outdir) -> list[Path]:
    """``sensitivity_<output>.png``: per output, the parameters sorted by importance as
    horizontal bars (a tornado): Sobol'/FAST ``S1`` and ``ST`` with their 95 % intervals,
    Morris ``mu_star`` with its interval and ``sigma``, or the local normalised derivative."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for out in outputs:
        rs = [r for r in rows if r["output"] == out and "S2" not in r]   # pairs: indices.csv
        fig, ax = plt.subplots(figsize=(7, 0.9 + 0.32 * max(len(rs), 1)))
        if any(r.get("note") for r in rs):
            ax.text(0.5, 0.5, rs[0]["note"], ha="center", va="center", wrap=True)
            ax.set_axis_off()
        else:
            if method in ("sobol", "fast"):
                key, keys = "ST", (("S1", "S1_conf", "first order"), ("ST", "ST_conf", "total"))
            elif method == "morris":
                key, keys = "mu_star", (("mu_star", "mu_star_conf", "mu*"),
                                        ("sigma", None, "sigma"))
            else:
                key, keys = "normalised", (("normalised", None, "(p/y) dy/dp"),)
            rs = sorted(rs, key=lambda r: abs(r[key]) if math.isfinite(r[key]) else -1)
            pos = np.arange(len(rs))
            width = 0.8 / len(keys)
            for k, (name, conf, label) in enumerate(keys):
                vals = [r[name] for r in rs]
                err = [r[conf] for r in rs] if conf else None
                ax.barh(pos + (k - (len(keys) - 1) / 2) * width, vals, height=width, xerr=err,
                        label=label, color=f"C{k}", capsize=2)
            ax.set_yticks(pos)
            ax.set_yticklabels([r["parameter"] for r in rs], fontsize=8)
            ax.axvline(0, color="k", linewidth=0.6)
            ax.legend(fontsize=8, loc="lower right")
            ax.set_xlabel({"sobol": "Sobol' index", "fast": "FAST index",
                           "morris": "elementary effect", "local": "normalised sensitivity"}
                          [method])
        ax.set_title(out, fontsize=10)
        paths.append(save_png(fig, Path(outdir) / f"sensitivity_{_safe(out)}.png"))
    return paths
