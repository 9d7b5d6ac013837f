"""Counter-based random numbers for the tissue kernels.

Every draw is a pure function of ``(seed, step, stream, k)``: the stream is an agent's
unique id (or a lattice site's), ``k`` numbers the draws that agent makes in one step.
Nothing is carried between draws, so the numbers an agent sees do not depend on which
thread updates it or in what order: one seed gives bit-identical lattices with any thread
count. The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA, doi:10.1145/2714064.2660195), applied twice so
that neighbouring counters give independent outputs.
"""

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_M3 = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0   # 2**-53

#: stream offsets: agents use their uid (< 2**60); sites use SITE_STREAM + site index
SITE_STREAM = 1 << 61


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def uniform(seed, step, stream, k):
    """A uniform number in [0, 1) for draw ``k`` of ``stream`` at ``step``."""
    z = _mix(np.uint64(seed) + _GOLDEN * (np.uint64(stream) + np.uint64(1)))
    z = _mix(z ^ (np.uint64(step) * _M3 + np.uint64(k) * _GOLDEN))
    return np.float64(z >> _S11) * _INV53


@njit(cache=True, inline="always")
def happens(rate, dt, u):
    """True with the probability ``1 - exp(-rate*dt)`` of an event at ``rate`` (1/day) in ``dt``.

    ``1 - exp(-x) <= x``, so a draw ``u >= x`` fails without the exponential: the same
    outcome as the exact test, and most draws end there (rates times dt are small)."""
    x = rate * dt
    return rate > 0.0 and u < x and u < -math.expm1(-x)


@njit(cache=True, inline="always")
def chance(rate, dt, seed, step, stream, k):
    """``happens(rate, dt, uniform(seed, step, stream, k))``, drawing only when ``rate > 0``:
    the same outcome (a zero rate never fires whatever the draw), without the draw's cost for
    the many agents whose rules cannot fire this step."""
    return rate > 0.0 and happens(rate, dt, uniform(seed, step, stream, k))
