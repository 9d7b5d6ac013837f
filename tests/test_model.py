"""Model validation, hashes and model files."""
import pytest

import immunesim as im
from immunesim import ModelError

S = im.Species
P = im.Parameter
Pr = im.Process


def base(**kw):
    args = dict(species=[S(name="X", unit="mg")],
                parameters=[P(name="k", value=1.0, unit="1/day", source="test")],
                processes=[Pr(name="el", rate="k*X", stoichiometry={"X": -1})])
    args.update(kw)
    return im.Model("m", **args)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ModelError) as exc:
        base(processes=[Pr(name="a", rate="k*Y + q", stoichiometry={"X": -1, "Z": 1})],
             rules=[im.Rule(name="r1", expression="r2 + 1", unit="1"),
                    im.Rule(name="r2", expression="r1 * 2", unit="1")])
    text = str(exc.value)
    assert "undefined name(s): Y, q" in text
    assert "'Z', which is not a species" in text
    assert "cycle: r1 -> r2 -> r1" in text or "cycle: r2 -> r1 -> r2" in text


def test_duplicates_units_sources_bounds():
    with pytest.raises(ModelError, match="duplicate name 'k'"):
        base(species=[S(name="k", unit="mg")])
    with pytest.raises(ModelError, match="a unit is required"):
        S(name="X", unit="")
    with pytest.raises(ModelError, match="a source is required"):
        P(name="k", value=1.0, unit="1/day", source="")
    with pytest.raises(ModelError, match=r"outside its bounds \[0.0, 1.0\]"):
        P(name="f", value=2.0, unit="1", source="test", bounds=(0, 1))
    with pytest.raises(ModelError, match="reserved"):
        S(name="exp", unit="mg")
    with pytest.raises(ModelError, match="declared non-negative"):
        S(name="X", unit="mg", initial=-1.0)
    with pytest.raises(ModelError, match="did you mean 'k'"):
        base().parameter_vector({"kk": 2.0})


def test_rules_are_ordered_by_dependency():
    m = base(rules=[im.Rule(name="b", expression="a * 2", unit="mg"),
                    im.Rule(name="a", expression="X + 1", unit="mg")])
    assert m.rule_names == ("a", "b")


def test_hashes():
    m1, m2 = base(), base(parameters=[P(name="k", value=2.0, unit="1/day", source="test")])
    assert m1.structure_hash == m2.structure_hash  # same kernels, values enter as arrays
    assert m1.hash != m2.hash                      # provenance sees the value
    assert base().hash == m1.hash                  # stable across constructions
    m3 = base(processes=[Pr(name="el", rate="k*X*X", stoichiometry={"X": -1})])
    assert m3.structure_hash != m1.structure_hash


def test_model_file_errors_name_the_field(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("name: m\nspecies:\n  - {name: X, unit: mg, intial: 1}\nparameters: []\n"
                 "processes: []\n")
    with pytest.raises(ModelError) as exc:
        im.load_model(f)
    assert "species[0].intial: unknown key; did you mean 'initial'?" in str(exc.value)
    f.write_text("name: [unclosed\n")
    with pytest.raises(ModelError, match="not valid YAML"):
        im.load_model(f)
    with pytest.raises(ModelError, match="file not found"):
        im.load_model(tmp_path / "missing.yaml")


def test_yaml_tags_are_not_executed(tmp_path):
    f = tmp_path / "evil.yaml"
    f.write_text("name: !!python/object/apply:os.system ['echo hacked']\nspecies: []\n")
    with pytest.raises(ModelError, match="not valid YAML"):
        im.load_model(f)


def test_symbolic_jacobian_sparsity(antitnf):
    from immunesim.model.symbolic import build_symbolic
    sym = build_symbolic(antitnf)
    idx = antitnf.species_index
    pattern = set(sym.sparsity)
    assert (idx["Drug"], idx["Depot"]) in pattern     # absorption
    assert (idx["Depot"], idx["Drug"]) not in pattern  # no feedback
    assert (idx["TNF"], idx["TNF"]) in pattern
    assert len(pattern) < 0.25 * len(antitnf.species) ** 2


def test_index_of_finds_parameters_and_species_and_names_the_closest_otherwise():
    m = im.disease_model("ra")
    assert m.index_of("k_inj_TNF") == list(m.parameter_index).index("k_inj_TNF")
    assert m.parameters[m.index_of("k_inj_TNF")].name == "k_inj_TNF"
    assert m.species[m.index_of("Dmg", "species")].name == "Dmg"
    with pytest.raises(ModelError, match=r"'k_inj_tnf' is not a parameter .*did you mean 'k_inj_TNF'"):
        m.index_of("k_inj_tnf")
    with pytest.raises(ModelError, match=r"is not a species"):
        m.index_of(["Dmg"], "species")
