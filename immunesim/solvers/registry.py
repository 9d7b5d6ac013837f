"""The solvers immunesim has: one registry that code generation, :class:`SolverOptions`, scenario
files and the command line all read.

A solver is either

- a **Rosenbrock** method: a :class:`~immunesim.solvers.tableaus.Tableau`. Its stage code is
  generated from the table (:mod:`immunesim.codegen.rosenbrock`) and driven by the shared
  step control (``kernels/templates/rosenbrock.py``); or
- an **explicit** method with its own kernel template in ``kernels/templates/`` defining
  ``<name>_segment`` with the segment contract (:mod:`immunesim.solvers`).

Every solver gets ``solve_one_<name>`` and ``solve_batch_<name>`` from the shared driver
(``kernels/templates/driver.py``). Adding one is a table (or a template) and one entry in
:data:`SOLVERS` (README, Adding a solver).
"""

from __future__ import annotations

from dataclasses import dataclass

from .tableaus import RODAS4, RODAS5P, Tableau


@dataclass(frozen=True)
class Solver:
    """One ODE method: its name (the ``method`` users give), a one-line description, and
    either a Rosenbrock ``tableau`` or an explicit ``template`` file."""

    name: str
    description: str
    tableau: Tableau | None = None
    template: str | None = None

    def __post_init__(self):
        if (self.tableau is None) == (self.template is None):
            raise ValueError(f"solver {self.name}: give a tableau or a template, not both or neither")
        if self.tableau is not None and self.tableau.name != self.name:
            raise ValueError(f"solver {self.name}: its tableau is {self.tableau.name}'s")

    @property
    def segment(self) -> str:
        """The kernel function that integrates one segment between events."""
        return f"{self.name}_segment"


#: every solver, the default first
SOLVERS = {s.name: s for s in (
    Solver("rodas5p", "Rosenbrock 5(4), L-stable, exact Jacobian, sparse LU: stiff models (default)",
           tableau=RODAS5P),
    Solver("rodas4", "Rosenbrock 4(3), L-stable, exact Jacobian, sparse LU: stiff models",
           tableau=RODAS4),
    Solver("dopri5", "Dormand-Prince 5(4), explicit: non-stiff models", template="dopri5.py"),
)}

#: method name -> description
METHODS = {name: s.description for name, s in SOLVERS.items()}
