"""Behaviour of the mechanistic autoimmunity model (healthy preset), asserted with numbers.

Each test states the behaviour the model must show (issue #3) and checks it against the
thresholds written next to it. Tolerance means: effector T cells at the healthy steady state
(~0.02 cells/uL), no tissue damage beyond ~0.4 %, CRP in the normal range (< 3 mg/L).
"""

import numpy as np
import pytest

import immunesim as im

YEAR = 365.0
NO_TREGS = {"s_treg": 0.0, "w_itreg": 0.0}


@pytest.fixture(scope="module")
def healthy():
    return im.disease_model("healthy")


def run(model, t, params=None, y0=None, events=()):
    r = im.simulate(model, t, params=params, y0=y0, events=events, rtol=1e-6, atol=1e-9)
    assert r.ok, r.message
    return r


def test_healthy_preset_stays_tolerant_for_ten_years(healthy):
    t = np.linspace(0, 10 * YEAR, 121)
    r = run(healthy, t)
    assert r["Teff"].values.max() < 0.1          # cells/uL (chronic states: > 10)
    assert r["Dmg"].values.max() < 0.01         # damaged fraction
    assert r["Irr"].values[-1] < 1e-3           # irreversible loss after 10 years
    assert r["CRP"].values.max() < 3.0          # mg/L, normal range
    assert r["Treg_Teff_ratio"].values[-1] > 10


@pytest.mark.parametrize("change, y0", [
    (NO_TREGS, {"Treg": 0.0}),                  # Tregs removed (Foxp3 deficiency, IPEX-like)
    ({"ctla4_function": 0.0}, None),            # CTLA-4 loss
    ({"pd1_function": 0.0}, None),              # PD-1 loss
], ids=["no_tregs", "no_ctla4", "no_pd1"])
def test_removing_regulation_triggers_autoimmunity(healthy, change, y0):
    t = np.linspace(0, 5 * YEAR, 61)
    r = run(healthy, t, params=change, y0=y0)
    late = t > 3 * YEAR
    assert r["Teff"].values[late].mean() > 5.0      # >250x the tolerant level
    assert r["Dmg"].values[late].mean() > 0.2
    assert r["CRP"].values[late].mean() > r["CRP"].values[0] + 1.0


def test_antigen_presentation_threshold_with_hysteresis(healthy):
    # analysis of steady states needs the irreversible accumulator switched off
    br = im.continuation(healthy, "m_hla", 0.5, 4.0, params={"k_irr": 0.0}, settle=3000,
                         max_step=0.02)
    assert br.complete and len(br.folds) >= 2
    upper = br.folds[0]          # where the tolerant branch (followed from m_hla = 0.5) ends
    lower = min(br.folds)        # where the chronic branch, followed back, ends
    assert 1.0 < lower < upper < 2.25       # healthy (m_hla = 1) lies below the window
    mid = upper - 0.03                      # inside the window, just below the tolerance limit
    states = br.stable_states_at(mid)
    teff = sorted(s[list(healthy.species_names).index("Th1")] + s[list(healthy.species_names).index("Th17")]
                  for s in states)
    assert len(teff) >= 2 and teff[-1] > 100 * teff[0]
    # the same two states by simulation: history decides which one a patient is in
    p = {"k_irr": 0.0, "m_hla": mid}
    t = [0, 5 * YEAR]
    from_health = run(healthy, t, params=p)["Teff"].values[-1]
    from_flare = run(healthy, t, params=p, y0={"Th1": 30.0, "Th17": 10.0, "DC": 3.0, "Dmg": 0.3})["Teff"].values[-1]
    assert from_health < 1.0 and from_flare > 5.0


def test_il2_raises_tregs(healthy):
    t = [0, 30, 90]
    base = run(healthy, t)["Treg"].values[-1]
    boosted = run(healthy, t, params={"p_IL2_0": 100.0})["Treg"].values[-1]  # 5x IL-2 supply
    assert boosted > 2.0 * base


def test_autoantibodies_lag_effector_t_cells(healthy):
    t = np.linspace(0, 3 * YEAR, 1096)
    r = run(healthy, t, params=NO_TREGS, y0={"Treg": 0.0})

    def half_rise(x):
        x = x - x[0]
        return t[np.argmax(x >= 0.5 * x.max())]

    lag = half_rise(r["AutoAb"].values) - half_rise(r["Teff"].values)
    assert lag > 14.0        # days: B help, plasma-cell differentiation and IgG accumulation


def test_damage_accumulates_only_while_inflammation_persists(healthy):
    restore = [im.SetParameter(time=2 * YEAR, name="s_treg", value=0.1),
               im.SetParameter(time=2 * YEAR, name="w_itreg", value=1.2),
               im.SetSpecies(time=2 * YEAR, name="Treg", value=5.0)]
    t = np.array([0, 1 * YEAR, 2 * YEAR, 4 * YEAR, 8 * YEAR])
    r = run(healthy, t, params=NO_TREGS, y0={"Treg": 0.0}, events=restore)
    irr = r["Irr"].values
    during = irr[2] - irr[1]                      # a year of active inflammation
    assert during > 0.01
    assert r["Teff"].values[-1] < 1.0             # inflammation resolved after Tregs returned
    after = (irr[4] - irr[3]) / 4                 # per year, years 4-8
    assert after < 0.02 * during


DISEASES = ["ra", "sle", "ms", "t1d", "crohns", "psoriasis"]


@pytest.mark.parametrize("disease", DISEASES)
def test_each_preset_reaches_its_chronic_state_from_its_start(disease):
    from immunesim.diseases.build import preset
    from immunesim.diseases.readouts import chronic_check, counts

    pr = preset(disease)
    m = im.disease_model(disease)
    t = np.linspace(0, pr["t_end"], int(pr["t_end"]) + 1)      # daily output (relapse counts)
    r = run(m, t)
    values = {v: r[v].values for v in m.variable_names}
    values.update(counts(values, pr.get("counts")))
    rows = chronic_check(t, values, pr["chronic_state"])
    bad = [f"{x['name']}.{x['stat']} = {x['value']:.4g} not in [{x['low']}, {x['high']}]"
           for x in rows if not x["ok"]]
    assert not bad, bad
    # and it is disease: inflamed tissue in the last third of the run (or the target destroyed)
    assert values["Dmg"][t >= 2 * t[-1] / 3].max() > 0.02 or values["Irr"][-1] > 0.5


def test_ms_relapses_and_remits():
    from immunesim.diseases.readouts import count_onsets

    m = im.disease_model("ms")
    t = np.arange(0, 5 * YEAR + 1)
    r = run(m, t)
    onsets = np.flatnonzero(np.diff(r["in_relapse"].values) > 0.5)
    assert count_onsets(r["in_relapse"].values)[-1] == len(onsets) >= 4
    # between consecutive relapses the lesions resolve (remission) and effectors contract
    for a, b in zip(onsets[:-1], onsets[1:]):
        assert r["lesion_load"].values[a:b].min() < 5.0
        assert r["Teff"].values[a:b].min() < 0.2 * r["Teff"].values[a:b].max()


def test_covariates_are_documented_multipliers():
    base = im.disease_model("t1d")
    risk = im.disease_model("t1d", covariates={"hla_risk_alleles": 1, "ctla4_risk_alleles": 2,
                                               "body_weight": 50})
    p = lambda m, n: m.parameters[m.parameter_index[n]].value
    assert p(risk, "m_hla") == pytest.approx(p(base, "m_hla") * 1.5)
    assert p(risk, "m_ctla4") == pytest.approx(0.85 ** 2)
    t = [0, 1825]
    need = lambda m: run(m, t)["insulin_need"].values[-1]
    assert need(im.disease_model("t1d", covariates={"body_weight": 50})) == pytest.approx(
        need(base) * 50 / 70, rel=1e-6)
    with pytest.raises(im.ModelError) as e:
        im.disease_model("ra", covariates={"hla_risk_alleles": 3, "bodyweight": 70})
    msg = str(e.value)
    assert "hla_risk_alleles" in msg and "[0, 2]" in msg and "did you mean 'body_weight'" in msg


def test_every_parameter_has_unit_and_source_and_the_docs_table_is_current():
    from pathlib import Path

    from immunesim.diseases.build import model_data
    from immunesim.diseases.doc import parameter_table

    for disease in im.diseases():
        for p in model_data(disease)["parameters"]:
            assert p["unit"] and p["source"], p["name"]
            s = p["source"].lower()
            assert "assumed" in s or "doi" in s or "pmid" in s or "label" in s or "covariate" in s \
                or "switch" in s or "hook" in s or "calibrated" in s, (disease, p["name"], p["source"])
    doc = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
    assert doc.read_text() == parameter_table(), \
        "docs/parameters.md is stale: python -m immunesim.diseases.doc > docs/parameters.md"


def test_pathogen_challenge_measures_the_infection_cost_of_immunosuppression(healthy):
    from immunesim.diseases.readouts import infection_course

    t = np.linspace(0, 120, 4801)
    challenge = [im.Bolus(time=0.0, target="Pathogen", amount=1.0)]
    base = run(healthy, t, events=challenge)
    course = infection_course(t, base["Pathogen"].values)
    assert 2.0 < course["clearance_time"] < 10.0            # days, in health
    assert base["Teff"].values.max() < 1.0                   # a transient bystander blip only
    assert base["Teff"].values[-1] < 0.05                    # back to tolerance
    jak = run(healthy, t, params={"inh_JAK1": 0.5, "inh_JAK3": 0.5}, events=challenge)
    slowed = infection_course(t, jak["Pathogen"].values)
    assert slowed["clearance_time"] > 2 * course["clearance_time"]
    assert slowed["peak"] > 5 * course["peak"]
    # the course helper itself: never-cleared and cleared-at-once cases
    assert np.isnan(infection_course([0, 1, 2], [1, 2, 3])["clearance_time"])
    assert infection_course([0, 1, 2], [1, 0, 0], threshold=0.5)["clearance_time"] == 1.0
