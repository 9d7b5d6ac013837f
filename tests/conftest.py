"""Test setup: a private kernel cache for the session, shared helpers."""
import os
import subprocess
import sys
import tempfile

import pytest

# one kernel cache for the session, shared by pytest-xdist's workers (a model compiled by
# one is loaded by the others)
_run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _run:
    _dir = os.path.join(tempfile.gettempdir(), f"immunesim-test-cache-{_run}")
    os.makedirs(_dir, exist_ok=True)
else:
    _dir = tempfile.mkdtemp(prefix="immunesim-test-cache-")
os.environ.setdefault("IMMUNESIM_CACHE_DIR", _dir)

import immunesim as im  # noqa: E402


def one_species(rate, *, name="X", initial=1.0, params=None, nonnegative=True, rules=()):
    params = params or {}
    return im.Model(f"m_{abs(hash((rate, tuple(params), nonnegative))) % 10**8}",
                    species=[im.Species(name=name, unit="mg/L", initial=initial,
                                        nonnegative=nonnegative)],
                    parameters=[im.Parameter(name=k, value=v, unit="1/day", source="test value")
                                for k, v in params.items()],
                    processes=[im.Process(name="f", rate=rate, stoichiometry={name: 1})],
                    rules=list(rules))


def command_in_new_process(*args) -> tuple[int, list[str]]:
    """Run ``immunesim`` with ``args`` through ``immunesim.cli.main`` in a new process: its
    exit code and which of xarray, pandas and Dask it imported (a first result needs none)."""
    code = ("import sys\nfrom immunesim.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "print(code, *sorted(m for m in ('xarray', 'pandas', 'dask') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, check=True).stdout.splitlines()[-1].split()
    return int(out[0]), out[1:]


@pytest.fixture(scope="session")
def antitnf():
    from pathlib import Path
    return im.load_model(Path(__file__).resolve().parents[1] / "scenarios/models/antitnf_cytokine.yaml")
