"""Exception types raised by immunesim.

Every error a user can cause names what was wrong and what is allowed, so that
a command-line front end can print the message alone, without a traceback.
"""


class ImmunesimError(Exception):
    """Base class of every error immunesim raises on purpose."""


#: longest problem line and most problems an error carries: a message never echoes a huge
#: input whole, and a file with a million mistakes is not a million lines of output
MAX_PROBLEM_CHARS = 1000
MAX_PROBLEMS = 200


def problem_lines(problems) -> list[str]:
    """``problems`` as a list of lines, each cut to :data:`MAX_PROBLEM_CHARS`, at most
    :data:`MAX_PROBLEMS` of them (the last line then says how many more there were)."""
    lines = [problems] if isinstance(problems, str) else list(problems)
    out = [p if len(p) <= MAX_PROBLEM_CHARS else p[:MAX_PROBLEM_CHARS] + " ..." for p in map(str, lines)]
    if len(out) > MAX_PROBLEMS:
        out = out[:MAX_PROBLEMS] + [f"... and {len(out) - MAX_PROBLEMS} more problems"]
    return out


class InputError(ImmunesimError, ValueError):
    """An input (a file, a command-line value) that cannot be read or is out of bounds."""


class ExpressionError(ImmunesimError, ValueError):
    """A rate law or rule could not be parsed or uses something not allowed."""


class ModelError(ImmunesimError, ValueError):
    """A model definition is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems):
        self.problems = problem_lines(problems)
        text = "; ".join(self.problems) if len(self.problems) == 1 else (
            f"{len(self.problems)} problems in the model:\n  - " + "\n  - ".join(self.problems))
        super().__init__(text)


class SimulationError(ImmunesimError, RuntimeError):
    """An integration failed; ``result`` holds what was computed up to the failure."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


class TrialError(ImmunesimError):
    """A virtual trial that cannot run or resume (the message says why and what to do)."""
