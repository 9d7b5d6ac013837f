"""Dormand-Prince 5(4): explicit adaptive Runge-Kutta with FSAL and a 4th-order dense output.

Kernel template (see ``common.py``). Coefficients: Dormand & Prince (1980),
J. Comput. Appl. Math. 6:19 (doi:10.1016/0771-050X(80)90013-3); dense output
from Shampine (1986), Math. Comp. 46:135 (doi:10.2307/2008219), the same as
SciPy's ``RK45``. For non-stiff models; stiff ones should use Rodas4.
"""

import math

import numpy as np

DC2 = 1.0 / 5.0
DC3 = 3.0 / 10.0
DC4 = 4.0 / 5.0
DC5 = 8.0 / 9.0
DA21 = 1.0 / 5.0
DA31 = 3.0 / 40.0
DA32 = 9.0 / 40.0
DA41 = 44.0 / 45.0
DA42 = -56.0 / 15.0
DA43 = 32.0 / 9.0
DA51 = 19372.0 / 6561.0
DA52 = -25360.0 / 2187.0
DA53 = 64448.0 / 6561.0
DA54 = -212.0 / 729.0
DA61 = 9017.0 / 3168.0
DA62 = -355.0 / 33.0
DA63 = 46732.0 / 5247.0
DA64 = 49.0 / 176.0
DA65 = -5103.0 / 18656.0
DB1 = 35.0 / 384.0
DB3 = 500.0 / 1113.0
DB4 = 125.0 / 192.0
DB5 = -2187.0 / 6784.0
DB6 = 11.0 / 84.0
DE1 = -71.0 / 57600.0
DE3 = 71.0 / 16695.0
DE4 = -71.0 / 1920.0
DE5 = 17253.0 / 339200.0
DE6 = -22.0 / 525.0
DE7 = 1.0 / 40.0
DP = np.array([
    [1.0, -8048581381.0 / 2820520608.0, 8663915743.0 / 2820520608.0,
     -12715105075.0 / 11282082432.0],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 131558114200.0 / 32700410799.0, -68118460800.0 / 10900136933.0,
     87487479700.0 / 32700410799.0],
    [0.0, -1754552775.0 / 470086768.0, 14199869525.0 / 1410260304.0,
     -10690763975.0 / 1880347072.0],
    [0.0, 127303824393.0 / 49829197408.0, -318862633887.0 / 49829197408.0,
     701980252875.0 / 199316789632.0],
    [0.0, -282668133.0 / 205662961.0, 2019193451.0 / 616988883.0,
     -1453857185.0 / 822651844.0],
    [0.0, 40617522.0 / 29380423.0, -110615467.0 / 29380423.0, 69997945.0 / 29380423.0]])


def dopri5_interpolate(th, h, y, K, p, yi):
    """The continuous extension at ``t + th h`` (non-negative species clipped at 0)."""
    for i in range(y.shape[0]):
        v = 0.0
        for s in range(7):
            v += K[s, i] * th * (DP[s, 0] + th * (DP[s, 1] + th * (DP[s, 2] + th * DP[s, 3])))
        v = y[i] + h * v
        yi[i] = 0.0 if (nonneg(p, i) and v < 0.0) else v


def dopri5_segment(t, t_stop, h, y, p, u, rtol, atol, hmax, max_steps, t_out, j, out, stats,
                   ws, jv, w, A, piv, obs, evv, watch):
    n = y.shape[0]
    K = ws[0:7]
    k1 = ws[0]
    k2 = ws[1]
    k3 = ws[2]
    k4 = ws[3]
    k5 = ws[4]
    k6 = ws[5]
    k7 = ws[6]
    yn = ws[8]
    ev = ws[9]
    sc = ws[11]
    yi = ws[12]
    n_out = t_out.shape[0]
    rhs(t, y, p, u, k1)
    stats[ST_RHS] += 1
    if h <= 0.0:
        h = initial_step(t, y, p, u, k1, rtol, atol, 4, hmax, t_stop - t, yn, k2, sc)
        stats[ST_RHS] += 1
    rejected = False
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
        for i in range(n):
            yn[i] = y[i] + h * DA21 * k1[i]
        rhs(t + DC2 * h, yn, p, u, k2)
        for i in range(n):
            yn[i] = y[i] + h * (DA31 * k1[i] + DA32 * k2[i])
        rhs(t + DC3 * h, yn, p, u, k3)
        for i in range(n):
            yn[i] = y[i] + h * (DA41 * k1[i] + DA42 * k2[i] + DA43 * k3[i])
        rhs(t + DC4 * h, yn, p, u, k4)
        for i in range(n):
            yn[i] = y[i] + h * (DA51 * k1[i] + DA52 * k2[i] + DA53 * k3[i] + DA54 * k4[i])
        rhs(t + DC5 * h, yn, p, u, k5)
        for i in range(n):
            yn[i] = y[i] + h * (DA61 * k1[i] + DA62 * k2[i] + DA63 * k3[i] + DA64 * k4[i]
                                + DA65 * k5[i])
        rhs(t + h, yn, p, u, k6)
        for i in range(n):
            yn[i] = y[i] + h * (DB1 * k1[i] + DB3 * k3[i] + DB4 * k4[i] + DB5 * k5[i]
                                + DB6 * k6[i])
        rhs(t + h, yn, p, u, k7)
        stats[ST_RHS] += 6
        for i in range(n):
            ev[i] = h * (DE1 * k1[i] + DE3 * k3[i] + DE4 * k4[i] + DE5 * k5[i] + DE6 * k6[i]
                         + DE7 * k7[i])
        error_scale(y, yn, rtol, atol, sc)
        err = rms_norm(ev, sc)
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
        if err <= 1.0:
            stats[ST_ACCEPTED] += 1
            t_new = t_stop if last else t + h
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
                        th = (t_out[jj] - t) / h
                        dopri5_interpolate(th, h, y, K, p, yi)
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
                for _ in range(200):
                    mid = 0.5 * (lo + th_hit)
                    if t + mid * h <= t + lo * h or t + mid * h >= t + th_hit * h:
                        break
                    dopri5_interpolate(mid, h, y, K, p, yi)
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
            while j < n_out and t_out[j] < t_stop and (t_out[j] < t_new or (not hit and t_out[j] == t_new)):
                dopri5_interpolate((t_out[j] - t) / h, h, y, K, p, yi)
                record(t_out[j], yi, p, obs, out, j)
                j += 1
            # events{
            if hit and th_hit < 1.0:     # the state where the trigger changed
                dopri5_interpolate(th_hit, h, y, K, p, yi)
                for i in range(n):
                    yn[i] = yi[i]
            # }events
            fac = 10.0 if err == 0.0 else min(10.0, SAFETY * err ** -0.2)
            if rejected:
                fac = min(1.0, fac)
            clip_run, driven = clip_after_accept(yn, stats, clip_run, p)
            if driven >= 0:
                return fail(stats, NEGATIVE_STATE, t, h, driven), t, h, j
            for i in range(n):
                y[i] = yn[i]
                k1[i] = k7[i]
            # events{
            if hit:
                return EVENT_FOUND, t_new, h * fac, j
            # }events
            if clip_run > 0:  # the FSAL stage was taken at the unclipped state
                rhs(t_new, y, p, u, k1)
                stats[ST_RHS] += 1
            t = t_new
            h = h * fac
            if not last:
                h_next = h
            rejected = False
        else:
            stats[ST_REJECTED] += 1
            rejected = True
            h = h * max(0.2, SAFETY * err ** -0.2)
    return SUCCESS, t, h_next, j
