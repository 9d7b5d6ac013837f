"""The sparse LU of the generic kernels, run from arrays.

:mod:`immunesim.codegen.sparse_lu` plans the factorisation of the Rosenbrock matrix
``W = I/(gamma h) - J`` (minimum-degree order, symbolic fill, static diagonal pivots). A
specialised kernel module unrolls that plan into straight-line code; the generic kernels, compiled
once for every model, cannot, so the plan is flattened into an integer array, a *program*
(:func:`immunesim.codegen.sparse_lu.program`), which the three functions here follow. They do
the same floating-point operations in the same order as the unrolled code, so for the same
Jacobian values both tiers factor and solve to the same bits.

Why not the dense LU the generic tier first used: partial pivoting swaps rows, so a species
whose derivative does not depend on the others (a cell population started at exactly zero, an
irreversible-damage compartment) picks up values of order 1e-21 from other rows, and a model
that is "exactly zero" in one tier is not in the other (the disease tests check such zeros).
With static pivots a structurally independent row keeps an exact zero update. It is also
O(fill) rather than O(n^3) per factorisation.

Program layout (``int64``): ``prog[P_N]`` unknowns, ``prog[P_NNZW]`` slots of ``W`` (0: no
plan, the kernels use the dense LU), ``prog[P_NJ]`` Jacobian entries, then the offset in ``prog``
of each section:

- ``perm`` (n): new position ``k`` holds old unknown ``perm[k]``;
- ``diag`` (n): slot of ``W[k, k]``; ``jslot`` (nj): slot of each Jacobian entry;
- ``lptr`` (n+1) over ``lslot``: the multipliers of column ``k`` (rows ``i > k``, ascending);
  ``uptr`` (one more than ``lslot``) over ``utgt``/``usrc``: for multiplier ``e`` of column
  ``k`` and row ``i``, the updates ``w[utgt] -= m * w[usrc]`` (``W[i, j] -= m W[k, j]``);
- ``fptr`` (n+1) over ``fslot``/``fcol``: the forward substitution's terms of row ``i``;
- ``bptr`` (n+1) over ``bslot``/``bcol``: the back substitution's terms of row ``i``.
"""

import math

from numba import njit

from .constants import MAX_MULTIPLIER
from .layout import (O_BCOL, O_BPTR, O_BSLOT, O_DIAG, O_FCOL, O_FPTR, O_FSLOT, O_JSLOT, O_LPTR,
                     O_LSLOT, O_PERM, O_UPTR, O_USRC, O_UTGT, P_N, P_NJ, P_NNZW)


@njit(cache=True, error_model="numpy")
def lu_assemble(prog, jv, inv_gh, w):
    """``W = inv_gh I - J`` into the slots ``w`` from the Jacobian's entries ``jv``."""
    for s in range(prog[P_NNZW]):
        w[s] = 0.0
    od = prog[O_DIAG]
    for k in range(prog[P_N]):
        w[prog[od + k]] = inv_gh
    oj = prog[O_JSLOT]
    for k in range(prog[P_NJ]):
        w[prog[oj + k]] -= jv[k]


@njit(cache=True, error_model="numpy")
def lu_factor(prog, w):
    """Factor in place; False on a zero or non-finite pivot or a multiplier above
    :data:`~immunesim.kernels.constants.MAX_MULTIPLIER` (the caller then uses dense LU)."""
    od, olp, ols = prog[O_DIAG], prog[O_LPTR], prog[O_LSLOT]
    oup, otg, osr = prog[O_UPTR], prog[O_UTGT], prog[O_USRC]
    g = 0.0
    for k in range(prog[P_N]):
        dk = prog[od + k]
        d = w[dk]
        if d == 0.0 or not math.isfinite(d):
            return False
        d = 1.0 / d
        w[dk] = d
        for e in range(prog[olp + k], prog[olp + k + 1]):
            sl = prog[ols + e]
            m = w[sl] * d
            w[sl] = m
            g = max(g, abs(m))
            for q in range(prog[oup + e], prog[oup + e + 1]):
                w[prog[otg + q]] -= m * w[prog[osr + q]]
    return g <= MAX_MULTIPLIER


@njit(cache=True, error_model="numpy")
def lu_solve(prog, w, b, x):
    """``x = W^-1 b`` from the factors in ``w``; ``b`` is overwritten (scratch)."""
    n = prog[P_N]
    op, od = prog[O_PERM], prog[O_DIAG]
    ofp, ofs, ofc = prog[O_FPTR], prog[O_FSLOT], prog[O_FCOL]
    obp, obs, obc = prog[O_BPTR], prog[O_BSLOT], prog[O_BCOL]
    z = x                          # the solve runs in the permuted order, in x
    for k in range(n):
        z[k] = b[prog[op + k]]
    for i in range(n):
        v = z[i]
        for e in range(prog[ofp + i], prog[ofp + i + 1]):
            v = v - w[prog[ofs + e]] * z[prog[ofc + e]]
        z[i] = v
    for i in range(n - 1, -1, -1):
        v = z[i]
        for e in range(prog[obp + i], prog[obp + i + 1]):
            v = v - w[prog[obs + e]] * z[prog[obc + e]]
        z[i] = v * w[prog[od + i]]
    for k in range(n):
        b[k] = z[k]
    for k in range(n):
        x[prog[op + k]] = b[k]
