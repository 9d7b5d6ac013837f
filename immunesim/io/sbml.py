"""SBML Level 3 Version 2 export, so the same model runs in libRoadRunner, COPASI or Tellurium.

Mapping: one compartment of size 1 (species values are concentrations);
parameters are global constants (variable where a state event sets them); assignment rules stay
assignment rules; state events stay SBML events;
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

from ..model.expr import TIME, chain, signs
from ..model.model import Model

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


def _events(model: Model) -> list[str]:
    """The model's state events as SBML events, with the same semantics (immunesim's Event
    follows SBML's)."""
    out = []
    for e in model.events:
        flags = (f'initialValue="{str(e.initial_value).lower()}" '
                 f'persistent="{str(e.persistent).lower()}"')
        cond = e.parsed_trigger.tree.args[1]         # the trigger: piecewise(1, condition, 0)
        out += [f'<event id="{e.name}" useValuesFromTriggerTime='
                f'"{str(e.use_values_from_trigger_time).lower()}">',
                f'<trigger {flags}><math xmlns="http://www.w3.org/1998/Math/MathML">'
                f"{_mathml(cond)}</math></trigger>"]
        if e.parsed_delay is not None:
            out.append(f"<delay>{_math(e.parsed_delay)}</delay>")
        if e.parsed_priority is not None:
            out.append(f"<priority>{_math(e.parsed_priority)}</priority>")
        out.append("<listOfEventAssignments>")
        out += [f'<eventAssignment variable="{target}">{_math(x)}</eventAssignment>'
                for target, x in e.parsed_assignments]
        out += ["</listOfEventAssignments>", "</event>"]
    return out


def _sid(text: str) -> str:
    """An SBML identifier (SId: a letter or '_', then letters, digits, '_') from any text."""
    sid = re.sub(r"[^A-Za-z0-9_]", "_", text)[:200]
    return sid if re.match(r"^[A-Za-z_]", sid) else f"m_{sid}"


def _attribute(text: str) -> str:
    """``text`` as an XML attribute value: escaped, without the characters XML forbids."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    return escape(text, {'"': "&quot;", "\n": "&#10;"})


def _math(expr) -> str:
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML">{_mathml(expr.tree)}</math>'


def to_sbml(model: Model, params: Mapping[str, float] | None = None,
            y0: Mapping[str, float] | None = None, doses: Iterable[Mapping] = ()) -> str:
    """The SBML L3V2 text of ``model``.

    ``doses``: regimens ``{target, amount, every, count, start}`` (as in a model file's
    ``simulation.doses``), each exported as one periodic event.
    """
    p = model.parameter_vector(params)
    y = model.initial_vector(y0)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">',
           f'<model id="{_sid(model.name)}" name="{_attribute(model.name)}">',
           '<listOfCompartments><compartment id="c" size="1" constant="true" '
           'spatialDimensions="3"/></listOfCompartments>', "<listOfSpecies>"]
    out += [f'<species id="{s.name}" compartment="c" initialConcentration="{float(y[i])!r}" '
            'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>'
            for i, s in enumerate(model.species)]
    out += ["</listOfSpecies>", "<listOfParameters>"]
    set_by_events = {t for e in model.events for t in e.assignments}
    out += [f'<parameter id="{q.name}" value="{float(p[j])!r}" '
            f'constant="{"false" if q.name in set_by_events else "true"}"/>'
            for j, q in enumerate(model.parameters)]
    out += [f'<parameter id="{r.name}" constant="false"/>' for r in model.rules]
    doses = list(doses)
    for k, d in enumerate(doses):
        out += [f'<parameter id="dose{k}_next" value="{float(d.get("start", 0.0))!r}" constant="false"/>',
                f'<parameter id="dose{k}_left" value="{int(d.get("count", 1))}" constant="false"/>']
    out.append("</listOfParameters>")
    if model.rules:
        out.append("<listOfRules>")
        out += [f'<assignmentRule variable="{r.name}">{_math(r.parsed)}</assignmentRule>'
                for r in model.rules]
        out.append("</listOfRules>")
    out.append("<listOfReactions>")
    species = set(model.species_names)
    for proc in model.processes:
        out.append(f'<reaction id="{proc.name}" reversible="false">')
        for tag, sign in (("listOfReactants", -1), ("listOfProducts", 1)):
            refs = [f'<speciesReference species="{s}" stoichiometry="{abs(c)!r}" constant="true"/>'
                    for s, c in proc.stoichiometry.items() if c * sign > 0]
            if refs:
                out += [f"<{tag}>", *refs, f"</{tag}>"]
        mods = sorted((proc.parsed.names & species) - set(proc.stoichiometry))
        if mods:
            out += ["<listOfModifiers>", *(f'<modifierSpeciesReference species="{m}"/>'
                                           for m in mods), "</listOfModifiers>"]
        out += [f"<kineticLaw>{_math(proc.parsed)}</kineticLaw>", "</reaction>"]
    out.append("</listOfReactions>")
    if doses or model.events:
        out.append("<listOfEvents>")
        out += _events(model)
        for k, d in enumerate(doses):
            trig = (f"<apply><and/><apply><geq/>{_TIME}<ci>dose{k}_next</ci></apply>"
                    f'<apply><gt/><ci>dose{k}_left</ci><cn type="integer">0</cn></apply></apply>')
            assign = [(d["target"], f'<apply><plus/><ci>{d["target"]}</ci><cn>{float(d["amount"])!r}</cn></apply>'),
                      (f"dose{k}_next", f'<apply><plus/><ci>dose{k}_next</ci><cn>{float(d["every"])!r}</cn></apply>'),
                      (f"dose{k}_left", f'<apply><minus/><ci>dose{k}_left</ci><cn type="integer">1</cn></apply>')]
            out += [f'<event id="dose{k}" useValuesFromTriggerTime="true">',
                    '<trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                    f"{trig}</math></trigger>", "<listOfEventAssignments>"]
            out += [f'<eventAssignment variable="{v}"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                    f"{m}</math></eventAssignment>" for v, m in assign]
            out += ["</listOfEventAssignments>", "</event>"]
        out.append("</listOfEvents>")
    out += ["</model>", "</sbml>"]
    return "\n".join(out)
