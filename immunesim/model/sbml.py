"""SBML import: an SBML model (Levels 2 and 3, core; ``comp`` flattened) as an immunesim Model.

The file is read by python-libsbml, the format's reference parser (never by hand). Its function
definitions are inlined and its local parameters made global by libsbml's own converters; its
math is then translated node by node into immunesim's expression language, whose text is parsed
and checked like any model file's (:mod:`immunesim.model.expr`): nothing in an SBML file is ever
executed, and an element the engine cannot simulate exactly is refused, with its id and the
construct named, before anything runs.

How SBML's quantities become the Model's (the conventions of the SBML Level 3 spec, section 4):

- a species changed by reactions has its **amount** as a state variable (``<id>_amount`` unless
  ``hasOnlySubstanceUnits``, where the symbol is the amount itself): reactions change amounts,
  ``d n / dt = sum_r stoichiometry * conversion factor * rate_r``, and the species' symbol (its
  concentration, ``n / V``) is an assignment rule, so a compartment that changes size dilutes
  it as SBML says. In a compartment of fixed size (no rule or event changes it) the
  concentration itself is the state, changed by ``rate_r / V``: the same model, and a cohort
  records less;
- a rate rule makes its target a state variable holding the target's symbol value (a species'
  concentration unless ``hasOnlySubstanceUnits``); an assignment rule makes it a rule;
- every reaction's rate (its kinetic law, in substance per time) is a rule named by the
  reaction's id, so math that names a reaction reads its rate, as SBML says;
- everything else is a parameter holding its value at the start, after initial assignments
  and assignment rules are evaluated together in dependency order (a species without either
  keeps its amount; its concentration follows its compartment's size).

Events become the engine's state events (:class:`~immunesim.model.components.Event`: the trigger's
change located by the solver; delay, priority, persistence, initial value and values from the
trigger time as SBML defines them).

Algebraic rules are solved for the variable each determines, exactly (SymPy), where that
has one explicit solution: they then are assignment rules.

A fast reaction (always at equilibrium) is eliminated exactly the same way
(:meth:`_Importer.equilibrate`).

Not supported yet, and refused naming the element: algebraic rules without an explicit solution,
``delay``, fast reactions that share species or one without an explicit equilibrium,
SBML packages other than ``comp`` that a file requires, and math outside SBML's subset.
"""

from __future__ import annotations

import functools
import keyword
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

import numpy as np

from ..errors import ExpressionError, ModelError
from .components import Event, Parameter, Process, Rule, Species
from .expr import RESERVED, TIME, evaluate, from_sympy, parse, to_sympy
from .model import Model
from .symbolic import symbolic_budget

#: largest SBML file read, bytes (BioModels' largest curated models are a few MB)
MAX_SBML_BYTES = 64 * 1024 * 1024
#: the source recorded for every imported parameter
SOURCE = "SBML model"
_SID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_UNIT_TEXT = re.compile(r"^[A-Za-z0-9_/*^(). -]+$")


@dataclass(frozen=True)
class SBMLSymbol:
    """One SBML symbol and what it became in the Model.

    ``name``: the Model's name for the symbol's value (species: concentration unless
    ``only_substance``); ``role``: ``"state"``, ``"rule"`` or ``"parameter"``; ``amount``: for
    a species whose amount is kept apart from its symbol, that amount's name (a state or a
    parameter), else None; ``compartment``: a species' compartment's name."""

    id: str
    kind: str
    name: str
    role: str
    sbml_name: str = ""
    units: str = ""
    compartment: str | None = None
    only_substance: bool = False
    amount: str | None = None
    changes: bool = False
    notes: str = field(default="", repr=False)        # the element's notes (XHTML), as in the file
    annotation: str = field(default="", repr=False)   # its annotation (MIRIAM RDF, ...), as in the file


@dataclass
class SBMLInfo:
    """What an import kept of the SBML file: every symbol by SBML id (in document order), the
    counts of each kind of element, the Level/Version, and the model's annotations/notes."""

    symbols: dict[str, SBMLSymbol] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    level: int = 3
    version: int = 2
    model_id: str = ""
    notes: str = ""
    annotation: str = ""

    def reported(self) -> list[str]:
        """The ids a time course reports by default (the SBML Test Suite's convention): every
        species that can change, then every parameter, compartment and species reference that
        a rule changes."""
        species = [s.id for s in self.symbols.values() if s.kind == "species" and s.changes]
        others = [s.id for s in self.symbols.values()
                  if s.kind in ("parameter", "compartment", "speciesReference") and s.changes]
        return species + others


class SBMLModel(Model):
    """A Model imported from SBML; ``sbml`` (:class:`SBMLInfo`) maps SBML ids to its names."""

    def __init__(self, *args, sbml: SBMLInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.sbml = sbml
        self.start_recipe: StartRecipe | None = None      # set by the import (see start())

    def start(self, values: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(y0, p)``: the initial state and parameter vector with SBML ids set to ``values``
        as :func:`load_sbml` ``values=`` would set them in the document (initial assignments and
        assignment rules re-evaluated), without importing again: a patient's or a fit's values
        at the cost of evaluating the start expressions. Raises ModelError for an id that is
        not settable, and for models whose start is derived otherwise (fast reactions, rateOf)."""
        recipe = self.start_recipe
        if recipe is None:
            raise ModelError(f"model '{self.name}': its start cannot be re-evaluated (a fast "
                             "reaction or rateOf); import it again with load_sbml(values=...)")
        t0 = dict(recipe.t0)
        for sid, v in values.items():
            if sid not in t0 or sid in recipe.fixed:
                why = ("an initial assignment, an assignment rule or a reaction sets it"
                       if sid in recipe.fixed else "not a symbol of the SBML model")
                raise ModelError(f"'{sid}': cannot be set at the start ({why})")
            t0[sid] = _number(float(v))
        start, problems = start_values(t0, recipe.names)
        if problems:
            raise ModelError(problems)
        y0, p = self.initial_vector(None).copy(), self.parameter_vector(None).copy()
        for name, (sid, comp) in recipe.recipes.items():
            v = start.get(sid, math.nan) * (start.get(comp, math.nan) if comp else 1.0)
            if not math.isfinite(v):
                raise ModelError(f"'{sid}': its value at the start is not a finite number ({v})")
            if name in self.species_index:
                y0[self.species_index[name]] = v
            elif name in self.parameter_index:
                p[self.parameter_index[name]] = v
        return y0, p

    def start_slopes(self, values: dict, wrt) -> tuple[np.ndarray, np.ndarray]:
        """``(dy0, dp)``: the derivatives of :meth:`start`'s ``(y0, p)`` at ``values`` with
        respect to each SBML id of ``wrt`` (ids among ``values``), as arrays (species x wrt,
        parameters x wrt). Exact: the chain rule through the initial assignments and assignment
        rules, each expression's partial derivatives taken once by SymPy
        (:func:`_start_partials`). Raises ModelError where :meth:`start` would, or where a
        derivative cannot be written (the caller may then difference :meth:`start`)."""
        recipe = self.start_recipe
        if recipe is None:
            raise ModelError(f"model '{self.name}': its start cannot be re-evaluated")
        wrt = list(wrt)
        missing = [w for w in wrt if w not in values]
        if missing:
            raise ModelError(f"start_slopes: {', '.join(missing)} not among the values set")
        t0 = dict(recipe.t0)
        for sid, v in values.items():
            if sid not in t0 or sid in recipe.fixed:
                raise ModelError(f"'{sid}': cannot be set at the start")
            t0[sid] = _number(float(v))
        start, problems = start_values(t0, recipe.names)
        if problems:
            raise ModelError(problems)
        names = recipe.names
        env = {names[sid]: v for sid, v in start.items() if sid in names}
        env[TIME] = 0.0
        by_name = {names[sid]: sid for sid in t0 if sid in names}
        unit = {w: np.eye(len(wrt))[k] for k, w in enumerate(wrt)}
        slope: dict[str, np.ndarray] = {}
        for sid in _dependency_order(t0, by_name):
            if sid in unit:
                slope[sid] = unit[sid]
                continue
            d = np.zeros(len(wrt))
            if t0[sid] != "nan":
                for name, partial in _start_partials(t0[sid], sid):
                    dep = by_name.get(name)
                    if dep is not None and np.any(slope[dep]):
                        d = d + evaluate(partial, env) * slope[dep]
            slope[sid] = d
        dy0 = np.zeros((len(self.species), len(wrt)))
        dp = np.zeros((len(self.parameters), len(wrt)))
        for name, (sid, comp) in recipe.recipes.items():
            zero = np.zeros(len(wrt))
            d = slope.get(sid, zero)
            if comp:
                d = d * start.get(comp, math.nan) + start.get(sid, math.nan) * slope.get(comp, zero)
            if name in self.species_index:
                dy0[self.species_index[name]] = d
            elif name in self.parameter_index:
                dp[self.parameter_index[name]] = d
        return dy0, dp

    def values(self, result, sbml_id: str, as_: str | None = None):
        """The time course of SBML symbol ``sbml_id`` in ``result`` (a simulation of this model,
        one patient), as an array over ``result.time``: the symbol's value, or for a species
        ``as_="amount"`` or ``"concentration"``."""
        try:
            sym = self.sbml.symbols[sbml_id]
        except KeyError:
            raise ModelError(f"'{sbml_id}' is not an SBML id of model '{self.name}' (ids: "
                             f"{', '.join(list(self.sbml.symbols)[:20])})") from None

        def series(name):
            if name in result.variables:
                return np.asarray(result[name].values, dtype=float)
            return np.full(result.time.size, self.parameters[self.parameter_index[name]].value)

        if sym.role == "inline":
            raise ModelError(f"reaction '{sbml_id}': its rate is not reported (the model was "
                             "imported with report_rates=False)")
        value = series(sym.name)
        if sym.kind != "species" or as_ is None:
            return value
        if as_ not in ("amount", "concentration"):
            raise ModelError(f"as_ must be 'amount' or 'concentration', got {as_!r}")
        if (as_ == "amount") == sym.only_substance:
            return value
        size = series(sym.compartment)
        return value * size if as_ == "amount" else value / size


def load_sbml(source, *, report_rates: bool = True, values: dict | None = None) -> SBMLModel:
    """Import an SBML model (a path, or the XML text itself) as an :class:`SBMLModel`.

    ``report_rates``: every reaction's rate is a rule, reported in results (default). False
    keeps rules only for the reactions that math names: the kinetic laws are written into the
    processes, and a cohort records only the species and the model's own rules (faster where
    outputs are many: see ``benchmarks/sbml_batch.py``).

    ``values``: ``{SBML id: number}`` set in the document before it is imported: a parameter's
    value, a compartment's size, a species' initial value (its symbol's: the concentration
    unless ``hasOnlySubstanceUnits``). Initial assignments and rules that read them are then
    evaluated with them, as if the file said so. An id whose value an initial assignment or an
    assignment rule sets is refused (the file would overwrite it).

    Raises :class:`~immunesim.errors.ModelError` listing every problem: libsbml's errors in the
    file, and every element that cannot be simulated exactly (with its id and the construct)."""
    import libsbml      # a compiled library: loaded when SBML is read, not with immunesim

    text, path = _read(source)
    # from its file where there is one: a comp model's external model definitions are found
    # relative to it
    doc = libsbml.readSBMLFromFile(str(path)) if path is not None else libsbml.readSBMLFromString(text)
    problems = [f"SBML line {e.getLine()}: {e.getMessage().strip()}"
                for e in (doc.getError(i) for i in range(doc.getNumErrors()))
                if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if problems:
        raise ModelError(problems)
    if doc.getModel() is None:
        raise ModelError("the SBML document has no model")
    n_functions = doc.getModel().getNumFunctionDefinitions()
    _convert(doc, libsbml)
    if values:
        _set_values(doc.getModel(), values)
    importer = _Importer(doc, libsbml)
    importer.report_rates = bool(report_rates)
    model = importer.build()
    model.sbml.counts["function definitions (inlined)"] = n_functions
    return model


def _set_values(m, values: dict) -> None:
    """Set ``values`` (SBML id -> number) in model ``m`` (see :func:`load_sbml`)."""
    problems = []
    for sid, v in values.items():
        el = m.getParameter(sid) or m.getCompartment(sid) or m.getSpecies(sid)
        if el is None:
            problems.append(f"'{sid}': not a parameter, compartment or species of the SBML model")
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            problems.append(f"'{sid}': expected a finite number, got {v!r}")
            continue
        rule = m.getRule(sid)
        if m.getInitialAssignment(sid) is not None:
            problems.append(f"'{sid}': an initial assignment in the SBML model sets its value; "
                            "change what that assignment reads instead")
        elif rule is not None and rule.isAssignment():
            problems.append(f"'{sid}': an assignment rule in the SBML model sets its value at "
                            "every time; change what that rule reads instead")
        elif m.getSpecies(sid) is not None:
            if el.getHasOnlySubstanceUnits():
                el.unsetInitialConcentration()
                el.setInitialAmount(float(v))
            else:
                el.unsetInitialAmount()
                el.setInitialConcentration(float(v))
        elif m.getCompartment(sid) is not None:
            el.setSize(float(v))
        else:
            el.setValue(float(v))
    if problems:
        raise ModelError(problems)


def _read(source) -> tuple[str | None, Path | None]:
    """``(text, None)`` for SBML text, ``(None, path)`` for a readable file within the size
    bound."""
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("<")):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ModelError(f"cannot read SBML file '{path}': {exc.strerror}") from None
        if size > MAX_SBML_BYTES:
            raise ModelError(f"SBML file '{path}' is {size} bytes; at most {MAX_SBML_BYTES} allowed")
        if not path.is_file():
            raise ModelError(f"cannot read SBML file '{path}': not a file")
        return None, path
    if not isinstance(source, str):
        raise ModelError(f"load_sbml: expected a path or SBML text, got {type(source).__name__}")
    if len(source) > MAX_SBML_BYTES:
        raise ModelError(f"the SBML text is {len(source)} characters; at most {MAX_SBML_BYTES} allowed")
    return source, None


def _convert(doc, libsbml) -> None:
    """Flatten ``comp``, inline function definitions, make local parameters global: libsbml's
    converters, in that order. Other packages that bear on the math are refused."""
    problems = []
    for i in range(doc.getNumPlugins() if doc.getLevel() >= 3 else 0):   # Level 2: annotations
        prefix = doc.getPlugin(i).getPrefix()
        if prefix != "comp" and doc.getPackageRequired(prefix):
            problems.append(f"SBML package '{prefix}' is required by the file and not supported")
    if problems:
        raise ModelError(problems)

    def run(option, what):
        props = libsbml.ConversionProperties()
        props.addOption(option, True)
        if option == "flatten comp":
            props.addOption("leavePorts", False)
        if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
            errs = [doc.getError(i).getMessage().strip() for i in range(doc.getNumErrors())
                    if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
            raise ModelError([f"SBML: {what} failed"] + errs[:20])

    if doc.isPackageEnabled("comp"):
        run("flatten comp", "flattening the comp package's submodels")
    run("expandFunctionDefinitions", "inlining the function definitions")
    run("promoteLocalParameters", "making the local parameters global")


class _Importer:
    def __init__(self, doc, libsbml):
        self.L = libsbml
        self.doc = doc
        self.m = doc.getModel()
        self.problems: list[str] = []
        self.names: dict[str, str] = {}          # SBML id -> internal name
        self.taken: set[str] = set()
        self.rate_of: dict[str, str] = {}        # placeholder name -> SBML id (rateOf)
        self.referenced: set[str] = set()        # ids that math names
        self.report_rates = True

    # -- names ------------------------------------------------------------------------------
    def name(self, sid: str) -> str:
        if sid not in self.names:
            self.names[sid] = self.fresh(sid)
        return self.names[sid]

    def fresh(self, base: str) -> str:
        n = re.sub(r"[^A-Za-z0-9_]", "_", base)
        if not _SID.match(n) or n in RESERVED or keyword.iskeyword(n) or n.lower() == "nan":
            n = f"s_{n}"
        out, k = n, 1
        while out in self.taken:
            k += 1
            out = f"{n}_{k}"
        self.taken.add(out)
        return out

    # -- math -------------------------------------------------------------------------------
    def math(self, node, where: str) -> str | None:
        """The expression text of an SBML math element (None where it is refused)."""
        try:
            text, kind = self.node(node, where)
        except _Refused as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        except RecursionError:
            self.problems.append(f"{where}: the math is nested too deeply")
            return None
        return text if kind == "num" else f"piecewise(1, {text}, 0)"

    def node(self, n, where) -> tuple[str, str]:
        L = self.L
        t = n.getType()
        kids = [n.getChild(i) for i in range(n.getNumChildren())]

        def num(k):
            text, kind = self.node(k, where)
            return f"({text})" if kind == "num" else f"piecewise(1, {text}, 0)"

        def cond(k):
            text, kind = self.node(k, where)
            return f"({text})" if kind == "bool" else f"(({text}) != 0)"

        if t == L.AST_INTEGER:
            return _number(float(n.getInteger())), "num"
        if t in (L.AST_REAL, L.AST_REAL_E, L.AST_RATIONAL, L.AST_NAME_AVOGADRO):
            v = n.getValue() if t == L.AST_RATIONAL else n.getReal()
            if not math.isfinite(v):
                raise _Refused(f"the number {v} (infinity or NaN in math) is not supported")
            return _number(v), "num"
        if t == L.AST_CONSTANT_PI:
            return _number(math.pi), "num"
        if t == L.AST_CONSTANT_E:
            return _number(math.e), "num"
        if t in (L.AST_CONSTANT_TRUE, L.AST_CONSTANT_FALSE):
            return ("(0 == 0)" if t == L.AST_CONSTANT_TRUE else "(0 != 0)"), "bool"
        if t == L.AST_NAME_TIME:
            return TIME, "num"
        if t == L.AST_NAME:
            sid = n.getName()
            if sid not in self.names:
                raise _Refused(f"'{sid}' is not a symbol of the model")
            self.referenced.add(sid)
            return self.names[sid], "num"
        if t == L.AST_PLUS:
            return (" + ".join(num(k) for k in kids) if kids else "0"), "num"
        if t == L.AST_TIMES:
            return (" * ".join(num(k) for k in kids) if kids else "1"), "num"
        if t == L.AST_MINUS:
            if len(kids) == 1:
                return f"-{num(kids[0])}", "num"
            return f"{num(kids[0])} - {num(kids[1])}", "num"
        if t == L.AST_DIVIDE:
            return f"{num(kids[0])} / {num(kids[1])}", "num"
        if t in (L.AST_POWER, L.AST_FUNCTION_POWER):
            return f"pow({num(kids[0])}, {num(kids[1])})", "num"
        if t == L.AST_FUNCTION_ROOT:
            if len(kids) == 1:
                return f"sqrt({num(kids[0])})", "num"
            if kids[0].isNumber() and kids[0].getValue() == 2:
                return f"sqrt({num(kids[1])})", "num"
            return f"pow({num(kids[1])}, 1 / {num(kids[0])})", "num"
        if t == L.AST_FUNCTION_LOG:
            if len(kids) == 1:
                return f"log({num(kids[0])}) / log(10)", "num"
            return f"log({num(kids[1])}) / log({num(kids[0])})", "num"
        simple = {L.AST_FUNCTION_ABS: "abs", L.AST_FUNCTION_EXP: "exp", L.AST_FUNCTION_LN: "log",
                  L.AST_FUNCTION_SIN: "sin", L.AST_FUNCTION_COS: "cos", L.AST_FUNCTION_TAN: "tan",
                  L.AST_FUNCTION_ARCSIN: "asin", L.AST_FUNCTION_ARCCOS: "acos",
                  L.AST_FUNCTION_ARCTAN: "atan", L.AST_FUNCTION_SINH: "sinh",
                  L.AST_FUNCTION_COSH: "cosh", L.AST_FUNCTION_TANH: "tanh",
                  L.AST_FUNCTION_ARCSINH: "asinh", L.AST_FUNCTION_ARCCOSH: "acosh",
                  L.AST_FUNCTION_ARCTANH: "atanh", L.AST_FUNCTION_FLOOR: "floor",
                  L.AST_FUNCTION_CEILING: "ceil", L.AST_FUNCTION_FACTORIAL: "factorial"}
        if t in simple:
            return f"{simple[t]}({num(kids[0])})", "num"
        # the reciprocal functions, written with the ones above
        recip = {L.AST_FUNCTION_SEC: "1 / cos({})", L.AST_FUNCTION_CSC: "1 / sin({})",
                 L.AST_FUNCTION_COT: "1 / tan({})", L.AST_FUNCTION_SECH: "1 / cosh({})",
                 L.AST_FUNCTION_CSCH: "1 / sinh({})", L.AST_FUNCTION_COTH: "1 / tanh({})",
                 L.AST_FUNCTION_ARCSEC: "acos(1 / {})", L.AST_FUNCTION_ARCCSC: "asin(1 / {})",
                 L.AST_FUNCTION_ARCCOT: "atan(1 / {})", L.AST_FUNCTION_ARCSECH: "acosh(1 / {})",
                 L.AST_FUNCTION_ARCCSCH: "asinh(1 / {})", L.AST_FUNCTION_ARCCOTH: "atanh(1 / {})"}
        if t in recip:
            return "(" + recip[t].format(num(kids[0])) + ")", "num"
        if t in (L.AST_FUNCTION_MIN, L.AST_FUNCTION_MAX):
            fn = "min" if t == L.AST_FUNCTION_MIN else "max"
            if len(kids) == 1:
                return num(kids[0]), "num"
            return f"{fn}({', '.join(num(k) for k in kids)})", "num"
        if t in (L.AST_FUNCTION_QUOTIENT, L.AST_FUNCTION_REM):
            a, b = num(kids[0]), num(kids[1])
            q = f"piecewise(floor({a} / {b}), {a} / {b} >= 0, ceil({a} / {b}))"   # toward zero
            return (q if t == L.AST_FUNCTION_QUOTIENT else f"{a} - {b} * {q}"), "num"
        if t == L.AST_FUNCTION_PIECEWISE:
            parts = []
            for i in range(0, len(kids) - 1, 2):
                parts += [num(kids[i]), cond(kids[i + 1])]
            if len(kids) % 2:
                parts.append(num(kids[-1]))
            elif parts:     # no otherwise: SBML leaves the value undefined; the last piece's
                parts.append(parts[-2])
            else:
                raise _Refused("a piecewise with no pieces")
            if len(parts) == 1:
                return parts[0], "num"
            return f"piecewise({', '.join(parts)})", "num"
        rel = {L.AST_RELATIONAL_EQ: "==", L.AST_RELATIONAL_NEQ: "!=", L.AST_RELATIONAL_GT: ">",
               L.AST_RELATIONAL_GEQ: ">=", L.AST_RELATIONAL_LT: "<", L.AST_RELATIONAL_LEQ: "<="}
        if t in rel:
            if len(kids) < 2:
                return "(0 == 0)", "bool"
            if t == L.AST_RELATIONAL_NEQ and len(kids) > 2:
                raise _Refused("'neq' with more than two arguments")
            return f" {rel[t]} ".join(num(k) for k in kids), "bool"
        if t in (L.AST_LOGICAL_AND, L.AST_LOGICAL_OR):
            op = " and " if t == L.AST_LOGICAL_AND else " or "
            if not kids:
                return ("(0 == 0)" if t == L.AST_LOGICAL_AND else "(0 != 0)"), "bool"
            return op.join(cond(k) for k in kids), "bool"
        if t == L.AST_LOGICAL_NOT:
            return f"not {cond(kids[0])}", "bool"
        if t == L.AST_LOGICAL_XOR:
            if not kids:
                return "(0 != 0)", "bool"
            acc = cond(kids[0])
            for k in kids[1:]:
                b = cond(k)
                acc = f"(({acc} and not {b}) or (not {acc} and {b}))"
            return acc, "bool"
        if t == L.AST_LOGICAL_IMPLIES:
            return f"(not {cond(kids[0])} or {cond(kids[1])})", "bool"
        if t == L.AST_FUNCTION_DELAY:
            raise _Refused("delay() in math is not supported")
        if t == L.AST_FUNCTION_RATE_OF:
            # a placeholder, replaced by the symbol's rate of change once every symbol's role
            # is known (_Importer.rates_of)
            if len(kids) != 1 or kids[0].getType() != L.AST_NAME or kids[0].getName() not in self.names:
                raise _Refused("rateOf() of something other than a symbol of the model")
            token = self.fresh(f"rateOf_{kids[0].getName()}")
            self.rate_of[token] = kids[0].getName()
            return token, "num"
        if t == L.AST_FUNCTION:
            raise _Refused(f"function '{n.getName()}' is not defined")
        name = L.formulaToL3String(n) or str(t)
        raise _Refused(f"the MathML construct '{name[:60]}' is outside SBML's math subset")

    # -- the model ----------------------------------------------------------------------------
    def build(self) -> SBMLModel:
        m = self.m
        info = SBMLInfo(level=self.doc.getLevel(), version=self.doc.getVersion(),
                        model_id=m.getId() or "", notes=m.getNotesString() or "",
                        annotation=m.getAnnotationString() or "")
        comps = [m.getCompartment(i) for i in range(m.getNumCompartments())]
        species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
        params = [m.getParameter(i) for i in range(m.getNumParameters())]
        reactions = [m.getReaction(i) for i in range(m.getNumReactions())]
        rules = [m.getRule(i) for i in range(m.getNumRules())]
        inits = [m.getInitialAssignment(i) for i in range(m.getNumInitialAssignments())]
        refs = []                                   # (reaction, speciesReference, sign)
        for r in reactions:
            refs += [(r, r.getReactant(i), -1) for i in range(r.getNumReactants())]
            refs += [(r, r.getProduct(i), 1) for i in range(r.getNumProducts())]
        info.counts = {"compartments": len(comps), "species": len(species),
                       "parameters": len(params), "reactions": len(reactions),
                       "rules": len(rules), "initial assignments": len(inits),
                       "events": m.getNumEvents(), "constraints": m.getNumConstraints()}
        fast = [r.getId() for r in reactions if r.isSetFast() and r.getFast()]
        if len(fast) > 1:              # eliminated one after the other where they share no species
            members = {f: {sr.getSpecies() for r, sr, _ in refs if r.getId() == f} for f in fast}
            shared = [f for f in fast if any(members[f] & members[g] for g in fast if g != f)]
            if shared:
                self.problems.append(f"reactions {', '.join(repr(f) for f in shared)}: fast "
                                     "reactions that share species are not supported")
        for sid in [c.getId() for c in comps] + [s.getId() for s in species] + \
                   [p.getId() for p in params] + [r.getId() for r in reactions] + \
                   [sr.getId() for _, sr, _ in refs if sr.isSetId()]:
            self.name(sid)

        assign, rate, algebraic = {}, {}, []
        for k, rule in enumerate(rules):
            if rule.isAlgebraic():
                if rule.isSetMath():
                    text = self.math(rule.getMath(), f"algebraic rule {k + 1}")
                    if text is not None:
                        algebraic.append((k + 1, text))
                continue
            var = rule.getVariable()
            if not rule.isSetMath():
                continue                            # no math: no effect (SBML L3V2)
            text = self.math(rule.getMath(), f"{'assignment' if rule.isAssignment() else 'rate'} "
                                              f"rule for '{var}'")
            if var not in self.names:
                self.problems.append(f"rule for '{var}': not a symbol of the model")
            elif text is not None:
                (assign if rule.isAssignment() else rate)[var] = text
        initial = {}
        for ia in inits:
            if ia.isSetMath():
                text = self.math(ia.getMath(), f"initial assignment to '{ia.getSymbol()}'")
                if text is not None:
                    initial[ia.getSymbol()] = text
        kinetic = {}
        for r in reactions:
            kl = r.getKineticLaw()
            if kl is not None and kl.isSetMath():
                text = self.math(kl.getMath(), f"reaction '{r.getId()}' kinetic law")
                if text is not None:
                    kinetic[r.getId()] = text
        stoich = []                     # (reaction id, species id, sign, stoichiometry text)
        set_by_events = {self.m.getEvent(i).getEventAssignment(k).getVariable()
                         for i in range(self.m.getNumEvents())
                         for k in range(self.m.getEvent(i).getNumEventAssignments())}
        for r, sr, sign in refs:
            if sr.isSetId() and (sr.getId() in assign or sr.getId() in rate or sr.getId() in initial
                                 or sr.getId() in set_by_events):
                text = self.names[sr.getId()]
            elif self.doc.getLevel() < 3 and sr.isSetStoichiometryMath():
                sm = sr.getStoichiometryMath()
                text = self.math(sm.getMath(), f"reaction '{r.getId()}' stoichiometryMath of "
                                 f"'{sr.getSpecies()}'") if sm.isSetMath() else None
                text = "1" if text is None else text
            else:
                v = sr.getStoichiometry() if sr.isSetStoichiometry() or self.doc.getLevel() < 3 else 1.0
                text = _number(v) if math.isfinite(v) else "1"
            stoich.append((r.getId(), sr.getSpecies(), float(sign), text))
        events = self.events()
        if algebraic and not self.problems:
            self.solve_algebraic(algebraic, assign, rate, kinetic, stoich)
        if self.problems:
            raise ModelError(self.problems)
        model = self.assemble(info, comps, species, params, reactions, refs, assign, rate,
                              initial, kinetic, stoich, events, fast)
        return model

    def solve_algebraic(self, algebraic, assign, rate, kinetic, stoich) -> None:
        """Algebraic rules ``0 = g``: each matched to a variable it determines (one that nothing
        else does: not constant, no rule, not changed by reactions; a maximum matching), and
        solved for it exactly with SymPy when ``g`` has one explicit solution (a linear rule,
        as most are): it is then an assignment rule, exact, with nothing left for a DAE solver.
        A rule that has none (nonlinear, or coupled with others into a loop) is refused."""
        import sympy as sp     # SymPy: only for models with algebraic rules (it takes ~1 s)

        m, N = self.m, self.names
        by_reactions = set()
        for rid, sp_id, _, _ in stoich:
            s = m.getSpecies(sp_id)
            if s is not None and not s.getBoundaryCondition() and not s.getConstant() \
                    and rid in kinetic:
                by_reactions.add(sp_id)
        free = {}
        for el in ([m.getCompartment(i) for i in range(m.getNumCompartments())]
                   + [m.getSpecies(i) for i in range(m.getNumSpecies())]
                   + [m.getParameter(i) for i in range(m.getNumParameters())]):
            sid = el.getId()
            if not el.getConstant() and sid not in assign and sid not in rate \
                    and sid not in by_reactions:
                free[N[sid]] = sid
        for r in (m.getReaction(i) for i in range(m.getNumReactions())):
            for sr in [r.getReactant(i) for i in range(r.getNumReactants())] + \
                      [r.getProduct(i) for i in range(r.getNumProducts())]:
                if sr.isSetId() and not sr.getConstant() and sr.getId() not in assign \
                        and sr.getId() not in rate:
                    free[N[sr.getId()]] = sr.getId()
        parsed = []
        for k, text in algebraic:
            try:
                parsed.append((k, parse(text, f"algebraic rule {k}")))
            except ExpressionError as exc:
                self.problems.append(str(exc))
        if self.problems:
            return
        # a maximum matching of rules to the free variables they use (augmenting paths)
        owner: dict[str, int] = {}

        def augment(i, seen):
            for name in sorted(parsed[i][1].names & free.keys()):
                if name in seen:
                    continue
                seen.add(name)
                if name not in owner or augment(owner[name], seen):
                    owner[name] = i
                    return True
            return False

        for i in range(len(parsed)):
            if not augment(i, set()):
                self.problems.append(f"algebraic rule {parsed[i][0]}: no variable left for it to "
                                     "determine (the model is over-determined)")
        if self.problems:
            return
        with symbolic_budget() as budget:
            for name, i in sorted(owner.items(), key=lambda x: x[1]):
                k, expr = parsed[i]
                budget.at(f"algebraic rule {k}")
                table = {n: sp.Symbol(n, real=True) for n in expr.names}
                z = table[name]
                try:
                    g = to_sympy(expr, table, f"algebraic rule {k}")
                    sols = [x for x in sp.solve(g, z) if not x.has(z)]
                    text = _sympy_text(sols[0]) if len(sols) == 1 else None
                # SymPy's solve raises these for what it cannot solve: then refused below
                except (ExpressionError, NotImplementedError, _Refused, TypeError, ValueError):
                    text = None
                if text is None:
                    self.problems.append(f"algebraic rule {k}: cannot be solved explicitly for "
                                         f"'{free[name]}' (a nonlinear or coupled algebraic rule "
                                         "is not supported yet)")
                else:
                    assign[free[name]] = text

    def events(self) -> list[dict]:
        """Each event's translated math and flags (targets still SBML ids); an event without a
        trigger or without assignments has no effect and is left out."""
        out = []
        level = self.doc.getLevel()
        for i in range(self.m.getNumEvents()):
            e = self.m.getEvent(i)
            eid = e.getId() if e.isSetId() else f"event{i + 1}"
            where = f"event '{eid}'"
            trig = e.getTrigger()
            if trig is None or not trig.isSetMath():
                continue
            try:
                text, kind = self.node(trig.getMath(), where)
            except _Refused as exc:
                self.problems.append(f"{where} trigger: {exc}")
                continue
            except RecursionError:
                self.problems.append(f"{where} trigger: the math is nested too deeply")
                continue
            # a condition as a comparison or logic at the top (a number: true where nonzero)
            cond = text if kind == "bool" else f"({text}) != 0"
            delay = priority = None
            if e.isSetDelay() and e.getDelay().isSetMath():
                delay = self.math(e.getDelay().getMath(), f"{where} delay")
            if e.isSetPriority() and e.getPriority().isSetMath():
                priority = self.math(e.getPriority().getMath(), f"{where} priority")
            assigns = []
            for k in range(e.getNumEventAssignments()):
                ea = e.getEventAssignment(k)
                if not ea.isSetMath():
                    continue
                text = self.math(ea.getMath(), f"{where} assignment to '{ea.getVariable()}'")
                if ea.getVariable() not in self.names:
                    self.problems.append(f"{where} assigns '{ea.getVariable()}', not a symbol of "
                                         "the model")
                elif text is not None:
                    assigns.append((ea.getVariable(), text))
            if not assigns:
                continue
            out.append({"id": eid, "trigger": cond, "delay": delay, "priority": priority,
                        "assignments": assigns,
                        "persistent": trig.getPersistent() if level >= 3 else True,
                        "initial_value": trig.getInitialValue() if level >= 3 else True,
                        "use_values": (e.getUseValuesFromTriggerTime()
                                       if level >= 3 or e.isSetUseValuesFromTriggerTime() else True)})
        return out

    def assemble(self, info, comps, species, params, reactions, refs, assign, rate, initial,
                 kinetic, stoich, events, fast=()) -> SBMLModel:
        m = self.m
        N = self.names
        event_targets = {v for e in events for v, _ in e["assignments"]}
        changed_by_reactions = set()
        for rid, sp_id, _, _ in stoich:
            s = m.getSpecies(sp_id)
            if s is not None and not s.getBoundaryCondition() and not s.getConstant() \
                    and sp_id not in rate and sp_id not in assign and rid in kinetic:
                changed_by_reactions.add(sp_id)
        if self.rate_of:
            self.rates_of(assign, rate, initial, kinetic, stoich, events, changed_by_reactions)
        # t0 definitions: SBML id -> expression text (over internal names) of its starting value
        t0: dict[str, str] = {}
        declared: dict[str, float] = {}
        for c in comps:
            # no size: Level 2's default is 1; a 0-D compartment has no size, its species'
            # values are amounts (hence 1); otherwise an initial assignment must set it
            declared[c.getId()] = c.getSize() if c.isSetSize() else (
                1.0 if self.doc.getLevel() < 3 or c.getSpatialDimensionsAsDouble() == 0 else math.nan)
        for p in params:
            declared[p.getId()] = p.getValue() if p.isSetValue() else math.nan
        for r, sr, _ in refs:
            if sr.isSetId():
                declared[sr.getId()] = (sr.getStoichiometry()
                                        if sr.isSetStoichiometry() or self.doc.getLevel() < 3
                                        else math.nan)
                for rid, sp_id, _, text in stoich:      # Level 2's stoichiometryMath
                    if rid == r.getId() and sp_id == sr.getSpecies() and sr.getId() not in initial \
                            and self.doc.getLevel() < 3 and sr.isSetStoichiometryMath():
                        t0[sr.getId()] = text
        for rid, text in kinetic.items():
            t0[rid] = text
        for r in reactions:
            if r.getId() not in kinetic:
                t0[r.getId()] = "0"
        species_t0 = {}
        for s in species:
            sid, V = s.getId(), N[s.getCompartment()]
            hosu = s.getHasOnlySubstanceUnits()
            if s.isSetInitialAmount():
                species_t0[sid] = (_number(s.getInitialAmount()) if hosu
                                   else f"{_number(s.getInitialAmount())} / {V}")
            elif s.isSetInitialConcentration():
                species_t0[sid] = (f"{_number(s.getInitialConcentration())} * {V}" if hosu
                                   else _number(s.getInitialConcentration()))
        for sid, text in {**species_t0, **assign, **initial}.items():
            t0[sid] = text
        for sid, v in declared.items():
            t0.setdefault(sid, _number(v) if math.isfinite(v) else "nan")
        start = self._evaluate_t0(t0)

        # -- components -------------------------------------------------------------------
        states, parameters, rules, processes = [], [], [], []
        info.symbols = {}
        unit_of = self._units()

        def value(sid):
            v = start.get(sid, math.nan)
            if not math.isfinite(v):
                self.problems.append(f"'{sid}': its value at the start is not a finite number "
                                     f"(got {v}: no value, no initial assignment, or one that "
                                     "divides by zero?)")
                return 0.0
            return v

        def add_symbol(sid, kind, role, element, **extra):
            info.symbols[sid] = SBMLSymbol(id=sid, kind=kind, name=N[sid], role=role,
                                           sbml_name=element.getName() if element.isSetName() else "",
                                           units=unit_of(element, kind),
                                           changes=role != "parameter" or sid in event_targets,
                                           notes=element.getNotesString() or "",
                                           annotation=element.getAnnotationString() or "",
                                           **extra)

        for kind, elements in (("compartment", comps), ("parameter", params)):
            for el in elements:
                sid = el.getId()
                if sid in assign:
                    rules.append(Rule(name=N[sid], expression=assign[sid], unit=unit_of(el, kind) or "1"))
                    add_symbol(sid, kind, "rule", el)
                elif sid in rate or sid in event_targets:
                    # a state: its rate rule, or constant between the events that set it (so
                    # that results report its value over time)
                    states.append(Species(name=N[sid], unit=unit_of(el, kind) or "1",
                                          initial=value(sid), nonnegative=False))
                    if sid in rate:
                        processes.append(Process(name=self.fresh(f"rate_rule_{sid}"),
                                                 rate=rate[sid], stoichiometry={N[sid]: 1.0}))
                    add_symbol(sid, kind, "state", el)
                else:
                    parameters.append(Parameter(name=N[sid], value=value(sid), unit=unit_of(el, kind) or "1",
                                                source=_source(el), bounds=(-math.inf, math.inf)))
                    add_symbol(sid, kind, "parameter", el)
        amount_state: dict[str, str] = {}           # species id -> name of its amount state
        divide: dict[str, str] = {}                 # ... or of its concentration: the size
        in_fast = {sp_id for rid, sp_id, _, _ in stoich if rid in fast}

        def fixed_size(cid):
            return cid not in assign and cid not in rate and cid not in event_targets
        for s in species:
            sid, V, hosu = s.getId(), N[s.getCompartment()], s.getHasOnlySubstanceUnits()
            unit = unit_of(s, "species") or "1"
            extra = {"compartment": V, "only_substance": hosu}
            if sid in assign:
                rules.append(Rule(name=N[sid], expression=assign[sid], unit=unit))
                add_symbol(sid, "species", "rule", s, **extra)
            elif sid in rate:
                states.append(Species(name=N[sid], unit=unit, initial=value(sid), nonnegative=False))
                processes.append(Process(name=self.fresh(f"rate_rule_{sid}"), rate=rate[sid],
                                         stoichiometry={N[sid]: 1.0}))
                add_symbol(sid, "species", "state", s, **extra)
            elif sid in changed_by_reactions:
                v = value(sid)
                if not hosu and fixed_size(s.getCompartment()) and sid not in in_fast:
                    # a compartment of fixed size: the concentration itself is the state, each
                    # reaction's change of amount divided by the size (as libRoadRunner does)
                    states.append(Species(name=N[sid], unit=unit, initial=v, nonnegative=False))
                    amount_state[sid] = N[sid]
                    divide[sid] = V
                    add_symbol(sid, "species", "state", s, **extra)
                elif hosu:
                    states.append(Species(name=N[sid], unit=unit, initial=v, nonnegative=False))
                    amount_state[sid] = N[sid]
                    add_symbol(sid, "species", "state", s, **extra)
                else:
                    amt = self.fresh(f"{N[sid]}_amount")
                    states.append(Species(name=amt, unit=unit, initial=v * value(s.getCompartment()),
                                          nonnegative=False))
                    rules.append(Rule(name=N[sid], expression=f"{amt} / {V}", unit=unit))
                    amount_state[sid] = amt
                    add_symbol(sid, "species", "rule", s, amount=amt, **extra)
            elif not hosu and (s.getCompartment() in assign or s.getCompartment() in rate
                               or s.getCompartment() in event_targets):
                # a fixed amount in a compartment that changes size: the concentration follows
                # (a constant species too: its amount is what stays, as the SBML Test Suite has it)
                amt = self.fresh(f"{N[sid]}_amount")
                if sid in event_targets:
                    states.append(Species(name=amt, unit=unit, nonnegative=False,
                                          initial=value(sid) * value(s.getCompartment())))
                else:
                    parameters.append(Parameter(name=amt, value=value(sid) * value(s.getCompartment()),
                                                unit=unit, source=SOURCE, bounds=(-math.inf, math.inf)))
                rules.append(Rule(name=N[sid], expression=f"{amt} / {V}", unit=unit))
                add_symbol(sid, "species", "rule", s, amount=amt, **extra)
            elif sid in event_targets:
                states.append(Species(name=N[sid], unit=unit, initial=value(sid), nonnegative=False))
                add_symbol(sid, "species", "state", s, **extra)
            else:
                parameters.append(Parameter(name=N[sid], value=value(sid), unit=unit, source=SOURCE,
                                            bounds=(-math.inf, math.inf)))
                add_symbol(sid, "species", "parameter", s, **extra)
        for _, sr, _ in refs:
            if not sr.isSetId():
                continue
            sid = sr.getId()
            if sid in assign:
                rules.append(Rule(name=N[sid], expression=assign[sid], unit="1"))
                add_symbol(sid, "speciesReference", "rule", sr)
            elif sid in rate or sid in event_targets:
                states.append(Species(name=N[sid], unit="1", initial=value(sid), nonnegative=False))
                if sid in rate:
                    processes.append(Process(name=self.fresh(f"rate_rule_{sid}"), rate=rate[sid],
                                             stoichiometry={N[sid]: 1.0}))
                add_symbol(sid, "speciesReference", "state", sr)
            else:
                parameters.append(Parameter(name=N[sid], value=value(sid), unit="1", source=SOURCE,
                                            bounds=(-math.inf, math.inf)))
                add_symbol(sid, "speciesReference", "parameter", sr)
        # reactions: each rate a rule (named by the reaction's id); amounts change by it
        global_cf = m.getConversionFactor() if m.isSetConversionFactor() else ""
        fast_stoich: dict[str, dict[str, float]] = {}
        sref_ids = {sr.getId() for _, sr, _ in refs if sr.isSetId()}
        for r in reactions:
            rid = r.getId()
            # its rate a rule (reported, and read by math that names the reaction), or written
            # into the processes where neither is wanted (a cohort then records less)
            as_rule = (self.report_rates or rid in self.referenced or rid in fast
                       or bool(self.rate_of))
            rate_ref = N[rid] if as_rule else f"({kinetic.get(rid, '0')})"
            if as_rule:
                rules.append(Rule(name=N[rid], expression=kinetic.get(rid, "0"), unit="1"))
            groups: dict[str, dict[str, float]] = {}     # size divided by ("": none) -> stoich
            for rr, sp_id, sign, text in stoich:
                if rr != rid or sp_id not in amount_state or rid not in kinetic:
                    continue
                s = m.getSpecies(sp_id)
                cf = s.getConversionFactor() if s.isSetConversionFactor() else global_cf
                div = divide.get(sp_id, "")
                try:
                    c = float(text)
                except ValueError:
                    c = None
                if rid in fast:
                    c, cf = self._fast_stoichiometry(c, cf, text, sref_ids, assign, rate,
                                                     event_targets, value)
                if c is not None and not cf:
                    g = groups.setdefault(div, {})
                    g[amount_state[sp_id]] = g.get(amount_state[sp_id], 0.0) + sign * c
                else:
                    factor = f"({text})" + (f" * {N[cf]}" if cf else "")
                    processes.append(Process(name=self.fresh(f"{rid}_{sp_id}"),
                                             rate=f"{factor} * {rate_ref}" + (f" / {div}" if div else ""),
                                             stoichiometry={amount_state[sp_id]: sign}))
            for div, g in groups.items():
                g = {k: v for k, v in g.items() if v != 0.0}
                if div and g:
                    processes.append(Process(name=self.fresh(f"reaction_{rid}_in_{div}"),
                                             rate=f"{rate_ref} / {div}", stoichiometry=g))
            fixed = {k: v for k, v in groups.get("", {}).items() if v != 0.0}
            if rid in fast:
                if any(pr.name.startswith(f"{rid}_") for pr in processes) or not fixed:
                    self.problems.append(f"reaction '{rid}': a fast reaction needs constant "
                                         "stoichiometries without conversion factors")
                fast_stoich[rid] = fixed
            elif fixed:
                processes.append(Process(name=self.fresh(f"reaction_{rid}"), rate=rate_ref,
                                         stoichiometry=fixed))
            info.symbols[rid] = SBMLSymbol(id=rid, kind="reaction", name=N[rid],
                                           role="rule" if as_rule else "inline",
                                           sbml_name=r.getName() if r.isSetName() else "")
        model_events = self.model_events(events, info)
        self.parameters_so_far = parameters
        for rid in fast:
            if self.problems:
                break
            states, rules, processes = self.equilibrate(rid, fast_stoich[rid], states, rules,
                                                        processes, model_events)
        if not states:             # nothing changes: one constant state keeps the solver's shape
            states.append(Species(name=self.fresh("no_state"), unit="1", initial=0.0,
                                  nonnegative=False))
        if self.problems:
            raise ModelError(self.problems)
        name = m.getId() or m.getName() or "sbml_model"
        model = SBMLModel(name, species=states, parameters=parameters, processes=processes,
                          rules=rules, events=model_events, time_unit=self._time_unit(), sbml=info,
                          description=(m.getName() if m.isSetName() else ""))
        if not fast and not self.rate_of:    # their starting values are derived otherwise
            sid_of = {v: k for k, v in N.items()}
            recipes = {}
            for sid, sym in info.symbols.items():
                if sym.role in ("state", "parameter"):
                    recipes[sym.name] = (sid, None)
                if sym.amount is not None and sym.compartment in sid_of:
                    recipes[sym.amount] = (sid, sid_of[sym.compartment])
            fixed = set(initial) | set(assign) | {r.getId() for r in reactions}
            model.start_recipe = StartRecipe(t0=dict(t0), names=dict(N), recipes=recipes,
                                             fixed=frozenset(fixed))
        return model

    def _fast_stoichiometry(self, c, cf, text, sref_ids, assign, rate, event_targets, value):
        """A fast reaction's stoichiometry of one species as a number, with its conversion
        factor folded in: ``(c, "")``, or ``(c, cf)`` unchanged where either is not a constant.
        A speciesReference's stoichiometry set by an initial assignment, and a conversion
        factor that is a constant parameter, keep their starting values for the whole run, and so
        does a Level 2 stoichiometryMath over constants: the elimination of :meth:`equilibrate`
        may use them (SBML Test Suite 01396, 01397, 01544-01546), as may an assignment rule of
        constants (01571). One that a rule or an event changes stays symbolic, and the fast
        reaction is refused."""
        def fixed(sid):
            return sid not in assign and sid not in rate and sid not in event_targets

        def constant(sid):             # a parameter or compartment no rule or event changes
            el = self.m.getParameter(sid) or self.m.getCompartment(sid)
            return el is not None and el.getConstant() and fixed(sid)

        def of_constants(expr_text):   # its value, if it reads constants only, else None
            try:
                e = parse(expr_text)
            except ExpressionError:
                return None
            sid_of = {v: k for k, v in self.names.items()}
            if not all(n in sid_of and constant(sid_of[n]) for n in e.names):
                return None
            v = evaluate(e, {n: value(sid_of[n]) for n in e.names})
            return v if math.isfinite(v) else None

        if c is None:
            ref = next((k for k in sref_ids if self.names[k] == text), None)
            if ref is None:            # Level 2 stoichiometryMath over constants only (01397)
                c = of_constants(text)
            elif fixed(ref):
                c = value(ref)
            elif ref in assign and ref not in event_targets:
                c = of_constants(assign[ref])   # an assignment rule of constants (01571)
        if c is not None and cf and constant(cf):
            return c * value(cf), ""
        return c, cf

    def equilibrate(self, rid, s, states, rules, processes, events):
        """A fast reaction (SBML: always at equilibrium, its rate law = 0) eliminated exactly.
        With ``s`` its stoichiometry over amounts and ``a`` a pivot among them, the amounts
        ``w_i = n_i - (s_i / s_a) n_a`` do not change by it: they become the states, changed by
        the slow reactions alone; ``n_a`` is the rate law's root, solved with SymPy as an
        algebraic rule is (one explicit solution, or of several the one the reaction runs to,
        :meth:`_stable_roots`; else refused), and ``n_i = w_i + (s_i / s_a)
        n_a``. The start is then at equilibrium with the same ``w``, as SBML says."""
        import sympy as sp     # SymPy: only for models with a fast reaction

        N = self.names
        where = f"fast reaction '{rid}'"
        if self.rate_of or any(t in s for e in events for t in e.assignments):
            self.problems.append(f"{where}: with rateOf() or events that set its species it is "
                                 "not supported")
            return states, rules, processes
        a = next(iter(s))
        others = [i for i in s if i != a]
        by_name = {x.name: x for x in states}
        w = {i: self.fresh(f"{i}_conserved") for i in others}
        ratio = {i: s[i] / s[a] for i in others}
        # the rate law over states and parameters: rules substituted in, in their order
        table = {}
        names = ({x.name for x in states} | {r.name for r in rules} | set(self.names.values())
                 | set(w.values()) | {TIME})
        for n in names:
            table[n] = sp.Symbol(n, real=True)
        rule_expr = {}
        for r in rules:                 # creation order: a rule's inputs come first or are states
            try:
                rule_expr[r.name] = to_sympy(r.parsed, {**table, **rule_expr}, f"rule '{r.name}'")
            except ExpressionError:
                rule_expr[r.name] = table[r.name]
        v = rule_expr.get(N[rid])
        na = table[a]
        try:
            with symbolic_budget():         # bounded, as every symbolic step of a model is
                changed = {k for pr in processes for k in pr.stoichiometry}
                text, why = self._equilibrium(v, na, table, rule_expr, w, ratio, others,
                                              by_name, a, states, events, sp, s[a], changed)
        # SymPy's solve raises these for what it cannot solve; the budget an ExpressionError
        except (NotImplementedError, _Refused, TypeError, ValueError, ExpressionError) as exc:
            text, why = None, (str(exc) if isinstance(exc, ExpressionError) else "")
        if why:
            self.problems.append(f"{where}: {why}")
            return states, rules, processes
        if text == "":                  # its rate law is 0 for every state: it changes nothing
            return states, rules, processes
        if text is None:
            self.problems.append(f"{where}: its equilibrium cannot be solved explicitly for "
                                 f"'{a}' (not supported)")
            return states, rules, processes
        return self._eliminated(text, a, others, w, ratio, by_name, states, rules, processes)

    def _equilibrium(self, v, na, table, rule_expr, w, ratio, others, by_name, a, states,
                     events, sp, s_a=1.0, changed=frozenset()):
        """``(root text or None, reason to refuse or "")`` of the fast rate law ``v`` in
        ``n_a`` (see :meth:`equilibrate`); the text is empty where the rate law is 0 for every
        state (a factor ``ln(1)``: the reaction changes nothing and is dropped)."""
        for _ in range(50):             # rules that read rules read later in the list
            v2 = v.subs({table[k]: e for k, e in rule_expr.items() if table[k] in v.free_symbols})
            if v2 == v:
                break
            v = v2
        set_by_events = {t for e in events for t in e.assignments}
        if {str(x) for x in v.free_symbols} & set_by_events:
            return None, ("an event sets what its rate law reads (its equilibrium could change "
                          "kind); not supported")
        params = {table[q.name]: q.value for q in self.parameters_so_far}   # constant here
        if sp.simplify(v.subs(params)) == 0:
            return "", ""    # 0 whatever the state (no event changes what it reads): nothing to do
        v = v.subs({table[i]: table[w[i]] + ratio[i] * na for i in others}, simultaneous=True)
        w_start = {table[w[i]]: by_name[i].initial - ratio[i] * by_name[a].initial for i in others}
        start = {**{table[x.name]: x.initial for x in states}, **w_start, **params}
        sols = [x for x in sp.solve(v, na) if not x.has(na)]
        if len(sols) > 1:            # the one the reaction runs to, its slope there checked
            kept = {} if a in changed else {table[w[i]]: w_start[table[w[i]]]
                                            for i in others if i not in changed}
            sols = self._stable_roots(sols, s_a * sp.diff(v, na), na, {**params, **kept})
            return (_sympy_text(sols[0]) if len(sols) == 1 else None), ""
        text = _sympy_text(sols[0]) if len(sols) == 1 else None
        # the root must be one: the rate law must change with n_a at the start (k * A with
        # k = 0 is at equilibrium for every A, which SymPy's one root A = 0 hides)
        slope = sp.diff(v, na).subs(start).subs({na: by_name[a].initial})
        if text is not None and (not slope.is_number or float(slope) == 0.0):
            text = None
        return text, ""

    @staticmethod
    def _stable_roots(sols, flow_slope, na, fixed):
        """Of several equilibria of a fast reaction, the one it runs to: where ``flow_slope`` (``s_a
        dv/dn_a``) is negative, so a small move of ``n_a`` away from the root is undone by the
        reaction. Decided only where that sign is a number for the whole run, with ``fixed``
        substituted: the parameters (constant: the rate law read no rule or event-set quantity,
        checked before) and each conserved amount ``w_i`` that keeps its starting value, since
        nothing but the fast reaction changes ``n_i`` and ``n_a`` (no other reaction, rate rule
        or event). Otherwise, or without exactly one such root, the roots stay as they were and
        the reaction is refused (SBML Test Suite 01399, 01572: mass action in both species, with
        two equilibria, one of them stable)."""
        stable = []
        for root in sols:
            slope = flow_slope.subs(na, root).subs(fixed)
            if not slope.is_number or not slope.is_real:
                return sols
            if float(slope) < 0.0:
                stable.append(root)
        return stable if len(stable) == 1 else sols

    def _eliminated(self, text, a, others, w, ratio, by_name, states, rules, processes):
        """States, rules and processes with the fast reaction eliminated (:meth:`equilibrate`)."""
        new_states = []
        for x in states:
            if x.name == a:
                continue
            if x.name in w:
                new_states.append(Species(name=w[x.name], unit=x.unit, nonnegative=False,
                                          initial=x.initial - ratio[x.name] * by_name[a].initial))
            else:
                new_states.append(x)
        new_rules = [Rule(name=a, expression=text, unit=by_name[a].unit)]
        new_rules += [Rule(name=i, expression=f"{w[i]} + {ratio[i]!r} * {a}", unit=by_name[i].unit)
                      for i in others]
        new_procs = []
        for pr in processes:
            st: dict[str, float] = {}
            for name, c in pr.stoichiometry.items():
                if name == a:
                    for i in others:
                        st[w[i]] = st.get(w[i], 0.0) - ratio[i] * c
                elif name in w:
                    st[w[name]] = st.get(w[name], 0.0) + c
                else:
                    st[name] = st.get(name, 0.0) + c
            st = {k: c for k, c in st.items() if c != 0.0}
            if st:
                new_procs.append(Process(name=pr.name, rate=pr.rate, stoichiometry=st))
        return new_states, rules + new_rules, new_procs

    def rates_of(self, assign, rate, initial, kinetic, stoich, events, by_reactions) -> None:
        """Replace each ``rateOf(x)`` placeholder by x's rate of change: a rate rule's
        expression; for a species that reactions change, the sum of their rates times
        stoichiometry and conversion factor (divided by its compartment's size, less the
        dilution by the size's own rate, when its value is a concentration); 0 for what only
        events change. The rate of what an assignment rule defines is refused."""
        m, N = self.m, self.names
        global_cf = m.getConversionFactor() if m.isSetConversionFactor() else ""

        def rate_text(sid, depth=0) -> str:
            if depth > 50:
                raise _Refused("rateOf() nested through more than 50 symbols")
            if sid in rate:
                return f"({rate[sid]})"
            if sid in assign:
                raise _Refused(f"rateOf({sid}) of a symbol an assignment rule defines is not "
                               "supported")
            s = m.getSpecies(sid)
            if s is None:
                return "0"
            V = N[s.getCompartment()]
            dV = rate_text(s.getCompartment(), depth + 1)
            if sid in by_reactions:
                cf = s.getConversionFactor() if s.isSetConversionFactor() else global_cf
                terms = [f"{sign!r} * ({text}){f' * {N[cf]}' if cf else ''} * {N[rid]}"
                         for rid, sp_id, sign, text in stoich if sp_id == sid and rid in kinetic]
                dn = " + ".join(terms) or "0"
                if s.getHasOnlySubstanceUnits():
                    return f"({dn})"
                return f"(({dn}) / {V} - {N[sid]} * {dV} / {V})"
            if s.getHasOnlySubstanceUnits() or dV == "0":
                return "0"
            return f"(-{N[sid]} * {dV} / {V})"

        derivs = {}
        for token, sid in self.rate_of.items():
            try:
                derivs[token] = rate_text(sid)
            except _Refused as exc:
                self.problems.append(f"rateOf: {exc}")
                derivs[token] = "0"
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, derivs)) + r")\b")

        def sub(text):
            for _ in range(60):             # a rate may itself hold rateOf (bounded above)
                if text is None or not pattern.search(text):
                    return text
                text = pattern.sub(lambda g: derivs[g.group(1)], text)
            self.problems.append("rateOf: nested too deeply")
            return text

        for d in (assign, rate, initial, kinetic):
            for k in d:
                d[k] = sub(d[k])
        stoich[:] = [(a, b, c, sub(text)) for a, b, c, text in stoich]
        for e in events:
            for key in ("trigger", "delay", "priority"):
                e[key] = sub(e[key])
            e["assignments"] = [(v, sub(text)) for v, text in e["assignments"]]
        if self.problems:
            raise ModelError(self.problems)

    def model_events(self, events, info) -> list[Event]:
        """The events with their targets as the Model holds them: a species kept as an amount
        is set to ``value * size`` (SBML assigns its concentration); a symbol that an
        assignment rule defines cannot be set (refused)."""
        out = []
        conc_states: dict[str, list[str]] = {}   # compartment -> species states in concentration
        for sym in info.symbols.values():
            if sym.kind == "species" and sym.role == "state" and not sym.only_substance:
                conc_states.setdefault(sym.compartment, []).append(sym.name)
        for e in events:
            assigns = {}
            new_size = {info.symbols[x].name: text for x, text in e["assignments"]
                        if x in info.symbols and info.symbols[x].kind == "compartment"}
            for sid, text in e["assignments"]:
                sym = info.symbols.get(sid)
                # a compartment's new size keeps the amounts: a species held as a concentration
                # (by its rate rule) is diluted or concentrated with it; one assigned by the same
                # event has its amount from the size before (SBML Test Suite cases 1506, 1779)
                if sym is not None and sym.kind == "compartment":
                    for name in conc_states.get(sym.name, ()):
                        assigns.setdefault(name, f"{name} * {sym.name} / ({text})")
                if sym is not None and sym.kind == "species" and sym.role == "state" \
                        and not sym.only_substance and sym.compartment in new_size:
                    c = sym.compartment
                    assigns[sym.name] = f"({text}) * {c} / ({new_size[c]})"
                    continue
                sym = info.symbols.get(sid)
                if sym is None or (sym.role == "rule" and not sym.amount):
                    self.problems.append(f"event '{e['id']}' assigns '{sid}', which "
                                         f"{'an assignment rule defines' if sym else 'cannot be set'}")
                    continue
                if sym.amount:
                    assigns[sym.amount] = f"({text}) * {sym.compartment}"
                else:
                    assigns[sym.name] = text
            if assigns:
                try:
                    out.append(Event(name=self.fresh(f"event_{e['id']}"), trigger=e["trigger"],
                                     assignments=assigns, delay=e["delay"],
                                     priority=e["priority"], persistent=e["persistent"],
                                     initial_value=e["initial_value"],
                                     use_values_from_trigger_time=e["use_values"]))
                except (ModelError, ExpressionError) as exc:
                    self.problems.append(f"event '{e['id']}': {exc}")
        return out

    def _evaluate_t0(self, t0: dict[str, str]) -> dict[str, float]:
        """Every symbol's value at the start (:func:`start_values`), problems collected."""
        try:
            values, problems = start_values(t0, self.names)
        except ModelError as exc:           # a cycle: nothing else can be evaluated
            raise ModelError(self.problems + exc.problems) from None
        self.problems += problems
        return values

    def _units(self):
        m = self.m

        def unit(el, kind) -> str:
            u = ""
            if kind == "species":
                sub = named(el.getSubstanceUnits() if el.isSetSubstanceUnits() else (
                    m.getSubstanceUnits() if m.isSetSubstanceUnits() else ""))
                u = sub
                if sub and not el.getHasOnlySubstanceUnits():
                    c = m.getCompartment(el.getCompartment())
                    cu = named(c.getUnits()) if c is not None and c.isSetUnits() else ""
                    u = sub if cu == "dimensionless" else f"{sub}/({cu})" if cu else ""
            elif kind in ("parameter", "compartment") and el.isSetUnits():
                u = named(el.getUnits())
            if u == "dimensionless":
                return "1"                          # immunesim's name for it
            return u if u and _UNIT_TEXT.match(u) else ""

        def named(uid: str) -> str:
            """A unit definition's name where it reads as a unit (immunesim's export names each
            by its unit's text, "mg/L"), else its id."""
            ud = m.getUnitDefinition(uid)
            name = ud.getName().strip() if ud is not None and ud.isSetName() else ""
            return name if name and _UNIT_TEXT.match(name) else uid

        return unit

    def _time_unit(self) -> str:
        """The model's time unit: ``second``, ``minute``, ``hour`` or ``day`` where the file says
        so (Level 3: ``timeUnits``; Level 2: the built-in ``time`` unit, seconds unless a unit
        definition ``time`` redefines it), else ``"1"`` (undeclared, or another unit)."""
        m, L = self.m, self.L
        if self.doc.getLevel() < 3:
            tu = "time" if m.getUnitDefinition("time") is not None else "second"
        elif not m.isSetTimeUnits():
            return "1"
        else:
            tu = m.getTimeUnits()
        if tu == "second":
            return "second"
        ud = m.getUnitDefinition(tu)
        if ud is not None and ud.getNumUnits() == 1:
            u = ud.getUnit(0)
            if u.getKind() == L.UNIT_KIND_SECOND and u.getExponent() == 1:
                factor = u.getMultiplier() * 10.0 ** u.getScale()
                for seconds, name in ((1.0, "second"), (60.0, "minute"), (3600.0, "hour"),
                                      (86400.0, "day")):
                    if abs(factor - seconds) <= 1e-12 * seconds:
                        return name
        return "1"


@functools.lru_cache(maxsize=8192)
def _parse_start(text: str, sid: str):
    """A start expression, parsed once: a fit or a cohort evaluates the same texts again with
    other values (parsing is 3/4 of the start map's cost)."""
    return parse(text, f"the start value of '{sid}'")


@functools.lru_cache(maxsize=4096)
def _start_partials(text: str, sid: str) -> tuple:
    """``((name, d expression / d name), ...)`` of a start expression, over the names it
    uses (SymPy's derivatives in the expression language, parsed and checked)."""
    import sympy as sp   # with the derivatives only

    expr = _parse_start(text, sid)
    table = {n: sp.Symbol(n, real=True) for n in expr.names}
    e = to_sympy(expr, table, f"the start value of '{sid}'")
    out = []
    for n in sorted(expr.names):
        d = sp.diff(e, table[n])
        if d != 0:
            try:
                out.append((n, parse(from_sympy(d), f"d(start of '{sid}')/d{n}")))
            except ExpressionError as exc:
                raise ModelError(f"the start value of '{sid}': its derivative cannot be "
                                 f"written ({exc})") from None
    return tuple(out)


def _dependency_order(t0: dict, by_name: dict) -> list[str]:
    """The ids of ``t0`` with each after the ids its expression reads (depth first, no
    recursion); :func:`start_values` has already refused cycles."""
    order, done = [], set()
    for root in t0:
        if root in done:
            continue
        stack = [(root, False)]
        while stack:
            sid, expanded = stack.pop()
            if sid in done:
                continue
            if expanded:
                done.add(sid)
                order.append(sid)
                continue
            stack.append((sid, True))
            if t0[sid] != "nan":
                for n in _parse_start(t0[sid], sid).names:
                    dep = by_name.get(n)
                    if dep is not None and dep not in done and dep != sid:
                        stack.append((dep, False))
    return order


def start_values(t0: dict[str, str], names: dict[str, str]) -> tuple[dict[str, float], list[str]]:
    """Every symbol's value at the start: initial assignments, assignment rules, declared
    values and reaction rates evaluated together in dependency order. ``t0``: SBML id ->
    expression text over the model's internal ``names`` (SBML id -> name). Returns the values
    and the problems met (a value that cannot be evaluated is NaN); a cycle raises."""
    problems: list[str] = []
    by_name = {names[sid]: sid for sid in t0 if sid in names}
    parsed = {}
    for sid, text in t0.items():
        if text == "nan":
            continue
        try:
            parsed[sid] = _parse_start(text, sid)
        except ExpressionError as exc:
            problems.append(str(exc))
    values: dict[str, float] = {}
    env: dict[str, float] = {TIME: 0.0}
    state: dict[str, int] = {}
    for root in t0:
        if root in values:
            continue
        stack = [root]
        while stack:
            sid = stack[-1]
            if sid in values:
                stack.pop()
                continue
            expr = parsed.get(sid)
            if expr is None:
                values[sid] = math.nan
                env[names.get(sid, sid)] = math.nan
                stack.pop()
                continue
            deps = [by_name[n] for n in expr.names if n in by_name and by_name[n] not in values]
            if deps and state.get(sid) != 1:
                state[sid] = 1
                for d in deps:
                    if state.get(d) == 1:
                        problems.append(f"initial assignments and assignment rules form a "
                                        f"cycle through '{sid}' and '{d}'")
                        raise ModelError(problems)
                stack.extend(deps)
                continue
            if deps:
                problems.append(f"initial assignments and assignment rules form a cycle "
                                f"through '{sid}'")
                raise ModelError(problems)
            try:
                v = evaluate(expr, env)
            except ExpressionError as exc:
                problems.append(str(exc))
                v = math.nan
            values[sid] = v
            env[names[sid]] = v
            state[sid] = 2
            stack.pop()
    return values, problems



@dataclass(frozen=True)
class StartRecipe:
    """How an imported model's starting values follow from the SBML document's: ``t0`` (SBML
    id -> expression text of its value at the start), the ids' internal ``names``, ``recipes``
    (model name -> (SBML id, compartment id or None): the component's value is that symbol's
    start value, times the compartment's for an amount), and the ids whose start an initial
    assignment, an assignment rule or a reaction fixes (``fixed``: not settable)."""

    t0: dict
    names: dict
    recipes: dict
    fixed: frozenset


def _source(el) -> str:
    """A parameter's source: its notes' ``source: ...`` line (immunesim's export writes one),
    else :data:`SOURCE`."""
    notes = el.getNotesString() if el.isSetNotes() else ""
    m = re.search(r"<p>\s*source:\s*(.*?)\s*</p>", notes, re.S)
    if not m:
        return SOURCE
    return unescape(m.group(1), {"&apos;": "'", "&quot;": '"'})[:500] or SOURCE


class _Refused(Exception):
    """A construct the import does not support; its message names it (caught per element and
    listed with the element's id)."""


def _sympy_text(e) -> str:
    """A SymPy expression (a solved algebraic rule) in immunesim's expression language
    (:func:`~immunesim.model.expr.from_sympy`); what it cannot express raises _Refused."""
    try:
        return from_sympy(e)
    except ExpressionError as exc:
        raise _Refused(str(exc)) from None


def _number(v: float) -> str:
    v = float(v)
    text = repr(v)
    return f"({text})" if v < 0 else text
