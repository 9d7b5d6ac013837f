"""Virtual patients and in-silico trials: sampling in chunks, execution backends, endpoints,
trial statistics, calibration and biomarker analysis (:func:`trial`; the files of
``immunesim trial`` are :mod:`immunesim.io.trial`)."""

from ..errors import TrialError
from ..scenario.population import Population
from .trial import open_trajectories
from .virtual_trial import TrialResult, trial

__all__ = ["Population", "TrialError", "TrialResult", "open_trajectories", "trial"]
