"""Checkpoint immunotoxicity by mechanism (CTLA-4 at priming, PD-1 in tissue), its management
(the checkpoint inhibitors stopped, prednisone given) and the endpoints that count it."""

from pathlib import Path

import numpy as np
import pytest

import immunesim as im
from immunesim.cohort.endpoints import evaluate
from immunesim.drugs.regimen import Regimen, regimen_events
from immunesim.scenario import validate
from immunesim.scenario.build import scenario_events, scenario_model
from immunesim.scenario.endpoints import Endpoint
from immunesim.scenario.schema import ScenarioError
from immunesim.scenario.trial_spec import Management

ROOT = Path(__file__).resolve().parents[1]

DRUGS = ["nivolumab", "ipilimumab", "prednisone"]
IPI = {"drug": "ipilimumab", "dose": "3 mg/kg", "route": "iv", "infusion_hours": 1.5, "every": "3 w",
       "count": 4, "start": "365 d"}
PREDNISONE = (   # the course of scenarios/checkpoint_trial.yaml: 2 weeks at 1 mg/kg, tapered over 4
    Regimen.parse("prednisone", dose="1 mg/kg", route="oral", every="1 d", count=14),
    Regimen.parse("prednisone", dose="0.5 mg/kg", route="oral", every="1 d", count=14, start="14 d"),
    Regimen.parse("prednisone", dose="0.25 mg/kg", route="oral", every="1 d", count=14, start="28 d"))


def _simulate(disease="healthy", parameters=None, therapies=(), hla=0, end="60 d", regimens=None):
    sc = validate({"disease": disease, "patient": {"covariates": {"hla_risk_alleles": hla}},
                   "parameters": parameters or {}, "time": {"end": end, "output_every": "1 day"},
                   "therapies": list(therapies)})
    model = scenario_model(sc, drugs=DRUGS)
    events = scenario_events(sc)
    if regimens is not None:
        events = regimen_events(regimens, sc.body_weight)
    r = im.simulate(model, np.asarray(sc.times), params=sc.parameters, events=events)
    assert r.ok, r.message
    return sc, r


@pytest.mark.parametrize("disease", ["healthy", "ra"])
def test_untreated_priming_and_tissue_restimulation_are_one_signal(disease):
    # the split only matters under a checkpoint antibody: untreated, every preset runs as before
    _, r = _simulate(disease, end="120 d")
    for a, b in (("priming", "activation"), ("costim", "costim_tissue"), ("pd1_brake_prime", "pd1_brake")):
        np.testing.assert_allclose(r[a].values, r[b].values, rtol=1e-13, atol=0)


def test_anti_ctla4_acts_at_priming_and_anti_pd1_in_tissue():
    # the rules at the healthy state with each checkpoint fully blocked, against their closed forms
    model = im.disease_model("healthy")
    par = dict(zip(model.parameter_names, model.parameter_vector()))
    base, ctla4, pd1 = (im.simulate(model, [0.0, 1.0], params=p)
                        for p in ({}, {"block_CTLA4": 1.0}, {"block_PD1": 1.0}))
    v = {k: float(base[k].values[0]) for k in ("Treg", "treg_potency", "sig_IFNg")}
    strip = par["m_ctla4"] * v["treg_potency"] * v["Treg"] / par["K_treg_ctla4"]
    assert float(ctla4["costim"].values[0]) == pytest.approx(1.0, rel=1e-12)     # priming: all of it
    assert float(ctla4["costim_tissue"].values[0]) == pytest.approx(
        1.0 / (1.0 + (1.0 - par["w_ctla4_tissue"]) * strip), rel=1e-10)         # tissue: a share
    pd1_load = par["k_pd1"] * (1.0 + par["a_pdl1"] * v["sig_IFNg"])
    assert float(pd1["pd1_brake"].values[0]) == pytest.approx(1.0, rel=1e-12)   # tissue: all of it
    assert float(pd1["pd1_brake_prime"].values[0]) == pytest.approx(
        1.0 / (1.0 + (1.0 - par["w_pd1_prime"]) * pd1_load), rel=1e-10)         # priming: a share
    gain = {name: (float(r["priming"].values[0]) / float(base["priming"].values[0]),
                   float(r["activation"].values[0]) / float(base["activation"].values[0]))
            for name, r in (("ctla4", ctla4), ("pd1", pd1))}
    assert gain["ctla4"][0] > 2 * gain["ctla4"][1]      # anti-CTLA-4: new clones primed
    assert gain["pd1"][1] > 2 * gain["pd1"][0]          # anti-PD-1: effectors in the tissue released


def test_an_irae_resolves_when_the_drug_stops_and_prednisone_is_given():
    # one HLA risk allele (tolerant, inside the bistable window), ipilimumab after a year untreated
    sc, r = _simulate(therapies=[IPI], hla=1, end="600 d")
    t, teff = r.time, r["Teff"].values
    assert teff[t == 364][0] < 1.0
    onset = t[(teff > 5.0) & (t >= 365)][0]
    assert onset - 365 < 8 * 7                                       # within the induction
    base = [Regimen.parse("ipilimumab", dose="3 mg/kg", route="iv", infusion_hours=1.5, every="3 w",
                          count=4, start="365 d")]
    stop_only = Management("Teff", "above", 5.0, ("ipilimumab",), ())
    managed = Management("Teff", "above", 5.0, ("ipilimumab",), PREDNISONE)
    # the doses after the decision are dropped; those before stay
    kept = stop_only.regimens(base, onset)[0].dose_times()
    assert kept == [d for d in base[0].dose_times() if d < onset] and len(kept) < 4
    assert [x.start for x in managed.regimens(base, onset)[1:]] == [onset, onset + 14, onset + 28]
    # stopping after a course has ended adds no dose (the count still ends it)
    assert stop_only.regimens(base, 365.0 + 200)[0].dose_times() == base[0].dose_times()
    _, r_stop = _simulate(hla=1, end="600 d", regimens=stop_only.regimens(base, onset))
    _, r_pred = _simulate(hla=1, end="600 d", regimens=managed.regimens(base, onset))
    # the same course up to the decision (its last step now ends there: the solver's tolerance)
    np.testing.assert_allclose(r_pred["Teff"].values[t <= onset], teff[t <= onset], rtol=1e-6)
    after = lambda res, days: float(res["Teff"].values[t == onset + days][0])   # noqa: E731
    assert after(r_stop, 14) > 5.0 and after(r_stop, 56) > 5.0      # stopping alone: it goes on
    assert after(r_pred, 14) < 1.0 and after(r_pred, 42) < 1.0      # with prednisone: resolved
    assert float(r_pred["supp_cytokine"].values[t == onset + 1][0]) > 0.0


def test_ever_above_counts_an_event_once_even_after_it_resolves():
    t = np.array([0.0, 1, 2, 3, 4])
    y = np.array([[9.0, 1, 1, 2, 1],      # above at baseline only: no event
                  [0.0, 1, 6, 1, 1],      # event at week 2, resolved by week 3
                  [0.0, 1, 2, 3, 7]])     # event at week 4
    ep = Endpoint("irAE", "ever_above", 5.0, "Teff", (1.0, 3.0, 4.0), harm=True)
    res = evaluate(ep, t, y, y[:, 0])
    assert res["responder"].tolist() == [[False, False, False], [False, True, True], [False, False, True]]
    np.testing.assert_array_equal(res["value"], [[1, 2, 2], [1, 6, 6], [1, 3, 7]])
    assert ep.lower_is_better
    active = evaluate(Endpoint("a", "above", 5.0, "Teff", (3.0,)), t, y, y[:, 0])
    assert active["responder"][:, 0].tolist() == [False, False, False]   # resolved: not active


def _trial(management, disease="healthy", arms=None):
    return {"name": "t", "disease": disease, "time": {"end": "730 d", "output_every": "1 w"},
            "arms": arms or {"ipilimumab": [IPI]},
            "population": {"size": 64, "parameters": {"m_hla": {"lognormal": 0.2}}},
            "trial": {"baseline": "365 d", "weeks": 52,
                      "endpoints": {"irAE": {"readout": "Teff", "ever_above": 5, "weeks": [26]}},
                      "management": management}}


def test_management_fields_are_named():
    with pytest.raises(ScenarioError) as e:
        validate(_trial({"when": {"readout": "Tef", "above": 5}, "stop": ["nivolumab"],
                         "give": [{"drug": "prednisone", "dose": "1 mg/kg", "route": "oral", "every": "1 d"}]}))
    text = "\n".join(e.value.problems)
    for part in ("trial.management.when.readout: 'Tef' is not a variable; did you mean 'Teff'?",
                 "trial.management.stop[0]: 'nivolumab' is not given in any arm or as background",
                 "trial.management.give[0]: a course needs count"):
        assert part in text, text
    with pytest.raises(ScenarioError, match="trial.management.when: give exactly one of above, below"):
        validate(_trial({"when": {"readout": "Teff"}, "stop": ["ipilimumab"]}))
    with pytest.raises(ScenarioError, match="name drugs to stop, courses to give, or both"):
        validate(_trial({"when": {"readout": "Teff", "above": 5}}))
    ra = _trial({"when": {"readout": "DAS28", "above": 5.1}, "stop": ["adalimumab"]}, disease="ra",
                arms={"adalimumab": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                      "every": "14 d", "start": "365 d"}]})
    with pytest.raises(ScenarioError, match="'DAS28' is a clinical instrument; a management rule reads a model variable"):
        validate(ra)
    sc = validate(_trial({"when": {"readout": "Teff", "above": 5}, "stop": ["ipilimumab"],
                          "give": [{"drug": "prednisone", "dose": "1 mg/kg", "route": "oral", "every": "1 d",
                                    "count": 14}]}))
    assert sc.trial.management.stop == ("ipilimumab",) and "prednisone" in sc.arm_drugs()


def _mtx_trial(tmp_path, management: dict, variables=None):
    """A 16-patient, 4-week placebo trial on the training scenario's MTX-IR population (every
    patient on background methotrexate) with ``management`` and ``trial.variables``; returns the
    written scenario's path and its data."""
    import yaml

    data = yaml.safe_load(open(ROOT / "scenarios" / "ra_trials_training.yaml"))
    data["population"]["size"] = 16
    data["arms"] = {"placebo": []}
    data["time"]["end"] = "400 d"
    for key in ("published", "dropout", "variables"):
        data["trial"].pop(key, None)
    data["trial"].update(weeks=4, primary="ACR20", endpoints={"ACR20": {"acr": 20, "weeks": [4]}},
                         management=management, **({"variables": variables} if variables else {}))
    path = tmp_path / "mtx.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, data


def test_management_stops_a_background_drug(tmp_path):
    # a drug every patient takes as background (methotrexate in an MTX-IR population) can be
    # stopped by the management rule like an arm's drug (it was refused: "not given in any arm")
    from immunesim.cli import main
    from immunesim.scenario import load_scenario

    path, _ = _mtx_trial(tmp_path, {"when": {"readout": "CRP", "below": 1e6}, "stop": ["methotrexate"]})
    sc = load_scenario(path)
    mg = sc.trial.management
    assert mg.stop == ("methotrexate",)
    kept = mg.regimens(sc.population.background, 372.0)
    assert kept and all(d < 372.0 for r in kept for d in r.dose_times())
    assert max(d for r in sc.population.background for d in r.dose_times()) > 372.0
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q"]) == 0
    pts = (tmp_path / "out" / "patients.csv").read_text().splitlines()
    week = pts[0].split(",").index("management_week")
    assert {float(row.split(",")[week]) for row in pts[1:]} == {1.0}   # decided at week 1
    # no model variable stored (an ACR endpoint, no trial.variables): the report is still
    # written, without the bands figure (it raised an IndexError before)
    assert (tmp_path / "out" / "report.html").is_file()
    assert not (tmp_path / "out" / "bands.png").exists()


def test_background_and_management_drugs_can_be_stored_as_trial_variables(tmp_path, capsys):
    # the trial's model couples the population's background drugs and the management's courses
    # as well as the arms' drugs, so their variables can be kept (they were refused as unknown)
    import yaml

    from immunesim.cli import main

    course = {"drug": "prednisone", "dose": "10 mg", "route": "oral", "every": "1 d", "count": 7}
    path, data = _mtx_trial(tmp_path, {"when": {"readout": "CRP", "below": 1e6}, "give": [course]},
                            variables=["methotrexate_C", "prednisone_C", "CRP"])
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q"]) == 0
    ds = im.open_trajectories(tmp_path / "out").load()
    tr = ds["trajectory"].sel(arm="placebo")
    t = ds["time"].values
    mtx, pred = tr.sel(variable="methotrexate_C").values, tr.sel(variable="prednisone_C").values
    assert (mtx[:, t >= 365].max(axis=1) > 0).all()               # on background methotrexate
    assert (pred[:, (t > 365 + 7) & (t <= 365 + 14)].max(axis=1) > 0).all()   # the course, after week 1
    assert (pred[:, t <= 365].max(axis=1) == 0).all()              # and not before the decision
    # a drug in no arm, background or course is still refused, with the field named
    data["trial"]["variables"] = ["tocilizumab_C"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    assert "trial.variables" in capsys.readouterr().err
