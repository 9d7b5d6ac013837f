"""File writes that are all-or-nothing, and checksums: the lowest layer of file handling.

:func:`atomic_path` and the writers built on it give every output its temporary name beside
it and rename it into place only when complete, so a file either exists complete or not at
all; :func:`write_bytes_durably` also flushes to disk before the rename (the kernel cache,
:mod:`immunesim.codegen.cache`). Every layer that writes a file uses these.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

import numpy as np


def fsync_dir(path) -> None:
    """Flush a folder's entries (a rename or removal in it) to disk, where the system allows."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, rename it."""
    path = Path(path)
    tmp = path.with_name(f".tmp_{os.getpid()}_{threading.get_ident()}_{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
