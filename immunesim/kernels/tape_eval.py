"""A model as an instruction tape, evaluated by one compiled interpreter (the first tier of the
engine: no code is generated or compiled per model).

:mod:`immunesim.codegen.tape` compiles a model's rules and rates into a tape of instructions
over registers; these functions evaluate it. Each instruction is a row of ``code``:
``(op, dst, a, b, c)``: register ``dst`` receives ``op`` of registers ``a``, ``b``, ``c`` (or of
the state, parameter or constant with index ``a`` for the loads). Instructions are in
dependency order, so one pass evaluates everything.

:func:`evaluate` computes values; :func:`evaluate_tangents` also propagates tangents
(forward-mode differentiation): with the tangent of ``y`` set to a seed, every register's
tangent is its derivative along the seed, exact up to rounding. Several columns of the
Jacobian whose rows do not overlap share one seed (a colouring), and every seed's tangent is
carried in the same pass, so the Jacobian costs one pass over the tape. ``min``/``max`` pick the first smallest/largest argument and
differentiate through it, ``abs`` has derivative 1 where ``x >= 0`` and -1 below, comparisons and
logic have derivative 0, and ``select`` follows the branch it takes: the conventions of the
symbolic Jacobian (:mod:`immunesim.model.functions`).
"""

import math

import numpy as np
from numba import njit

from .layout import (FN_ACOS, FN_ACOSH, FN_ASIN, FN_ASINH, FN_ATAN, FN_ATANH, FN_CEIL, FN_COS,
                     FN_COSH, FN_FLOOR, FN_SIN, FN_SINH, FN_TAN, FN_TANH, HEADER,
                     H_CODE, H_CONSTS, H_DCOL, H_DPTR, H_EVREG, H_EVTAB, H_JCOL, H_JCOLOR,
                     H_JROW, H_LU, H_N, H_NCOLORS, H_NCONSTS, H_NDCOL, H_NEV, H_NEVTAB, H_NEVV,
                     H_NINSTR, H_NLU, H_NNZ, H_NONNEG, H_NPRE, H_NREG, H_NRULES, H_NTCOL, H_OBS,
                     H_PFLAG, H_REG, H_RHS, H_SEEDS, H_TAN, H_TAN1, H_TCOL, H_TDEP, H_TPTR,
                     H_YDOT, OP_ABS, OP_ADD, OP_AND, OP_CONST, OP_DIV, OP_EQ, OP_EXP, OP_FN,
                     OP_GE, OP_GT, OP_LE, OP_LOG, OP_LT, OP_MAX, OP_MIN, OP_MUL, OP_NE, OP_NEG,
                     OP_OR, OP_P, OP_POW, OP_POWI, OP_SELECT, OP_SQRT, OP_SUB, OP_T,
                     OP_Y, P_NNZW)
from .lu_program import lu_assemble, lu_factor, lu_solve


@njit(cache=True, error_model="numpy")
def evaluate(code, consts, t, y, p, reg):
    """Every register's value at ``(t, y, p)``."""
    for k in range(code.shape[0]):
        op = code[k, 0]
        d = code[k, 1]
        a = code[k, 2]
        b = code[k, 3]
        if op == OP_MUL:
            reg[d] = reg[a] * reg[b]
        elif op == OP_ADD:
            reg[d] = reg[a] + reg[b]
        elif op == OP_Y:
            reg[d] = y[a]
        elif op == OP_P:
            reg[d] = p[a]
        elif op == OP_CONST:
            reg[d] = consts[a]
        elif op == OP_SUB:
            reg[d] = reg[a] - reg[b]
        elif op == OP_DIV:
            reg[d] = reg[a] / reg[b]
        elif op == OP_NEG:
            reg[d] = -reg[a]
        elif op == OP_T:
            reg[d] = t
        elif op == OP_POWI:
            reg[d] = _powi(reg[a], b)
        elif op == OP_POW:
            reg[d] = reg[a] ** reg[b]
        elif op == OP_EXP:
            reg[d] = math.exp(reg[a])
        elif op == OP_LOG:
            x = reg[a]
            reg[d] = math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)
        elif op == OP_SQRT:
            x = reg[a]
            reg[d] = math.sqrt(x) if x >= 0.0 else math.nan
        elif op == OP_ABS:
            reg[d] = abs(reg[a])
        elif op == OP_MIN:
            reg[d] = reg[b] if reg[b] < reg[a] else reg[a]
        elif op == OP_MAX:
            reg[d] = reg[b] if reg[b] > reg[a] else reg[a]
        elif op == OP_SELECT:
            reg[d] = reg[b] if reg[a] != 0.0 else reg[code[k, 4]]
        elif op == OP_FN:
            reg[d] = _fn(b, reg[a])
        else:
            reg[d] = _logic(op, reg[a], reg[b])


@njit(cache=True, error_model="numpy")
def evaluate_tangents(code, consts, t, y, p, reg, seeds, t_dot, tan, tptr, tcol):
    """Values (``reg``) and ``nc = seeds.shape[0]`` tangents at once: tangent ``c`` along
    ``dy = seeds[c]``, ``dt = t_dot`` (parameters fixed), in ``tan[r * nc + c]``.

    Each instruction's partial derivatives are computed once and applied to every tangent in an
    inner loop, so the Jacobian costs one pass over the tape rather than one per colour: the
    interpreter's dispatch and the values are not repeated (RA + adalimumab, 5 years on the
    generic kernels: 0.151 s with a pass per colour, 15 colours; 0.095 s in one pass). The
    arithmetic of each tangent is forward-mode differentiation of each instruction along its seed.

    Only the tangents that can be nonzero are computed: instruction ``k`` writes the colours
    ``tcol[tptr[k]:tptr[k + 1]]`` (those of the species its register depends on,
    :func:`immunesim.codegen.tape.compile_tape`), and reads its operands' other colours as the
    zeros that ``tan`` must hold where nothing writes (each register is written by one
    instruction). The RA tape's registers depend on 3 of its 15 colours on average: the Jacobian
    pass went from 18.5 to 8.9 µs (timed in a compiled loop), the whole RA + adalimumab run
    from 69 to 60 µs a step, with the same bits."""
    nc = seeds.shape[0]
    for k in range(code.shape[0]):
        op = code[k, 0]
        d = code[k, 1]
        a = code[k, 2]
        b = code[k, 3]
        od = d * nc
        oa = a * nc
        ob = b * nc
        lo = tptr[k]
        hi = tptr[k + 1]
        if op == OP_MUL:
            ra = reg[a]
            rb = reg[b]
            reg[d] = ra * rb
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = tan[oa + c] * rb + ra * tan[ob + c]
        elif op == OP_ADD:
            reg[d] = reg[a] + reg[b]
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = tan[oa + c] + tan[ob + c]
        elif op == OP_Y:
            reg[d] = y[a]
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = seeds[c, a]
        elif op == OP_P or op == OP_CONST:      # no tangent: none is listed
            reg[d] = p[a] if op == OP_P else consts[a]
        elif op == OP_SUB:
            reg[d] = reg[a] - reg[b]
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = tan[oa + c] - tan[ob + c]
        elif op == OP_DIV:
            rb = reg[b]
            q = reg[a] / rb
            reg[d] = q
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = (tan[oa + c] - q * tan[ob + c]) / rb
        elif op == OP_NEG:
            reg[d] = -reg[a]
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = -tan[oa + c]
        elif op == OP_T:
            reg[d] = t
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = t_dot
        elif op == OP_POWI:
            x = reg[a]
            reg[d] = _powi(x, b)
            g = b * _powi(x, b - 1)
            for jj in range(lo, hi):
                c = tcol[jj]
                ta = tan[oa + c]
                tan[od + c] = g * ta if ta != 0.0 else 0.0
        elif op == OP_POW:
            x = reg[a]
            e = reg[b]
            v = x ** e
            reg[d] = v
            for jj in range(lo, hi):
                c = tcol[jj]
                dx = tan[oa + c]
                de = tan[ob + c]
                out = 0.0
                if dx != 0.0:
                    out += e * x ** (e - 1.0) * dx
                if de != 0.0:
                    out += v * math.log(x) * de if x > 0.0 else (0.0 if v == 0.0 else math.nan)
                tan[od + c] = out
        elif op == OP_EXP:
            v = math.exp(reg[a])
            reg[d] = v
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = v * tan[oa + c]
        elif op == OP_LOG:
            x = reg[a]
            reg[d] = math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)
            for jj in range(lo, hi):
                c = tcol[jj]
                ta = tan[oa + c]
                tan[od + c] = ta / x if ta != 0.0 else 0.0
        elif op == OP_SQRT:
            x = reg[a]
            v = math.sqrt(x) if x >= 0.0 else math.nan
            reg[d] = v
            for jj in range(lo, hi):
                c = tcol[jj]
                ta = tan[oa + c]
                tan[od + c] = 0.5 * ta / v if ta != 0.0 else 0.0
        elif op == OP_ABS:
            x = reg[a]
            reg[d] = abs(x)
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = tan[oa + c] if x >= 0.0 else -tan[oa + c]
        elif op == OP_MIN or op == OP_MAX or op == OP_SELECT:
            if op == OP_MIN:
                pick = b if reg[b] < reg[a] else a
            elif op == OP_MAX:
                pick = b if reg[b] > reg[a] else a
            else:
                pick = b if reg[a] != 0.0 else code[k, 4]
            reg[d] = reg[pick]
            op_ = pick * nc
            for jj in range(lo, hi):
                c = tcol[jj]
                tan[od + c] = tan[op_ + c]
        elif op == OP_FN:
            x = reg[a]
            v = _fn(b, x)
            reg[d] = v
            if lo < hi:
                g = _dfn(b, x, v)
                for jj in range(lo, hi):
                    c = tcol[jj]
                    ta = tan[oa + c]
                    tan[od + c] = g * ta if ta != 0.0 else 0.0
        else:                                   # logic: derivative 0, none listed
            reg[d] = _logic(op, reg[a], reg[b])


@njit(cache=True, error_model="numpy")
def _fn(f, x):
    """Elementary function ``f`` (an ``FN_*`` code) of ``x``; NaN outside its domain."""
    if f == FN_SIN:
        return math.sin(x)
    if f == FN_COS:
        return math.cos(x)
    if f == FN_TAN:
        return math.tan(x)
    if f == FN_ASIN:
        return math.asin(x) if -1.0 <= x <= 1.0 else math.nan
    if f == FN_ACOS:
        return math.acos(x) if -1.0 <= x <= 1.0 else math.nan
    if f == FN_ATAN:
        return math.atan(x)
    if f == FN_SINH:
        return math.sinh(x)
    if f == FN_COSH:
        return math.cosh(x)
    if f == FN_TANH:
        return math.tanh(x)
    if f == FN_ASINH:
        return math.asinh(x)
    if f == FN_ACOSH:
        return math.acosh(x) if x >= 1.0 else math.nan
    if f == FN_ATANH:
        return math.atanh(x) if -1.0 < x < 1.0 else (math.copysign(math.inf, x) if abs(x) == 1.0 else math.nan)
    if f == FN_FLOOR:
        return np.floor(x)
    if f == FN_CEIL:
        return np.ceil(x)
    return math.gamma(x + 1.0) if x > -1.0 or x != np.floor(x) else math.nan   # FN_FACTORIAL


@njit(cache=True, error_model="numpy")
def _dfn(f, x, v):
    """Derivative of elementary function ``f`` at ``x``, whose value there is ``v``."""
    if f == FN_SIN:
        return math.cos(x)
    if f == FN_COS:
        return -math.sin(x)
    if f == FN_TAN:
        return 1.0 + v * v
    if f == FN_ASIN:
        return 1.0 / math.sqrt(1.0 - x * x) if -1.0 < x < 1.0 else math.nan
    if f == FN_ACOS:
        return -1.0 / math.sqrt(1.0 - x * x) if -1.0 < x < 1.0 else math.nan
    if f == FN_ATAN:
        return 1.0 / (1.0 + x * x)
    if f == FN_SINH:
        return math.cosh(x)
    if f == FN_COSH:
        return math.sinh(x)
    if f == FN_TANH:
        return 1.0 - v * v
    if f == FN_ASINH:
        return 1.0 / math.sqrt(x * x + 1.0)
    if f == FN_ACOSH:
        return 1.0 / math.sqrt(x * x - 1.0) if x > 1.0 else math.nan
    if f == FN_ATANH:
        return 1.0 / (1.0 - x * x)
    return 0.0                                  # floor, ceil, factorial: constant between jumps


@njit(cache=True, error_model="numpy", inline="always")
def _powi(x, n):
    """``x**n`` for a small integer ``n`` as products (as the generated kernels print it)."""
    if n == 2:
        return x * x
    if n == 3:
        return x * x * x
    if n == 4:
        return x * x * x * x
    if n == -1:
        return 1.0 / x
    if n == -2:
        return 1.0 / (x * x)
    if n == -3:
        return 1.0 / (x * x * x)
    if n == -4:
        return 1.0 / (x * x * x * x)
    if n == 1:
        return x
    if n == 0:
        return 1.0
    return x ** float(n)


@njit(cache=True, error_model="numpy", inline="always")
def _logic(op, x, y):
    if op == OP_LT:
        r = x < y
    elif op == OP_LE:
        r = x <= y
    elif op == OP_GT:
        r = x > y
    elif op == OP_GE:
        r = x >= y
    elif op == OP_EQ:
        r = x == y
    elif op == OP_NE:
        r = x != y
    elif op == OP_AND:
        r = x != 0.0 and y != 0.0
    elif op == OP_OR:
        r = x != 0.0 or y != 0.0
    else:                       # OP_NOT
        r = x == 0.0
    return 1.0 if r else 0.0


@njit(cache=True, error_model="numpy")
def tape_rhs(code, consts, rhs_reg, t, y, p, u, dy, reg):
    """``dy = f(t, y, p) + u``: the model's right-hand side from its tape."""
    evaluate(code, consts, t, y, p, reg)
    for i in range(dy.shape[0]):
        r = rhs_reg[i]
        dy[i] = (reg[r] if r >= 0 else 0.0) + u[i]


@njit(cache=True, error_model="numpy")
def tape_jacobian(code, consts, rhs_reg, seeds, jrow, jcol, jcolor, tptr, tcol, t, y, p, jv, reg,
                  tan):
    """The Jacobian's entries ``jv[k] = d f[jrow[k]] / d y[jcol[k]]``: every colour's tangent in
    one pass (``seeds[c]``: the 0/1 seed of colour ``c``; ``jcolor[k]``: the colour of entry k;
    ``tptr``/``tcol``: each instruction's colours; ``tan``: scratch of ``n_reg * n_colours``,
    zero wherever no instruction writes)."""
    nc = seeds.shape[0]
    if nc == 0:
        return
    evaluate_tangents(code, consts, t, y, p, reg, seeds, 0.0, tan, tptr, tcol)
    for k in range(jrow.shape[0]):
        r = rhs_reg[jrow[k]]
        jv[k] = tan[r * nc + jcolor[k]] if r >= 0 else 0.0


@njit(cache=True, error_model="numpy")
def tape_dfdt(code, consts, rhs_reg, dptr, dcol, t, y, p, ft, reg, tan, y_dot):
    """The explicit time derivative of the right-hand side: one tangent along ``t``, computed for
    the instructions that depend on ``t`` (``dptr``/``dcol``: colour 0 for those, none for the
    rest, so no state load reads the seed ``y_dot``, zeros of the state's size; ``tan``: scratch
    of ``n_reg``, zero wherever no instruction writes)."""
    evaluate_tangents(code, consts, t, y, p, reg, y_dot.reshape((1, y_dot.shape[0])), 1.0, tan,
                      dptr, dcol)
    for i in range(ft.shape[0]):
        r = rhs_reg[i]
        ft[i] = tan[r] if r >= 0 else 0.0


@njit(cache=True, error_model="numpy")
def tape_observe(code, consts, obs_reg, t, y, p, row, reg):
    """The reported variables: every species, then every rule."""
    evaluate(code, consts, t, y, p, reg)
    n = y.shape[0]
    for i in range(n):
        row[i] = y[i]
    for k in range(obs_reg.shape[0]):
        row[n + k] = reg[obs_reg[k]]


# -- the tape packed behind the parameters: the generic kernels' model interface -------
#
# The generic kernel module (``immunesim.codegen.generate.generate_generic_source``) is compiled
# once for every model: its solver code calls the functions below, which find the model in the
# parameter vector.
# ``p`` holds the parameters, then the registers, tangents and seed (scratch: each patient's
# ``p`` is its own copy), the tape (integer arrays stored bit for bit in float slots, read back
# with ``view``), the non-negativity flags of the species, the sparse LU's program
# (:mod:`immunesim.kernels.lu_program`), the tangents of the time derivative, a flag saying
# whether the registers of the tape's prologue (its first ``n_pre`` instructions, which depend on
# the parameters only) hold this ``p``'s values, and, last, a header of offsets. The prologue
# runs when the flag is 0: in a fresh copy of ``p``, and after an event sets a parameter
# (``generic_params_changed``); its registers' tangents are 0 and are never written.
# (HEADER and the H_* fields: :mod:`.layout`)


@njit(cache=True, error_model="numpy", inline="always")
def _h(p, k):
    return int(p[p.shape[0] - HEADER + k])


@njit(cache=True, error_model="numpy", inline="always")
def _ints(p, field, count):
    o = _h(p, field)
    return p[o:o + count].view(np.int64)


@njit(cache=True, error_model="numpy", inline="always")
def _code(p):
    m = _h(p, H_NINSTR)
    o = _h(p, H_CODE)
    return p[o:o + 5 * m].view(np.int64).reshape((m, 5))


@njit(cache=True, error_model="numpy", inline="always")
def _consts(p):
    o = _h(p, H_CONSTS)
    return p[o:o + _h(p, H_NCONSTS)]


@njit(cache=True, error_model="numpy", inline="always")
def _scratch(p, field):
    o = _h(p, field)
    if field == H_YDOT:
        return p[o:o + _h(p, H_N)]
    if field == H_TAN:
        return p[o:o + _h(p, H_NREG) * max(_h(p, H_NCOLORS), 1)]
    return p[o:o + _h(p, H_NREG)]


@njit(cache=True, error_model="numpy")
def _body(p):
    """The tape after its prologue, having run the prologue first if ``p`` changed."""
    code = _code(p)
    n_pre = _h(p, H_NPRE)
    f = _h(p, H_PFLAG)
    if p[f] == 0.0:
        evaluate(code[:n_pre], _consts(p), 0.0, p[:0], p, _scratch(p, H_REG))
        p[f] = 1.0
    return code[n_pre:]


@njit(cache=True, error_model="numpy")
def generic_rhs(t, y, p, u, dy):
    tape_rhs(_body(p), _consts(p), _ints(p, H_RHS, _h(p, H_N)), t, y, p, u, dy, _scratch(p, H_REG))


@njit(cache=True, error_model="numpy", inline="always")
def _lists(p, ptr, col, count):
    """An instruction-indexed list (``ptr`` of ``n_instr + 1``, ``col``) from after the prologue."""
    m = _h(p, H_NINSTR)
    return _ints(p, ptr, m + 1)[_h(p, H_NPRE):], _ints(p, col, max(_h(p, count), 1))


@njit(cache=True, error_model="numpy")
def generic_jac_nz(t, y, p, jv):
    n = _h(p, H_N)
    nnz = _h(p, H_NNZ)
    nc = _h(p, H_NCOLORS)
    o = _h(p, H_SEEDS)
    seeds = p[o:o + nc * n].reshape((nc, n))
    tptr, tcol = _lists(p, H_TPTR, H_TCOL, H_NTCOL)
    tape_jacobian(_body(p), _consts(p), _ints(p, H_RHS, n), seeds, _ints(p, H_JROW, nnz),
                  _ints(p, H_JCOL, nnz), _ints(p, H_JCOLOR, nnz), tptr, tcol, t, y, p, jv,
                  _scratch(p, H_REG), _scratch(p, H_TAN))


@njit(cache=True, error_model="numpy")
def generic_dfdt(t, y, p, ft):
    dptr, dcol = _lists(p, H_DPTR, H_DCOL, H_NDCOL)
    tape_dfdt(_body(p), _consts(p), _ints(p, H_RHS, _h(p, H_N)), dptr, dcol, t, y, p, ft,
              _scratch(p, H_REG), _scratch(p, H_TAN1), _scratch(p, H_YDOT))


@njit(cache=True, error_model="numpy")
def generic_observe(t, y, p, row):
    tape_observe(_body(p), _consts(p), _ints(p, H_OBS, _h(p, H_NRULES)), t, y, p, row,
                 _scratch(p, H_REG))


@njit(cache=True, error_model="numpy")
def generic_event_values(t, y, p, ev):
    """The values of the model's event expressions (triggers as 1/0, priorities, delays,
    assignment values) at ``(t, y)``."""
    reg = _scratch(p, H_REG)
    evaluate(_body(p), _consts(p), t, y, p, reg)
    ev_reg = _ints(p, H_EVREG, max(_h(p, H_NEVV), 1))
    for k in range(_h(p, H_NEVV)):
        ev[k] = reg[ev_reg[k]]


@njit(cache=True, error_model="numpy", inline="always")
def generic_n_events(p):
    return _h(p, H_NEV)


@njit(cache=True, error_model="numpy", inline="always")
def generic_n_event_values(p):
    return _h(p, H_NEVV)


@njit(cache=True, error_model="numpy", inline="always")
def generic_event_table(p):
    return _ints(p, H_EVTAB, max(_h(p, H_NEVTAB), 1))


@njit(cache=True, error_model="numpy", inline="always")
def generic_params_changed(p):
    p[_h(p, H_PFLAG)] = 0.0


@njit(cache=True, error_model="numpy", inline="always")
def generic_nonneg(p, i):
    return p[_h(p, H_NONNEG) + i] != 0.0


@njit(cache=True, error_model="numpy", inline="always")
def generic_jac_rows(p):
    return _ints(p, H_JROW, _h(p, H_NNZ))


@njit(cache=True, error_model="numpy", inline="always")
def generic_jac_cols(p):
    return _ints(p, H_JCOL, _h(p, H_NNZ))


@njit(cache=True, error_model="numpy", inline="always")
def generic_n_jac(p):
    return _h(p, H_NNZ)


@njit(cache=True, error_model="numpy", inline="always")
def generic_n_observed(p):
    return _h(p, H_N) + _h(p, H_NRULES)


@njit(cache=True, error_model="numpy", inline="always")
def generic_time_dependent(p):
    return _h(p, H_TDEP) != 0


@njit(cache=True, error_model="numpy", inline="always")
def _lu(p):
    return _ints(p, H_LU, _h(p, H_NLU))


@njit(cache=True, error_model="numpy", inline="always")
def generic_nnz_w(p):
    return _lu(p)[P_NNZW]


@njit(cache=True, error_model="numpy", inline="always")
def generic_use_sparse(p):
    return _lu(p)[P_NNZW] > 0


@njit(cache=True, error_model="numpy")
def generic_w_assemble(jv, inv_gh, w, p):
    lu_assemble(_lu(p), jv, inv_gh, w)


@njit(cache=True, error_model="numpy")
def generic_lu_factor_sparse(w, p):
    return lu_factor(_lu(p), w)


@njit(cache=True, error_model="numpy")
def generic_lu_solve_sparse(w, b, x, p):
    lu_solve(_lu(p), w, b, x)
