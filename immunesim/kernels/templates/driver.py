"""Run drivers: one patient with scheduled discontinuities, and a batch in parallel.

Kernel template (see ``common.py``). The generator instantiates this file once
per method, replacing ``step_segment`` by that method's segment integrator and
suffixing ``solve_one``/``solve_batch`` with the method name.

Scheduled events split the time span into segments, and so do state events (a model's
``Event``): a segment stops where a trigger changes (located on the step's continuous
extension) or where a delayed event falls due, and ``fire_events`` executes what is due there. Each segment is integrated
from a fresh start (right-hand side and Jacobian re-evaluated at the event,
step-controller history reset; the first step tried is the controller's last
unclipped proposal, and the error test rejects it if the event made it too
long), so a dose lands exactly on its time. Output at a time that coincides with an event
reports the state *after* the event (right-continuous). Outputs after a
failure are NaN, and the status code says why.

The lines from ``# events{`` to ``# }events`` (here and in the segment templates) are the
state-event code: the ``_plain`` kernels, for models without state events, are instantiated
without them, with the ``# plain: `` lines as code instead (``immunesim.codegen.generate``).
"""

import numpy as np
from numba import prange


def solve_one(p_in, y0, t0, t_out, ev_t, ev_kind, ev_idx, ev_val, rtol, atol, first_step, hmax,
              max_steps, out, stats):
    n = y0.shape[0]
    y = y0.copy()
    p = p_in.copy()
    u = np.zeros(n)
    ws = np.empty((16, n))
    jv = np.empty(max(n_jac(p), 1))
    w = np.empty(max(nnz_w(p), 1))
    A = np.empty((n, n))
    piv = np.empty(n, np.int64)
    obs = np.empty(n_observed(p))
    # events{
    # state events (README, Events): their values, each trigger's value where the run last
    # stopped, and the queue of those triggered and waiting (due time, event, values)
    n_se = n_events(p)
    tab = event_table(p)
    evv = np.empty(max(n_event_values(p), 1))
    trig = np.zeros(max(n_se, 1))
    na_max = 1
    n_watch = 0
    for k in range(n_se):
        na_max = max(na_max, tab[k * EVW + EV_NASSIGN])
        n_watch += tab[k * EVW + EV_NWATCH]
        trig[k] = 1.0 if tab[k * EVW + EV_INITIAL] != 0 else 0.0
    watch = np.zeros(max(n_watch, 1))
    cap = MAX_PENDING if n_se > 0 else 1
    if n_se > 0:
        np.random.seed(EVENT_SEED)   # ties of priority are broken at random, the same each run
    pend_t = np.empty(cap)
    pend_k = np.empty(cap, np.int64)
    pend_v = np.empty((cap, na_max))
    vals = np.empty(na_max)
    n_pend = 0
    # }events
    # plain: evv = np.empty(1)
    # plain: watch = np.empty(1)
    for k in range(stats.shape[0]):
        stats[k] = 0.0
    stats[ST_BAD_INDEX] = -1.0
    stats[ST_T_FAIL] = np.nan
    n_out = t_out.shape[0]
    n_ev = ev_t.shape[0]
    t_end = t_out[n_out - 1]
    t = t0
    ie = 0
    j = 0
    while ie < n_ev and ev_t[ie] <= t:
        apply_event(ev_kind[ie], ev_idx[ie], ev_val[ie], y, p, u)
        ie += 1
    # events{
    if n_se > 0:
        status, n_pend = fire_events(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend, vals,
                                     stats)
        if status != SUCCESS:
            fill_nan(out, j)
            return status
        sync_watch(t, y, p, evv, watch)
    # }events
    while j < n_out and t_out[j] <= t:
        record(t, y, p, obs, out, j)
        j += 1
    h = first_step
    while t < t_end:
        seg_end = t_end
        if ie < n_ev and ev_t[ie] < t_end:
            seg_end = ev_t[ie]
        # events{
        for q in range(n_pend):
            if t < pend_t[q] < seg_end:
                seg_end = pend_t[q]
        # }events
        status, t, h, j = step_segment(t, seg_end, h, y, p, u, rtol, atol, hmax, max_steps,
                                    t_out, j, out, stats, ws, jv, w, A, piv, obs, evv, watch)
        if status != SUCCESS and status != EVENT_FOUND:
            fill_nan(out, j)
            return status
        while ie < n_ev and ev_t[ie] <= t:
            apply_event(ev_kind[ie], ev_idx[ie], ev_val[ie], y, p, u)
            ie += 1
        # events{
        if n_se > 0:
            status, n_pend = fire_events(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend,
                                         vals, stats)
            if status != SUCCESS:
                fill_nan(out, j)
                return status
            sync_watch(t, y, p, evv, watch)
        # }events
        while j < n_out and t_out[j] <= t:
            record(t, y, p, obs, out, j)
            j += 1
    return SUCCESS


def solve_batch(P, Y0, t0, t_out, ev_ptr, ev_t, ev_kind, ev_idx, ev_val, rtol, atol, first_step,
                hmax, max_steps, out, stats, status):
    for i in prange(P.shape[0]):
        a = ev_ptr[i]
        b = ev_ptr[i + 1]
        status[i] = solve_one(P[i], Y0[i], t0, t_out, ev_t[a:b], ev_kind[a:b], ev_idx[a:b],
                              ev_val[a:b], rtol, atol, first_step, hmax, max_steps, out[i],
                              stats[i])
