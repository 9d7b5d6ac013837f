"""The model's right-hand side and Jacobian at fixed parameters, for Newton-type analysis.

Uses the same compiled kernels as :func:`immunesim.simulate` (``rhs``, ``jac_nz``,
``observe``), so steady states and scans analyse exactly the equations that are
simulated. Called from Python once per Newton iteration; the cost is a few microseconds.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..codegen import load_kernels
from ..errors import ModelError
from ..model.model import Model


class System:
    """``f(y)`` and ``J(y) = df/dy`` of an autonomous model at parameter vector ``p``."""

    def __init__(self, model: Model, params: Mapping[str, float] | None = None):
        self.model = model
        self.mod = load_kernels(model)
        if self.mod.TIME_DEP:
            raise ModelError(f"model '{model.name}' depends explicitly on time t; steady states "
                             "and parameter scans need an autonomous model")
        self.p = model.parameter_vector(params)
        self.n = len(model.species)
        self._u = np.zeros(self.n)

    def with_parameter(self, index: int, value: float) -> np.ndarray:
        p = self.p.copy()
        p[index] = value
        return p

    def f(self, y: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        dy = np.empty(self.n)
        self.mod.rhs(0.0, np.ascontiguousarray(y, dtype=np.float64),
                     self.p if p is None else p, self._u, dy)
        return dy

    def jacobian(self, y: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        jv = np.empty(max(self.mod.NNZ_J, 1))
        self.mod.jac_nz(0.0, np.ascontiguousarray(y, dtype=np.float64),
                        self.p if p is None else p, jv)
        J = np.zeros((self.n, self.n))
        J[self.mod.JROW, self.mod.JCOL] = jv[:self.mod.NNZ_J]
        return J

    def observe(self, y: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        row = np.empty(self.mod.N_OBS)
        self.mod.observe(0.0, np.ascontiguousarray(y, dtype=np.float64),
                         self.p if p is None else p, row)
        return row
