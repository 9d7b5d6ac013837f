"""``min``, ``max`` and ``abs`` as SymPy functions that stay unevaluated and linear in size.

Written as nested ``Piecewise`` (``min(a, b, c)`` as ``Piecewise((m, m <= c), (c, True))`` with
``m = min(a, b)``), ``min`` of ``n`` arguments repeats its inner part twice at every level:
2**n terms, so ``min`` of 8 arguments took ~44 s to differentiate and of 10 never finished; and
SymPy folded the piecewise branches into enclosing functions, evaluating dead branches such as
``log(-5)`` and failing on the complex result. These functions print as Python's ``min``,
``max`` and ``abs`` (Numba compiles all three) and differentiate into one ``Piecewise`` per
argument: ``d min(a_1..a_n) / d a_i`` is 1 where ``a_i`` is the first smallest argument and 0
elsewhere (the convention of the former form at ties), so the Jacobian keeps exact entries.

Imported only when kernels are generated (SymPy is a build-time dependency).
"""

from __future__ import annotations

import math

import sympy as sp


class _Pick(sp.Function):
    """The first argument that is smallest (``_LESS = Lt``) or largest (``Gt``)."""

    _LESS = sp.Lt
    _LESS_EQ = sp.Le

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return args[0]
        if all(a.is_number and a.is_real for a in args):    # numbers only: the value itself
            out = args[0]
            for a in args[1:]:
                if bool(cls._LESS(a, out)):
                    out = a
            return out
        return None          # otherwise unevaluated: stays a call, printed as min/max

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def fdiff(self, argindex=1):
        i = argindex - 1
        a = self.args
        conds = [self._LESS(a[i], a[j]) for j in range(i)]
        conds += [self._LESS_EQ(a[i], a[j]) for j in range(i + 1, len(a))]
        return sp.Piecewise((sp.Integer(1), sp.And(*conds)), (sp.Integer(0), True))


class SafeMin(_Pick):
    _LESS, _LESS_EQ = sp.Lt, sp.Le


class SafeMax(_Pick):
    _LESS, _LESS_EQ = sp.Gt, sp.Ge


class SafeAbs(sp.Function):
    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_real:
            return sp.Abs(x)
        return None

    def _eval_is_real(self):
        return self.args[0].is_real

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.Piecewise((sp.Integer(1), sp.Ge(x, 0)), (sp.Integer(-1), True))


class _Step(sp.Function):
    """A function constant between jumps (``floor``, ``ceil``, ``factorial`` of integers): its
    derivative is 0 where it exists, which is what the Jacobian and the time derivative use (the
    generic tier's tape does the same); folded to a number for numbers."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_real:
            return sp.Float(cls._value(float(x)))
        return None

    def _eval_is_real(self):
        return self.args[0].is_real

    def fdiff(self, argindex=1):
        return sp.Integer(0)


class StepFloor(_Step):
    _value = staticmethod(lambda x: math.floor(x))


class StepCeil(_Step):
    _value = staticmethod(lambda x: math.ceil(x))


class StepFactorial(_Step):
    """``factorial(x)`` as ``gamma(x + 1)`` (SBML's ``factorial`` of a non-negative integer)."""

    _value = staticmethod(lambda x: math.gamma(x + 1.0))
