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

import csv
import functools
import io
import sys
from pathlib import Path

import numpy as np

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


@functools.cache
def import_xarray():
    """xarray, with its array-library probes deferred (:class:`_WhenImported`). Every immunesim
    module that builds xarray objects gets xarray from here, so the deferral is in place before
    its first object; :mod:`immunesim.simulate` and :class:`Result` import it only when a
    result's dataset is first asked for (see :class:`ResultData`)."""
    import xarray

    _defer_array_library_probes()
    return xarray


def dump_netcdf(dataset, path) -> None:
    """Write ``dataset`` as NetCDF4 (h5netcdf) at exactly ``path`` (see :func:`write_netcdf`).

    Through xarray's public store interface rather than ``Dataset.to_netcdf``: the latter asks
    Dask for its active scheduler before every write, which imports ``dask.distributed`` (0.6 s)
    even for in-memory data. Data held in Dask arrays still goes through ``to_netcdf``."""
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK

    import_xarray()
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


def write_netcdf(dataset, path) -> Path:
    """Write ``dataset`` as NetCDF4 (h5netcdf) at ``path``, atomically: a failed write leaves no
    partial file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        dump_netcdf(dataset, tmp)
    return path


class ResultData:
    """A simulation's arrays, labels and attributes in the layout above, before xarray is
    involved.

    ``data`` and ``coords`` map each name to ``(dims, values, attrs)``, ``attrs`` are the
    dataset's. :meth:`to_dataset` builds the ``xarray.Dataset``; :meth:`write_netcdf` writes the
    file that ``Dataset.to_netcdf`` would write from it, with h5netcdf directly.

    Why: importing xarray and pandas (their first use imports Dask where it is installed) is
    0.35-0.45 s of a new process here, about half of a small model's first result with the
    command line (``immunesim simulate``), which needs neither to write its files. A
    :class:`Result` keeps this until its dataset is first asked for. The file is the same as
    xarray's: ``tests/test_events_batch.py`` reads both back and compares them, and compares
    their HDF5 attributes variable by variable."""

    def __init__(self, data: dict, coords: dict, attrs: dict):
        self.data, self.coords, self.attrs = data, coords, attrs

    def values(self, name: str) -> np.ndarray:
        return (self.data.get(name) or self.coords[name])[1]

    def sizes(self) -> dict:
        out = {}
        for dims, values, _ in (*self.data.values(), *self.coords.values()):
            out.update(zip(dims, np.shape(values)))
        return out

    def plain(self) -> bool:
        """Every array is of numbers or text (what :meth:`write_netcdf` writes as xarray does;
        anything else, e.g. patient ids of Python objects, is written through xarray)."""
        return all(np.asarray(v).dtype.kind in "fiuU"
                   for _, v, _ in (*self.data.values(), *self.coords.values()))

    def select(self, variables) -> "ResultData":
        """The same, with only ``variables`` (in that order) along the ``variable`` dimension
        (as ``Dataset.sel(variable=...)``)."""
        names = list(self.values("variable"))
        idx = [names.index(v) for v in variables]

        def cut(entry):
            dims, values, attrs = entry
            if "variable" not in dims:
                return entry
            return dims, np.take(np.asarray(values), idx, axis=dims.index("variable")), attrs
        return ResultData({k: cut(e) for k, e in self.data.items()},
                          {k: cut(e) for k, e in self.coords.items()}, dict(self.attrs))

    def to_dataset(self):
        xr = import_xarray()
        return xr.Dataset({k: (d, v, a) for k, (d, v, a) in self.data.items()},
                          coords={k: (d, v, a) for k, (d, v, a) in self.coords.items()},
                          attrs=self.attrs)

    def write_netcdf(self, path) -> None:
        """Write NetCDF4 at exactly ``path``, as xarray's h5netcdf backend does for this layout:
        the dimensions in order of first use, a ``_FillValue`` of NaN on floating-point
        variables, strings as variable-length UTF-8, and each data variable's ``coordinates``
        attribute naming (sorted) the coordinates that are not dimensions and whose dimensions
        it has."""
        import h5netcdf
        import h5py

        aux = [k for k, (d, _, _) in self.coords.items() if d != (k,)]
        with h5netcdf.File(str(path), "w") as f:
            f.dimensions = self.sizes()
            for k, v in self.attrs.items():
                f.attrs[k] = v
            for name, (dims, values, attrs) in (*self.data.items(), *self.coords.items()):
                values = np.asarray(values)
                attrs = dict(attrs)
                if name in self.data:
                    linked = sorted(c for c in aux if set(self.coords[c][0]) <= set(dims))
                    if linked:
                        attrs["coordinates"] = " ".join(linked)
                if values.dtype.kind == "U":
                    dtype, values = h5py.string_dtype("utf-8"), values.astype(object)
                    fill = None
                else:
                    dtype = values.dtype
                    fill = np.nan if dtype.kind == "f" else None
                var = f.create_variable(name, dims, dtype=dtype, fillvalue=fill)
                for k, v in attrs.items():
                    var.attrs[k] = v
                var[...] = values


class Result:
    """A simulation result backed by :attr:`dataset` (an ``xarray.Dataset``), built on first use
    from a :class:`ResultData` where the result was made from one."""

    def __init__(self, dataset=None, *, data: ResultData | None = None):
        """From an ``xarray.Dataset`` in the layout above, from ``data`` (a
        :class:`ResultData`), or from another :class:`Result` (sharing its contents)."""
        if isinstance(dataset, Result):
            dataset, data = dataset._dataset, dataset._data
        if (dataset is None) == (data is None):
            raise TypeError("Result takes a dataset or data=ResultData, one of them")
        self._dataset, self._data = dataset, data

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = self._data.to_dataset()
        return self._dataset

    def _values(self, name: str) -> np.ndarray:
        if self._dataset is None:
            return np.asarray(self._data.values(name))
        return self._dataset[name].values

    # -- access ---------------------------------------------------------------
    @property
    def batched(self) -> bool:
        if self._dataset is None:
            return "patient" in self._data.coords
        return "patient" in self.dataset.dims

    @property
    def time(self) -> np.ndarray:
        return self._values("time")

    @property
    def variables(self) -> list[str]:
        return [str(v) for v in self._values("variable")]

    def units(self) -> dict[str, str]:
        return dict(zip(self.variables, (str(u) for u in self._values("unit"))))

    @property
    def attrs(self) -> dict:
        """The dataset's attributes (model, hashes, method, tolerances, versions, ...), which
        may be updated in place."""
        return self._data.attrs if self._dataset is None else self._dataset.attrs

    def _position(self, name: str) -> int:
        names = self.variables
        if name not in names:
            close = closest(name, names)
            hint = f"; did you mean '{close}'?" if close else ""
            raise KeyError(f"'{name}' is not a variable of this result{hint}")
        return names.index(name)

    def array(self, name: str) -> np.ndarray:
        """Variable ``name``'s values as a NumPy array (``[patient,] time``), without building
        the dataset."""
        return self._values("y")[..., self._position(name)]

    def select(self, variables) -> "Result":
        """A result with only ``variables``, in that order."""
        if self._dataset is None:
            return Result(data=self._data.select(variables))
        return Result(self._dataset.sel(variable=list(variables)))

    @property
    def n_steps(self):
        """Steps taken (an array per patient for a batch)."""
        n = self._values("n_steps")
        return n if self.batched else int(n)

    def __getitem__(self, name: str):
        self._position(name)
        da = self.dataset["y"].sel(variable=name, drop=True)
        da.attrs["units"] = self.units()[name]
        return da.rename(name)

    @property
    def sensitivities(self):
        """The forward sensitivities ``d variable / d direction`` of a run made with
        ``sensitivities=[...]``: dims ``([patient,] time, variable, direction)``, coordinate
        ``direction_kind`` (``"parameter"``, or ``"initial"`` for a species' initial value)."""
        if "sensitivity" not in self.dataset:
            raise KeyError("this result has no sensitivities: simulate with "
                           "sensitivities=[parameter or species names]")
        return self.dataset["sensitivity"]

    @property
    def status(self):
        s = self._values("status")
        return s if self.batched else int(s)

    @property
    def message(self):
        m = self._values("message")
        return m.astype(str) if self.batched else str(m)

    @property
    def ok(self):
        """True (or a per-patient boolean array) where the run succeeded."""
        return self._values("status") == 0 if self.batched else self.status == 0

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
                    f"{self._values('patient')[first]}: {self.message[first]}", self)
        elif not self.ok:
            raise SimulationError(f"simulation of '{self.attrs.get('model')}' failed: "
                                  f"{self.message}", self)
        return self

    # -- conversion and files -----------------------------------------------
    def to_dataframe(self):
        """Wide table: index ``time`` (or ``patient, time``), one column per variable."""
        df = self.dataset["y"].to_series().unstack("variable")
        return df[self.variables]

    def to_csv(self) -> str:
        """:meth:`to_dataframe` as CSV text, as ``to_dataframe().to_csv()`` writes it. A single
        run's table is written without pandas (``csv`` with pandas' defaults: each number as
        NumPy prints it, NaN as an empty field, minimal quoting, ``\\n`` line ends); a batch
        goes through pandas."""
        if self.batched:
            return self.to_dataframe().to_csv()
        y = self._values("y")
        cells = np.concatenate([self.time[:, None], y], axis=1)
        text = cells.astype(str)
        text[np.isnan(cells)] = ""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["time", *self.variables])
        writer.writerows(text.tolist())
        return buf.getvalue()

    def save(self, path) -> Path:
        """Write NetCDF4 (h5netcdf) atomically: a failed write leaves no partial file."""
        if self._dataset is None and self._data.plain():
            path = Path(path)
            with atomic_path(path) as tmp:
                self._data.write_netcdf(tmp)
            return path
        return write_netcdf(self.dataset, path)

    @classmethod
    def load(cls, path) -> "Result":
        xr = import_xarray()
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return cls(ds.load())

    def __repr__(self):
        a = self.attrs
        dims = self._data.data["y"][0] if self._dataset is None else self._dataset["y"].dims
        shape = " x ".join(f"{k}={n}" for k, n in zip(dims, self._values("y").shape))
        if self.batched:
            state = f"{int(self.ok.sum())}/{self.ok.size} ok"
        else:
            state = self.message
        return f"<Result model={a.get('model')!r} method={a.get('method')} {shape}: {state}>"
