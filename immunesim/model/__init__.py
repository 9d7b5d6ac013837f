"""Declarative models: species, parameters, rules, processes and their validation."""
from .components import Event, Parameter, Process, Rule, Species
from .model import Model

__all__ = ["Event", "Model", "Parameter", "Process", "Rule", "Species"]
