"""Solver methods and their options.

Every method is a kernel template in :mod:`immunesim.kernels` with one contract::

    <method>_segment(t, t_stop, h, y, p, u, rtol, atol, hmax, max_steps,
                     t_out, j, out, stats, ws, jv, w, A, piv, obs) -> (status, t, h_next, j)

It integrates from ``t`` to exactly ``t_stop`` in place on ``y``, writes every
output time ``t_out[j] < t_stop`` it passes into ``out`` by dense output
(through ``record``, with ``obs`` as its scratch row),
counts its work in ``stats``, and returns a status code
(:mod:`immunesim.status`). The shared driver handles events and output at
segment ends, so a new method plugs in by adding one template and one entry
in ``METHODS`` below and in :data:`immunesim.codegen.generate.METHODS`.
"""

from .options import METHODS, SolverOptions

__all__ = ["METHODS", "SolverOptions"]
