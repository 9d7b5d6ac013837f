"""Simulation results: an ``xarray.Dataset`` with units, provenance and per-run status.

Layout
------
``y``            trajectories, dims ``(time, variable)`` or ``(patient, time, variable)``
``status``       run status code (0 = success), scalar or per patient
``message``      readable status message, scalar or per patient
``n_steps`` ...  solver statistics (see :data:`immunesim.status.STAT_FIELDS`)
``parameters``   parameter values used, dims ``([patient,] parameter)``
coordinates      ``time`` (attr ``units``), ``variable`` with ``unit`` and ``kind``
attrs            model name and hashes, method, tolerances, package versions
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr
from xarray.backends import H5NetCDFStore
from xarray.backends.locks import HDF5_LOCK

from .errors import SimulationError
from .durable import atomic_path
from .validation import closest


#: the array libraries xarray checks every array against, and the module that must have been
#: imported before any object can be one of their arrays
_DUCK_ARRAY_MODULES = {"dask": "dask.array", "pint": "pint", "cupy": "cupy", "sparse": "sparse",
                       "cubed": "cubed"}


class _WhenImported:
    """xarray's record of an array library's array type, deferred until that library is imported.

    xarray checks every variable it builds against the array types of Dask, Pint, CuPy, sparse
    and cubed, and its first check of each imports the library to get the type: ``dask.array``
    1.1 s and Pint 0.6 s on the 2-core reference machine, together a third of a small model's
    first result. No object can be an array of a library that is not imported, so while
    ``module`` is not in ``sys.modules`` the type tuple is empty; from then on, and for anything
    else xarray asks (version, module, availability), this is xarray's own record. Installed
    only where xarray keeps the records in the form this was written against
    (``xarray.namedarray.pycompat``); otherwise xarray's own behaviour stands. Tested in
    tests/test_events_batch.py."""

    def __init__(self, real_class, name: str, module: str):
        self._real_class, self._name, self._module = real_class, name, module
        self._real = None

    def _resolved(self):
        if self._real is None:
            self._real = self._real_class(self._name)
        return self._real

    @property
    def type(self):
        if self._real is None and self._module not in sys.modules:
            return ()
        return self._resolved().type

    def __getattr__(self, name):     # module, version, available: xarray's own answer
        return getattr(self._resolved(), name)


def _defer_array_library_probes() -> None:
    try:
        from xarray.namedarray import pycompat
        cache, real = pycompat._cached_duck_array_modules, pycompat.DuckArrayModule
    except (ImportError, AttributeError):
        return
    if isinstance(cache, dict):
        for name, module in _DUCK_ARRAY_MODULES.items():
            cache.setdefault(name, _WhenImported(real, name, module))


_defer_array_library_probes()


def dump_netcdf(dataset: xr.Dataset, path) -> None:
    """Write ``dataset`` as NetCDF4 (h5netcdf) at exactly ``path`` (see :func:`write_netcdf`).

    Through xarray's public store interface rather than ``Dataset.to_netcdf``: the latter asks
    Dask for its active scheduler before every write, which imports ``dask.distributed`` (0.6 s)
    even for in-memory data. Data held in Dask arrays still goes through ``to_netcdf``."""
    if any(v.chunks is not None for v in dataset.variables.values()):
        dataset.to_netcdf(path, engine="h5netcdf")
        return
    # The lock: xarray's HDF5 library lock, as to_netcdf takes it, without the per-file write lock
    # whose choice asks Dask for its scheduler; ``path`` is this writer's own (temporary) file.
    store = H5NetCDFStore.open(str(path), mode="w", lock=HDF5_LOCK)
    try:
        dataset.dump_to_store(store)
    finally:
        store.close()


def write_netcdf(dataset: xr.Dataset, path) -> Path:
    """Write ``dataset`` as NetCDF4 (h5netcdf) at ``path``, atomically: a failed write leaves no
    partial file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        dump_netcdf(dataset, tmp)
    return path


class Result:
    """A simulation result backed by :attr:`dataset` (an ``xarray.Dataset``)."""

    def __init__(self, dataset: xr.Dataset):
        self.dataset = dataset

    # -- access ---------------------------------------------------------------
    @property
    def batched(self) -> bool:
        return "patient" in self.dataset.dims

    @property
    def time(self) -> np.ndarray:
        return self.dataset["time"].values

    @property
    def variables(self) -> list[str]:
        return [str(v) for v in self.dataset["variable"].values]

    def units(self) -> dict[str, str]:
        return dict(zip(self.variables, (str(u) for u in self.dataset["unit"].values)))

    def __getitem__(self, name: str) -> xr.DataArray:
        if name not in self.variables:
            close = closest(name, self.variables)
            hint = f"; did you mean '{close}'?" if close else ""
            raise KeyError(f"'{name}' is not a variable of this result{hint}")
        da = self.dataset["y"].sel(variable=name, drop=True)
        da.attrs["units"] = self.units()[name]
        return da.rename(name)

    @property
    def sensitivities(self) -> xr.DataArray:
        """The forward sensitivities ``d variable / d direction`` of a run made with
        ``sensitivities=[...]``: dims ``([patient,] time, variable, direction)``, coordinate
        ``direction_kind`` (``"parameter"``, or ``"initial"`` for a species' initial value)."""
        if "sensitivity" not in self.dataset:
            raise KeyError("this result has no sensitivities: simulate with "
                           "sensitivities=[parameter or species names]")
        return self.dataset["sensitivity"]

    @property
    def status(self):
        return self.dataset["status"].values if self.batched else int(self.dataset["status"])

    @property
    def message(self):
        m = self.dataset["message"].values
        return m.astype(str) if self.batched else str(m)

    @property
    def ok(self):
        """True (or a per-patient boolean array) where the run succeeded."""
        return self.dataset["status"].values == 0 if self.batched else self.status == 0

    def successful(self) -> "Result":
        """Only the patients whose runs succeeded (for statistics over a cohort)."""
        if not self.batched:
            return self
        return Result(self.dataset.isel(patient=np.flatnonzero(self.ok)))

    def raise_for_status(self) -> "Result":
        if self.batched:
            bad = np.flatnonzero(~self.ok)
            if bad.size:
                first = int(bad[0])
                raise SimulationError(
                    f"{bad.size} of {self.ok.size} patients failed; first: patient "
                    f"{self.dataset['patient'].values[first]}: {self.message[first]}", self)
        elif not self.ok:
            raise SimulationError(f"simulation of '{self.dataset.attrs.get('model')}' failed: "
                                  f"{self.message}", self)
        return self

    # -- conversion and files -----------------------------------------------
    def to_dataframe(self):
        """Wide table: index ``time`` (or ``patient, time``), one column per variable."""
        df = self.dataset["y"].to_series().unstack("variable")
        return df[self.variables]

    def save(self, path) -> Path:
        """Write NetCDF4 (h5netcdf) atomically: a failed write leaves no partial file."""
        return write_netcdf(self.dataset, path)

    @classmethod
    def load(cls, path) -> "Result":
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return cls(ds.load())

    def __repr__(self):
        a = self.dataset.attrs
        shape = " x ".join(f"{k}={v}" for k, v in self.dataset["y"].sizes.items())
        if self.batched:
            state = f"{int(self.ok.sum())}/{self.ok.size} ok"
        else:
            state = self.message
        return f"<Result model={a.get('model')!r} method={a.get('method')} {shape}: {state}>"
