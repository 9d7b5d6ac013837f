"""Validated, frozen solver options."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..validation import clip, is_one_of
from ..limits import ATOL_MAX, ATOL_MIN, MAX_STEPS, RTOL_MAX, RTOL_MIN
from .registry import METHODS

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
        if not is_one_of(self.method, METHODS):
            raise ModelError(f"method {clip(self.method)} is not known; choose one of: "
                             + "; ".join(f"{k} ({v})" for k, v in METHODS.items()))
        problem = check_tolerance("rtol", self.rtol)
        if problem:
            raise ModelError(f"rtol {problem}")
        atol = np.atleast_1d(np.asarray(self.atol, dtype=float))
        if atol.ndim != 1 or any(check_tolerance("atol", float(a)) for a in atol):
            raise ModelError(f"atol must be a number in [{ATOL_MIN:g}, {ATOL_MAX:g}] or one per "
                             f"species, got {self.atol!r}")
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


def check_tolerance(name: str, value) -> str | None:
    """What is wrong (``"must be a number in ..., got ..."``) if ``value`` is not an allowed
    ``rtol`` or ``atol``, else None: the one check behind :class:`SolverOptions`, scenario
    files and the command line."""
    lo, hi = (RTOL_MIN, RTOL_MAX) if name == "rtol" else (ATOL_MIN, ATOL_MAX)
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and lo <= value
          and (value < hi if name == "rtol" else value <= hi))
    if ok:
        return None
    rng = f"[{lo:g}, {hi:g})" if name == "rtol" else f"[{lo:g}, {hi:g}]"
    return f"must be a number in {rng}, got {clip(value)}"
