"""The on-disk kernel cache: generated modules keyed by :func:`kernel_key`, checked before use.

Location: ``$IMMUNESIM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/immunesim``,
else ``~/.cache/immunesim``. For each model structure the cache holds:

- ``m_<key>.py``, the generated module, and ``m_<key>.sha256``, the SHA-256 of its bytes
  (written after the module, each to a temporary file that is flushed to disk and renamed);
- Numba's own cache of the module's machine code in ``__pycache__/``.

Integrity: a module is imported only from the bytes whose hash matches its ``.sha256``, and
those very bytes are compiled (no second read between the check and the import). A module
that is missing its hash, truncated, emptied or edited is regenerated with a warning, and
Numba's files for it are removed. A damaged Numba index or data file (garbage, truncation) is
treated as a cache miss: the function is recompiled and its cache rewritten, with a warning.
Writers and readers of one module take a file lock, so two processes never see half a pair,
and a process that needs a module another one is generating waits for it instead of
repeating the work. The generated code never contains user text (see
:func:`~immunesim.codegen.generate.generate_source`), and the cache key covers the model
structure, the generator, the templates and the Numba and Python versions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import sys
import threading
import warnings
from importlib import resources
from pathlib import Path
from types import ModuleType

from ..durable import fsync_dir, write_bytes_durably
from ..model.model import Model
from .generate import (composed_key, generate_composed_source, generate_generic_source,
                       generate_source, generic_key, kernel_key)

_LOADED: dict[str, ModuleType] = {}
_LOCK = threading.Lock()


class KernelCacheWarning(UserWarning):
    """The kernel cache held a damaged file; it was rebuilt (the message names it)."""


def cache_dir() -> Path:
    root = os.environ.get("IMMUNESIM_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "immunesim")
    return Path(root) / "kernels"


def kernel_path(model: Model) -> Path:
    return cache_dir() / f"m_{kernel_key(model)}.py"


def _in_cache(key: str) -> bool:
    """Whether the module of ``key`` and its hash are in the cache (checked when loaded)."""
    path = cache_dir() / f"m_{key}.py"
    return path.exists() and path.with_suffix(".sha256").exists()


def kernels_cached(model: Model) -> bool:
    """Whether ``model``'s kernel module is in the cache (its hash is checked when loaded)."""
    return _in_cache(kernel_key(model))


@contextlib.contextmanager
def _file_lock(path: Path):
    try:
        import fcntl
    except ImportError:             # no POSIX locks: the thread lock and atomic renames remain
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:                 # a read-only (shared) cache: loading needs no lock
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)                # closing releases the lock


def _verified(path: Path, digest_path: Path) -> bytes | None:
    """The module's bytes if they match its recorded hash; None (after a warning and removing
    the module, its hash and Numba's files for it) if anything is wrong."""
    if not path.exists() and not digest_path.exists():
        return None
    problem = None
    try:
        data = path.read_bytes()
        recorded = digest_path.read_text().split()
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"unreadable ({type(exc).__name__})"
    else:
        if not recorded or recorded[0] != hashlib.sha256(data).hexdigest():
            problem = "its content does not match its recorded SHA-256 (truncated, emptied or edited)"
    if problem is None:
        return data
    warnings.warn(f"kernel cache: {path.name} {problem}; regenerating it", KernelCacheWarning,
                  stacklevel=3)
    for p in [path, digest_path, *path.parent.joinpath("__pycache__").glob(f"{path.stem}.*")]:
        with contextlib.suppress(OSError):
            p.unlink()
    return None


@functools.cache
def _checked_cache_class():
    """Numba's function cache, with a damaged index or data file read as a miss (defined when
    a kernel module is first loaded: Numba is imported only by a process that needs it)."""
    from numba.core.caching import FunctionCache

    class _CheckedCache(FunctionCache):
        def load_overload(self, sig, target_context):
            try:
                return super().load_overload(sig, target_context)
            except Exception as exc:  # noqa: BLE001 - any failure to unpickle is a damaged file
                warnings.warn(f"kernel cache: Numba's cache of {self._py_func.__name__} is damaged "
                              f"({type(exc).__name__}); recompiling it", KernelCacheWarning,
                              stacklevel=2)
                with contextlib.suppress(OSError):
                    self.flush()            # an empty index, so the recompiled code is saved
                return None

    return FunctionCache, _CheckedCache


def _guard_numba_caches(mod: ModuleType) -> None:
    from numba.core.registry import CPUDispatcher

    plain, checked = _checked_cache_class()
    for value in vars(mod).values():
        cache = getattr(value, "_cache", None) if isinstance(value, CPUDispatcher) else None
        if type(cache) is plain:
            cache.__class__ = checked


def load_kernels(model: Model) -> ModuleType:
    """The specialised kernel module of ``model``, generating it on first use."""
    return _load(kernel_key(model), lambda: generate_source(model))


def composed_cached(base: Model) -> bool:
    """Whether the composed kernel module of ``base`` (:mod:`.compose`) is in the cache."""
    return _in_cache(composed_key(base))


def load_composed(base: Model) -> ModuleType:
    """The composed kernel module of ``base``: its own functions compiled, with a driver on the
    tape (:mod:`.compose`), generating it on first use."""
    return _load(composed_key(base), lambda: generate_composed_source(base))


def load_generic() -> ModuleType:
    """The generic kernel module, the same for every model (the model's tape travels in the
    parameter vector: :mod:`immunesim.kernels.tape_eval`), generated on first use."""
    return _load(generic_key(), generate_generic_source)


def _load(key: str, make_source) -> ModuleType:
    with _LOCK:
        mod = _LOADED.get(key)
        if mod is not None:
            return mod
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"m_{key}.py"
        digest_path = path.with_suffix(".sha256")
        with _file_lock(folder / f".m_{key}.lock"):
            source = _verified(path, digest_path)
            if source is None:
                source = make_source().encode()
                write_bytes_durably(path, source)
                write_bytes_durably(digest_path,
                                    f"{hashlib.sha256(source).hexdigest()}  {path.name}\n".encode())
                fsync_dir(folder)
        name = f"immunesim_kernels_{key}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            # the verified bytes themselves, not a second read of the file
            exec(compile(source, str(path), "exec"), mod.__dict__)  # noqa: S102 - our own module
        except BaseException:
            sys.modules.pop(name, None)
            raise
        _guard_numba_caches(mod)
        _LOADED[key] = mod
        return mod


# -- ahead-of-time compiled entry points (README, "Kernels: what compiles when") --------------

#: the generic kernels' functions also compiled ahead of time (:mod:`.aot`): the default
#: method's single runs, with and without state events
AOT_ENTRIES = ("solve_one_rodas5p_plain", "solve_one_rodas5p")
#: seconds a build may take before it counts as failed (~15 s on a 2-core machine)
AOT_BUILD_TIMEOUT_S = 900
_AOT: dict = {}


class AotUnavailableWarning(UserWarning):
    """An ahead-of-time build failed (no C compiler, say); the JIT-compiled kernels run."""


def aot_enabled() -> bool:
    """False where ``$IMMUNESIM_AOT`` is ``off`` (or ``0``, ``no``, ``false``)."""
    return os.environ.get("IMMUNESIM_AOT", "on").strip().lower() not in ("off", "0", "no", "false")


def _host_tag() -> str:
    """This machine's CPU (as ``/proc/cpuinfo`` describes it, else as LLVM does: name and
    features) and NumPy's version: the extension is compiled for both, so a cache shared with
    another CPU or NumPy builds its own."""
    import platform

    import numpy

    keys = ("vendor_id", "cpu family", "model", "model name", "flags", "Features", "CPU implementer",
            "CPU architecture", "CPU variant", "CPU part")
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            first = fh.read(1 << 20).split("\n\n")[0]
        cpu = "\n".join(line for line in first.splitlines() if line.split(":")[0].strip() in keys)
    except OSError:
        cpu = ""
    if not cpu:             # no /proc/cpuinfo (macOS, Windows) or an unknown layout: ask LLVM
        import llvmlite.binding as ll

        cpu = f"{ll.get_host_cpu_name()} {ll.get_host_cpu_features().flatten()}"
    text = f"{platform.machine()} {cpu} numpy {numpy.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def aot_name(entry: str) -> str:
    """The extension's module name: the generic kernels' key (their code, the generator, the
    Numba and Python versions), how it is built (:mod:`.aot`), the entry point and this
    machine's CPU."""
    build = resources.files("immunesim.codegen").joinpath("aot.py").read_text()
    text = f"{generic_key()} {hashlib.sha256(build.encode()).hexdigest()} {entry} {_host_tag()}"
    return f"immunesim_aot_{hashlib.sha256(text.encode()).hexdigest()[:20]}"


def load_aot_solver(entry: str):
    """The ahead-of-time compiled ``entry`` of the generic kernels (one of
    :data:`AOT_ENTRIES`), built into the cache on first use (checked against its SHA-256 like
    every module); None where it is not built here (another entry, ``$IMMUNESIM_AOT=off``, or
    a build that failed once on this machine: the ``.failed`` file beside it says why, and
    deleting it tries again), and the JIT-compiled function runs instead."""
    if entry not in AOT_ENTRIES or not aot_enabled():
        return None
    with _LOCK:
        if entry not in _AOT:
            _AOT[entry] = _aot_load_or_build(entry)
        return _AOT[entry]


def _aot_load_or_build(entry: str):
    name = aot_name(entry)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.so"
    digest_path = folder / f"{name}.sha256"
    failed = folder / f"{name}.failed"
    with _file_lock(folder / f".{name}.lock"):
        data = _verified(path, digest_path)
        if data is None:
            if failed.exists():
                return None
            data = _aot_build(entry, name, path, digest_path, failed)
            if data is None:
                return None
    try:
        return getattr(_load_extension(folder, name, data), entry)
    except (ImportError, OSError, AttributeError) as exc:
        warnings.warn(f"kernel cache: {path.name} did not load ({type(exc).__name__}: {exc}); "
                      "the JIT-compiled kernels run", AotUnavailableWarning, stacklevel=3)
        return None


def _aot_build(entry: str, name: str, path: Path, digest_path: Path, failed: Path) -> bytes | None:
    """Build the extension in a child process; its bytes, or None after a warning (and a
    ``.failed`` note where the cache can be written: a read-only shared cache is not retried
    in this process only)."""
    import subprocess
    import tempfile

    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".aot_build_") as tmp:
            cmd = [sys.executable, "-m", "immunesim.codegen.aot", entry, name, tmp]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=AOT_BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                reason = f"the build took more than {AOT_BUILD_TIMEOUT_S} s"
            else:
                built = Path(tmp) / f"{name}.so"
                if proc.returncode == 0 and built.is_file():
                    data = built.read_bytes()
                    write_bytes_durably(path, data)
                    write_bytes_durably(digest_path,
                                        f"{hashlib.sha256(data).hexdigest()}  {path.name}\n".encode())
                    fsync_dir(path.parent)
                    return data
                reason = (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip()[-2000:]
    except OSError as exc:        # the child could not start, or the cache cannot be written
        reason = f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(OSError):
        write_bytes_durably(failed, (reason + "\n").encode())
    warnings.warn(f"kernel cache: the ahead-of-time build of {entry} failed, so each new process "
                  f"initialises Numba to load the JIT-compiled kernels (~0.4 s more); why: "
                  f"{reason.splitlines()[-1] if reason else 'unknown'} (full text in {failed}, "
                  "where the cache can be written; delete it to try again)", AotUnavailableWarning,
                  stacklevel=4)
    return None


def _load_extension(folder: Path, name: str, data: bytes) -> ModuleType:
    """Import the extension from the verified bytes themselves: they are written to a private
    file (mode 0600) that is loaded and then removed, so nothing can change between the check
    and the load."""
    import importlib.machinery
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".load_{name}_", suffix=".so", dir=folder)
    except OSError:               # a read-only shared cache: the user's temporary folder
        fd, tmp = tempfile.mkstemp(prefix=f".load_{name}_", suffix=".so")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        loader = importlib.machinery.ExtensionFileLoader(name, tmp)
        spec = importlib.util.spec_from_file_location(name, tmp, loader=loader)
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        return mod
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
