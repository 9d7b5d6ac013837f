"""Run status codes and their messages (the codes themselves live with the kernels)."""

from __future__ import annotations

import math

from .kernels.constants import (MAX_CASCADE, MAX_PENDING, MAX_STEPS, NEGATIVE_STATE, NON_FINITE,
                             SINGULAR, ST_ACCEPTED, ST_BAD_INDEX, ST_CLIPPED, ST_DENSE_LU,
                             ST_H_FAIL, ST_JAC, ST_LU, ST_REJECTED, ST_RHS, ST_STEPS, ST_T_FAIL,
                             STEP_UNDERFLOW, SUCCESS, TOO_MANY_EVENTS)

STATUS_NAMES = {SUCCESS: "success", MAX_STEPS: "max_steps", STEP_UNDERFLOW: "step_underflow",
                NON_FINITE: "non_finite", NEGATIVE_STATE: "negative_state", SINGULAR: "singular",
                TOO_MANY_EVENTS: "too_many_events"}

#: solver statistics reported per run: result variable name -> stats slot
STAT_FIELDS = {"n_steps": ST_STEPS, "n_accepted": ST_ACCEPTED, "n_rejected": ST_REJECTED,
               "n_rhs": ST_RHS, "n_jac": ST_JAC, "n_lu": ST_LU, "n_dense_lu": ST_DENSE_LU,
               "n_clipped": ST_CLIPPED}


def describe(code: int, stats, species_names, max_steps: int) -> str:
    """A readable message for status ``code`` with the run's ``stats`` vector."""
    if code == SUCCESS:
        return "success"
    t, h = stats[ST_T_FAIL], stats[ST_H_FAIL]
    idx = int(stats[ST_BAD_INDEX])
    who = f" in species '{species_names[idx]}'" if 0 <= idx < len(species_names) else ""
    at = f" at t={t:.6g}" if not math.isnan(t) else ""
    if code == MAX_STEPS:
        return f"too many steps (max_steps={max_steps}){at}; raise max_steps or check the model"
    if code == STEP_UNDERFLOW:
        return f"step size underflow{at} (h={h:.3g}); the model may be too stiff for this method"
    if code == NON_FINITE:
        return f"non-finite state{who}{at}; check for division by zero or blow-up"
    if code == NEGATIVE_STATE:
        return (f"negative excursion{who}{at} beyond the tolerance although the species is "
                "declared non-negative; check for consumption terms without a factor of the "
                "species")
    if code == SINGULAR:
        return f"singular iteration matrix{at}"
    if code == TOO_MANY_EVENTS:
        return (f"state events{at}: more than {MAX_PENDING} waiting for their delays, or more "
                f"than {MAX_CASCADE} executed at one time (events triggering each other without "
                "end?)")
    return f"unknown status {code}"
