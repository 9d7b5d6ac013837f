"""Pieces shared by every integration kernel: norms, events, step-size helpers, dense LU.

Kernel template: the functions here are plain Python. The code generator copies this file
into each model's generated module, after :mod:`immunesim.kernels.constants`, where every
top-level function is decorated with ``@njit(cache=True)`` and bound to the model's
generated ``rhs``, ``jac_nz``, ``dfdt``, ``observe`` and sparse-LU functions (``w_assemble``,
``lu_factor_sparse``, ``lu_solve_sparse``), and the model's interface functions of the parameter
vector ``p``: ``nonneg(p, i)``, ``jac_rows(p)``, ``jac_cols(p)``, ``n_jac(p)``,
``n_observed(p)``, ``time_dependent(p)``, ``use_sparse(p)``, ``nnz_w(p)`` and
``params_changed(p)`` (called when an event sets a parameter). A specialised module
returns its constants from these (inlined, so the code is what constants would give); the
generic module (:func:`immunesim.codegen.generate.generate_generic_source`) reads them from the
model's tape and sparse-LU program packed behind the parameters in ``p``.
"""

import math

import numpy as np


def apply_event(kind, idx, val, y, p, u):
    if kind == EV_ADD_SPECIES:
        y[idx] += val
    elif kind == EV_SET_SPECIES:
        y[idx] = val
    elif kind == EV_SET_PARAM:
        p[idx] = val
        params_changed(p)
    else:
        u[idx] += val


def error_scale(y0, y1, rtol, atol, sc):
    for i in range(y0.shape[0]):
        sc[i] = atol[i] + rtol * max(abs(y0[i]), abs(y1[i]))


def rms_norm(v, sc):
    s = 0.0
    for i in range(v.shape[0]):
        r = v[i] / sc[i]
        s += r * r
    return math.sqrt(s / v.shape[0])


def first_bad(y, sc, p):
    """Index of the first non-finite component, or of a non-negative one below ``-sc``; else -1."""
    for i in range(y.shape[0]):
        if not math.isfinite(y[i]):
            return i
    for i in range(y.shape[0]):
        if nonneg(p, i) and y[i] < -sc[i]:
            return i
    return -1


def clip_nonnegative(y, p):
    """Clip within-tolerance negatives of non-negative species to 0; index of the first, or -1."""
    first = -1
    for i in range(y.shape[0]):
        if nonneg(p, i) and y[i] < 0.0:
            y[i] = 0.0
            if first < 0:
                first = i
    return first


def clip_after_accept(yn, stats, clip_run, p):
    """Clip within-tolerance negatives of an accepted step; return (new clip_run, species index
    to report as NEGATIVE_STATE or -1). See MAX_CLIP_RUN."""
    clipped = clip_nonnegative(yn, p)
    if clipped < 0:
        return 0, -1
    stats[ST_CLIPPED] += 1
    clip_run += 1
    return clip_run, (clipped if clip_run >= MAX_CLIP_RUN else -1)


def land_on(t, t_stop, h):
    """(step, last): ``h``, or the step that ends exactly at ``t_stop`` when ``h`` reaches
    it or falls short of it by less than 1e-4 of a step (no sliver of a last step)."""
    if t + 1.0001 * h >= t_stop:
        return t_stop - t, True
    return h, False


def min_step(t):
    return 1e-14 * max(1.0, abs(t))


def initial_step(t, y, p, u, f0, rtol, atol, order, hmax, span, y1, f1, sc):
    """Hairer, Norsett & Wanner (1993), Solving ODEs I, sec. II.4 (the starting step size)."""
    for i in range(y.shape[0]):
        sc[i] = atol[i] + rtol * abs(y[i])
    d0 = rms_norm(y, sc)
    d1 = rms_norm(f0, sc)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(y.shape[0]):
        y1[i] = y[i] + h0 * f0[i]
    rhs(t + h0, y1, p, u, f1)
    for i in range(y.shape[0]):
        f1[i] = f1[i] - f0[i]
    d2 = rms_norm(f1, sc) / h0
    dmax = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if dmax <= 1e-15 else (0.01 / dmax) ** (1.0 / (order + 1))
    # at least 1000 minimum steps (the heuristic's guess can fall to min_step itself, from
    # where one rejected step is a step-size underflow; the error control shrinks it from
    # here when the dynamics need smaller steps)
    return min(max(min(100.0 * h0, h1), 1e3 * min_step(t)), hmax, span)


def dense_assemble(jv, inv_gh, A, p):
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            A[i, j] = 0.0
        A[i, i] = inv_gh
    rows = jac_rows(p)
    cols = jac_cols(p)
    for k in range(rows.shape[0]):
        A[rows[k], cols[k]] -= jv[k]


def dense_factor(A, piv):
    """In-place LU with partial pivoting; False if singular."""
    n = A.shape[0]
    for k in range(n):
        m = k
        big = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > big:
                big = abs(A[i, k])
                m = i
        piv[k] = m
        if big == 0.0 or not math.isfinite(big):
            return False
        if m != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[m, j]
                A[m, j] = tmp
        d = 1.0 / A[k, k]
        for i in range(k + 1, n):
            A[i, k] *= d
            f = A[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return True


def dense_solve(A, piv, b, x):
    n = A.shape[0]
    for i in range(n):
        x[i] = b[i]
    for k in range(n):
        m = piv[k]
        if m != k:
            tmp = x[k]
            x[k] = x[m]
            x[m] = tmp
    for i in range(n):
        s = x[i]
        for k in range(i):
            s -= A[i, k] * x[k]
        x[i] = s
    for i in range(n - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, n):
            s -= A[i, k] * x[k]
        x[i] = s / A[i, i]


def factor(jv, inv_gh, w, A, piv, stats, p):
    """Factor ``W = I/(gamma h) - J``: 1 = sparse static-pivot LU, 2 = dense fallback, 0 = singular."""
    stats[ST_LU] += 1
    if use_sparse(p):
        w_assemble(jv, inv_gh, w, p)
        if lu_factor_sparse(w, p):
            return 1
    stats[ST_DENSE_LU] += 1
    dense_assemble(jv, inv_gh, A, p)
    if dense_factor(A, piv):
        return 2
    return 0


def stages_loop(t, h, y, p, u, rtol, atol, ws, A, piv, TA, TC, TCC, TD):
    """All stages of one Rosenbrock step in loop form, from the tableau arrays (``TA``, ``TC``,
    ``TCC``, ``TD``: see ``rodas4.py``), each linear solve on the dense LU in ``A``, ``piv``.
    Same contract and workspace rows as a method's unrolled ``*_stages`` (``rosenbrock.py``).

    Steps whose sparse factorisation was refused (a poor static pivot), and every step of a
    model too large for the unrolled sparse LU, run here. It is compact rather than fast:
    unrolled like the sparse path it would double the compile time of that path (the
    right-hand side inlined at every stage) for steps that are rare, or whose cost is the
    O(n^3) dense factorisation anyway."""
    n = y.shape[0]
    n_stages = TD.shape[0]
    f0 = ws[0]
    ft = ws[1]
    yn = ws[2]
    b = ws[3]
    du = ws[4]
    sc = ws[5]
    ih = 1.0 / h
    for s in range(n_stages):
        if s == 0:
            for i in range(n):
                b[i] = f0[i] + h * TD[0] * ft[i]
        else:
            for i in range(n):
                v = y[i]
                for q in range(s):
                    v += TA[s, q] * ws[7 + q, i]
                yn[i] = v
            rhs(t + TCC[s] * h, yn, p, u, du)
            for i in range(n):
                v = 0.0
                for q in range(s):
                    v += TC[s, q] * ws[7 + q, i]
                b[i] = du[i] + h * TD[s] * ft[i] + ih * v
        dense_solve(A, piv, b, ws[7 + s])
    for i in range(n):
        v = y[i]
        for q in range(n_stages):
            v += TA[n_stages, q] * ws[7 + q, i]
        yn[i] = v
    error_scale(y, yn, rtol, atol, sc)
    return rms_norm(ws[6 + n_stages], sc)


def record(t, y, p, obs, out, j):
    """Write the observed quantities at ``t`` into output row ``j``.

    Computed into the scratch row ``obs`` and then copied: letting ``observe`` write straight
    into ``out[j]`` measured 30% slower for the whole cohort benchmark (0.50 s against
    0.34 s for 1000 patients, Numba 0.6x, x86-64).
    """
    observe(t, y, p, obs)
    for k in range(obs.shape[0]):
        out[j, k] = obs[k]


def fail(stats, code, t, h, index):
    stats[ST_T_FAIL] = t
    stats[ST_H_FAIL] = h
    stats[ST_BAD_INDEX] = index
    return code


def trigger_changed(t, y, p, evv, watch):
    """Whether any watched comparison of the event triggers at ``(t, y)`` differs from
    ``watch`` (its value, 1 or 0, where the run last stopped; :func:`sync_watch`)."""
    return watch_pass(t, y, p, evv, watch, False)


def sync_watch(t, y, p, evv, watch):
    """``watch`` := every watched comparison's value (1 or 0) at ``(t, y)``."""
    watch_pass(t, y, p, evv, watch, True)


def watch_pass(t, y, p, evv, watch, sync):
    """One pass over the watched comparisons at ``(t, y)``: store them (``sync``) or return
    whether one differs from ``watch``."""
    event_values(t, y, p, evv)
    tab = event_table(p)
    w = 0
    for k in range(n_events(p)):
        first = tab[k * EVW + EV_WFIRST]
        for q in range(tab[k * EVW + EV_NWATCH]):
            now = 1.0 if evv[tab[first + q]] != 0.0 else 0.0
            if sync:
                watch[w] = now
            elif now != watch[w]:
                return True
            w += 1
    return False


def fill_nan(out, j):
    """Output rows from ``j`` on are NaN (a run that failed there)."""
    for jj in range(j, out.shape[0]):
        for k in range(out.shape[1]):
            out[jj, k] = np.nan


def drop_pending(q, pend_t, pend_k, pend_v, n_pend):
    """Remove entry ``q`` of the event queue, keeping the others in order."""
    for r in range(q, n_pend - 1):
        pend_t[r] = pend_t[r + 1]
        pend_k[r] = pend_k[r + 1]
        for a in range(pend_v.shape[1]):
            pend_v[r, a] = pend_v[r + 1, a]
    return n_pend - 1


def scan_triggers(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend):
    """Bring ``trig`` up to date at ``(t, y)``: a trigger that turned true queues its event, due
    at ``t + delay``, with its assignments' values taken now if it uses the values of the
    trigger time; one that turned false cancels the queued executions of a non-persistent event.
    Returns the queue's length, or -1 when the queue is full."""
    event_values(t, y, p, evv)
    tab = event_table(p)
    ne = n_events(p)
    for k in range(ne):
        row = k * EVW
        now = 1.0 if evv[tab[row + EV_TRIG]] != 0.0 else 0.0
        if now == trig[k]:
            continue
        trig[k] = now
        if now == 1.0:
            if n_pend >= pend_t.shape[0]:
                return -1
            d = tab[row + EV_DELAY]
            pend_t[n_pend] = t + (evv[d] if d >= 0 else 0.0)
            pend_k[n_pend] = k
            if tab[row + EV_USE_TRIGGER] != 0:
                first = tab[row + EV_FIRST]
                for a in range(tab[row + EV_NASSIGN]):
                    pend_v[n_pend, a] = evv[tab[ne * EVW + (first + a) * EVA + 2]]
            n_pend += 1
        elif tab[row + EV_PERSISTENT] == 0:
            q = 0
            while q < n_pend:
                if pend_k[q] == k:
                    n_pend = drop_pending(q, pend_t, pend_k, pend_v, n_pend)
                else:
                    q += 1
    return n_pend


def fire_events(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend, vals, stats):
    """At time ``t``: queue the events whose triggers turned true, then execute those due, one
    at a time, the highest priority first (no priority: after those with one; ties in the
    queue's order, which is the model's order for triggers that turned true together; equal
    priorities: one at random). Each
    execution may trigger or cancel others, so the triggers are scanned again after each.
    Returns ``(status, queue length)``."""
    n_pend = scan_triggers(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend)
    if n_pend < 0:
        return fail(stats, TOO_MANY_EVENTS, t, 0.0, -1), 0
    tab = event_table(p)
    ne = n_events(p)
    count = 0
    while True:
        best = -1
        best_pr = -math.inf
        ties = 0
        fresh = False
        for q in range(n_pend):
            if pend_t[q] <= t:
                pi = tab[pend_k[q] * EVW + EV_PRIO]
                pr = -math.inf
                if pi >= 0:
                    if not fresh:
                        event_values(t, y, p, evv)
                        fresh = True
                    pr = evv[pi]
                if best < 0 or pr > best_pr:
                    best = q
                    best_pr = pr
                    ties = 1
                elif pr == best_pr and pi >= 0:
                    # equal priorities: one at random, as SBML says (the run's generator is
                    # seeded, so a run repeats)
                    ties += 1
                    if np.random.random() * ties < 1.0:
                        best = q
        if best < 0:
            return SUCCESS, n_pend
        count += 1
        if count > MAX_CASCADE:
            return fail(stats, TOO_MANY_EVENTS, t, 0.0, -1), n_pend
        row = pend_k[best] * EVW
        first = tab[row + EV_FIRST]
        na = tab[row + EV_NASSIGN]
        if tab[row + EV_USE_TRIGGER] != 0:
            for a in range(na):
                vals[a] = pend_v[best, a]
        else:
            event_values(t, y, p, evv)
            for a in range(na):
                vals[a] = evv[tab[ne * EVW + (first + a) * EVA + 2]]
        changed = False
        for a in range(na):
            o = ne * EVW + (first + a) * EVA
            if tab[o] == 0:
                y[tab[o + 1]] = vals[a]
            else:
                p[tab[o + 1]] = vals[a]
                changed = True
        if changed:
            params_changed(p)
        n_pend = drop_pending(best, pend_t, pend_k, pend_v, n_pend)
        n_pend = scan_triggers(t, y, p, evv, trig, pend_t, pend_k, pend_v, n_pend)
        if n_pend < 0:
            return fail(stats, TOO_MANY_EVENTS, t, 0.0, -1), 0
