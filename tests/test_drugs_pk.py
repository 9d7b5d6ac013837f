"""Drug pharmacokinetics against label and population-PK numbers (sources next to each)."""

import json
import subprocess
import sys

import numpy as np
import pytest

import immunesim as im
from immunesim.drugs import Regimen, pk_model, simulate_pk
from immunesim.drugs.metrics import interval_metrics
from immunesim.drugs.pk import population_parameters
from immunesim.scenario.build import scenario_events, scenario_model


def test_adalimumab_label_exposure():
    # HUMIRA label 12.3: 40 mg SC every other week, mean steady-state trough ~5 ug/mL without
    # methotrexate; single 40 mg SC: Tmax ~131 h; mean terminal half-life ~2 weeks (10-20 d)
    reg = Regimen.parse("adalimumab", dose="40 mg", route="sc", every="14 d", until="168 d")
    _, _, m = simulate_pk(reg, 168)
    assert 4.0 < m["trough_ug_per_ml"] < 6.0
    assert 10.0 < m["half_life_days"] < 20.0
    _, _, single = simulate_pk(Regimen.parse("adalimumab", dose="40 mg", route="sc", count=1), 60)
    assert single["tmax_days"] == pytest.approx(131 / 24, abs=0.5)


def test_tocilizumab_supra_proportional_exposure_in_a_virtual_population():
    # ACTEMRA label 12.3 (population PK, 1793 RA patients), 4 vs 8 mg/kg IV q4w at steady
    # state: mean AUC 13000 vs 35000 ug*h/mL, Cmin 1.49 vs 9.74 ug/mL, Cmax 88.3 vs 183
    # ug/mL; ratios 2.7 (AUC) and 6.5 (Cmin). Between-patient variability from Frey 2010.
    rng = np.random.default_rng(2010)
    n = 800
    weights = np.exp(rng.normal(np.log(70), 0.2, n))        # assumed weight spread (RA trials)
    params = population_parameters("tocilizumab", weights, rng)
    model = pk_model("tocilizumab")
    t = np.linspace(0, 364, 364 * 24 + 1)
    means = {}
    for dose in (4, 8):
        events = [[im.Infusion(start=28.0 * k, duration=1 / 24, target="Central", rate=dose * w * 24)
                   for k in range(13)] for w in weights]
        r = im.simulate_batch(model, params, t, events=events, rtol=1e-7, atol=1e-9)
        C = r.dataset["y"].sel(variable="C").values
        ms = [interval_metrics(t, C[i], 336, 364) for i in range(n)]
        means[dose] = {k: np.mean([x[k] for x in ms]) for k in ms[0]}
    label = {4: (13000, 1.49, 88.3), 8: (35000, 9.74, 183)}
    for dose, (auc_h, cmin, cmax) in label.items():
        assert means[dose]["auc_tau_ug_day_per_ml"] * 24 == pytest.approx(auc_h, rel=0.1)
        assert means[dose]["cmax_ug_per_ml"] == pytest.approx(cmax, rel=0.1)
        assert means[dose]["trough_ug_per_ml"] == pytest.approx(cmin, rel=0.2)
    auc_ratio = means[8]["auc_tau_ug_day_per_ml"] / means[4]["auc_tau_ug_day_per_ml"]
    cmin_ratio = means[8]["trough_ug_per_ml"] / means[4]["trough_ug_per_ml"]
    assert auc_ratio == pytest.approx(2.7, abs=0.2)          # linear PK would give 2.0
    assert cmin_ratio == pytest.approx(6.5, abs=1.0)


def test_tofacitinib_half_life_is_about_three_hours():
    # XELJANZ label 12.3: elimination half-life ~3 h; 5 mg twice daily
    reg = Regimen.parse("tofacitinib", dose="5 mg", route="oral", every="12 h", until="7 d")
    _, _, m = simulate_pk(reg, 7)
    assert m["half_life_days"] * 24 == pytest.approx(3.0, abs=0.3)
    assert m["tmax_days"] * 24 < 1.5                          # label: peak within 0.5-1 h


def test_certolizumab_loading_peak_matches_the_label():
    # CIMZIA label 12.3: 400 mg SC at weeks 0, 2 and 4 gives a mean Cmax of ~43-49 ug/mL at
    # week 5; bioavailability ~80 % (with F = 1 the peak would be ~64 ug/mL)
    reg = Regimen.parse("certolizumab", dose="400 mg", route="sc", every="14 d", count=3)
    _, _, m = simulate_pk(reg, 42)
    assert m["cmax_ug_per_ml"] == pytest.approx(46.0, rel=0.15)
    assert 54 / 24 < m["tmax_days"] < 171 / 24       # label: peak 54-171 h after an SC dose


def test_weight_based_dose_and_schedule():
    reg = Regimen.parse("tocilizumab", dose="8 mg/kg", route="iv", every="8 w", until="1 year",
                        loading="0,2,6 w", infusion_hours=1)
    assert reg.dose_times()[:5] == pytest.approx([0, 14, 42, 98, 154])
    assert reg.amount_mg(100) == 800
    _, _, light = simulate_pk(Regimen.parse("tocilizumab", dose="8 mg/kg", route="iv", every="4 w",
                                            until="364 d", infusion_hours=1), 364, weight_kg=60)
    _, _, heavy = simulate_pk(Regimen.parse("tocilizumab", dose="8 mg/kg", route="iv", every="4 w",
                                            until="364 d", infusion_hours=1), 364, weight_kg=110)
    # label: exposure rises with body weight under mg/kg dosing (CL grows less than the dose)
    assert heavy["auc_tau_ug_day_per_ml"] > 1.5 * light["auc_tau_ug_day_per_ml"]


def test_bad_regimens_are_named():
    with pytest.raises(im.ModelError, match="route: adalimumab is given sc"):
        Regimen.parse("adalimumab", dose="40 mg", route="iv", count=1)
    with pytest.raises(im.ModelError, match="dose: expected like"):
        Regimen.parse("adalimumab", dose="40 mL", route="sc", count=1)
    with pytest.raises(im.ModelError, match="did you mean 'adalimumab'"):
        Regimen.parse("adalimumabb", dose="40 mg", route="sc", count=1)


def test_pk_command(tmp_path):
    out = tmp_path / "c.csv"
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "pk", "adalimumab", "--dose", "40 mg",
                        "--route", "sc", "--every", "14 d", "--days", "168", "--json", "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    assert list(m)[:5] == ["cmax_ug_per_ml", "tmax_days", "trough_ug_per_ml",
                           "auc_tau_ug_day_per_ml", "half_life_days"]
    lines = out.read_text().splitlines()
    assert lines[0] == "time_day,concentration_ug_per_ml" and len(lines) == 168 * 4 + 2
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "pk", "adalimumab", "--dose", "40 mg",
                        "--route", "iv", "--days", "10"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "drug", "show", "HUMIRA"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "label 12.3" in p.stdout


def test_rituximab_label_pk_and_b_cell_depletion():
    from immunesim.scenario import validate

    # RITUXAN label 12.3 (RA): 2 x 1000 mg IV two weeks apart, mean Cmax 370 ug/mL, terminal
    # half-life 19 days
    reg = Regimen.parse("rituximab", dose="1000 mg", route="iv", loading="0,14 d", infusion_hours=4)
    _, _, m = simulate_pk(reg, 14 + 186)          # last interval: day 14 to 200 (washout)
    assert m["cmax_ug_per_ml"] == pytest.approx(370, rel=0.15)
    assert m["half_life_days"] == pytest.approx(19, rel=0.1)
    # label 12.2 / issue: >= 99 % of circulating B cells depleted by day 15; repopulation starts
    # around 6-9 months; long-lived plasma cells (CD20-negative) are spared
    sc = validate({"disease": "sle", "time": {"end": "2 years", "output_every": "1 day"},
                   "therapies": [{"drug": "rituximab", "dose": "1000 mg", "route": "iv",
                                  "infusion_hours": 4, "every": "14 d", "count": 2, "start": "365 d"}]})
    r = im.simulate(scenario_model(sc), np.asarray(sc.times), events=scenario_events(sc))
    t, B, L = r.time, r["B"].values, r["LLPC"].values
    b0, l0 = B[t == 364][0], L[t == 364][0]
    assert B[t == 365 + 15][0] < 0.01 * b0
    back = t[(t > 365 + 30) & (B > 0.1 * b0)][0] - 365
    assert 6 * 30.4 <= back <= 9 * 30.4
    assert L[t == 365 + 90][0] > 0.7 * l0
