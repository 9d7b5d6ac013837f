"""Every drug class of the library acting by its mechanism, checked against published numbers
and behaviours (issue #4): JAK selectivity, time-varying and target-mediated clearance,
immunosuppression's infection cost, low-dose IL-2, the classes side by side in RA, PD-1
agonism in MS and PDE4 inhibition in psoriasis."""

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import immunesim as im
from immunesim.diseases.readouts import infection_course
from immunesim.drugs import drug, drug_names
from immunesim.drugs.couple import effects
from immunesim.drugs.regimen import Regimen
from immunesim.drugs.simulate_pk import simulate_pk
from immunesim.scenario import load_scenario, validate
from immunesim.scenario.build import scenario_events, scenario_model

ROOT = Path(__file__).resolve().parents[1]

ISSUE_DRUGS = {"adalimumab", "infliximab", "etanercept", "certolizumab", "golimumab", "tocilizumab",
               "sarilumab", "tofacitinib", "baricitinib", "upadacitinib", "abatacept", "rituximab",
               "ipilimumab", "nivolumab", "pembrolizumab", "aldesleukin", "methotrexate",
               "prednisone", "apremilast", "fostamatinib"}


def test_library_has_every_drug_with_units_sources_and_a_target_the_model_exposes():
    assert ISSUE_DRUGS <= set(drug_names())
    hooks = {p.name for p in im.disease_model("healthy").parameters}
    for name in drug_names():
        d = drug(name)
        for e in d["pk"]["parameters"].values():
            assert e["unit"] and e["source"]
        for hook, ec50, source, _ in effects(d):
            assert hook in hooks, (name, hook)
            assert ec50 > 0 and source


def _mean_pathway_inhibition(name, dose, every):
    """Mean inhibition of each JAK-pair pathway over a steady-state dosing interval."""
    reg = Regimen.parse(name, dose=dose, route="oral", every=every, count=20)
    t, c, m = simulate_pk(reg, days=reg.dose_times()[-1] + reg.every)
    last = (t >= m["last_dose_day"]) & (t <= m["last_dose_day"] + m["interval_days"])
    inh = {hook[4:]: c[last] / (c[last] + ec50) for hook, ec50, _, _ in effects(drug(name))}
    pair = {"IL6": ("JAK1", "JAK2"), "IL2": ("JAK1", "JAK3"), "IL12": ("JAK2", "TYK2")}
    return {k: float(np.mean(1 - (1 - inh[a]) * (1 - inh[b]))) for k, (a, b) in pair.items()}


def test_jak_inhibitors_hit_cytokine_pathways_by_their_per_jak_selectivity():
    tofa = _mean_pathway_inhibition("tofacitinib", "5 mg", "12 h")
    bari = _mean_pathway_inhibition("baricitinib", "4 mg", "1 d")
    upa = _mean_pathway_inhibition("upadacitinib", "15 mg", "1 d")
    # calibration: the approved RA doses inhibit IL-6 (JAK1/JAK2) signalling alike (Dowty et
    # al. 2019, doi:10.1002/prp2.537), set at 50 % on average
    for x in (tofa, bari, upa):
        assert x["IL6"] == pytest.approx(0.5, abs=0.03)
    # from there the measured per-JAK IC50s decide the rest: tofacitinib and upadacitinib are
    # the stronger inhibitors of JAK1/JAK3 (IL-2) signalling, baricitinib the weakest (McInnes
    # et al. 2019, Arthritis Res Ther 21:183, doi:10.1186/s13075-019-1964-1)
    assert tofa["IL2"] > upa["IL2"] > bari["IL2"]
    assert tofa["IL2"] > 0.55 and bari["IL2"] < 0.35
    # upadacitinib (JAK1-selective) spares JAK2/TYK2 (IL-12/23) the most
    assert upa["IL12"] < min(tofa["IL12"], bari["IL12"])


def test_time_varying_clearance_of_pembrolizumab_matches_the_label():
    # KEYTRUDA label 12.3: clearance 252 mL/day after the first dose, 195 mL/day (~23 % lower)
    # at steady state; accumulation 2.1-fold with 200 mg every 3 weeks
    first = simulate_pk(Regimen.parse("pembrolizumab", dose="200 mg", route="iv"), days=400)[2]
    ss = simulate_pk(Regimen.parse("pembrolizumab", dose="200 mg", route="iv", every="21 d",
                                   count=18), days=18 * 21)[2]
    assert 200.0 / first["auc_tau_ug_day_per_ml"] == pytest.approx(0.252, rel=0.10)
    assert 200.0 / ss["auc_tau_ug_day_per_ml"] == pytest.approx(0.195, rel=0.05)
    # the effective clearance after the full time course is ~23 % below the first dose's
    # (AUC over the first interval: half-life 22 days, so the interval holds 48 % of the dose)
    one = simulate_pk(Regimen.parse("pembrolizumab", dose="200 mg", route="iv"), days=21)[2]
    assert ss["auc_tau_ug_day_per_ml"] / one["auc_tau_ug_day_per_ml"] == pytest.approx(2.1, rel=0.20)


def test_sarilumab_target_mediated_clearance_gives_supra_proportional_exposure():
    # KEVZARA label 12.3: steady state at 150 vs 200 mg every 2 weeks, AUC 210 vs 396 mg*day/L
    # (1.89x for 1.33x the dose), Cmin 6.95 vs 16.7 mg/L
    lo = simulate_pk(Regimen.parse("sarilumab", dose="150 mg", route="sc", every="14 d", count=12), 168)[2]
    hi = simulate_pk(Regimen.parse("sarilumab", dose="200 mg", route="sc", every="14 d", count=12), 168)[2]
    assert hi["auc_tau_ug_day_per_ml"] / lo["auc_tau_ug_day_per_ml"] == pytest.approx(1.89, rel=0.08)
    assert hi["trough_ug_per_ml"] / lo["trough_ug_per_ml"] > 2.4                  # label 2.4x
    # the typical patient sits below the label's arithmetic means (log-normal spread)
    assert hi["auc_tau_ug_day_per_ml"] == pytest.approx(396, rel=0.20)
    assert lo["auc_tau_ug_day_per_ml"] == pytest.approx(210, rel=0.20)


def _healthy_on(therapies, days=60.0, challenge_at=None):
    sc = validate({"disease": "healthy", "time": {"end": f"{days} d", "output_every": "1 h"},
                   "therapies": therapies})
    events = list(scenario_events(sc))
    if challenge_at is not None:
        events.append(im.Bolus(time=challenge_at, target="Pathogen", amount=1.0))
    # one model with every drug of these tests (undosed drugs stay at zero): one kernel for all
    r = im.simulate(scenario_model(sc, drugs=["tofacitinib", "prednisone", "methotrexate"]), np.asarray(sc.times),
                    events=events, **sc.solver)
    assert r.ok, r.message
    return r


TOFACITINIB = [{"drug": "tofacitinib", "dose": "5 mg", "route": "oral", "every": "12 h", "until": "60 d"}]
PREDNISONE = [{"drug": "prednisone", "dose": "10 mg", "route": "oral", "every": "1 d", "until": "60 d"}]
METHOTREXATE = [{"drug": "methotrexate", "dose": "15 mg", "route": "oral", "every": "7 d", "until": "60 d"}]


@pytest.fixture(scope="module")
def untreated():
    return _healthy_on([], challenge_at=30.0)


def _window(r, a, b, name):
    t = r.time
    return r[name].values[(t >= a) & (t < b)]


def test_jak_inhibition_lowers_treg_il2_signalling_as_well_as_effector_signalling(untreated):
    r = _healthy_on(TOFACITINIB, challenge_at=30.0)
    for v in ("sig_IL2_treg", "sig_IL2_eff", "sig_IL6", "sig_IFNg"):
        on, off = _window(r, 20, 27, v).mean(), _window(untreated, 20, 27, v).mean()
        assert on < 0.7 * off, v                     # JAK1/JAK3 and JAK1/JAK2 pathways alike
    # IL-2 itself rises (less consumed), yet Tregs receive less of its signal
    assert _window(r, 20, 27, "IL2").mean() > _window(untreated, 20, 27, "IL2").mean()
    # and the infection cost: the challenge at day 30 clears more slowly
    base = infection_course(untreated.time - 30, untreated["Pathogen"].values)
    slow = infection_course(r.time - 30, r["Pathogen"].values)
    assert slow["clearance_time"] > 1.3 * base["clearance_time"]


def test_tregs_il2_signalling_is_less_sensitive_to_tofacitinib_than_the_effectors(untreated):
    """Sewgobind et al. 2010 (Am J Transplant 10:1785, doi:10.1111/j.1600-6143.2010.03200.x):
    tofacitinib's IC50 for IL-2-induced STAT5 phosphorylation is 2.6-fold higher in CD25-bright
    Tregs than in effector T cells (104 vs 40 ng/mL). The model shifts the common-gamma-chain
    JAK factor's IC50 by that fold for the Tregs: with Hill 1, inhibition/(1 - inhibition) of
    the effectors' factor is 2.6 times that of the Tregs' at every drug level."""
    r = _healthy_on(TOFACITINIB, challenge_at=30.0)
    eff, treg = 1 - r["jak_gc"].values, 1 - r["jak_treg"].values
    assert np.all(untreated["jak_treg"].values == 1.0)              # no drug, no shift
    on = eff > 0.05
    assert on.sum() > 100
    np.testing.assert_allclose(eff[on] / (1 - eff[on]), 2.6 * treg[on] / (1 - treg[on]), rtol=1e-9)
    # over a dosing interval here the Tregs lose ~41 % of their IL-2 signalling against the
    # effectors' ~60 % (at the paper's clinical exposure the effectors lost 84 %, the Tregs 51 %)
    window = (r.time >= 20) & (r.time < 27)
    assert treg[window].mean() < 0.75 * eff[window].mean()
    assert treg[window].mean() > 0.25                                 # still inhibited


@pytest.mark.parametrize("therapy", [PREDNISONE, METHOTREXATE], ids=["prednisone", "methotrexate"])
def test_conventional_immunosuppressants_slow_pathogen_clearance(untreated, therapy):
    r = _healthy_on(therapy, challenge_at=30.0)
    base = infection_course(untreated.time - 30, untreated["Pathogen"].values)
    slow = infection_course(r.time - 30, r["Pathogen"].values)
    assert slow["clearance_time"] > 1.3 * base["clearance_time"]
    assert slow["peak"] > base["peak"]


def test_low_dose_il2_expands_tregs_selectively_in_sle():
    sc = load_scenario(ROOT / "scenarios" / "sle_low_dose_il2.yaml")
    r = im.simulate(scenario_model(sc), np.asarray(sc.times), events=scenario_events(sc), **sc.solver)
    assert r.ok, r.message
    t = r.time
    at = lambda v, day: r[v].values[np.argmin(np.abs(t - day))]       # noqa: E731
    # CD25-high Tregs see the low dose, CD25-low effectors hardly (100x affinity difference)
    assert r["agon_IL2_treg"].values.max() > 0.3
    assert r["agon_IL2_eff"].values.max() < 0.02
    assert r["agon_IL2_treg"].values.max() > 20 * r["agon_IL2_eff"].values.max()
    # He et al. 2016: Tregs expand within a cycle (blood counts: the body's pool) and fall back
    # between cycles; the Tregs of this response expand with them
    assert at("Treg_body", 378) > 2.0 and at("Treg_body", 392) < 0.8 * at("Treg_body", 378)
    assert at("Treg", 378) > 1.5 * at("Treg", 364)
    # effectors and autoantibodies fall, complement recovers: modestly, because inflammation
    # leaves Tregs little potency in established SLE (tcells: treg_potency); since the bounded
    # Treg expansion (issue #21) the SLEDAI-2K of this one patient no longer crosses a threshold
    assert at("Teff", 378) < 0.8 * at("Teff", 364) and at("Teff", 435) < 0.8 * at("Teff", 364)
    assert at("anti_dsDNA", 435) < 0.95 * at("anti_dsDNA", 364) and at("C3", 435) > at("C3", 364)
    assert at("SLEDAI_2K", 435) <= at("SLEDAI_2K", 364)


def test_daily_low_dose_il2_expands_tregs_a_few_fold_bounded_and_fading_after_the_course():
    """Koreth et al. 2016 (Blood 128:130, doi:10.1182/blood-2016-02-702852): daily 1 MIU/m2
    for 12 weeks raised Treg counts more than fivefold, and they fell during the 4-week hiatus;
    plasma IL-2 and Treg proliferation fall over the weeks of daily dosing (Whangbo et al.
    2019, doi:10.1182/bloodadvances.2019000631). Before the body's pool took up the dose,
    daily dosing expanded Tregs ~800-fold by week 4 and without bound."""
    sc = load_scenario(ROOT / "scenarios" / "sle_low_dose_il2.yaml")
    # 1 MIU/m2 x 1.7 m2 = 1.7 MIU ~ 0.1 mg (PROLEUKIN: 22 MIU per 1.3 mg), daily for 12 weeks
    daily = Regimen.parse("aldesleukin", dose="0.1 mg", route="sc", every="1 d", count=84, start="365 d")
    sc = dataclasses.replace(sc, therapies=(daily,))
    r = im.simulate(scenario_model(sc), np.asarray(sc.times), events=scenario_events(sc), **sc.solver)
    assert r.ok, r.message
    t = r.time
    at = lambda v, day: r[v].values[np.argmin(np.abs(t - day))]       # noqa: E731
    assert at("Treg_body", 364) == 1.0                                # untreated: the set point
    fold = {w: at("Treg_body", 365 + 7 * w) for w in (4, 8, 12, 16)}
    assert 4.0 < fold[12] < 10.0, fold                                # a few-fold, > 5 published
    assert fold[12] < 1.15 * fold[8], fold                            # bounded: a plateau
    assert fold[16] - 1 < 0.4 * (fold[12] - 1), fold                  # fading after the course
    # the Tregs of this response stay within a few-fold too, and effectors are not expanded
    treg = r["Treg"].values[(t >= 365) & (t <= 365 + 84)]
    assert treg.max() < 5.0 * at("Treg", 364)
    assert at("Teff", 365 + 84) < at("Teff", 364)


def _compare(tmp_path, scenario: dict) -> dict:
    """Run `immunesim compare` on ``scenario`` as a user would; the arms.csv rows by arm."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "compare", str(path), "-o",
                        str(tmp_path / "out"), "-q"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    with (tmp_path / "out" / "arms.csv").open() as f:
        return {row["arm"]: row for row in csv.DictReader(f)}


def _example(name: str, arms) -> dict:
    data = yaml.safe_load((ROOT / "scenarios" / name).read_text())
    data["arms"] = {k: data["arms"][k] for k in arms}
    data["compare"].pop("synergy", None)
    return data


def test_ra_drug_classes_compared_on_one_patient(tmp_path):
    # costimulation blockade, JAK inhibition and B-cell depletion (the TNF and IL-6R arms are
    # those of ra_compare.yaml, run by test_therapies); each arm compiles its own kernel
    rows = _compare(tmp_path, _example("ra_drug_classes.yaml",
                                       ("untreated", "abatacept", "tofacitinib", "rituximab")))
    import golden

    golden.check("ra_drug_classes.arms.csv", tmp_path / "out" / "arms.csv")
    das = {a: {w: float(r[f"DAS28_CRP_week{w}"]) for w in (12, 24, 52)} for a, r in rows.items()}
    clear = {a: float(r["infection_clearance_days"]) for a, r in rows.items()}
    auc = {a: float(r["damage_auc"]) for a, r in rows.items()}
    assert das["untreated"][24] > 5.1                                # high activity
    # a EULAR response (DAS28 down by > 1.2; van Gestel et al. 1996, doi:10.1002/art.1780390105)
    # with each class: costimulation, JAK1/JAK3 (IL-6, IFN-gamma, gamma-chain cytokines) by week
    # 24, and B cells as antigen-presenting cells (REFLEX, doi:10.1002/art.22025) at week 12.
    # Since the RA preset's injury has an IL-6-driven share (k_inj_IL6, 2026-12-06), which B-cell
    # depletion and costimulation blockade reach only through the T cells, this patient's
    # rituximab response peaks by week 12 and is fading at week 24 (REFLEX's mean change at week
    # 24 was -1.9), and abatacept leaves low-to-moderate activity (it was < 3.2 before)
    for arm in ("abatacept", "tofacitinib"):
        assert das[arm][24] < das["untreated"][24] - 1.2, arm
        assert auc[arm] < 0.8 * auc["untreated"], arm
    assert das["rituximab"][12] < das["untreated"][12] - 1.2
    assert das["rituximab"][24] < das["untreated"][24] - 0.6
    assert auc["rituximab"] < 0.95 * auc["untreated"]
    assert das["abatacept"][24] < 3.5
    # one course of rituximab: activity returns as B cells repopulate (6-9 months), hence retreatment
    assert das["rituximab"][52] > das["rituximab"][24] + 1.0
    # infection cost: JAK1/JAK3 inhibition slows clearance; costimulation blockade and B-cell
    # depletion spare this (T-cell-dependent) challenge
    assert clear["tofacitinib"] > 1.3 * clear["untreated"]
    assert clear["abatacept"] == clear["untreated"] == clear["rituximab"]


def test_pd1_agonism_lowers_ms_lesion_load(tmp_path):
    from immunesim.scenario.compare import compare

    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(_example("ms_checkpoint_agonism.yaml", ("untreated", "peresolimab"))))
    c = compare(im.load_scenario(path))
    t = c.trajectories["time"].values
    treated = t >= 730.5                              # two untreated years, then two treated
    lesion = {a: c.trajectories["lesion_load"].sel(arm=a).values[treated] for a in ("untreated", "peresolimab")}
    relapses = {a: int((np.diff((v > 10).astype(int)) == 1).sum()) for a, v in lesion.items()}
    irr = c.arms["final_irreversible"]
    # PD-1 engaged without its ligands raises the activation threshold of autoreactive T cells:
    # the next relapses come later (Tregs must fall further first), so fewer relapses and less
    # inflamed white matter over the treated years (a mean: a single week depends on the phase
    # of the relapse cycle), and less axonal loss
    assert relapses["peresolimab"] < relapses["untreated"]
    assert lesion["peresolimab"].mean() < 0.7 * lesion["untreated"].mean()
    assert irr["peresolimab"] < irr["untreated"]


def test_apremilast_clears_psoriasis_without_slowing_pathogen_clearance(tmp_path):
    therapy = {"drug": "apremilast", "dose": "30 mg", "route": "oral", "every": "12 h",
               "start": "365 d", "until": "2 years"}
    rows = _compare(tmp_path, {
        "name": "psoriasis-apremilast", "disease": "psoriasis",
        "time": {"end": "2 years", "output_every": "1 day"},
        "arms": {"untreated": [], "apremilast": [therapy]},
        "compare": {"outcome": "PASI", "weeks": [16], "from": "365 d", "challenge_at": "421 d"}})
    pasi = {a: float(r["PASI_week16"]) for a, r in rows.items()}
    clear = {a: float(r["infection_clearance_days"]) for a, r in rows.items()}
    # this patient reaches PASI-75 by week 16 (ESTEEM 1: 33 % of patients did, mean PASI -55 %;
    # Papp et al. 2015, doi:10.1016/j.jaad.2015.03.049): PDE4 inhibition lowers IL-23/IL-17
    assert pasi["apremilast"] < 0.25 * pasi["untreated"]
    # PDE4 inhibition lowers cytokine production by about half, not T-cell expansion: no
    # serious-infection signal in the label, and the challenge clears as fast
    assert clear["apremilast"] <= 1.2 * clear["untreated"]
