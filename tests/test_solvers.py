"""Solvers against closed forms, measured convergence order, and stiff problems vs SciPy Radau."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import immunesim as im

METHODS = ["rodas4", "rodas5p", "dopri5"]
STIFF = ["rodas4", "rodas5p"]


# One model holds every closed-form problem below as uncoupled species, so each method
# compiles once for all of them (a kernel costs seconds to compile; the suite's time limit
# is shared by everything). Each species is its own test problem: its error is its own, only
# the steps are shared.
LINEAR = np.array([[-1.0, 0.5, 0.0], [0.2, -2.0, 1.0], [0.0, 0.3, -0.5]])


@pytest.fixture(scope="module")
def closed_forms():
    names = ["A", "B", "C"]
    procs = [im.Process(name=f"a{i}{j}", rate=f"{float(LINEAR[i, j])!r} * {names[j]}",
                        stoichiometry={names[i]: 1})
             for i in range(3) for j in range(3) if LINEAR[i, j] != 0]
    procs += [
        im.Process(name="decay", rate="k * X", stoichiometry={"X": -1}),
        im.Process(name="logistic", rate="r * L * (1 - L / K)", stoichiometry={"L": 1}),
        # y' = y (1 - t/2): exp(t - t^2/4); non-zero df/dt exercises the Rosenbrock time terms
        im.Process(name="nonauto", rate="N * (1 - 0.5 * t)", stoichiometry={"N": 1}),
        # y' = -y + t^2, y(0) = 1: y = t^2 - 2t + 2 - exp(-t)
        im.Process(name="forced", rate="-Q + t^2", stoichiometry={"Q": 1}),
        # X' = X (1 - X/4), X(0) = 1/2: X = 4 / (1 + 7 exp(-t))
        im.Process(name="logistic4", rate="G * (1 - G / 4)", stoichiometry={"G": 1}),
    ]
    species = [im.Species(name=n, unit="1", initial=1.0 + i, nonnegative=False)
               for i, n in enumerate(names)]
    species += [im.Species(name="X", unit="mg/L", initial=1.0),
                im.Species(name="L", unit="mg/L", initial=0.1),
                im.Species(name="N", unit="1", initial=1.0),
                im.Species(name="Q", unit="1", initial=1.0),
                im.Species(name="G", unit="1", initial=0.5)]
    params = [im.Parameter(name=k, value=v, unit=u, source="test value")
              for k, v, u in (("k", 0.7, "1/day"), ("r", 1.3, "1/day"), ("K", 10.0, "mg/L"))]
    return im.Model("closed_forms", species=species, parameters=params, processes=procs)


@pytest.mark.parametrize("method", METHODS)
def test_closed_forms(closed_forms, method):
    """Exponential decay, logistic growth, a coupled linear system (its matrix exponential)
    and a non-autonomous equation, against their closed forms. 2001 outputs, more than the
    method takes steps, so most come from the dense output."""
    t = np.linspace(0, 8, 2001)
    r = im.simulate(closed_forms, t, method=method, rtol=1e-10, atol=1e-13)
    assert int(r.dataset["n_steps"]) < t.size - 1  # most outputs are interpolated
    np.testing.assert_allclose(r["X"].values, np.exp(-0.7 * t), rtol=1e-7)
    np.testing.assert_allclose(r["L"].values, 10.0 / (1 + (10.0 / 0.1 - 1) * np.exp(-1.3 * t)),
                               rtol=2e-7)
    exact = np.array([expm(LINEAR * s) @ np.array([1.0, 2.0, 3.0]) for s in t])
    abc = np.stack([r[n].values for n in "ABC"], axis=1)
    np.testing.assert_allclose(abc, exact, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(r["N"].values, np.exp(t - t ** 2 / 4), rtol=2e-6)


def fixed_step_order(model, method, species, exact, t_end, hs):
    """Fitted slope of log(error) against log(h) with fixed steps (a huge atol accepts every
    step; first_step = max_step = h)."""
    errs = []
    for h in hs:
        r = im.simulate(model, [0.0, t_end], method=method, rtol=0.5, atol=1e6, first_step=h,
                        max_step=h)
        assert int(r.dataset["n_steps"]) == pytest.approx(t_end / h, abs=1)
        errs.append(abs(float(r[species][-1]) - exact))
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


@pytest.mark.parametrize("method, order", [("dopri5", 5), ("rodas4", 4)])
def test_convergence_order(closed_forms, method, order):
    """The fitted slope is the method's order, on y' = -y + t^2 (species Q), which has a
    non-zero df/dt (the Rosenbrock time terms)."""
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    exact = 4.0 - 4.0 + 2.0 - np.exp(-2.0)
    slope = fixed_step_order(closed_forms, method, "Q", exact, 2.0, hs)
    assert slope == pytest.approx(order, abs=0.15)


def test_convergence_order_rodas5p(closed_forms):
    """Rodas5P's fitted slope is 5. Not on ``y' = -y + t^2``: on that linear problem its
    measured errors fall faster than h^5 (local slopes 5.6 to 6.1) and reach round-off by
    h = 0.05. The logistic equation (species G) shows the order (local slopes 4.93, 4.96,
    4.98 here)."""
    hs = np.array([0.15, 0.075, 0.0375, 0.01875])
    exact = 4.0 / (1.0 + 7.0 * np.exp(-3.0))
    slope = fixed_step_order(closed_forms, "rodas5p", "G", exact, 3.0, hs)
    assert slope == pytest.approx(5.0, abs=0.15)


@pytest.mark.parametrize("method", STIFF)
def test_robertson_against_radau(method):
    m = im.Model("robertson", species=[im.Species(name=n, unit="1", initial=v) for n, v in
                                       (("y1", 1.0), ("y2", 0.0), ("y3", 0.0))],
                 parameters=[im.Parameter(name=k, value=v, unit="1/day", source="Robertson 1966")
                             for k, v in (("k1", 0.04), ("k2", 3e7), ("k3", 1e4))],
                 processes=[im.Process(name="r1", rate="k1*y1", stoichiometry={"y1": -1, "y2": 1}),
                            im.Process(name="r2", rate="k2*y2^2", stoichiometry={"y2": -1, "y3": 1}),
                            im.Process(name="r3", rate="k3*y2*y3", stoichiometry={"y2": -1, "y1": 1})])
    t = np.concatenate([[0.0], np.logspace(-4, 5, 37)])
    r = im.simulate(m, t, method=method, rtol=1e-8, atol=[1e-10, 1e-14, 1e-10])

    def f(_, y):
        return [-0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                3e7 * y[1] ** 2]
    ref = solve_ivp(f, (0, 1e5), [1, 0, 0], method="Radau", t_eval=t, rtol=1e-10, atol=1e-16).y.T
    np.testing.assert_allclose(r.dataset["y"].values, ref, rtol=2e-5, atol=1e-13)
    assert abs(r.dataset["y"].values.sum(axis=1) - 1).max() < 1e-6  # conservation


@pytest.mark.parametrize("method", STIFF)
def test_van_der_pol_stiff_against_radau(method):
    mu = 1000.0
    m = im.Model("vdp", species=[im.Species(name="x", unit="1", initial=2.0, nonnegative=False),
                                 im.Species(name="v", unit="1", initial=0.0, nonnegative=False)],
                 parameters=[im.Parameter(name="mu", value=mu, unit="1", source="test problem")],
                 processes=[im.Process(name="dx", rate="v", stoichiometry={"x": 1}),
                            im.Process(name="dv", rate="mu*(1 - x^2)*v - x", stoichiometry={"v": 1})])
    t = np.linspace(0, 3000, 121)  # almost two relaxation periods (~1614 each for mu = 1000)
    r = im.simulate(m, t, method=method, rtol=1e-9, atol=1e-10)

    def f(_, y):
        return [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]

    def jac(_, y):
        return [[0, 1], [-2 * mu * y[0] * y[1] - 1, mu * (1 - y[0] ** 2)]]
    ref = solve_ivp(f, (0, 3000), [2, 0], method="Radau", jac=jac, t_eval=t, rtol=1e-10,
                    atol=1e-12).y.T
    x = r.dataset["y"].values[:, 0]
    np.testing.assert_allclose(x, ref[:, 0], rtol=1e-4, atol=1e-4)
    assert int(r.dataset["n_steps"]) < 30_000  # explicit stability (h < ~1e-3) would need ~3e6


@pytest.mark.parametrize("method", STIFF)
def test_dense_lu_fallback(method):
    """A = exp(-a t) feeds B' = g A - B with g = 1e9: W's multiplier g / (1/(gamma h) + a)
    exceeds the sparse LU's static-pivot bound (1e6) on all but the first steps, so the
    stages run on the dense partial-pivot solve. The result must still be the closed form
    B = g (exp(-a t) - exp(-t)) / (1 - a)."""
    m = im.Model("dense_lu", species=[im.Species(name="A", unit="1", initial=1.0),
                                      im.Species(name="B", unit="1", initial=0.0)],
                 parameters=[im.Parameter(name="a", value=0.5, unit="1/day", source="test"),
                             im.Parameter(name="g", value=1e9, unit="1/day", source="test")],
                 processes=[im.Process(name="d", rate="a*A", stoichiometry={"A": -1}),
                            im.Process(name="p", rate="g*A - B", stoichiometry={"B": 1})])
    t = np.linspace(0, 10, 21)
    r = im.simulate(m, t, method=method, rtol=1e-9, atol=1e-6)
    assert int(r.dataset["n_dense_lu"]) > 0.8 * int(r.dataset["n_lu"])
    exact = 1e9 * (np.exp(-0.5 * t) - np.exp(-t)) / 0.5
    np.testing.assert_allclose(r["B"].values, exact, rtol=1e-7, atol=1.0)


def test_a_new_rosenbrock_method_is_one_table(closed_forms, monkeypatch):
    """Adding a Rosenbrock method is a table and one registry entry (README, Adding a solver):
    Rodas4's tableau registered under another name is generated into the kernels, accepted by
    ``simulate`` and ``SolverOptions``, and gives Rodas4's results bit for bit (the stage code
    comes from the table alone)."""
    from dataclasses import replace

    from immunesim.solvers import METHODS, SOLVERS, Solver, SolverOptions
    from immunesim.solvers.tableaus import RODAS4

    new = Solver("rodas4_again", "test: Rodas4's table under a new name",
                 tableau=replace(RODAS4, name="rodas4_again"))
    monkeypatch.setitem(SOLVERS, new.name, new)
    monkeypatch.setitem(METHODS, new.name, new.description)
    assert SolverOptions(method="rodas4_again").method == "rodas4_again"
    t = np.linspace(0, 8, 41)
    a = im.simulate(closed_forms, t, method="rodas4", rtol=1e-8, atol=1e-11)
    b = im.simulate(closed_forms, t, method="rodas4_again", rtol=1e-8, atol=1e-11)
    assert np.array_equal(a.dataset["y"].values, b.dataset["y"].values)
    for k in ("n_steps", "n_rejected", "n_lu"):
        assert int(a.dataset[k]) == int(b.dataset[k])
    assert b.dataset.attrs["method"] == "rodas4_again"


def test_solver_entries_are_checked():
    from immunesim.solvers import Solver
    from immunesim.solvers.tableaus import RODAS4

    with pytest.raises(ValueError, match="a tableau or a template"):
        Solver("x", "both", tableau=RODAS4, template="dopri5.py")
    with pytest.raises(ValueError, match="its tableau is rodas4's"):
        Solver("x", "wrong table", tableau=RODAS4)
