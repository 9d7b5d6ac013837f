"""Fitting models to data: PEtab problems (:mod:`immunesim.fitting.petab_problem`)."""

from .petab_problem import PetabError, Problem, evaluate, load_problem, nllh_term

__all__ = ["PetabError", "Problem", "evaluate", "load_problem", "nllh_term"]
