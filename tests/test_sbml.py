"""SBML import (immunesim.load_sbml, ``immunesim sbml run``/``info``): a fixed, tagged selection of
the SBML Test Suite's semantic cases judged by the suite's own rule, every MathML function
against closed forms, SBML's amount/concentration conventions against their analytic solution,
refusals that name the element, and our own export read back."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import immunesim as im
from immunesim.errors import ModelError
from immunesim.io.sbml import to_sbml
from immunesim.io.sbml_run import read_case, run_case, time_course

ROOT = Path(__file__).resolve().parents[1]
# the SBML Test Suite's semantic cases: ../shared/sbml-test-suite, or where this variable says
SUITE = Path(os.environ.get("IMMUNESIM_SBML_TEST_SUITE", ROOT.parent / "shared" / "sbml-test-suite"))
needs_suite = pytest.mark.skipif(not (SUITE / "cases.csv").is_file(),
                                 reason=f"the SBML Test Suite is not at {SUITE}")

# three cases (first, middle, last that pass) of each of these tags: Amount Concentration
# NonUnityStoichiometry AssignmentRule RateRule InitialAssignment FunctionDefinition
# ConversionFactors NonConstantCompartment HasOnlySubstanceUnits LocalParameters StoichiometryMath
# AssignedVariableStoichiometry AssignedConstantStoichiometry SpeciesReferenceInMath
# UncommonMathML CSymbolAvogadro CSymbolTime comp:Submodel comp:ReplacedElement 0D-Compartment
# BoolNumericSwap L3v2MathML ConstantSpecies DefaultValue BoundaryCondition MultiCompartment
# VolumeConcentrationRates NoMathML ReversibleReaction InitialValueReassigned NonConstantParameter
SELECTION = (
    "00001 00003 00007 00023 00025 00027 00029 00031 00033 00048 00051 00054 00056 00060 00068 "
    "00245 00306 00462 00500 00605 00609 00642 00710 00716 00725 00742 00851 00900 00910 00913 "
    "00954 00956 00960 00974 00975 01031 01037 01082 01089 01103 01124 01133 01144 01163 01172 "
    "01183 01198 01203 01234 01272 01278 01282 01289 01291 01309 01339 01474 01497 01498 01514 "
    "01552 01566 01631 01654 01657 01722 01725 01744 01746 01750 01774 01777 01783 01795 01796 "
    "01797 01802 01808 01809 01821"
    # fast reactions, eliminated exactly (FastReaction: first, middle, last that pass), and
    # those whose stoichiometry is an initial assignment (01396), a Level 2 stoichiometryMath
    # of constants (01397) or carries a constant conversion factor (01544, 01546), and mass
    # action with two equilibria, the stable one taken (01399: run in reverse; 01572), a
    # stoichiometry that an assignment rule of constants sets (01571), and several fast
    # reactions on separate species, one of them with a rate law that is 0 (01565, 01569)
    " 00870 01051 01567 01396 01397 01544 01546 01399 01572 01571 01565 01569").split()


@needs_suite
@pytest.mark.parametrize("case", SELECTION)
def test_suite_case_passes(case):
    out = run_case(SUITE / case)
    assert out["status"] == "passed", out["message"]


@needs_suite
@pytest.mark.parametrize("case, element, construct", [
    ("00937", "rule for 'y'", "delay() in math"),
    ("00987", "fast reaction 'fast'", "an event sets what its rate law reads"),
    ("01398", "reaction 'J0'", "a fast reaction needs constant stoichiometries"),   # an event sets it
    ("01167", "EM1", "external model"),
    ("00951", "'P'", "not a finite number"),
    ("01589", "event 'Qinc' assigns 'Q'", "an assignment rule defines"),
])
def test_unsupported_constructs_are_refused_naming_the_element(case, element, construct):
    out = run_case(SUITE / case)
    assert out["status"] == "refused"
    assert element in out["message"] and construct in out["message"], out["message"]


def _sbml(body: str, extra_params: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">'
            f'<model id="m">{body}</model></sbml>')


def _rules(formulas: dict) -> str:
    """Parameters assigned by rules written in SBML's L3 formula syntax (libsbml's parser
    writes the MathML)."""
    import libsbml

    params = "".join(f'<parameter id="{k}" constant="false"/>' for k in formulas)
    rules = ""
    for k, f in formulas.items():
        ast = libsbml.parseL3Formula(f)
        assert ast is not None, (f, libsbml.getLastParseL3Error())
        rules += f'<assignmentRule variable="{k}">{libsbml.writeMathMLToString(ast).split("?>", 1)[-1]}</assignmentRule>'
    return _sbml(f"<listOfParameters>{params}</listOfParameters><listOfRules>{rules}</listOfRules>")


def test_every_mathml_function_against_closed_forms():
    t = np.linspace(0.1, 0.9, 9)
    cases = {
        "a1": ("sec(time) + csc(time) + cot(time)", 1 / np.cos(t) + 1 / np.sin(t) + 1 / np.tan(t)),
        "a2": ("arcsec(1 + time) + arccsc(1 + time) + arccot(time)",
               np.arccos(1 / (1 + t)) + np.arcsin(1 / (1 + t)) + np.arctan(1 / t)),
        "a3": ("sech(time) + csch(time) + coth(time)", 1 / np.cosh(t) + 1 / np.sinh(t) + 1 / np.tanh(t)),
        "a4": ("arcsech(time) + arccsch(time) + arccoth(1 + time)",
               np.arccosh(1 / t) + np.arcsinh(1 / t) + np.arctanh(1 / (1 + t))),
        "a5": ("sin(time) * cos(time) - tan(time) + arcsin(time) + arccos(time) + arctan(time)",
               np.sin(t) * np.cos(t) - np.tan(t) + np.arcsin(t) + np.arccos(t) + np.arctan(t)),
        "a6": ("sinh(time) + cosh(time) + tanh(time) + arcsinh(time) + arccosh(1 + time) + arctanh(time)",
               np.sinh(t) + np.cosh(t) + np.tanh(t) + np.arcsinh(t) + np.arccosh(1 + t) + np.arctanh(t)),
        "a7": ("log(2, 8 * time) + log10(time) + root(3, time) + sqrt(time) + ln(time) + exp(time)",
               np.log(8 * t) / np.log(2) + np.log10(t) + np.cbrt(t) + np.sqrt(t) + np.log(t) + np.exp(t)),
        "a8": ("floor(10 * time) + ceil(10 * time) + factorial(3) + abs(-time)",
               np.floor(10 * t) + np.ceil(10 * t) + 6 + t),
        "a9": ("quotient(-7, 2) + rem(-7, 2) + quotient(7 * time, 2) + rem(7, 2 + time)",
               -3 + -1 + np.trunc(7 * t / 2) + np.fmod(7, 2 + t)),
        "b1": ("min(time, 0.5, 0.7) + max(time, 0.3, -1)", np.minimum(t, 0.5) + np.maximum(t, 0.3)),
        "b2": ("piecewise(1, xor(time > 0.3, time > 0.6), 2, implies(time > 0.5, time > 0.8), 3)",
               np.where((t > 0.3) ^ (t > 0.6), 1, np.where(~(t > 0.5) | (t > 0.8), 2, 3))),
        "b3": ("(time > 0.5) + 2 * (0.2 < time < 0.6 && !(time >= 0.4))",
               (t > 0.5).astype(float) + 2 * ((0.2 < t) & (t < 0.6) & ~(t >= 0.4))),
        "b4": ("avogadro / 1e23 + pi + exponentiale + 2^3^0.5",     # avogadro: SBML L3's 6.02214179e23
               6.02214179 + math.pi + math.e + 2 ** 3 ** 0.5),
    }
    model = im.load_sbml(_rules({k: f for k, (f, _) in cases.items()}))
    r = im.simulate(model, t_eval=t, kernels="generic")
    for k, (formula, want) in cases.items():
        got = model.values(r, k)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=formula)


def test_amount_and_concentration_in_a_growing_compartment():
    """dV/dt = g; A -> (k); the kinetic law is k*A*V (substance per time, A the concentration):
    the amount n = n0 exp(-k t) and the concentration n / (V0 + g t), as SBML says; a species
    that no reaction changes keeps its amount, so its concentration is diluted."""
    body = ('<listOfCompartments><compartment id="V" size="2" constant="false"/></listOfCompartments>'
            '<listOfSpecies><species id="A" compartment="V" initialConcentration="3" '
            'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>'
            '<species id="B" compartment="V" initialConcentration="1" hasOnlySubstanceUnits="false" '
            'boundaryCondition="true" constant="false"/></listOfSpecies>'
            '<listOfParameters><parameter id="k" value="0.7" constant="true"/>'
            '<parameter id="g" value="0.5" constant="true"/></listOfParameters>'
            '<listOfRules><rateRule variable="V"><math xmlns="http://www.w3.org/1998/Math/MathML">'
            '<ci>g</ci></math></rateRule></listOfRules>'
            '<listOfReactions><reaction id="decay" reversible="false"><listOfReactants>'
            '<speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>'
            '<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci>'
            '<ci>A</ci><ci>V</ci></apply></math></kineticLaw></reaction></listOfReactions>')
    model = im.load_sbml(_sbml(body))
    header, v = time_course(model, t_end=4.0, points=9, variables=["A", "A", "B", "V", "decay"],
                            amount=["A"])
    assert header == ["time", "A", "A", "B", "V", "decay"]
    t = v[:, 0]
    size = 2 + 0.5 * t
    np.testing.assert_allclose(v[:, 1], 6 * np.exp(-0.7 * t), rtol=1e-8)
    np.testing.assert_allclose(v[:, 4], size, rtol=1e-12)
    np.testing.assert_allclose(v[:, 3], 2 / size, rtol=1e-12)
    np.testing.assert_allclose(v[:, 5], 0.7 * 6 * np.exp(-0.7 * t), rtol=1e-8)
    _, c = time_course(model, t_end=4.0, points=9, variables=["A"])
    np.testing.assert_allclose(c[:, 1], 6 * np.exp(-0.7 * t) / size, rtol=1e-8)


def test_initial_assignments_and_rules_in_dependency_order():
    import libsbml

    def m(f):
        return libsbml.writeMathMLToString(libsbml.parseL3Formula(f)).split("?>", 1)[-1]

    body = ('<listOfCompartments><compartment id="C" constant="true"/></listOfCompartments>'
            '<listOfSpecies><species id="S" compartment="C" hasOnlySubstanceUnits="false" '
            'boundaryCondition="false" constant="false"/></listOfSpecies>'
            '<listOfParameters><parameter id="a" constant="true"/><parameter id="b" value="2" '
            'constant="true"/><parameter id="r" constant="false"/></listOfParameters>'
            f'<listOfInitialAssignments><initialAssignment symbol="C">{m("a * 2")}</initialAssignment>'
            f'<initialAssignment symbol="a">{m("r + 1")}</initialAssignment>'
            f'<initialAssignment symbol="S">{m("a / C")}</initialAssignment></listOfInitialAssignments>'
            f'<listOfRules><assignmentRule variable="r">{m("b * 3")}</assignmentRule></listOfRules>')
    model = im.load_sbml(_sbml(body))
    p = dict(zip(model.parameter_names, model.parameter_vector()))
    assert p["a"] == 7.0 and p["C"] == 14.0 and p["S"] == 0.5


def _algebraic(formula: str) -> str:
    import libsbml

    mathml = libsbml.writeMathMLToString(libsbml.parseL3Formula(formula)).split("?>", 1)[-1]
    y = libsbml.writeMathMLToString(libsbml.parseL3Formula("2 * time")).split("?>", 1)[-1]
    return _sbml('<listOfParameters><parameter id="x" value="0" constant="false"/>'
                 '<parameter id="y" constant="false"/></listOfParameters><listOfRules>'
                 f'<algebraicRule>{mathml}</algebraicRule>'
                 f'<assignmentRule variable="y">{y}</assignmentRule></listOfRules>')


def test_algebraic_rules_are_solved_exactly_or_refused():
    model = im.load_sbml(_algebraic("3 * x + y - 6"))          # x = (6 - 2 t) / 3
    t = np.linspace(0.0, 2.0, 5)
    r = im.simulate(model, t, kernels="generic")
    np.testing.assert_allclose(model.values(r, "x"), (6 - 2 * t) / 3, rtol=1e-14, atol=1e-15)
    assert model.sbml.reported() == ["x", "y"]
    with pytest.raises(ModelError, match=r"algebraic rule 1: cannot be solved explicitly for 'x'"):
        im.load_sbml(_algebraic("x^2 + y - 2"))                 # two roots: a DAE, refused


def _fast_pairs(shared: bool) -> str:
    """A <-> B and C <-> D fast (kf 2, kr 1), B degraded slowly (k 0.3); with ``shared`` the
    second fast reaction is A <-> D instead."""
    def species(i, v):
        return (f'<species id="{i}" compartment="c" initialAmount="{v}" hasOnlySubstanceUnits="true" '
                'boundaryCondition="false" constant="false"/>')

    def reaction(rid, fast, reactant, product, law):
        import libsbml
        math = libsbml.writeMathMLToString(libsbml.parseL3Formula(law)).split("?>", 1)[-1]
        refs = (f'<listOfReactants><speciesReference species="{reactant}" stoichiometry="1" constant="true"/></listOfReactants>'
                + (f'<listOfProducts><speciesReference species="{product}" stoichiometry="1" constant="true"/></listOfProducts>'
                   if product else ""))
        return (f'<reaction id="{rid}" reversible="true" fast="{str(fast).lower()}">{refs}'
                f'<kineticLaw>{math}</kineticLaw></reaction>')

    second = reaction("J1", True, "A" if shared else "C", "D", f"2 * {'A' if shared else 'C'} - D")
    return _sbml('<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>'
                 f'<listOfSpecies>{species("A", 3)}{species("B", 0)}{species("C", 1)}{species("D", 2)}</listOfSpecies>'
                 '<listOfReactions>' + reaction("J0", True, "A", "B", "2 * A - B") + second
                 + reaction("deg", False, "B", "", "0.3 * B") + '</listOfReactions>'
                 ).replace("level3/version2/core", "level3/version1/core").replace('version="2"', 'version="1"')


def test_fast_reactions_on_separate_species_are_eliminated_one_after_the_other():
    # A:B and C:D held at kr:kf = 1:2; A + B decays through B alone, at 0.3 x 2/3 (closed form)
    m = im.load_sbml(_fast_pairs(shared=False))
    t = np.linspace(0.0, 5.0, 11)
    r = im.simulate(m, t, rtol=1e-10, atol=1e-12)
    total = 3.0 * np.exp(-0.3 * (2.0 / 3.0) * t)
    a, b = r["A"].values, r["B"].values
    np.testing.assert_allclose(a + b, total, rtol=1e-7)
    np.testing.assert_allclose(b, 2.0 / 3.0 * total, rtol=1e-7)
    np.testing.assert_allclose(r["C"].values, 1.0, rtol=1e-9)
    np.testing.assert_allclose(r["D"].values, 2.0, rtol=1e-9)
    with pytest.raises(ModelError, match=r"reactions 'J0', 'J1': fast reactions that share species"):
        im.load_sbml(_fast_pairs(shared=True))


def test_refusals_are_listed_together_with_ids():
    body = ('<listOfParameters><parameter id="x" value="1" constant="false"/></listOfParameters>'
            '<listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>x</ci>'
            '</math></algebraicRule><assignmentRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">'
            '<apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay">d'
            '</csymbol><ci>x</ci><cn>1</cn></apply></math></assignmentRule></listOfRules>'
            '<listOfEvents><event id="ev1" useValuesFromTriggerTime="true"><trigger initialValue="false" '
            'persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><true/></math>'
            '</trigger></event></listOfEvents>')
    with pytest.raises(ModelError) as err:
        im.load_sbml(_sbml(body))
    text = str(err.value)
    assert "rule for 'x'" in text and "delay()" in text
    with pytest.raises(ModelError, match="SBML line"):
        im.load_sbml("<sbml>not a model")
    with pytest.raises(ModelError, match="cannot read SBML file"):
        im.load_sbml(ROOT / "no-such-model.xml")


def test_hostile_files_are_errors_and_ids_are_never_code(tmp_path):
    lol = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    bomb = (f'<?xml version="1.0"?><!DOCTYPE m [{"".join(lol)}]>' + _sbml("").split("?>", 1)[1]
            .replace('<model id="m">', '<model id="m" name="&l9;">'))
    with pytest.raises(ModelError):
        im.load_sbml(bomb)
    xxe = ('<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           + _sbml("").split("?>", 1)[1].replace('<model id="m">', '<model id="m" name="&x;">'))
    with pytest.raises(ModelError, match="entity"):
        im.load_sbml(xxe)
    # ids that are Python keywords, builtins or our reserved names are renamed, not run
    model = im.load_sbml(_rules({"exec": "time + 1", "t": "2 * time", "lambda": "exec + t",
                                 "min": "3"}))
    r = im.simulate(model, t_eval=[0.0, 1.0], kernels="generic")
    assert list(model.values(r, "lambda")) == [1.0, 4.0]
    assert {s.id: s.name for s in model.sbml.symbols.values()}["t"] != "t"


def test_export_then_import_gives_the_same_trajectories():
    yaml_model = im.load_model(ROOT / "scenarios" / "models" / "antitnf_cytokine.yaml")
    model = im.load_sbml(to_sbml(yaml_model))
    t = np.linspace(0.0, 60.0, 31)
    ours = im.simulate(yaml_model, t, rtol=1e-10, atol=1e-14, kernels="generic")
    back = im.simulate(model, t, rtol=1e-10, atol=1e-14, kernels="generic")
    for name in yaml_model.species_names:
        a, b = ours[name].values, model.values(back, name)
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-12 * np.abs(a).max(), err_msg=name)
    for rule in yaml_model.rules:
        np.testing.assert_allclose(model.values(back, rule.name), ours[rule.name].values,
                                   rtol=1e-7, atol=1e-12, err_msg=rule.name)
    # units and sources travel through the file: unit definitions named by their text, and
    # each parameter's source in its notes
    for p in yaml_model.parameters:
        q = model.parameters[model.parameter_index[p.name]]
        assert q.source == p.source and q.unit == p.unit, p.name
    assert [s.unit for s in model.species] == [s.unit for s in yaml_model.species]
    assert model.time_unit == "day"


def test_the_export_is_built_and_checked_by_libsbml():
    import libsbml

    yaml_model = im.load_model(ROOT / "scenarios" / "models" / "antitnf_cytokine.yaml")
    doc = libsbml.readSBMLFromString(to_sbml(yaml_model))
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()                                   # every category, units included
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    assert not [e.getMessage() for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    m = doc.getModel()
    ud = m.getUnitDefinition(m.getParameter("ka").getUnits())      # 1/day
    assert ud.getName() == "1/day" and ud.getNumUnits() == 1
    u = ud.getUnit(0)
    assert libsbml.UnitKind_toString(u.getKind()) == "second" and u.getExponent() == -1
    assert (u.getMultiplier() * 10.0 ** u.getScale()) ** -1 == pytest.approx(1 / 86400.0)
    cells = m.getUnitDefinition(m.getSpecies("Tn").getSubstanceUnits())   # cells/uL: item/m^3
    kinds = {libsbml.UnitKind_toString(x.getKind()): x.getExponent()
             for x in (cells.getUnit(i) for i in range(cells.getNumUnits()))}
    assert kinds == {"item": 1, "metre": -3}
    assert "HUMIRA label 12.3" in m.getParameter("CL").getNotesString()
    assert m.getTimeUnits() and m.getUnitDefinition(m.getTimeUnits()).getName() == "day"


def test_events_export_and_import_back_and_pass_libsbmls_checks():
    import libsbml

    m = im.Model("ev", species=[im.Species(name="X", unit="1", initial=1.0),
                                im.Species(name="Y", unit="1", initial=0.0, nonnegative=False)],
                 parameters=[im.Parameter(name="k", value=0.5, unit="1/day", source="assumed: test")],
                 processes=[im.Process(name="d", rate="k*X", stoichiometry={"X": -1})],
                 events=[im.Event(name="refill", trigger="X < 0.5", assignments={"X": "X + 1"}),
                         im.Event(name="slow", trigger="t > 3 and Y < 1", delay="0.5", priority="2",
                                  assignments={"k": "0.25", "Y": "Y + t"}, persistent=False,
                                  use_values_from_trigger_time=False)])
    text = to_sbml(m)
    doc = libsbml.readSBMLFromString(text)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert not errors, errors
    back = im.load_sbml(text)
    t = np.linspace(0.0, 10.0, 41)
    a = im.simulate(m, t, rtol=1e-10, atol=1e-12, kernels="generic")
    b = im.simulate(back, t, rtol=1e-10, atol=1e-12, kernels="generic")
    for name in ("X", "Y"):
        np.testing.assert_allclose(back.values(b, name), a[name].values, rtol=1e-9, atol=1e-12)
    assert a["Y"].values[-1] == pytest.approx(3.5)


@needs_suite
def test_tiers_agree_on_an_imported_model_with_every_function():
    """The specialised kernels print the new functions (np.floor, math.gamma, math.asinh...):
    case 01488's trigonometric rules on both tiers."""
    model = im.load_sbml(SUITE / "01488" / "01488-sbml-l3v2.xml")
    t = np.linspace(0.05, 1.0, 20)
    a = im.simulate(model, t, kernels="generic").dataset["y"].values
    b = im.simulate(model, t, kernels="specialised").dataset["y"].values
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@needs_suite
def test_command_line_run_and_info(tmp_path):
    case = read_case(SUITE / "00001")
    out = tmp_path / "out.csv"
    cli = [sys.executable, "-m", "immunesim.cli", "sbml"]
    p = subprocess.run(cli + ["run", str(case.sbml), "--t-end", "5", "--points", "51", "-o", str(out),
                              "--amount", "S1,S2"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = np.genfromtxt(out, delimiter=",", names=True)
    want = np.genfromtxt(SUITE / "00001" / "00001-results.csv", delimiter=",", names=True)
    assert got.dtype.names == ("time", "S1", "S2")
    for k in ("time", "S1", "S2"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-12)
    p = subprocess.run(cli + ["info", str(case.sbml)], capture_output=True, text=True)
    assert p.returncode == 0 and "reactions" in p.stdout and "reported by default: S1, S2" in p.stdout
    p = subprocess.run(cli + ["info", str(SUITE / "00937" / "00937-sbml-l3v2.xml")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "rule for 'y': delay() in math is not supported" in p.stdout
    p = subprocess.run(cli + ["run", str(case.sbml), "--t-end", "5", "--points", "5", "-o",
                              str(out), "--variables", "S9"], capture_output=True, text=True)
    assert p.returncode == 2 and "'S9' is not an SBML id" in p.stderr and "Traceback" not in p.stderr


PETAB = ROOT.parent / "shared" / "petab"


@pytest.mark.parametrize("spec", [0, 1, 2, 3],
                         ids=["Kirschner1998", "Dwivedi2014", "Boehm2014", "Fujita2010"])
def test_published_models_agree_with_libroadrunner(spec):
    """Published models (BioModels BIOMD0000000732 and BIOMD0000000536, the latter with its
    dosing events given doses, and the shared PEtab problems' SBML files, one with a
    condition's values set) against libRoadRunner at rtol 1e-10: every reported id to 1e-6
    relative (benchmarks/sbml_real_models.py records the numbers: 1e-8 to 6e-8)."""
    pytest.importorskip("roadrunner", reason="libRoadRunner (the bench extra) is not installed")
    if spec > 1 and not PETAB.is_dir():
        pytest.skip(f"the shared PEtab problems are absent ({PETAB})")
    import importlib.util

    spec_file = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "sbml_real_models.py")
    bench = importlib.util.module_from_spec(spec_file)
    spec_file.loader.exec_module(bench)
    row = bench.compare(*bench.MODELS[spec])
    assert row["status"] == "success" and row["ids_compared"] >= 3
    assert row["max_rel_diff"] < 1e-6, row


def test_names_units_notes_and_annotations_stay_attached():
    text = _sbml(
        '<listOfUnitDefinitions><unitDefinition id="per_min"><listOfUnits>'
        '<unit kind="second" exponent="-1" scale="0" multiplier="60"/></listOfUnits>'
        '</unitDefinition></listOfUnitDefinitions>'
        '<listOfParameters><parameter metaid="m_k" id="k" name="rate of loss" value="2" '
        'units="per_min" constant="true">'
        '<notes><body xmlns="http://www.w3.org/1999/xhtml"><p>measured</p></body></notes>'
        '<annotation><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:bqbiol="http://biomodels.net/biology-qualifiers/"><rdf:Description rdf:about="#m_k">'
        '<bqbiol:is><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/sbo/SBO:0000009"/>'
        '</rdf:Bag></bqbiol:is></rdf:Description></rdf:RDF></annotation></parameter>'
        '</listOfParameters>')
    sym = im.load_sbml(text).sbml.symbols["k"]
    assert (sym.sbml_name, sym.units) == ("rate of loss", "per_min")
    assert "measured" in sym.notes and "SBO:0000009" in sym.annotation


def test_a_biomodels_immunotherapy_model_against_scipy_radau():
    """BioModels BIOMD0000000732 (Kirschner and Panetta 1998: tumour cells T, effector cells E,
    IL-2; function definitions, boundary species, a Level 2 ``time`` unit of a day) against
    SciPy's Radau at rtol 1e-12 on the same equations, written out from the file's math."""
    from scipy.integrate import solve_ivp

    model = im.load_sbml(ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000732.xml")
    assert model.time_unit == "day" and model.sbml.counts["function definitions (inlined)"] == 4
    k = {p.name: p.value for p in model.parameters}

    def f(_, y):
        T, E, IL = y
        return [k["r2"] * (1 - k["b"] * T) * T - k["a"] * E * T / (k["g2"] + T),
                k["s1"] + k["c"] * T + k["p1"] * E * IL / k["g1"] - k["mu2"] * E,
                k["s2"] + k["p2"] * E * T / (k["g3"] + T) - k["mu3"] * IL]

    t = np.linspace(0.0, 1000.0, 201)
    ref = solve_ivp(f, (0.0, 1000.0), [1.0, 0.0, 0.0], method="Radau", t_eval=t, rtol=1e-12,
                    atol=1e-10)
    r = im.simulate(model, t, rtol=1e-10, atol=1e-14, kernels="generic")
    for i, sid in enumerate(("Tumor", "Immune_cells", "IL2")):
        np.testing.assert_allclose(model.values(r, sid), ref.y[i], rtol=1e-6, atol=1e-6,
                                   err_msg=sid)


def test_a_biomodels_crohns_il6_model_keeps_its_steady_state_and_doses_at_its_events():
    """BioModels BIOMD0000000536 (Dwivedi et al. 2014: IL-6 trans-signalling in Crohn's disease,
    39 species in serum, liver, gut and a peripheral compartment, 66 reactions, function
    definitions, initial assignments, assignment rules and 13 dosing events with delays).
    The file's initial amounts are the untreated steady state, so with no dose every species
    stays where it starts for 14 weeks: a misread rate law, stoichiometry or initial
    assignment would move it. With doses set, each weekly event adds 2.346 nmol of sgp130Fc
    to serum per unit of the doses due that week (weekly, two-weekly, four-weekly)."""
    path = ROOT / "tests" / "data" / "biomodels" / "BIOMD0000000536.xml"
    model = im.load_sbml(path)
    c = model.sbml.counts
    assert (c["species"], c["reactions"], c["events"], c["rules"]) == (39, 66, 13, 3)
    assert model.time_unit == "hour"
    t = np.linspace(0.0, 2352.0, 15)
    r = im.simulate(model, t, rtol=1e-10, atol=1e-14)
    assert r.message == "success"
    for sid, sym in model.sbml.symbols.items():
        if sym.kind != "species" or sid == "species_1":
            continue
        v = model.values(r, sid)
        if abs(v[0]) < 1e-12:            # sgp130Fc and its complexes: none before a dose
            assert np.abs(v).max() < 1e-12, sid
        else:
            np.testing.assert_allclose(v, v[0], rtol=1e-8, err_msg=f"{sid} ({sym.sbml_name})")
    assert np.abs(model.values(r, "species_1")).max() < 1e-8      # CRP suppression, %

    dosed = im.load_sbml(path, values={"parameter_1": 10.0, "parameter_2": 3.0,
                                       "parameter_3": 20.0})
    weeks = np.array([0.1, 168, 336, 504, 672])
    due = np.array([10 + 3 + 20, 10, 10 + 3, 10, 10 + 3 + 20])
    t = np.sort(np.concatenate([weeks, weeks - 1e-7]))
    r = im.simulate(dosed, t, rtol=1e-10, atol=1e-14)
    fc = dosed.values(r, "mwf345ed7a_0622_403c_b816_c8749a2c9ded")          # serum sgp130Fc
    np.testing.assert_allclose(fc[1::2] - fc[0::2], 2.346 * due, rtol=1e-6)
    assert dosed.values(r, "species_1")[-1] > 0.1     # CRP falls once sgp130Fc is on board


def test_the_start_is_re_evaluated_as_an_import_with_the_values_set_would_give():
    """SBMLModel.start(values) against load_sbml(values=...), which sets them in the document
    and imports again: initial assignments that read them, an amount state in a compartment
    that changes size, and what cannot be set."""
    text = _sbml(
        '<listOfCompartments><compartment id="V" size="2" constant="false"/></listOfCompartments>'
        '<listOfSpecies><species id="S" compartment="V" initialConcentration="1" '
        'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>'
        '<species id="Q" compartment="V" initialConcentration="3" hasOnlySubstanceUnits="false" '
        'boundaryCondition="false" constant="false"/></listOfSpecies>'
        '<listOfParameters><parameter id="k" value="0.5" constant="true"/>'
        '<parameter id="g" value="0.1" constant="true"/></listOfParameters>'
        '<listOfInitialAssignments><initialAssignment symbol="S"><math '
        'xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>4</cn><ci>k</ci></apply>'
        '</math></initialAssignment></listOfInitialAssignments>'
        '<listOfRules><rateRule variable="V"><math xmlns="http://www.w3.org/1998/Math/MathML">'
        '<ci>g</ci></math></rateRule></listOfRules>'
        '<listOfReactions><reaction id="r" reversible="false"><listOfReactants><speciesReference '
        'species="S" stoichiometry="1" constant="true"/></listOfReactants><kineticLaw><math '
        'xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>S</ci><ci>V</ci>'
        '</apply></math></kineticLaw></reaction></listOfReactions>')
    model = im.load_sbml(text)
    for values in ({}, {"k": 1.5}, {"k": 0.2, "V": 5.0, "Q": 7.0}, {"g": 0.3}):
        y0, p = model.start(values)
        ref = im.load_sbml(text, values=values)
        np.testing.assert_array_equal(y0, ref.initial_vector(None), err_msg=str(values))
        np.testing.assert_array_equal(p, ref.parameter_vector(None), err_msg=str(values))
    y0, _ = model.start({"k": 1.5, "V": 5.0})
    assert y0[model.species_index[model.sbml.symbols["S"].amount]] == pytest.approx(4 * 1.5 * 5.0)
    with pytest.raises(im.ModelError, match="'S': cannot be set at the start .an initial assignment"):
        model.start({"S": 1.0})
    with pytest.raises(im.ModelError, match="'nope': cannot be set at the start .not a symbol"):
        model.start({"nope": 1.0})


@needs_suite
def test_the_start_matches_an_import_with_the_values_set_across_the_suite():
    """Every 25th Test Suite case: up to three settable ids each set to a new value, the start
    re-evaluated against a new import with the values set in the document (to the bit)."""
    import random

    rng = random.Random(3)
    cases = [c for c in sorted(p.name for p in SUITE.iterdir() if p.name.isdigit())][::25]
    checked = 0
    for case in cases:
        files = sorted((SUITE / case).glob(f"{case}-sbml-l*.xml"))
        if not files:
            continue
        text = files[-1].read_text()
        try:
            model = im.load_sbml(text)
        except im.ModelError:
            continue                  # refused cases
        if model.start_recipe is None:
            continue                  # fast reactions, rateOf: imported again instead
        ids = [sid for sid, s in model.sbml.symbols.items()
               if s.kind in ("parameter", "compartment", "species")
               and sid not in model.start_recipe.fixed]
        for sid in ids[:3]:
            v = rng.uniform(0.5, 2.0)
            try:
                ref = im.load_sbml(text, values={sid: v})
            except im.ModelError:
                continue              # e.g. a start that is no longer finite
            y0, p = model.start({sid: v})
            np.testing.assert_array_equal(y0, ref.initial_vector(None), err_msg=f"{case} {sid}")
            np.testing.assert_array_equal(p, ref.parameter_vector(None), err_msg=f"{case} {sid}")
            checked += 1
    assert checked > 100
