"""The two kernel tiers (README, Kernels: what compiles when): the generic kernels, compiled once
for every model and driven by the model's tape, give the specialised kernels' results to the
solver tolerance on every disease preset and example model, with scheduled doses; ``auto``
picks the generic tier for a model whose own kernels are not cached, and the specialised tier
for large batches."""

import os
from pathlib import Path

import numpy as np
import pytest

import immunesim as im
from immunesim.codegen import kernels_cached, sparse_lu
from immunesim.kernels import lu_program
from immunesim.kernels.constants import MAX_MULTIPLIER
from immunesim.simulate import SPECIALISE_AT, kernel_tier

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "scenarios" / "models").glob("*.yaml"))


def _close(a, b, rtol):
    a, b = a.dataset["y"].values, b.dataset["y"].values
    scale = np.abs(b) + 1e-6 * np.abs(b).max(axis=-2, keepdims=True) + 1e-12
    return float(np.max(np.abs(a - b) / scale))


@pytest.mark.parametrize("name", [*im.diseases(), *(m.name for m in MODELS)])
def test_generic_and_specialised_tiers_agree(name):
    model = (im.load_model(ROOT / "scenarios" / "models" / name) if name.endswith(".yaml")
             else im.disease_model(name))
    t = np.linspace(0.0, 200.0, 201)
    target = model.species[0].name
    events = im.doses(target=target, amount=0.1 * (model.initial_vector()[0] + 1.0), every=14, count=8)
    runs = {k: im.simulate(model, t, events=events, rtol=1e-8, atol=1e-10, kernels=k)
            for k in ("generic", "specialised")}
    assert _close(runs["generic"], runs["specialised"], 1e-8) < 1e-5
    # a variable that stays exactly zero (a compartment never fed) stays exactly zero in both
    # tiers: the generic tier's sparse LU keeps the static pivots (a dense LU did not: 1e-21)
    zero = [np.all(runs[k].dataset["y"].values == 0.0, axis=0) for k in ("specialised", "generic")]
    assert np.array_equal(zero[0], zero[1])
    assert runs["generic"].dataset.attrs["kernels"] == "generic"
    assert runs["specialised"].dataset.attrs["kernels"] == "specialised"
    g, s = (int(runs[k].dataset["n_steps"]) for k in ("generic", "specialised"))
    assert abs(g - s) <= max(2, 0.02 * s)      # the same method and step control


@pytest.mark.parametrize("method", ["rodas4", "dopri5"])
def test_tiers_agree_for_every_method_in_a_batch(method):
    model = im.disease_model("ra")
    k = model.parameter_vector()[model.index_of(model.parameters[0].name)]
    P = {model.parameters[0].name: k * np.array([0.8, 1.0, 1.25])}
    t = np.linspace(0.0, 60.0, 61)
    runs = {kk: im.simulate_batch(model, P, t, method=method, rtol=1e-7, atol=1e-9, kernels=kk)
            for kk in ("generic", "specialised")}
    assert runs["generic"].ok.all() and runs["specialised"].ok.all()
    assert _close(runs["generic"], runs["specialised"], 1e-7) < 1e-4


def test_auto_picks_generic_for_a_new_model_and_specialised_for_large_batches(monkeypatch):
    monkeypatch.delenv("IMMUNESIM_KERNELS", raising=False)
    unique = int.from_bytes(os.urandom(4), "little") / 2**32    # a structure no cache has seen
    m = im.Model("tier_probe", species=[im.Species(name="Q", unit="mg", initial=2.0)],
                 parameters=[im.Parameter(name="kq", value=0.3, unit="1/day", source="test value")],
                 processes=[im.Process(name="out", rate=f"kq * Q^1.5 + {0.01 + unique!r} * Q",
                                       stoichiometry={"Q": -1})])
    assert not kernels_cached(m)
    mod, tail = kernel_tier(m, "auto", 1)
    assert tail is not None and not kernels_cached(m)
    r = im.simulate(m, [0.0, 1.0, 5.0], kernels="auto")
    assert r.ok and not kernels_cached(m)         # nothing of its own was compiled
    mod, tail = kernel_tier(m, "auto", SPECIALISE_AT)
    assert tail is None and kernels_cached(m)
    with pytest.raises(im.ModelError, match="kernels must be one of"):
        im.simulate(m, [0.0, 1.0], kernels="fast")


@pytest.mark.parametrize("seed", range(6))
def test_lu_program_is_the_unrolled_lu_bit_for_bit(seed):
    """The generic kernels' sparse LU (an integer program, kernels.lu_program) does what a
    specialised module's unrolled code (codegen.sparse_lu.emit) does, to the bit, and solves
    W x = b (checked against NumPy's dense solve); a failed static pivot is reported by both."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 25))
    pattern = sorted({(int(i), int(j)) for i, j in rng.integers(0, n, (3 * n, 2))} |
                     {(i, i) for i in range(0, n, 2)})
    lu = sparse_lu.plan(n, pattern)
    prog = sparse_lu.program(lu, pattern)
    ns = {"math": __import__("math"), "MAX_MULTIPLIER": MAX_MULTIPLIER}
    exec(sparse_lu.emit(lu, pattern), ns)      # the code a specialised module compiles
    jv = rng.normal(size=len(pattern))
    inv_gh = float(rng.uniform(2.0, 20.0))
    w_code, w_prog = np.zeros(ns["NNZ_W"]), np.zeros(int(prog[lu_program.P_NNZW]))
    ns["w_assemble"](jv, inv_gh, w_code, None)
    lu_program.lu_assemble(prog, jv, inv_gh, w_prog)
    assert np.array_equal(w_code, w_prog)
    dense = np.eye(n) * inv_gh
    for (i, j), v in zip(pattern, jv):
        dense[i, j] -= v
    ok = ns["lu_factor_sparse"](w_code, None)
    assert lu_program.lu_factor(prog, w_prog) == ok
    assert np.array_equal(w_code, w_prog)
    if ok:
        b = rng.normal(size=n)
        x_code, x_prog = np.zeros(n), np.zeros(n)
        ns["lu_solve_sparse"](w_code, b, x_code, None)
        lu_program.lu_solve(prog, w_prog, b.copy(), x_prog)
        assert np.array_equal(x_code, x_prog)
        np.testing.assert_allclose(x_prog, np.linalg.solve(dense, b), rtol=1e-9, atol=1e-12)


def test_lu_program_without_a_plan_leaves_the_dense_lu():
    assert int(sparse_lu.program(None, [(0, 1)])[lu_program.P_NNZW]) == 0
    many = [(i, j) for i in range(40) for j in range(40)]    # a full 40 x 40: 22k ops
    assert sparse_lu.plan(40, many) is None
    assert sparse_lu.plan(40, many, sparse_lu.MAX_PROGRAM_OPS) is not None


def test_generic_tier_recomputes_parameter_only_parts_when_an_event_sets_a_parameter():
    """The tape's prologue (instructions of the parameters only, evaluated once per parameter
    vector) is evaluated again after a SetParameter event: X' = -(2k + 1/2) X, k set at t = 1."""
    m = im.Model("prologue_probe", species=[im.Species(name="X", unit="mg", initial=1.0)],
                 parameters=[im.Parameter(name="k", value=0.25, unit="1/day", source="test value")],
                 processes=[im.Process(name="out", rate="(2 * k + 0.5) * X", stoichiometry={"X": -1})])
    t = np.linspace(0.0, 3.0, 7)
    r = im.simulate(m, t, events=[im.SetParameter(time=1.0, name="k", value=1.0)],
                    rtol=1e-10, atol=1e-13, kernels="generic")
    exact = np.where(t <= 1.0, np.exp(-1.0 * t), np.exp(-1.0) * np.exp(-2.5 * (t - 1.0)))
    np.testing.assert_allclose(r["X"].values, exact, rtol=1e-8)
    rb = im.simulate_batch(m, {"k": [0.25, 0.5]}, t, kernels="generic", rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rb.dataset["y"].values[:, :, 0],
                               np.exp(-np.outer([1.0, 1.5], t)), rtol=1e-8)   # each patient's own p


# -- the composed tier (README, "Kernels: drugs composed with a compiled preset") -------------
#: the probe disease's two drugs: D an oral drug (depot, saturable elimination) driving neut_A,
#: E a two-compartment IV drug driving kill_Y (an added death rate)
_PROBE_DRUGS = {
    "D": {"species": ["D_Depot", "D_Central"],
          "parameters": [("D_ka", 0.9, "1/day"), ("D_CL", 0.4, "L/day"), ("D_V", 3.0, "L"),
                         ("D_EC50", 0.5, "mg/L")],
          "processes": [("D_abs", "D_ka*D_Depot", {"D_Depot": -1, "D_Central": 1}),
                        ("D_el", "D_CL*D_C + 0.2*D_C/(1 + D_C)", {"D_Central": -1})],
          "hook": "neut_A", "effect": "D_C/(D_C + D_EC50)"},
    "E": {"species": ["E_Central", "E_Peripheral"],
          "parameters": [("E_CL", 0.3, "L/day"), ("E_Q", 0.6, "L/day"), ("E_V", 2.5, "L"),
                         ("E_kmax", 1.5, "1/day")],
          "processes": [("E_el", "E_CL*E_C", {"E_Central": -1}),
                        ("E_dist", "E_Q*(E_C - E_Peripheral/E_V)",
                         {"E_Central": -1, "E_Peripheral": 1})],
          "hook": "kill_Y", "effect": "E_kmax*E_C/(E_C + 1)"},
}


def _disease(drugs=("D", "E"), extra=None):
    """A small 'disease' with three inputs (two driven by drugs D and E when coupled, one a
    parameter), in the layout the drug coupling gives: the disease's species first."""
    sp = [{"name": "X", "unit": "cells", "initial": 1.0}, {"name": "Y", "unit": "cells", "initial": 0.5}]
    par = [{"name": "kprod", "value": 2.0, "unit": "cells/day", "source": "test value"},
           {"name": "kdeg", "value": 0.5, "unit": "1/day", "source": "test value"},
           {"name": "kxy", "value": 0.8, "unit": "1/day", "source": "test value"},
           {"name": "Ky", "value": 0.7, "unit": "cells", "source": "test value"},
           {"name": "block_B", "value": 0.2, "unit": "1", "source": "drug hook", "bounds": [0, 1]}]
    rules = [{"name": "X_free", "expression": "X*(1 - neut_A)", "unit": "cells"}]
    proc = [{"name": "prod", "rate": "kprod*(1 - block_B)", "stoichiometry": {"X": 1}},
            {"name": "deg", "rate": "kdeg*X", "stoichiometry": {"X": -1}},
            {"name": "conv", "rate": "kxy*X_free*Y/(Ky + Y) + 0.1*X_free", "stoichiometry": {"Y": 1}},
            {"name": "kill", "rate": "(0.3 + kill_Y)*Y", "stoichiometry": {"Y": -1}}]
    hooks = {"neut_A": "0", "kill_Y": "0"}
    for d in drugs:
        spec = _PROBE_DRUGS[d]
        sp += [{"name": n, "unit": "mg"} for n in spec["species"]]
        par += [{"name": n, "value": v, "unit": u, "source": "test value"}
                for n, v, u in spec["parameters"]]
        rules.append({"name": f"{d}_C", "expression": f"{d}_Central/{d}_V", "unit": "mg/L"})
        proc += [{"name": n, "rate": r, "stoichiometry": st} for n, r, st in spec["processes"]]
        hooks[spec["hook"]] = spec["effect"]
    for name, expr in hooks.items():
        if expr == "0":
            par.append({"name": name, "value": 0.0, "unit": "1", "source": "drug hook"})
        else:
            rules.append({"name": name, "expression": expr, "unit": "1"})
    data = {"name": "composed_probe", "species": sp, "parameters": par, "rules": rules,
            "processes": proc, "inputs": ["neut_A", "block_B", "kill_Y"]}
    data.update(extra or {})
    return im.model_from_dict(data)


def _events():
    return [*im.doses(target="D_Depot", amount=2.0, every=7, count=6),
            im.Infusion(start=3.0, duration=0.5, target="E_Central", rate=4.0),
            im.SetParameter(time=20.0, name="kdeg", value=0.35),
            im.SetParameter(time=30.0, name="D_CL", value=0.8)]


def test_a_model_with_driven_inputs_splits_into_a_base_shared_by_every_drug_combination():
    from immunesim.codegen import split
    from immunesim.codegen.generate import composed_key

    both, d_only, e_only = _disease(), _disease(("D",)), _disease(("E",))
    parts = [split(m) for m in (both, d_only, e_only)]
    assert all(p is not None for p in parts)
    assert len({composed_key(p.base) for p in parts}) == 1          # one compiled module for all
    assert parts[0].driven == ("kill_Y", "neut_A") and parts[0].n_base == 2
    assert "X_free" in parts[0].base.rule_names                   # a rule of the hooks alone
    assert split(_disease(())) is None                            # nothing driven
    assert split(_disease(extra={"inputs": []})) is None           # nothing declared
    # the disease reading a drug's concentration other than through an input: no split
    m = _disease()
    data = {"name": "x", "species": [vars(s) for s in m.species], "inputs": list(m.inputs),
            "parameters": [{k: v for k, v in vars(p).items()} for p in m.parameters],
            "rules": [{"name": r.name, "expression": r.expression, "unit": r.unit} for r in m.rules],
            "processes": [{"name": p.name, "rate": p.rate.replace("kdeg*X", "kdeg*X*(1 + D_C)"),
                           "stoichiometry": dict(p.stoichiometry)} for p in m.processes]}
    assert split(im.model_from_dict(data)) is None
    # every library drug on a disease preset gives that preset's one base
    from immunesim.diseases.build import disease_model_data
    from immunesim.drugs.couple import couple
    from immunesim.drugs.library import drug_names

    ra = disease_model_data("rheumatoid_arthritis")
    bases = {split(im.model_from_dict(couple(ra, [d], 70.0))).base.structure_hash for d in drug_names()}
    bases.add(split(im.model_from_dict(couple(ra, ["tocilizumab", "methotrexate", "tofacitinib"],
                                              70.0))).base.structure_hash)
    assert len(bases) == 1


def test_composed_kernels_give_the_generic_kernels_results_and_serve_a_new_drug_set(monkeypatch):
    from immunesim.codegen import cache_dir

    monkeypatch.delenv("IMMUNESIM_KERNELS", raising=False)
    t = np.linspace(0.0, 60.0, 121)
    m = _disease()
    P = {"kxy": np.array([0.6, 0.8, 1.1]), "D_EC50": np.array([0.3, 0.5, 0.9]),
         "E_kmax": np.array([1.0, 1.5, 2.5])}
    runs = {k: im.simulate_batch(m, P, t, events=_events(), rtol=1e-9, atol=1e-12, kernels=k)
            for k in ("generic", "composed", "specialised")}
    assert runs["composed"].dataset.attrs["kernels"] == "composed"
    assert all(r.ok.all() for r in runs.values())
    assert tuple(runs["composed"].variables) == m.variable_names
    assert _close(runs["composed"], runs["generic"], 1e-9) < 1e-6
    assert _close(runs["composed"], runs["specialised"], 1e-9) < 1e-6
    assert int(runs["composed"].dataset["n_dense_lu"].sum()) == 0     # the block-sparse LU ran
    y = runs["composed"].dataset["y"].values
    assert y[:, :, m.variable_names.index("neut_A")].max(axis=1).min() > 0.3    # the drug acted
    one = im.simulate(m, t, params={"kxy": 0.6, "D_EC50": 0.3, "E_kmax": 1.0}, events=_events(),
                      rtol=1e-9, atol=1e-12, kernels="composed")
    assert one.dataset.attrs["kernels"] == "composed"
    np.testing.assert_allclose(one.dataset["y"].values, y[0], rtol=1e-12, atol=1e-15)
    # a new drug set on the same disease: the cached module, nothing generated or compiled
    files = sorted(cache_dir().glob("m_*.py"))
    m2 = _disease(("E",))
    ev = [e for e in _events() if getattr(e, "name", "") != "D_CL" and
          getattr(e, "target", "E") != "D_Depot"]
    r2 = {k: im.simulate_batch(m2, {"kxy": P["kxy"]}, t, events=ev, rtol=1e-9, atol=1e-12, kernels=k)
          for k in ("composed", "generic")}
    assert sorted(cache_dir().glob("m_*.py")) == files
    assert _close(r2["composed"], r2["generic"], 1e-9) < 1e-6


def test_auto_composes_a_large_batch_of_a_model_with_drugs_and_trials_fix_that_tier(monkeypatch):
    from immunesim.simulate import OWN_KERNELS_AT, choose_tier

    monkeypatch.delenv("IMMUNESIM_KERNELS", raising=False)
    m = _disease()
    assert choose_tier(m, "auto", SPECIALISE_AT, by_cache=False) == "composed"
    assert choose_tier(m, "auto", OWN_KERNELS_AT, by_cache=False) == "specialised"
    assert choose_tier(_disease(()), "composed") == "specialised"   # nothing to compose
    monkeypatch.setenv("IMMUNESIM_KERNELS", "specialised")
    assert choose_tier(m, "auto", SPECIALISE_AT) == "specialised"
    monkeypatch.setenv("IMMUNESIM_KERNELS", "composed")
    assert choose_tier(m, "auto", 1) == "composed"


@pytest.mark.slow
def test_a_preset_with_drugs_on_its_composed_kernels_gives_the_generic_results():
    """RA with an IV antibody (infused), an oral JAK inhibitor and methotrexate (an effect
    compartment): the preset's composed module (compiled once, ~55 s) against the generic tier."""
    from immunesim.scenario.schema import validate
    from immunesim.scenario import scenario_events, scenario_model

    sc = validate({"name": "composed-ra", "disease": "ra", "time": {"end": "120 d", "output_every": "2 d"},
                   "therapies": [
                       {"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv", "infusion_hours": 1,
                        "every": "4 w"},
                       {"drug": "baricitinib", "dose": "4 mg", "route": "oral", "every": "1 d"},
                       {"drug": "methotrexate", "dose": "15 mg", "route": "oral", "every": "1 w"}]})
    model, events = scenario_model(sc), scenario_events(sc)
    name = model.parameters[0].name
    P = {name: model.parameter_vector()[0] * np.array([0.9, 1.0, 1.1])}
    runs = {k: im.simulate_batch(model, P, np.asarray(sc.times), events=events, rtol=1e-8,
                                 atol=1e-10, kernels=k) for k in ("composed", "generic")}
    assert runs["composed"].dataset.attrs["kernels"] == "composed"
    assert runs["composed"].ok.all() and runs["generic"].ok.all()
    assert _close(runs["composed"], runs["generic"], 1e-8) < 1e-5
    assert int(runs["composed"].dataset["n_dense_lu"].sum()) == 0
    y = runs["composed"].dataset["y"].values
    for hook in ("block_IL6R", "inh_JAK1", "supp_prolif"):    # each drug drives its hooks
        assert y[:, :, model.variable_names.index(hook)].max() > 0.1


def test_composed_jacobian_and_block_solve_are_those_of_the_whole_model():
    """At a state off any trajectory: the composed Jacobian (base, drugs and the coupling block
    C = dF/dH dH/dy_k, with the rows and columns the dense fallback reads) equals central
    differences of the composed right-hand side, and the block-by-block sparse solve of
    W = I/(gamma h) - J equals a dense solve of the same W."""
    from immunesim.simulate import _Kernels

    m = _disease()
    kern = _Kernels.composed(m)
    mod = kern.mod
    p = kern.pack(m.parameter_vector({"kxy": 0.9})[None, :])[0].copy()
    rng = np.random.default_rng(3)
    y = rng.uniform(0.2, 2.0, len(m.species))
    n = y.size
    u = np.zeros(n)
    jv = np.zeros(mod.n_jac(p))
    mod.jac_nz(0.0, y, p, jv)
    J = np.zeros((n, n))
    np.add.at(J, (mod.jac_rows(p), mod.jac_cols(p)), jv)
    fd = np.zeros((n, n))
    for j in range(n):
        h = 1e-6 * max(1.0, abs(y[j]))
        up, dn, f1, f2 = y.copy(), y.copy(), np.zeros(n), np.zeros(n)
        up[j] += h
        dn[j] -= h
        mod.rhs(0.0, up, p, u, f1)
        mod.rhs(0.0, dn, p, u, f2)
        fd[:, j] = (f1 - f2) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)
    assert np.abs(J[:2, 2:]).max() > 0.01          # the drugs' block acts on the disease's rows
    inv_gh = 7.0
    A = np.zeros((n, n))
    mod.dense_assemble(jv, inv_gh, A, p)
    np.testing.assert_allclose(A, inv_gh * np.eye(n) - J, rtol=1e-14, atol=1e-14)
    w = np.zeros(mod.nnz_w(p))
    mod.w_assemble(jv, inv_gh, w, p)
    assert mod.use_sparse(p) and mod.lu_factor_sparse(w, p)
    b, x = rng.normal(size=n), np.zeros(n)
    expected = np.linalg.solve(A, b)
    mod.lu_solve_sparse(w, b, x, p)           # b is scratch to the solve
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-14)
