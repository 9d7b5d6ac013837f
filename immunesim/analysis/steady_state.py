"""Steady states by damped Newton iteration on the compiled right-hand side, with stability.

A steady state ``y*`` solves ``f(y*) = 0``. Its local stability comes from the eigenvalues
of the exact Jacobian ``J(y*)``: asymptotically stable when every real part is negative
(Hartman-Grobman; e.g. Strogatz, *Nonlinear Dynamics and Chaos*, 2nd ed., sec. 6.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import ModelError
from ..model.model import Model
from .system import System
from ..simulate import simulate


@dataclass(frozen=True)
class SteadyState:
    """A steady state of a model.

    Attributes
    ----------
    y : species values (model order); ``values`` adds the assignment rules by name.
    eigenvalues : of the Jacobian at ``y``, sorted by decreasing real part, leaving out species
        that do not move (zero Jacobian row; see :func:`moving_eigenvalues`).
    stable : every eigenvalue has a negative real part.
    residual : ``max |f_i(y)| / (|y_i| + atol)`` at the solution (per unit time).
    iterations : Newton iterations used.
    """

    model: str
    y: np.ndarray
    values: dict = field(repr=False)
    eigenvalues: np.ndarray = field(repr=False)
    stable: bool
    residual: float
    iterations: int

    def __getitem__(self, name: str) -> float:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"'{name}' is not a variable of model '{self.model}' "
                           f"(variables: {', '.join(self.values)})") from None

    @property
    def max_real_eigenvalue(self) -> float:
        return float(self.eigenvalues[0].real)


def newton(system: System, y0: np.ndarray, p: np.ndarray | None = None, *, rtol: float = 1e-10,
           atol: float = 1e-12, max_iter: int = 100) -> tuple[np.ndarray, int]:
    """Damped Newton on ``f(y) = 0`` from ``y0``: (solution, iterations); ModelError if it fails.

    Converged when every Newton correction satisfies ``|dy_i| <= rtol |y_i| + atol``. The step
    is halved while it does not decrease ``||f||`` (Armijo backtracking).
    """
    y = np.array(y0, dtype=np.float64)
    fy = system.f(y, p)
    norm = np.linalg.norm(fy)
    for it in range(1, max_iter + 1):
        J = system.jacobian(y, p)
        try:
            dy = np.linalg.solve(J, -fy)
        except np.linalg.LinAlgError:
            dy = np.linalg.lstsq(J, -fy, rcond=None)[0]
        if not np.all(np.isfinite(dy)):
            break
        if np.all(np.abs(dy) <= rtol * np.abs(y) + atol):
            # already converged: a line search could not lower ||f|| below round-off anyway
            return y + dy, it
        lam = 1.0
        while True:
            y_new = y + lam * dy
            f_new = system.f(y_new, p)
            n_new = np.linalg.norm(f_new)
            if np.isfinite(n_new) and (n_new <= (1 - 1e-4 * lam) * norm or lam < 1e-6):
                break
            lam *= 0.5
        y, fy, norm = y_new, f_new, n_new
        if lam < 1e-6:
            break
    raise ModelError(f"steady state of model '{system.model.name}': Newton iteration did not "
                     f"converge from the given guess (|f| = {norm:.3g} after {it} iterations); "
                     "give a closer guess, or settle=<time> to integrate towards an attractor first")


def moving_eigenvalues(J: np.ndarray) -> np.ndarray:
    """Eigenvalues of ``J`` without the species that do not move, sorted by decreasing real part.

    A species whose Jacobian row is identically zero (an accumulator switched off, such as
    irreversible damage with its rate set to 0, or a constant held as a species) contributes
    an exact eigenvalue 0 and nothing else: expanding ``det(J - lambda I)`` along that row
    leaves the eigenvalues of ``J`` with that row and column removed. Stability is judged on
    the species that move.
    """
    keep = np.any(J != 0.0, axis=1)
    ev = np.linalg.eigvals(J[np.ix_(keep, keep)]) if keep.any() else np.zeros(0)
    return ev[np.argsort(-ev.real)]


def describe_point(system: System, y: np.ndarray, p: np.ndarray | None, iterations: int,
                   atol: float) -> SteadyState:
    ev = moving_eigenvalues(system.jacobian(y, p))
    fy = system.f(y, p)
    obs = system.observe(y, p)
    names = system.model.variable_names
    return SteadyState(model=system.model.name, y=y.copy(),
                       values={k: float(v) for k, v in zip(names, obs)}, eigenvalues=ev,
                       stable=bool(ev.size == 0 or ev[0].real < 0), residual=float(np.max(np.abs(fy) / (np.abs(y) + atol))),
                       iterations=iterations)


def steady_state(model: Model, params: Mapping[str, float] | None = None, guess=None, *,
                 settle: float | None = None, rtol: float = 1e-10, atol: float = 1e-12,
                 max_iter: int = 100) -> SteadyState:
    """Find a steady state of ``model`` near ``guess`` and classify its stability.

    Parameters
    ----------
    params : parameter overrides ``{name: value}``.
    guess : starting state, ``{species: value}`` (others from the model's initial values) or
        an array in model order. Default: the model's initial state.
    settle : integrate this long (model time units) from ``guess`` before the Newton
        iteration, to land in the basin of the attractor reached from ``guess``.
    rtol, atol : convergence test on the Newton correction (see :func:`newton`).

    Returns
    -------
    :class:`SteadyState`.
    """
    system = System(model, params)
    if guess is None or isinstance(guess, Mapping):
        y0 = model.initial_vector(guess)
    else:
        y0 = np.array(guess, dtype=np.float64)
        if y0.shape != (system.n,):
            raise ModelError(f"guess must have one value per species ({system.n}), "
                             f"got shape {y0.shape}")
    if settle is not None:
        if not settle > 0:
            raise ModelError(f"settle must be a positive time, got {settle!r}")
        r = simulate(model, [0.0, float(settle)], params=params,
                     y0=dict(zip(model.species_names, y0)), rtol=1e-8, atol=1e-10)
        y0 = r.dataset["y"].values[-1, :system.n]
    y, it = newton(system, y0, rtol=rtol, atol=atol, max_iter=max_iter)
    return describe_point(system, y, None, it, atol)
