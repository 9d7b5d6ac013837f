"""Fuzzing: hostile and mistaken inputs get a clean error or a valid result, never a traceback,
a hang, code execution or a file written outside the output folder.

Hypothesis drives four fuzzers with a fixed seed (``derandomize``) so CI is reproducible:
mutated shipped scenarios (in memory and through ``immunesim validate``), random expressions,
random model files (whose generated kernel source must hold no user text), and random
command-line arguments. Each example has a deadline. The CI budget is about a minute on one
core. For a longer run by hand, with new random examples each time:
``IMMUNESIM_FUZZ_SCALE=10`` runs ten times the CI budget, ``IMMUNESIM_FUZZ_EXAMPLES=N`` runs N
examples per fuzzer.
"""

from __future__ import annotations

import ast
import copy
import math
import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunesim.cli import main, pk_request, simulation_settings
from immunesim.errors import ImmunesimError
from immunesim.limits import MAX_DAYS, MAX_DOSES
from immunesim.model.expr import parse, to_sympy
from immunesim.model.loader import model_from_dict
from immunesim.scenario.schema import Scenario, ScenarioError, validate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {p.name: yaml.safe_load(p.read_text()) for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
EXAMPLES = int(os.environ.get("IMMUNESIM_FUZZ_EXAMPLES", "0"))
SCALE = float(os.environ.get("IMMUNESIM_FUZZ_SCALE", "0"))


def budget(ci: int, deadline_ms: int = 10_000):
    by_hand = bool(EXAMPLES or SCALE)
    n = EXAMPLES or int(ci * SCALE) or ci
    return settings(max_examples=n, deadline=deadline_ms, derandomize=not by_hand,
                    suppress_health_check=list(HealthCheck), database=None)


# -- junk values -------------------------------------------------------------------------------
SPECIAL_TEXT = ["", " ", "abc", "1e-300 d", "1e400 mg", "-5 d", "1 d/0", "1 (", "1 d**0", "nan",
                "1 2**2**2**2**2**2", "40 mg", "8 mg/kg", "14 d", "4 w", "1e9 d", "0 d", "inf",
                "1 " + "*".join(["d"] * 300), "x\nimport os\n#", "a\"b", "\x00", "é" * 50,
                "adalimumab", "placebo", "DAS28_CRP", "ra", "rodas5p", "sc", "iv", "-1", "1.0e+400"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(SPECIAL_TEXT),
    st.text(max_size=20))
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_scenario(draw):
    name = draw(st.sampled_from(sorted(SCENARIOS)))
    data = copy.deepcopy(SCENARIOS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(junk)
        else:
            parent[path[-1]] = draw(junk)
    return data


@budget(ci=5000)
@given(mutated_scenario())
def test_mutated_scenarios_validate_or_fail_cleanly(data):
    try:
        sc = validate(data)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) and len(p) < 2000 for p in exc.problems)
    else:
        assert isinstance(sc, Scenario) and len(sc.hash) == 64


@budget(ci=300)
@given(mutated_scenario())
def test_mutated_scenario_files_through_the_command_line(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = sorted(p.name for p in tmp.iterdir())
    assert main(["validate", str(path)]) in (0, 2)
    assert sorted(p.name for p in tmp.iterdir()) == before      # validate writes nothing


# -- expressions -------------------------------------------------------------------------------
NAMES = ["C", "k", "K", "n", "t"]
atoms = st.one_of(st.sampled_from(NAMES), st.integers(-5, 1000).map(str),
                  st.sampled_from(["0", "1e400", "1e-300", "2.5", "9", "0.0", "1e308"]))


def _combine(inner):
    bin_ = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^", "<", " and ", "%"]), inner)
    call = st.tuples(st.sampled_from(["min", "max", "exp", "log", "sqrt", "abs", "pow", "hill",
                                      "piecewise", "foo", "__import__"]),
                     st.lists(inner, min_size=0, max_size=5))
    return st.one_of(bin_.map(lambda x: f"({x[0]}{x[1]}{x[2]})"),
                     inner.map(lambda x: f"-{x}"), inner.map(lambda x: f"not {x}"),
                     call.map(lambda x: f"{x[0]}({', '.join(x[1])})"))


expressions = st.one_of(st.recursive(atoms, _combine, max_leaves=25),
                        st.text(alphabet="Ck+-*/()^,. 0123456789eminaxlogpwr<>=", max_size=60))


@budget(ci=3000)
@given(expressions)
def test_random_expressions_parse_and_differentiate_or_fail_cleanly(text):
    import sympy as sp

    from immunesim.codegen.printer import emit_assignments

    symbols = {n: sp.Symbol(f"p[{i}]", real=True) for i, n in enumerate(NAMES)}
    try:
        expr = to_sympy(parse(text, "fuzz"), symbols, "fuzz")
    except ImmunesimError:
        return
    except KeyError:          # a name outside NAMES: the model would report it as undefined
        return
    derivs = [sp.diff(expr, s) for s in symbols.values()]
    lines = emit_assignments([f"o[{i}]" for i in range(6)], [expr, *derivs])
    ast.parse("\n".join(line.strip() for line in lines))


# -- model files -------------------------------------------------------------------------------
HOSTILE_NAMES = ["x\nimport os; os.system('touch /tmp/immunesim-fuzz-pwned')\n#", "a'b\"c",
                 "__import__('os')", "m" * 500, "\u202e", "ok_name", "</model>\x00<x a='", "1 & 2"]


GOOD = "good"


@st.composite
def model_data(draw):
    """Model files that are mostly valid (so that code generation is reached), with hostile
    names and text, and now and then a broken field."""
    n = draw(st.integers(1, 3))
    def maybe(good, bad):
        return draw(st.sampled_from([good] * 15 + [bad]))
    species = [{"name": maybe(f"S{i}", draw(st.sampled_from(["t", "min", "1x", "S0", "a b"]))),
                "unit": maybe("mg", draw(st.sampled_from(["", "m\ng", 5, "1/day"]))),
                "initial": maybe(1.0, draw(scalars)),
                "description": draw(st.sampled_from(HOSTILE_NAMES))} for i in range(n)]
    params = [{"name": f"k{i}", "value": maybe(0.5, draw(scalars)), "unit": "1/day",
               "source": maybe("assumed: fuzz", draw(st.sampled_from(["", None, 3])))}
              for i in range(draw(st.integers(0, 2)))]
    names = [s["name"] for s in species] + [p["name"] for p in params]
    rates = st.one_of(expressions, st.lists(st.sampled_from(names + ["t", "2", "0.5"]), min_size=1,
                                            max_size=4).map("*".join))
    procs = [{"name": f"p{i}", "rate": draw(rates),
              "stoichiometry": maybe({f"S{i % n}": -1}, draw(junk))}
             for i in range(draw(st.integers(1, 3)))]
    data = {"name": maybe("fuzz model", draw(st.one_of(st.sampled_from(HOSTILE_NAMES),
                                                         st.text(max_size=30)))),
            "description": draw(st.sampled_from(HOSTILE_NAMES)),
            "species": species, "parameters": params, "processes": procs}
    if draw(st.integers(0, 4)) == 4:
        data[draw(st.sampled_from(["descripton", "simulation", "rules", "references"]))] = draw(junk)
    return data


ALLOWED_TOP = (ast.Import, ast.ImportFrom, ast.Assign, ast.FunctionDef)


@budget(ci=1500, deadline_ms=30_000)
@given(model_data(), st.sampled_from(HOSTILE_NAMES))
def test_random_model_files_build_or_fail_cleanly_and_never_reach_generated_code(data, api_name):
    from immunesim import Model
    from immunesim.codegen.generate import generate_source

    try:
        model = model_from_dict(data, where="fuzz")
    except ImmunesimError:
        return
    # the Python API takes any name (a file's must be printable text): it must not matter
    model = Model(api_name, species=model.species, parameters=model.parameters,
                  processes=model.processes, rules=model.rules)
    try:
        source = generate_source(model)
    except ImmunesimError:
        return
    tree = ast.parse(source)
    # the module is definitions only (and the templates' docstrings): an injected statement
    # would show here as anything else
    assert all(isinstance(node, ALLOWED_TOP) or (isinstance(node, ast.Expr) and isinstance(
        node.value, ast.Constant) and isinstance(node.value.value, str)) for node in tree.body)
    assert not any(h in source for h in HOSTILE_NAMES if len(h) > 3)
    if len(model.name) > 3:
        assert model.name not in source
    import xml.etree.ElementTree as ET

    from immunesim.io.sbml import to_sbml

    ET.fromstring(to_sbml(model))          # the SBML export is well-formed XML for any name


# -- command line ------------------------------------------------------------------------------
class Args:
    def __init__(self, **kw):
        self.__dict__.update(kw)


flag_numbers = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                         st.integers(-10, 10**6).map(float))


@budget(ci=2000)
@given(drug=st.sampled_from(["adalimumab", "tocilizumab", "tofacitinib", "nosuch", "Humira"]),
       dose=st.sampled_from(SPECIAL_TEXT), route=st.sampled_from(["sc", "iv", "oral"]),
       every=st.one_of(st.none(), st.sampled_from(SPECIAL_TEXT)),
       count=st.one_of(st.none(), st.integers(-5, 2 * 10**9)), days=flag_numbers,
       weight=flag_numbers, loading=st.one_of(st.none(), st.sampled_from(["0,2,6 w", "0," * 9, "x"])),
       hours=flag_numbers)
def test_pk_flags_give_a_clean_error_or_a_bounded_run(drug, dose, route, every, count, days, weight,
                                                      loading, hours):
    args = Args(drug=drug, dose=dose, route=route, every=every, count=count, days=days,
                weight=weight, loading=loading, infusion_hours=hours)
    try:
        reg, d, w = pk_request(args)
    except ImmunesimError as exc:
        assert str(exc)
        return
    assert 0 < d <= MAX_DAYS and 20 <= w <= 250
    assert reg.n_doses() <= MAX_DOSES and len(reg.dose_times()) <= MAX_DOSES


SIM_MODEL = model_from_dict({"name": "decay", "species": [{"name": "X", "unit": "mg", "initial": 1}],
                             "parameters": [{"name": "k", "value": 0.5, "unit": "1/day", "source": "assumed: test"}],
                             "processes": [{"name": "e", "rate": "k*X", "stoichiometry": {"X": -1}}]})


@budget(ci=2000)
@given(sim=st.one_of(junk, st.fixed_dictionaries({}, optional={
    "t_end": scalars, "output_every": scalars, "method": scalars, "rtol": scalars, "atol": scalars,
    "doses": st.lists(st.fixed_dictionaries({"target": st.sampled_from(["X", "Y", 1])}, optional={
        "amount": scalars, "every": scalars, "count": scalars, "start": scalars}), max_size=3)})),
       t_end=flag_numbers, dt=flag_numbers, rtol=flag_numbers, atol=flag_numbers)
def test_simulate_settings_give_a_clean_error_or_a_bounded_run(sim, t_end, dt, rtol, atol):
    args = Args(t_end=t_end, dt=dt, method=None, rtol=rtol, atol=atol)
    try:
        run = simulation_settings({"simulation": sim}, "m.yaml", SIM_MODEL, args)
    except ImmunesimError as exc:
        assert str(exc)
        return
    assert math.isfinite(run["t_end"]) and run["t_end"] > 0 and run["dt"] > 0
    assert run["t_end"] / run["dt"] <= 1_000_000 and len(run["events"]) <= MAX_DOSES


@budget(ci=1000)
@given(argv=st.lists(st.one_of(st.sampled_from(
    ["validate", "list", "diseases", "variables", "parameters", "drugs", "drug", "show", "ra",
     "adalimumab", "--seed", "-1", "99999999999999999999999", "--bogus", "sbml", "nosuch.yaml",
     "-o", "out", "pk", "--days", "nan", "run", "trial", "--size", "0", "compare"]),
    st.text(max_size=12)), max_size=5))
def test_random_command_lines_exit_cleanly(tmp_path_factory, argv, capsys):
    tmp = tmp_path_factory.mktemp("cli")
    old = os.getcwd()
    os.chdir(tmp)
    try:
        try:
            code = main(argv)
        except SystemExit as exc:        # argparse's own usage errors exit 2
            code = exc.code
        # nothing runs long enough to write here: a real run needs a real scenario file
        assert code in (0, 2), capsys.readouterr().err
        assert not any(p.name != "out" for p in tmp.iterdir())
    finally:
        os.chdir(old)
