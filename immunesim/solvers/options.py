"""Validated, frozen solver options."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..limits import MAX_STEPS

#: method name -> description (order, kind)
METHODS = {
    "rodas5p": "Rosenbrock 5(4), L-stable, exact Jacobian, sparse LU: stiff models (default)",
    "rodas4": "Rosenbrock 4(3), L-stable, exact Jacobian, sparse LU: stiff models",
    "dopri5": "Dormand-Prince 5(4), explicit: non-stiff models",
}


@dataclass(frozen=True, kw_only=True)
class SolverOptions:
    """Method and tolerances of a run.

    The local error of each step is kept below ``atol + rtol*|y|`` per
    component (RMS norm over components). ``atol`` is a scalar or one value per
    species, in the species' units.
    """

    method: str = "rodas5p"
    rtol: float = 1e-6
    atol: float | tuple = 1e-9
    max_steps: int = 100_000
    first_step: float | None = None
    max_step: float | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ModelError(f"method '{self.method}' is not known; choose one of: "
                             + "; ".join(f"{k} ({v})" for k, v in METHODS.items()))
        if not (isinstance(self.rtol, (int, float)) and 1e-14 <= self.rtol < 1):
            raise ModelError(f"rtol must be a number in [1e-14, 1), got {self.rtol!r}")
        atol = np.atleast_1d(np.asarray(self.atol, dtype=float))
        if atol.ndim != 1 or not np.all(np.isfinite(atol)) or np.any(atol <= 0):
            raise ModelError(f"atol must be a positive number or one per species, got {self.atol!r}")
        if (isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int)
                or not 1 <= self.max_steps <= MAX_STEPS):
            raise ModelError(f"max_steps must be an integer in [1, {MAX_STEPS}], got {self.max_steps!r}")
        for name in ("first_step", "max_step"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and v > 0 and not math.isnan(v)):
                raise ModelError(f"{name} must be a positive number or None, got {v!r}")

    def atol_vector(self, n: int) -> np.ndarray:
        atol = np.atleast_1d(np.asarray(self.atol, dtype=np.float64))
        if atol.size == 1:
            return np.full(n, float(atol[0]))
        if atol.size != n:
            raise ModelError(f"atol has {atol.size} values but the model has {n} species")
        return atol.copy()
