"""Rodas4: a stiffly accurate L-stable Rosenbrock method of order 4(3) with exact Jacobian.

Kernel template (see ``common.py``). Coefficients and the continuous extension
of order 3 are those of RODAS in Hairer & Wanner (1996), *Solving Ordinary
Differential Equations II*, 2nd ed., sec. VI.4 (doi:10.1007/978-3-642-05221-7),
in the W-transformed form used by the Fortran code RODAS. The step control is
``rosenbrock.py``'s.

Each stage solves ``(I/(gamma h) - J) k_i = f(t + c_i h, y + sum a_ij k_j)
+ sum (C_ij / h) k_j + h d_i df/dt``; ``y1 = y + a5. k + k5 + k6`` and ``k6`` is
the embedded error estimate.
"""

import numpy as np

RODAS4_GAMMA = 0.25
RODAS4_ORDER = 4
RODAS4_STAGE_RHS = 5
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
# The same tableau as arrays, for the loop form of the stages (``common.stages_loop``):
# stage s evaluates f at t + TCC[s] h and y + TA[s] . k, adds h TD[s] df/dt and
# TC[s] . k / h; row 6 of TA gives the solution. Stages 5 and 6 restart from stage 5's
# point plus the previous increment, which is what the unit entries say.
RODAS4_TA = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [RA21, 0.0, 0.0, 0.0, 0.0, 0.0],
    [RA31, RA32, 0.0, 0.0, 0.0, 0.0],
    [RA41, RA42, RA43, 0.0, 0.0, 0.0],
    [RA51, RA52, RA53, RA54, 0.0, 0.0],
    [RA51, RA52, RA53, RA54, 1.0, 0.0],
    [RA51, RA52, RA53, RA54, 1.0, 1.0]])
RODAS4_TC = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [RC21, 0.0, 0.0, 0.0, 0.0, 0.0],
    [RC31, RC32, 0.0, 0.0, 0.0, 0.0],
    [RC41, RC42, RC43, 0.0, 0.0, 0.0],
    [RC51, RC52, RC53, RC54, 0.0, 0.0],
    [RC61, RC62, RC63, RC64, RC65, 0.0]])
RODAS4_TCC = np.array([0.0, RCC2, RCC3, RCC4, 1.0, 1.0])
RODAS4_TD = np.array([RD1, RD2, RD3, RD4, 0.0, 0.0])


def rodas4_stages(t, h, y, p, u, rtol, atol, ws, w):
    n = y.shape[0]
    f0 = ws[0]
    ft = ws[1]
    yn = ws[2]
    b = ws[3]
    du = ws[4]
    sc = ws[5]
    k1 = ws[7]
    k2 = ws[8]
    k3 = ws[9]
    k4 = ws[10]
    k5 = ws[11]
    k6 = ws[12]
    ih = 1.0 / h
    for i in range(n):
        b[i] = f0[i] + h * RD1 * ft[i]
    lu_solve_sparse(w, b, k1)
    for i in range(n):
        yn[i] = y[i] + RA21 * k1[i]
    rhs(t + RCC2 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * RD2 * ft[i] + ih * RC21 * k1[i]
    lu_solve_sparse(w, b, k2)
    for i in range(n):
        yn[i] = y[i] + RA31 * k1[i] + RA32 * k2[i]
    rhs(t + RCC3 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * RD3 * ft[i] + ih * (RC31 * k1[i] + RC32 * k2[i])
    lu_solve_sparse(w, b, k3)
    for i in range(n):
        yn[i] = y[i] + RA41 * k1[i] + RA42 * k2[i] + RA43 * k3[i]
    rhs(t + RCC4 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * RD4 * ft[i] + ih * (RC41 * k1[i] + RC42 * k2[i] + RC43 * k3[i])
    lu_solve_sparse(w, b, k4)
    for i in range(n):
        yn[i] = y[i] + RA51 * k1[i] + RA52 * k2[i] + RA53 * k3[i] + RA54 * k4[i]
    rhs(t + h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + ih * (RC51 * k1[i] + RC52 * k2[i] + RC53 * k3[i] + RC54 * k4[i])
    lu_solve_sparse(w, b, k5)
    for i in range(n):
        yn[i] += k5[i]
    rhs(t + h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + ih * (RC61 * k1[i] + RC62 * k2[i] + RC63 * k3[i] + RC64 * k4[i]
                             + RC65 * k5[i])
    lu_solve_sparse(w, b, k6)
    for i in range(n):
        yn[i] += k6[i]
    error_scale(y, yn, rtol, atol, sc)
    return rms_norm(k6, sc)


def rodas4_dense(y, ws):
    """Coefficients of the order-3 continuous extension, into the k5, k6 rows."""
    k1 = ws[7]
    k2 = ws[8]
    k3 = ws[9]
    k4 = ws[10]
    k5 = ws[11]
    k6 = ws[12]
    for i in range(y.shape[0]):
        d1 = RH21 * k1[i] + RH22 * k2[i] + RH23 * k3[i] + RH24 * k4[i] + RH25 * k5[i]
        d2 = RH31 * k1[i] + RH32 * k2[i] + RH33 * k3[i] + RH34 * k4[i] + RH35 * k5[i]
        k5[i] = d1
        k6[i] = d2


def rodas4_interpolate(th, y, ws, yi):
    yn = ws[2]
    d1 = ws[11]
    d2 = ws[12]
    th1 = 1.0 - th
    for i in range(y.shape[0]):
        yi[i] = th1 * y[i] + th * (yn[i] + th1 * (d1[i] + th * d2[i]))
