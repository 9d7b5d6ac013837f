"""Scenario files: validation (:mod:`.schema`), running (:mod:`.run`); units are :mod:`immunesim.units`."""

from .run import run_scenario
from .schema import Scenario, ScenarioError, load_scenario, validate

__all__ = ["Scenario", "ScenarioError", "load_scenario", "run_scenario", "validate"]
