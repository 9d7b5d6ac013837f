"""Build-time symbolic form of a model: right-hand side, exact Jacobian and its sparsity.

SymPy is used here only, when kernels are generated; a model whose kernels are
already in the on-disk cache never imports SymPy.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass

from .. import limits
from ..errors import ExpressionError
from .expr import TIME, to_sympy
from .model import Model


@dataclass(frozen=True)
class SymbolicModel:
    """Expressions over the symbols ``y[i]``, ``p[j]`` and ``t``.

    ``jacobian`` lists the structurally non-zero entries ``((row, col), d f_row / d y_col)``
    in row-major order; ``dfdt`` is the explicit time derivative of the right-hand side
    (needed by Rosenbrock methods for non-autonomous models).
    """

    rhs: list
    jacobian: list
    dfdt: list
    observed: list
    time_dependent: bool
    extra: list

    @property
    def sparsity(self) -> list[tuple[int, int]]:
        return [ij for ij, _ in self.jacobian]


def symbols_for(model: Model):
    import sympy as sp

    y = [sp.Symbol(f"y[{i}]", real=True) for i in range(len(model.species))]
    p = [sp.Symbol(f"p[{j}]", real=True) for j in range(len(model.parameters))]
    t = sp.Symbol(TIME, real=True)
    table = {s.name: y[i] for i, s in enumerate(model.species)}
    table.update({q.name: p[j] for j, q in enumerate(model.parameters)})
    table[TIME] = t
    return y, p, t, table


class _Budget:
    """The time budget of one model's symbolic work (:data:`~immunesim.limits.SYMBOLIC_BUDGET_S`).

    Checked between expressions, and in the main thread also by a timer signal, so that one
    long SymPy call (a derivative that grows without end) is interrupted too. The error names
    the expression being worked on."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.where = "the model"

    def at(self, where: str) -> None:
        self.where = where
        if time.monotonic() > self.deadline:
            self.fail()

    def fail(self, *_):
        raise ExpressionError(f"{self.where}: the symbolic work (rules, rates, Jacobian) of the "
                              f"model took longer than its budget of {self.seconds:g} s; simplify "
                              "this expression")


@contextlib.contextmanager
def symbolic_budget(seconds: float | None = None):
    """Context of a model's symbolic work; yields the :class:`_Budget` to check against."""
    seconds = limits.SYMBOLIC_BUDGET_S if seconds is None else seconds
    budget = _Budget(seconds)
    timer = (threading.current_thread() is threading.main_thread()
             and hasattr(signal, "setitimer") and signal.getsignal(signal.SIGALRM) in
             (signal.SIG_DFL, signal.SIG_IGN, None))
    if timer:
        old = signal.signal(signal.SIGALRM, budget.fail)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield budget
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def build_symbolic(model: Model, budget: _Budget | None = None, extra=()) -> SymbolicModel:
    """Substitute rules, sum process rates into the RHS and differentiate exactly, within the
    symbolic time budget (``budget``: one already running, as :func:`symbolic_budget` gives).
    ``extra``: more parsed expressions over the model's names (its events' values), returned
    with the rules substituted, in ``extra``."""
    if budget is not None:
        return _build(model, budget, extra)
    with symbolic_budget() as budget:
        return _build(model, budget, extra)


def _build(model: Model, budget: _Budget, extra=()) -> SymbolicModel:
    import sympy as sp

    y, _, t, table = symbols_for(model)
    rule_exprs = []
    for rule in model.rules:  # already in dependency order
        budget.at(f"rule '{rule.name}'")
        expr = to_sympy(rule.parsed, table, f"rule '{rule.name}'")
        table[rule.name] = expr
        rule_exprs.append(expr)
    rhs = [sp.Integer(0)] * len(y)
    for proc in model.processes:
        budget.at(f"process '{proc.name}' rate")
        rate = to_sympy(proc.parsed, table, f"process '{proc.name}' rate")
        for name, coeff in proc.stoichiometry.items():
            i = model.species_index[name]
            c = sp.Integer(int(coeff)) if float(coeff).is_integer() else sp.Float(coeff)
            rhs[i] = rhs[i] + c * rate
    jac = []
    column = {yj: j for j, yj in enumerate(y)}
    for i, f in enumerate(rhs):
        # the species f depends on, in column order (not every species: O(n^2) for big models)
        for j in sorted(column[s] for s in f.free_symbols if s in column):
            budget.at(f"the Jacobian entry d({model.species[i].name}')/d({model.species[j].name}) "
                      f"(from the rates of processes changing {model.species[i].name})")
            d = sp.diff(f, y[j])
            if d != 0:
                jac.append(((i, j), d))
    dfdt = []
    for i, f in enumerate(rhs):
        budget.at(f"the time derivative of {model.species[i].name}'")
        dfdt.append(sp.diff(f, t) if t in f.free_symbols else sp.Integer(0))
    more = []
    for k, x in enumerate(extra):
        budget.at(f"event value {k}")
        more.append(to_sympy(x, table, f"event value {k}"))
    return SymbolicModel(rhs=rhs, jacobian=jac, dfdt=dfdt, observed=y + rule_exprs,
                         time_dependent=any(d != 0 for d in dfdt), extra=more)
