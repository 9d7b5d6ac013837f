"""Analysis of models: steady states with stability, and one-parameter continuation."""

from .continuation import Branch, continuation
from .steady_state import SteadyState, steady_state

__all__ = ["Branch", "SteadyState", "continuation", "steady_state"]
