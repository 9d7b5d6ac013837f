"""Virtual patients and in-silico trials (``immunesim trial``)."""

from ..scenario.population import Population
from .report import run_trial
from ..errors import TrialError
from .trial import open_trajectories

__all__ = ["Population", "TrialError", "open_trajectories", "run_trial"]
