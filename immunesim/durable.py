"""Durable file writes: flushed to disk before they are renamed into place, and checksums.

The lowest layer of file handling, used by the kernel cache (:mod:`immunesim.codegen.cache`)
and by the outputs (:mod:`immunesim.io`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path


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
