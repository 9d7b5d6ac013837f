"""Clinical measurements of trial patients, ACR responses and dropouts (the instruments and
their formula: :mod:`immunesim.diseases.clinical`).

Every random draw of a patient (its instrument factors, non-inflammatory parts, expectation,
each visit's variation, its time of withdrawal) comes from a generator seeded by the
scenario's seed and the patient's candidate number, so a patient is measured the same way
whatever chunk, process or machine computes it, and in every arm (common random numbers:
the arms differ only by their drugs).
"""

from __future__ import annotations

import numpy as np

from ..diseases.clinical import Clinical
from ..scenario.endpoints import ACR, OBSERVED
from .endpoints import evaluate

STREAM = 0xC11  # the clinical draws' own stream beside the population's parameters and covariates


def lognormal(z: np.ndarray, median, cv: float) -> np.ndarray:
    """Lognormal values with ``median`` and coefficient of variation ``cv`` from standard normals."""
    return median * np.exp(np.sqrt(np.log1p(cv * cv)) * z)


def patient_draws(clinical: Clinical, seed: int, candidates, n_visits: int) -> dict:
    """Per patient (rows, in ``candidates`` order): for each instrument its ``factor``,
    ``other`` and ``expectation``, and ``visit`` (patients x visits) variation; ``withdraw_u``,
    a uniform number that fixes the patient's withdrawal time (:func:`withdrawal_weeks`)."""
    n, k = len(candidates), len(clinical.instruments)
    z = np.empty((n, k, 3 + n_visits))
    u = np.empty(n)
    zf = np.empty((n, n_visits))
    for row, cand in enumerate(candidates):
        rng = np.random.default_rng([int(seed), STREAM, int(cand)])
        z[row] = rng.standard_normal((k, 3 + n_visits))
        u[row] = rng.random()
        zf[row] = rng.standard_normal(n_visits)
    out = {"withdraw_u": u, "fluctuation_z": zf}
    for j, ins in enumerate(clinical.instruments):
        out[ins.name] = {
            "factor": lognormal(z[:, j, 0], 1.0, ins.patient_cv),
            "other": lognormal(z[:, j, 1], ins.other_median, ins.other_cv),
            "expectation": np.clip(ins.expectation_mean + ins.expectation_sd * z[:, j, 2], 0.0, 0.9),
            "visit": lognormal(z[:, j, 3:], 1.0, ins.visit_cv),
        }
    return out


def measure(clinical: Clinical, draws: dict, latent: dict, t_weeks: np.ndarray) -> dict:
    """Each instrument (patients x visits) from the ``latent`` model variables (patients x
    visits, at ``t_weeks`` after baseline; visit ``j`` uses the patient's ``j``-th visit
    variation), and the measured ``DAS28`` when the disease defines it."""
    t = np.maximum(np.asarray(t_weeks, dtype=float), 0.0)
    ramp = 1.0 - np.exp(-t / clinical.expectation_onset_weeks)
    fluct = fluctuation(clinical, draws["fluctuation_z"][:, : t.size], np.asarray(t_weeks, dtype=float))
    out = {}
    for ins in clinical.instruments:
        d = draws[ins.name]
        x = np.asarray(latent[ins.latent], dtype=float)
        v = d["visit"][:, : x.shape[1]]
        y = (ins.scale * x * d["factor"][:, None] * fluct + d["other"][:, None]) * v
        y = y * (1.0 - d["expectation"][:, None] * ramp[None, :])
        y = np.clip(y, 0.0, ins.maximum)
        out[ins.name] = np.round(y) if ins.integer else y
    das = clinical.das28
    if das is not None:
        t28 = das.tender_28_share.count28(out[das.tender])
        s28 = das.swollen_28_share.count28(out[das.swollen])
        out["DAS28"] = (0.56 * np.sqrt(t28) + 0.28 * np.sqrt(s28)
                        + 0.36 * np.log(out[das.crp] + 1.0) + 0.014 * out[das.global_] + 0.96)
        if das.esr:            # Prevoo et al. 1995; ESR in mm/h (at least 1: the log)
            out["DAS28_ESR"] = (0.56 * np.sqrt(t28) + 0.28 * np.sqrt(s28)
                                + 0.70 * np.log(np.maximum(out[das.esr], 1.0)) + 0.014 * out[das.global_])
    return out


def fluctuation(clinical: Clinical, z: np.ndarray, t_weeks: np.ndarray) -> np.ndarray:
    """Each patient's disease-activity multiplier at the visits (patients x visits): a
    stationary AR(1) process on the log scale, SD from ``fluctuation_cv``, correlation
    ``exp(-dt / fluctuation_weeks)`` between visits ``dt`` weeks apart, median 1."""
    s = np.sqrt(np.log1p(clinical.fluctuation_cv ** 2))
    if s == 0.0:
        return np.ones(z.shape)
    g = np.empty(z.shape)
    g[:, 0] = z[:, 0]
    for j in range(1, z.shape[1]):
        rho = np.exp(-(t_weeks[j] - t_weeks[j - 1]) / clinical.fluctuation_weeks)
        g[:, j] = rho * g[:, j - 1] + np.sqrt(1.0 - rho * rho) * z[:, j]
    return np.exp(s * g)


def improvement(base: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Relative improvement ``(base - value) / base``; 0 where the baseline is 0 (nothing to improve)."""
    base = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, (base - value) / np.where(base > 0, base, 1.0), 0.0)


def acr(clinical: Clinical, measured: dict, level: float) -> tuple[np.ndarray, np.ndarray]:
    """ACR response at every visit (patients x visits, baseline = visit 0) at ``level`` (0.2,
    0.5, 0.7): both joint counts improved by ``level`` and at least 3 of the 5 other core-set
    measures too (Felson et al. 1995). Also returns the graded score: the largest level reached
    (the ACR-N: min of the joint improvements and the third-best core improvement)."""
    joints = [improvement(measured[n][:, :1], measured[n]) for n in clinical.acr_joints]
    core = np.stack([improvement(measured[n][:, :1], measured[n]) for n in clinical.acr_core])
    third = np.sort(core, axis=0)[-3]          # the third-largest of the five
    score = np.minimum(np.minimum(*joints), third)
    return score >= level - 1e-12, score


def withdrawal_weeks(draws: dict, per_year: float) -> np.ndarray:
    """Each patient's week of withdrawal for reasons other than efficacy (constant hazard,
    ``per_year`` the share withdrawing within a year); inf without withdrawals."""
    if per_year <= 0:
        return np.full(draws["withdraw_u"].shape, np.inf)
    rate = -np.log1p(-min(per_year, 0.999)) / (365.25 / 7.0)     # per week
    return -np.log1p(-draws["withdraw_u"]) / rate


def escape_weeks(clinical: Clinical, measured: dict, t_weeks: np.ndarray, week: float,
                 below: float) -> np.ndarray:
    """Week of escape to rescue therapy: at ``week``, a patient whose tender and swollen joint
    counts have both improved by less than ``below`` (OPTION and LITHE's rule at week 16:
    Smolen et al. 2008, doi:10.1016/S0140-6736(08)60453-5); inf for the others."""
    j = int(np.argmin(np.abs(np.asarray(t_weeks) - week)))
    imp = [improvement(measured[n][:, 0], measured[n][:, j]) for n in clinical.acr_joints]
    escaped = (imp[0] < below) & (imp[1] < below)
    return np.where(escaped, float(t_weeks[j]), np.inf)


def take(draws: dict, rows) -> dict:
    """The draws of patients ``rows`` (an index array)."""
    return {k: (v[rows] if isinstance(v, np.ndarray) else {p: a[rows] for p, a in v.items()})
            for k, v in draws.items()}


def leaving_weeks(clinical: Clinical, dropout, draws: dict, measured: dict, t_weeks: np.ndarray,
                  end: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's week of withdrawal (other reasons) and of escape to rescue therapy, inf
    where there is none: no withdrawal after week ``end`` (the trial's last), no escape after
    a withdrawal."""
    withdrawn = withdrawal_weeks(draws, dropout.per_year)
    withdrawn = np.where(withdrawn <= end, withdrawn, np.inf)
    escaped = np.full(withdrawn.shape, np.inf)
    if dropout.escape_week is not None:
        escaped = escape_weeks(clinical, measured, t_weeks, dropout.escape_week, dropout.escape_below)
        escaped = np.where(escaped < withdrawn, escaped, np.inf)
    return withdrawn, escaped


def dropout_weeks(clinical: Clinical, dropout, draws: dict, measured: dict,
                  t_weeks: np.ndarray, end: float = np.inf) -> np.ndarray:
    """Each patient's week of leaving the trial (withdrawal or escape), inf for completers."""
    return np.minimum(*leaving_weeks(clinical, dropout, draws, measured, t_weeks, end))


def acr_outcome(clinical: Clinical, measured: dict, level: float, t_weeks, weeks) -> dict:
    """An ACR endpoint's ``responder`` and ``value`` (the graded ACR-N score, 0.2 = 20 %) at
    ``weeks`` (patients x weeks)."""
    cols = [int(np.argmin(np.abs(np.asarray(t_weeks) - w))) for w in weeks]
    resp, score = acr(clinical, measured, level)
    return {"responder": resp[:, cols], "value": score[:, cols]}


def endpoint_outcome(clinical: Clinical, ep, measured: dict, t_weeks) -> dict:
    """An ACR endpoint, or a threshold endpoint on an instrument, from the measured visits."""
    if ep.kind == ACR:
        return acr_outcome(clinical, measured, ep.value / 100.0, t_weeks, ep.weeks)
    x = measured[ep.readout]
    return evaluate(ep, t_weeks, x, x[:, 0])


def impute_dropouts(res: dict, ep, out_week, withdrawn_week=None) -> dict:
    """How an endpoint counts patients who left (``out_week``: each patient's week of
    withdrawal or escape, None without dropouts; harms and time-to-event endpoints untouched):
    non-responder imputation, a patient who left by an endpoint's week is no responder there;
    or, for ``analysis: observed``, a patient withdrawn by then (``withdrawn_week``) is not
    assessed (responder NaN, out of the denominator) and an escaper is assessed as measured
    on the rescue."""
    if out_week is None or ep.time_to_event or ep.lower_is_better:
        return res
    weeks = np.asarray(ep.weeks)[None, :] + 1e-9
    if ep.analysis == OBSERVED:
        gone = np.asarray(withdrawn_week if withdrawn_week is not None else out_week)[:, None] <= weeks
        return {**res, "responder": np.where(gone, np.nan, res["responder"].astype(float))}
    gone = np.asarray(out_week)[:, None] <= weeks
    return {**res, "responder": res["responder"] & ~gone}
