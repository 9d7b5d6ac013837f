"""Drugs acting on the disease model through their named targets (scenario therapies)."""

from pathlib import Path

import numpy as np
import pytest

import immunesim as im
from immunesim.drugs.regimen import Regimen
from immunesim.scenario import validate
from immunesim.scenario.build import scenario_events, scenario_model


def run(scenario, drugs=None):
    """Validate and simulate; ``drugs`` couples more drugs than the therapies use (undosed, they
    change nothing), so several calls share one compiled kernel."""
    sc = validate(scenario)
    r = im.simulate(scenario_model(sc, drugs=drugs), np.asarray(sc.times), params=sc.parameters or None,
                    events=scenario_events(sc), **sc.solver)
    assert r.ok, r.message
    return sc, r


RA_YEAR = {"disease": "ra", "time": {"end": "2 years", "output_every": "1 day"}}


def test_il6r_blockade_normalises_crp_within_two_weeks():
    # tocilizumab 8 mg/kg IV q4w: CRP normalises within ~2 weeks of the first infusion
    # (Nishimoto et al. 2008, doi:10.1182/blood-2008-05-155846; ACTEMRA label 12.2)
    sc, r = run({**RA_YEAR, "therapies": [{"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                                           "infusion_hours": 1, "every": "4 w", "start": "365 d"}]})
    t, crp = r.time, r["CRP"].values
    assert crp[t == 364][0] > 10.0                               # active RA before treatment
    normal = t[(t >= 365) & (crp < 5.0)]                         # mg/L, upper limit of normal
    assert normal[0] - 365 <= 14
    assert np.all(crp[t >= 365 + 14] < 5.0)                      # and stays normal on treatment
    assert r["block_IL6R"].values[t >= 380].min() > 0.95         # >= 95 % occupancy at troughs


def test_serum_il6_rises_on_il6r_blockade_then_falls_with_disease_activity():
    # Nishimoto et al. 2008 (Blood 112:3959, doi:10.1182/blood-2008-05-155846): free serum IL-6
    # rises markedly after tocilizumab, because IL-6R-mediated consumption is blocked, while CRP
    # normalises; the raised IL-6 then reflects the production, which falls as the disease does
    sc, r = run({**RA_YEAR, "therapies": [{"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                                           "infusion_hours": 1, "every": "4 w", "start": "365 d"}]})
    t, il6, crp = r.time, r["IL6"].values, r["CRP"].values
    before = il6[t == 364][0]
    first_week = il6[(t > 365) & (t <= 372)]
    assert first_week.max() > 3 * before                         # several-fold rise
    assert crp[t == 372][0] < 3.0 < crp[t == 364][0]             # while CRP normalises
    assert il6[t == 365 + 168][0] < 0.5 * first_week.max()       # falling with disease activity


def test_crp_is_normal_only_while_tocilizumab_stays_above_about_1_ug_per_ml():
    # Nishimoto et al. 2008 (doi:10.1182/blood-2008-05-155846): CRP normalised in patients as
    # long as free tocilizumab was >= 1 ug/mL, and rose when it fell below. A patient whose
    # synovitis persists on treatment (macrophage-driven injury 7.5x the preset's), so IL-6
    # production goes on: troughs of ~10 (8 mg/kg), ~1 (4 mg/kg) and ~0.25 ug/mL (2 mg/kg)
    crp_at = {}
    for dose in ("8 mg/kg", "4 mg/kg", "2 mg/kg"):
        sc, r = run({**RA_YEAR, "parameters": {"k_inj_mac": 0.03},
                     "therapies": [{"drug": "tocilizumab", "dose": dose, "route": "iv",
                                    "infusion_hours": 1, "every": "4 w", "start": "365 d"}]},
                    drugs=["tocilizumab"])
        t, crp, c = r.time, r["CRP"].values, r["tocilizumab_C"].values
        troughs = [int(np.flatnonzero(t == 365 + 28 * k - 1)[0]) for k in range(3, 12)]
        crp_at[dose] = (c[troughs], crp[troughs])
        # a week or more after each infusion (CRP's half-life is ~19 h: it lags the drug)
        days = [int(np.flatnonzero(t == 365 + 28 * k + d)[0]) for k in range(2, 11) for d in (7, 14, 21, 27)]
        assert np.all(crp[days][c[days] >= 1.5] < 3.0), dose       # normal while well above 1 ug/mL
        assert np.all(c[days][crp[days] > 3.0] < 1.2), dose         # raised only below ~1 ug/mL
    c8, crp8 = crp_at["8 mg/kg"]
    assert c8.min() > 5.0 and crp8.max() < 3.0                     # 8 mg/kg: normal throughout
    c2, crp2 = crp_at["2 mg/kg"]
    assert c2.max() < 0.5 and crp2.max() > 5.0                    # low troughs: CRP back up


def test_tnf_neutralisation_lowers_activity_and_stops_erosions():
    sc, r = run({**RA_YEAR, "therapies": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                           "every": "14 d", "start": "365 d"}]})
    t = r.time
    das = r["DAS28_CRP"].values
    assert das[t == 364][0] > 5.1                                # high activity untreated
    assert das[t == 365 + 168][0] < 3.2                          # low activity by week 24
    irr = r["Irr"].values
    before = irr[t == 364][0] - irr[t == 364 - 182][0]
    after = irr[t == 730][0] - irr[t == 730 - 182][0]
    assert after < 0.05 * before                                 # erosions stop progressing
    # the neutralised fraction follows the drug concentration: C/(C + IC50)
    c = r["adalimumab_C"].values
    ic50 = 0.15 * 148 * 1e-3
    np.testing.assert_allclose(r["neut_TNF"].values, c / (c + ic50), rtol=1e-12)


def test_tnf_blockade_relieves_tenderness_within_days_and_swelling_over_months():
    # Maini et al. 1998 (doi:10.1002/1529-0131(199809)41:9<1552::AID-ART5>3.0.CO;2-W), infliximab
    # at weeks 0, 2, 6 and every 4 weeks: two weeks after the first infusion tender joint counts had
    # improved by 43-65 % (placebo 0 %); TNF blockade relieves pain within a day, before the
    # inflammation resolves (Hess et al. 2011, doi:10.1073/pnas.1011774108)
    infusion = {"drug": "infliximab", "dose": "10 mg/kg", "route": "iv", "infusion_hours": 2}
    sc, r = run({**RA_YEAR, "therapies": [{**infusion, "start": "365 d", "every": "14 d", "count": 2},
                                          {**infusion, "start": "407 d", "every": "4 w"}]})
    t = r.time

    def change(v, day):
        x = r[v].values
        return 1.0 - x[t == 365 + day][0] / x[t == 365][0]

    assert 0.3 < change("TJC28", 1) < 0.55                    # tenderness: within a day
    assert 0.3 < change("PGA", 1) < 0.55                      # and the patient's global/pain
    assert change("SJC28", 1) < 0.01                          # swelling: not yet
    assert change("Dmg", 1) < 0.02                            # the inflammation has barely moved
    # Maini's range at week 2 (43-65 %) is of group means, ~14 patients per group; since
    # 2026-12-07 the preset's median patient keeps an immune-complex share of injury that TNF
    # blockade does not reach (k_inj_C) and improves 42.5 %: 0.40 leaves room for one patient
    # a little below the lowest group mean
    assert 0.40 <= change("TJC28", 13) <= 0.65
    assert change("SJC28", 13) < 0.5 * change("TJC28", 13)    # swelling lags
    assert change("SJC28", 168) > 0.75                        # mostly resolved by week 24 (79 %)
    # untreated, active disease keeps the nociceptors near fully sensitised
    assert r["tnf_pain"].values[t == 364][0] > 0.9


def test_two_drugs_on_different_targets_and_weight_based_dosing():
    sc, r = run({**RA_YEAR, "patient": {"covariates": {"body_weight": "90 kg"}},
                 "therapies": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "14 d",
                                "start": "365 d"},
                               {"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                                "infusion_hours": 1, "every": "4 w", "start": "365 d"}]})
    # 720 mg infused over 1 h into a 3.5 L central volume (no weight effect on V in Frey 2010)
    doses = [e for e in scenario_events(sc) if getattr(e, "target", "") == "tocilizumab_Central"]
    assert doses[0].rate * doses[0].duration == pytest.approx(720.0)
    t = r.time
    assert r["neut_TNF"].values[t == 400][0] > 0.99 and r["block_IL6R"].values[t == 400][0] > 0.99
    assert r["DAS28_CRP"].values[-1] < 3.2


def test_compare_command_writes_arms_and_bliss_synergy(tmp_path):
    import csv
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "compare",
                        str(root / "scenarios" / "ra_compare.yaml"), "-o", str(tmp_path), "-q"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    import golden

    golden.check("ra_compare.arms.csv", tmp_path / "arms.csv")
    rows = {r["arm"]: r for r in csv.DictReader((tmp_path / "arms.csv").open())}
    assert list(rows) == ["untreated", "adalimumab", "tocilizumab", "combination", "treat-to-target"]
    assert "day 645: change adalimumab: every 21 d" in rows["treat-to-target"]["therapies"]
    for col in ("damage_auc", "final_irreversible", "DAS28_CRP_week12", "DAS28_CRP_week24",
                "DAS28_CRP_week52", "infection_clearance_days", "infection_peak_inoculum"):
        assert col in rows["untreated"]
    f = {a: {k: float(v) for k, v in r.items() if k not in ("arm", "therapies", "status")}
         for a, r in rows.items()}
    for arm in ("adalimumab", "tocilizumab", "combination", "treat-to-target"):
        assert f[arm]["damage_auc"] < 0.7 * f["untreated"]["damage_auc"]
        assert f[arm]["final_irreversible"] < f["untreated"]["final_irreversible"]
    assert f["combination"]["DAS28_CRP_week52"] <= min(f["adalimumab"]["DAS28_CRP_week52"],
                                                        f["tocilizumab"]["DAS28_CRP_week52"])
    # Bliss independence recomputed from the table
    syn = json.loads((tmp_path / "comparison.json").read_text())["synergy"]
    y = {a: float(rows[a]["DAS28_CRP_week52"]) for a in rows}
    ea, eb, eab = (1 - y[a] / y["untreated"] for a in ("adalimumab", "tocilizumab", "combination"))
    assert syn["bliss_expected"] == pytest.approx(ea + eb - ea * eb, rel=1e-5)
    assert syn["bliss_synergy"] == pytest.approx(eab - (ea + eb - ea * eb), abs=1e-5)
    assert (tmp_path / "arms.png").read_bytes()[:4] == b"\x89PNG"


def test_arms_and_compare_are_validated():
    with pytest.raises(im.ImmunesimError) as e:
        validate({"disease": "ra", "arms": {"a": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                                   "every": "2 w"}], "b": "x"},
                  "compare": {"outcome": "DAS28", "weeks": [-1], "synergy": {"control": "a", "a": "a",
                                                                              "b": "c", "combination": "a"}}})
    text = "\n".join(e.value.problems)
    assert "arms.b: expected a list of regimens" in text
    assert "compare.outcome: 'DAS28' is not a variable; did you mean 'DAS28_CRP'?" in text
    assert "compare.weeks: expected a list of weeks >= 0" in text
    assert "compare.synergy.b: 'c' is not an arm" in text


def _t2t(rules, flare=None, end="3 years", therapies=None):
    from immunesim.scenario.strategy import run_strategy

    sc = validate({"disease": "ra", "time": {"end": end, "output_every": "1 day"},
                   "therapies": therapies if therapies is not None else
                   [{"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "14 d", "start": "365 d"}],
                   "treat_to_target": {"rules": rules, **({"flare": flare} if flare else {})}})
    return sc, run_strategy(sc, scenario_model(sc))


def test_a_rule_that_never_fires_leaves_the_run_unchanged():
    # integrating in segments between decision times must reproduce the one-piece run
    sc, (r, decisions, _) = _t2t([{"every": "4 w", "from": "365 d",
                                   "if": {"readout": "CRP", "above": 1000}, "then": {"stop": "adalimumab"}}])
    assert decisions == []
    plain = im.simulate(scenario_model(sc), np.asarray(sc.times), events=scenario_events(sc), **sc.solver)
    for v in ("DAS28_CRP", "adalimumab_C", "Irr"):
        np.testing.assert_allclose(r[v].values, plain[v].values, rtol=2e-4, atol=1e-8)


def test_switch_when_activity_stays_high_at_week_12():
    sc, (r, decisions, _) = _t2t([{"at": "449 d", "if": {"readout": "DAS28_CRP", "above": 2.0},
                                   "then": {"switch": {"from": "adalimumab", "to": {
                                       "drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                                       "infusion_hours": 1, "every": "4 w"}}}}])
    assert [d["action"] for d in decisions] == ["switch adalimumab -> tocilizumab"]
    assert decisions[0]["value"] == pytest.approx(float(r["DAS28_CRP"].values[r.time == 449][0]))
    t, toc, depot = r.time, r["tocilizumab_C"].values, r["adalimumab_Depot"].values
    assert np.all(toc[t < 449] == 0) and toc[t == 450][0] > 50       # first infusion on day 449
    # no adalimumab dose after the switch: the depot only empties
    assert np.all(np.diff(depot[t >= 449]) <= 1e-12)
    assert r["CRP"].values[t == 449 + 14][0] < 5


def test_interval_lengthening_and_time_to_flare_after_stopping():
    sc, (r, decisions, flare) = _t2t(
        [{"every": "4 w", "from": "365 d", "if": {"readout": "CRP", "below": 5, "for": "24 w"},
          "then": {"change": {"drug": "adalimumab", "every": "21 d"}}},
         {"at": "900 d", "then": {"stop": "adalimumab"}}],
        flare={"readout": "DAS28_CRP", "above": 3.2})
    change, stop = decisions
    assert change["action"].startswith("change adalimumab: every 21 d")
    t, c = r.time, r["adalimumab_C"].values
    crp = r["CRP"].values
    normal_since = t[np.flatnonzero(crp[t < change["time_day"]] >= 5)[-1] + 1]
    checks = 365 + 28 * np.arange(1, 40)
    assert change["time_day"] == checks[checks >= normal_since + 168][0]  # first check after 24 w normal
    before = c[(t > change["time_day"] - 42) & (t < change["time_day"])].min()
    after = c[(t > change["time_day"] + 63) & (t < 900)].min()
    assert after < 0.8 * before                                         # lower troughs at q3w
    assert stop["action"] == "stop adalimumab"
    assert r["DAS28_CRP"].values[t == 899][0] < 3.2
    assert 14 < flare < 365                                             # the disease returns
    assert r["DAS28_CRP"].values[t == 900 + flare][0] > 3.2


def test_a_stop_drops_single_and_loading_doses_not_yet_given():
    # a single infusion planned for day 420 (rituximab's second course dose, say) and a
    # loading dose after the decision are dropped by a stop on day 400, as repeating doses are
    single = Regimen.parse("rituximab", dose="1000 mg", route="iv", start="420 d", until="400 d")
    assert single.dose_times() == []
    loaded = Regimen.parse("tocilizumab", dose="8 mg/kg", route="iv", every="8 w", count=3,
                           loading="0,2,6 w", start="365 d", until="400 d")
    assert loaded.dose_times() == [365.0, 379.0]
    sc, (r, decisions, _) = _t2t(
        [{"at": "400 d", "then": {"stop": "rituximab"}}],
        therapies=[{"drug": "rituximab", "dose": "1000 mg", "route": "iv", "infusion_hours": 4, "start": "365 d"},
                   {"drug": "rituximab", "dose": "1000 mg", "route": "iv", "infusion_hours": 4, "start": "420 d"}])
    assert [d["action"] for d in decisions] == ["stop rituximab"]
    t, central = r.time, r["rituximab_Central"].values
    assert central[t == 366][0] > 0                                   # the first infusion was given
    assert np.all(np.diff(central[t >= 400]) <= 1e-9)                 # the second never comes


def test_treat_to_target_is_validated():
    with pytest.raises(im.ImmunesimError) as e:
        validate({"disease": "ra", "treat_to_target": {"rules": [
            {"at": "449 d", "every": "4 w", "then": {"stop": "adalimumab"}},
            {"at": "449 d", "if": {"readout": "DAS28", "above": 3.2}, "then": {"stop": "x"}},
            {"at": "449 d", "then": {"pause": "adalimumab"}},
            {"at": "449 d", "then": {"switch": {"from": "adalimumab", "to": {"drug": "tociluzimab",
                                                                             "dose": "8 mg/kg", "route": "iv"}}}},
        ]}})
    text = "\n".join(e.value.problems)
    assert "treat_to_target.rules[0]: give exactly one of at (a decision time) or every" in text
    assert "treat_to_target.rules[1].if.readout: 'DAS28' is not a variable; did you mean 'DAS28_CRP'?" in text
    assert "treat_to_target.rules[2].then: expected one action of stop, start, switch, change" in text
    assert "treat_to_target.rules[3].then.switch.to[0].drug: unknown drug 'tociluzimab'; did you mean 'tocilizumab'?" in text


def _onset(hla, therapies):
    """Days from the first dose to an autoimmune effector burst (Teff > 5 cells/uL), for a
    healthy person with ``hla`` risk alleles after a year untreated (at their own steady state)."""
    therapies = [{**th, "start": "365 d"} for th in therapies]
    sc, r = run({"disease": "healthy", "patient": {"covariates": {"hla_risk_alleles": hla}},
                 "time": {"end": "730 d", "output_every": "1 day"}, "therapies": therapies},
                drugs=["nivolumab", "ipilimumab"])          # one kernel for every arm
    assert r["Teff"].values[r.time == 364][0] < 1.0           # tolerant before the first dose
    hit = r.time[(r["Teff"].values > 5.0) & (r.time >= 365)]   # cells/uL: autoimmune effector burst
    return hit[0] - 365 if hit.size else None


NIVO = {"drug": "nivolumab", "dose": "240 mg", "route": "iv", "infusion_hours": 0.5, "every": "14 d"}
IPI = {"drug": "ipilimumab", "dose": "3 mg/kg", "route": "iv", "infusion_hours": 1.5, "every": "3 w",
       "count": 4}
COMBO = [{**NIVO, "dose": "1 mg/kg", "every": "3 w", "count": 4}, IPI]   # CheckMate 067 induction


def test_checkpoint_blockade_triggers_autoimmunity_more_often_and_sooner_in_combination():
    # a predisposed but healthy person (one HLA risk allele: tolerant, inside the bistable window):
    # anti-CTLA-4 recruits new clones at priming within weeks; anti-PD-1 acts on the few effectors
    # in the tissue and takes longer; the combination does both and comes first
    nivo, ipi, combo = _onset(1, [NIVO]), _onset(1, [IPI]), _onset(1, COMBO)
    assert None not in (nivo, ipi, combo)
    assert combo < ipi < nivo
    # without the risk allele neither drug alone breaks tolerance within a year; the combination does
    assert _onset(0, [NIVO]) is None and _onset(0, [IPI]) is None and _onset(0, COMBO) is not None


def _daily_baricitinib(solver=None):
    sc = {"name": "pk-atol", "disease": "ra", "time": {"end": "200 d", "output_every": "1 d"},
          "therapies": [{"drug": "baricitinib", "dose": "4 mg", "route": "oral", "every": "1 d",
                         "start": "100 d"},
                        {"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                         "infusion_hours": 1, "every": "4 w", "start": "100 d"}]}
    if solver is not None:
        sc["solver"] = solver
    return validate(sc)


def test_drug_amounts_are_integrated_to_pk_atol_without_changing_the_disease():
    """``solver.pk_atol`` (default 1e-6 mg) is the drugs' amounts' absolute tolerance: an oral
    drug's daily absorption transient no longer has to be followed down to 1e-9 mg (1 pg), which
    cost a third of the steps of a daily regimen and changed no readout beyond the solver's own
    error (README, "Scenario files")."""
    from immunesim.scenario.build import solver_options

    runs = {}
    for pk in (None, 1e-9):
        sc = _daily_baricitinib(None if pk is None else {"pk_atol": pk})
        model = scenario_model(sc)
        opts = solver_options(sc, model)
        runs[pk] = im.simulate(model, np.asarray(sc.times), events=scenario_events(sc), **opts)
        atol = np.asarray(opts["atol"])
        names = model.species_names
        pk_rows = [i for i, n in enumerate(names)
                   if n.split("_")[0] in ("baricitinib", "tocilizumab")
                   and n.split("_")[-1] in ("Depot", "Central", "Peripheral")]
        assert len(pk_rows) == 5 and np.all(atol[pk_rows] == (1e-6 if pk is None else 1e-9))
        assert np.all(np.delete(atol, pk_rows) == 1e-9)       # every other species: solver.atol
    steps = {k: int(r.dataset["n_steps"]) for k, r in runs.items()}
    assert steps[None] < 0.8 * steps[1e-9], steps
    for v in ("DAS28_CRP", "CRP", "Dmg", "Treg", "baricitinib_C", "tocilizumab_C"):
        a, b = runs[None][v].values, runs[1e-9][v].values
        assert np.max(np.abs(a - b) / (np.abs(b) + 1e-6)) < 1e-5, v


def test_pk_atol_is_checked_and_refused_where_there_are_no_library_drugs():
    import yaml

    from immunesim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=r"solver\.pk_atol: must be a number"):
        _daily_baricitinib({"pk_atol": -1})
    assert _daily_baricitinib({"pk_atol": 1e-8}).pk_atol == 1e-8
    assert _daily_baricitinib().hash != _daily_baricitinib({"pk_atol": 1e-8}).hash
    path = Path(__file__).parents[1] / "scenarios" / "sbml" / "crohns_il6_sgp130fc.yaml"
    data = yaml.safe_load(path.read_text())
    data["solver"] = {**(data.get("solver") or {}), "pk_atol": 1e-6}
    with pytest.raises(ScenarioError, match=r"solver\.pk_atol: applies to the library drugs"):
        validate(data, base=path.parent)
