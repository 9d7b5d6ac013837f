"""Scenario files: validation (:mod:`.schema`), units (:mod:`.units`), running (:mod:`.run`)."""

from .run import run_scenario
from .schema import Scenario, ScenarioError, load_scenario, validate

__all__ = ["Scenario", "ScenarioError", "load_scenario", "run_scenario", "validate"]
