"""Figures of ``immunesim fit``: the waterfall of the starts, data against the fit per
observable, and profile likelihoods."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..fitting.multistart import PROFILE_THRESHOLD
from .png import save_png


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_waterfall(nllh, path, title: str = "") -> Path:
    """``waterfall.png``: the starts' final nllh in increasing order (failed starts left out),
    relative to the best, on a log axis (the plateau at the left: starts that found the best)."""
    plt = _plt()
    v = np.sort(np.array([x for x in nllh if math.isfinite(x)], dtype=float))
    fig, ax = plt.subplots(figsize=(6, 4))
    if v.size:
        ax.plot(np.arange(1, v.size + 1), v - v[0] + 1.0, "o-", color="C0")
        ax.set_yscale("log")
    ax.set_xlabel("start (sorted by final nllh)")
    ax.set_ylabel("nllh - best nllh + 1")
    n_failed = len(nllh) - v.size
    ax.set_title(f"{title}: {len(nllh)} starts, best nllh {v[0]:.6g}" if v.size else title
                 + (f" ({n_failed} failed)" if n_failed else ""))
    return save_png(fig, path)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]


def write_fit_figures(curves: list[dict], outdir) -> list[Path]:
    """``fit_<observable>.png``: per observable, the data (points with the noise as error bars)
    and the fitted curve of each condition, one colour per condition."""
    plt = _plt()
    by_obs: dict[str, list] = {}
    for c in curves:
        by_obs.setdefault(c["observable"], []).append(c)
    paths = []
    for oid, items in by_obs.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for k, c in enumerate(items):
            color = f"C{k % 10}"
            ax.plot(c["t"], c["value"], color=color, label=c["condition"])
            ax.errorbar(c["data_t"], c["data"], yerr=np.where(np.isfinite(c["sd"]), c["sd"], 0),
                        fmt="o", color=color, markersize=3, capsize=2)
        ax.set_xlabel("time (the model's unit)")
        ax.set_ylabel(oid)
        ax.set_title(f"{oid}: data (points, noise as bars) and the best fit")
        if len(items) <= 12:
            ax.legend(fontsize=7)
        paths.append(save_png(fig, Path(outdir) / f"fit_{_safe(oid)}.png"))
    return paths


def write_profile_figure(rows: list[dict], intervals: dict, scales: dict, path) -> Path:
    """``profiles.png``: each parameter's profile (nllh rise over the best) with the 95 %
    threshold and interval."""
    plt = _plt()
    ids = list(dict.fromkeys(r["parameter"] for r in rows))
    n = len(ids)
    cols = min(3, n)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
    for ax, pid in zip(axes.ravel(), ids):
        pts = sorted((r["value"], r["delta"]) for r in rows if r["parameter"] == pid)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="C0", markersize=3)
        ax.axhline(PROFILE_THRESHOLD, color="C3", linestyle="--", linewidth=1)
        lo, hi = intervals.get(pid, (-math.inf, math.inf))
        for v in (lo, hi):
            if math.isfinite(v):
                ax.axvline(v, color="C3", linewidth=0.8)
        ax.set_xlabel(f"{pid} ({scales.get(pid, 'lin')})")
        ax.set_ylabel("nllh - best")
        ax.set_ylim(bottom=-0.1)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return save_png(fig, path)
