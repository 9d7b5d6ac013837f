"""Hostile and mistaken inputs, one regression test per reproducer of the hardening issue:
code execution through a model's name, a poisoned or damaged kernel cache, stale manifests,
corrupted trial chunks, failing patients, unbounded costs, tracebacks, silently accepted input
and messages that named the wrong thing."""

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

import immunesim as im
from immunesim.cli import main
from immunesim.codegen import KernelCacheWarning, cache
from immunesim.codegen.generate import generate_source
from immunesim.errors import ExpressionError, InputError, ModelError
from immunesim.limits import MAX_DOSES, MAX_YAML_DEPTH
from immunesim.safe_yaml import load_yaml
from immunesim.scenario.schema import ScenarioError, validate
from immunesim.units import UnitProblem, to_unit

ROOT = Path(__file__).resolve().parents[1]
POISON = "x\nimport pathlib; pathlib.Path({path!r}).write_text('pwned')\n#"


def decay(name="decay", rate="k*X"):
    """The one small model this file compiles (its structure leaves the name out)."""
    return im.Model(name, species=[im.Species(name="X", unit="mg", initial=1.0)],
                    parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="test")],
                    processes=[im.Process(name="el", rate=rate, stoichiometry={"X": -1})])


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


# -- 1. code execution ---------------------------------------------------------------------------
def test_a_models_name_never_reaches_generated_code_nor_runs(tmp_path):
    sentinel = tmp_path / "pwned"
    model = decay(POISON.format(path=str(sentinel)))
    assert model.name not in generate_source(model)
    for tier in ("generic", "specialised"):
        r = im.simulate(model, [0.0, 1.0, 2.0], kernels=tier)
        assert float(r["X"][-1]) == pytest.approx(np.exp(-1.0), rel=1e-5)
    assert not sentinel.exists()


def test_a_model_files_name_must_be_printable_text(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"name": "a\nimport os", "species": [{"name": "X", "unit": "mg"}],
                                    "parameters": [], "processes": []}))
    with pytest.raises(ModelError, match=r"\.name: expected a line of printable text"):
        im.load_model(path)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """The decay model's kernels, compiled in the shared cache, copied (with their time stamps,
    which Numba checks) into a private cache that the test may damage."""
    model = decay()
    im.simulate(model, [0.0, 1.0], kernels="specialised")   # compiled (or loaded) in the shared cache
    src = cache.kernel_path(model)
    monkeypatch.setenv("IMMUNESIM_CACHE_DIR", str(tmp_path / "cache"))
    dst = cache.kernel_path(model)
    dst.parent.mkdir(parents=True)
    for f in [src, src.with_suffix(".sha256"), *src.parent.joinpath("__pycache__").glob(f"{src.stem}.*")]:
        target = dst.parent / f.relative_to(src.parent)
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(f, target)
    key = cache.kernel_key(model)
    cache._LOADED.pop(key, None)
    yield model, dst
    cache._LOADED.pop(key, None)


def test_a_cached_module_that_is_not_the_one_written_is_never_imported(private_cache, tmp_path):
    model, path = private_cache
    sentinel = tmp_path / "pwned"
    # a module poisoned by an older version (or by hand), without a matching hash
    path.write_text(f"import pathlib\npathlib.Path({str(sentinel)!r}).write_text('pwned')\n")
    with pytest.warns(KernelCacheWarning, match="does not match its recorded SHA-256"):
        mod = cache.load_kernels(model)      # imported, not yet compiled: no Numba work here
    assert not sentinel.exists()
    assert "pathlib" not in path.read_text() and hasattr(mod, "solve_one_rodas5p")


@pytest.mark.parametrize("damage", ["truncate", "empty", "no hash"])
def test_a_damaged_cached_module_is_rebuilt_with_a_warning(private_cache, damage):
    model, path = private_cache
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.with_suffix(".sha256").unlink()
    with pytest.warns(KernelCacheWarning):
        cache.load_kernels(model)
    cache._LOADED.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", KernelCacheWarning)   # rebuilt for good: no second warning
        mod = cache.load_kernels(model)
    assert path.read_bytes() == generate_source(model).encode() and mod.N == 1


def test_garbage_in_numbas_cache_is_a_miss_not_an_error(private_cache):
    model, path = private_cache
    # a model without state events runs the _plain kernels (README, Kernels)
    index = sorted(path.parent.joinpath("__pycache__").glob(f"{path.stem}.solve_one_rodas5p_plain-*.nbi"))
    assert index
    for f in index:
        f.write_bytes(os.urandom(64))
    with pytest.warns(KernelCacheWarning, match="Numba's cache of solve_one_rodas5p_plain is damaged"):
        r = im.simulate(model, [0.0, 1.0, 2.0], kernels="specialised")
    assert float(r["X"][-1]) == pytest.approx(np.exp(-1.0), rel=1e-5)


# -- 2. a run never leaves another run's manifest ---------------------------------------------
def test_a_killed_simulate_leaves_no_manifest_beside_new_results(tmp_path, monkeypatch, capsys):
    model_file = tmp_path / "m.yaml"
    model_file.write_text(yaml.safe_dump({
        "name": "decay", "species": [{"name": "X", "unit": "mg", "initial": 1.0}],
        "parameters": [{"name": "k", "value": 0.5, "unit": "1/day", "source": "test"}],
        "processes": [{"name": "el", "rate": "k*X", "stoichiometry": {"X": -1}}]}))
    out = tmp_path / "out"
    assert _run(["simulate", model_file, "-o", out, "--t-end", "2"], capsys)[0] == 0
    assert (out / "manifest.json").exists()

    def killed(self):
        raise KeyboardInterrupt        # after results.nc was replaced
    monkeypatch.setattr(im.Result, "to_csv", killed)
    assert _run(["simulate", model_file, "-o", out, "--t-end", "3"], capsys)[0] == 130
    assert im.Result.load(out / "results.nc").time[-1] == 3.0
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize("command", ["run", "compare"])
def test_run_and_compare_remove_the_old_manifest_before_simulating(tmp_path, monkeypatch, capsys,
                                                                  command):
    import sys

    import immunesim.scenario  # noqa: F401  (loads the modules below)

    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"status": 0}')

    def killed(*a, **k):
        assert not (out / "manifest.json").exists()
        raise KeyboardInterrupt
    for name in ("immunesim.scenario.run", "immunesim.scenario.compare"):   # where it is called
        monkeypatch.setattr(sys.modules[name], "simulate", killed)   # (modules: the package's
                                                                      # names are the functions)
    scenario = ROOT / "scenarios" / ("ra.yaml" if command == "run" else "ra_compare.yaml")
    assert _run([command, scenario, "-o", out, "-q"], capsys)[0] == 130
    assert not (out / "manifest.json").exists()


# -- 6. bounded cost -----------------------------------------------------------------------------
SC = {"disease": "ra", "time": {"end": "2 years"}}


def _problems(data):
    with pytest.raises(ScenarioError) as exc:
        validate(data)
    return "\n".join(exc.value.problems)


def test_dose_lists_are_bounded_before_they_are_built():
    text = _problems({**SC, "therapies": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                           "every": "1e-300 d"}]})
    assert "therapies[0].every" in text and f"at most {MAX_DOSES}" in text
    text = _problems({**SC, "therapies": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                           "every": "14 d", "count": 1_000_000_000}]})
    assert "therapies[0].count" in text


def test_pk_grid_and_schedule_are_bounded(capsys):
    code, err = _run(["pk", "adalimumab", "--dose", "40 mg", "--route", "sc", "--every", "1e-9 d",
                      "--days", "10"], capsys)
    assert code == 2 and "--every" in err and "doses" in err
    code, err = _run(["pk", "adalimumab", "--dose", "40 mg", "--route", "sc", "--days", "1e9"], capsys)
    assert code == 2 and "--days" in err and "36525" in err


def test_known_units_convert_as_pint_does_to_the_bit():
    """The units converted without Pint (immunesim.units._KNOWN) give Pint's numbers exactly."""
    from immunesim import units

    ureg = units.registry()
    rng = np.random.default_rng(3)
    numbers = np.concatenate([rng.uniform(0, 1000, 300), 10.0 ** rng.uniform(-8, 8, 300),
                              [0.0, 1.0, 7.0, 0.1, 1 / 3, 1e300]])
    for (text, unit), factor in units._KNOWN.items():
        assert factor == ureg._get_conversion_factor(units._unit(text)._units,
                                                     units._unit(unit)._units), (text, unit)
        for x in numbers:
            pint_value = ureg.Quantity(float(x), units._unit(text)).to(units._unit(unit)).magnitude
            if np.isfinite(pint_value):
                assert units.to_unit(f"{float(x)!r} {text}", unit) == float(pint_value), (x, text)
            else:
                with pytest.raises(UnitProblem, match="finite"):
                    units.to_unit(f"{float(x)!r} {text}", unit)


def test_units_and_yaml_are_bounded():
    for text in ["1 2**2**2**2**2**2", "1 " + "*".join(["d"] * 3000), "1 d/0", "1 (", "1 d**0"]:
        with pytest.raises(UnitProblem):
            to_unit(text, "day")
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "\n".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(9))
    with pytest.raises(InputError, match="aliases") as exc:
        load_yaml(laughs, "bomb.yaml")
    assert len(str(exc.value)) < 300
    with pytest.raises(InputError, match=f"nested more than {MAX_YAML_DEPTH}"):
        load_yaml("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")


def test_expressions_are_bounded_and_constants_checked_when_read():
    with pytest.raises(ExpressionError, match="'9\\*\\*9\\*\\*9': this part is not a finite"):
        im.Process(name="p", rate="9**9**9 * C", stoichiometry={"C": 1})
    with pytest.raises(ExpressionError, match="nested more than"):
        im.Process(name="p", rate="exp(" * 100 + "C" + ")" * 100, stoichiometry={"C": 1})
    with pytest.raises(ExpressionError, match="characters long"):
        im.Process(name="p", rate="C+" * 20_000 + "C", stoichiometry={"C": 1})


def test_min_of_many_arguments_generates_in_linear_size():
    # 2**n Piecewise terms before: min of 8 took ~44 s, of 10 never finished
    m = decay(rate="k*min(X, " + ", ".join(f"{i + 1}*X" for i in range(11)) + ")")
    source = generate_source(m)
    assert "min(" in source and len(source) < 200_000


def test_symbolic_work_has_a_time_budget_that_names_the_expression(monkeypatch):
    from immunesim import limits

    monkeypatch.setattr(limits, "SYMBOLIC_BUDGET_S", 0.0)
    with pytest.raises(ExpressionError, match="process 'el' rate.*budget of 0 s"):
        generate_source(decay(rate="k*X*exp(X)"))


# -- 5, 7, 8, 9: clean errors, naming the right field --------------------------------------------
@pytest.mark.parametrize("therapy,field", [
    ({"infusion_hours": "abc"}, "therapies[0].infusion_hours"),
    ({"infusion_hours": float("inf")}, "therapies[0].infusion_hours"),
    ({"count": float("nan"), "every": "4 w"}, "therapies[0].count"),
    ({"dose": "1e400 mg"}, "therapies[0].dose"),
    ({"start": "-5 d"}, "therapies[0].start"),
    ({"until": "-3 d", "every": "4 w"}, "therapies[0].until"),
])
def test_regimen_fields_are_checked_and_named(therapy, field):
    th = {"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv", **therapy}
    assert field in _problems({**SC, "therapies": [th]})
    assert field.replace("therapies[0]", "arms.a[0]") in _problems({**SC, "arms": {"a": [th]}})


@pytest.mark.parametrize("extra,field", [
    ({"compare": {"synergy": {"control": [], "a": "a", "b": "a", "combination": "a"}}},
     "compare.synergy.control"),
    ({"treat_to_target": {"rules": [{"at": "400 d", "then": {"stop": "adalimumab"}}],
                          "flare": {"readout": "DAS28_CRP", "above": "abc"}}}, "treat_to_target.flare"),
    ({"population": {"size": 10, "parameters": {"k_inj_TNF": {"lognormal": float("nan")}}},
      "trial": {"baseline": "365 d", "weeks": 24, "control": [],
                "endpoints": {"ACR20": {"readout": "DAS28_CRP", "improvement": 0.2, "weeks": [24]}}}},
     "trial.control"),
])
def test_blocks_with_wrong_types_are_errors_not_tracebacks(extra, field):
    text = _problems({**SC, "arms": {"a": []}, **extra})
    assert field in text


def test_a_repeated_key_is_refused_not_silently_dropped(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("disease: ra\ntherapies:\n  - {drug: adalimumab, dose: 40 mg, route: sc}\n"
                    "therapies:\n  - {drug: tocilizumab, dose: 8 mg/kg, route: iv}\n")
    code, err = _run(["validate", path], capsys)
    assert code == 2 and "duplicate key 'therapies'" in err and "line 2" in err


def test_a_non_utf8_file_is_an_error(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    code, err = _run(["simulate", path], capsys)
    assert code == 2 and "not UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("argv,flag", [
    (["--t-end", "nan", "--dt", "0"], "--t-end"),
    (["--t-end", "-5"], "--t-end"),
    (["--atol", "0"], "--atol"),
    (["--rtol", "0"], "--rtol"),
    (["--dt", "1e-9", "--t-end", "100"], "--dt"),
])
def test_simulate_flags_are_checked_and_named(tmp_path, capsys, argv, flag):
    model = ROOT / "scenarios/models/antitnf_cytokine.yaml"
    code, err = _run(["simulate", model, "-o", tmp_path / "o", *argv], capsys)
    assert code == 2 and flag in err and "t_eval" not in err
    assert not (tmp_path / "o").exists()


def test_a_model_files_simulation_block_is_checked_field_by_field(tmp_path, capsys):
    data = yaml.safe_load((ROOT / "scenarios/models/antitnf_cytokine.yaml").read_text())
    data["simulation"] = {"t_end": "abc", "rtol": 0, "doses": [{"target": "Nope", "amount": 1,
                                                                 "count": 10**12}]}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    code, err = _run(["simulate", path, "-o", tmp_path / "o"], capsys)
    assert code == 2
    for field in ("simulation.t_end", "simulation.rtol", "doses[0].target", "doses[0].count"):
        assert field in err


@pytest.mark.parametrize("seed", ["-1", str(2**64)])
def test_run_seed_is_checked_before_running(tmp_path, capsys, seed):
    code, err = _run(["run", ROOT / "scenarios/ra.yaml", "-o", tmp_path / "o", "--seed", seed], capsys)
    assert code == 2 and "--seed" in err
    assert not (tmp_path / "o").exists()


def test_pk_days_nan_names_the_flag(capsys):
    code, err = _run(["pk", "adalimumab", "--dose", "40 mg", "--route", "sc", "--days", "nan"], capsys)
    assert code == 2 and "--days" in err and "until" not in err


@pytest.mark.parametrize("rate,message", [
    ("min(C, 1/0)", "division by zero"), ("sqrt(-1) + C", "not a finite real number"),
    ("C/0", "division by zero"), ("log(0)*C", "log of a number <= 0"),
])
def test_constant_mistakes_in_rate_laws_name_the_token(rate, message):
    with pytest.raises(ExpressionError, match=message):
        im.Process(name="p", rate=rate, stoichiometry={"C": 1})


@pytest.mark.parametrize("rate", ["+".join(["X"] * 500), "-" * 999 + "X",
                                  "k*abs(log(abs(min(X, 5))))"])
def test_valid_rate_laws_that_used_to_fail_now_generate(rate):
    source = generate_source(decay(rate=rate))
    assert "def rhs(" in source


def test_csv_text_fields_round_trip_with_quotes(tmp_path):
    import pandas as pd

    from immunesim.durable import write_csv

    rows = [{"arm": 'a"b', "note": "x, y", "rate": 0.5}]
    write_csv(tmp_path / "t.csv", rows)
    back = pd.read_csv(tmp_path / "t.csv")
    assert back.arm[0] == 'a"b' and back.note[0] == "x, y"


# -- every reproducer: a clean error, never a traceback, through the command line ---------------
def test_hostile_scenarios_exit_2_with_field_named_errors(tmp_path, capsys):
    cases = {
        "bomb.yaml": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\ndisease: *g\n",
        "deep.yaml": "disease: " + "[" * 3000 + "]" * 3000 + "\n",
        "unit.yaml": "disease: ra\ntime: {end: '1 2**2**2**2**2**2'}\n",
        "seed.yaml": "disease: ra\nseed: -1\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, err = _run(["validate", path], capsys)
        assert code == 2 and "Traceback" not in err and name in err, (name, err)
        assert len(err) < 2000, name



def test_compare_with_a_failing_treat_to_target_arm_exits_3_with_every_row(tmp_path, capsys):
    import pandas as pd

    hourly = {"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "1 h", "start": "365 d"}
    switch = {"switch": {"from": "adalimumab", "to": {"drug": "tocilizumab", "dose": "8 mg/kg",
                                                      "route": "iv", "infusion_hours": 1, "every": "4 w"}}}
    data = {"name": "cmp", "disease": "ra", "time": {"end": "77 w", "output_every": "1 w"},
            "solver": {"max_steps": 1500},   # 2016 hourly doses by day 449; untreated needs ~500
            "arms": {"none": [], "t2t": {"therapies": [hourly], "treat_to_target": {"rules": [
                {"at": "449 d", "if": {"readout": "DAS28_CRP", "above": 3.2}, "then": switch}]}}}}
    path = tmp_path / "cmp.yaml"
    path.write_text(yaml.safe_dump(data))
    code, err = _run(["compare", path, "-o", tmp_path / "out", "-q"], capsys)
    assert code == 3, err
    arms = pd.read_csv(tmp_path / "out" / "arms.csv")
    assert list(arms.arm) == ["none", "t2t"]
    assert "max_steps=1500" in arms.status[1] and arms.status[0] == "success"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["failures"]


def test_sbml_export_of_long_sums_and_any_name():
    import xml.etree.ElementTree as ET

    from immunesim.io.sbml import to_sbml

    m = decay(name="a <b> & \x00 'c'", rate="+".join(["k*X"] * 500) + " - " + "-" * 999 + "X")
    root = ET.fromstring(to_sbml(m))
    model = root[0]
    assert model.get("id") == "a__b_______c_" and model.get("name") == "a <b> &  'c'"


@pytest.mark.parametrize("extra,field", [
    ({"solver": {"max_steps": 10**12}}, "solver.max_steps"),
    ({"treat_to_target": {"rules": [{"every": "1 min", "from": "0 d", "then": {"stop": "adalimumab"}}]}},
     "treat_to_target.rules[0].every"),
    ({"model": "abm", "tissue": {"shape": [20000, 20000]}}, "tissue.shape"),
    ({"model": "abm", "tissue": {"dt": "0.001 min"}}, "tissue.dt"),
    ({"model": "hybrid", "tissue": {"exchange_every": "1e-9 d"}}, "tissue.exchange_every"),
    ({"model": "abm", "tissue": {"snapshot_every": "1 min"}}, "tissue.snapshot_every"),
])
def test_run_lengths_and_sizes_are_bounded(extra, field):
    assert field in _problems({**SC, **extra})


def test_a_regimen_grid_is_counted_before_its_arms_are_built():
    grid = {d: {"route": r, "doses": [f"{k} mg" for k in range(1, 21)], "every": [f"{k} d" for k in range(1, 21)]}
            for d, r in (("adalimumab", "sc"), ("tofacitinib", "oral"), ("etanercept", "sc"))}
    data = {**SC, "arms": {"placebo": []},
            "population": {"size": 10, "parameters": {"k_inj_TNF": {"lognormal": 0.5}}},
            "trial": {"baseline": "365 d", "weeks": 24,
                      "endpoints": {"ACR20": {"readout": "DAS28_CRP", "improvement": 0.2, "weeks": [24]},
                                    "infection": {"challenge_week": 8, "cleared_within": "7 d"}},
                      "regimen_search": {"start": "365 d", "max_drugs": 3, "grid": grid,
                                         "efficacy": {"endpoint": "ACR20", "week": 24}, "risk": "infection"}}}
    assert "64481200 regimens" in _problems(data)     # (1 + 400)^3 - 1, none of them built


def test_a_nul_character_in_an_argument_is_an_error(capsys):
    code, err = _run(["validate", "a\x00b.yaml"], capsys)
    assert code == 2 and "NUL" in err


@pytest.mark.parametrize("address", ["garbage", "tcp://host", "http://x:1 ; rm"])
def test_a_malformed_scheduler_address_is_an_error(address):
    pytest.importorskip("distributed")
    from immunesim.cohort.dask_backend import DaskBackend
    from immunesim.errors import TrialError

    with pytest.raises(TrialError, match="expected an address like tcp://host:8786"):
        DaskBackend(scheduler=address)


@pytest.mark.parametrize("rules,rate,message", [
    ([("r", "0")], "k*log(r)*X", "not a finite number"),
    ([("r", "0")], "X/r", "division by zero"),
    ([("n", "9**9")], "9**n*X", "power of numbers is not a finite real number"),
])
def test_constants_that_appear_only_once_rules_are_substituted_are_refused(rules, rate, message):
    # parse sees names here; the symbolic build sees the numbers, and must refuse them too
    # (9**n would otherwise be computed exactly: 370 million digits)
    m = im.Model("m", species=[im.Species(name="X", unit="mg", initial=1.0)],
                 parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="test")],
                 rules=[im.Rule(name=a, expression=b, unit="1") for a, b in rules],
                 processes=[im.Process(name="el", rate=rate, stoichiometry={"X": -1})])
    with pytest.raises(ExpressionError, match=message):
        generate_source(m)


def test_the_python_api_bounds_dose_lists_too():
    with pytest.raises(ModelError, match="count must be an integer in"):
        im.doses(target="X", amount=1.0, every=1.0, count=10**9)
