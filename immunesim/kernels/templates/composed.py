"""The model interface of a composed kernel module: a compiled base and a driver on the tape.

Kernel template (see ``common.py``), for :func:`immunesim.codegen.generate.generate_composed_source`.
The module holds the base's generated functions as ``d_*`` with its constants as ``D_*``
(``D_N`` species, ``NPB`` parameters), ``d_dfdi`` (the derivatives of the base's right-hand side
by its inputs, pattern ``DI_ROW``/``DI_COL``), and the tape interpreter's functions as ``k_*``.
The state is ``(y_d, y_k)``: the base's ``D_N`` species, then the driver's. The parameter vector
is laid out by :meth:`immunesim.codegen.compose.Composition.pack`: the base's parameters, a
header at ``NPB`` (fields ``C_*``), integer arrays and scratch, then the driver's slice (its
parameters and packed tape) from ``C_K0``. The driver's state in the tape's terms is
``(y_k, inputs)``: one species per driven input, whose right-hand side is the input's value.

Jacobian values ``jv``: the base's (``D_NNZ_J``), the driver's own rows, then ``C = dF/dH
dH/dy_k`` (sparse, built from the products listed in ``C_TQ``/``C_TE``/``C_TM``). The iteration
matrix ``w``: the base's LU storage, the driver's own species' (at ``C_OWK``: an LU program of
their block, ``C_LUK``, without the input species), then ``C`` (at ``C_OWC``).
``W = [[W_d, -C], [0, W_k]]`` is solved block by block: ``x_k = W_k^-1 b_k``, then
``x_d = W_d^-1 (b_d + C x_k)``.
"""

import numpy as np


def cp_head(p, k):
    return int(p[NPB + k])


def cp_ints(p, k, count):
    o = int(p[NPB + k])
    return p[o:o + count].view(np.int64)


def cp_floats(p, k, count):
    o = int(p[NPB + k])
    return p[o:o + count]


def cp_driver(p):
    return p[int(p[NPB + C_K0]):]


def cp_state(p):
    """The driver's state in the tape's terms: its species, then its input species."""
    return cp_floats(p, C_YE, cp_head(p, C_NK) + cp_head(p, C_NF))


def cp_inputs(t, y, p, u, with_u):
    """The driver's right-hand side at ``y``'s driver part (into the ``C_DYE`` scratch), and
    the base's inputs set in ``p`` from it; ``with_u``: the driver's inputs ``u`` too (the
    inputs' values do not depend on them)."""
    nk = cp_head(p, C_NK)
    nf = cp_head(p, C_NF)
    m = nk + nf
    ye = cp_state(p)
    ue = cp_floats(p, C_UE, m)
    dye = cp_floats(p, C_DYE, m)
    for i in range(nk):
        ye[i] = y[D_N + i]
    if with_u:
        for i in range(nk):
            ue[i] = u[D_N + i]
    k_rhs(t, ye, cp_driver(p), ue, dye)
    inp = cp_ints(p, C_INP, nf)
    for f in range(nf):
        p[inp[f]] = dye[nk + f]
    return dye


def rhs(t, y, p, u, dy):
    dye = cp_inputs(t, y, p, u, True)
    for i in range(cp_head(p, C_NK)):
        dy[D_N + i] = dye[i]
    d_rhs(t, y, p, u, dy)


def jac_nz(t, y, p, jv):
    cp_inputs(t, y, p, y, False)
    d_jac_nz(t, y, p, jv)
    nkr = cp_head(p, C_NKR)
    jvk = cp_floats(p, C_JVK, cp_head(p, C_NNZK))
    k_jac_nz(t, cp_state(p), cp_driver(p), jvk)
    kr = cp_ints(p, C_KR, nkr)
    for q in range(nkr):
        jv[D_NNZ_J + q] = jvk[kr[q]]
    dfdi = cp_floats(p, C_DFDI, DI_N)
    d_dfdi(t, y, p, dfdi)
    c0 = D_NNZ_J + nkr
    for q in range(cp_head(p, C_NC)):
        jv[c0 + q] = 0.0
    nt = cp_head(p, C_NT)
    tq = cp_ints(p, C_TQ, nt)
    te = cp_ints(p, C_TE, nt)
    tm = cp_ints(p, C_TM, nt)
    for r in range(nt):
        jv[c0 + tq[r]] += dfdi[te[r]] * jvk[tm[r]]


def dfdt(t, y, p, ft):
    # a composed model reads no time (codegen.compose.split)
    for i in range(ft.shape[0]):
        ft[i] = 0.0


def observe(t, y, p, row):
    cp_inputs(t, y, p, y, False)
    d_observe(t, y, p, row)
    nobs = cp_head(p, C_NOBSK)
    obs = cp_floats(p, C_OBSK, nobs)
    k_observe(t, cp_state(p), cp_driver(p), obs)
    for q in range(nobs):
        row[D_N_OBS + q] = obs[q]


def event_values(t, y, p, ev):
    return


def w_assemble(jv, inv_gh, w, p):
    d_w_assemble(jv, inv_gh, w, p)
    owk = cp_head(p, C_OWK)
    nkr = cp_head(p, C_NKR)
    lu_assemble(cp_ints(p, C_LUK, cp_head(p, C_NLUK)), jv[D_NNZ_J:D_NNZ_J + nkr], inv_gh,
                w[owk:owk + cp_head(p, C_NWK)])
    owc = cp_head(p, C_OWC)
    c0 = D_NNZ_J + nkr
    for q in range(cp_head(p, C_NC)):
        w[owc + q] = jv[c0 + q]


def lu_factor_sparse(w, p):
    ok = d_lu_factor_sparse(w, p)
    owk = cp_head(p, C_OWK)
    return lu_factor(cp_ints(p, C_LUK, cp_head(p, C_NLUK)), w[owk:owk + cp_head(p, C_NWK)]) and ok


def lu_solve_sparse(w, b, x, p):
    owk = cp_head(p, C_OWK)
    lu_solve(cp_ints(p, C_LUK, cp_head(p, C_NLUK)), w[owk:owk + cp_head(p, C_NWK)], b[D_N:],
             x[D_N:])
    bd = cp_floats(p, C_BD, D_N)
    for i in range(D_N):
        bd[i] = b[i]
    nc = cp_head(p, C_NC)
    crow = cp_ints(p, C_CROW, nc)
    ccol = cp_ints(p, C_CCOL, nc)
    owc = cp_head(p, C_OWC)
    for q in range(nc):
        bd[crow[q]] += w[owc + q] * x[D_N + ccol[q]]
    d_lu_solve_sparse(w, bd, x, p)


def nonneg(p, i):
    if i < D_N:
        return D_NONNEG[i]
    return k_nonneg(cp_driver(p), i - D_N)


def jac_rows(p):
    return cp_ints(p, C_JROW, cp_head(p, C_NJ))


def jac_cols(p):
    return cp_ints(p, C_JCOL, cp_head(p, C_NJ))


def n_jac(p):
    return cp_head(p, C_NJ)


def n_observed(p):
    return D_N_OBS + cp_head(p, C_NOBSK)


def time_dependent(p):
    return False


def use_sparse(p):
    return D_USE_SPARSE and cp_head(p, C_NWK) > 0


def nnz_w(p):
    return cp_head(p, C_OWC) + cp_head(p, C_NC)


def params_changed(p):
    k_params_changed(cp_driver(p))


def n_events(p):
    return 0


def n_event_values(p):
    return 0


def event_table(p):
    return D_EV_TAB
