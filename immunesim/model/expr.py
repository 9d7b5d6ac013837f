"""The safe expression language of rate laws and assignment rules.

Text is parsed with :func:`ast.parse` (which only builds a syntax tree and runs
nothing) and every node is checked against a whitelist. The tree is then turned
into SymPy by the walker below; user text is never handed to ``eval``, ``exec``
or ``sympy.sympify`` (which calls ``eval``).

Allowed
-------
numbers; names of species, parameters, rules and ``t`` (time); ``+ - * /``,
powers ``**`` (``^`` is read as a power too, as in SBML and Antimony);
comparisons ``< <= > >= == !=`` and ``and or not`` inside ``piecewise``
conditions; the functions ``min(a, b, ...)``, ``max(a, b, ...)``, ``exp``,
``log``, ``sqrt``, ``abs``, ``pow(x, y)``, ``hill(x, K, n) = x^n / (K^n + x^n)``,
``piecewise(v1, c1, v2, c2, ..., otherwise)``, and the elementary functions that SBML's MathML
has (:data:`ELEMENTARY`): ``sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh``,
``floor``, ``ceil`` and ``factorial`` (``gamma(x + 1)``; these three have derivative 0).
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass

from ..errors import ExpressionError
from ..limits import (MAX_EXACT_POWER, MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH,
                      MAX_FUNCTION_ARGS)

#: function name -> (minimum, maximum) number of arguments; None = unbounded
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None), "max": (2, None), "exp": (1, 1), "log": (1, 1), "sqrt": (1, 1),
    "abs": (1, 1), "pow": (2, 2), "hill": (3, 3), "piecewise": (3, None),
}
#: one-argument functions beyond the core set, mostly for imported SBML models (their SBML
#: names: ``arcsin`` is ``asin``, ``ceiling`` is ``ceil``; the other trigonometric functions of
#: MathML are written with these)
ELEMENTARY = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
              "acosh", "atanh", "floor", "ceil", "factorial")
FUNCTIONS.update({name: (1, 1) for name in ELEMENTARY})
TIME = "t"
RESERVED = frozenset(FUNCTIONS) | {TIME, "and", "or", "not", "True", "False", "None"}

_ALLOWED_HELP = ("allowed are numbers, names, + - * / ** ^, comparisons and and/or/not inside "
                 "piecewise conditions, and the functions " + ", ".join(sorted(FUNCTIONS)))

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression: its text, its tree and the names it uses."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def __str__(self):
        return self.text


def _fail(text: str, where: str, node: ast.AST | None, what: str) -> ExpressionError:
    col = getattr(node, "col_offset", None)
    token = ""
    if node is not None and col is not None:
        end = getattr(node, "end_col_offset", None) or col + 1
        token = f" at column {col + 1}: '{_clip(text[col:end], 60)}'"
    place = f"{where}: " if where else ""
    return ExpressionError(f"{place}expression '{_clip(text)}'{token}: {what}; {_ALLOWED_HELP}")


def parse(text: str, where: str = "") -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` naming the offending token.

    Bounded: at most :data:`~immunesim.limits.MAX_EXPRESSION_CHARS` characters, nesting depth
    :data:`~immunesim.limits.MAX_EXPRESSION_DEPTH` (a chain of ``+``/``-`` or ``*``/``/`` and a
    run of unary signs count as one level, so a sum of thousands of terms is fine) and
    :data:`~immunesim.limits.MAX_FUNCTION_ARGS` arguments per call; numbers must be finite.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ExpressionError(f"{where}: expected an expression string or a number, "
                              f"got {type(text).__name__}")
    original = str(text).strip()
    if not original:
        raise ExpressionError(f"{where}: the expression is empty")
    if len(original) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"{where}: the expression is {len(original)} characters long; at "
                              f"most {MAX_EXPRESSION_CHARS} allowed")
    # '^' is a power with power precedence (Python's '^' would bind looser than '+');
    # the language has no strings, so a textual replacement is exact.
    text = original.replace("^", "**")
    try:
        with warnings.catch_warnings():     # e.g. "1if": Python's own remark, not for users
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1
        raise ExpressionError(f"{where}: expression '{_clip(text)}' is not valid syntax near "
                              f"column {col + 1} ('{text[col:col + 10]}'); {_ALLOWED_HELP}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"{where}: the expression is nested too deeply (at most "
                              f"{MAX_EXPRESSION_DEPTH} levels)") from None
    names: set[str] = set()
    _check(tree, text, where, names)
    _fold(tree, text, where)
    return Expression(original, tree, frozenset(names))


_MATH = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs, "min": min, "max": max,
         "pow": lambda a, b: a ** b, "hill": lambda x, k, n: x ** n / (k ** n + x ** n),
         "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
         "acos": math.acos, "atan": math.atan, "sinh": math.sinh, "cosh": math.cosh,
         "tanh": math.tanh, "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh,
         "floor": lambda x: float(math.floor(x)), "ceil": lambda x: float(math.ceil(x)),
         "factorial": lambda x: math.gamma(x + 1.0)}


def _fold(tree: ast.AST, text: str, where: str) -> None:
    """Evaluate the parts made of numbers only, in double precision, when the expression is
    read: ``1/0``, ``sqrt(-1)``, ``log(0)``, ``9**9**9`` or ``1e308*10`` are refused here, with
    the model file's other problems and the offending token, instead of when kernels are
    generated (or never: SymPy would compute ``9**9**9`` exactly, for ever)."""

    def bad(node, what):
        return _fail(text, where, node, what)

    def apply(node, fn, *args):
        try:
            v = fn(*args)
        except ZeroDivisionError:
            raise bad(node, "division by zero") from None
        except (OverflowError, ValueError, TypeError):
            raise bad(node, "this part is not a finite real number") from None
        if isinstance(v, complex) or not math.isfinite(v):
            raise bad(node, "this part is not a finite real number")
        return float(v)

    def ev(node):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return None
        group = _group(node)
        if group == "unary":
            negative, operand = signs(node)
            v = ev(operand)
            return None if v is None else (-v if negative else v)
        if group in ("add", "mul"):
            first, steps = chain(node)
            acc = ev(first)
            for op, right, at in steps:
                r = ev(right)
                if isinstance(op, ast.Div) and r == 0:
                    raise bad(at, "division by zero")
                if acc is None or r is None:
                    acc = None
                    continue
                fn = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                      ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}[type(op)]
                acc = apply(at, fn, acc, r)
            return acc
        if isinstance(node, ast.BinOp):        # a power
            a, b = ev(node.left), ev(node.right)
            if a is not None and b is not None:
                return apply(node, lambda x, y: x ** y, a, b)
            return None
        if isinstance(node, ast.Call) and node.func.id != "piecewise":
            args = [ev(a) for a in node.args]
            if None in args:
                return None
            if node.func.id == "log" and args[0] <= 0:
                raise bad(node, "log of a number <= 0")
            return apply(node, _MATH[node.func.id], *args)
        for child in ast.iter_child_nodes(node):  # conditions, piecewise: check inside only
            if isinstance(child, ast.expr):
                ev(child)
        return None

    ev(tree)


def evaluate(expr: Expression, values) -> float:
    """The value of ``expr`` in double precision with its names bound by ``values`` (a mapping
    name -> number), by the kernels' conventions: IEEE arithmetic (``1/0`` is ``inf``, a log or
    square root out of its domain NaN), a condition is 1 or 0, ``min``/``max`` pick the first
    smallest/largest argument. For values needed before a simulation (an imported model's
    initial assignments); an unbound name raises :class:`ExpressionError`."""

    def ieee(fn, *args):
        try:
            v = fn(*args)
        except ZeroDivisionError:
            a, b = args[0], args[-1]
            return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)
        except OverflowError:
            return math.inf
        except (ValueError, TypeError):
            return math.nan
        return math.nan if isinstance(v, complex) else float(v)

    def ev(node) -> float:
        group = _group(node)
        if group == "unary":
            negative, operand = signs(node)
            v = ev(operand)
            return -v if negative else v
        if group in ("add", "mul"):
            first, steps = chain(node)
            acc = ev(first)
            for op, right, _ in steps:
                acc = ieee({ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                            ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}[type(op)],
                           acc, ev(right))
            return acc
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            try:
                return float(values[node.id])
            except KeyError:
                raise ExpressionError(f"expression '{_clip(expr.text)}': '{node.id}' has no "
                                      "value here") from None
        if isinstance(node, ast.BinOp):                       # the power
            return ieee(lambda a, b: a ** b, ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp):                     # not
            return float(ev(node.operand) == 0.0)
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = ev(right_node)
                if not {ast.Lt: left < right, ast.LtE: left <= right, ast.Gt: left > right,
                        ast.GtE: left >= right, ast.Eq: left == right,
                        ast.NotEq: left != right}[type(op)]:
                    return 0.0
                left = right
            return 1.0
        if isinstance(node, ast.BoolOp):
            truth = (ev(v) != 0.0 for v in node.values)
            return float(all(truth) if isinstance(node.op, ast.And) else any(truth))
        fn, args = node.func.id, node.args
        if fn == "piecewise":
            for i in range(0, len(args) - 1, 2):
                if ev(args[i + 1]) != 0.0:
                    return ev(args[i])
            return ev(args[-1])
        xs = [ev(a) for a in args]
        if fn in ("min", "max"):
            out = xs[0]
            for x in xs[1:]:
                if (x < out) if fn == "min" else (x > out):
                    out = x
            return out
        if fn == "log" and xs[0] == 0.0:
            return -math.inf
        return ieee(_MATH[fn], *xs)

    try:
        return ev(expr.tree)
    except RecursionError:
        raise ExpressionError(f"expression '{_clip(expr.text)}' is nested too deeply") from None


def _clip(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + " ..."


def chain(node: ast.expr) -> tuple[ast.expr, list[tuple[ast.operator, ast.expr, ast.BinOp]]]:
    """A left-nested chain of one precedence level (``a + b - c``, ``a * b / c``) as its first
    operand and ``(operator, operand, node)`` for each step in order, found without recursion
    (a sum of thousands of terms is a valid rate law); any other node is ``(node, [])``."""
    group = _group(node)
    steps, cur = [], node
    if group in ("add", "mul"):
        while _group(cur) == group:
            steps.append((cur.op, cur.right, cur))
            cur = cur.left
    return cur, steps[::-1]


def signs(node: ast.expr) -> tuple[bool, ast.expr]:
    """A run of unary signs (``- - + x``) as (negative, operand), found without recursion."""
    negative = False
    while _group(node) == "unary":
        negative ^= isinstance(node.op, ast.USub)
        node = node.operand
    return negative, node


def _group(node) -> str | None:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return "add"
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return "mul"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return "unary"
    return None


def _check(tree: ast.AST, text: str, where: str, names: set[str]) -> None:
    """Every node against the whitelist, iteratively (no recursion: any depth is safe to
    inspect), and the nesting depth against its bound."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise _fail(text, where, node, f"nested more than {MAX_EXPRESSION_DEPTH} levels deep")
        group = _group(node)
        if group == "unary":
            stack.append((signs(node)[1], depth + 1))
            continue
        if group is not None:
            first, steps = chain(node)
            stack += [(sub, depth + 1) for sub in [first, *(right for _, right, _ in steps)]]
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _fail(text, where, node, f"constant {node.value!r} is not a number")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise _fail(text, where, node, "the number is too large (not finite)")
            if isinstance(node.value, int) and node.value.bit_length() > 1000:
                raise _fail(text, where, node, "the number is too large (not finite)")
            continue
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise _fail(text, where, node, f"'{node.id}' is a function and must be called")
            names.add(node.id)
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            stack.append((node.operand, depth + 1))
            continue
        if isinstance(node, ast.Compare) and all(isinstance(op, _CMPOPS) for op in node.ops):
            stack += [(sub, depth + 1) for sub in [node.left, *node.comparators]]
            continue
        if isinstance(node, ast.BoolOp):
            stack += [(sub, depth + 1) for sub in node.values]
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise _fail(text, where, node.func, "unknown function")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise _fail(text, where, node, "functions take positional arguments only")
            lo, hi = FUNCTIONS[node.func.id]
            n = len(node.args)
            if n < lo or (hi is not None and n > hi) or (node.func.id == "piecewise" and n % 2 == 0):
                want = ("an odd number (value, condition, ..., otherwise) of at least 3"
                        if node.func.id == "piecewise" else
                        f"{lo}" if lo == hi else f"at least {lo}")
                raise _fail(text, where, node, f"{node.func.id}() takes {want} arguments, got {n}")
            if n > MAX_FUNCTION_ARGS:
                raise _fail(text, where, node, f"{node.func.id}() takes at most "
                            f"{MAX_FUNCTION_ARGS} arguments, got {n}")
            stack += [(sub, depth + 1) for sub in node.args]
            continue
        kind = type(node).__name__
        detail = {"Attribute": "attribute access is not allowed",
                  "Subscript": "indexing is not allowed",
                  "Lambda": "lambda is not allowed",
                  "IfExp": "use piecewise(value, condition, otherwise) instead of 'if'"}.get(
            kind, f"{kind} is not allowed")
        if isinstance(node, ast.BinOp):
            detail = f"operator {type(node.op).__name__} is not allowed"
        raise _fail(text, where, node, detail)


def to_sympy(expr: Expression, symbols: dict, where: str = ""):
    """Build the SymPy expression of ``expr``; ``symbols`` maps every name to a SymPy object.

    ``min``, ``max`` and ``abs`` become the unevaluated functions of :mod:`.functions`, whose
    derivatives are printable ``Piecewise`` expressions and whose size is linear in their
    arguments. A part made of numbers only must be a finite real number (``1/0``,
    ``sqrt(-1)``, ``log(0)`` are refused, naming the token). :func:`parse` already refuses
    those written in one expression; these checks catch those that appear only once rules are
    substituted, like ``log(r)`` with a rule ``r = 0``, or ``9**n`` with a rule ``n = 9**9``. A
    power of two numbers is exact only for integer exponents up to
    :data:`~immunesim.limits.MAX_EXACT_POWER` and otherwise computed in floating point, so
    that such a power is refused as an overflow at once instead of computing a number with
    hundreds of millions of digits.
    """
    import sympy as sp

    from .functions import (SafeAbs, SafeMax, SafeMin, StepCeil,  # SymPy (heavy): only when
                            StepFactorial, StepFloor)              # a kernel is generated

    text = expr.text

    def constant(node, out):
        if isinstance(out, sp.Expr) and out.is_number:
            if out.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                raise _fail(text, where, node, "this part is not a finite number "
                            "(a division by zero, or log of zero?)")
            if out.is_real is False or out.has(sp.I):
                raise _fail(text, where, node, "this part is not a real number "
                            "(a square root or log of a negative number?)")
            try:
                finite = math.isfinite(float(out))
            except (OverflowError, TypeError, ValueError):
                finite = False
            if not finite:
                raise _fail(text, where, node, "this part is not a finite number in double "
                            "precision (beyond 1.8e308)")
        return out

    def num(node):
        out = walk(node)
        if isinstance(out, sp.logic.boolalg.Boolean) and not isinstance(out, sp.Expr):
            raise _fail(text, where, node, "a condition is used where a number is expected "
                        "(conditions belong in piecewise)")
        return constant(node, out)

    def cond(node):
        out = walk(node)
        if isinstance(out, sp.Expr) and not out.is_Boolean:
            raise _fail(text, where, node, "a number is used where a condition is expected")
        return out

    def power(node, a, b):
        if a.is_number and b.is_number:
            if b.is_Integer and abs(int(b)) <= MAX_EXACT_POWER and not (a == 0 and b < 0):
                return a ** b
            try:
                value = float(a) ** float(b)
            except (OverflowError, ZeroDivisionError, TypeError, ValueError):
                value = math.nan
            if isinstance(value, complex) or not math.isfinite(value):
                raise _fail(text, where, node, "this power of numbers is not a finite real number")
            return sp.Float(value)
        return a ** b

    def walk(node):
        group = _group(node)
        if group == "add":
            first, steps = chain(node)
            terms = [num(first)]
            for op, right, _ in steps:
                v = num(right)
                terms.append(-v if isinstance(op, ast.Sub) else v)
            return sp.Add(*terms)
        if group == "mul":
            first, steps = chain(node)
            factors = [num(first)]
            for op, right, at in steps:
                v = num(right)
                if isinstance(op, ast.Div):
                    if v == 0:          # a name that is a zero rule: not seen by _fold
                        raise _fail(text, where, at, "division by zero")
                    v = 1 / v
                factors.append(v)
            return sp.Mul(*factors)
        if group == "unary":
            negative, operand = signs(node)
            v = num(operand)
            return -v if negative else v
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, int) and abs(v) < 2 ** 53:
                return sp.Integer(v)
            return sp.Float(float(v))
        if isinstance(node, ast.Name):
            return symbols[node.id]
        if isinstance(node, ast.BinOp):         # the power (the only other operator)
            return power(node, num(node.left), num(node.right))
        if isinstance(node, ast.UnaryOp):       # not
            return sp.Not(cond(node.operand))
        if isinstance(node, ast.Compare):
            rel = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge,
                   ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
            parts, left = [], num(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = num(right_node)
                parts.append(rel[type(op)](left, right))
                left = right
            return sp.And(*parts) if len(parts) > 1 else parts[0]
        if isinstance(node, ast.BoolOp):
            vals = [cond(v) for v in node.values]
            return sp.And(*vals) if isinstance(node.op, ast.And) else sp.Or(*vals)
        name = node.func.id
        if name == "piecewise":
            args = node.args
            pairs = [(num(args[i]), cond(args[i + 1])) for i in range(0, len(args) - 1, 2)]
            return sp.Piecewise(*pairs, (num(args[-1]), True))
        args = [num(a) for a in node.args]
        if name == "min":
            return SafeMin(*args)
        if name == "max":
            return SafeMax(*args)
        if name == "abs":
            return SafeAbs(args[0])
        if name == "pow":
            return power(node, args[0], args[1])
        if name == "hill":
            x, k, n = args
            return x ** n / (k ** n + x ** n)
        return {"exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
                "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
                "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asinh": sp.asinh,
                "acosh": sp.acosh, "atanh": sp.atanh, "floor": StepFloor, "ceil": StepCeil,
                "factorial": StepFactorial}[name](args[0])

    try:
        return num(expr.tree)
    except RecursionError:
        raise ExpressionError(f"{where}: the expression is nested too deeply") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        if isinstance(exc, ExpressionError):
            raise
        raise ExpressionError(f"{where}: expression '{_clip(text)}' cannot be evaluated "
                              f"symbolically ({type(exc).__name__}: {str(exc)[:120]})") from None


def from_sympy(e) -> str:
    """The text, in this expression language, of a SymPy expression built from numbers, symbols,
    sums, products, powers, the elementary functions, ``min``/``max``/``abs``/``floor``/
    ``ceil``/``factorial`` (:mod:`.functions`), comparisons, ``and``/``or``/``not`` and
    ``Piecewise``; anything else, or a number that is not finite, raises ExpressionError. The
    text is parsed and checked like any other before it is used."""
    import sympy as sp

    if e is sp.true or e is sp.false:
        return "1" if e is sp.true else "0"
    if e.is_Integer:
        return _number_text(float(int(e)))
    if e.is_Rational:
        return f"({int(e.p)} / {int(e.q)})"
    if e.is_Float or (e.is_number and e.is_real):
        v = float(e)
        if not math.isfinite(v):
            raise ExpressionError(f"the number {v} is not finite")
        return _number_text(v)
    if e.is_Symbol:
        return e.name
    if e.is_Add:
        return "(" + " + ".join(from_sympy(a) for a in e.args) + ")"
    if e.is_Mul:
        return "(" + " * ".join(from_sympy(a) for a in e.args) + ")"
    if e.is_Pow:
        return f"pow({from_sympy(e.base)}, {from_sympy(e.exp)})"
    if isinstance(e, sp.Piecewise):
        parts = []
        for value, cond in e.args[:-1]:
            parts += [from_sympy(value), from_sympy(cond)]
        last_value, last_cond = e.args[-1]
        if last_cond is not sp.true:        # no otherwise: SymPy's undefined is refused
            raise ExpressionError("a Piecewise without an otherwise branch")
        return f"piecewise({', '.join(parts + [from_sympy(last_value)])})"
    relations = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">",
                 sp.GreaterThan: ">=", sp.Equality: "==", sp.Unequality: "!="}
    if type(e) in relations:
        return f"({from_sympy(e.lhs)} {relations[type(e)]} {from_sympy(e.rhs)})"
    if isinstance(e, (sp.And, sp.Or)):
        op = " and " if isinstance(e, sp.And) else " or "
        return "(" + op.join(from_sympy(a) for a in e.args) + ")"
    if isinstance(e, sp.Not):
        return f"(not {from_sympy(e.args[0])})"
    names = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
             sp.asin: "asin", sp.acos: "acos", sp.atan: "atan", sp.sinh: "sinh",
             sp.cosh: "cosh", sp.tanh: "tanh", sp.asinh: "asinh", sp.acosh: "acosh",
             sp.atanh: "atanh", sp.Abs: "abs", sp.Min: "min", sp.Max: "max",
             sp.floor: "floor", sp.ceiling: "ceil"}
    fn = names.get(e.func) or {"SafeAbs": "abs", "SafeMin": "min", "SafeMax": "max",
                               "StepFloor": "floor", "StepCeil": "ceil",
                               "StepFactorial": "factorial"}.get(e.func.__name__)
    if fn is None or (fn == "log" and len(e.args) != 1):
        raise ExpressionError(f"{e.func.__name__} cannot be written in the expression language")
    return f"{fn}({', '.join(from_sympy(a) for a in e.args)})"


def _number_text(v: float) -> str:
    text = repr(float(v))
    return f"({text})" if v < 0 else text
