"""Exception types raised by immunesim.

Every error a user can cause names what was wrong and what is allowed, so that
a command-line front end can print the message alone, without a traceback.
"""


class ImmunesimError(Exception):
    """Base class of every error immunesim raises on purpose."""


class InputError(ImmunesimError, ValueError):
    """An input (a file, a command-line value) that cannot be read or is out of bounds."""


class ExpressionError(ImmunesimError, ValueError):
    """A rate law or rule could not be parsed or uses something not allowed."""


class ModelError(ImmunesimError, ValueError):
    """A model definition is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        text = "; ".join(self.problems) if len(self.problems) == 1 else (
            f"{len(self.problems)} problems in the model:\n  - " + "\n  - ".join(self.problems))
        super().__init__(text)


class SimulationError(ImmunesimError, RuntimeError):
    """An integration failed; ``result`` holds what was computed up to the failure."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result
