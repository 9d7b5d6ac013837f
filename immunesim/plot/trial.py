"""Figures of a virtual trial: waterfall, percentile bands, Kaplan-Meier, efficacy-safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cohort import stats
from ..cohort.analysis import outcome, valid_patients
from ..cohort.trial import open_trajectories
from .png import save_png

BAND_PATIENTS = 2000    # bands from the first patients: percentiles converge long before 10^5


def _finish(fig, ax, path: Path) -> Path:
    """Legend, grid, and an atomic PNG (laid out by :func:`~immunesim.plot.png.save_png`)."""
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_png(fig, path)


def write_trial_figures(outdir, ds, trial, rows, risk, front, primary) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(outdir)
    ok = valid_patients(ds)
    arms = list(ds["arm"].values)
    ep, week = primary
    written = []
    # waterfall: per-patient value of the primary endpoint at its last week, sorted, per arm
    vals = outcome(ds, f"{ep.name}:{week:g}:value")[:, ok]
    fig, axes = plt.subplots(1, len(arms), figsize=(3.2 * len(arms), 3.6), sharey=True, squeeze=False)
    for a, arm in enumerate(arms):
        v = np.sort(vals[a])[::-1] if ep.kind != "improvement" else np.sort(-100 * vals[a])[::-1]
        # a filled step curve: one bar per patient, drawn as one polygon (fast at 10^5 patients)
        axes[0, a].fill_between(np.arange(v.size), v, step="mid", color=f"C{a % 10}", lw=0)
        axes[0, a].set_title(arm, fontsize=9)
        axes[0, a].set_xlabel("patients")
        if ep.kind == "improvement":
            axes[0, a].axhline(-100 * ep.value, color="k", lw=0.8, ls="--")
    axes[0, 0].set_ylabel(f"{ep.readout} change from baseline, week {week:g} (%)" if ep.kind == "improvement"
                          else f"{ep.readout} week {week:g}")
    written.append(save_png(fig, outdir / "waterfall.png"))
    # percentile bands of the primary readout over time, per arm
    traj = open_trajectories(outdir, max_patients=BAND_PATIENTS)
    try:
        var = ep.readout if ep.readout in list(traj["variable"].values) else str(traj["variable"].values[0])
        sub = traj["trajectory"].sel(variable=var).isel(patient=slice(0, BAND_PATIENTS)).values
        weeks = (traj["time"].values - trial.baseline) / 7.0
    finally:
        traj.close()
    fig, ax = plt.subplots(figsize=(7, 4))
    for a, arm in enumerate(arms):
        q = np.nanpercentile(sub[a], [5, 25, 50, 75, 95], axis=0)
        c = f"C{a % 10}"
        ax.fill_between(weeks, q[0], q[4], color=c, alpha=0.12)
        ax.fill_between(weeks, q[1], q[3], color=c, alpha=0.25)
        ax.plot(weeks, q[2], color=c, label=arm)
    ax.set_xlabel("weeks from baseline")
    ax.set_ylabel(f"{var} (median, 25-75 %, 5-95 %)")
    written.append(_finish(fig, ax, outdir / "bands.png"))
    for e in trial.endpoints:      # Kaplan-Meier per flare endpoint
        if not e.time_to_event:
            continue
        t = outcome(ds, f"{e.name}:time")[:, ok]
        ev = outcome(ds, f"{e.name}:event")[:, ok] > 0.5
        fig, ax = plt.subplots(figsize=(6, 4))
        for a, arm in enumerate(arms):
            km = stats.kaplan_meier(t[a], ev[a], [0.0])
            ax.step(np.append(km["t"], trial.weeks - e.after_week), np.append(km["curve"], km["curve"][-1]),
                    where="post", color=f"C{a % 10}", label=arm)
        ax.set_xlabel(f"weeks after week {e.after_week:g}")
        ax.set_ylabel(f"free of {e.readout} > {e.value:g}")
        ax.set_ylim(0, 1.02)
        written.append(_finish(fig, ax, outdir / ("km.png" if not any(p.name == "km.png" for p in written)
                                                  else f"km_{e.name}.png")))
    if risk:
        eff = {r["arm"]: r for r in rows if r["endpoint"] == ep.name and r["week"] == week}
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for a, arm in enumerate(arms):
            x, y = risk[arm]["mean_clearance_days"], eff[arm]["rate"]
            ax.errorbar(x, y, yerr=[[y - eff[arm]["ci_low"]], [eff[arm]["ci_high"] - y]], fmt="o",
                        color=f"C{a % 10}", label=arm)
        pts = sorted((risk[a]["mean_clearance_days"], eff[a]["rate"]) for a in front)
        ax.plot(*zip(*pts), "k--", lw=0.8, label="Pareto front")
        ax.set_xlabel("infection risk: mean days to clear a pathogen challenge")
        ax.set_ylabel(f"{ep.name} rate, week {week:g}")
        written.append(_finish(fig, ax, outdir / "efficacy_safety.png"))
    return written
