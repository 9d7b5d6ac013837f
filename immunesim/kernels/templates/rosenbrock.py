"""Step control shared by the Rosenbrock methods (Rodas4, Rodas5P).

Kernel template (see ``common.py``). The generator instantiates this file once per
Rosenbrock method, replacing the prefix ``ros_``/``ROS_`` by the method's own
(``rodas4_``/``RODAS4_``, ...). A method file supplies:

- ``ROS_GAMMA`` (diagonal of the method), ``ROS_ORDER`` (order of the embedded
  solution plus one: the error scales as ``h**ROS_ORDER``), ``ROS_STAGE_RHS``
  (right-hand sides evaluated by the stages of one step);
- ``ros_stages(t, h, y, p, u, rtol, atol, ws, w)``: all stages of one step from ``y``
  (with ``f(t, y)`` in ``ws[0]`` and ``df/dt`` in ``ws[1]``), unrolled, each linear solve on
  the sparse LU in ``w``; the new solution into ``ws[2]`` and the error scale into ``ws[5]``;
  returns the RMS error norm. Steps on the dense LU run the loop form of the same stages,
  ``common.stages_loop``, from the tableau arrays ``ROS_TA``, ``ROS_TC``, ``ROS_TCC``,
  ``ROS_TD``. The two are separate functions because one stage code branching on the kind
  of factorisation at each solve measured 1.4x slower per Rodas5P step on the benchmark
  model (1604 against 1140 ns, Numba 0.68, x86-64): the dense solve inlined at every stage
  bloats the code the sparse path runs in;
- ``ros_dense(y, ws)``: turns the stages into the coefficients of the continuous
  extension (in place), and ``ros_interpolate(th, y, ws, yi)``: the solution at
  ``t + th*h``.

Workspace rows: 0 ``f(t, y)``, 1 ``df/dt``, 2 new solution, 3 right-hand side of the
linear solves, 4 stage derivative, 5 error scale, 6 interpolated state, 7.. stages.

Step control is Gustafsson's predictive controller as in RODAS (Hairer & Wanner 1996,
*Solving ODEs II*, sec. IV.8, doi:10.1007/978-3-642-05221-7): factors limited to
[1/6, 5], a step after a rejection may not grow, a non-finite or clearly negative
stage solution quarters the step.
"""

import math

import numpy as np


def ros_segment(t, t_stop, h, y, p, u, rtol, atol, hmax, max_steps, t_out, j, out, stats,
                ws, jv, w, A, piv, obs, evv, watch):
    n = y.shape[0]
    f0 = ws[0]
    ft = ws[1]
    yn = ws[2]
    du = ws[4]
    sc = ws[5]
    yi = ws[6]
    n_out = t_out.shape[0]
    expo = 1.0 / ROS_ORDER
    for i in range(n):
        ft[i] = 0.0
    rhs(t, y, p, u, f0)
    stats[ST_RHS] += 1
    if h <= 0.0:
        h = initial_step(t, y, p, u, f0, rtol, atol, ROS_ORDER - 1, hmax, t_stop - t, yn, du,
                         sc)
        stats[ST_RHS] += 1
    need_jac = True
    n_acc = 0
    rejected = False
    h_acc = 0.0
    err_acc = 0.0
    h_next = h
    clip_run = 0
    while t < t_stop:
        if stats[ST_STEPS] >= max_steps:
            return fail(stats, MAX_STEPS, t, h, -1), t, h, j
        h = min(h, hmax)
        h_next = h
        h, last = land_on(t, t_stop, h)
        if h < min_step(t):
            return fail(stats, STEP_UNDERFLOW, t, h, -1), t, h, j
        stats[ST_STEPS] += 1
        if need_jac:
            jac_nz(t, y, p, jv)
            stats[ST_JAC] += 1
            if time_dependent(p):
                dfdt(t, y, p, ft)
            need_jac = False
        mode = factor(jv, 1.0 / (ROS_GAMMA * h), w, A, piv, stats, p)
        if mode == 0:
            stats[ST_REJECTED] += 1
            rejected = True
            h *= 0.25
            if h < min_step(t):
                return fail(stats, SINGULAR, t, h, -1), t, h, j
            continue
        if mode == 1:
            err = ros_stages(t, h, y, p, u, rtol, atol, ws, w)
        else:
            err = stages_loop(t, h, y, p, u, rtol, atol, ws, A, piv, ROS_TA, ROS_TC, ROS_TCC,
                              ROS_TD)
        stats[ST_RHS] += ROS_STAGE_RHS
        bad = first_bad(yn, sc, p)
        if bad >= 0 or not math.isfinite(err):
            stats[ST_REJECTED] += 1
            rejected = True
            h *= 0.25
            if h < min_step(t):
                if bad < 0:
                    return fail(stats, NON_FINITE, t, h, -1), t, h, j
                code = NON_FINITE if not math.isfinite(yn[bad]) else NEGATIVE_STATE
                return fail(stats, code, t, h, bad), t, h, j
            continue
        fac = max(1.0 / 6.0, min(5.0, err ** expo / SAFETY))
        h_new = h / fac
        if err <= 1.0:
            stats[ST_ACCEPTED] += 1
            clip_run, driven = clip_after_accept(yn, stats, clip_run, p)
            if driven >= 0:
                return fail(stats, NEGATIVE_STATE, t, h, driven), t, h, j
            t_new = t_stop if last else t + h
            dense = False
            hit = False
            th_hit = 1.0
            lo = 0.0
            # events{
            if n_events(p) > 0:
                # an event trigger that changed during the step: checked at the output times
                # inside the step (a trigger true for less than a step is still seen at the
                # output resolution) and at its end; then bisection on the continuous extension
                # between the last time it had not changed and the first it had, to the last bits
                jj = j
                while not hit:
                    if jj < n_out and t_out[jj] < t_stop and t < t_out[jj] < t_new:
                        if not dense:
                            ros_dense(y, ws)
                            dense = True
                        th = (t_out[jj] - t) / h
                        ros_interpolate(th, y, ws, yi)
                        changed = trigger_changed(t_out[jj], yi, p, evv, watch)
                        jj += 1
                    else:
                        th = 1.0
                        changed = trigger_changed(t_new, yn, p, evv, watch)
                    if changed:
                        hit = True
                        th_hit = th
                    elif th == 1.0:
                        break
                    else:
                        lo = th
            # }events
            # events{
            if hit:
                if not dense:
                    ros_dense(y, ws)
                    dense = True
                for _ in range(200):
                    mid = 0.5 * (lo + th_hit)
                    if t + mid * h <= t + lo * h or t + mid * h >= t + th_hit * h:
                        break
                    ros_interpolate(mid, y, ws, yi)
                    if trigger_changed(t + mid * h, yi, p, evv, watch):
                        th_hit = mid
                    else:
                        lo = mid
                if th_hit < 1.0:
                    t_new = t + th_hit * h
                    if t_new <= t:
                        t_new = np.nextafter(t, np.inf)
                        th_hit = (t_new - t) / h
            # }events
            if j < n_out and t_out[j] < t_stop and (t_out[j] < t_new or (not hit and t_out[j] == t_new)):
                if not dense:
                    ros_dense(y, ws)
                    dense = True
                while j < n_out and t_out[j] < t_stop and (t_out[j] < t_new or (not hit and t_out[j] == t_new)):
                    ros_interpolate((t_out[j] - t) / h, y, ws, yi)
                    for i in range(n):
                        if nonneg(p, i) and yi[i] < 0.0:
                            yi[i] = 0.0
                    record(t_out[j], yi, p, obs, out, j)
                    j += 1
            # events{
            if hit and th_hit < 1.0:     # the state where the trigger changed
                ros_interpolate(th_hit, y, ws, yi)
                for i in range(n):
                    yn[i] = 0.0 if (nonneg(p, i) and yi[i] < 0.0) else yi[i]
            # }events
            if n_acc > 0:  # Gustafsson's predictive controller
                facg = (h_acc / h) * (err * err / err_acc) ** expo / SAFETY
                fac = max(fac, max(1.0 / 6.0, min(5.0, facg)))
                h_new = h / fac
            h_acc = h
            err_acc = max(1e-2, err)
            if rejected:
                h_new = min(h_new, h)
            for i in range(n):
                y[i] = yn[i]
            t = t_new
            rhs(t, y, p, u, f0)
            stats[ST_RHS] += 1
            need_jac = True
            rejected = False
            n_acc += 1
            h = h_new
            if not last:
                h_next = h_new
            # events{
            if hit:
                return EVENT_FOUND, t, h_new, j
            # }events
        else:
            stats[ST_REJECTED] += 1
            h = h * 0.1 if n_acc == 0 else h_new
            rejected = True
    return SUCCESS, t, h_next, j
