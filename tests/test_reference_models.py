"""Published models reproduced with the engine, checked against the published numbers."""
import numpy as np
import pytest

import immunesim as im
from immunesim.analysis import continuation, steady_state
from immunesim.diseases.reference import REFERENCE_MODELS, reference_model


@pytest.fixture(scope="module")
def aw():
    return reference_model("alexander_wahl_2010")


@pytest.fixture(scope="module")
def baker():
    return reference_model("baker_2013")


# -- Alexander & Wahl 2010, Bull Math Biol 73:33 (BIOMD0000000289) ----------------------------
def test_alexander_wahl_published_parameters_are_tolerant(aw):
    ss = steady_state(aw, settle=2000)
    assert ss["R0"] == pytest.approx(0.7996, abs=5e-5)          # published R0
    assert ss.stable and np.all(np.abs(ss.y) < 1e-20)            # the trivial equilibrium
    # and the published initial exposure (G = 1e8, one mature pAPC) actually returns there
    r = im.simulate(aw, [0, 20, 1000], rtol=1e-8, atol=1e-14)
    assert float(r["E"][1]) > 1e3                                # a transient response ...
    assert float(r["E"][-1]) < 1e-9 * float(r["E"][1])           # ... that dies out


def test_alexander_wahl_chronic_equilibrium_b1_0_10(aw):
    ss = steady_state(aw, {"b1": 0.10}, settle=2000)
    published = {"A": 6.640, "R": 16600, "E": 26561, "G": 1.062e7}
    for name, value in published.items():
        assert ss[name] == pytest.approx(value, rel=5e-4), name
    assert ss.stable and ss["R0"] > 1
    trivial = steady_state(aw, {"b1": 0.10}, guess=np.zeros(4))
    assert np.all(trivial.y == 0) and not trivial.stable         # R0 > 1: tolerance is lost


# -- Baker et al. 2013, Math Med Biol 30:311 (BIOMD0000000550) --------------------------------
def test_baker_baseline_steady_state(baker):
    ss = steady_state(baker, guess={"p": 0.1, "a": 0.1})
    assert ss["p"] == pytest.approx(0.02033, abs=1e-5)
    assert ss["a"] == pytest.approx(0.005777, abs=1e-6)
    assert ss.stable


def test_baker_bistable_range_by_continuation(baker):
    branch = continuation(baker, "alpha2", 1.0, 25.0)
    assert branch.complete
    low, high = branch.bistable_range()
    assert low == pytest.approx(7.331, abs=1e-3)                 # published fold points
    assert high == pytest.approx(15.666, abs=1e-3)
    assert len(branch.stable_states_at(10.0)) == 2
    assert len(branch.stable_states_at(5.0)) == 1
    assert len(branch.stable_states_at(20.0)) == 1
    middle = (branch.values > 8) & (branch.values < 15)
    assert not branch.stable[middle].all() and branch.stable[middle].any()  # unstable sheet


def test_baker_bistability_seen_by_the_integrator(baker):
    """Inside the range, low and high starts settle on two different attractors; outside, one."""
    def settle(alpha2, p0):
        r = im.simulate(baker, [0, 500], params={"alpha2": alpha2}, y0={"p": p0, "a": 0.0})
        return float(r["p"][-1])

    assert settle(10.0, 0.0) < 0.05 < 0.3 < settle(10.0, 2.0)
    assert settle(5.0, 2.0) == pytest.approx(settle(5.0, 0.0), rel=1e-4)
    assert settle(20.0, 0.0) == pytest.approx(settle(20.0, 2.0), rel=1e-4)


# -- errors ---------------------------------------------------------------------------------
def test_unknown_reference_model_names_the_choices():
    with pytest.raises(im.ModelError, match="baker_2013"):
        reference_model("baker2013")
    assert set(REFERENCE_MODELS) == {"alexander_wahl_2010", "baker_2013"}


def test_steady_state_errors_are_clear(baker):
    with pytest.raises(im.ModelError, match="'alpha' is not a parameter.*did you mean"):
        continuation(baker, "alpha", 1.0, 2.0)
    with pytest.raises(im.ModelError, match="one value per species"):
        steady_state(baker, guess=[1.0])
    forced = im.Model("forced", species=[im.Species(name="X", unit="1", initial=0.0)],
                      parameters=[], processes=[im.Process(name="f", rate="exp(-t)", stoichiometry={"X": 1})])
    with pytest.raises(im.ModelError, match="depends explicitly on time"):
        steady_state(forced)
