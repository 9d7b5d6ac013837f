"""A run's output files and their provenance: one manifest schema for every command.

Every output is written atomically (:mod:`immunesim.durable`). ``manifest.json`` is a run's
claim that it finished: :func:`begin_outputs` removes it before any other output of a new run
is replaced, and :func:`write_manifest` writes it last, so an output folder never shows one
run's manifest beside another run's results.

Every ``manifest.json`` (``run``, ``simulate``, ``compare``, ``trial``) has these keys, ``null``
where they do not apply: ``schema``, ``subcommand``, ``command`` (the command line),
``status`` (0 success, 3 some patient or arm failed), ``message``, ``scenario``, ``disease``,
``scenario_hash``, ``scenario_file``, ``scenario_file_sha256``, ``model``, ``model_hash``,
``model_file``, ``model_file_sha256``, ``seed``, ``wall_s``, ``finished_utc``, ``outputs``
and ``versions`` (:func:`immunesim.provenance.versions`); then each command's own keys.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..durable import fsync_dir, sha256_file, write_text_atomic
from ..provenance import versions

MANIFEST = "manifest.json"
SCHEMA = "immunesim.manifest/1"


def begin_outputs(outdir) -> Path:
    """Create ``outdir`` if needed and remove a previous run's manifest from it, durably, before
    anything else there is replaced (a run killed part-way then leaves no manifest at all)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        (outdir / MANIFEST).unlink()
    except FileNotFoundError:
        return outdir
    fsync_dir(outdir)
    return outdir


def to_json(o):
    """``json.dumps`` default for NumPy values and anything else (as text)."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    return str(o)


def write_manifest(outdir, subcommand: str, *, status: int, message: str, outputs, started: float,
                   seed=None, scenario=None, scenario_file=None, model=None, model_file=None,
                   **details) -> dict:
    """Write ``outdir/manifest.json`` (last, atomically) and return it. ``started`` is the
    run's ``time.perf_counter()`` at its start; ``scenario`` a Scenario, ``model`` a Model (or
    the name to record, with ``model_hash`` in ``details``); ``details`` the command's own keys."""
    manifest = {
        "schema": SCHEMA,
        "subcommand": subcommand,
        "command": " ".join(sys.argv),
        "status": int(status),
        "message": str(message),
        "scenario": scenario.name if scenario is not None else None,
        "disease": scenario.disease if scenario is not None else None,
        "scenario_hash": scenario.hash if scenario is not None else None,
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_file_sha256": sha256_file(scenario_file) if scenario_file else None,
        "model": getattr(model, "name", model),
        "model_hash": getattr(model, "hash", None),
        "model_file": str(model_file) if model_file else None,
        "model_file_sha256": sha256_file(model_file) if model_file else None,
        "seed": seed,
        "wall_s": round(time.perf_counter() - started, 4),
        "finished_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "outputs": sorted(str(o) for o in outputs),
        "versions": versions(),
    }
    manifest.update(details)
    write_text_atomic(Path(outdir) / MANIFEST, json.dumps(manifest, indent=2, default=to_json) + "\n")
    return manifest
