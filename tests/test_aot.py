"""The generic kernels' ahead-of-time compiled entry points (README, "Kernels: what compiles
when"): the same bits as the JIT-compiled functions, loaded without initialising Numba, checked
against their hash, and a failed build falls back to the JIT kernels without failing a run."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import one_species

import immunesim as im
from immunesim.codegen import cache
from immunesim.codegen.generate import generic_key

HERE = Path(__file__).parent


def _compiler() -> bool:
    return any(shutil.which(c) for c in ("cc", "gcc", "clang"))


needs_compiler = pytest.mark.skipif(not _compiler(), reason="no C compiler: nothing is built ahead of time")


def _event_model():
    """A decay with a state event (the events variant of the kernels): reset when X < 0.3."""
    m = one_species("-k * X", initial=1.0, params={"k": 0.7})
    return im.Model(m.name + "_ev", species=m.species, parameters=m.parameters,
                    processes=m.processes,
                    events=[im.Event(name="refill", trigger="X < 0.3", assignments={"X": "X + 1"})])


@needs_compiler
@pytest.mark.parametrize("which", ["plain", "events"])
def test_the_ahead_of_time_entry_point_computes_the_jit_kernels_bits(which, monkeypatch):
    monkeypatch.delenv("IMMUNESIM_AOT", raising=False)
    if which == "plain":
        model = one_species("-k * X^1.5 + 0.2 * sin(t)", initial=2.0, params={"k": 0.4})
        events = [im.Bolus(time=3.0, target="X", amount=1.5)]
        entry = "solve_one_rodas5p_plain"
    else:
        model, events, entry = _event_model(), [], "solve_one_rodas5p"
    fn = cache.load_aot_solver(entry)
    assert fn is not None, (cache.cache_dir() / f"{cache.aot_name(entry)}.failed").read_text()
    assert type(fn).__name__ == "builtin_function_or_method"      # the extension's, not Numba's
    t = np.linspace(0.0, 10.0, 41)
    aot = im.simulate(model, t, events=events, kernels="generic")
    monkeypatch.setenv("IMMUNESIM_AOT", "off")
    assert cache.load_aot_solver(entry) is None
    jit = im.simulate(model, t, events=events, kernels="generic")
    assert aot.ok and jit.ok
    assert np.array_equal(aot.dataset["y"].values, jit.dataset["y"].values)
    for stat in ("n_steps", "n_rejected", "n_rhs", "n_jac"):
        assert int(aot.dataset[stat]) == int(jit.dataset[stat])
    if which == "events":     # the event fired: the run went through the event code
        assert aot.dataset["y"].values[:, 0].min() < 0.31 and aot.dataset["y"].values[-1, 0] > 0.3


@needs_compiler
def test_a_new_process_on_the_ahead_of_time_kernels_never_initialises_numba(tmp_path):
    """What the extension is for: a new model's first result in a new process loads no Numba
    machinery (Numba's CPU target, ~0.4 s: its NumPy registries and SciPy's BLAS), and does not
    even import Numba (0.18 s): the tape and the LU program are built without it."""
    cache.load_aot_solver("solve_one_rodas5p_plain")       # built (or loaded) in the shared cache
    unique = int.from_bytes(os.urandom(4), "little") / 2**32      # a structure no cache has seen
    code = ("import sys, immunesim as im\n"
            "from conftest import one_species\n"
            f"m = one_species('-k * X + {0.01 + unique!r}', initial=1.0, params={{'k': 0.5}})\n"
            "r = im.simulate(m, [0, 1, 2])\n"
            "print(r.dataset.attrs['kernels'], r.ok, 'numba.np.arraymath' in sys.modules,"
            " 'numba' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("IMMUNESIM_AOT", "IMMUNESIM_KERNELS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=HERE, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["generic", "True", "False", "False"]
    env["IMMUNESIM_AOT"] = "off"            # the JIT-compiled kernels: Numba's target loads
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=HERE, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["generic", "True", "True", "True"]


@needs_compiler
def test_a_damaged_extension_is_never_loaded_and_a_failed_build_falls_back_once(tmp_path):
    """The extension is checked against its SHA-256 like every cached module; a damaged one is
    removed with a warning and built again. A build that fails (here: given no time) leaves a
    ``.failed`` note, the run goes on on the JIT kernels, and later processes do not retry."""
    entry = "solve_one_rodas5p_plain"
    cache.load_aot_solver(entry)
    name = cache.aot_name(entry)
    src = cache.cache_dir()
    private = tmp_path / "cache" / "kernels"
    private.mkdir(parents=True)
    stem = f"m_{generic_key()}"        # the JIT kernels too, so nothing compiles here
    for f in [src / f"{name}.so", src / f"{name}.sha256", src / f"{stem}.py", src / f"{stem}.sha256",
              *src.joinpath("__pycache__").glob(f"{stem}.*")]:
        target = private / f.relative_to(src)
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(f, target)
    so = private / f"{name}.so"
    data = bytearray(so.read_bytes())
    data[len(data) // 2] ^= 0xFF
    so.write_bytes(bytes(data))
    code = ("import sys, warnings, numpy as np, immunesim as im\n"
            "from immunesim.codegen import cache\n"
            "from conftest import one_species\n"
            "cache.AOT_BUILD_TIMEOUT_S = 0.01\n"     # any rebuild fails: no time
            "m = one_species('-k * X', initial=1.0, params={'k': 0.5})\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    r = im.simulate(m, [0, 1, 2], kernels='generic')\n"
            "print(r.ok, abs(r.dataset['y'].values[-1, 0] - np.exp(-1.0)) < 1e-6,"
            " cache.load_aot_solver(%r) is None, '|'.join(sorted({type(x.message).__name__ for x in w})))\n"
            % entry)
    env = {**os.environ, "IMMUNESIM_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("IMMUNESIM_AOT", None)
    env.pop("IMMUNESIM_KERNELS", None)
    first = subprocess.run([sys.executable, "-c", code], env=env, cwd=HERE, capture_output=True,
                           text=True, check=True).stdout.split()
    assert first == ["True", "True", "True", "AotUnavailableWarning|KernelCacheWarning"]
    assert not so.exists()                              # the damaged file is gone
    assert "took more than" in (private / f"{name}.failed").read_text()
    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=HERE, capture_output=True,
                            text=True, check=True).stdout.split()
    assert second == ["True", "True", "True"]      # no retry, no warning: the JIT kernels


def test_a_cache_that_cannot_be_written_falls_back_with_a_warning(tmp_path, monkeypatch):
    """A read-only shared cache (simulated: every folder creation there refused) leaves the
    run on the JIT kernels with a warning, never a traceback."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    entry = "solve_one_rodas5p_plain"
    path = tmp_path / "x.so"
    with pytest.warns(cache.AotUnavailableWarning, match="PermissionError"):
        out = cache._aot_build(entry, "x", path, tmp_path / "x.sha256", tmp_path / "x.failed")
    assert out is None and not path.exists()
