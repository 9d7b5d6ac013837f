"""immunesim: immune-system simulation for autoimmune disease and immunotherapy.

The public API. Everything not re-exported here is private and may change.

>>> import immunesim as im
>>> m = im.Model("decay", species=[im.Species(name="X", unit="mg", initial=1.0)],
...              parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="assumed: demo")],
...              processes=[im.Process(name="elim", rate="k*X", stoichiometry={"X": -1})])
>>> r = im.simulate(m, t_eval=[0, 1, 2])
>>> round(float(r["X"][-1]), 6)
0.367879
"""

from .analysis import Branch, SteadyState, continuation, steady_state
from .diseases.build import disease_model, diseases
from .diseases.covariates import COVARIATES
from .diseases.reference import REFERENCE_MODELS, reference_model
from .errors import ExpressionError, ImmunesimError, InputError, ModelError, SimulationError
from .events import Bolus, Infusion, SetParameter, SetSpecies, doses
from .model import Event, Model, Parameter, Process, Rule, Species
from .model.loader import load_model, model_from_dict
from .model.sbml import SBMLModel, load_sbml
from .result import Result
from .simulate import simulate, simulate_batch
from .solvers import METHODS, SolverOptions
from .status import STATUS_NAMES
from .tissue import TissueConfig, meanfield_model

__all__ = [
    "COVARIATES", "disease_model", "diseases",
    "Branch", "REFERENCE_MODELS", "SteadyState", "continuation", "reference_model", "steady_state",
    "Bolus", "Event", "ExpressionError", "ImmunesimError", "Infusion", "InputError", "METHODS", "Model", "ModelError",
    "Parameter", "Process", "Result", "Rule", "STATUS_NAMES", "SetParameter", "SetSpecies",
    "SimulationError", "SolverOptions", "Species", "doses", "load_model", "model_from_dict",
    "simulate", "simulate_batch", "SBMLModel", "load_sbml", "Tissue", "TissueConfig", "meanfield_model",
    "open_trajectories", "run_trial", "load_scenario", "run", "compare", "trial", "run_scenario",
]

# Scenarios and the trial machinery (Pint, SciPy's statistics, Dask) take ~0.6 s to import, more
# than half of a new process's start when it only simulates, and the tissue's lattice imports
# Numba: they are imported when first used (PEP 562).
_LAZY = {"open_trajectories": "immunesim.cohort", "trial": "immunesim.cohort",
         "run_trial": "immunesim.io.trial", "run_scenario": "immunesim.io.run",
         "load_scenario": "immunesim.scenario", "run": "immunesim.scenario",
         "compare": "immunesim.scenario",
         # the agent-based tissue's lattice needs Numba (0.2 s), which a single ODE run on the
         # ahead-of-time generic kernels never loads
         "Tissue": "immunesim.tissue"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'immunesim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
