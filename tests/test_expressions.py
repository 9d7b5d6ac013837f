"""The safe expression language: what is accepted, what is refused, and what it means."""
import math

import pytest
import sympy as sp

from immunesim import ExpressionError
from immunesim.model.expr import parse, to_sympy


@pytest.mark.parametrize("text, token", [
    ("__import__('os').system('ls')", "__import__('os').system"),
    ("x.real", "x.real"),
    ("a[0]", "a[0]"),
    ("lambda: 1", "lambda: 1"),
    ("'abc'", "'abc'"),
    ("foo(x)", "foo"),
    ("1 if x else 2", "1 if x else 2"),
    ("x % 2", "x % 2"),
])
def test_refused_with_offending_token(text, token):
    with pytest.raises(ExpressionError) as exc:
        parse(text, "process 'p' rate")
    msg = str(exc.value)
    assert "process 'p' rate" in msg and text in msg and f"'{token}'" in msg


@pytest.mark.parametrize("text, fragment", [
    ("hill(x, 1)", "hill() takes 3 arguments, got 2"),
    ("piecewise(1, x > 0)", "odd number"),
    ("exp(x, y)", "exp() takes 1 arguments"),
    ("k *", "not valid syntax"),
    ("", "empty"),
    ("exp", "must be called"),
])
def test_arity_and_syntax(text, fragment):
    with pytest.raises(ExpressionError, match=None) as exc:
        parse(text, "rule 'r'")
    assert fragment in str(exc.value)


def value(text, **env):
    e = parse(text)
    syms = {n: sp.Float(v) for n, v in env.items()}
    return float(to_sympy(e, syms))


def test_functions_have_their_meaning():
    assert value("hill(x, K, n)", x=2.0, K=3.0, n=2.0) == pytest.approx(4 / 13)
    assert value("x^2 + 2**3", x=3.0) == 17.0
    assert value("min(a, b, 0.5)", a=2.0, b=1.0) == 0.5
    assert value("max(a, b)", a=2.0, b=1.0) == 2.0
    assert value("abs(a)", a=-2.5) == 2.5
    assert value("piecewise(1, t < 2, 3, 5 <= t and t < 7, 9)", t=1.0) == 1.0
    assert value("piecewise(1, t < 2, 3, 5 <= t and t < 7, 9)", t=6.0) == 3.0
    assert value("piecewise(1, t < 2, 3, 5 <= t and t < 7, 9)", t=8.0) == 9.0
    assert value("sqrt(x) + log(exp(2)) + pow(2, 3)", x=16.0) == pytest.approx(14.0)
    assert value("-x + +y", x=1.0, y=3.0) == 2.0
    assert value("piecewise(1, not (x > 0), 2)", x=1.0) == 2.0
    assert math.isclose(value("1e-3 * x", x=2.0), 0.002)


def test_conditions_only_inside_piecewise():
    with pytest.raises(ExpressionError, match="condition is used where a number"):
        value("x > 1", x=2.0)
    with pytest.raises(ExpressionError, match="number is used where a condition"):
        value("piecewise(1, x, 2)", x=2.0)


def test_names_are_collected():
    assert parse("k * X / (K + X) + hill(IL6, K6, n) + t").names == {"k", "X", "K", "IL6", "K6", "n", "t"}


def test_sympy_expressions_come_back_as_the_same_values():
    """from_sympy writes SymPy expressions (a solved algebraic rule, a PEtab formula) in the
    expression language: parsed and evaluated, the same value as SymPy's own."""
    import math

    import sympy as sp

    from immunesim.errors import ExpressionError
    from immunesim.model.expr import evaluate, from_sympy, parse

    x, y = sp.symbols("x y", real=True)
    env = {"x": 0.7, "y": -1.3}
    cases = [x ** 2 * sp.exp(-y) / (1 + x), sp.Rational(3, 7) * x - 2.5 * y, sp.log(x) + sp.atan(y),
             sp.Piecewise((x, x > y), (y, True)), sp.Max(x, y) + sp.Abs(y) + sp.floor(x + 2),
             sp.Piecewise((1, sp.And(x > 0, y < 0)), (0, True)), sp.sqrt(x) * sp.cosh(y)]
    for e in cases:
        ours = evaluate(parse(from_sympy(e)), env)
        assert math.isclose(ours, float(e.subs({x: env["x"], y: env["y"]})), rel_tol=1e-14), e
    for bad in (sp.Piecewise((x, x > 0)), sp.besselj(0, x), sp.Float("inf")):
        with pytest.raises(ExpressionError):
            from_sympy(bad)
