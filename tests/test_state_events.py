"""State-triggered events (im.Event) in the engine: crossings located to the solver's tolerance
against closed forms, on every method and both kernel tiers; delays, values from the trigger
or the execution time, persistence, priorities, initial values, cascades, parameters set by
events; model files with events; errors that name the event."""

import math

import numpy as np
import pytest

import immunesim as im
from immunesim.errors import ModelError


def _saw(**event):
    """X' = -k X from 1; when X falls below 0.5 it is refilled by 1 (a sawtooth)."""
    return im.Model("saw", species=[im.Species(name="X", unit="1", initial=1.0)],
                    parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="assumed: test")],
                    processes=[im.Process(name="d", rate="k*X", stoichiometry={"X": -1})],
                    events=[im.Event(name="refill", trigger="X < 0.5", assignments={"X": "X + 1"},
                                     **event)])


def _saw_exact(t):
    t1, period = math.log(2) / 0.5, math.log(3) / 0.5
    phase = np.where(t < t1, 0.0, (t - t1) % period)
    return np.where(t < t1, np.exp(-0.5 * t), 1.5 * np.exp(-0.5 * phase))


@pytest.mark.parametrize("method", ["rodas5p", "rodas4", "dopri5"])
def test_crossings_are_located_on_every_method(method):
    t = np.linspace(0.0, 10.0, 101)
    r = im.simulate(_saw(), t, rtol=1e-10, atol=1e-12, method=method, kernels="generic")
    np.testing.assert_allclose(r["X"].values, _saw_exact(t), atol=1e-9)


def _clock(*events, species=("Y",)):
    """X' = 1 (X is the time); Y, Z, W change only by events."""
    return im.Model("clock", species=[im.Species(name="X", unit="1", initial=0.0)]
                    + [im.Species(name=n, unit="1", initial=1.0, nonnegative=False) for n in species],
                    parameters=[im.Parameter(name="one", value=1.0, unit="1/day", source="assumed: test")],
                    processes=[im.Process(name="tick", rate="one", stoichiometry={"X": 1})],
                    events=list(events))


def _at(model, t_end=5.0, **kw):
    t = np.linspace(0.0, t_end, 51)
    return t, im.simulate(model, t, rtol=1e-10, atol=1e-12, kernels=kw.pop("kernels", "generic"), **kw)


def test_delay_and_the_time_the_values_are_taken():
    for use, want in ((True, 2.0), (False, 3.0)):
        m = _clock(im.Event(name="e", trigger="X > 2", assignments={"Y": "X"}, delay="1",
                            use_values_from_trigger_time=use))
        t, r = _at(m)
        y = r["Y"].values
        assert np.all(y[t < 3.0 - 1e-9] == 1.0)
        np.testing.assert_allclose(y[t >= 3.0], want, rtol=1e-9)


def test_a_non_persistent_event_is_cancelled_when_its_trigger_turns_false_first():
    for persistent, want in ((True, 7.0), (False, 1.0)):
        m = _clock(im.Event(name="e", trigger="X > 2 and X < 2.5", assignments={"Y": "7"},
                            delay="1", persistent=persistent))
        _, r = _at(m)
        assert r["Y"].values[-1] == want


def test_priorities_order_events_at_the_same_time_and_events_cascade():
    def model(p_double, p_add):
        return _clock(im.Event(name="double", trigger="X > 1", assignments={"Y": "2 * Y"},
                               priority=str(p_double), use_values_from_trigger_time=False),
                      im.Event(name="add", trigger="X > 1", assignments={"Y": "Y + 1"},
                               priority=str(p_add), use_values_from_trigger_time=False),
                      im.Event(name="then", trigger="Y > 3.5", assignments={"Z": "X + 10"}),
                      species=("Y", "Z"))
    _, r = _at(model(2, 1))
    assert r["Y"].values[-1] == 3.0 and r["Z"].values[-1] == 1.0     # (1*2)+1; no cascade
    _, r = _at(model(1, 2))
    assert r["Y"].values[-1] == 4.0                                  # (1+1)*2, cascades:
    np.testing.assert_allclose(r["Z"].values[-1], 11.0, rtol=1e-9)   # at the same time


def test_initial_value_decides_whether_a_trigger_true_at_the_start_fires():
    for initial, want in ((True, 1.0), (False, 9.0)):
        m = _clock(im.Event(name="e", trigger="X >= 0", assignments={"Y": "9"},
                            initial_value=initial))
        _, r = _at(m)
        assert r["Y"].values[0] == want and r["Y"].values[-1] == want


def test_an_event_can_set_a_parameter_and_the_rates_follow():
    """X' = -k X until X < 0.5, where k := 0: X stays at 0.5 (the generic tier recomputes its
    parameter-only instructions after the event)."""
    m = im.Model("stop", species=[im.Species(name="X", unit="1", initial=1.0)],
                 parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="assumed: test")],
                 processes=[im.Process(name="d", rate="k*X", stoichiometry={"X": -1})],
                 events=[im.Event(name="stop", trigger="X < 0.5", assignments={"k": "0"})])
    t = np.linspace(0.0, 5.0, 51)
    for kernels in ("generic", "specialised"):
        x = im.simulate(m, t, rtol=1e-10, atol=1e-12, kernels=kernels)["X"].values
        t1 = math.log(2) / 0.5
        np.testing.assert_allclose(x, np.where(t < t1, np.exp(-0.5 * t), 0.5), atol=1e-9)


def test_tiers_agree_with_events_of_every_kind():
    m = _clock(im.Event(name="a", trigger="X > 1 and Y < 2", assignments={"Y": "Y + X", "Z": "2"},
                        delay="0.5", priority="1", persistent=False),
               im.Event(name="b", trigger="Z > 1.5", assignments={"W": "W * 3"}, priority="2",
                        use_values_from_trigger_time=False),
               species=("Y", "Z", "W"))
    t = np.linspace(0.0, 5.0, 41)
    a = im.simulate(m, t, rtol=1e-10, atol=1e-12, kernels="generic").dataset["y"].values
    b = im.simulate(m, t, rtol=1e-10, atol=1e-12, kernels="specialised").dataset["y"].values
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert a[-1, 3] == 3.0 and abs(a[-1, 1] - 2.0) < 1e-9


def test_events_in_a_model_file_and_their_errors(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("""
name: saw
species: [{name: X, unit: "1", initial: 1.0}]
parameters: [{name: k, value: 0.5, unit: 1/day, source: "assumed: test"}]
processes: [{name: d, rate: k*X, stoichiometry: {X: -1}}]
events: [{name: refill, trigger: X < 0.5, assignments: {X: X + 1}}]
""")
    m = im.load_model(path)
    t = np.linspace(0.0, 10.0, 41)
    np.testing.assert_allclose(im.simulate(m, t, rtol=1e-10, atol=1e-12)["X"].values,
                               _saw_exact(t), atol=1e-9)
    path.write_text("""
name: bad
species: [{name: X, unit: "1", initial: 1.0}]
parameters: []
rules: [{name: r, expression: 2*X, unit: "1"}]
events: [{name: e, trigger: X + 1, assignments: {X: "1"}}, {name: f, trigger: Q > 1, assignments: {r: "1"}}]
""")
    with pytest.raises(ModelError) as err:
        im.load_model(path)
    text = str(err.value)
    assert "events[0]" in text and "not a condition" in text
    path.write_text(path.read_text().replace("trigger: X + 1", "trigger: X > 1"))
    with pytest.raises(ModelError) as err:
        im.load_model(path)
    assert "event 'f' uses undefined name(s): Q" in str(err.value)
    assert "event 'f' assigns 'r', which is not a species or a parameter" in str(err.value)
