"""The agent-based tissue core: diffusion against the analytic point source, seeds, the
well-mixed limit against its mean-field ODE, and the behaviours therapies rely on."""

import numba
import numpy as np
import pytest

import immunesim as im
from immunesim.errors import ModelError
from immunesim.kernels import tissue_agents as K
from immunesim.kernels.tissue_fields import diffuse, thomas_factors
from immunesim.tissue.config import DEFAULT_DENSITY, DEFAULT_INFLUX, TissueConfig
from immunesim.tissue.lattice import Tissue, no_drug
from immunesim.tissue.meanfield import LATTICE, meanfield_model


def test_diffusion_spreads_a_point_source_as_the_heat_kernel():
    """Backward-Euler LOD: mass conserved, variance grows by exactly 2 D dt per axis and step
    (closed form of the scheme), and the profile is the Gaussian of variance 2Dt."""
    n, r, steps = 161, 0.5, 200
    u = np.zeros((n, n))
    c = n // 2
    u[c, c] = 1.0
    f = thomas_factors(n, r)
    for _ in range(steps):
        diffuse(u, r, f, f)
    x = np.arange(n) - c
    assert u.sum() == pytest.approx(1.0, abs=1e-12)
    assert u.min() >= 0.0
    var_x = (u.sum(axis=0) * x ** 2).sum()
    assert var_x == pytest.approx(2 * r * steps, rel=1e-6)   # edges 5.7 sigma away: 1e-7
    s2 = 2 * r * steps                                     # sigma^2 = 2 D t, in sites^2
    X, Y = np.meshgrid(x, x)
    gauss = np.exp(-(X ** 2 + Y ** 2) / (2 * s2)) / (2 * np.pi * s2)
    assert np.abs(u - gauss).max() < 0.01 * gauss.max()


def test_diffusion_is_stable_and_conserving_far_beyond_the_explicit_limit():
    rng = np.random.default_rng(0)
    u = rng.random((40, 50))
    m0 = u.sum()
    r = 500.0                                              # explicit FTCS needs r <= 1/4
    for _ in range(20):
        diffuse(u, r, thomas_factors(50, r), thomas_factors(40, r))
    assert u.sum() == pytest.approx(m0, rel=1e-12)
    assert u.max() - u.min() < 1e-3 * u.mean()             # flattened, no oscillation


def _run(config, days, drug=None):
    t = Tissue(config)
    for _ in range(int(round(days * 1440 / config.dt_min))):
        t.step(drug)
    return t


def test_same_seed_gives_an_identical_lattice_with_any_thread_count():
    cfg = TissueConfig(shape=(40, 40), seed=11, dt_min=5.0)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = _run(cfg, 1.0)
        numba.set_num_threads(threads)
        b = _run(cfg, 1.0)
    finally:
        numba.set_num_threads(threads)
    c = _run(TissueConfig(shape=(40, 40), seed=12, dt_min=5.0), 1.0)
    assert a.n == b.n and a.n > 0
    for name in ("x", "y", "kind", "state", "uid"):
        assert np.array_equal(getattr(a, name)[:a.n], getattr(b, name)[:b.n]), name
    assert np.array_equal(a.health, b.health) and np.array_equal(a.fields, b.fields)
    assert not (a.n == c.n and np.array_equal(a.x[:a.n], c.x[:c.n]))


def test_well_mixed_lattice_agrees_with_the_mean_field_ode():
    """Fast motility (~60 hops per step) and fast diffusion on a dense 32x32 patch with fixed
    tissue health: mean densities follow the mean-field ODE (run with the ODE engine).
    Tolerance 8 %, 12 % for activated effectors and IL-2: the lattice's Treg suppression
    averages 1/(1 + n/K_sup) over the Poisson scatter of Tregs around a site, which is above
    its value at the mean (Jensen), so activated effectors (and their IL-2) run above the
    ODE (measured: +8 % on day 1 at K_sup = 100, +16 % at K_sup = 5); counts are ~1000s."""
    cfg = TissueConfig(
        shape=(32, 32), seed=1, dt_min=2.0, focus=1000, focus_health=0.5, recruit_max=0.0,
        density={"Th1": 4.0, "Treg": 2.0, "DC": 1.0},
        influx={"Th1": 400.0, "Treg": 200.0, "DC": 100.0},
        rates={"contact": 0, "tnf_dmg": 0, "ab_dmg": 0, "repair": 0, "K_sup": 100.0,
               "upt_treg": 50.0, "upt_eff": 20.0, "capacity": 20.0, "th_act": 0.5,
               "K_IL10": 3e6},
        speeds={k: 200.0 for k in ("Th1", "Treg", "DC")},
        diffusion={f: 1e5 for f in ("TNF", "IL6", "IL2", "IL10", "IFNg", "IL17", "CHEM")})
    days = 3
    ode = im.simulate(meanfield_model(cfg, 0.5), np.arange(days + 1.0)).raise_for_status()
    t = Tissue(cfg)
    sites = 32 * 32
    for d in range(1, days + 1):
        for _ in range(720):
            t.step()
        s = t.summary()
        for sp, key in LATTICE.items():
            lat = s[key] / (1 if key.endswith("_mean") else sites)
            want = float(ode[sp].values[d])
            rel = 0.08 if sp not in ("Tha", "IL2") else 0.12
            noise = 0.0 if key.endswith("_mean") else 3 * np.sqrt(want * sites) / sites  # 3 sigma, Poisson
            assert abs(lat - want) <= rel * want + noise, (d, sp, lat, want)


@pytest.fixture(scope="module")
def inflamed():
    """Day 8 of an inflamed 80x80 patch: untreated, without Tregs, and under drugs."""
    base = dict(shape=(80, 80), seed=3, dt_min=2.0)
    out = {"untreated": _run(TissueConfig(**base), 8)}
    out["no_treg"] = _run(TissueConfig(**base, density={**DEFAULT_DENSITY, "Treg": 0.0},
                                       influx={**DEFAULT_INFLUX, "Treg": 0.0}), 8)
    d = no_drug()
    d[K.D_NEUT_TNF] = 0.95
    out["anti_tnf"] = (_run(TissueConfig(**base), 8, d), d)
    d = no_drug()
    d[K.D_KILL_B] = 2.0          # 1/day: rituximab's depletion hook
    out["anti_cd20"] = _run(TissueConfig(**base), 8, d)
    return out


def test_removing_tregs_raises_damage(inflamed):
    a, b = inflamed["untreated"].summary(), inflamed["no_treg"].summary()
    assert b["health_mean"] < a["health_mean"] - 0.1
    assert b["Th1_active"] > 5 * a["Th1_active"]


def test_tnf_blockade_lowers_free_tnf_and_damage(inflamed):
    t, d = inflamed["anti_tnf"]
    a, b = inflamed["untreated"].summary(), t.summary(d)
    assert b["TNF_mean"] < 0.1 * a["TNF_mean"]
    assert b["health_mean"] > a["health_mean"] + 0.1


def test_anti_cd20_removes_b_cells_but_not_plasma_cells_directly(inflamed):
    a, b = inflamed["untreated"].summary(), inflamed["anti_cd20"].summary()
    assert b["B"] < 0.2 * a["B"]
    assert b["Plasma"] > 0                                 # CD20-negative: not killed by the drug


def test_bad_tissue_configuration_names_the_field():
    with pytest.raises(ModelError, match=r"density.Tcell: not a cell kind"):
        TissueConfig(density={"Tcell": 1.0})
    with pytest.raises(ModelError, match=r"shape"):
        TissueConfig(shape=(2, 100))
    with pytest.raises(ModelError, match=r"th_actt \(did you mean 'th_act'\?\)"):
        TissueConfig(rates={"th_actt": 1.0})


def test_every_tissue_parameter_has_a_unit_and_a_source_and_the_doc_is_current():
    from pathlib import Path

    from immunesim.tissue.doc import markdown
    from immunesim.tissue.params import table

    for row in table():
        assert row["unit"].strip() and len(row["source"]) > 8, row["name"]
    doc = Path(__file__).resolve().parents[1] / "docs" / "tissue_parameters.md"
    assert doc.read_text() == markdown(), (
        "docs/tissue_parameters.md is stale: python -m immunesim.tissue.doc > docs/tissue_parameters.md")
