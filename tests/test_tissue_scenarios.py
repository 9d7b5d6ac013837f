"""`model: abm` and `model: hybrid` scenarios as a user runs them."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import golden
import numpy as np
import pytest
import yaml

import immunesim as im
from immunesim.scenario import ScenarioError, load_scenario, validate
from immunesim.scenario.build import scenario_events, scenario_model
from immunesim.scenario.tissue import tissue_config
from immunesim.tissue.hybrid import run_hybrid

ROOT = Path(__file__).resolve().parents[1]
TISSUE_SCENARIOS = [p for p in sorted((ROOT / "scenarios").glob("*.yaml"))
                    if load_scenario(p).model_kind != "ode"]


def _hybrid(sc, cfg, exchange):
    return run_hybrid(scenario_model(sc), sc.times, cfg, exchange, events=scenario_events(sc),
                      params=sc.parameters, y0=sc.initial, solver=sc.solver)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "immunesim.cli", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.mark.parametrize("path", TISSUE_SCENARIOS, ids=lambda p: p.stem)
def test_tissue_scenarios_run_from_the_command_line(path, tmp_path):
    p = cli("run", str(path), "-o", str(tmp_path))
    assert p.returncode == 0, p.stderr
    sc = load_scenario(path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"] == sc.model_kind and manifest["status"] == 0
    assert manifest["scenario_hash"] == sc.hash and manifest["seed"] == sc.seed
    r = im.Result.load(tmp_path / "results.nc")
    n_snap = r.dataset.sizes["snapshot"]
    assert r.dataset["lattice_state"].shape == (n_snap, *sc.tissue["config"]["shape"])
    for k in range(n_snap):
        day = float(r.dataset["snapshot"].values[k])
        assert (tmp_path / f"tissue_day{day:07.2f}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    gif = (tmp_path / "tissue.gif").read_bytes()
    assert gif[:6] == b"GIF89a"
    from PIL import Image

    with Image.open(tmp_path / "tissue.gif") as im_:
        assert im_.n_frames == n_snap
    assert (tmp_path / "tissue_cells.png").exists()
    lines = (tmp_path / "summary.csv").read_text().splitlines()
    golden.check(f"{path.stem}.summary.csv", tmp_path / "summary.csv")
    cols = lines[0].split(",")
    last = dict(zip(cols, lines[-1].split(",")))
    assert float(last["time_day"]) == pytest.approx(sc.times[-1])
    key = "health_mean" if sc.model_kind == "abm" else "tissue_health_mean"
    assert float(last[key]) == pytest.approx(float(r[key].values[-1]), rel=1e-5)
    # the injured focus spreads: the patch is less healthy than at the start
    assert r[key].values[-1] < r[key].values[0] - 0.02


def test_abm_run_is_reproducible_and_the_seed_matters():
    from immunesim.tissue.run import run_tissue

    data = yaml.safe_load((ROOT / "scenarios" / "ra_tissue.yaml").read_text())
    data["tissue"].update(shape=[50, 50])
    cfg = tissue_config(validate({**data, "time": {"end": "2 d"}}).tissue)
    times = [0.0, 1.0, 2.0]
    a, _ = run_tissue(cfg, times, snapshot_every=1.0)
    b, _ = run_tissue(cfg, times, snapshot_every=1.0)
    c, _ = run_tissue(dataclasses.replace(cfg, seed=cfg.seed + 1), times, snapshot_every=1.0)
    assert np.array_equal(a["y"].values, b["y"].values)
    assert np.array_equal(a["lattice_cells"].values, b["lattice_cells"].values)
    assert not np.array_equal(a["y"].values, c["y"].values)


@pytest.fixture(scope="module")
def hybrid_runs():
    data = yaml.safe_load((ROOT / "scenarios" / "ra_hybrid_adalimumab.yaml").read_text())
    data["time"] = {"end": "6 d", "output_every": "1 d"}
    data["tissue"].update(shape=[40, 40])
    treated = validate(data)
    untreated = validate({**data, "therapies": []})
    out = {}
    for name, sc in (("treated", treated), ("untreated", untreated)):
        cfg = tissue_config(sc.tissue)
        out[name] = _hybrid(sc, cfg, sc.tissue["exchange_every"])
    half = dataclasses.replace(treated)
    out["treated_half_window"] = _hybrid(half, tissue_config(half.tissue), treated.tissue["exchange_every"] / 2)
    return out


def test_hybrid_tnf_inhibitor_acts_in_serum_and_tissue_by_the_same_hook(hybrid_runs):
    t, u = hybrid_runs["treated"], hybrid_runs["untreated"]
    # adalimumab neutralises TNF: the ODE's hook and the tissue's free TNF field
    assert float(t["neut_TNF"].values[-1]) > 0.9
    assert t["tissue_TNF_mean"].values[-1] < 0.2 * u["tissue_TNF_mean"].values[-1]
    assert t["tissue_health_mean"].values[-1] > u["tissue_health_mean"].values[-1] + 0.05


def test_hybrid_feeds_tissue_damage_back_to_the_ode(hybrid_runs):
    t = hybrid_runs["treated"]
    dmg = t["Dmg"].values
    health = t["tissue_health_mean"].values
    irr = t["Irr"].values
    np.testing.assert_allclose(dmg[1:], (1 - health[1:]) * (1 - irr[1:]), rtol=1e-9)


def test_hybrid_exchange_interval_halved_moves_the_result_little(hybrid_runs):
    a = hybrid_runs["treated"]["tissue_health_mean"].values[-1]
    b = hybrid_runs["treated_half_window"]["tissue_health_mean"].values[-1]
    assert abs(a - b) < 0.05


def test_bad_model_and_tissue_fields_are_named():
    base = {"disease": "ra", "time": {"end": "2 d"}}
    with pytest.raises(ScenarioError, match=r"model: 'abx' is not allowed; one of ode, abm, hybrid"):
        validate({**base, "model": "abx"})
    with pytest.raises(ScenarioError, match=r"tissue.shape: expected \[rows, columns\]"):
        validate({**base, "model": "abm", "tissue": {"shape": [10]}})
    with pytest.raises(ScenarioError, match=r"tissue.density.Tcell: not a cell kind"):
        validate({**base, "model": "abm", "tissue": {"density": {"Tcell": 1}}})
    with pytest.raises(ScenarioError, match=r"tissue: only used with model: abm or model: hybrid"):
        validate({**base, "tissue": {"shape": [10, 10]}})
    with pytest.raises(ScenarioError, match=r"tissue.dt: "):
        validate({**base, "model": "abm", "tissue": {"dt": "2 kg"}})
