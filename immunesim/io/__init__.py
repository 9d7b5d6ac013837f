"""Files: atomic writes of results and manifests, checksums, and the start of a run's outputs.

Every output is written to a temporary name beside it and renamed into place, so a file either
exists complete or not at all. ``manifest.json`` is a run's claim that it finished: it is
removed by :func:`begin_outputs` before any other output of a new run is replaced, and written
last, so an output folder never shows one run's manifest beside another run's results.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
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


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _csv_value(v) -> str:
    import numpy as np

    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{float(v):.6g}"
    text = str(v)
    if any(c in text for c in ',;"\n\r'):
        return '"' + text.replace('"', '""') + '"'     # RFC 4180: inner quotes doubled
    return text


def write_csv(path, rows: list) -> None:
    """Rows (dicts) as CSV, atomically: columns in order of first appearance, numbers to 6
    significant digits, NaN empty, booleans 1/0, text with separators quoted."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(cols)] + [",".join(_csv_value(r.get(c, "")) for c in cols) for r in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")
