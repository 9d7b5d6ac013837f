"""The first tier's model tape (codegen.tape, kernels.tape_eval) against references computed
without it: the model's expression trees evaluated in complex arithmetic (complex-step
derivatives) on every disease preset and every example model, and the exact symbolic
derivatives (SymPy) on a model of every function, at random states and times."""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import immunesim as im
from immunesim.codegen.tape import compile_tape
from immunesim.errors import ExpressionError
from immunesim.kernels import tape_eval as T
from immunesim.model.symbolic import build_symbolic, symbols_for

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "scenarios" / "models").glob("*.yaml"))
_FUNCS = {"SafeMin": min, "SafeMax": max, "SafeAbs": abs,
          "StepFloor": lambda x: float(np.floor(x)), "StepCeil": lambda x: float(np.ceil(x)),
          "StepFactorial": lambda x: __import__("math").gamma(x + 1.0)}


def _symbolic_reference(model):
    """(t, y, p) -> (rhs, dense Jacobian, df/dt, rules) from SymPy (slow to print for the large
    presets; used on the small model of function semantics)."""
    sym = build_symbolic(model)
    y, p, t, _ = symbols_for(model)
    n = len(y)
    J = [[sp.Integer(0)] * n for _ in range(n)]
    for (i, j), d in sym.jacobian:
        J[i][j] = d
    return sp.lambdify([t, y, p], [sym.rhs, J, sym.dfdt, sym.observed[n:]], modules=[_FUNCS, "math"])


def _complex_step_reference(model):
    """(t, y, p) -> (rhs, dense Jacobian, df/dt, rules) by evaluating the model's expression
    trees directly, in complex arithmetic: the derivative along a direction is the imaginary
    part of ``f(x + i h e) / h`` with ``h = 1e-200``, exact to rounding for these functions
    (Squire & Trapp 1998, doi:10.1137/S003614459631241X). Branches (min, max, abs, piecewise,
    comparisons) follow the real parts, as the kernels' conventions say. Independent of both
    SymPy and the tape."""
    import ast
    import cmath

    from immunesim.model.expr import chain, signs

    def ev(node, env):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            first, steps = chain(node)
            acc = ev(first, env)
            for op, right, _ in steps:
                r = ev(right, env)
                if isinstance(op, ast.Add):
                    acc = acc + r
                elif isinstance(op, ast.Sub):
                    acc = acc - r
                elif isinstance(op, ast.Mult):
                    acc = acc * r
                else:
                    acc = acc / r
            return acc
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            neg, operand = signs(node)
            v = ev(operand, env)
            return -v if neg else v
        if isinstance(node, ast.Constant):
            return complex(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp):
            return ev(node.left, env) ** ev(node.right, env)
        if isinstance(node, ast.UnaryOp):
            return complex(ev(node.operand, env).real == 0.0)
        if isinstance(node, ast.Compare):
            left, ok = ev(node.left, env).real, True
            for op, rn in zip(node.ops, node.comparators):
                right = ev(rn, env).real
                ok = ok and {ast.Lt: left < right, ast.LtE: left <= right, ast.Gt: left > right,
                             ast.GtE: left >= right, ast.Eq: left == right,
                             ast.NotEq: left != right}[type(op)]
                left = right
            return complex(ok)
        if isinstance(node, ast.BoolOp):
            vals = [ev(v, env).real != 0.0 for v in node.values]
            return complex(all(vals) if isinstance(node.op, ast.And) else any(vals))
        fn, args = node.func.id, node.args
        if fn == "piecewise":
            for i in range(0, len(args) - 1, 2):
                if ev(args[i + 1], env).real != 0.0:
                    return ev(args[i], env)
            return ev(args[-1], env)
        xs = [ev(a, env) for a in args]
        if fn in ("min", "max"):
            out = xs[0]
            for x in xs[1:]:
                if (x.real < out.real) if fn == "min" else (x.real > out.real):
                    out = x
            return out
        if fn == "abs":
            return xs[0] if xs[0].real >= 0.0 else -xs[0]
        if fn == "pow":
            return xs[0] ** xs[1]
        if fn == "hill":
            x, k, n = xs
            return x ** n / (k ** n + x ** n)
        if fn in ("floor", "ceil", "factorial"):      # constant between jumps: derivative 0
            x = xs[0].real
            return complex({"floor": np.floor, "ceil": np.ceil,
                            "factorial": lambda v: __import__("math").gamma(v + 1.0)}[fn](x))
        return {"exp": cmath.exp, "log": cmath.log, "sqrt": cmath.sqrt, "sin": cmath.sin,
                "cos": cmath.cos, "tan": cmath.tan, "asin": cmath.asin, "acos": cmath.acos,
                "atan": cmath.atan, "sinh": cmath.sinh, "cosh": cmath.cosh, "tanh": cmath.tanh,
                "asinh": cmath.asinh, "acosh": cmath.acosh, "atanh": cmath.atanh}[fn](xs[0])

    names_y = [s.name for s in model.species]
    names_p = [q.name for q in model.parameters]

    def evaluate(t, y, p):
        env = dict(zip(names_y, y))
        env.update(zip(names_p, (complex(v) for v in p)))
        env["t"] = t
        for r in model.rules:
            env[r.name] = ev(r.parsed.tree, env)
        f = [0j] * len(y)
        for proc in model.processes:
            rate = ev(proc.parsed.tree, env)
            for name, c in proc.stoichiometry.items():
                f[names_y.index(name)] += float(c) * rate
        return np.array(f), np.array([env[r.name] for r in model.rules], dtype=complex)

    h = 1e-200

    def reference(t, y, p):
        n = len(y)
        y = np.asarray(y, dtype=complex)
        f, rules = evaluate(complex(t), y, p)
        J = np.zeros((n, n))
        for j in range(n):
            yj = y.copy()
            yj[j] += 1j * h
            J[:, j] = evaluate(complex(t), yj, p)[0].imag / h
        ft = evaluate(complex(t, h), y, p)[0].imag / h
        return f.real, J, ft, rules.real

    return reference


def _tape_values(tape, t, y, p):
    n = y.size
    reg, tan, yd = np.zeros(tape.n_reg), np.zeros(tape.n_reg * max(tape.n_colors, 1)), np.zeros(n)
    dy, ft = np.zeros(n), np.zeros(n)
    T.tape_rhs(tape.code, tape.consts, tape.rhs_reg, t, y, p, np.zeros(n), dy, reg)
    jv = np.zeros(tape.jrow.size)
    T.tape_jacobian(tape.code, tape.consts, tape.rhs_reg, tape.seeds, tape.jrow, tape.jcol,
                    tape.jcolor, tape.tptr, tape.tcol, t, y, p, jv, reg, tan)
    J = np.zeros((n, n))
    J[tape.jrow, tape.jcol] = jv
    T.tape_dfdt(tape.code, tape.consts, tape.rhs_reg, tape.dptr, tape.dcol, t, y, p, ft, reg,
                np.zeros(tape.n_reg), yd)
    row = np.zeros(n + tape.obs_reg.size)
    T.tape_observe(tape.code, tape.consts, tape.obs_reg, t, y, p, row, reg)
    return dy, J, ft, row[n:]


def _close(a, b, what):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.maximum(np.abs(b), 1e-9 * (np.abs(b).max() + 1e-300))
    err = np.max(np.abs(a - b) / scale, initial=0.0)
    assert err < 1e-9, f"{what}: relative error {err:.2e}"


@pytest.mark.parametrize("name", [*im.diseases(), *(m.name for m in MODELS)])
def test_tape_matches_complex_step_derivatives(name):
    model = (im.load_model(ROOT / "scenarios" / "models" / name) if name.endswith(".yaml")
             else im.disease_model(name))
    tape = compile_tape(model)
    ref = _complex_step_reference(model)
    rng = np.random.default_rng(7)
    y0, p = model.initial_vector(), model.parameter_vector()
    for _ in range(4):
        y = y0 * np.exp(rng.normal(0.0, 0.5, y0.size)) + 0.05 * rng.random(y0.size)
        t = float(rng.uniform(0.0, 400.0))
        rhs, J, ft, rules = ref(t, list(y), list(p))
        got = _tape_values(tape, t, y, p)
        for g, r, what in zip(got, (rhs, J, ft, rules), ("rhs", "Jacobian", "df/dt", "rules")):
            _close(g, r, f"{name} {what}")
    # the colouring is valid: within a colour, every row has at most one entry
    for c in range(tape.n_colors):
        rows = tape.jrow[tape.jcolor == c]
        assert len(set(rows.tolist())) == rows.size      # one entry per row and colour
    assert tape.n_colors <= y0.size


def test_tape_semantics_of_functions_and_conditions():
    """min/max/abs/piecewise/hill/pow and logic on one model, against closed forms."""
    species = [im.Species(name=n, unit="1", initial=1.0, nonnegative=False) for n in "ABC"]
    rules = [im.Rule(name="r1", expression="min(A, B, 2) + max(A, -B) + abs(C)", unit="1"),
             im.Rule(name="r2", expression="piecewise(A, B > 1 and C < 0, 2*A, not (A >= B), 3)", unit="1"),
             im.Rule(name="r3", expression="hill(A, 2, 3) + pow(B, 2.5) + A^-2 + exp(C) + log(B) + sqrt(B)",
                     unit="1")]
    procs = [im.Process(name="a", rate="r1 * t", stoichiometry={"A": 1}),
             im.Process(name="b", rate="r2 + r3", stoichiometry={"B": 1, "C": -2})]
    m = im.Model("f", species=species, parameters=[], rules=rules, processes=procs)
    tape = compile_tape(m)
    ref = _symbolic_reference(m)
    ref2 = _complex_step_reference(m)
    for y in ([0.5, 2.0, -1.0], [3.0, 1.5, 0.2], [1.0, 1.0, 0.0], [2.0, 0.7, -0.3]):
        y = np.array(y)
        got = _tape_values(tape, 1.7, y, np.zeros(0))
        for want in (ref(1.7, list(y), []), ref2(1.7, list(y), [])):
            for g, r, what in zip(got, want, ("rhs", "Jacobian", "df/dt", "rules")):
                _close(g, r, what)
    assert tape.time_dependent


def test_tape_elementary_functions_against_sympy_and_complex_step():
    """The functions SBML's MathML brings (trigonometric, hyperbolic and their inverses, floor,
    ceil, factorial) in the tape: values and derivatives against SymPy's exact derivatives and
    against complex-step derivatives of the expression trees, inside each function's domain."""
    species = [im.Species(name=n, unit="1", initial=0.3, nonnegative=False) for n in "ABC"]
    rules = [im.Rule(name="r1", expression="sin(A) * cos(B) + tan(C) + asin(A) - acos(B) + atan(A*C)",
                     unit="1"),
             im.Rule(name="r2", expression="sinh(A) + cosh(B) * tanh(C) + asinh(B) + atanh(A) "
                     "+ acosh(2 + C^2)", unit="1"),
             im.Rule(name="r3", expression="floor(3*A + t) + ceil(B) * factorial(4) + factorial(C + 1.5)",
                     unit="1")]
    procs = [im.Process(name="a", rate="r1 * r3", stoichiometry={"A": 1}),
             im.Process(name="b", rate="r2 + r3 * C", stoichiometry={"B": 1, "C": -2})]
    m = im.Model("fn", species=species, parameters=[], rules=rules, processes=procs)
    tape = compile_tape(m)
    ref, ref2 = _symbolic_reference(m), _complex_step_reference(m)
    for y in ([0.5, 0.2, -0.4], [-0.7, 0.9, 0.3], [0.1, -0.6, 0.8]):
        y = np.array(y)
        got = _tape_values(tape, 0.35, y, np.zeros(0))
        for want in (ref(0.35, list(y), []), ref2(0.35, list(y), [])):
            for g, r, what in zip(got, want, ("rhs", "Jacobian", "df/dt", "rules")):
                _close(g, r, what)
    assert float(got[3][2]) == pytest.approx(0.0 + 0.0 * 24 + 2.683437381955768, rel=1e-14)
    # numbers only: folded when read; outside a domain: refused, naming the token
    with pytest.raises(ExpressionError, match="not a finite real number"):
        im.Rule(name="bad", expression="asin(2)", unit="1")


def test_tape_refuses_non_finite_constants_that_rules_create():
    m = im.Model("z", species=[im.Species(name="X", unit="1", initial=1.0)],
                 parameters=[], rules=[im.Rule(name="zero", expression="0", unit="1")],
                 processes=[im.Process(name="p", rate="log(zero) * X", stoichiometry={"X": 1})])
    with pytest.raises(ExpressionError, match="not a finite real number"):
        compile_tape(m)
