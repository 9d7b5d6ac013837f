"""Dosing events against closed forms; batched runs; failures flagged; results on disk."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import immunesim as im
from conftest import command_in_new_process, one_species

K = 0.3


@pytest.fixture(scope="module")
def pk():
    return one_species("-k * X", initial=0.0, params={"k": K})


@pytest.mark.parametrize("method", ["rodas4", "rodas5p", "dopri5"])
def test_repeated_bolus_superposition(pk, method):
    dose_t = 3.5 + 7.0 * np.arange(8)   # doses off the output grid and on it (t = 10.5 ...)
    t = np.linspace(0, 60, 121)
    r = im.simulate(pk, t, events=im.doses(target="X", amount=2.0, every=7.0, count=8, start=3.5),
                    method=method, rtol=1e-9, atol=1e-13)
    exact = sum(2.0 * np.exp(-K * (t - tk)) * (t >= tk) for tk in dose_t)  # right-continuous
    np.testing.assert_allclose(r["X"].values, exact, rtol=1e-7, atol=1e-12)


def test_infusion_and_parameter_change(pk):
    t = np.linspace(0, 20, 81)
    r = im.simulate(pk, t, events=[im.Infusion(start=2.0, duration=5.0, target="X", rate=1.5),
                                   im.SetParameter(time=10.0, name="k", value=0.1)],
                    rtol=1e-10, atol=1e-13)
    c7 = 1.5 / K * (1 - np.exp(-K * 5.0))
    c10 = c7 * np.exp(-K * 3.0)
    exact = np.where(t < 2, 0.0, np.where(t <= 7, 1.5 / K * (1 - np.exp(-K * (t - 2))),
                     np.where(t <= 10, c7 * np.exp(-K * (t - 7)), c10 * np.exp(-0.1 * (t - 10)))))
    np.testing.assert_allclose(r["X"].values, exact, rtol=1e-8, atol=1e-12)


def test_event_validation(pk):
    with pytest.raises(im.ModelError, match="did you mean 'X'"):
        im.simulate(pk, [0, 1], events=[im.Bolus(time=0.5, target="x", amount=1.0)])
    with pytest.raises(im.ModelError, match="before the start"):
        im.simulate(pk, [1, 2], events=[im.Bolus(time=0.5, target="X", amount=1.0)])
    with pytest.raises(im.ModelError, match="outside its bounds"):
        im.simulate(pk, [0, 1], events=[im.SetParameter(time=0.5, name="k", value=-1.0)])


def test_batch_equals_one_at_a_time(antitnf):
    rng = np.random.default_rng(7)
    ks = {"k_dmg": 0.1 * np.exp(rng.normal(0, 0.3, 6)), "d_tnf": 50 * np.exp(rng.normal(0, 0.3, 6))}
    t = np.arange(0.0, 120.0)
    per = [im.doses(target="Depot", amount=40, every=14, count=9)] * 3 + [[]] * 3
    for tier in ("generic", "specialised"):   # bit for bit within a tier (across: to tolerance)
        rb = im.simulate_batch(antitnf, ks, t, events=per, n_threads=2, kernels=tier)
        assert rb.ok.all() and rb.dataset["y"].sizes == {"patient": 6, "time": 120, "variable": 25}
        for i in range(6):
            r1 = im.simulate(antitnf, t, params={k: v[i] for k, v in ks.items()}, events=per[i],
                             kernels=tier)
            np.testing.assert_array_equal(rb.dataset["y"].values[i], r1.dataset["y"].values)
    drug = rb["Drug"].values
    assert drug[:3, -1].min() > 1.0 and drug[3:].max() == 0.0  # events reached the right patients


def test_failed_patient_is_flagged_not_averaged():
    m = one_species("a * X^2", params={"a": 1.0})  # blows up at t = 1/(a X0)
    t = np.linspace(0, 1.5, 16)
    with pytest.warns(RuntimeWarning, match="1 of 3 patients failed"):
        r = im.simulate_batch(m, {"a": [0.1, 1.0, 0.2]}, t)
    assert list(r.ok) == [True, False, True]
    assert r.message[0] == "success" and "at t=" in r.message[1]
    bad = r.dataset["y"].values[1, :, 0]
    assert np.all(np.isfinite(bad[t < 0.9])) and np.all(np.isnan(bad[t > 1.0]))
    assert r.successful().dataset.sizes["patient"] == 2
    with pytest.raises(im.SimulationError, match="failed"):
        im.simulate(m, t, params={"a": 1.0})


def test_negative_excursion_is_reported():
    m = one_species("-k", initial=1.0, params={"k": 1.0})  # consumption without a factor of X
    with pytest.raises(im.SimulationError, match="negative excursion in species 'X'"):
        im.simulate(m, [0.0, 2.0])
    r = im.simulate(one_species("-k", initial=1.0, params={"k": 1.0}, nonnegative=False), [0, 2.0])
    assert float(r["X"][-1]) == pytest.approx(-1.0)


def test_result_roundtrip_and_dataframe(pk, tmp_path):
    r = im.simulate(pk, [0, 1, 2], events=[im.Bolus(time=0, target="X", amount=1.0)])
    path = r.save(tmp_path / "r.nc")
    back = im.Result.load(path)
    assert back.dataset.identical(r.dataset)
    assert back.units()["X"] == "mg/L" and back.dataset.attrs["model_hash"] == pk.hash
    df = r.to_dataframe()
    assert list(df.columns) == ["X"] and df.index.name == "time"
    assert df["X"].iloc[-1] == pytest.approx(np.exp(-2 * K), rel=1e-5)


def test_saving_a_result_imports_no_dask_arrays_and_writes_what_to_netcdf_writes(tmp_path):
    """A result is built and saved without importing dask.array, distributed or Pint (2.3 s of a
    first result); the file is the one xarray's to_netcdf writes; Dask and Pint arrays made
    afterwards are still recognised by xarray, and a dataset of Dask arrays is still written."""
    code = ("import sys, numpy as np, xarray as xr, h5py, immunesim as im\n"
            "from conftest import one_species\n"
            "from immunesim.result import write_netcdf\n"
            "m = one_species('-k * X', initial=2.0, params={'k': 0.3})\n"
            "r = im.simulate(m, [0, 1, 2])\n"
            "r.save(sys.argv[1] + '/a.nc')\n"
            "print('dask.array' in sys.modules, 'distributed' in sys.modules, 'pint' in sys.modules)\n"
            "r.dataset.to_netcdf(sys.argv[1] + '/b.nc', engine='h5netcdf')\n"
            "def layout(p):\n"
            "    out = {}\n"
            "    with h5py.File(p) as f:\n"
            "        f.visititems(lambda n, o: out.setdefault(n, (sorted((k, str(v)) for k, v in"
            " o.attrs.items() if k != 'DIMENSION_LIST'), str(getattr(o, 'dtype', '')),"
            " getattr(o, 'shape', None))))\n"
            "        out['/'] = sorted((k, str(v)) for k, v in f.attrs.items())\n"
            "    return out\n"
            "print(layout(sys.argv[1] + '/a.nc') == layout(sys.argv[1] + '/b.nc'))\n"
            "a = xr.open_dataset(sys.argv[1] + '/a.nc', engine='h5netcdf').load()\n"
            "print(a.identical(r.dataset))\n"
            "import dask.array as da\n"
            "d = xr.Dataset({'q': ('x', da.arange(4.0, chunks=2))})\n"
            "write_netcdf(d, sys.argv[1] + '/c.nc')\n"
            "c = xr.open_dataset(sys.argv[1] + '/c.nc', engine='h5netcdf').load()\n"
            "print(d['q'].chunks is not None, c['q'].values.tolist() == [0, 1, 2, 3])\n"
            "import warnings, pint\n"
            "q = pint.UnitRegistry().Quantity(np.arange(3.0), 'm')\n"
            "with warnings.catch_warnings():\n"
            "    warnings.simplefilter('error')     # stripping units unrecognised would warn\n"
            "    print(xr.DataArray(q).to_numpy().tolist() == [0.0, 1.0, 2.0])\n")
    cwd = __import__("pathlib").Path(__file__).parent
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=cwd,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False", "True", "True", "True", "True", "True"]


def _h5_layout(path):
    """Every HDF5 object's attributes (but the object references), dtype and shape."""
    import h5py

    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: out.setdefault(n, (
            sorted((k, str(v)) for k, v in o.attrs.items()
                   if k not in ("DIMENSION_LIST", "REFERENCE_LIST")),
            str(getattr(o, "dtype", "")), getattr(o, "shape", None))))
        out["/"] = sorted((k, str(v)) for k, v in f.attrs.items())
    return out


def test_results_are_written_without_xarray_as_xarray_writes_them(antitnf, tmp_path):
    """A result's file and CSV are written from its arrays (xarray and pandas never imported by
    a single run's command); they are what xarray's writer and pandas write, for a single run,
    a batch (patients numbered or named, one failed), sensitivities and a failed run with NaN."""
    import xarray as xr

    from immunesim.result import write_netcdf

    t = np.arange(0.0, 60.0)
    dose = im.doses(target="Depot", amount=40, every=14, count=4)
    blow = one_species("a * X^2", params={"a": 1.0})
    with pytest.warns(RuntimeWarning, match="failed"):
        named = im.simulate_batch(blow, {"a": [0.1, 1.0]}, np.linspace(0, 1.5, 16),
                                  patient_ids=["p-1", "p-2"])
    cases = {
        "single": im.simulate(antitnf, t, events=dose),
        "batch": im.simulate_batch(antitnf, {"k_dmg": [0.1, 0.2, 0.3]}, t, events=dose),
        "named_failed": named,
        "sensitivities": im.simulate(antitnf, t, events=dose, sensitivities=["k_dmg", "TNF"]),
        "failed": im.simulate(blow, np.linspace(0, 1.5, 16), on_failure="flag"),
    }
    for name, r in cases.items():
        assert r._dataset is None             # nothing built yet: written from the arrays
        ours = r.save(tmp_path / f"{name}_ours.nc")
        text = r.to_csv()                     # a batch's through pandas
        theirs = write_netcdf(r.dataset, tmp_path / f"{name}_xarray.nc")
        assert _h5_layout(ours) == _h5_layout(theirs), name
        a = xr.open_dataset(ours, engine="h5netcdf").load()
        b = xr.open_dataset(theirs, engine="h5netcdf").load()
        xr.testing.assert_identical(a, b)
        xr.testing.assert_identical(a, r.dataset)
        assert text == r.to_dataframe().to_csv(), name
    assert not cases["failed"].ok and np.isnan(cases["failed"]["X"].values[-1])

    model = Path(__file__).resolve().parents[1] / "scenarios/models/antitnf_cytokine.yaml"
    assert command_in_new_process("simulate", model, "-o", tmp_path / "cli") == (0, [])
    back = im.Result.load(tmp_path / "cli" / "results.nc")
    again = im.simulate(antitnf, np.arange(0.0, 366.0),
                        events=im.doses(target="Depot", amount=40, every=14, count=27))
    # (to the tolerance: another worker may compile the model's specialised kernels in between)
    np.testing.assert_allclose(back.dataset["y"].values, again.dataset["y"].values,
                               rtol=1e-4, atol=1e-9)


def test_second_process_compiles_nothing(pk, tmp_path):
    code = ("import sys, numpy as np, immunesim as im\n"
            "from conftest import one_species\n"
            "m = one_species('-k * X', initial=0.0, params={'k': %r})\n"
            "r = im.simulate(m, [0, 1, 2], events=[im.Bolus(time=0, target='X', amount=1.0)],"
            " kernels='specialised')\n"
            "from immunesim.codegen import load_kernels\n"
            "f = load_kernels(m).solve_one_rodas5p_plain\n"     # no state events: the plain kernels
            "print(sum(f.stats.cache_misses.values()), sum(f.stats.cache_hits.values()),"
            " 'sympy' in sys.modules)\n" % K)
    env = {**__import__("os").environ, "IMMUNESIM_CACHE_DIR": str(tmp_path / "cache")}
    run = [sys.executable, "-c", code]
    cwd = __import__("pathlib").Path(__file__).parent
    first = subprocess.run(run, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    second = subprocess.run(run, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["1", "0", "True"]     # compiled, SymPy used to generate
    assert second.stdout.split() == ["0", "1", "False"]   # loaded from cache, no SymPy at all


def test_a_new_model_on_the_generic_tier_generates_and_compiles_nothing_of_its_own(tmp_path):
    """The default tier for a model no cache has seen: the generic kernels, compiled once into
    the cache by the first process and loaded by the next; no SymPy, no model module written."""
    code = ("import sys, numpy as np, immunesim as im\n"
            "from conftest import one_species\n"
            "m = one_species('-k * X + %r', initial=1.0, params={'k': %r})\n"
            "r = im.simulate(m, [0, 1, 2])\n"
            "from immunesim.codegen import load_generic, kernels_cached\n"
            "f = load_generic().solve_one_rodas5p_plain\n"
            "g = load_generic().solve_one_rodas5p\n"      # with state events: never compiled here
            "print(r.dataset.attrs['kernels'], sum(f.stats.cache_misses.values()),"
            " 'sympy' in sys.modules, kernels_cached(m), len(g.overloads))\n")
    env = {**__import__("os").environ, "IMMUNESIM_CACHE_DIR": str(tmp_path / "cache"),
           "IMMUNESIM_AOT": "off"}     # the JIT-compiled generic kernels (tests/test_aot.py: the others)
    env.pop("IMMUNESIM_KERNELS", None)
    cwd = __import__("pathlib").Path(__file__).parent
    outs = [subprocess.run([sys.executable, "-c", code % (0.01 * i, K)], env=env, cwd=cwd,
                           capture_output=True, text=True, check=True).stdout.split()
            for i in (1, 2)]      # two model structures, one after the other
    assert outs[0] == ["generic", "1", "False", "False", "0"]   # the generic kernels compiled once
    assert outs[1] == ["generic", "0", "False", "False", "0"]   # then loaded, for a new model too
