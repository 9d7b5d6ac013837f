"""Straight-line sparse LU of the Rosenbrock iteration matrix ``W = I/(gamma h) - J``.

The pattern of ``W`` is the Jacobian's structural pattern plus the diagonal. We
order the unknowns by greedy minimum degree on the symmetrised pattern (fewer
fill-ins), compute the fill symbolically with static diagonal pivots, and emit
unrolled factor and solve code over a flat vector of the non-zeros.

Static pivoting is guarded by a threshold test: a zero or non-finite pivot, or
any multiplier larger than ``MAX_MULTIPLIER`` (partial pivoting would keep
them <= 1), makes the factorisation report failure, and the kernel falls back
to dense LU with partial pivoting for that step (counted in the run's stats).

A specialised kernel module gets the plan as straight-line code (:func:`emit`); the generic
kernels get it as an integer program (:func:`program`, run by
:mod:`immunesim.kernels.lu_program`): the same operations in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import layout as L

#: above this many multiply-adds the unrolled code is too long to compile quickly: use dense LU
MAX_UNROLLED_OPS = 6000
#: the generic kernels' program has no code to compile, only arrays: a larger bound (assumed: it
#: bounds the planning work in Python and the program's size, not a measured optimum)
MAX_PROGRAM_OPS = 500_000


@dataclass(frozen=True)
class LUPlan:
    n: int
    perm: tuple[int, ...]            # new position k holds old unknown perm[k]
    slots: dict                      # (row, col) in permuted coordinates -> slot in w
    ops: int                         # multiply-adds of one factorisation

    @property
    def nnz(self) -> int:
        return len(self.slots)


def minimum_degree_order(n: int, pattern) -> list[int]:
    adj = {i: set() for i in range(n)}
    for i, j in pattern:
        if i != j:
            adj[i].add(j)
            adj[j].add(i)
    order = []
    while adj:
        v = min(adj, key=lambda k: (len(adj[k]), k))
        nbrs = adj.pop(v)
        for a in nbrs:
            adj[a] |= nbrs - {a}
            adj[a].discard(v)
        order.append(v)
    return order


def plan(n: int, pattern, max_ops: int = MAX_UNROLLED_OPS) -> LUPlan | None:
    """Plan the factorisation; ``None`` when it takes more than ``max_ops`` multiply-adds
    (:data:`MAX_UNROLLED_OPS` for unrolled code, which would take too long to compile)."""
    perm = minimum_degree_order(n, pattern)
    pinv = {old: new for new, old in enumerate(perm)}
    filled = {(pinv[i], pinv[j]) for i, j in pattern} | {(k, k) for k in range(n)}
    ops = 0
    for k in range(n):
        rows = [i for i in range(k + 1, n) if (i, k) in filled]
        cols = [j for j in range(k + 1, n) if (k, j) in filled]
        filled.update((i, j) for i in rows for j in cols)
        ops += len(rows) * (len(cols) + 1)
        if ops > max_ops:
            return None
    slots = {ij: s for s, ij in enumerate(sorted(filled))}
    return LUPlan(n=n, perm=tuple(perm), slots=slots, ops=ops)


def _steps(lu: LUPlan):
    """The factorisation, column by column: ``(k, diag slot, [(slot of W[i, k], [(slot of
    W[i, j], slot of W[k, j]) for j > k]) for rows i > k])``, in the order both the unrolled
    code (:func:`emit`) and the generic kernels' program (:func:`program`) run it."""
    n, s = lu.n, lu.slots
    for k in range(n):
        cols = [j for j in range(k + 1, n) if (k, j) in s]
        rows = [(s[i, k], [(s[i, j], s[k, j]) for j in cols])
                for i in range(k + 1, n) if (i, k) in s]
        yield k, s[k, k], rows


def _forward(lu: LUPlan, i: int) -> list[tuple[int, int]]:
    """(slot, column) of the forward substitution's terms of row ``i``."""
    return [(lu.slots[i, k], k) for k in range(i) if (i, k) in lu.slots]


def _backward(lu: LUPlan, i: int) -> list[tuple[int, int]]:
    """(slot, column) of the back substitution's terms of row ``i``."""
    return [(lu.slots[i, j], j) for j in range(i + 1, lu.n) if (i, j) in lu.slots]


def _jac_slots(lu: LUPlan, jac_pattern) -> list[int]:
    """The slot of ``W`` of each Jacobian entry ``(row, col)``."""
    pinv = {old: new for new, old in enumerate(lu.perm)}
    return [lu.slots[pinv[i], pinv[j]] for i, j in jac_pattern]


def emit(lu: LUPlan | None, jac_pattern) -> str:
    """Source of ``w_assemble``, ``lu_factor_sparse`` and ``lu_solve_sparse`` (their ``p``, the
    parameter vector of the kernels' model interface, is unused here)."""
    if lu is None:
        return ("USE_SPARSE = False\nNNZ_W = 1\n\n"
                "def w_assemble(jv, inv_gh, w, p):\n    return\n\n"
                "def lu_factor_sparse(w, p):\n    return False\n\n"
                "def lu_solve_sparse(w, b, x, p):\n    return\n")
    n, s = lu.n, lu.slots
    jac_of = {slot: k for k, slot in enumerate(_jac_slots(lu, jac_pattern))}
    out = [f"USE_SPARSE = True\nNNZ_W = {lu.nnz}\n", "def w_assemble(jv, inv_gh, w, p):"]
    for (i, j), slot in sorted(s.items(), key=lambda kv: kv[1]):
        terms = (["inv_gh"] if i == j else []) + ([f"- jv[{jac_of[slot]}]"] if slot in jac_of else [])
        out.append(f"    w[{slot}] = {' '.join(terms) if terms else '0.0'}")
    # Straight-line code over scalars: the slots are read once into locals and written back
    # once, each update names a new local (no array access and no redefinition in between),
    # the pivots are checked once at the end (a zero pivot gives inf/nan, which make the sum of
    # the pivots non-finite or their smallest magnitude 0) and the largest multiplier is one
    # max over them. Numba types every array access and call on its own: the form with a
    # w[...] access per update and a branch per pivot took its front end 11.5 s on the RA
    # preset's 186 slots.
    cur = {slot: f"w{slot}" for slot in s.values()}
    fresh = iter(range(10**9))
    out += ["", "def lu_factor_sparse(w, p):"]
    out += [f"    w{slot} = w[{slot}]" for slot in sorted(s.values())]
    pivots, mults = [], []
    for k, dk, rows in _steps(lu):
        pivots.append(cur[dk])
        d = f"d{k}"
        out.append(f"    {d} = 1.0 / {cur[dk]}")
        cur[dk] = d
        for sl, updates in rows:
            m = f"m{next(fresh)}"
            out.append(f"    {m} = {cur[sl]} * {d}")
            cur[sl] = m
            mults.append(m)
            for tgt, src in updates:
                v = f"u{next(fresh)}"
                out.append(f"    {v} = {cur[tgt]} - {m} * {cur[src]}")
                cur[tgt] = v
    out += [f"    w[{slot}] = {cur[slot]}" for slot in sorted(s.values())]
    out.append(f"    pmin = min({', '.join(f'abs({v})' for v in pivots)}, math.inf)" if pivots else
               "    pmin = 1.0")
    out.append(f"    psum = {' + '.join(pivots)}" if pivots else "    psum = 0.0")
    out.append(f"    g = max({', '.join(f'abs({v})' for v in mults)}, 0.0)" if mults else "    g = 0.0")
    out += ["    return pmin > 0.0 and math.isfinite(psum) and g <= MAX_MULTIPLIER", ""]
    out += ["def lu_solve_sparse(w, b, x, p):"]
    out += [f"    z{k} = b[{lu.perm[k]}]" for k in range(n)]
    for i in range(n):
        terms = "".join(f" - w[{sl}] * z{k}" for sl, k in _forward(lu, i))
        if terms:
            out.append(f"    z{i} = z{i}{terms}")
    for i in reversed(range(n)):
        terms = "".join(f" - w[{sl}] * z{j}" for sl, j in _backward(lu, i))
        out.append(f"    z{i} = (z{i}{terms}) * w[{s[i, i]}]")
    out += [f"    x[{lu.perm[k]}] = z{k}" for k in range(n)]
    return "\n".join(out) + "\n"


def emit_program(lu: LUPlan | None, jac_pattern) -> str:
    """Source of ``w_assemble``, ``lu_factor_sparse`` and ``lu_solve_sparse`` that run the plan
    as a :func:`program` (a constant array of the module) through
    :mod:`immunesim.kernels.lu_program`: the same operations as :func:`emit`'s code."""
    if lu is None:
        return emit(None, jac_pattern)
    prog = ", ".join(str(int(v)) for v in program(lu, jac_pattern))
    return (f"USE_SPARSE = True\nNNZ_W = {lu.nnz}\nLU_PROG = np.array([{prog}], dtype=np.int64)\n\n"
            "def w_assemble(jv, inv_gh, w, p):\n    lu_assemble(LU_PROG, jv, inv_gh, w)\n\n"
            "def lu_factor_sparse(w, p):\n    return lu_factor(LU_PROG, w)\n\n"
            "def lu_solve_sparse(w, b, x, p):\n    lu_solve(LU_PROG, w, b, x)\n")


def program(lu: LUPlan | None, jac_pattern) -> np.ndarray:
    """The plan as the integer program of :mod:`immunesim.kernels.lu_program` (the generic
    kernels' sparse LU): the same operations as :func:`emit`'s code, in the same order. With no
    plan, a program of ``nnz_w = 0`` (the kernels then use the dense LU)."""
    head = np.zeros(L.P_HEAD, dtype=np.int64)
    if lu is None:
        return head
    n = lu.n
    steps = list(_steps(lu))
    fwd = [_forward(lu, i) for i in range(n)]
    bwd = [_backward(lu, i) for i in range(n)]
    lrows = [row for _, _, rows in steps for row in rows]
    sections = {
        L.O_PERM: list(lu.perm),
        L.O_DIAG: [dk for _, dk, _ in steps],
        L.O_JSLOT: _jac_slots(lu, jac_pattern),
        L.O_LPTR: np.cumsum([0] + [len(rows) for _, _, rows in steps]),
        L.O_LSLOT: [sl for sl, _ in lrows],
        L.O_UPTR: np.cumsum([0] + [len(up) for _, up in lrows]),
        L.O_UTGT: [t for _, up in lrows for t, _ in up],
        L.O_USRC: [r for _, up in lrows for _, r in up],
        L.O_FPTR: np.cumsum([0] + [len(f) for f in fwd]),
        L.O_FSLOT: [sl for f in fwd for sl, _ in f],
        L.O_FCOL: [c for f in fwd for _, c in f],
        L.O_BPTR: np.cumsum([0] + [len(b) for b in bwd]),
        L.O_BSLOT: [sl for b in bwd for sl, _ in b],
        L.O_BCOL: [c for b in bwd for _, c in b],
    }
    head[[L.P_N, L.P_NNZW, L.P_NJ]] = [n, lu.nnz, len(jac_pattern)]
    parts, at = [head], L.P_HEAD
    for field, values in sections.items():
        arr = np.asarray(values, dtype=np.int64)
        head[field] = at
        parts.append(arr)
        at += arr.size
    return np.concatenate(parts)
