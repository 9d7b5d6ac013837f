"""The on-disk kernel cache: generated modules keyed by :func:`kernel_key`.

Location: ``$IMMUNESIM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/immunesim``,
else ``~/.cache/immunesim``. A module is written once (temporary file, then
linked into place, so a module another process wrote first is kept) and never
rewritten, so the source stamp Numba keys its own cache on stays valid: a second
process with the same model structure neither runs SymPy nor compiles.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

from ..model.model import Model
from .generate import generate_source, kernel_key

_LOADED: dict[str, ModuleType] = {}
_LOCK = threading.Lock()


def cache_dir() -> Path:
    root = os.environ.get("IMMUNESIM_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "immunesim")
    return Path(root) / "kernels"


def kernel_path(model: Model) -> Path:
    return cache_dir() / f"m_{kernel_key(model)}.py"


def load_kernels(model: Model) -> ModuleType:
    """The compiled-kernel module of ``model``, generating it on first use."""
    key = kernel_key(model)
    with _LOCK:
        mod = _LOADED.get(key)
        if mod is not None:
            return mod
        path = cache_dir() / f"m_{key}.py"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            source = generate_source(model)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".py")
            with os.fdopen(fd, "w") as fh:
                fh.write(source)
            # link, not rename: a module another process wrote meanwhile must stand, since
            # Numba stamps its own cache with the module file's modification time
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass                   # deliberate: the other process's module is the same text
            except OSError:            # no hard links on this file system
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        name = f"immunesim_kernels_{key}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        _LOADED[key] = mod
        return mod
