"""SBML Level 3 Version 2 export, so the same model runs in libRoadRunner, COPASI or Tellurium.

The document is built with python-libsbml's API and checked by its consistency checks before it
is written (errors raise; unit warnings are expected, see :func:`to_sbml`).

Mapping: one dimensionless compartment of size 1, so a species' value is its concentration in
its own unit (its ``substanceUnits``); parameters are global constants (variable where a state
event sets them), with their units as unit definitions and their sources as notes; assignment
rules stay assignment rules; state events stay SBML events;
each process is a reaction whose kinetic law is its rate, reactants and
products from the sign of each stoichiometric coefficient, and every other
species its rate reads listed as a modifier. Regular dosing becomes one
periodic event per regimen (trigger ``time >= next dose``), the way an SBML
modeller writes it. MathML is produced from immunesim's own parsed
expressions, so what is exported is exactly what the kernels compute.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable, Mapping
from xml.sax.saxutils import escape

from ..errors import ModelError
from ..model.expr import TIME, chain, signs
from ..model.model import Model
from ..units import UnitProblem, registry, to_unit

_OPS = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "divide",
        ast.Pow: "power"}
_CMP = {ast.Lt: "lt", ast.LtE: "leq", ast.Gt: "gt", ast.GtE: "geq", ast.Eq: "eq", ast.NotEq: "neq"}
_FUN = {"exp": "exp", "log": "ln", "sqrt": "root", "abs": "abs", "min": "min", "max": "max",
        "pow": "power", "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin",
        "acos": "arccos", "atan": "arctan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
        "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "floor": "floor",
        "ceil": "ceiling", "factorial": "factorial"}
_TIME = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>'


def _mathml(node) -> str:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int):
            return f'<cn type="integer">{node.value}</cn>'
        return f"<cn>{node.value!r}</cn>"
    if isinstance(node, ast.Name):
        return _TIME if node.id == TIME else f"<ci>{node.id}</ci>"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return f"<apply><power/>{_mathml(node.left)}{_mathml(node.right)}</apply>"
    if isinstance(node, ast.BinOp):          # a chain of + - or * /, without recursion
        first, steps = chain(node)
        text = _mathml(first)
        for op, right, _ in steps:
            text = f"<apply><{_OPS[type(op)]}/>{text}{_mathml(right)}</apply>"
        return text
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return f"<apply><not/>{_mathml(node.operand)}</apply>"
        negative, operand = signs(node)
        return f"<apply><minus/>{_mathml(operand)}</apply>" if negative else _mathml(operand)
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators):
            parts.append(f"<apply><{_CMP[type(op)]}/>{_mathml(left)}{_mathml(right)}</apply>")
            left = right
        return parts[0] if len(parts) == 1 else f"<apply><and/>{''.join(parts)}</apply>"
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return f"<apply><{op}/>{''.join(_mathml(v) for v in node.values)}</apply>"
    name, args = node.func.id, node.args
    if name == "piecewise":
        pieces = "".join(f"<piece>{_mathml(args[i])}{_mathml(args[i + 1])}</piece>"
                         for i in range(0, len(args) - 1, 2))
        return f"<piecewise>{pieces}<otherwise>{_mathml(args[-1])}</otherwise></piecewise>"
    if name == "hill":
        x, k, n = (_mathml(a) for a in args)
        xn, kn = f"<apply><power/>{x}{n}</apply>", f"<apply><power/>{k}{n}</apply>"
        return f"<apply><divide/>{xn}<apply><plus/>{kn}{xn}</apply></apply>"
    return f"<apply><{_FUN[name]}/>{''.join(_mathml(a) for a in args)}</apply>"


_MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'
#: Pint's base units -> SBML unit kinds; the model's own dimensions (arbitrary units, pathogen
#: load, alleles) have no SBML kind and become dimensionless (the unit's name keeps the text)
_KINDS = {"meter": "metre", "kilogram": "kilogram", "gram": "gram", "second": "second",
          "mole": "mole", "cell": "item", "cells": "item", "ampere": "ampere", "kelvin": "kelvin",
          "candela": "candela"}


class _Document:
    """An SBML L3V2 document under construction with python-libsbml."""

    def __init__(self, model: Model):
        import libsbml      # a compiled library: loaded when SBML is written

        self.L = libsbml
        self.doc = libsbml.SBMLDocument(3, 2)
        self.m = self.doc.createModel()
        self.units: dict[str, str] = {}
        self._ok(self.m.setId(_sid(model.name)), "model id")
        self._ok(self.m.setName(_printable(model.name)), "model name")

    def _ok(self, code: int, what: str) -> None:
        if code != self.L.LIBSBML_OPERATION_SUCCESS:
            raise ModelError(f"SBML export: libsbml refused the {what} "
                             f"({self.L.OperationReturnValue_toString(code)})")

    def math(self, element, mathml: str, what: str) -> None:
        ast_node = self.L.readMathMLFromString(_MATH.format(mathml))
        if ast_node is None:
            raise ModelError(f"SBML export: the math of {what} is not valid MathML")
        self._ok(element.setMath(ast_node), f"math of {what}")

    def notes(self, element, lines) -> None:
        body = "".join(f"<p>{escape(_printable(x))}</p>" for x in lines if x)
        if body:
            self._ok(element.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'),
                     "notes")

    def unit(self, text: str) -> str:
        """The id of a unit definition of ``text`` (created once), or ``dimensionless``."""
        text = text.strip()
        if text in ("1", "", "dimensionless"):
            return "dimensionless"
        if text not in self.units:
            uid = _sid(f"u_{text}")
            while uid in self.units.values():
                uid += "_"
            ud = self.m.createUnitDefinition()
            self._ok(ud.setId(uid), f"unit {text!r}")
            self._ok(ud.setName(_printable(text)), f"unit {text!r}")
            factor, parts = _base_units(text)
            if not parts:
                parts = [("dimensionless", 1.0)]
            for k, (kind, exponent) in enumerate(parts):
                u = ud.createUnit()
                u.setKind(self.L.UnitKind_forName(kind))
                u.setExponent(exponent)
                u.setScale(0)
                u.setMultiplier(factor ** (1.0 / exponent) if k == 0 and factor > 0 else 1.0)
            self.units[text] = uid
        return self.units[text]

    def check(self) -> None:
        """libsbml's consistency checks: an error is a bug of this export, so it raises."""
        self.doc.checkConsistency()
        errors = [self.doc.getError(i) for i in range(self.doc.getNumErrors())]
        bad = [e for e in errors if e.getSeverity() >= self.L.LIBSBML_SEV_ERROR]
        if bad:
            raise ModelError([f"SBML export failed libsbml's consistency checks: "
                              f"{e.getMessage().strip()}" for e in bad[:10]])


def _base_units(text: str) -> tuple[float, list[tuple[str, float]]]:
    """(factor, [(SBML unit kind, exponent)]) of a unit text, by Pint; (1, []) where Pint cannot
    read it or it has no SBML kind."""
    try:
        to_unit(f"1 {text}", text)                # the bounds and character checks first
        q = registry().Quantity(1.0, text).to_base_units()
    except (UnitProblem, Exception):  # noqa: BLE001 - Pint's parser: any failure is "unknown"
        return 1.0, []
    parts = [(_KINDS[str(u)], float(e)) for u, e in q.unit_items() if str(u) in _KINDS]
    return float(q.magnitude), parts


def _printable(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", str(text))


def _events(doc: _Document, model: Model) -> None:
    """The model's state events as SBML events, with the same semantics (immunesim's Event
    follows SBML's)."""
    for e in model.events:
        ev = doc.m.createEvent()
        doc._ok(ev.setId(e.name), f"event {e.name!r}")
        ev.setUseValuesFromTriggerTime(bool(e.use_values_from_trigger_time))
        tr = ev.createTrigger()
        tr.setInitialValue(bool(e.initial_value))
        tr.setPersistent(bool(e.persistent))
        cond = e.parsed_trigger.tree.args[1]         # the trigger: piecewise(1, condition, 0)
        doc.math(tr, _mathml(cond), f"event {e.name!r} trigger")
        if e.parsed_delay is not None:
            doc.math(ev.createDelay(), _mathml(e.parsed_delay.tree), f"event {e.name!r} delay")
        if e.parsed_priority is not None:
            doc.math(ev.createPriority(), _mathml(e.parsed_priority.tree), f"event {e.name!r} priority")
        for target, x in e.parsed_assignments:
            ea = ev.createEventAssignment()
            doc._ok(ea.setVariable(target), f"event {e.name!r} assignment")
            doc.math(ea, _mathml(x.tree), f"event {e.name!r} assignment to {target!r}")


def _sid(text: str) -> str:
    """An SBML identifier (SId: a letter or '_', then letters, digits, '_') from any text."""
    sid = re.sub(r"[^A-Za-z0-9_]", "_", text)[:200]
    return sid if re.match(r"^[A-Za-z_]", sid) else f"m_{sid}"


def to_sbml(model: Model, params: Mapping[str, float] | None = None,
            y0: Mapping[str, float] | None = None, doses: Iterable[Mapping] = ()) -> str:
    """The SBML L3V2 text of ``model``, built and checked with python-libsbml.

    ``doses``: regimens ``{target, amount, every, count, start}`` (as in a model file's
    ``simulation.doses``), each exported as one periodic event.

    Units: each species' unit is its ``substanceUnits`` in a dimensionless compartment of size
    1, each parameter's and rule's its ``units``, the time unit the model's; each a unit
    definition that Pint decomposes into SBML's base units (the model's own arbitrary units,
    pathogen load and alleles have none: dimensionless, named by the unit's text). libsbml's
    unit checks then warn where a kinetic law's units differ from substance per time (the
    model's rates are in each species' own unit per time); its other checks must pass.
    """
    p = model.parameter_vector(params)
    y = model.initial_vector(y0)
    doc = _Document(model)
    m = doc.m
    doc.notes(m, [model.description, *(f"reference: {r}" for r in model.references)])
    doc._ok(m.setTimeUnits(doc.unit(model.time_unit)), "time unit")
    c = m.createCompartment()
    c.setId("c"), c.setSize(1.0), c.setConstant(True), c.setSpatialDimensions(3)
    c.setUnits("dimensionless")
    for i, s in enumerate(model.species):
        sp = m.createSpecies()
        doc._ok(sp.setId(s.name), f"species {s.name!r}")
        sp.setCompartment("c")
        sp.setInitialConcentration(float(y[i]))
        sp.setHasOnlySubstanceUnits(False), sp.setBoundaryCondition(False), sp.setConstant(False)
        sp.setSubstanceUnits(doc.unit(s.unit))
    set_by_events = {t for e in model.events for t in e.assignments}
    for j, q in enumerate(model.parameters):
        par = m.createParameter()
        doc._ok(par.setId(q.name), f"parameter {q.name!r}")
        par.setValue(float(p[j]))
        par.setConstant(q.name not in set_by_events)
        par.setUnits(doc.unit(q.unit))
        doc.notes(par, [f"source: {q.source}"])
    for r in model.rules:
        par = m.createParameter()
        doc._ok(par.setId(r.name), f"rule {r.name!r}")
        par.setConstant(False)
        par.setUnits(doc.unit(r.unit))
    doses = list(doses)
    for k, d in enumerate(doses):
        for name, value in ((f"dose{k}_next", float(d.get("start", 0.0))),
                            (f"dose{k}_left", float(int(d.get("count", 1))))):
            par = m.createParameter()
            par.setId(name), par.setValue(value), par.setConstant(False)
            par.setUnits(doc.unit(model.time_unit) if name.endswith("next") else "dimensionless")
    for r in model.rules:
        rule = m.createAssignmentRule()
        rule.setVariable(r.name)
        doc.math(rule, _mathml(r.parsed.tree), f"rule {r.name!r}")
    species = set(model.species_names)
    for proc in model.processes:
        rx = m.createReaction()
        doc._ok(rx.setId(proc.name), f"reaction {proc.name!r}")
        rx.setReversible(False)
        for s_name, coef in proc.stoichiometry.items():
            ref = rx.createReactant() if coef < 0 else rx.createProduct()
            ref.setSpecies(s_name), ref.setStoichiometry(abs(float(coef))), ref.setConstant(True)
        for mod in sorted((proc.parsed.names & species) - set(proc.stoichiometry)):
            rx.createModifier().setSpecies(mod)
        doc.math(rx.createKineticLaw(), _mathml(proc.parsed.tree), f"process {proc.name!r}")
    _events(doc, model)
    for k, d in enumerate(doses):
        ev = m.createEvent()
        ev.setId(f"dose{k}"), ev.setUseValuesFromTriggerTime(True)
        tr = ev.createTrigger()
        tr.setInitialValue(False), tr.setPersistent(True)
        doc.math(tr, f"<apply><and/><apply><geq/>{_TIME}<ci>dose{k}_next</ci></apply>"
                     f'<apply><gt/><ci>dose{k}_left</ci><cn type="integer">0</cn></apply></apply>',
                 f"dose {k} trigger")
        for var, mathml in (
                (d["target"], f'<apply><plus/><ci>{d["target"]}</ci><cn>{float(d["amount"])!r}</cn></apply>'),
                (f"dose{k}_next", f'<apply><plus/><ci>dose{k}_next</ci><cn>{float(d["every"])!r}</cn></apply>'),
                (f"dose{k}_left", f'<apply><minus/><ci>dose{k}_left</ci><cn type="integer">1</cn></apply>')):
            ea = ev.createEventAssignment()
            doc._ok(ea.setVariable(var), f"dose {k} assignment")
            doc.math(ea, mathml, f"dose {k}")
    doc.check()
    return doc.L.writeSBMLToString(doc.doc)
