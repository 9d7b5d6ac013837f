"""SymPy -> Numba-compatible Python source, with common subexpressions shared."""

from __future__ import annotations

import math
import re

from sympy import Integer, cse, numbered_symbols
from sympy.printing.pycode import PythonCodePrinter


class KernelPrinter(PythonCodePrinter):
    """Prints ``y[i]``/``p[j]`` symbols verbatim, floats exactly, small integer powers as products."""

    def _print_Symbol(self, expr):
        # only the generator's own symbols may be printed verbatim: state, parameters, inputs,
        # time and common subexpressions (a user's name never becomes a symbol; checked anyway)
        if not _OWN_SYMBOL.match(expr.name):
            raise ValueError(f"symbol {expr.name!r} is not one of the kernel's own")
        return expr.name

    def _print_Float(self, expr):
        value = float(expr)
        if math.isnan(value):
            return "math.nan"
        if math.isinf(value):  # SymPy's folding can overflow (2*(C + 1e308)): what doubles give
            return "math.inf" if value > 0 else "(-math.inf)"
        return repr(value)

    def _print_SafeMin(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_SafeMax(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_SafeAbs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_StepFloor(self, expr):      # np.floor keeps a float (math.floor: an integer)
        return f"np.floor({self._print(expr.args[0])})"

    def _print_StepCeil(self, expr):
        return f"np.ceil({self._print(expr.args[0])})"

    def _print_StepFactorial(self, expr):
        return f"math.gamma({self._print(expr.args[0])} + 1.0)"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if isinstance(exp, Integer) and 2 <= abs(int(exp)) <= 4:
            b = self.parenthesize(base, 100)  # always wrap: products bind as a unit
            prod = "*".join([f"({b})"] * abs(int(exp)))
            return f"({prod})" if int(exp) > 0 else f"(1.0/({prod}))"
        return super()._print_Pow(expr, rational=rational)


_OWN_SYMBOL = re.compile(r"^(?:[ypu]\[\d+\]|t|_c\d+)$")
_PRINTER = KernelPrinter({"fully_qualified_modules": True, "standard": "python3"})


def to_source(expr) -> str:
    return _PRINTER.doprint(expr)


_ELEMENT = re.compile(r"\b([ypu])\[(\d+)\]")


def emit_assignments(targets: list[str], exprs: list, indent: str = "    ") -> list[str]:
    """Lines assigning ``exprs`` to ``targets`` with shared subexpressions hoisted once.

    Each element of the state, parameters and inputs that the expressions read is loaded into a
    local once, at the top (``y[3]`` -> ``y_3``): the same values (nothing here writes them),
    and far less work for Numba, which types every array access on its own (the RA preset's
    Jacobian: ~500 reads of ``p``/``y``)."""
    if not exprs:
        return []
    temps, reduced = cse(exprs, symbols=numbered_symbols("_c"), order="none")
    body = [(str(sym), to_source(val)) for sym, val in temps]
    body += [(tgt, to_source(val)) for tgt, val in zip(targets, reduced)]
    used = sorted({m.groups() for _, src in body for m in _ELEMENT.finditer(src)},
                  key=lambda g: (g[0], int(g[1])))
    lines = [f"{indent}{a}_{i} = {a}[{i}]" for a, i in used]
    lines += [f"{indent}{lhs} = " + _ELEMENT.sub(r"\1_\2", src) for lhs, src in body]
    return lines
