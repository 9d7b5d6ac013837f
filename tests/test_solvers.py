"""Solvers against closed forms, measured convergence order, and stiff problems vs SciPy Radau."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import immunesim as im
from conftest import one_species

METHODS = ["rodas4", "rodas5p", "dopri5"]
STIFF = ["rodas4", "rodas5p"]


@pytest.mark.parametrize("method", METHODS)
def test_exponential_decay(method):
    m = one_species("-k * X", params={"k": 0.7})
    t = np.linspace(0, 10, 41)
    r = im.simulate(m, t, method=method, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(r["X"].values, np.exp(-0.7 * t), rtol=1e-7)


@pytest.mark.parametrize("method", METHODS)
def test_logistic_growth(method):
    m = one_species("r * X * (1 - X / K)", initial=0.1, params={"r": 1.3, "K": 10.0})
    t = np.linspace(0, 12, 49)
    r = im.simulate(m, t, method=method, rtol=1e-9, atol=1e-12)
    exact = 10.0 / (1 + (10.0 / 0.1 - 1) * np.exp(-1.3 * t))
    np.testing.assert_allclose(r["X"].values, exact, rtol=2e-7)


def linear_model():
    A = np.array([[-1.0, 0.5, 0.0], [0.2, -2.0, 1.0], [0.0, 0.3, -0.5]])
    names = ["A", "B", "C"]
    procs = [im.Process(name=f"a{i}{j}", rate=f"{float(A[i, j])!r} * {names[j]}",
                        stoichiometry={names[i]: 1})
             for i in range(3) for j in range(3) if A[i, j] != 0]
    m = im.Model("linear3", species=[im.Species(name=n, unit="1", initial=1.0 + i,
                                                nonnegative=False) for i, n in enumerate(names)],
                 parameters=[], processes=procs)
    return m, A


@pytest.mark.parametrize("method", METHODS)
def test_linear_system_matches_matrix_exponential(method):
    m, A = linear_model()
    t = np.linspace(0, 8, 17)
    r = im.simulate(m, t, method=method, rtol=1e-10, atol=1e-13)
    exact = np.array([expm(A * s) @ np.array([1.0, 2.0, 3.0]) for s in t])
    np.testing.assert_allclose(r.dataset["y"].values, exact, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("method", METHODS)
def test_nonautonomous_dense_output(method):
    """y' = y (1 - t/2): exp(t - t^2/4). Exercises df/dt in Rodas4, and output times between
    steps (201 outputs, far more than steps) come from the dense output."""
    m = im.Model("nonauto", species=[im.Species(name="X", unit="1", initial=1.0)], parameters=[],
                 processes=[im.Process(name="g", rate="X * (1 - 0.5 * t)", stoichiometry={"X": 1})])
    t = np.linspace(0, 4, 201)
    r = im.simulate(m, t, method=method, rtol=1e-8, atol=1e-12)
    assert int(r.dataset["n_steps"]) < t.size - 1  # most outputs are interpolated
    np.testing.assert_allclose(r["X"].values, np.exp(t - t ** 2 / 4), rtol=2e-6)


@pytest.mark.parametrize("method, order", [("dopri5", 5), ("rodas4", 4)])
def test_convergence_order(method, order):
    """Fixed steps (huge atol accepts every step; first_step = max_step = h): the fitted slope
    of log(error) vs log(h) is the method's order. y' = -y + t^2, y(0) = 1 has the closed form
    y = t^2 - 2t + 2 - exp(-t) and a non-zero df/dt (Rosenbrock time terms)."""
    m = im.Model("order", species=[im.Species(name="X", unit="1", initial=1.0)], parameters=[],
                 processes=[im.Process(name="g", rate="-X + t^2", stoichiometry={"X": 1})])
    exact = 4.0 - 4.0 + 2.0 - np.exp(-2.0)
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    errs = []
    for h in hs:
        r = im.simulate(m, [0.0, 2.0], method=method, rtol=0.5, atol=1e6, first_step=h, max_step=h)
        assert int(r.dataset["n_steps"]) == pytest.approx(2.0 / h, abs=1)
        errs.append(abs(float(r["X"][-1]) - exact))
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert slope == pytest.approx(order, abs=0.15)


def test_convergence_order_rodas5p():
    """Rodas5P's fitted slope is 5 (as above, fixed steps). Not on ``y' = -y + t^2``: on that
    linear problem its measured errors fall faster than h^5 (local slopes 5.6 to 6.1) and
    reach round-off by h = 0.05. The logistic equation ``X' = X (1 - X/4)``, X(0) = 1/2, with
    X = 4 / (1 + 7 exp(-t)), shows the order (local slopes 4.93, 4.96, 4.98 here)."""
    m = im.Model("order5", species=[im.Species(name="X", unit="1", initial=0.5)], parameters=[],
                 processes=[im.Process(name="g", rate="X * (1 - X / 4)", stoichiometry={"X": 1})])
    exact = 4.0 / (1.0 + 7.0 * np.exp(-3.0))
    hs = np.array([0.15, 0.075, 0.0375, 0.01875])
    errs = []
    for h in hs:
        r = im.simulate(m, [0.0, 3.0], method="rodas5p", rtol=0.5, atol=1e6, first_step=h,
                        max_step=h)
        assert int(r.dataset["n_steps"]) == pytest.approx(3.0 / h, abs=1)
        errs.append(abs(float(r["X"][-1]) - exact))
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
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
