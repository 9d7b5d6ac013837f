"""Scenarios: what a user writes (a disease preset with overrides, therapies, arms, a virtual
trial) validated into frozen data (:mod:`.schema`, one validator per section in
:mod:`.sections`), built into a model and events (:mod:`.build`), and run in
memory (:func:`run`, :func:`compare`). Units are :mod:`immunesim.units`; files are
:mod:`immunesim.io`."""

from .build import scenario_events, scenario_model
from .compare import Comparison, compare
from .run import run
from .scenario_result import ScenarioResult
from .schema import Scenario, ScenarioError, load_scenario, validate

__all__ = ["Comparison", "Scenario", "ScenarioError", "ScenarioResult", "compare", "load_scenario",
           "run", "scenario_events", "scenario_model", "validate"]
