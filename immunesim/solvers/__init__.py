"""ODE solvers: the registry of methods (:mod:`.registry`), Rosenbrock tableaus
(:mod:`.tableaus`) and validated options (:mod:`.options`).

Every method runs in generated Numba kernels with one contract::

    <method>_segment(t, t_stop, h, y, p, u, rtol, atol, hmax, max_steps,
                     t_out, j, out, stats, ws, jv, w, A, piv, obs) -> (status, t, h_next, j)

It integrates from ``t`` to exactly ``t_stop`` in place on ``y``, writes every output time
``t_out[j] < t_stop`` it passes into ``out`` by dense output (through ``record``, with ``obs``
as its scratch row), counts its work in ``stats``, and returns a status code
(:mod:`immunesim.status`). The shared driver handles events and output at segment ends.
"""

from .options import SolverOptions, check_tolerance
from .registry import METHODS, SOLVERS, Solver

__all__ = ["METHODS", "SOLVERS", "Solver", "SolverOptions", "check_tolerance"]
