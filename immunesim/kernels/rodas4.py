"""Rodas4: a stiffly accurate L-stable Rosenbrock method of order 4(3) with exact Jacobian.

Kernel template (see ``common.py``). Coefficients and the continuous extension
of order 3 are those of RODAS in Hairer & Wanner (1996), *Solving Ordinary
Differential Equations II*, 2nd ed., sec. VI.4 (doi:10.1007/978-3-642-05221-7),
in the W-transformed form used by the Fortran code RODAS. Step control is
Gustafsson's predictive controller as in RODAS (factors limited to [1/6, 5]).

Each stage solves ``(I/(gamma h) - J) k_i = f(t + c_i h, y + sum a_ij k_j)
+ sum (C_ij / h) k_j + h d_i df/dt``; ``y1 = y + a5. k + k5 + k6`` and ``k6`` is
the embedded error estimate.
"""

import math

GAMMA = 0.25
RA21 = 1.544
RA31 = 0.9466785280815826
RA32 = 0.2557011698983284
RA41 = 3.314825187068521
RA42 = 2.896124015972201
RA43 = 0.9986419139977817
RA51 = 1.221224509226641
RA52 = 6.019134481288629
RA53 = 12.53708332932087
RA54 = -0.687886036105895
RC21 = -5.6688
RC31 = -2.430093356833875
RC32 = -0.2063599157091915
RC41 = -0.1073529058151375
RC42 = -9.594562251023355
RC43 = -20.47028614809616
RC51 = 7.496443313967647
RC52 = -10.24680431464352
RC53 = -33.99990352819905
RC54 = 11.7089089320616
RC61 = 8.083246795921522
RC62 = -7.981132988064893
RC63 = -31.52159432874371
RC64 = 16.31930543123136
RC65 = -6.058818238834054
RCC2 = 0.386
RCC3 = 0.21
RCC4 = 0.63
RD1 = 0.25
RD2 = -0.1043
RD3 = 0.1035
RD4 = -0.0362
RH21 = 10.12623508344586
RH22 = -7.487995877610167
RH23 = -34.80091861555747
RH24 = -7.992771707568823
RH25 = 1.025137723295662
RH31 = -0.6762803392801253
RH32 = 6.087714651680015
RH33 = 16.43084320892478
RH34 = 24.76722511418386
RH35 = -6.594389125716872


def rodas4_segment(t, t_stop, h, y, p, u, rtol, atol, hmax, max_steps, t_out, j, out, stats,
                   ws, jv, w, A, piv, obs):
    n = y.shape[0]
    f0 = ws[0]
    ft = ws[1]
    k1 = ws[2]
    k2 = ws[3]
    k3 = ws[4]
    k4 = ws[5]
    k5 = ws[6]
    k6 = ws[7]
    yn = ws[8]
    b = ws[9]
    du = ws[10]
    sc = ws[11]
    yi = ws[12]
    n_out = t_out.shape[0]
    for i in range(n):
        ft[i] = 0.0
    rhs(t, y, p, u, f0)
    stats[ST_RHS] += 1
    if h <= 0.0:
        h = initial_step(t, y, p, u, f0, rtol, atol, 3, hmax, t_stop - t, yn, du, sc)
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
        last = False
        if t + 1.0001 * h >= t_stop:
            h = t_stop - t
            last = True
        if h < min_step(t):
            return fail(stats, STEP_UNDERFLOW, t, h, -1), t, h, j
        stats[ST_STEPS] += 1
        if need_jac:
            jac_nz(t, y, p, jv)
            stats[ST_JAC] += 1
            if TIME_DEP:
                dfdt(t, y, p, ft)
            need_jac = False
        mode = factor(jv, 1.0 / (GAMMA * h), w, A, piv, stats)
        if mode == 0:
            stats[ST_REJECTED] += 1
            rejected = True
            h *= 0.25
            if h < min_step(t):
                return fail(stats, SINGULAR, t, h, -1), t, h, j
            continue
        ih = 1.0 / h
        for i in range(n):
            b[i] = f0[i] + h * RD1 * ft[i]
        linsolve(mode, w, A, piv, b, k1)
        for i in range(n):
            yn[i] = y[i] + RA21 * k1[i]
        rhs(t + RCC2 * h, yn, p, u, du)
        for i in range(n):
            b[i] = du[i] + h * RD2 * ft[i] + ih * RC21 * k1[i]
        linsolve(mode, w, A, piv, b, k2)
        for i in range(n):
            yn[i] = y[i] + RA31 * k1[i] + RA32 * k2[i]
        rhs(t + RCC3 * h, yn, p, u, du)
        for i in range(n):
            b[i] = du[i] + h * RD3 * ft[i] + ih * (RC31 * k1[i] + RC32 * k2[i])
        linsolve(mode, w, A, piv, b, k3)
        for i in range(n):
            yn[i] = y[i] + RA41 * k1[i] + RA42 * k2[i] + RA43 * k3[i]
        rhs(t + RCC4 * h, yn, p, u, du)
        for i in range(n):
            b[i] = du[i] + h * RD4 * ft[i] + ih * (RC41 * k1[i] + RC42 * k2[i] + RC43 * k3[i])
        linsolve(mode, w, A, piv, b, k4)
        for i in range(n):
            yn[i] = y[i] + RA51 * k1[i] + RA52 * k2[i] + RA53 * k3[i] + RA54 * k4[i]
        rhs(t + h, yn, p, u, du)
        for i in range(n):
            b[i] = du[i] + ih * (RC51 * k1[i] + RC52 * k2[i] + RC53 * k3[i] + RC54 * k4[i])
        linsolve(mode, w, A, piv, b, k5)
        for i in range(n):
            yn[i] += k5[i]
        rhs(t + h, yn, p, u, du)
        for i in range(n):
            b[i] = du[i] + ih * (RC61 * k1[i] + RC62 * k2[i] + RC63 * k3[i] + RC64 * k4[i]
                                 + RC65 * k5[i])
        linsolve(mode, w, A, piv, b, k6)
        for i in range(n):
            yn[i] += k6[i]
        stats[ST_RHS] += 5
        error_scale(y, yn, rtol, atol, sc)
        err = rms_norm(k6, sc)
        bad = first_bad(yn, sc)
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
        fac = max(1.0 / 6.0, min(5.0, err ** 0.25 / SAFETY))
        h_new = h / fac
        if err <= 1.0:
            stats[ST_ACCEPTED] += 1
            clip_run, driven = clip_after_accept(yn, stats, clip_run)
            if driven >= 0:
                return fail(stats, NEGATIVE_STATE, t, h, driven), t, h, j
            t_new = t_stop if last else t + h
            if j < n_out and t_out[j] < t_stop and t_out[j] <= t_new:
                for i in range(n):  # continuous extension of order 3 (reuses k5, k6 storage)
                    d1 = (RH21 * k1[i] + RH22 * k2[i] + RH23 * k3[i] + RH24 * k4[i]
                          + RH25 * k5[i])
                    d2 = (RH31 * k1[i] + RH32 * k2[i] + RH33 * k3[i] + RH34 * k4[i]
                          + RH35 * k5[i])
                    k5[i] = d1
                    k6[i] = d2
                while j < n_out and t_out[j] < t_stop and t_out[j] <= t_new:
                    th = (t_out[j] - t) / h
                    th1 = 1.0 - th
                    for i in range(n):
                        v = th1 * y[i] + th * (yn[i] + th1 * (k5[i] + th * k6[i]))
                        yi[i] = 0.0 if (NONNEG[i] and v < 0.0) else v
                    record(t_out[j], yi, p, obs, out, j)
                    j += 1
            if n_acc > 0:  # Gustafsson's predictive controller
                facg = (h_acc / h) * (err * err / err_acc) ** 0.25 / SAFETY
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
        else:
            stats[ST_REJECTED] += 1
            h = h * 0.1 if n_acc == 0 else h_new
            rejected = True
    return SUCCESS, t, h_next, j
