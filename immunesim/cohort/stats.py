"""Trial statistics: response rates with confidence intervals, paired differences, NNT,
Kaplan-Meier survival, ROC AUC, and weighted (calibrated) versions.

All intervals are two-sided 95 % unless ``level`` says otherwise.

References
----------
- Wilson 1927, J Am Stat Assoc 22:209, doi:10.1080/01621459.1927.10502953 (score interval).
- Newcombe 1998, Stat Med 17:2635, doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C
  (difference of paired proportions, method 10: Wilson limits combined with the
  continuity-corrected phi coefficient). Arms of a virtual trial hold the *same* patients, so
  their rates are paired.
- Altman 1998, BMJ 317:1309, doi:10.1136/bmj.317.7168.1309 (NNT and its interval).
- Kaplan & Meier 1958, doi:10.1080/01621459.1958.10501452; Greenwood's variance with the
  log(-log) interval (Kalbfleisch & Prentice 2002).
- Hanley & McNeil 1982, Radiology 143:29, doi:10.1148/radiology.143.1.7063747 (AUC = the
  Mann-Whitney probability, and its standard error).
- Kish 1965, *Survey Sampling*: effective sample size of weights ``(sum w)^2 / sum w^2``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st


def _z(level: float) -> float:
    return float(_st.norm.ppf(0.5 + level / 2.0))


def wilson(k, n, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` responders of ``n`` (``n`` may be an effective,
    non-integer size for weighted rates)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    z = _z(level)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if k <= 0 else max(0.0, centre - half)      # exact at the ends (no rounding residue)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return (lo, hi)


def paired_difference(x1: np.ndarray, x2: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """``p1 - p2`` for paired 0/1 outcomes of the same patients, with Newcombe's method-10
    interval; returns ``(difference, low, high)``."""
    x1, x2 = np.asarray(x1, bool), np.asarray(x2, bool)
    n = x1.size
    if n == 0:
        return (float("nan"),) * 3
    a = float(np.sum(x1 & x2))
    b = float(np.sum(x1 & ~x2))
    c = float(np.sum(~x1 & x2))
    d = float(n - a - b - c)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, level)
    l2, u2 = wilson(a + c, n, level)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    B = a * d - b * c
    C = B - n / 2 if B > n / 2 else (B if B < 0 else 0.0)
    phi = C / np.sqrt(margins) if margins > 0 else 0.0
    diff = p1 - p2
    lo = diff - np.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    hi = diff + np.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (diff, max(-1.0, lo), min(1.0, hi))


def nnt(diff: float, low: float, high: float) -> tuple[float, str]:
    """Number needed to treat ``1/diff`` and its interval as text (Altman 1998): when the
    difference's interval excludes 0 it is ``1/high`` to ``1/low``; when it includes 0 the
    interval runs through infinity (NNT benefit to NNT harm)."""
    if not np.isfinite(diff) or diff == 0:
        return (float("inf"), "no difference")
    value = 1.0 / diff
    if low > 0 or high < 0:
        a, b = sorted((1.0 / high, 1.0 / low))
        return (value, f"{a:.1f} to {b:.1f}")
    return (value, f"NNTH {abs(1.0 / low):.1f} to inf to NNTB {1.0 / high:.1f}" if high > 0 and low < 0
            else "undefined")


def weighted_rate(x: np.ndarray, w: np.ndarray | None, level: float = 0.95) -> dict:
    """Rate of 0/1 outcomes ``x`` under weights ``w`` (None: unweighted): rate, the Wilson
    interval on the Kish effective sample size, n_eff."""
    x = np.asarray(x, float)
    if w is None:
        w = np.ones_like(x)
    w = np.asarray(w, float)
    sw = w.sum()
    if sw <= 0:
        return {"rate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n_eff": 0.0}
    rate = float(np.dot(w, x) / sw)
    n_eff = float(sw * sw / np.dot(w, w))
    lo, hi = wilson(rate * n_eff, n_eff, level)
    return {"rate": rate, "ci_low": lo, "ci_high": hi, "n_eff": n_eff}


def kaplan_meier(time: np.ndarray, event: np.ndarray, at: np.ndarray, level: float = 0.95,
                 weights: np.ndarray | None = None) -> dict:
    """Event-free survival ``S(t)`` at times ``at`` from follow-up ``time`` and ``event``
    (False = censored), with the log(-log) Greenwood interval. Also the step curve
    (``t``, ``s``) for plotting."""
    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    w = np.ones_like(time) if weights is None else np.asarray(weights, float)
    ts = np.unique(time[event])
    s, var_sum = 1.0, 0.0
    curve_t, curve_s, curve_v = [0.0], [1.0], [0.0]
    for t in ts:
        at_risk = w[time >= t].sum()
        d = w[(time == t) & event].sum()
        if at_risk <= 0:
            break
        s *= 1.0 - d / at_risk
        if at_risk > d:
            var_sum += d / (at_risk * (at_risk - d))
        curve_t.append(float(t))
        curve_s.append(s)
        curve_v.append(var_sum)
    curve_t, curve_s, curve_v = map(np.asarray, (curve_t, curve_s, curve_v))
    idx = np.searchsorted(curve_t, np.asarray(at, float), side="right") - 1
    S, V = curve_s[idx], curve_v[idx]
    z = _z(level)
    lo, hi = np.zeros_like(S), np.zeros_like(S)
    for i, (s_i, v_i, t_i) in enumerate(zip(S, V, np.atleast_1d(at))):
        if 0 < s_i < 1:
            se = np.sqrt(v_i) / abs(np.log(s_i))
            lo[i], hi[i] = s_i ** np.exp(z * se), s_i ** np.exp(-z * se)
        elif s_i >= 1:   # no event yet: log(-log) is undefined; Wilson for 0 events among those followed
            at_risk = w[time >= t_i].sum()
            lo[i], hi[i] = wilson(at_risk, at_risk, level)[0], 1.0
    return {"s": S, "ci_low": lo, "ci_high": hi, "t": curve_t, "curve": curve_s}


def roc_auc(score: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """AUC of ``score`` for the 0/1 ``label`` (the Mann-Whitney probability that a random
    positive scores higher than a random negative, ties counted half) and its Hanley-McNeil
    standard error. NaN when a class is empty."""
    score = np.asarray(score, float)
    label = np.asarray(label, bool)
    n1, n0 = int(label.sum()), int((~label).sum())
    if n1 == 0 or n0 == 0:
        return (float("nan"), float("nan"))
    ranks = _st.rankdata(score)
    auc = (ranks[label].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n0 - 1) * (q2 - auc ** 2)) / (n1 * n0))
    return (float(auc), float(se))


def kish(w: np.ndarray) -> float:
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.dot(w, w)) if w.size and np.dot(w, w) > 0 else 0.0
