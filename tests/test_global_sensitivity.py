"""immunesim sensitivity: SALib's test function (Ishigami) through the whole pipeline (an SBML
scenario, batched runs, SALib's indices) against its analytic indices; local sensitivities
against a closed form; the sensitivity: block's errors; the command's files."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from immunesim.analysis.global_sensitivity import run_sensitivity
from immunesim.scenario import load_scenario
from immunesim.scenario.schema import ScenarioError, validate

ROOT = Path(__file__).resolve().parents[1]
ISHIGAMI = ROOT / "tests" / "data" / "ishigami.xml"
PI = math.pi


def ishigami_indices(a=7.0, b=0.1):
    """Analytic first-order and total Sobol' indices of Y = sin x1 + a sin^2 x2 + b x3^4 sin x1,
    x_i ~ U(-pi, pi) (Sobol' & Levitan 1999; SALib's test_functions.Ishigami)."""
    v1 = 0.5 * (1 + b * PI ** 4 / 5) ** 2
    v2 = a * a / 8
    v13 = b * b * PI ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"x1": (v1 / v, (v1 + v13) / v), "x2": (v2 / v, v2 / v), "x3": (0.0, v13 / v)}


def scenario(tmp_path, method="sobol", samples=1024, outputs=None, extra=""):
    text = f"""
name: ishigami
model: {ISHIGAMI}
time: {{times: [0, 1]}}
sensitivity:
  method: {method}
  samples: {samples}
  seed: 3
  parameters:
    x1: [{-PI!r}, {PI!r}]
    x2: [{-PI!r}, {PI!r}]
    x3: [{-PI!r}, {PI!r}]
  outputs: {outputs or '[{variable: Y, at: [1]}]'}
{extra}"""
    path = tmp_path / f"{method}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("method,samples", [("sobol", 1024), ("fast", 1024)])
def test_ishigami_indices_within_their_confidence_intervals(tmp_path, monkeypatch, method, samples):
    monkeypatch.setenv("IMMUNESIM_KERNELS", "generic")      # a 3-parameter rule: no compile
    res = run_sensitivity(load_scenario(scenario(tmp_path, method, samples)))
    assert res.X.shape == ((samples * 5, 3) if method == "sobol" else (samples * 3, 3))
    x = res.X
    y_exact = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    np.testing.assert_allclose(res.Y[:, 0], y_exact, rtol=1e-12, atol=1e-12)   # the runs
    exact = ishigami_indices()
    for row in res.rows:
        s1, st = exact[row["parameter"]]
        # SALib's bootstrap intervals (Sobol'); FAST's are a fixed 95 % band on its estimator
        assert abs(row["S1"] - s1) <= max(row["S1_conf"], 0.02), row
        assert abs(row["ST"] - st) <= max(row["ST_conf"], 0.05), row


def test_morris_ranks_and_local_sensitivities_against_closed_forms(tmp_path, monkeypatch):
    monkeypatch.setenv("IMMUNESIM_KERNELS", "generic")
    res = run_sensitivity(load_scenario(scenario(tmp_path, "morris", 64)))
    mu_star = {r["parameter"]: r["mu_star"] for r in res.rows}
    assert min(mu_star["x1"], mu_star["x2"]) > mu_star["x3"] > 0   # x3 acts only with x1
    # the same indices as SALib's Morris on the function itself at the same points
    from SALib.analyze import morris

    x = res.X
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * 3}
    direct = morris.analyze(problem, x, y, num_levels=4, seed=3)
    for k, p in enumerate(["x1", "x2", "x3"]):
        assert mu_star[p] == pytest.approx(direct["mu_star"][k], rel=1e-9)
    # local: Y at x = (1, 0.5, 2) (set in the scenario): (p / Y) dY/dp in closed form
    sc = load_scenario(scenario(tmp_path, "local", 2, extra="parameters: {x1: 1.0, x2: 0.5, x3: 2.0}"))
    res = run_sensitivity(sc)
    x1, x2, x3 = 1.0, 0.5, 2.0
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)
    grad = {"x1": math.cos(x1) * (1 + 0.1 * x3 ** 4), "x2": 14 * math.sin(x2) * math.cos(x2),
            "x3": 0.4 * x3 ** 3 * math.sin(x1)}
    for row in res.rows:
        p = row["parameter"]
        assert row["dy_dp"] == pytest.approx(grad[p], rel=1e-7)
        assert row["normalised"] == pytest.approx(grad[p] * {"x1": x1, "x2": x2, "x3": x3}[p] / y,
                                                  rel=1e-7)


def test_the_block_names_every_problem(tmp_path):
    bad = scenario(tmp_path, "sobl", 1000,
                   outputs="[{variable: Z, at: [1]}, {auc: Y, at: 1}, {variable: Y}]")
    with pytest.raises(ScenarioError) as e:
        load_scenario(bad)
    text = str(e.value)
    for expected in ("sensitivity.method: 'sobl'", "sensitivity.outputs[0].variable: 'Z'",
                     "sensitivity.outputs[1]: auc takes no other keys",
                     "sensitivity.outputs[2].at: required"):
        assert expected in text, text
    with pytest.raises(ScenarioError, match="power of 2"):
        load_scenario(scenario(tmp_path, "sobol", 1000))
    with pytest.raises(ScenarioError, match=r"sensitivity.parameters.k_act: 50 % ?|percentage"):
        validate({"disease": "ra", "time": {"end": "1 year"},
                  "sensitivity": {"parameters": {"k_act": "150%"},
                                  "outputs": [{"variable": "DAS28_CRP", "at": ["1 year"]}]}})
    sc = validate({"disease": "ra", "time": {"end": "1 year"},
                   "sensitivity": {"parameters": {"calibrated": "20%"},
                                   "outputs": [{"auc": "Dmg"}]}})
    assert "k_act" in sc.sensitivity["ranges"] and len(sc.sensitivity["ranges"]) >= 20
    lo, hi = sc.sensitivity["ranges"]["k_act"]
    assert (lo, hi) == pytest.approx((0.33 * 0.8, 0.33 * 1.2))


def test_the_command_writes_indices_samples_figures_and_a_manifest(tmp_path):
    out = tmp_path / "out"
    env = {"IMMUNESIM_KERNELS": "generic"}
    import os

    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "sensitivity",
                        str(scenario(tmp_path, "sobol", 64)), "-o", str(out), "-q"],
                       capture_output=True, text=True, env={**os.environ, **env})
    assert p.returncode == 0, p.stderr
    import pandas as pd

    idx = pd.read_csv(out / "indices.csv")
    assert list(idx.columns[:6]) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(pd.read_csv(out / "samples.csv")) == 64 * 5
    m = json.loads((out / "manifest.json").read_text())
    assert m["subcommand"] == "sensitivity" and m["n_runs"] == 320
    assert (out / "sensitivity_Y_1.png").is_file()
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "sensitivity",
                        str(ROOT / "scenarios" / "ra.yaml"), "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "no sensitivity: block" in p.stderr
