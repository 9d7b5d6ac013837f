"""Forward sensitivities (simulate(..., sensitivities=[...])): against closed forms through a
bolus, a reset of a species and assignment rules, and against central finite differences
through a state-triggered event that changes a state and a parameter (the jump conditions)."""

import numpy as np
import pytest

import immunesim as im
from immunesim.errors import ModelError

TOL = dict(rtol=1e-10, atol=1e-12, kernels="generic")


def decay(a=2.0, k=0.5, c=3.0):
    return im.Model("decay", species=[im.Species(name="y", unit="mg", initial=a)],
                    parameters=[im.Parameter(name="k", value=k, unit="1/day", source="assumed: test"),
                                im.Parameter(name="c", value=c, unit="1", source="assumed: test")],
                    rules=[im.Rule(name="obs", expression="c*y", unit="mg"),
                           im.Rule(name="sq", expression="obs*obs", unit="mg^2")],
                    processes=[im.Process(name="dec", rate="k*y", stoichiometry={"y": -1})])


def test_closed_forms_of_a_decay_through_a_bolus_and_rules():
    a, k, c, dose = 2.0, 0.5, 3.0, 1.5
    t = np.linspace(0, 4, 17)
    r = im.simulate(decay(a, k, c), t, events=[im.Bolus(time=1.0, target="y", amount=dose)],
                    sensitivities=["k", "y", "c"], **TOL)
    S = r.sensitivities
    assert S.dims == ("time", "variable", "direction")
    assert list(S.direction_kind.values) == ["parameter", "initial", "parameter"]
    after = t >= 1.0
    y = a * np.exp(-k * t) + np.where(after, dose * np.exp(-k * (t - 1.0)), 0.0)
    dy_dk = -t * a * np.exp(-k * t) - np.where(after, (t - 1.0) * dose * np.exp(-k * (t - 1.0)), 0.0)
    np.testing.assert_allclose(r["y"].values, y, rtol=1e-8)
    np.testing.assert_allclose(S.sel(variable="y", direction="k").values, dy_dk, atol=1e-8)
    np.testing.assert_allclose(S.sel(variable="y", direction="y").values, np.exp(-k * t), atol=1e-9)
    # rules by the chain rule: obs = c y, sq = obs^2
    np.testing.assert_allclose(S.sel(variable="obs", direction="c").values, y, atol=1e-8)
    np.testing.assert_allclose(S.sel(variable="obs", direction="k").values, c * dy_dk, atol=1e-8)
    np.testing.assert_allclose(S.sel(variable="sq", direction="k").values,
                               2 * c * y * c * dy_dk, atol=1e-7)


def test_a_species_reset_zeroes_its_sensitivity_and_batches_match_single_runs():
    k = 0.5
    t = np.linspace(0, 4, 9)
    r = im.simulate(decay(k=k), t, events=[im.SetSpecies(time=2.0, name="y", value=1.0)],
                    sensitivities=["k"], **TOL)
    s = r.sensitivities.sel(variable="y", direction="k").values
    after = t >= 2.0         # after the reset y = exp(-k (t - 2)), dy/dk = -(t - 2) exp(-k (t - 2))
    np.testing.assert_allclose(s[after], -(t[after] - 2.0) * np.exp(-k * (t[after] - 2.0)),
                               atol=1e-9)
    rb = im.simulate_batch(decay(), {"k": [0.5, 1.0]}, t, sensitivities=["k"], **TOL)
    assert rb.sensitivities.dims == ("patient", "time", "variable", "direction")
    np.testing.assert_allclose(rb.sensitivities.values[1, :, 0, 0], -t * 2.0 * np.exp(-t), atol=1e-9)
    one = im.simulate(decay(k=1.0), t, sensitivities=["k"], **TOL)
    np.testing.assert_allclose(rb.sensitivities.values[1], one.sensitivities.values, atol=1e-12)


def test_bad_directions_and_a_set_direction_are_refused():
    with pytest.raises(ModelError, match="did you mean 'k'"):
        im.simulate(decay(), [0, 1], sensitivities=["kk"])
    with pytest.raises(ModelError, match="listed twice"):
        im.simulate(decay(), [0, 1], sensitivities=["k", "k"])
    with pytest.raises(ModelError, match="sensitivity direction"):
        im.simulate(decay(), [0, 1, 2], sensitivities=["k"],
                    events=[im.SetParameter(time=1.0, name="k", value=2.0)])
    with pytest.raises(KeyError, match="no sensitivities"):
        im.simulate(decay(), [0, 1]).sensitivities


def refill():
    return im.Model("refill",
                 species=[im.Species(name="y", unit="1", initial=2.0),
                          im.Species(name="z", unit="1", initial=0.0)],
                 parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="assumed: test"),
                             im.Parameter(name="thr", value=1.0, unit="1", source="assumed: test"),
                             im.Parameter(name="g", value=0.3, unit="1", source="assumed: test")],
                 processes=[im.Process(name="dec", rate="k*y", stoichiometry={"y": -1}),
                            im.Process(name="prod", rate="g*y", stoichiometry={"z": 1})],
                 events=[im.Event(name="refill", trigger="y < thr",
                                  assignments={"y": "y + 1.5*g", "g": "2*g"})])


@pytest.mark.parametrize("direction", ["k", "thr", "y"])
def test_jump_conditions_at_a_state_event_agree_with_finite_differences(direction):
    """The trigger time moves with k, thr and y0; the event changes y and the parameter g, so
    every sensitivity jumps there (and z's slope changes): the jump conditions are needed."""
    m = refill()
    t = np.linspace(0, 6, 13)
    r = im.simulate(m, t, sensitivities=[direction], **TOL)
    h = 1e-6
    fine = dict(rtol=1e-12, atol=1e-14, kernels="generic")
    if direction == "y":
        hi = im.simulate(m, t, y0={"y": 2.0 + h}, **fine)
        lo = im.simulate(m, t, y0={"y": 2.0 - h}, **fine)
    else:
        v = m.parameter_vector()[m.parameter_index[direction]]
        hi = im.simulate(m, t, params={direction: v + h}, **fine)
        lo = im.simulate(m, t, params={direction: v - h}, **fine)
    fd = (hi.dataset["y"].values - lo.dataset["y"].values) / (2 * h)
    S = r.sensitivities.sel(direction=direction).values
    assert np.max(np.abs(fd)) > 1.0                   # the event matters
    np.testing.assert_allclose(S, fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(fd)))


def test_start_slopes_are_the_chain_rule_through_initial_assignments():
    """SBMLModel.start_slopes against central differences of SBMLModel.start: a chain of
    nonlinear initial assignments, a species in amounts of a compartment whose size is set."""
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    c = m.createCompartment()
    c.setId("V"); c.setSize(2.0); c.setConstant(True); c.setSpatialDimensions(3)
    for sid, v in (("a", 1.5), ("b", 0.7), ("q", 0.0)):
        p = m.createParameter(); p.setId(sid); p.setValue(v); p.setConstant(True)
    s = m.createSpecies()
    s.setId("S"); s.setCompartment("V"); s.setInitialConcentration(1.0)
    s.setHasOnlySubstanceUnits(False); s.setBoundaryCondition(False); s.setConstant(False)
    for sym, formula in (("q", "a^2 * exp(b)"), ("S", "q / (1 + b) + sin(a)")):
        ia = m.createInitialAssignment(); ia.setSymbol(sym); ia.setMath(libsbml.parseL3Formula(formula))
    r = m.createReaction(); r.setId("loss"); r.setReversible(False)
    sr = r.createReactant(); sr.setSpecies("S"); sr.setStoichiometry(1); sr.setConstant(True)
    kl = r.createKineticLaw(); kl.setMath(libsbml.parseL3Formula("b * S * V"))
    model = im.load_sbml(libsbml.writeSBMLToString(doc))
    values = {"a": 1.5, "b": 0.7, "V": 2.0}
    dy0, dp = model.start_slopes(values, ["a", "b", "V"])
    for k, sid in enumerate(["a", "b", "V"]):
        h = 1e-6
        y_hi, p_hi = model.start({**values, sid: values[sid] + h})
        y_lo, p_lo = model.start({**values, sid: values[sid] - h})
        np.testing.assert_allclose(dy0[:, k], (y_hi - y_lo) / (2 * h), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(dp[:, k], (p_hi - p_lo) / (2 * h), rtol=1e-7, atol=1e-9)
    assert np.abs(dy0).max() > 1.0          # the chain matters
