"""One-parameter scans of steady states: pseudo-arclength continuation with fold detection.

The branch of steady states ``f(y, lam) = 0`` is followed by arclength ``s`` in scaled
coordinates ``z = (y / y_scale, lam / lam_scale)`` (Keller's method; Allgower & Georg,
*Introduction to Numerical Continuation Methods*, SIAM 2003, doi:10.1137/1.9780898719154,
ch. 2): an Euler predictor along the tangent, then Newton on ``f = 0`` plus the arclength
condition. Unlike a sweep of the parameter, it goes round folds (saddle-node points), so
a bistable branch is traced whole: both stable sheets and the unstable middle one. Folds
are where ``d lam / d s`` changes sign; each is refined by bisection on the arclength.
Stability at every point comes from the eigenvalues of the exact Jacobian.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import ModelError
from ..model.model import Model
from .system import System
from .steady_state import moving_eigenvalues, steady_state


@dataclass(frozen=True)
class Branch:
    """A branch of steady states against one parameter.

    Attributes
    ----------
    parameter : the parameter's name; ``values`` its value at each point.
    y : species values, ``(n_points, n_species)``.
    stable : stability of each point; ``max_real`` the largest eigenvalue real part.
    folds : parameter values of the fold (saddle-node) points found, in branch order.
    complete : the branch reached the end of the interval (False: ``max_points`` ran out).
    """

    model: str
    parameter: str
    species: tuple
    values: np.ndarray
    y: np.ndarray = field(repr=False)
    stable: np.ndarray = field(repr=False)
    max_real: np.ndarray = field(repr=False)
    folds: tuple
    complete: bool = True

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.species:
            raise KeyError(f"'{name}' is not a species of model '{self.model}'")
        return self.y[:, self.species.index(name)]

    def bistable_range(self) -> tuple[float, float] | None:
        """(low, high) parameter interval between the outermost folds, if two were found."""
        if len(self.folds) < 2:
            return None
        return (min(self.folds), max(self.folds))

    def stable_states_at(self, value: float) -> list[np.ndarray]:
        """Stable steady states at parameter ``value``, interpolated along each stable piece."""
        out = []
        v = self.values
        for k in range(len(v) - 1):
            lo, hi = sorted((v[k], v[k + 1]))
            if lo <= value <= hi and self.stable[k] and self.stable[k + 1] and hi > lo:
                w = (value - v[k]) / (v[k + 1] - v[k])
                out.append((1 - w) * self.y[k] + w * self.y[k + 1])
        return out


class _Arclength:
    def __init__(self, system: System, index: int, y_scale: np.ndarray, lam_scale: float):
        self.sys, self.index = system, index
        self.sy, self.sl = y_scale, lam_scale
        self.frozen = np.zeros(len(y_scale), dtype=bool)

    def freeze_stationary(self, y, lam):
        """Hold fixed the species that do not move (zero Jacobian row, zero rate) at the
        first point, e.g. an accumulator switched off: their zero rows would make every
        corrector system singular. Each gets the equation ``dy_i = 0`` instead."""
        J = self.sys.jacobian(y, self.sys.with_parameter(self.index, lam))
        self.frozen = ~np.any(J != 0.0, axis=1) & (self.F(y, lam) == 0.0)

    def F(self, y, lam):
        return self.sys.f(y, self.sys.with_parameter(self.index, lam))

    def F_lam(self, y, lam):
        h = 1e-7 * max(abs(lam), self.sl * 1e-3)
        return (self.F(y, lam + h) - self.F(y, lam - h)) / (2 * h)

    def full_jacobian(self, y, lam):
        """d F / d z in scaled coordinates: n x (n + 1)."""
        J = self.sys.jacobian(y, self.sys.with_parameter(self.index, lam))
        A = np.hstack([J * self.sy[None, :], (self.F_lam(y, lam) * self.sl)[:, None]])
        rows = np.flatnonzero(self.frozen)
        A[rows, :] = 0.0
        A[rows, rows] = 1.0
        return A

    def tangent(self, y, lam, previous):
        """Unit null vector of the n x (n+1) Jacobian, oriented along ``previous``.

        Taken from the SVD (the right singular vector of the smallest singular value), not by
        bordering the Jacobian with ``previous``: the bordered system is singular whenever
        ``previous`` is nearly orthogonal to the new tangent (a sharp fold).
        """
        A = self.full_jacobian(y, lam)
        t = np.linalg.svd(A)[2][-1]
        if t @ previous < 0:
            t = -t
        return t / np.linalg.norm(t)

    def correct(self, z_pred, t_pred, max_iter=12, tol=1e-10):
        z = z_pred.copy()
        for it in range(max_iter):
            y, lam = z[:-1] * self.sy, z[-1] * self.sl
            G = np.append(self.F(y, lam), t_pred @ (z - z_pred))
            A = np.vstack([self.full_jacobian(y, lam), t_pred[None, :]])
            try:
                dz = np.linalg.solve(A, -G)
            except np.linalg.LinAlgError:
                return None, it
            if not np.all(np.isfinite(dz)):
                return None, it
            z = z + dz
            if np.max(np.abs(dz)) < tol * max(1.0, np.max(np.abs(z))):
                return z, it + 1
        return None, max_iter


def continuation(model: Model, parameter: str, start: float, stop: float, *,
                 params: Mapping[str, float] | None = None, guess=None,
                 settle: float | None = None, step: float = 0.01, max_step: float = 0.05,
                 max_points: int = 5000) -> Branch:
    """Follow the steady state found at ``parameter = start`` until ``parameter`` leaves
    ``[start, stop]`` (either end), going round folds.

    Parameters
    ----------
    guess, settle : as in :func:`~immunesim.analysis.steady_state` (the first point).
    step, max_step : arclength steps in scaled coordinates: the parameter in units of
        ``|stop - start|``, each species in units of its current magnitude.
    """
    if not (np.isfinite(start) and np.isfinite(stop)) or start == stop:
        raise ModelError(f"continuation of '{parameter}': start and stop must be finite and "
                         f"different, got {start!r}, {stop!r}")

    idx = model.index_of(parameter, "parameter")
    first = steady_state(model, {**(params or {}), parameter: start}, guess, settle=settle)
    system = System(model, params)
    y0 = first.y
    # species scales follow the branch (|y|, floored), so that a species growing by orders of
    # magnitude along the branch does not shrink the parameter's share of each step
    floor = 1e-3 * np.maximum(np.abs(y0), np.abs(model.initial_vector()))
    # a species at (numerically) zero, such as an absent pathogen, is resolved to 1e-6 of its
    # units (assumed negligible in this package's units): a smaller scale would shrink its
    # Jacobian column until it looked like a free direction of the branch
    floor = np.maximum(floor, 1e-6)
    lam_scale = abs(stop - start)
    arc = _Arclength(system, idx, np.maximum(np.abs(y0), floor), lam_scale)
    direction = np.zeros(len(y0) + 1)
    direction[-1] = np.sign(stop - start)
    arc.freeze_stationary(y0, float(start))
    lo, hi = sorted((start, stop))
    ys, lams, folds = [y0.copy()], [float(start)], []
    y, lam = y0.copy(), float(start)
    t = arc.tangent(y, lam, direction)
    ds, complete = step, False
    while len(lams) < max_points:
        z = np.append(y / arc.sy, lam / lam_scale)
        z_new, iters = arc.correct(z + ds * t, t)
        if z_new is None:
            ds *= 0.5
            if ds < 1e-9:
                raise ModelError(f"continuation of '{parameter}' stalled at {parameter} = "
                                 f"{lam:.6g} (the corrector fails even for tiny steps: a "
                                 "branch point or a singular Jacobian)")
            continue
        y_new, lam_new = z_new[:-1] * arc.sy, z_new[-1] * lam_scale
        t_new = arc.tangent(y_new, lam_new, t)
        # a fold: d lam/ds changes sign (not rounding noise in an all-but-vertical tangent)
        if (np.sign(t_new[-1]) != np.sign(t[-1])
                and max(abs(t_new[-1]), abs(t[-1])) > 1e-9):
            folds.append(_refine_fold(arc, z, t, ds) * lam_scale)
        # rescale to the new point: the tangent is the same direction in the new coordinates
        new_sy = np.maximum(np.abs(y_new), floor)
        t_new = np.append(t_new[:-1] * arc.sy / new_sy, t_new[-1])
        t = t_new / np.linalg.norm(t_new)
        arc.sy = new_sy
        y, lam = y_new, lam_new
        ys.append(y.copy())
        lams.append(lam)
        if not lo <= lam <= hi:
            complete = True
            break
        ds = min(ds * 1.5, max_step) if iters <= 3 else max(ds * 0.7, 1e-6)
    Y, lam = np.array(ys), np.array(lams)
    max_real = np.empty(len(lam))
    for k in range(len(lam)):
        ev = moving_eigenvalues(system.jacobian(Y[k], system.with_parameter(idx, lam[k])))
        max_real[k] = ev[0].real if ev.size else -np.inf
    return Branch(model=model.name, parameter=parameter, species=model.species_names,
                  values=lam, y=Y, stable=max_real < 0, max_real=max_real, folds=tuple(folds),
                  complete=complete)


def _refine_fold(arc: _Arclength, z, t, ds, iters: int = 60) -> float:
    """Scaled parameter value where d lam/ds = 0 between ``z`` and ``z + ds t`` (bisection)."""
    a, b = 0.0, ds
    best = z[-1]
    for _ in range(iters):
        m = 0.5 * (a + b)
        zm, _ = arc.correct(z + m * t, t)
        if zm is None:
            break
        tm = arc.tangent(zm[:-1] * arc.sy, zm[-1] * arc.sl, t)
        best = zm[-1]
        if np.sign(tm[-1]) == np.sign(t[-1]):
            a = m
        else:
            b = m
        if b - a < 1e-13:
            break
    return float(best)
