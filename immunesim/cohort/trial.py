"""Run a virtual trial chunk by chunk, streaming to disk, resumable.

``OUTDIR/trajectories/chunk-NNNNN.nc`` holds chunk ``N`` (its candidates, the accepted
patients' trajectories in every arm, baseline readouts, parameters, covariates, per-patient
outcomes and status). Each file is written atomically and carries the trial's hash, so a
chunk file either exists complete or not at all: ``resume=True`` keeps the chunks already on
disk (after checking their hash) and computes the rest, and since every chunk is a pure
function of (scenario, chunk index) the resumed run equals an uninterrupted one.

Each chunk has a checksum beside it (``chunk-NNNNN.nc.sha256``, the SHA-256 of the file's bytes,
written before the chunk is renamed into place). Resume verifies it before reusing a chunk: a
chunk whose bytes changed (a zeroed block, truncation) or whose checksum is missing is
recomputed, and the run says so, instead of being read into the results.

Chunks are computed in order until ``population.size`` patients are accepted; the patients
are the first ``size`` accepted candidates (in candidate order), whatever the backend.
Memory stays flat: only per-patient outcomes (a few numbers per patient and arm) are held;
trajectories stay on disk (:func:`open_trajectories` opens them lazily).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..durable import atomic_path, sha256_file, write_text_atomic
from ..errors import TrialError
from ..result import dump_netcdf, import_xarray
from .chunk import run_chunk, trial_model
from .dask_backend import DaskBackend

xr = import_xarray()

CHUNK_DIR = "trajectories"


def chunk_path(outdir, index: int) -> Path:
    return Path(outdir) / CHUNK_DIR / f"chunk-{index:05d}.nc"


def chunk_hash(scenario) -> str:
    """Identity of the chunks: the scenario's hash without what chunk ``i`` does not depend on:
    the population size and candidate cap (a finished trial can be extended to more patients
    with ``--resume``) and the analysis-only fields (control arm, primary endpoint,
    calibration targets, published rates: a new calibration reuses every chunk)."""
    import dataclasses

    pop = dataclasses.replace(scenario.population, size=0, max_candidates=None)
    trial = dataclasses.replace(scenario.trial, control="", primary="", calibration=(), published=())
    return dataclasses.replace(scenario, population=pop, trial=trial).hash


def _summary(ds: xr.Dataset, readouts) -> xr.Dataset:
    """What the analysis needs from a chunk, small: outcomes, status codes, covariates and the
    baseline ``readouts``; failure messages and rejection reasons become counts and lists in
    attrs (the chunk file on disk keeps everything)."""
    import json

    arms = list(ds["arm"].values)
    status = ds["status"].values
    failures = [{"patient": int(ds["patient"].values[p]), "arm": arms[a],
                 "message": str(ds["message"].values[a, p])} for a, p in zip(*np.nonzero(status))]
    reasons = {}
    for r in ds["candidate_status"].values:
        key = str(r).split(" (")[0]            # the reason without this candidate's value
        reasons[key] = reasons.get(key, 0) + 1
    keep = [r for r in dict.fromkeys(readouts) if r in list(ds["readout"].values)]
    small = ds.drop_vars(["trajectory", "parameters", "message", "candidate_status"]).drop_dims("candidate")
    small = small.sel(readout=keep).load()
    small.attrs.update(failures=json.dumps(failures), candidates=json.dumps(reasons))
    return small


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_chunk(ds: xr.Dataset, path: Path, trial_hash: str) -> None:
    ds.attrs["trial_hash"] = trial_hash
    with atomic_path(path) as tmp:
        dump_netcdf(ds, tmp)
        write_text_atomic(checksum_path(path), f"{sha256_file(tmp)}  {path.name}\n")


def chunk_intact(path: Path) -> str | None:
    """None if the chunk's bytes match its checksum, else what is wrong."""
    digest = checksum_path(path)
    try:
        recorded = digest.read_text().split()
    except FileNotFoundError:
        return "its checksum file is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"its checksum file cannot be read ({type(exc).__name__})"
    try:
        actual = sha256_file(path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if not recorded or recorded[0] != actual:
        return "its bytes do not match its checksum (damaged or edited)"
    return None


def _read_chunk(path: Path, trial_hash: str, readouts) -> xr.Dataset:
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            if ds.attrs.get("trial_hash") != trial_hash:
                raise TrialError(f"{path}: written by a different trial (scenario, seed or chunk "
                                 "size changed; only population.size may change on --resume); use "
                                 "a new output directory or delete it")
            return _summary(ds, readouts)
    except TrialError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise TrialError(f"{path}: cannot be read as a trial chunk ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); delete it and run again with --resume") from None


def execute(scenario, outdir, *, resume: bool = False, workers: int | None = None,
            scheduler: str | None = None, progress: Callable | None = None,
            notice: Callable[[str], None] | None = None) -> tuple[xr.Dataset, dict]:
    """Run (or resume) every chunk needed for ``population.size`` patients; returns the
    concatenated chunk summaries (first ``size`` patients) and execution statistics."""

    pop = scenario.population
    outdir = Path(outdir)
    trial_hash = chunk_hash(scenario)
    existing = sorted((outdir / CHUNK_DIR).glob("chunk-*.nc")) if (outdir / CHUNK_DIR).is_dir() else []
    if existing and not resume:
        raise TrialError(f"{outdir}/{CHUNK_DIR} already holds {len(existing)} chunk(s) of a run; pass "
                         "--resume to continue it, or choose another output directory")
    max_cand = pop.max_candidates or max(100 * pop.size, 10_000)
    chunk = scenario.trial.chunk
    max_chunks = -(-max_cand // chunk)
    say = progress or (lambda **kw: None)
    notice = notice or (lambda msg: None)
    t0 = time.perf_counter()
    trial_model(scenario)           # build (and compile) once before the clock of the first chunk
    readouts = [*scenario.trial.biomarkers, *(c.readout for c in pop.constraints)]
    parts, accepted, candidates, reused, computed, damaged = [], 0, 0, 0, 0, []
    backend = _backend(workers, scheduler)
    try:
        index = 0
        pending = {}
        while accepted < pop.size:
            if index >= max_chunks and not pending:
                raise TrialError(f"population: only {accepted} of {pop.size} patients accepted after "
                                 f"{index * chunk} candidates (max_candidates {max_cand}); relax "
                                 "population.constraints or raise population.max_candidates")
            # keep the backend busy: submit ahead by its width, collect in order
            while index < max_chunks and len(pending) < backend.width:
                path = chunk_path(outdir, index)
                problem = chunk_intact(path) if path.exists() else "absent"
                if problem not in (None, "absent"):
                    damaged.append(path.name)
                    notice(f"{path}: {problem}; recomputing it")
                pending[index] = ("disk", path) if problem is None else (
                    "run", backend.submit(scenario, index))
                index += 1
            first = min(pending)
            how, item = pending.pop(first)
            if how == "disk":
                ds = _read_chunk(item, trial_hash, readouts)
                reused += 1
            else:
                full = backend.result(item)
                _write_chunk(full, chunk_path(outdir, first), trial_hash)
                ds = _summary(full, readouts)
                del full
                computed += 1
            parts.append(ds)
            accepted += int(ds.attrs["n_accepted"])
            candidates += int(ds.attrs["n_candidates"])
            say(done=min(accepted, pop.size), total=pop.size, candidates=candidates)
        for _, (how, item) in pending.items():   # submitted beyond need: let them go
            if how == "run":
                backend.cancel(item)
    finally:
        backend.close()
    wall = time.perf_counter() - t0
    combined = _concat(parts, pop.size)
    stats = {"chunks": len(parts), "chunks_computed": computed, "chunks_reused": reused,
             "chunks_damaged_recomputed": damaged,
             "candidates": candidates, "accepted_in_chunks": accepted,
             "acceptance_rate": accepted / candidates if candidates else 0.0, "wall_s": round(wall, 3),
             "backend": backend.name}
    return combined, stats


def _concat(parts: list[xr.Dataset], size: int) -> xr.Dataset:
    """The first ``size`` patients of the chunks, with their failures, and the candidates'
    outcomes (accepted, or the reason of rejection) counted over every chunk."""
    import json

    ds = xr.concat(parts, dim="patient", data_vars="minimal", coords="minimal",
                   compat="override", join="override", combine_attrs="drop") if len(parts) > 1 else parts[0].copy()
    ds = ds.isel(patient=slice(0, size))
    kept = set(int(p) for p in ds["patient"].values)
    failures = [f for p in parts for f in json.loads(p.attrs["failures"]) if f["patient"] in kept]
    reasons = {}
    for p in parts:
        for k, v in json.loads(p.attrs["candidates"]).items():
            reasons[k] = reasons.get(k, 0) + v
    ds.attrs = {"failures": failures, "candidates": reasons}
    return ds


def open_trajectories(outdir, max_patients: int | None = None) -> xr.Dataset:
    """All chunks' trajectories of a finished trial (``arm x patient x time x variable``),
    concatenated along ``patient`` (loaded lazily with Dask when it is installed), limited to
    the trial's patients (its manifest's count). With
    ``max_patients``, only the first chunk files holding that many patients are opened."""
    paths = sorted((Path(outdir) / CHUNK_DIR).glob("chunk-*.nc"))
    if not paths:
        raise TrialError(f"{outdir}: no trial chunks found in {CHUNK_DIR}/")
    if max_patients is not None:
        kept, total = [], 0
        for p in paths:
            with xr.open_dataset(p, engine="h5netcdf") as d:
                total += int(d.attrs["n_accepted"])
            kept.append(p)
            if total >= max_patients:
                break
        paths = kept
    try:
        import dask  # noqa: F401

        ds = xr.open_mfdataset(paths, engine="h5netcdf", combine="nested", concat_dim="patient",
                               data_vars="minimal", coords="minimal", compat="override",
                               join="override", preprocess=lambda d: d.drop_dims("candidate"))
    except ImportError:
        ds = xr.concat([xr.load_dataset(p, engine="h5netcdf").drop_dims("candidate") for p in paths],
                       dim="patient", data_vars="minimal", coords="minimal", compat="override",
                       join="override")
    manifest = Path(outdir) / "manifest.json"
    if manifest.exists():   # the last chunk may hold more accepted patients than the trial used
        import json

        ds = ds.isel(patient=slice(0, json.loads(manifest.read_text())["patients"]))
    return ds


class _Local:
    """In-process: one chunk at a time, each chunk parallel over patients inside the kernel."""

    name, width = "local", 1

    def submit(self, scenario, index):
        return run_chunk(scenario, index)

    def result(self, item):
        return item

    def cancel(self, item):
        """Nothing to cancel: the chunk already ran in ``submit``."""

    def close(self):
        """Nothing to release."""


def _backend(workers, scheduler):
    if workers is None and scheduler is None:
        return _Local()
    return DaskBackend(workers=workers, scheduler=scheduler)
