"""The agent-based tissue core: diffusion against the analytic point source, seeds, the
well-mixed limit against its mean-field ODE, and the behaviours therapies rely on."""

import numba
import numpy as np
import pytest

import immunesim as im
from immunesim.errors import ModelError
from immunesim.kernels import tissue_agents as K
from immunesim.kernels.tissue_fields import diffuse, thomas_factors
from immunesim.tissue.config import TissueConfig
from immunesim.tissue.params import DEFAULT_DENSITY, DEFAULT_INFLUX
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


def test_banded_lod_step_equals_the_sequential_tridiagonal_solves():
    """The LOD step in bands (each band's y recursions from zero, then the neighbours'
    carries) against SciPy's banded solver applied along x, then along y, for 1 to 8 bands
    and r from 0.4 to 80 (the carries' reach grows with r)."""
    from scipy.linalg import solve_banded

    from immunesim.kernels.tissue_fields import lod_step

    def matrix(n, r):
        ab = np.zeros((3, n))
        ab[0, 1:], ab[2, :-1], ab[1, :] = -r, -r, 1 + 2 * r
        ab[1, 0] = ab[1, -1] = 1 + r            # reflecting ends
        return ab

    rng = np.random.default_rng(2)
    for ny, nx, r in ((3000, 50, 5.0), (1200, 33, 0.4), (37, 41, 3.0), (2500, 20, 80.0)):
        u = rng.random((ny, nx))
        u[ny // 2] += 50.0
        ref = solve_banded((1, 1), matrix(ny, r), solve_banded((1, 1), matrix(nx, r), 0.9 * u.T).T)
        fy, fx = thomas_factors(ny, r), thomas_factors(nx, r)
        for bands in (1, 2, 4, 8):
            v = u.copy()
            lod_step(v, r, fx[0], fx[1], fy[0], fy[1], 0.9, bands)
            np.testing.assert_allclose(v, ref, rtol=1e-13)


def test_decay_folded_into_diffusion_equals_decay_then_diffusion():
    """A uniform factor commutes with diffusion: the x sweep applies it exactly; and with no
    diffusion it still applies (the scale path)."""
    rng = np.random.default_rng(1)
    u = rng.random((30, 45))
    fx, fy = thomas_factors(45, 3.0), thomas_factors(30, 3.0)
    a, b = u.copy(), 0.7 * u
    diffuse(a, 3.0, fx, fy, 0.7)
    diffuse(b, 3.0, fx, fy)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    c = u.copy()
    diffuse(c, 0.0, fx, fy, 0.7)
    np.testing.assert_allclose(c, 0.7 * u, rtol=1e-15)


def test_site_reactions_follow_their_closed_forms():
    """One active Th1 on a lattice without diffusion: its site's IFN-gamma (secretion S, decay
    d) reaches S/d (1 - exp(-d t)) and its IL-2 (uptake by the cell itself: loss L = d + u)
    S/L (1 - exp(-L t)), exactly, as the reactions split between sites_step and the decay
    factor the diffusion step applies; an empty site only decays."""
    cfg = TissueConfig(shape=(5, 5), dt_min=2.0, density={}, influx={}, focus=0.0,
                       diffusion={f: 0.0 for f in ("TNF", "IL6", "IL2", "IL10", "IFNg", "IL17",
                                                   "CHEM")})
    t = Tissue(cfg)
    t.n = 1
    t.kind[0], t.state[0], t.x[0], t.y[0] = K.TH1, K.ACTIVE, 2, 2
    t.fields[:, 0, 0] = 100.0                      # an empty site: decay only
    rates = t.rates.copy()
    rates[[K.R.th_death, K.R.th_deact, K.R.th_exh, K.R.th_prolif]] = 0.0   # the cell stays
    t.rates = rates
    t.hops[:] = 0.0
    steps = 30
    for _ in range(steps):
        t.step()
    time_day = steps * t.dt
    sec = {(int(f)): q for c, f, q in zip(*t.secretion) if c == 3 * K.TH1 + K.ACTIVE}
    for f in (K.F_IFNG, K.F_IL2):
        loss = t.decay[f] + (rates[K.R.upt_eff] if f == K.F_IL2 else 0.0)
        exact = sec[f] / loss * (1 - np.exp(-loss * time_day))
        assert t.fields[f, 2, 2] == pytest.approx(exact, rel=1e-12)
    np.testing.assert_allclose(t.fields[:, 0, 0], 100.0 * np.exp(-t.decay * time_day), rtol=1e-12)


def test_neighbourhood_is_the_3x3_sum_with_any_number_of_bands():
    from scipy.signal import convolve2d

    rng = np.random.default_rng(0)
    for ny, nx in ((3, 5), (7, 4), (50, 61)):
        ch = rng.integers(0, 5, (K.N_NB, ny, nx)).astype(np.int32)
        ref = np.stack([convolve2d(c, np.ones((3, 3), int), mode="same") for c in ch])
        for bands in (1, 2, 5):
            nb = np.zeros_like(ch)
            K.neighbourhood(ch, nb, np.zeros((bands, 3, K.N_NB, nx), np.int32))
            np.testing.assert_array_equal(nb, ref)


def test_compact_orders_agents_by_site_and_numbers_daughters_in_agent_order():
    """Survivors and daughters ordered by (row, column // BUCKET), stable, each daughter right
    after its parent with the next uid in agent order; the same with any number of bands."""
    rng = np.random.default_rng(3)
    n, ny, nx = 500, 13, 37
    x = rng.integers(0, nx, n).astype(np.int32)
    y = rng.integers(0, ny, n).astype(np.int32)
    kind = rng.integers(0, K.N_KINDS, n).astype(np.int8)
    state = rng.integers(0, 3, n).astype(np.int8)
    age = rng.random(n)
    uid = rng.permutation(10 * n)[:n].astype(np.int64)
    fate = rng.choice([0, 1, 2], n, p=[0.7, 0.15, 0.15]).astype(np.int8)
    # reference: a stable sort of survivors, then daughters inserted after their parents
    rows = []
    next_uid = 10 * n
    for a in range(n):
        if fate[a] == 1:
            continue
        rows.append((x[a], y[a], kind[a], state[a], age[a], uid[a]))
        if fate[a] == 2:
            rows.append((x[a], y[a], kind[a], state[a], 0.0, next_uid))
            next_uid += 1
    ref = np.array(rows, dtype=object)
    key = [int(r[1]) * ((nx + K.BUCKET - 1) // K.BUCKET) + int(r[0]) // K.BUCKET for r in rows]
    ref = ref[np.argsort(key, kind="stable")]
    nbuckets = ny * ((nx + K.BUCKET - 1) // K.BUCKET)
    for bands in (1, 2, 4):
        out = [np.zeros(2 * n, dtype=a.dtype) for a in (x, y, kind, state, age, uid)]
        m, nu = K.compact(x, y, kind, state, age, uid, n, fate, 10 * n, nx,
                          np.zeros(nbuckets, np.int64), np.zeros(bands, np.int64), *out)
        assert (m, nu) == (len(rows), next_uid)
        for k, arr in enumerate(out):
            np.testing.assert_array_equal(arr[:m], ref[:, k].astype(arr.dtype))


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


def test_tregs_read_their_own_jak_factor():
    """The drug vector carries the Tregs' JAK1/JAK3 factor beside the effectors' (their
    IL-2 signalling is less JAK-sensitive: cytokines module, ``jak_treg``), and the Tregs'
    activation and division read it: the same patch under the same effector inhibition keeps
    more active Tregs when theirs is spared."""
    from immunesim.tissue.lattice import drug_vector

    d = drug_vector({"jak_gc": 0.3, "jak_treg": 0.7})
    assert d[K.D_JAK_GC] == 0.3 and d[K.D_JAK_TREG] == 0.7
    assert no_drug()[K.D_JAK_TREG] == 1.0
    cfg = TissueConfig(shape=(40, 40), seed=5, dt_min=5.0)
    both = _run(cfg, 3.0, drug_vector({"jak_gc": 0.2, "jak_treg": 0.2})).summary()
    spared = _run(cfg, 3.0, drug_vector({"jak_gc": 0.2, "jak_treg": 1.0})).summary()
    assert spared["Treg_active"] > 1.5 * both["Treg_active"]


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
