"""Rodas5P: a stiffly accurate L-stable Rosenbrock method of order 5(4) with exact Jacobian.

Kernel template (see ``common.py``). Coefficients and the continuous extension of
order 4 are Steinebach's (2023), *Construction of Rosenbrock-Wanner method Rodas5P and
numerical benchmarks within the Julia Differential Equations package*, BIT Numer. Math.
63:27 (doi:10.1007/s10543-023-00967-x), in the W-transformed form of Rodas4 and as
tabulated in OrdinaryDiffEq.jl. Eight stages (seven new right-hand sides) per step
against Rodas4's six, bought back by fewer steps at the tolerances cohort runs need
(``benchmarks/ode_cohort.py``); the step control is ``rosenbrock.py``'s.

Each stage solves ``(I/(gamma h) - J) k_i = f(t + c_i h, y + sum a_ij k_j)
+ sum (C_ij / h) k_j + h d_i df/dt``; ``y1 = y + a6. k + k6 + k7 + k8`` and ``k8`` is
the embedded error estimate.
"""

import numpy as np

RODAS5P_GAMMA = 0.21193756319429014
RODAS5P_ORDER = 5
RODAS5P_STAGE_RHS = 7
PA21 = 3.0
PA31 = 2.849394379747939
PA32 = 0.45842242204463923
PA41 = -6.954028509809101
PA42 = 2.489845061869568
PA43 = -10.358996098473584
PA51 = 2.8029986275628964
PA52 = 0.5072464736228206
PA53 = -0.3988312541770524
PA54 = -0.04721187230404641
PA61 = -7.502846399306121
PA62 = 2.561846144803919
PA63 = -11.627539656261098
PA64 = -0.18268767659942256
PA65 = 0.030198172008377946
PC21 = -14.155112264123755
PC31 = -17.97296035885952
PC32 = -2.859693295451294
PC41 = 147.12150275711716
PC42 = -1.41221402718213
PC43 = 71.68940251302358
PC51 = 165.43517024871676
PC52 = -0.4592823456491126
PC53 = 42.90938336958603
PC54 = -5.961986721573306
PC61 = 24.854864614690072
PC62 = -3.0009227002832186
PC63 = 47.4931110020768
PC64 = 5.5814197821558125
PC65 = -0.6610691825249471
PC71 = 30.91273214028599
PC72 = -3.1208243349937974
PC73 = 77.79954646070892
PC74 = 34.28646028294783
PC75 = -19.097331116725623
PC76 = -28.087943162872662
PC81 = 37.80277123390563
PC82 = -3.2571969029072276
PC83 = 112.26918849496327
PC84 = 66.9347231244047
PC85 = -40.06618937091002
PC86 = -54.66780262877968
PC87 = -9.48861652309627
PCC2 = 0.6358126895828704
PCC3 = 0.4095798393397535
PCC4 = 0.9769306725060716
PCC5 = 0.4288403609558664
PD1 = 0.21193756319429014
PD2 = -0.42387512638858027
PD3 = -0.3384627126235924
PD4 = 1.8046452872882734
PD5 = 2.325825639765069
PH21 = 25.948786856663858
PH22 = -2.5579724845846235
PH23 = 10.433815404888879
PH24 = -2.3679251022685204
PH25 = 0.524948541321073
PH26 = 1.1241088310450404
PH27 = 0.4272876194431874
PH28 = -0.17202221070155493
PH31 = -9.91568850695171
PH32 = -0.9689944594115154
PH33 = 3.0438037242978453
PH34 = -24.495224566215796
PH35 = 20.176138334709044
PH36 = 15.98066361424651
PH37 = -6.789040303419874
PH38 = -6.710236069923372
PH41 = 11.419903575922262
PH42 = 2.8879645146136994
PH43 = 72.92137995996029
PH44 = 80.12511834622643
PH45 = -52.072871366152654
PH46 = -59.78993625266729
PH47 = -0.15582684282751913
PH48 = 4.883087185713722
# The same tableau as arrays, for the loop form of the stages (``common.stages_loop``; see
# ``rodas4.py``): stages 6 to 8 restart from stage 6's point plus the previous increments.
RODAS5P_TA = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PA21, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PA31, PA32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PA41, PA42, PA43, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PA51, PA52, PA53, PA54, 0.0, 0.0, 0.0, 0.0],
    [PA61, PA62, PA63, PA64, PA65, 0.0, 0.0, 0.0],
    [PA61, PA62, PA63, PA64, PA65, 1.0, 0.0, 0.0],
    [PA61, PA62, PA63, PA64, PA65, 1.0, 1.0, 0.0],
    [PA61, PA62, PA63, PA64, PA65, 1.0, 1.0, 1.0]])
RODAS5P_TC = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PC21, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PC31, PC32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PC41, PC42, PC43, 0.0, 0.0, 0.0, 0.0, 0.0],
    [PC51, PC52, PC53, PC54, 0.0, 0.0, 0.0, 0.0],
    [PC61, PC62, PC63, PC64, PC65, 0.0, 0.0, 0.0],
    [PC71, PC72, PC73, PC74, PC75, PC76, 0.0, 0.0],
    [PC81, PC82, PC83, PC84, PC85, PC86, PC87, 0.0]])
RODAS5P_TCC = np.array([0.0, PCC2, PCC3, PCC4, PCC5, 1.0, 1.0, 1.0])
RODAS5P_TD = np.array([PD1, PD2, PD3, PD4, PD5, 0.0, 0.0, 0.0])


def rodas5p_stages(t, h, y, p, u, rtol, atol, ws, w):
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
    k7 = ws[13]
    k8 = ws[14]
    ih = 1.0 / h
    for i in range(n):
        b[i] = f0[i] + h * PD1 * ft[i]
    lu_solve_sparse(w, b, k1)
    for i in range(n):
        yn[i] = y[i] + PA21 * k1[i]
    rhs(t + PCC2 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * PD2 * ft[i] + ih * PC21 * k1[i]
    lu_solve_sparse(w, b, k2)
    for i in range(n):
        yn[i] = y[i] + PA31 * k1[i] + PA32 * k2[i]
    rhs(t + PCC3 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * PD3 * ft[i] + ih * (PC31 * k1[i] + PC32 * k2[i])
    lu_solve_sparse(w, b, k3)
    for i in range(n):
        yn[i] = y[i] + PA41 * k1[i] + PA42 * k2[i] + PA43 * k3[i]
    rhs(t + PCC4 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * PD4 * ft[i] + ih * (PC41 * k1[i] + PC42 * k2[i] + PC43 * k3[i])
    lu_solve_sparse(w, b, k4)
    for i in range(n):
        yn[i] = y[i] + PA51 * k1[i] + PA52 * k2[i] + PA53 * k3[i] + PA54 * k4[i]
    rhs(t + PCC5 * h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + h * PD5 * ft[i] + ih * (PC51 * k1[i] + PC52 * k2[i] + PC53 * k3[i]
                                               + PC54 * k4[i])
    lu_solve_sparse(w, b, k5)
    for i in range(n):
        yn[i] = (y[i] + PA61 * k1[i] + PA62 * k2[i] + PA63 * k3[i] + PA64 * k4[i]
                 + PA65 * k5[i])
    rhs(t + h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + ih * (PC61 * k1[i] + PC62 * k2[i] + PC63 * k3[i] + PC64 * k4[i]
                             + PC65 * k5[i])
    lu_solve_sparse(w, b, k6)
    for i in range(n):
        yn[i] += k6[i]
    rhs(t + h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + ih * (PC71 * k1[i] + PC72 * k2[i] + PC73 * k3[i] + PC74 * k4[i]
                             + PC75 * k5[i] + PC76 * k6[i])
    lu_solve_sparse(w, b, k7)
    for i in range(n):
        yn[i] += k7[i]
    rhs(t + h, yn, p, u, du)
    for i in range(n):
        b[i] = du[i] + ih * (PC81 * k1[i] + PC82 * k2[i] + PC83 * k3[i] + PC84 * k4[i]
                             + PC85 * k5[i] + PC86 * k6[i] + PC87 * k7[i])
    lu_solve_sparse(w, b, k8)
    for i in range(n):
        yn[i] += k8[i]
    error_scale(y, yn, rtol, atol, sc)
    return rms_norm(k8, sc)


def rodas5p_dense(y, ws):
    """Coefficients of the order-4 continuous extension, into the k6, k7, k8 rows."""
    k1 = ws[7]
    k2 = ws[8]
    k3 = ws[9]
    k4 = ws[10]
    k5 = ws[11]
    k6 = ws[12]
    k7 = ws[13]
    k8 = ws[14]
    for i in range(y.shape[0]):
        d1 = (PH21 * k1[i] + PH22 * k2[i] + PH23 * k3[i] + PH24 * k4[i] + PH25 * k5[i]
              + PH26 * k6[i] + PH27 * k7[i] + PH28 * k8[i])
        d2 = (PH31 * k1[i] + PH32 * k2[i] + PH33 * k3[i] + PH34 * k4[i] + PH35 * k5[i]
              + PH36 * k6[i] + PH37 * k7[i] + PH38 * k8[i])
        d3 = (PH41 * k1[i] + PH42 * k2[i] + PH43 * k3[i] + PH44 * k4[i] + PH45 * k5[i]
              + PH46 * k6[i] + PH47 * k7[i] + PH48 * k8[i])
        k6[i] = d1
        k7[i] = d2
        k8[i] = d3


def rodas5p_interpolate(th, y, ws, yi):
    yn = ws[2]
    d1 = ws[12]
    d2 = ws[13]
    d3 = ws[14]
    th1 = 1.0 - th
    for i in range(y.shape[0]):
        yi[i] = th1 * y[i] + th * (yn[i] + th1 * (d1[i] + th * (d2[i] + th * d3[i])))
