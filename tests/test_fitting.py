"""PEtab problems: the negative log-likelihood against the reference values of the shared
benchmark problems (AMICI's), each noise model against SciPy's densities, the command line's
JSON, and the errors."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("petab", reason="the petab library (the fit extra) is not installed")

from immunesim.fitting import PetabError, evaluate, load_problem, nllh_term  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PETAB = ROOT.parent / "shared" / "petab"
needs_problems = pytest.mark.skipif(not PETAB.is_dir(), reason=f"the shared PEtab problems are absent ({PETAB})")
#: negative log-likelihoods at the nominal parameters (../shared/petab/README.md: AMICI's test suite)
REFERENCE = {"Boehm_JProteomeRes2014": 138.22199693517703,
             "Fujita_SciSignal2010": -53.08377736998929}


def yaml_of(name: str) -> Path:
    return PETAB / name / f"{name}.yaml"


@needs_problems
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_evaluate_gives_the_reference_nllh_from_the_command_line(name):
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "fit", str(yaml_of(name)),
                        "--evaluate", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)                   # one JSON object, nothing else on stdout
    assert set(out) == {"nllh", "n_measurements"}
    assert out["nllh"] == pytest.approx(REFERENCE[name], abs=1e-3)
    assert out["n_measurements"] == {"Boehm_JProteomeRes2014": 48, "Fujita_SciSignal2010": 144}[name]


@needs_problems
def test_the_objective_moves_away_from_the_nominal_values():
    problem = load_problem(yaml_of("Boehm_JProteomeRes2014"))
    nominal = evaluate(problem)["nllh"]
    worse = evaluate(problem, {"k_phos": 2.0 * problem.nominal()["k_phos"]})["nllh"]
    assert worse > nominal + 1.0                 # the published best fit is a minimum
    # every noise parameter twice as large (Boehm's noise is normal with sigma = its sd_ of the
    # observable): each term 0.5 log(2 pi s^2) + 0.5 r^2 changes by log 2 - (3/8) r^2 with
    # r = (y - m)/s, so the sum changes by n log 2 - (3/4)(nllh - sum 0.5 log(2 pi s^2))
    nom = problem.nominal()
    mdf = problem.petab.measurement_df
    sigma = mdf["noiseParameters"].map(lambda p: nom[str(p).strip()]).to_numpy(dtype=float)
    normalisation = float(np.sum(0.5 * np.log(2.0 * np.pi * sigma ** 2)))
    expected = len(mdf) * math.log(2.0) - 0.75 * (nominal - normalisation)
    sd = {k: 2.0 * v for k, v in nom.items() if k.startswith("sd_")}
    assert evaluate(problem, sd)["nllh"] - nominal == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("y,m,s", [(1.3, 0.7, 0.4), (5.0, 5.0, 2.0), (0.2, 3.0, 0.05)])
def test_each_noise_model_is_the_density_it_names(y, m, s):
    assert nllh_term(y, m, s, "lin", "normal") == pytest.approx(-stats.norm.logpdf(y, m, s))
    assert nllh_term(y, m, s, "lin", "laplace") == pytest.approx(-stats.laplace.logpdf(y, m, s))
    # log-normal: log y ~ N(log m, s)
    assert nllh_term(y, m, s, "log", "normal") == pytest.approx(
        -stats.lognorm.logpdf(y, s, scale=m))
    # log10: log10 y ~ N(log10 m, s); the density of y is that of log10 y / (y ln 10)
    expected = -(stats.norm.logpdf(math.log10(y), math.log10(m), s) - math.log(y * math.log(10)))
    assert nllh_term(y, m, s, "log10", "normal") == pytest.approx(expected)
    assert nllh_term(y, m, s, "log", "laplace") == pytest.approx(
        -(stats.laplace.logpdf(math.log(y), math.log(m), s) - math.log(y)))
    assert nllh_term(-1.0, m, s, "log", "normal") == math.inf
    with pytest.raises(PetabError, match="noiseDistribution 'cauchy'"):
        nllh_term(y, m, s, "lin", "cauchy")


@needs_problems
def test_problems_that_cannot_be_evaluated_say_why(tmp_path):
    with pytest.raises(PetabError, match="no such file"):
        load_problem(tmp_path / "none.yaml")
    src = PETAB / "Boehm_JProteomeRes2014"
    dst = tmp_path / "b"
    shutil.copytree(src, dst)
    m = dst / "measurementData_Boehm_JProteomeRes2014.tsv"
    lines = m.read_text().splitlines()
    lines[1] = lines[1].replace("\t\tmodel1_data1", "\tmodel1_data1\tmodel1_data1", 1)
    m.write_text("\n".join(lines) + "\n")
    with pytest.raises(PetabError, match="preequilibration is not supported yet"):
        load_problem(dst / "Boehm_JProteomeRes2014.yaml")
    p = subprocess.run([sys.executable, "-m", "immunesim.cli", "fit", str(yaml_of("Boehm_JProteomeRes2014"))],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "--evaluate computes the objective" in p.stderr
