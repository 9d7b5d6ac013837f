"""Virtual populations: parameter distributions, covariates and their sampling.

A population draws, for each candidate patient, model parameters and covariates:

- **parameters** ``{name: distribution}``: ``{lognormal: CV}`` (median = the model's value
  with the scenario's overrides, or ``{lognormal: {cv, median}}``), ``{normal: [mean, sd]}``,
  ``{uniform: [low, high]}``, in the parameter's unit. Draws outside the parameter's bounds
  are rejected (counted, with the reason). Correlations: ``correlation`` is a matrix over the
  listed parameters (in their order) applied as a Gaussian copula: ``z ~ N(0, R)``, each
  marginal ``x = F^-1(Phi(z))``, so every marginal is exactly as given and ``R`` is the
  rank-preserving (normal-score) correlation (Nelsen 2006, *An Introduction to Copulas*,
  doi:10.1007/0-387-28678-0).
- **covariates**: ``body_weight`` (a distribution, kg; default 70 kg), ``age`` (years;
  default 55), ``sex`` ``{female: fraction}`` (default 0.5), and ``genotypes``
  ``{covariate: risk-allele frequency}`` for the allele-count covariates of
  :data:`immunesim.COVARIATES`, drawn as ``Binomial(2, p)`` (Hardy-Weinberg equilibrium,
  assumed) and applied with that covariate's per-allele factor.
- **covariate_effects**: ``[{parameter, female: factor}]``, ``[{parameter, age: {per_decade,
  reference}}]`` (``factor^((age - reference)/10)``) or ``[{parameter, body_weight:
  {exponent, reference}}]`` (``(W/reference)^exponent``), multiplying the parameter after its
  own draw. Body weight also scales each drug's PK (allometry) and weight-based doses.

Sampling is by blocks of 64 candidates, block ``b`` drawn from
``SeedSequence(seed, spawn_key=(b,))``: a patient's draws depend only on the seed and its
candidate number, never on how a run is split into chunks (multiples of 64), on workers or on
resuming.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..diseases.covariates import COVARIATES
from ..drugs.pk import population_parameters

#: candidates per sampling block; chunks of a trial run are whole numbers of blocks
BLOCK = 64

LOGNORMAL, NORMAL, UNIFORM = "lognormal", "normal", "uniform"
DISTRIBUTIONS = (LOGNORMAL, NORMAL, UNIFORM)


@dataclass(frozen=True)
class Distribution:
    """One marginal: ``lognormal`` (a = median or None for the model value, b = CV),
    ``normal`` (a = mean, b = sd) or ``uniform`` (a = low, b = high)."""

    kind: str
    a: float | None
    b: float

    def from_normal(self, z: np.ndarray, typical: float) -> np.ndarray:
        """Values with standard-normal scores ``z`` (the copula's quantile transform)."""
        if self.kind == LOGNORMAL:
            median = typical if self.a is None else self.a
            sigma = np.sqrt(np.log1p(self.b ** 2))  # CV of a log-normal = sqrt(exp(s^2) - 1)
            return median * np.exp(sigma * z)
        if self.kind == NORMAL:
            return self.a + self.b * z
        from scipy import special    # here: SciPy's import is 0.2 s of every command's start

        return self.a + (self.b - self.a) * special.ndtr(z)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class CovariateEffect:
    """``parameter`` multiplied by a function of one covariate (see the module docstring)."""

    parameter: str
    covariate: str            # "sex" | "age" | "body_weight"
    factor: float             # female factor, factor per decade, or exponent
    reference: float = 0.0

    def multiplier(self, cov: dict) -> np.ndarray:
        if self.covariate == "sex":
            return np.where(cov["female"], self.factor, 1.0)
        if self.covariate == "age":
            return self.factor ** ((cov["age"] - self.reference) / 10.0)
        return (cov["body_weight"] / self.reference) ** self.factor


@dataclass(frozen=True)
class Population:
    """A validated virtual-population specification (see the module docstring)."""

    size: int
    parameters: dict = field(default_factory=dict)       # name -> Distribution
    correlation: tuple | None = None                      # rows of R over `parameters`' order
    body_weight: Distribution | None = None
    age: Distribution | None = None
    female: float = 0.5
    genotypes: dict = field(default_factory=dict)         # covariate -> allele frequency
    effects: tuple = ()                                   # CovariateEffect
    constraints: tuple = ()                               # Constraint (immunesim.scenario.endpoints)
    max_candidates: int | None = None
    background: tuple = ()     # Regimen: therapies of every patient, run-in and every arm (e.g. MTX)

    def draw(self, seed: int, first_block: int, n_blocks: int, model, pk_drugs=(),
             overrides=None) -> tuple[np.ndarray, dict]:
        """``draw_block`` for consecutive blocks, concatenated."""
        parts = [self.draw_block(seed, b, model, pk_drugs, overrides)
                 for b in range(first_block, first_block + n_blocks)]
        P = np.concatenate([p for p, _ in parts])
        cov = {k: np.concatenate([c[k] for _, c in parts]) for k in parts[0][1]}
        return P, cov

    def draw_block(self, seed: int, block: int, model, pk_drugs=(), overrides=None) -> tuple[np.ndarray, dict]:
        """Parameter matrix (BLOCK x model parameters) and covariates of candidate block
        ``block``; rows are candidates ``block*BLOCK ... block*BLOCK + BLOCK - 1``. The typical
        values are the model's with the scenario's ``overrides`` (``parameters:``) applied."""
        ss = np.random.SeedSequence(seed, spawn_key=(block,))
        rng_par, rng_cov, rng_pk = (np.random.default_rng(s) for s in ss.spawn(3))
        n = BLOCK
        P = np.tile(model.parameter_vector(overrides or None), (n, 1))
        names = list(self.parameters)
        if names:
            z = rng_par.standard_normal((n, len(names)))
            if self.correlation is not None:
                z = z @ np.linalg.cholesky(np.asarray(self.correlation)).T
            for j, name in enumerate(names):
                k = model.parameter_index[name]
                P[:, k] = self.parameters[name].from_normal(z[:, j], float(P[0, k]))
        cov = {"candidate": np.arange(block * n, (block + 1) * n, dtype=np.int64)}
        zc = rng_cov.standard_normal((n, 2))
        cov["body_weight"] = (self.body_weight.from_normal(zc[:, 0], 70.0) if self.body_weight
                              else np.full(n, 70.0))
        cov["age"] = self.age.from_normal(zc[:, 1], 55.0) if self.age else np.full(n, 55.0)
        cov["female"] = rng_cov.random(n) < self.female
        for name in sorted(COVARIATES):      # fixed order: one stream whatever is listed
            if COVARIATES[name]["kind"] != "multiply_parameter":
                continue
            alleles = rng_cov.binomial(2, self.genotypes.get(name, 0.0), n)
            if name in self.genotypes:
                spec = COVARIATES[name]
                cov[name] = alleles
                P[:, model.parameter_index[spec["target"]]] *= spec["factor"] ** alleles
        for eff in self.effects:
            P[:, model.parameter_index[eff.parameter]] *= eff.multiplier(cov)
        if "body_weight" in model.parameter_index:
            P[:, model.parameter_index["body_weight"]] = cov["body_weight"]
        for drug in pk_drugs:   # every drug of the trial, whatever the arm: common random numbers
            w = np.clip(cov["body_weight"], 1.0, None)
            for pname, values in population_parameters(drug, w, rng_pk).items():
                col = model.parameter_index.get(f"{drug}_{pname}")
                if col is not None:
                    P[:, col] = values
        return P, cov
