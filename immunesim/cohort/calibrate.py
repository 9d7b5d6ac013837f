"""Calibrate a virtual population to published arm-level response rates.

Weights: the maximum-entropy (minimum Kullback-Leibler divergence from uniform) weights that
reproduce the target rates exactly, ``w_i ∝ exp(sum_k lambda_k f_ik)`` with ``f_ik`` patient
i's response in target k's arm and week (every patient is in every arm, so one weight per
patient serves all arms and a population calibrated on some arms predicts the others). The
multipliers minimise the convex dual ``log mean_i exp(F lambda) - lambda . r`` (Csiszar 1975,
doi:10.1214/aop/1176996454; in virtual-population practice, Allen, Rieger & Musante 2016,
CPT Pharmacometrics Syst Pharmacol 5:140, doi:10.1002/psp4.12063, select patients so that
the population matches target statistics).

Selection, in the manner of Allen et al. 2016: patient i is kept with probability
``w_i / max w`` (acceptance-rejection against the weighted target), seeded, giving an
unweighted virtual population with the calibrated rates up to sampling noise.

The fit is reported (each target, achieved rate, residual) with the Kish effective sample
size; a target outside what the population can reach (e.g. a placebo response in a model with
no placebo effect) cannot be met and is reported with its residual, not hidden.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from .stats import kish

LAMBDA_MAX = 30.0     # bound on each multiplier: beyond it one patient would carry the arm


def calibrate(F: np.ndarray, rates: np.ndarray, seed: int) -> dict:
    """Weights for indicator matrix ``F`` (patients x targets) reaching ``rates``."""
    F = np.asarray(F, float)
    r = np.asarray(rates, float)
    n, k = F.shape

    def dual(lam):
        s = F @ lam
        m = s.max()
        e = np.exp(s - m)
        z = e.sum()
        val = m + np.log(z / n) - lam @ r
        grad = (e @ F) / z - r
        return val, grad

    res = optimize.minimize(dual, np.zeros(k), jac=True, method="L-BFGS-B",
                            bounds=[(-LAMBDA_MAX, LAMBDA_MAX)] * k,
                            options={"maxiter": 1000, "gtol": 1e-12, "ftol": 1e-15})
    s = F @ res.x
    w = np.exp(s - s.max())
    w *= n / w.sum()                     # mean weight 1
    achieved = (w @ F) / w.sum()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xCA1,)))
    selected = rng.random(n) < w / w.max()
    return {"weights": w, "multipliers": res.x, "achieved": achieved,
            "residual": achieved - r, "ess": kish(w), "selected": selected,
            "selected_rates": F[selected].mean(axis=0) if selected.any() else np.full(k, np.nan),
            "converged": bool(np.all(np.abs(achieved - r) < 1e-3))}
