"""Virtual populations and trials: statistics against published values and closed forms,
sampling against its specification, and `immunesim trial` end to end (local, resumed, Dask)."""

import json
import shutil

import golden
import numpy as np
import pytest
import yaml
from scipy import stats as sst

from immunesim.cli import main
from immunesim.cohort import open_trajectories, stats
from immunesim.cohort.calibrate import calibrate
from immunesim.scenario.build import scenario_model
from immunesim.scenario.population import BLOCK
from immunesim.scenario.schema import ScenarioError, validate


# -- statistics ----------------------------------------------------------------------------
@pytest.mark.parametrize("k,n,lo,hi", [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
                                       (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_interval_matches_newcombe_1998(k, n, lo, hi):
    # Newcombe 1998, Stat Med 17:857, Table I, method 3 (score interval without correction)
    a, b = stats.wilson(k, n)
    assert a == pytest.approx(lo, abs=5e-5) and b == pytest.approx(hi, abs=5e-5)


def test_paired_difference_interval_covers_95_percent():
    # correlated paired outcomes (the same virtual patients in two arms), true difference 0.15
    rng = np.random.default_rng(3)
    n, reps, hits = 80, 1500, 0
    for _ in range(reps):
        u = rng.random(n)
        x1, x2 = u < 0.55, u < 0.40          # strongly paired: x2 implies x1
        flip = rng.random(n) < 0.1           # some discordance the other way
        x2 = np.where(flip, ~x2, x2)
        true = 0.55 - (0.40 * 0.9 + 0.60 * 0.1)
        d, lo, hi = stats.paired_difference(x1, x2)
        hits += lo <= true <= hi
    assert 0.93 <= hits / reps <= 0.975


def test_nnt_and_its_interval_follow_altman():
    v, text = stats.nnt(0.25, 0.1, 0.4)
    assert v == pytest.approx(4.0) and text == "2.5 to 10.0"
    assert "inf" in stats.nnt(0.05, -0.05, 0.15)[1]      # interval through zero: NNTH ... NNTB


def test_kaplan_meier_against_hand_computation():
    km = stats.kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0], [0.5, 1, 2, 3, 4])
    assert np.allclose(km["s"], [1.0, 0.8, 0.6, 0.3, 0.3])
    # log(-log) Greenwood interval at S = 0.8 (n = 5, one event): 0.8^exp(+-1.96 * 1.0022)
    se = np.sqrt(1 / 20) / abs(np.log(0.8))
    assert km["ci_low"][1] == pytest.approx(0.8 ** np.exp(1.959964 * se), rel=1e-6)


def test_roc_auc_is_the_mann_whitney_probability_and_the_binormal_value():
    rng = np.random.default_rng(1)
    y = rng.random(20000) < 0.4
    x = rng.normal(size=y.size) + 1.0 * y        # binormal, unit separation: AUC = Phi(1/sqrt 2)
    auc, se = stats.roc_auc(x, y)
    assert auc == pytest.approx(sst.norm.cdf(1 / np.sqrt(2)), abs=0.01)
    u = sst.mannwhitneyu(x[y], x[~y]).statistic
    assert auc == pytest.approx(u / (y.sum() * (~y).sum()), rel=1e-12)
    assert 0 < se < 0.01


def test_calibration_meets_reachable_targets_and_reports_unreachable_ones():
    rng = np.random.default_rng(2)
    F = rng.random((2000, 2)) < [0.3, 0.7]
    fit = calibrate(F, np.array([0.5, 0.6]), seed=1)
    assert np.allclose(fit["achieved"], [0.5, 0.6], atol=1e-6) and fit["converged"]
    assert 100 < fit["ess"] < 2000
    assert np.allclose(fit["selected_rates"], [0.5, 0.6], atol=0.05)   # Allen-style selection
    bad = calibrate(np.zeros((100, 1), bool), np.array([0.3]), seed=1)  # nobody responds
    assert not bad["converged"] and bad["residual"][0] == pytest.approx(-0.3)


# -- populations ----------------------------------------------------------------------------
POP = {"disease": "ra", "time": {"end": "77 w", "output_every": "1 w"}, "parameters": {"k_inj_TNF": 0.1},
       "arms": {"placebo": [], "adalimumab": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc",
                                               "every": "14 d", "start": "365 d"}]},
       "population": {"size": 10, "parameters": {"k_inj_TNF": {"lognormal": 0.5},
                                                 "p_TNF_mac": {"lognormal": {"cv": 0.3, "median": 5.0}},
                                                 "w_b_apc": {"uniform": [0.5, 1.5]}},
                      "correlation": [[1, 0.6, 0], [0.6, 1, 0], [0, 0, 1]],
                      "covariates": {"body_weight": {"normal": [76, 16]}, "sex": {"female": 0.8},
                                     "genotypes": {"ctla4_risk_alleles": 0.4}}},
       "trial": {"baseline": "365 d", "weeks": 24,
                 "endpoints": {"ACR20": {"readout": "DAS28_CRP", "improvement": 0.2, "weeks": [24]}}}}


def test_population_draws_follow_their_specification_and_do_not_depend_on_chunking():
    sc = validate(POP)
    model = scenario_model(sc, drugs=sc.arm_drugs())
    P, cov = sc.population.draw(7, 0, 200, model, sc.arm_drugs(), sc.parameters)
    k = {n: P[:, model.parameter_index[n]] for n in ("k_inj_TNF", "p_TNF_mac", "w_b_apc", "m_ctla4")}
    x = k["k_inj_TNF"]
    assert np.median(x) == pytest.approx(0.1, rel=0.03)   # the median: the scenario's override of 0.08
    assert np.std(x) / np.mean(x) == pytest.approx(0.5, rel=0.06)
    assert np.median(k["p_TNF_mac"]) == pytest.approx(5.0, rel=0.03)
    assert k["w_b_apc"].min() >= 0.5 and k["w_b_apc"].max() <= 1.5
    # Gaussian copula: Spearman rho = (6/pi) asin(r/2) for normal-score correlation r
    rho = sst.spearmanr(k["k_inj_TNF"], k["p_TNF_mac"]).statistic
    assert rho == pytest.approx(6 / np.pi * np.arcsin(0.3), abs=0.03)
    assert abs(sst.spearmanr(k["k_inj_TNF"], k["w_b_apc"]).statistic) < 0.03
    assert cov["female"].mean() == pytest.approx(0.8, abs=0.015)
    assert cov["ctla4_risk_alleles"].mean() == pytest.approx(0.8, abs=0.03)   # 2p, Hardy-Weinberg
    assert np.allclose(k["m_ctla4"], 0.85 ** cov["ctla4_risk_alleles"])
    assert np.allclose(P[:, model.parameter_index["body_weight"]], cov["body_weight"])
    # the same candidates whatever the grouping into chunks
    P2, _ = sc.population.draw(7, 3, 2, model, sc.arm_drugs(), sc.parameters)
    assert np.array_equal(P2, P[3 * BLOCK:5 * BLOCK])


def test_bad_population_and_trial_fields_are_named():
    bad = json.loads(json.dumps(POP))
    bad["population"]["parameters"]["k_inj_TNFF"] = {"lognormal": 0.3}
    bad["population"]["parameters"]["w_b_apc"] = {"gamma": 2}
    bad["population"]["correlation"] = [[1, 2], [2, 1]]
    bad["population"]["constraints"] = [{"readout": "DAS28CRP", "above": 5.1}]
    bad["trial"]["endpoints"]["ACR20"]["weeks"] = [30]
    bad["trial"]["control"] = "plac"
    bad["trial"]["chunk"] = 100
    with pytest.raises(ScenarioError) as e:
        validate(bad)
    text = "\n".join(e.value.problems)
    for part in ("population.parameters.k_inj_TNFF: not a parameter of the model; did you mean 'k_inj_TNF'?",
                 "population.parameters.w_b_apc: expected one of {lognormal: CV}",
                 "population.correlation: shape (2, 2), expected (4, 4)",
                 "population.constraints[0].readout: 'DAS28CRP' is not a variable of the model; did you mean 'DAS28_CRP'?",
                 "trial.endpoints.ACR20.weeks: week 30 is after the trial's end (week 24)",
                 "trial.control: 'plac' is not an arm", "trial.chunk: expected a positive multiple of 64"):
        assert part in text, text
    early = json.loads(json.dumps(POP))
    early["arms"]["adalimumab"][0]["start"] = "300 d"
    with pytest.raises(ScenarioError, match=r"arms.adalimumab\[0\].start: the first dose \(day 300\) is before"):
        validate(early)


# -- immunesim trial, end to end ----------------------------------------------------------------
TRIAL = {
    "name": "ra-trial-test", "disease": "ra", "seed": 11,
    "time": {"end": "77 w", "output_every": "1 w"},
    "arms": {"placebo": [],
             "adalimumab": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "14 d",
                             "start": "365 d"}],
             "tocilizumab": [{"drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                              "infusion_hours": 1, "every": "4 w", "start": "365 d"}],
             "treat-to-target": {   # adalimumab; switch to tocilizumab at week 12 if DAS28-CRP > 3.2
                 "therapies": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "14 d",
                                "start": "365 d"}],
                 "treat_to_target": {"rules": [{"at": "449 d", "if": {"readout": "DAS28_CRP", "above": 3.2},
                                                "then": {"switch": {"from": "adalimumab", "to": {
                                                    "drug": "tocilizumab", "dose": "8 mg/kg", "route": "iv",
                                                    "infusion_hours": 1, "every": "4 w"}}}}]}}},
    "population": {"size": 60, "parameters": {"m_hla": {"lognormal": 0.6},   # some stay tolerant: two chunks
                                              "k_inj_TNF": {"lognormal": 0.6},
                                              "p_TNF_mac": {"lognormal": 0.5},
                                              "p_IL6_dmg": {"lognormal": 0.5}},
                   "covariates": {"body_weight": {"normal": [76, 16]}, "sex": {"female": 0.8}},
                   "constraints": [{"readout": "DAS28_CRP", "above": 5.1},
                                   {"readout": "CRP", "between": [5, 100]}]},
    "trial": {"baseline": "365 d", "weeks": 24, "control": "placebo", "chunk": 64,
              "endpoints": {"ACR20": {"readout": "DAS28_CRP", "improvement": 0.2, "weeks": [12, 24]},
                            "progression": {"readout": "Irr", "increase_above": 0.005, "weeks": [24]},
                            "flare_free": {"readout": "DAS28_CRP", "flare_above": 3.2, "after_week": 12},
                            "infection": {"challenge_week": 8, "cleared_within": "7 d"}},
              "variables": ["DAS28_CRP", "CRP"], "biomarkers": ["CRP", "TNF", "IL6", "DAS28_CRP"],
              "calibration": [{"arm": "adalimumab", "endpoint": "ACR20", "week": 24, "rate": 0.35}]},
}


def _write(tmp_path, data, name="trial.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _csv(path):
    import pandas as pd

    return pd.read_csv(path)


@pytest.fixture(scope="module")
def local_trial(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trial")
    path = _write(tmp, TRIAL)
    assert main(["trial", str(path), "-o", str(tmp / "out"), "-q"]) == 0
    return tmp, path


def test_trial_writes_arm_rates_with_intervals_paired_differences_and_nnt(local_trial):
    tmp, _ = local_trial
    out = tmp / "out"
    arms = _csv(out / "arms.csv")
    assert list(arms.columns[:8]) == ["arm", "endpoint", "week", "n", "responders", "rate", "ci_low", "ci_high"]
    acr = arms[(arms.endpoint == "ACR20") & (arms.week == 24)].set_index("arm")
    assert (acr.n == 60).all()
    assert np.allclose(acr.rate, acr.responders / acr.n)
    assert ((acr.ci_low <= acr.rate) & (acr.rate <= acr.ci_high)).all()
    for arm in ("adalimumab", "tocilizumab"):       # each drug beats placebo, and says by how much
        assert acr.rate[arm] > acr.rate["placebo"] + 0.3
        assert acr.diff_ci_low[arm] > 0
        assert acr.nnt[arm] == pytest.approx(1 / acr.diff_vs_control[arm], rel=1e-5)   # 6 digits in the csv
    prog = arms[arms.endpoint == "progression"].set_index("arm")
    assert prog.rate["placebo"] > prog.rate["adalimumab"]       # erosions slow on treatment
    patients = _csv(out / "patients.csv")
    assert len(patients) == 60 * 4
    assert set(patients.arm) == {"placebo", "adalimumab", "tocilizumab", "treat-to-target"}
    assert (patients.baseline_CRP > 5).all()                    # the constraints held at baseline
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["patients"] == 60 and 0 < manifest["execution_acceptance_rate"] < 1
    traj = open_trajectories(out)
    assert traj.sizes["patient"] == 60 and traj.sizes["arm"] == 4
    np.testing.assert_allclose(traj["trajectory"].sel(arm="placebo", variable="CRP").isel(time=0).values,
                               patients[patients.arm == "placebo"].baseline_CRP.to_numpy(), rtol=1e-5)
    traj.close()
    for fig in ("waterfall.png", "bands.png", "km.png", "efficacy_safety.png"):
        assert (out / fig).stat().st_size > 5000


def test_trial_calibration_biomarkers_and_infection_cost(local_trial):
    tmp, _ = local_trial
    summary = json.loads((tmp / "out" / "trial.json").read_text())
    target = summary["calibration"]["targets"][0]
    assert target["achieved"] == pytest.approx(0.35, abs=1e-3)
    assert 1 < summary["calibration"]["effective_sample_size"] < 60
    arms = _csv(tmp / "out" / "arms.csv")
    row = arms[(arms.arm == "adalimumab") & (arms.endpoint == "ACR20") & (arms.week == 24)].iloc[0]
    assert row.calibrated_rate == pytest.approx(0.35, abs=1e-3)
    bio = _csv(tmp / "out" / "biomarkers.csv")
    assert {"CRP", "TNF", "IL6"} <= set(bio.biomarker)
    # the AUC of baseline CRP for adalimumab response, recomputed from patients.csv
    p = _csv(tmp / "out" / "patients.csv").query("arm == 'adalimumab'")
    y = p.ACR20_24_responder.to_numpy() > 0.5
    u = sst.mannwhitneyu(p.baseline_CRP[y], p.baseline_CRP[~y]).statistic / (y.sum() * (~y).sum())
    row = bio[(bio.biomarker == "CRP") & (bio.arm == "adalimumab")].iloc[0]
    assert row.auc == pytest.approx(u, abs=1e-5)
    rule = summary["personalised_rule"]
    assert rule["rule"].startswith("if baseline ") and rule["n_train"] + rule["n_test"] == 60
    risk = summary["infection_risk"]
    assert set(risk) == {"placebo", "adalimumab", "tocilizumab", "treat-to-target"}
    assert all(0 < r["mean_clearance_days"] < 7 * 16 for r in risk.values())
    front = summary["pareto_front"]
    assert front and set(front) <= set(risk)


def test_killed_trial_resumes_to_identical_results(local_trial, tmp_path):
    tmp, path = local_trial
    (tmp_path / "out" / "trajectories").mkdir(parents=True)
    for f in ("chunk-00000.nc", "chunk-00000.nc.sha256"):
        shutil.copy(tmp / "out" / "trajectories" / f, tmp_path / "out" / "trajectories")
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q"]) == 2   # refuses without --resume
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--resume"]) == 0
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["execution_chunks_reused"] == 1 and m["execution_chunks_computed"] >= 1
    for f in ("arms.csv", "patients.csv", "biomarkers.csv"):
        assert (tmp_path / "out" / f).read_text() == (tmp / "out" / f).read_text()
    # a chunk of another trial (different seed) is refused, not mixed in
    other = _write(tmp_path, {**TRIAL, "seed": 12}, "other.yaml")
    with pytest.raises(Exception, match="written by a different trial"):
        from immunesim.cohort.trial import execute
        from immunesim.scenario import load_scenario

        execute(load_scenario(other), tmp_path / "out", resume=True)


def test_resume_recomputes_a_damaged_chunk_instead_of_reading_it(local_trial, tmp_path):
    tmp, path = local_trial
    shutil.copytree(tmp / "out" / "trajectories", tmp_path / "out" / "trajectories")
    chunk = tmp_path / "out" / "trajectories" / "chunk-00000.nc"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = bytes(4096)     # a zeroed data block
    chunk.write_bytes(bytes(data))
    from immunesim.cohort.trial import chunk_intact

    assert "do not match its checksum" in chunk_intact(chunk)
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--resume"]) == 0
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["execution_chunks_damaged_recomputed"] == ["chunk-00000.nc"]
    assert m["execution_chunks_computed"] == 1 and chunk_intact(chunk) is None
    for f in ("arms.csv", "patients.csv"):
        assert (tmp_path / "out" / f).read_text() == (tmp / "out" / f).read_text()


def test_a_trial_where_every_patient_fails_an_arm_exits_3_with_its_results(tmp_path):
    # hourly adalimumab: thousands of dose events, beyond max_steps for every patient in that
    # arm, while the run-in and the other arms finish (the drugs are TRIAL's: same kernel)
    data = json.loads(json.dumps(TRIAL))
    data["arms"] = {"placebo": [],
                    "hourly": [{"drug": "adalimumab", "dose": "40 mg", "route": "sc", "every": "1 h",
                                "start": "365 d"}],
                    "tocilizumab": TRIAL["arms"]["tocilizumab"]}
    data["solver"] = {"max_steps": 3000}
    data["population"]["size"] = 4
    data["trial"]["endpoints"] = {"ACR20": TRIAL["trial"]["endpoints"]["ACR20"]}
    data["trial"]["calibration"] = [{"arm": "tocilizumab", "endpoint": "ACR20", "week": 24, "rate": 0.5}]
    path = _write(tmp_path, data)
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q"]) == 3
    summary = json.loads((tmp_path / "out" / "trial.json").read_text())
    assert "no patient completed every arm" in summary["calibration"]["skipped"]
    assert {f["arm"] for f in summary["failures"]} == {"hourly"}
    assert (_csv(tmp_path / "out" / "arms.csv").n == 0).all()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["patients_excluded"] == 4


def test_dask_local_cluster_gives_identical_results(local_trial, tmp_path):
    pytest.importorskip("distributed")
    tmp, path = local_trial
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--workers", "2"]) == 0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["execution_backend"] == "dask"
    for f in ("arms.csv", "patients.csv"):
        assert (tmp_path / "out" / f).read_text() == (tmp / "out" / f).read_text()


def test_failed_integrations_are_excluded_visibly(tmp_path):
    data = json.loads(json.dumps(TRIAL))
    data["solver"] = {"max_steps": 400}     # enough for most patients, not for every challenge run
    data["population"]["size"] = 20
    data["trial"].pop("calibration")
    path = _write(tmp_path, data)
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q"]) == 3
    summary = json.loads((tmp_path / "out" / "trial.json").read_text())
    excluded = {f["patient"] for f in summary["failures"]}
    assert 0 < len(excluded) < 20
    assert all("too many steps (max_steps=400)" in f["message"] for f in summary["failures"])
    arms = _csv(tmp_path / "out" / "arms.csv")
    assert (arms.n == 20 - len(excluded)).all()
    patients = _csv(tmp_path / "out" / "patients.csv")
    assert (patients.status != "success").sum() >= len(excluded)


def test_shipped_ra_trial_runs_its_first_patients(tmp_path):
    # the first 12 patients of scenarios/ra_trial.yaml (the full 500 take ~2 min): five arms on
    # background methotrexate, ACR by definition
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / "ra_trial.yaml"
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--size", "12"]) == 0
    golden.check("ra_trial.12.arms.csv", tmp_path / "out" / "arms.csv")
    arms = _csv(tmp_path / "out" / "arms.csv")
    acr = arms[(arms.endpoint == "ACR20") & (arms.week == 24)].set_index("arm")
    assert list(acr.index) == ["placebo", "adalimumab", "tocilizumab", "tofacitinib", "abatacept"]
    assert (acr.rate.drop("placebo") > acr.rate["placebo"]).all()
    risk = json.loads((tmp_path / "out" / "trial.json").read_text())["infection_risk"]
    # JAK1/JAK3 inhibition slows pathogen clearance (tofacitinib; README drug classes)
    assert risk["tofacitinib"]["mean_clearance_days"] > 1.3 * risk["placebo"]["mean_clearance_days"]


def _shipped(name, tmp_path, size):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / f"{name}.yaml"
    rc = main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--size", str(size)])
    assert rc == 0
    golden.check(f"{name}.{size}.arms.csv", tmp_path / "out" / "arms.csv")
    return _csv(tmp_path / "out" / "arms.csv"), json.loads((tmp_path / "out" / "trial.json").read_text())


def test_shipped_lupus_trial_rituximab_response_wanes_as_b_cells_return(tmp_path):
    arms, _ = _shipped("sle_trial", tmp_path, 16)
    sri = arms[arms.endpoint == "SRI4"].set_index(["arm", "week"]).rate
    assert sri["rituximab", 24] > sri["placebo", 24] + 0.3
    assert sri["rituximab", 52] < sri["rituximab", 24]            # long-lived plasma cells persist


@pytest.mark.slow
def test_shipped_checkpoint_study_reproduces_checkmate_067_without_reweighting(tmp_path):
    # 300 patients per arm, the scenario as shipped (~1 min once its kernels are compiled)
    arms, summary = _shipped("checkpoint_trial", tmp_path, 300)
    ever = arms[(arms.endpoint == "irAE") & (arms.week == 52)].set_index("arm").rate
    assert ever["combination"] > ever["ipilimumab"] > ever["nivolumab"]        # CheckMate 067's order
    for pub in summary["published"]:                                            # and its rates, +-10 points
        assert abs(ever[pub["arm"]] - pub["published"]) <= 0.10, pub
    assert "calibration" not in summary or not summary["calibration"]           # nothing reweighted
    # managed (drugs stopped, prednisone) most irAEs have resolved by week 52
    active = arms[(arms.endpoint == "irAE_active") & (arms.week == 52)].set_index("arm").rate
    assert (active < 0.6 * ever).all()
    # onset: anti-CTLA-4 (priming) within the induction, anti-PD-1 (tissue) later
    p = _csv(tmp_path / "out" / "patients.csv")
    onset = p[np.isfinite(p.management_week)].groupby("arm").management_week.median()
    assert onset["combination"] <= onset["ipilimumab"] <= 12 < onset["nivolumab"]


def test_shipped_regimen_search_reports_the_pareto_front(tmp_path):
    from immunesim.cohort.regimens import pareto_mask

    arms, summary = _shipped("ra_regimen_search", tmp_path, 16)
    reg = _csv(tmp_path / "out" / "regimens.csv")
    assert len(reg) == 6 + 2 + 12 and "adalimumab 40 mg q14d + tocilizumab 8 mg/kg q4w" in set(reg.regimen)
    assert set(reg.regimen) < set(arms.arm)                         # each regimen ran as an arm
    eff, risk = reg.response_rate.to_numpy(), reg.mean_clearance_days.to_numpy()
    for i in range(len(reg)):                                      # front == not dominated
        dominated = ((eff >= eff[i]) & (risk <= risk[i]) & ((eff > eff[i]) | (risk < risk[i]))).any()
        assert reg.on_cohort_front[i] == (not dominated)
    per = _csv(tmp_path / "out" / "patient_regimens.csv")
    assert len(per) == 16 and per.front.notna().all()
    # pareto_mask on a closed example: (1, 5) and (2, 6) are on the front, (1, 6) is not
    assert list(pareto_mask(np.array([1.0, 2.0, 1.0]), np.array([5.0, 6.0, 6.0]))) == [True, True, False]


def test_resume_extends_a_trial_to_more_patients_keeping_the_first_ones(local_trial, tmp_path):
    import pandas as pd

    tmp, path = local_trial
    shutil.copytree(tmp / "out" / "trajectories", tmp_path / "out" / "trajectories")
    n_chunks = len(list((tmp_path / "out" / "trajectories").glob("chunk-*.nc")))
    assert main(["trial", str(path), "-o", str(tmp_path / "out"), "-q", "--resume", "--size", "90"]) == 0
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["execution_chunks_reused"] == n_chunks and m["patients"] == 90
    old, new = _csv(tmp / "out" / "patients.csv"), _csv(tmp_path / "out" / "patients.csv")
    cols = [c for c in old.columns if c not in ("weight", "selected")]   # calibration reweights
    first = new[new.patient.isin(old.patient)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(first.sort_values(["arm", "patient"]).reset_index(drop=True),
                                  old[cols].sort_values(["arm", "patient"]).reset_index(drop=True))


def test_treat_to_target_arm_switches_exactly_the_week_12_non_responders(local_trial):
    tmp, _ = local_trial
    p = _csv(tmp / "out" / "patients.csv").set_index(["arm", "patient"])
    ada, t2t = p.loc["adalimumab"], p.loc["treat-to-target"]
    das12 = ada.baseline_DAS28_CRP * (1 - ada.ACR20_12_value)       # DAS28-CRP at week 12
    switched = das12 > 3.2
    assert 0 < switched.sum() < len(ada)                          # the rule splits the cohort
    np.testing.assert_allclose(t2t.ACR20_12_value, ada.ACR20_12_value, rtol=1e-5, atol=1e-7)
    # those kept on adalimumab end as on adalimumab; those switched do at least as well
    np.testing.assert_allclose(t2t.ACR20_24_value[~switched], ada.ACR20_24_value[~switched], rtol=1e-4, atol=1e-6)
    assert (t2t.ACR20_24_responder[switched] >= ada.ACR20_24_responder[switched]).all()
    assert t2t.ACR20_24_value[switched].mean() > ada.ACR20_24_value[switched].mean()
