"""Where a result came from: the versions of Python and of the packages that compute it.

One list, read by everything that records provenance: a simulation's dataset attributes
(:func:`version_attrs`, flat keys such as ``numpy_version``, as NetCDF attributes must be) and
every command's ``manifest.json`` (:func:`versions`, a mapping; :mod:`immunesim.io`).
"""

from __future__ import annotations

import functools
import platform
from importlib.metadata import PackageNotFoundError, version

#: the distributions whose versions every result and manifest records
PACKAGES = ("immunesim", "numpy", "scipy", "numba", "xarray", "pandas", "matplotlib",
            "h5netcdf", "pint", "pyyaml", "sympy")


@functools.lru_cache(maxsize=1)
def _lookup() -> tuple:
    out = [("python", platform.python_version())]
    for pkg in PACKAGES:
        try:
            out.append((pkg, version(pkg)))
        except PackageNotFoundError:     # e.g. running from a source tree without installing
            out.append((pkg, "not installed"))
    return tuple(out)


def versions() -> dict:
    """``{"python": ..., "immunesim": ..., "numpy": ..., ...}`` (``"not installed"`` where a
    package is absent). Looked up once per process."""
    return dict(_lookup())


def version_attrs() -> dict:
    """:func:`versions` as flat attributes: ``{"python_version": ..., "numpy_version": ...}``."""
    return {f"{k}_version": v for k, v in _lookup()}
