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
    relative = ep.kind in ("improvement", "acr")      # values are fractional improvements
    line = ep.value if ep.kind == "improvement" else ep.value / 100.0
    fig, axes = plt.subplots(1, len(arms), figsize=(3.2 * len(arms), 3.6), sharey=True, squeeze=False)
    for a, arm in enumerate(arms):
        v = np.sort(vals[a])[::-1] if not relative else np.sort(-100 * vals[a])[::-1]
        # a filled step curve: one bar per patient, drawn as one polygon (fast at 10^5 patients)
        axes[0, a].fill_between(np.arange(v.size), v, step="mid", color=f"C{a % 10}", lw=0)
        axes[0, a].set_title(arm, fontsize=9)
        axes[0, a].set_xlabel("patients")
        if relative:
            axes[0, a].axhline(-100 * line, color="k", lw=0.8, ls="--")
    axes[0, 0].set_ylabel(f"ACR-N (improvement reached), week {week:g} (-%)" if ep.kind == "acr"
                          else f"{ep.readout} change from baseline, week {week:g} (%)" if relative
                          else f"{ep.readout} week {week:g}")
    written.append(save_png(fig, outdir / "waterfall.png"))
    # percentile bands of the primary readout over time, per arm
    traj = open_trajectories(outdir, max_patients=BAND_PATIENTS)
    try:
        stored = list(traj["variable"].values)
        var = ep.readout if ep.readout in stored else (str(stored[0]) if stored else None)
        if var is not None:
            sub = traj["trajectory"].sel(variable=var).isel(patient=slice(0, BAND_PATIENTS)).values
        weeks = (traj["time"].values - trial.baseline) / 7.0
    finally:
        traj.close()
    if var is not None:    # nothing stored (an ACR endpoint without trial.variables): no bands
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


def write_published_figure(outdir, published: list[dict]) -> Path | None:
    """``published.png``: each published rate (with its Wilson interval from the trial's arm
    size) beside the simulated one (with its interval), one row per trial, arm, endpoint and
    week; None without published rates."""
    if not published:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(published)
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * n + 1.2))
    y = np.arange(n)[::-1]
    for k, p in enumerate(published):
        ax.errorbar(100 * p["published"], y[k] + 0.15,
                    xerr=[[100 * (p["published"] - p["published_ci_low"])],
                          [100 * (p["published_ci_high"] - p["published"])]],
                    fmt="s", color="k", ms=4, lw=1, label="published" if k == 0 else None)
        ax.errorbar(100 * p["simulated"], y[k] - 0.15,
                    xerr=[[100 * (p["simulated"] - p["ci_low"])], [100 * (p["ci_high"] - p["simulated"])]],
                    fmt="o", color="C0" if p["inside"] else "C3", ms=4, lw=1,
                    label="simulated" if k == 0 else None)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{p['trial']} {p['arm']} {p['endpoint']} wk{p['week']:g}" for p in published],
                       fontsize=7)
    ax.set_xlabel("responders (%), 95 % intervals (red: published outside the simulated interval)")
    ax.set_xlim(0, 100)
    return _finish(fig, ax, Path(outdir) / "published.png")
