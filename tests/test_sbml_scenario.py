"""Scenarios on an SBML model (``model: file.xml``): values set in the document, times in the
model's time unit, doses into species checked against closed forms, compare arms, the command
line, and the errors."""

import json
import shutil
from dataclasses import replace as dataclasses_replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import immunesim as im
from immunesim.scenario import ScenarioError, compare, load_scenario, validate
from immunesim.scenario.build import scenario_events, scenario_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "sbml" / "receptor.yaml"
XML = ROOT / "scenarios" / "sbml" / "receptor.xml"
V = 2.0          # litre: the compartment's size in receptor.xml


def scenario(tmp_path, **fields):
    """A scenario on a copy of receptor.xml in tmp_path."""
    shutil.copy(XML, tmp_path / "receptor.xml")
    data = {"model": "receptor.xml", "time": {"end": 600, "output_every": 5}, **fields}
    return validate(data, base=tmp_path)


def test_boluses_into_a_concentration_species_match_the_closed_form(tmp_path):
    # kon = 0: L only decays at kel, so L(t) = sum over doses of (amount / V) exp(-kel (t - td))
    sc = scenario(tmp_path, parameters={"kon": 0.0, "kel": 0.03},
                  therapies=[{"species": "L", "amount": 4, "every": 120, "count": 3, "start": 10}],
                  solver={"rtol": 1e-10, "atol": 1e-12})
    r = im.run(sc)
    t = r.time
    expected = sum(np.where(t >= td, 4 / V * np.exp(-0.03 * (t - td)), 0.0) for td in (10, 130, 250))
    np.testing.assert_allclose(r["L"].values, expected, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(r["R"].values, 1.0)               # kon = 0: the receptor stays
    assert r.dataset.attrs["sbml_sha256"] == sc.sbml.sha256


def test_an_infusion_delivers_its_amount_at_a_constant_rate(tmp_path):
    sc = scenario(tmp_path, parameters={"kon": 0.0, "kel": 0.0},
                  therapies=[{"species": "L", "amount": 12, "duration": 240, "start": 60}],
                  solver={"rtol": 1e-10, "atol": 1e-12})
    r = im.run(sc)
    expected = 12 / V * np.clip((r.time - 60) / 240, 0.0, 1.0)
    np.testing.assert_allclose(r["L"].values, expected, rtol=1e-8, atol=1e-10)


def test_values_set_in_the_document_reach_initial_assignments(tmp_path):
    # an initial assignment reading a parameter sees the scenario's value, as in the file
    text = XML.read_text().replace(
        "</listOfReactions>",
        "</listOfReactions><listOfInitialAssignments><initialAssignment symbol=\"R\">"
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><times/><cn>2</cn><ci>koff</ci>"
        "</apply></math></initialAssignment></listOfInitialAssignments>")
    (tmp_path / "ia.xml").write_text(text)
    sc = validate({"model": "ia.xml", "parameters": {"koff": 0.7, "kon": 0.0},
                   "time": {"times": [0, 1]}}, base=tmp_path)
    assert im.run(sc)["R"].values[0] == pytest.approx(1.4)
    with pytest.raises(ScenarioError) as e:
        validate({"model": "ia.xml", "initial": {"R": 3}, "time": {"times": [0, 1]}}, base=tmp_path)
    assert "initial.R: an initial assignment in the SBML model sets its value" in str(e.value)


def test_times_are_in_the_model_time_unit(tmp_path):
    sc = scenario(tmp_path, time={"end": "2 h", "output_every": "30 min"},
                  therapies=[{"species": "L", "amount": 1, "start": "1 h"}])
    assert sc.time_unit == "minute" and sc.times == (0, 30, 60, 90, 120)
    assert sc.therapies[0].start == 60
    # a model that declares no time unit takes plain numbers only
    (tmp_path / "nounit.xml").write_text(XML.read_text().replace(' timeUnits="minute_unit"', ""))
    with pytest.raises(ScenarioError) as e:
        validate({"model": "nounit.xml", "time": {"end": "2 h"}}, base=tmp_path)
    assert "time.end: the model declares no time unit" in str(e.value)
    assert validate({"model": "nounit.xml", "time": {"end": 2}}, base=tmp_path).times[-1] == 2


def test_every_problem_is_named(tmp_path):
    shutil.copy(XML, tmp_path / "receptor.xml")
    bad = {"model": "receptor.xml", "disease": "ra", "patient": {}, "parameters": {"kn": 1},
           "initial": {"kon": 1, "L": -1}, "time": {"output_every": 5},
           "therapies": [{"species": "Q", "amount": 1}, {"drug": "adalimumab", "dose": "40 mg"},
                         {"species": "L", "amount": -2}],
           "outputs": {"figures": ["cells"], "variables": ["X"]},
           "arms": {"a": {"therapies": []}}, "trial": {}}
    with pytest.raises(ScenarioError) as e:
        validate(bad, base=tmp_path)
    text = "\n".join(e.value.problems)
    for line in ("disease: not used with an SBML model", "patient: not used with an SBML model",
                 "population: required by trial",
                 "parameters.kn: not a parameter or compartment id of the SBML model; did you mean 'kon'?",
                 "initial.kon: not a species id", "initial.L: expected a number >= 0",
                 "time: an SBML model needs time.end", "therapies[0].species: 'Q' is not a species",
                 "therapies[1].drug: drugs from the library couple to a disease preset",
                 "therapies[2].amount: expected a positive number",
                 "outputs.figures[0]: 'cells' is not one of the figures",
                 "outputs.variables[0]: 'X'", "arms.a: expected a list of doses"):
        assert line in text, line
    with pytest.raises(ScenarioError, match="model: missing.xml: "):
        validate({"model": "missing.xml", "time": {"end": 1}}, base=tmp_path)
    (tmp_path / "junk.xml").write_text("<sbml><model")
    with pytest.raises(ScenarioError, match="model: junk.xml: SBML line"):
        validate({"model": "junk.xml", "time": {"end": 1}}, base=tmp_path)
    # a disease scenario does not take species doses
    with pytest.raises(ScenarioError, match="doses into a species need an SBML model"):
        validate({"disease": "ra", "therapies": [{"species": "TNF", "amount": 1}]})


def test_a_changed_file_is_not_run_silently(tmp_path):
    sc = scenario(tmp_path)
    (tmp_path / "receptor.xml").write_text(XML.read_text().replace('value="0.5"', 'value="0.6"'))
    with pytest.raises(im.ModelError, match="changed since the scenario was validated"):
        scenario_model(sc)
    again = validate({"model": "receptor.xml", "time": {"end": 600, "output_every": 5}}, base=tmp_path)
    assert again.hash != sc.hash


def test_compare_arms_are_the_runs_of_their_doses(tmp_path):
    sc = load_scenario(EXAMPLE)
    cmp = compare(sc)
    rows = {r["arm"]: r for r in cmp.rows}
    assert list(rows) == ["untreated", "boluses", "infusion"]
    assert rows["untreated"]["RL_auc"] == 0.0 and rows["untreated"]["RL_t360"] == 0.0
    import dataclasses

    arm = dataclasses.replace(sc, therapies=sc.arms["boluses"]["therapies"])
    r = im.simulate(scenario_model(arm), np.asarray(sc.times), events=scenario_events(arm), **sc.solver)
    assert rows["boluses"]["RL_t120"] == pytest.approx(float(np.interp(120, r.time, r["RL"].values)))
    assert rows["boluses"]["RL_auc"] == pytest.approx(float(np.trapezoid(r["RL"].values, r.time)))
    assert "RL_t360" in rows["infusion"]            # "6 h" in the model's minutes
    assert cmp.trajectories["RL"].shape == (3, len(sc.times))


def test_a_published_model_compares_dosing_schedules():
    """scenarios/sbml/crohns_il6_sgp130fc.yaml: BioModels BIOMD0000000536 (39 species, its own
    dosing events left at dose 0) with sgp130Fc doses from the scenario, in the model's hours
    ("1 w" is 168 h). Untreated, CRP stays at the model's steady state; the same weekly amount
    suppresses CRP more given weekly than every four weeks at the week-12 trough (the
    four-weekly arm's dose falls at that time and CRP has not moved yet)."""
    sc = load_scenario(ROOT / "scenarios" / "sbml" / "crohns_il6_sgp130fc.yaml")
    assert sc.sbml.time_unit == "hour" and sc.times[-1] == 14 * 168
    rows = {r["arm"]: r for r in compare(sc).rows}
    assert list(rows) == ["untreated", "weekly", "two-weekly", "four-weekly"]
    assert abs(rows["untreated"]["species_1_week12"]) < 1e-8
    assert all(rows[a]["species_1_auc"] > 100 for a in ("weekly", "two-weekly", "four-weekly"))
    assert (rows["weekly"]["species_1_week12"] > rows["two-weekly"]["species_1_week12"]
            > rows["four-weekly"]["species_1_week12"])


def test_the_example_runs_from_the_command_line(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "run", str(EXAMPLE), "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "simulating 600 minutes" in p.stderr
    lines = (out / "summary.csv").read_text().splitlines()
    assert lines[0] == "time,RL,R" and len(lines) == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_file"] == str(XML) and manifest["time_unit"] == "minute"
    assert manifest["model_file_sha256"] == load_scenario(EXAMPLE).sbml.sha256
    traj = (out / "trajectories.csv").read_text().splitlines()
    assert traj[0] == "time,L,R,RL"
    assert (out / "trajectories.png").read_bytes()[:4] == b"\x89PNG"
    assert "trajectories.png" in manifest["outputs"]
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "compare", str(EXAMPLE), "-o",
                        str(tmp_path / "cmp")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "cmp" / "arms.png").read_bytes()[:4] == b"\x89PNG"
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "validate", str(EXAMPLE)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "SBML model receptor.xml, 600 minutes" in p.stdout
    assert yaml.safe_load(EXAMPLE.read_text())["model"] == "receptor.xml"


def days_model(tmp_path) -> Path:
    """receptor.xml with its time unit a day (so trial weeks are 7 time units)."""
    path = tmp_path / "receptor_days.xml"
    minute = '<unit kind="second" exponent="1" scale="0" multiplier="60"/>'
    path.write_text(XML.read_text().replace(minute, minute.replace('"60"', '"86400"')))
    return path


TRIAL = {"model": "receptor_days.xml", "seed": 3, "time": {"end": 14, "output_every": 1},
         "arms": {"placebo": [], "weekly": [{"species": "L", "amount": 4, "every": "1 w",
                                             "count": 2}]},
         "population": {"size": 64, "parameters": {"kel": {"lognormal": 0.5},
                                                   "koff": {"lognormal": 0.5}}},
         "trial": {"baseline": 0, "weeks": 2, "output_every": "1 d", "chunk": 64,
                   "endpoints": {"bound": {"readout": "RL", "above": 0.8, "weeks": [1, 2]}}}}


def test_a_trial_on_an_sbml_model_runs_each_patient_as_its_own_simulation(tmp_path):
    from immunesim.cohort.trial import open_trajectories
    from immunesim.cohort.virtual_trial import trial

    days_model(tmp_path)
    sc = validate(TRIAL, base=tmp_path)
    assert sc.time_unit == "day" and sc.trial.week == 7.0
    res = trial(sc, tmp_path / "out")
    ds = open_trajectories(tmp_path / "out").load()     # every chunk's full record
    rates = {(r["arm"], r["week"]): r["rate"] for r in res.rows}
    assert rates[("placebo", 1.0)] == 0.0
    assert 0.0 < rates[("weekly", 1.0)] < 1.0          # drawn kel and koff decide who responds
    # a patient of the weekly arm: its drawn parameters and the arm's doses, simulated directly
    model = scenario_model(sc)
    i = 5
    params = dict(zip(ds["parameter"].values, ds["parameters"].values[i]))
    events = scenario_events(dataclasses_replace(sc, therapies=sc.arms["weekly"]["therapies"]))
    t = np.asarray(ds["time"].values)
    r = im.simulate(model, t, params=params, events=events, **sc.solver)
    a = list(ds["arm"].values).index("weekly")
    k = list(ds["variable"].values).index("RL")
    np.testing.assert_allclose(ds["trajectory"].values[a, i, :, k], r["RL"].values, rtol=1e-6)
    value = float(np.interp(7.0, t, r["RL"].values))
    assert ds["outcome:bound:1:value"].values[a, i] == pytest.approx(value, rel=1e-6)
    assert ds["outcome:bound:1:responder"].values[a, i] == float(value > 0.8)


def test_trial_fields_an_sbml_model_cannot_use_are_named(tmp_path):
    days_model(tmp_path)
    (tmp_path / "ia.xml").write_text(days_model(tmp_path).read_text().replace(
        "</listOfReactions>",
        "</listOfReactions><listOfInitialAssignments><initialAssignment symbol=\"R\">"
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><times/><cn>2</cn><ci>koff</ci>"
        "</apply></math></initialAssignment></listOfInitialAssignments>"))
    bad = {**TRIAL, "model": "ia.xml",
           "population": {**TRIAL["population"], "covariates": {"body_weight": {"normal": [70, 10]}}},
           "trial": {**TRIAL["trial"], "endpoints": {"inf": {"challenge_week": 1, "cleared_within": 3}}}}
    with pytest.raises(ScenarioError) as e:
        validate(bad, base=tmp_path)
    text = "\n".join(e.value.problems)
    assert "population.covariates: covariates describe a disease preset's patients" in text
    assert "population.parameters" not in text      # drawn values reach the start (below)
    assert "trial.endpoints.inf: a pathogen challenge needs a disease preset" in text
    (tmp_path / "nounit.xml").write_text(XML.read_text().replace(' timeUnits="minute_unit"', ""))
    with pytest.raises(ScenarioError, match="trial: the SBML model declares no time unit"):
        validate({**TRIAL, "model": "nounit.xml", "time": {"end": 14},
                  "trial": {**TRIAL["trial"], "output_every": 1}}, base=tmp_path)


def test_a_drawn_parameter_reaches_the_initial_assignments_that_read_it(tmp_path):
    """R's initial assignment reads koff: each patient starts at R = 2 koff with its own koff
    (the model's start re-evaluated per patient, not left at the file's value)."""
    from immunesim.cohort.trial import open_trajectories
    from immunesim.cohort.virtual_trial import trial

    (tmp_path / "ia.xml").write_text(days_model(tmp_path).read_text().replace(
        "</listOfReactions>",
        "</listOfReactions><listOfInitialAssignments><initialAssignment symbol=\"R\">"
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><apply><times/><cn>2</cn><ci>koff</ci>"
        "</apply></math></initialAssignment></listOfInitialAssignments>"))
    spec = {**TRIAL, "model": "ia.xml", "trial": {**TRIAL["trial"], "variables": ["R", "RL"]}}
    trial(validate(spec, base=tmp_path), tmp_path / "out")
    ds = open_trajectories(tmp_path / "out").load()
    koff = ds["parameters"].values[:, list(ds["parameter"].values).index("koff")]
    assert np.std(koff) > 0.1 * np.mean(koff)                  # drawn, not one value
    a = list(ds["arm"].values).index("placebo")
    r0 = ds["trajectory"].values[a, :, 0, list(ds["variable"].values).index("R")]
    np.testing.assert_allclose(r0, 2.0 * koff, rtol=1e-12)
