"""A run's outputs and their provenance.

Every output is written atomically (:mod:`immunesim.durable`). ``manifest.json`` is a run's claim that it finished: it is
removed by :func:`begin_outputs` before any other output of a new run is replaced, and written
last, so an output folder never shows one run's manifest beside another run's results.
"""

from __future__ import annotations

from pathlib import Path

from ..durable import fsync_dir

MANIFEST = "manifest.json"


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
