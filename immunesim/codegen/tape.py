"""Compile a model into an instruction tape (:mod:`immunesim.kernels.tape_eval`): the first
tier of the engine, which needs neither SymPy nor a compiler per model.

The rules and rates are walked once from their syntax trees (:mod:`immunesim.model.expr`) into
instructions over registers. Equal instructions are shared (hash-consing: a rule used by ten
rates is computed once), parts made of numbers only are folded at compile time and must be
finite reals (as :func:`immunesim.model.expr.to_sympy` requires), and the right-hand side of
each species is the sum of its processes' rates times their stoichiometry. Each register
records the species it depends on, which gives the Jacobian's structure; its columns are
coloured greedily so that columns sharing no row share one tangent pass.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ExpressionError
from ..kernels import layout as K
from ..model.expr import ELEMENTARY, TIME, chain, signs
from ..model.model import Model
from . import sparse_lu
from .events import event_layout


@dataclass(frozen=True)
class Tape:
    """A model as a tape: ``code`` (instructions ``(op, dst, a, b, c)``), ``consts``,
    ``n_reg`` registers, ``rhs_reg`` (the register of each species' derivative, -1 for none),
    ``obs_reg`` (the register of each rule), the Jacobian's structure ``jrow``/``jcol`` with
    each entry's colour ``jcolor`` and one 0/1 seed per colour (``seeds``), whether the
    right-hand side depends on time explicitly, and ``n_pre``: the first ``n_pre`` instructions
    depend on the parameters and constants only (the prologue, evaluated again only when a
    parameter changes; the rest depend on the state or time). ``tptr``/``tcol``: the colours in
    which each instruction's tangent can be nonzero (instruction ``k``'s are
    ``tcol[tptr[k]:tptr[k + 1]]``), and ``dptr``/``dcol`` the same for the tangent along time
    (colour 0 where the instruction depends on ``t``): the tangent passes compute only these.
    ``ev_reg``: the register of each of the events' values, ``ev_table`` their event table and
    ``n_events`` their number (:func:`immunesim.codegen.events.event_layout`)."""

    code: np.ndarray
    consts: np.ndarray
    n_reg: int
    rhs_reg: np.ndarray
    obs_reg: np.ndarray
    jrow: np.ndarray
    jcol: np.ndarray
    jcolor: np.ndarray
    seeds: np.ndarray
    time_dependent: bool
    n_pre: int
    tptr: np.ndarray
    tcol: np.ndarray
    dptr: np.ndarray
    dcol: np.ndarray
    ev_reg: np.ndarray
    ev_table: np.ndarray
    n_events: int

    @property
    def n_colors(self) -> int:
        return self.seeds.shape[0]


_BIN = {ast.Add: K.OP_ADD, ast.Sub: K.OP_SUB, ast.Mult: K.OP_MUL, ast.Div: K.OP_DIV}
_CMP = {ast.Lt: K.OP_LT, ast.LtE: K.OP_LE, ast.Gt: K.OP_GT, ast.GtE: K.OP_GE, ast.Eq: K.OP_EQ,
        ast.NotEq: K.OP_NE}
_UNARY = {"exp": K.OP_EXP, "log": K.OP_LOG, "sqrt": K.OP_SQRT, "abs": K.OP_ABS}
#: OP_FN's function codes, in the expression language's order (tape_eval's FN_* constants)
_FN = {name: code for code, name in enumerate(ELEMENTARY)}
assert _FN["floor"] == K.FN_FLOOR and _FN["factorial"] == K.FN_FACTORIAL
_FN_PY = (math.sin, math.cos, math.tan, math.asin, math.acos, math.atan, math.sinh, math.cosh,
          math.tanh, math.asinh, math.acosh, math.atanh, lambda x: float(math.floor(x)),
          lambda x: float(math.ceil(x)), lambda x: math.gamma(x + 1.0))
#: ops whose result does not vary with the state (their derivative is 0)
_LOGIC = {K.OP_LT, K.OP_LE, K.OP_GT, K.OP_GE, K.OP_EQ, K.OP_NE, K.OP_AND, K.OP_OR, K.OP_NOT}


def _fold(op: int, x: float, y: float = 0.0, z: float = 0.0) -> float:
    """What the interpreter computes, in Python, for constant operands."""
    try:
        if op == K.OP_ADD:
            return x + y
        if op == K.OP_SUB:
            return x - y
        if op == K.OP_MUL:
            return x * y
        if op == K.OP_DIV:
            return x / y
        if op == K.OP_NEG:
            return -x
        if op in (K.OP_POW, K.OP_POWI):
            v = x ** y
            return math.nan if isinstance(v, complex) else float(v)
        if op == K.OP_EXP:
            return math.exp(x)
        if op == K.OP_LOG:
            return math.log(x)
        if op == K.OP_SQRT:
            return math.sqrt(x)
        if op == K.OP_ABS:
            return abs(x)
        if op == K.OP_MIN:
            return y if y < x else x
        if op == K.OP_MAX:
            return y if y > x else x
        if op == K.OP_SELECT:
            return y if x != 0.0 else z
        if op == K.OP_FN:               # y: the function's code
            return float(_FN_PY[int(y)](x))
        r = {K.OP_LT: x < y, K.OP_LE: x <= y, K.OP_GT: x > y, K.OP_GE: x >= y, K.OP_EQ: x == y,
             K.OP_NE: x != y, K.OP_AND: x != 0.0 and y != 0.0, K.OP_OR: x != 0.0 or y != 0.0,
             K.OP_NOT: x == 0.0}[op]
        return 1.0 if r else 0.0
    except (ZeroDivisionError, ValueError, OverflowError):
        return math.nan


class _Builder:
    def __init__(self):
        self.code: list[tuple[int, int, int, int, int]] = []
        self.consts: list[float] = []
        self.const_index: dict[float, int] = {}
        self.memo: dict[tuple, int] = {}
        self.value: dict[int, float] = {}      # register -> its value when constant
        self.deps: list[frozenset] = []         # register -> species it depends on
        self.tdep: list[bool] = []              # register -> depends on t

    def _new(self, row: tuple, deps=frozenset(), tdep=False) -> int:
        reg = self.memo.get(row)
        if reg is None:
            reg = len(self.deps)
            self.code.append((row[0], reg, *row[1:]))
            self.memo[row] = reg
            self.deps.append(deps)
            self.tdep.append(tdep)
        return reg

    def const(self, v: float) -> int:
        v = float(v)
        key = v if v == v else "nan"
        k = self.const_index.get(key)
        if k is None:
            k = self.const_index[key] = len(self.consts)
            self.consts.append(v)
        reg = self._new((K.OP_CONST, k, 0, 0))
        self.value[reg] = v
        return reg

    def load(self, op: int, index: int = 0) -> int:
        return self._new((op, index, 0, 0), frozenset([index]) if op == K.OP_Y else frozenset(),
                         op == K.OP_T)

    def op(self, op: int, a: int, b: int = 0, c: int = 0) -> int:
        """Register of ``op`` applied to registers ``a``, ``b``, ``c`` (for ``OP_POWI``, ``b`` is
        the integer exponent), folded when its operands are constants."""
        if op == K.OP_SELECT and a in self.value:           # a constant condition: its branch
            return b if self.value[a] != 0.0 else c
        regs = {K.OP_NEG: (a,), K.OP_EXP: (a,), K.OP_LOG: (a,), K.OP_SQRT: (a,), K.OP_ABS: (a,),
                K.OP_NOT: (a,), K.OP_POWI: (a,), K.OP_FN: (a,), K.OP_SELECT: (a, b, c)}.get(op, (a, b))
        if all(r in self.value for r in regs):
            args = [self.value[r] for r in regs]
            if op in (K.OP_POWI, K.OP_FN):
                args.append(float(b))
            return self.const(_fold(op, *args))
        if op in _LOGIC or (op == K.OP_FN and b in K.FN_STEPS):
            deps, tdep = frozenset(), False
        elif op == K.OP_SELECT:
            deps, tdep = self.deps[b] | self.deps[c], self.tdep[b] or self.tdep[c]
        else:
            deps = frozenset().union(*(self.deps[r] for r in regs))
            tdep = any(self.tdep[r] for r in regs)
        return self._new((op, a, b, c), deps, tdep)


def compile_tape(model: Model) -> Tape:
    """The tape of ``model``: its rules and the right-hand side of every species."""
    b = _Builder()
    names: dict[str, int] = {}
    species = {s.name: i for i, s in enumerate(model.species)}
    params = {q.name: j for j, q in enumerate(model.parameters)}

    def name(n: str) -> int:
        if n in names:
            return names[n]
        if n in species:
            return b.load(K.OP_Y, species[n])
        if n in params:
            return b.load(K.OP_P, params[n])
        if n == TIME:
            return b.load(K.OP_T)
        raise ExpressionError(f"name '{n}' is not defined")   # the model checks this first

    for rule in model.rules:             # in dependency order
        names[rule.name] = _walk(b, rule.parsed, name, f"rule '{rule.name}'")
    # each species' terms as (subtract?, register): a term of stoichiometry -1 is subtracted
    # rather than negated and added (the same number in IEEE arithmetic, one instruction fewer)
    terms: list[list[tuple[bool, int]]] = [[] for _ in model.species]
    for proc in model.processes:
        rate = _walk(b, proc.parsed, name, f"process '{proc.name}' rate")
        for sp_name, coeff in proc.stoichiometry.items():
            c = float(coeff)
            if c == 1.0 or c == -1.0:
                terms[species[sp_name]].append((c < 0.0, rate))
            elif c != 0.0:
                terms[species[sp_name]].append((False, b.op(K.OP_MUL, b.const(c), rate)))
    ev_exprs, ev_table = event_layout(model)
    ev_reg = [_walk(b, x, name, f"event value {k}") for k, x in enumerate(ev_exprs)]
    rhs_reg = []
    for ts in terms:
        if not ts:
            rhs_reg.append(-1)
            continue
        minus, acc = ts[0]
        if minus:
            acc = b.op(K.OP_NEG, acc)
        for minus, r in ts[1:]:
            acc = b.op(K.OP_SUB if minus else K.OP_ADD, acc, r)
        rhs_reg.append(acc)
    for i, r in enumerate(rhs_reg):
        if r >= 0 and r in b.value and not math.isfinite(b.value[r]):
            raise ExpressionError(f"the rate of change of species '{model.species[i].name}' is "
                                  "not a finite number")
    entries = [(i, j) for i, r in enumerate(rhs_reg) if r >= 0 for j in sorted(b.deps[r])]
    color, seeds = _colour(entries, len(model.species))
    code, n_pre = _prologue_first(b.code)
    tptr, tcol = _colour_lists(code, lambda r: {color[j] for j in b.deps[r] if j in color})
    dptr, dcol = _colour_lists(code, lambda r: {0} if b.tdep[r] else set())
    return Tape(
        tptr=tptr, tcol=tcol, dptr=dptr, dcol=dcol,
        ev_reg=np.array(ev_reg, dtype=np.int64), ev_table=ev_table, n_events=len(model.events),
        code=code,
        n_pre=n_pre,
        consts=np.array(b.consts or [0.0]),
        n_reg=len(b.deps),
        rhs_reg=np.array(rhs_reg, dtype=np.int64),
        obs_reg=np.array([names[r.name] for r in model.rules], dtype=np.int64),
        jrow=np.array([i for i, _ in entries], dtype=np.int64),
        jcol=np.array([j for _, j in entries], dtype=np.int64),
        jcolor=np.array([color[j] for _, j in entries], dtype=np.int64),
        seeds=seeds,
        time_dependent=any(b.tdep[r] for r in rhs_reg if r >= 0))


def _colour_lists(code: np.ndarray, colours) -> tuple[np.ndarray, np.ndarray]:
    """Per instruction, the sorted ``colours(register)`` of its destination, as (pointers,
    entries). A register's structural dependencies (``_Builder.deps``/``tdep``) follow the same
    conventions as the tangent pass (logic: none; ``select``: its branches), so every tangent not
    listed is exactly zero."""
    ptr, col = [0], []
    for row in code:
        col.extend(sorted(colours(int(row[1]))))
        ptr.append(len(col))
    return np.array(ptr, dtype=np.int64), np.array(col, dtype=np.int64)


def _prologue_first(code: list) -> tuple[np.ndarray, int]:
    """The instructions reordered (stably) so that those whose value depends on neither the state
    nor time come first, and their count. Each instruction's operands come before it in either
    part, so both stay in dependency order. In the RA + adalimumab tape this is 234 of 678
    (every parameter load among them), which the generic kernels evaluate once per parameter
    vector instead of at every right-hand side."""
    unary = {K.OP_NEG, K.OP_EXP, K.OP_LOG, K.OP_SQRT, K.OP_ABS, K.OP_NOT, K.OP_POWI, K.OP_FN}
    varies: dict[int, bool] = {}
    pre, body = [], []
    for row in code:
        op, d, a, b, c = row
        if op in (K.OP_Y, K.OP_T):
            v = True
        elif op in (K.OP_P, K.OP_CONST):
            v = False
        else:
            regs = (a,) if op in unary else (a, b, c) if op == K.OP_SELECT else (a, b)
            v = any(varies[r] for r in regs)
        varies[d] = v
        (body if v else pre).append(row)
    return np.array(pre + body, dtype=np.int64).reshape(-1, 5), len(pre)


def _colour(entries, n: int) -> tuple[dict, np.ndarray]:
    """Greedy colouring of the Jacobian's columns: columns with no row in common share a
    colour (Curtis, Powell & Reid 1974, doi:10.1093/imamat/13.1.117)."""
    rows: dict[int, set] = {}
    for i, j in entries:
        rows.setdefault(j, set()).add(i)
    used: list[set] = []
    color = {}
    for j in sorted(rows):
        for c, taken in enumerate(used):
            if not (rows[j] & taken):
                taken |= rows[j]
                color[j] = c
                break
        else:
            color[j] = len(used)
            used.append(set(rows[j]))
    seeds = np.zeros((len(used), n))
    for j, c in color.items():
        seeds[c, j] = 1.0
    return color, seeds


def _walk(b: _Builder, expr, name, where: str) -> int:
    text = expr.text

    def fail(node, what):
        col = getattr(node, "col_offset", None)
        at = f" at column {col + 1}" if col is not None else ""
        return ExpressionError(f"{where}: expression '{text[:200]}'{at}: {what}")

    def finite(node, reg):
        v = b.value.get(reg)
        if v is not None and not math.isfinite(v):
            raise fail(node, "this part is not a finite real number (a division by zero, a log "
                       "or square root of a number <= 0, or beyond 1.8e308?)")
        return reg

    def power(node, base, exponent):
        e = b.value.get(exponent)
        if e is not None and e.is_integer() and abs(e) <= 4:
            return finite(node, b.op(K.OP_POWI, base, int(e)))
        return finite(node, b.op(K.OP_POW, base, exponent))

    def walk(node) -> int:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            first, steps = chain(node)
            acc = walk(first)
            for op, right, at in steps:
                r = walk(right)
                if isinstance(op, ast.Div) and b.value.get(r) == 0.0:
                    raise fail(at, "division by zero")
                acc = finite(at, b.op(_BIN[type(op)], acc, r))
            return acc
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            negative, operand = signs(node)
            r = walk(operand)
            return b.op(K.OP_NEG, r) if negative else r
        if isinstance(node, ast.Constant):
            return b.const(float(node.value))
        if isinstance(node, ast.Name):
            return name(node.id)
        if isinstance(node, ast.BinOp):                       # the power
            return power(node, walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp):                     # not
            return b.op(K.OP_NOT, walk(node.operand))
        if isinstance(node, ast.Compare):
            left, out = walk(node.left), None
            for op, right_node in zip(node.ops, node.comparators):
                right = walk(right_node)
                part = b.op(_CMP[type(op)], left, right)
                out = part if out is None else b.op(K.OP_AND, out, part)
                left = right
            return out
        if isinstance(node, ast.BoolOp):
            regs = [walk(v) for v in node.values]
            op = K.OP_AND if isinstance(node.op, ast.And) else K.OP_OR
            acc = regs[0]
            for r in regs[1:]:
                acc = b.op(op, acc, r)
            return acc
        fn = node.func.id
        args = node.args
        if fn == "piecewise":
            acc = walk(args[-1])
            for i in range(len(args) - 3, -1, -2):          # the last pair first
                acc = b.op(K.OP_SELECT, walk(args[i + 1]), walk(args[i]), acc)
            return acc
        regs = [walk(a) for a in args]
        if fn in ("min", "max"):
            op = K.OP_MIN if fn == "min" else K.OP_MAX
            acc = regs[0]
            for r in regs[1:]:
                acc = b.op(op, acc, r)
            return acc
        if fn == "pow":
            return power(node, regs[0], regs[1])
        if fn == "hill":
            x, k, n = regs
            xn, kn = power(node, x, n), power(node, k, n)
            return finite(node, b.op(K.OP_DIV, xn, b.op(K.OP_ADD, kn, xn)))
        if fn in _FN:
            return finite(node, b.op(K.OP_FN, regs[0], _FN[fn]))
        return finite(node, b.op(_UNARY[fn], regs[0]))

    return walk(expr.tree)


def pack(tape: Tape, nonneg, n_params: int) -> np.ndarray:
    """The tail that follows ``n_params`` parameters in the generic kernels' parameter vector
    (:mod:`immunesim.kernels.tape_eval`, the packed layout): scratch, tape, flags, the sparse
    LU's program (planned as for a specialised module, with the larger bound of
    :data:`~immunesim.codegen.sparse_lu.MAX_PROGRAM_OPS`), header."""
    n = tape.rhs_reg.size
    parts, header = [], np.zeros(K.HEADER)
    at = n_params

    def put(field, arr):
        nonlocal at
        arr = np.ascontiguousarray(arr)
        flat = arr.view(np.float64).ravel() if arr.dtype == np.int64 else arr.astype(np.float64).ravel()
        header[field] = at
        parts.append(flat)
        at += flat.size

    put(K.H_REG, np.zeros(tape.n_reg))
    put(K.H_TAN, np.zeros(tape.n_reg * max(tape.n_colors, 1)))
    put(K.H_TAN1, np.zeros(tape.n_reg))
    put(K.H_PFLAG, np.zeros(1))
    put(K.H_YDOT, np.zeros(n))
    put(K.H_CODE, tape.code)
    put(K.H_CONSTS, tape.consts)
    put(K.H_RHS, tape.rhs_reg)
    put(K.H_OBS, tape.obs_reg if tape.obs_reg.size else np.zeros(1, np.int64))
    put(K.H_JROW, tape.jrow if tape.jrow.size else np.zeros(1, np.int64))
    put(K.H_JCOL, tape.jcol if tape.jcol.size else np.zeros(1, np.int64))
    put(K.H_JCOLOR, tape.jcolor if tape.jcolor.size else np.zeros(1, np.int64))
    put(K.H_SEEDS, tape.seeds if tape.seeds.size else np.zeros(1))
    put(K.H_NONNEG, np.asarray(nonneg, dtype=np.float64))
    put(K.H_TPTR, tape.tptr)
    put(K.H_TCOL, tape.tcol if tape.tcol.size else np.zeros(1, np.int64))
    put(K.H_DPTR, tape.dptr)
    put(K.H_DCOL, tape.dcol if tape.dcol.size else np.zeros(1, np.int64))
    put(K.H_EVREG, tape.ev_reg if tape.ev_reg.size else np.zeros(1, np.int64))
    put(K.H_EVTAB, tape.ev_table if tape.ev_table.size else np.zeros(1, np.int64))
    pattern = list(zip(tape.jrow.tolist(), tape.jcol.tolist()))
    lu = sparse_lu.program(sparse_lu.plan(n, pattern, sparse_lu.MAX_PROGRAM_OPS), pattern)
    put(K.H_LU, lu)
    header[[K.H_NP, K.H_N, K.H_NREG, K.H_NINSTR, K.H_NRULES, K.H_NNZ, K.H_NCOLORS, K.H_TDEP,
            K.H_NCONSTS, K.H_NLU, K.H_NPRE, K.H_NTCOL, K.H_NDCOL, K.H_NEV, K.H_NEVV,
            K.H_NEVTAB]] = [
        n_params, n, tape.n_reg, tape.code.shape[0], tape.obs_reg.size, tape.jrow.size,
        tape.n_colors, int(tape.time_dependent), tape.consts.size, lu.size, tape.n_pre,
        tape.tcol.size, tape.dcol.size, tape.n_events, tape.ev_reg.size, tape.ev_table.size]
    return np.concatenate(parts + [header])


_PACKED: dict[str, np.ndarray] = {}


def packed_tape(model: Model) -> np.ndarray:
    """The tail of ``model``'s parameter vector for the generic kernels (its tape packed by
    :func:`pack`), built once per model structure in a process."""
    key = model.structure_hash
    tail = _PACKED.get(key)
    if tail is None:
        tail = pack(compile_tape(model), [s.nonnegative for s in model.species], len(model.parameters))
        if len(_PACKED) > 256:
            _PACKED.clear()
        _PACKED[key] = tail
    return tail
