"""Forward sensitivities: a model's sensitivity equations as a larger model of the same kind.

For a model ``dy/dt = f(t, y, p)`` (``f = S rate(t, y, p, r)``, rules ``r = g(t, y, p, r)``) and
a direction ``theta`` (a parameter, or a species' initial value), the sensitivities
``s = dy/dtheta`` obey ``ds/dt = (df/dy) s + df/dtheta`` with ``s(t0) = dy0/dtheta`` (a unit
vector for an initial value, zero for a parameter). :func:`sensitivity_model` writes them as
more species, rules and processes of an ordinary :class:`~immunesim.model.model.Model`, built
from the model's own structure:

- a rule ``r`` gets the rule ``dr/dtheta = sum_x (dg/dx) dx/dtheta + dg/dtheta`` over the
  species and rules ``x`` its expression names (chain rule through the rules, which stay
  rules: no expression is substituted into another, so nothing grows);
- a process with rate ``R`` gets, per direction, a process with rate
  ``sum_x (dR/dx) dx/dtheta + dR/dtheta`` and the same stoichiometry on the sensitivity species.

The partial derivatives are SymPy's, written back in the expression language
(:func:`~immunesim.model.expr.from_sympy`) and parsed and checked like any other expression.
The augmented model runs on the same kernels and solvers as any model: the Rosenbrock methods
factorise its exact Jacobian (block lower triangular, the model's Jacobian on each diagonal
block) in one sparse LU, and step-size control covers the sensitivities too, as CVODES does
with ``errconS`` (so their accuracy is controlled, not only the state's).

Scheduled doses carry over exactly: a bolus or an infusion of a fixed amount does not change
``s``; setting a species to a number sets its sensitivities to 0 (the simulation adds those
settings to the schedule); setting a parameter that is a direction is refused (its sensitivity
after the set would no longer be a derivative with respect to one number).

State-triggered events get the jump conditions of the sensitivities at the event time ``tau``
(a trigger crossing where ``g(t, y, p) = 0``, assignments ``y+ = h(y-, p)``):
``dtau/dtheta = -(g_y s- + g_theta) / (g_y f- + g_t)`` and
``s+ = h_y (s- + f- dtau/dtheta) + h_theta - f+ dtau/dtheta`` (Rosenbrock-free form of the
result in, e.g., Hindmarsh et al., CVODES guide, and Fröhlich et al. 2017,
doi:10.1371/journal.pcbi.1005331). They are written as more assignments of the same event,
which the kernels evaluate, as SBML says, with the values before the event. Supported: a
trigger that is one comparison (``a > b``, ``a <= b`` ...), no delay; others are refused by
name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ExpressionError, ModelError
from ..validation import clip, closest
from .components import Event, Process, Rule, Species
from .expr import TIME, from_sympy, parse, to_sympy
from .model import Model
from .symbolic import symbolic_budget


@dataclass(frozen=True)
class SensitivityLayout:
    """Where the sensitivities are in the augmented model: ``directions`` (the names asked for),
    ``kinds`` (``"parameter"`` or ``"initial"`` for each), and ``names[k][i]``: the augmented
    model's name of ``d variable_i / d direction_k`` (variables: species then rules, as in
    results)."""

    directions: tuple[str, ...]
    kinds: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    n_variables: int


def _prefix(model: Model) -> str:
    used = set(model.species_names) | set(model.parameter_names) | set(model.rule_names)
    used |= {p.name for p in model.processes} | {e.name for e in model.events}
    prefix = "sens"
    while any(n.startswith(prefix) for n in used):
        prefix += "x"
    return prefix


def check_directions(model: Model, names) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The directions ``names`` as ``(names, kinds)``: each a parameter (``"parameter"``) or a
    species, for its initial value (``"initial"``); a ModelError naming every other."""
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ModelError(f"sensitivities must be a list of parameter or species names, got "
                         f"{names!r}")
    names = tuple(names)
    problems, kinds = [], []
    if not names:
        problems.append("sensitivities: give at least one parameter or species name")
    if len(set(names)) != len(names):
        problems.append("sensitivities: a name is listed twice")
    for n in names:
        if n in model.parameter_index:
            kinds.append("parameter")
        elif n in model.species_index:
            kinds.append("initial")
        else:
            close = closest(n, list(model.parameter_index) + list(model.species_index))
            hint = f"; did you mean '{close}'?" if close else ""
            problems.append(f"sensitivities: {clip(n)} is neither a parameter nor a species of "
                            f"model '{model.name}'{hint}")
    if problems:
        raise ModelError(problems)
    return names, tuple(kinds)


def sensitivity_model(model: Model, names) -> tuple[Model, SensitivityLayout]:
    """``(augmented model, layout)``: ``model`` with the forward sensitivity equations of the
    directions ``names`` (parameters, or species for their initial values) added; the first
    species, parameters, rules and processes are the model's own, unchanged."""
    import sympy as sp

    directions, kinds = check_directions(model, names)
    prefix = _prefix(model)
    variables = model.variable_names
    vidx = {n: i for i, n in enumerate(variables)}
    layout_names = tuple(tuple(f"{prefix}{k}_{v}" for v in variables)
                         for k in range(len(directions)))
    units = dict(zip(variables, model.variable_units))
    punits = {q.name: q.unit for q in model.parameters}
    table = {n: sp.Symbol(n, real=True) for n in
             list(variables) + list(model.parameter_names) + [TIME]}

    def total(expr, where: str, k: int) -> str:
        """Text of d expr / d direction k (chain rule through species and rules)."""
        e = to_sympy(expr, table, where)
        terms = []
        for x in sorted(expr.names):
            if x in vidx:
                d = sp.diff(e, table[x])
                if d != 0:
                    terms.append(sp.Mul(d, sp.Symbol(layout_names[k][vidx[x]], real=True)))
        theta = directions[k]
        if kinds[k] == "parameter" and theta in expr.names:
            d = sp.diff(e, table[theta])
            if d != 0:
                terms.append(d)
        if not terms:
            return "0"
        try:
            return from_sympy(sp.Add(*terms))
        except ExpressionError as exc:
            raise ModelError(f"{where}: its derivative cannot be written in the expression "
                             f"language ({exc})") from None

    def unit(var: str, k: int) -> str:
        theta = directions[k]
        du = punits[theta] if kinds[k] == "parameter" else units[theta]
        return f"({units[var]})/({du})"

    species = list(model.species)
    rules = list(model.rules)
    processes = list(model.processes)
    events = []
    with symbolic_budget() as budget:
        for k, theta in enumerate(directions):
            for i, s in enumerate(model.species):
                start = 1.0 if kinds[k] == "initial" and s.name == theta else 0.0
                species.append(Species(name=layout_names[k][i], unit=unit(s.name, k),
                                       initial=start, nonnegative=False,
                                       description=f"d {s.name} / d {theta}"))
            for r in model.rules:
                budget.at(f"the sensitivity of rule '{r.name}' to '{theta}'")
                rules.append(Rule(name=layout_names[k][vidx[r.name]], unit=unit(r.name, k),
                                  expression=total(r.parsed, f"rule '{r.name}'", k),
                                  description=f"d {r.name} / d {theta}"))
            for proc in model.processes:
                budget.at(f"the sensitivity of process '{proc.name}' to '{theta}'")
                rate = total(proc.parsed, f"process '{proc.name}' rate", k)
                if rate == "0":
                    continue
                stoich = {layout_names[k][vidx[n]]: c for n, c in proc.stoichiometry.items()}
                processes.append(Process(name=f"{prefix}{k}_{proc.name}", rate=rate,
                                         stoichiometry=stoich))
        for ev in model.events:
            budget.at(f"the sensitivity jump of event '{ev.name}'")
            events.append(_event_jump(model, ev, directions, kinds, layout_names, table, vidx))
    aug = Model(f"{model.name}+sensitivities", species=species, parameters=model.parameters,
                processes=processes, rules=rules, events=events, time_unit=model.time_unit,
                description=model.description, references=model.references)
    return aug, SensitivityLayout(directions, kinds, layout_names, len(variables))


_RELATIONS = ("Lt", "LtE", "Gt", "GtE")


def _event_jump(model, ev: Event, directions, kinds, names, table, vidx) -> Event:
    """``ev`` with the sensitivities' jump conditions as more assignments (module docstring)."""
    import ast

    import sympy as sp

    where = f"event '{ev.name}'"
    if ev.delay is not None:
        raise ModelError(f"{where}: sensitivities through an event with a delay are not "
                         "supported")
    tree = parse(ev.trigger, f"{where} trigger").tree
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1
            and type(tree.ops[0]).__name__ in _RELATIONS):
        raise ModelError(f"{where}: sensitivities through an event need a trigger that is one "
                         f"comparison (<, <=, >, >=), got '{ev.trigger}'")
    lhs = parse(ast.unparse(tree.left), where)
    rhs = parse(ast.unparse(tree.comparators[0]), where)
    species = model.species_names
    # everything as SymPy over the model's names, with rules substituted (the jump needs
    # the state's derivatives, which the rules feed)
    sub = {n: table[n] for n in table}
    rule_exprs = {}
    for r in model.rules:
        rule_exprs[r.name] = to_sympy(r.parsed, sub, f"rule '{r.name}'")
        sub[r.name] = rule_exprs[r.name]
    g = to_sympy(lhs, sub, where) - to_sympy(rhs, sub, where)
    f_minus = [sp.Integer(0)] * len(species)
    for proc in model.processes:
        rate = to_sympy(proc.parsed, sub, f"process '{proc.name}' rate")
        for n, c in proc.stoichiometry.items():
            f_minus[model.species_index[n]] += sp.Float(c) * rate
    assign = {n: to_sympy(e, sub, f"{where} assignment to '{n}'")
              for n, e in ev.parsed_assignments}
    if any(n in directions for n in assign if n in model.parameter_index):
        raise ModelError(f"{where}: it assigns a parameter that is a sensitivity direction")
    # the state after the event, as expressions of the values before it
    after = {n: assign.get(n, table[n]) for n in species}
    after.update({n: assign[n] for n in assign if n in model.parameter_index})
    f_plus = [fi.xreplace({table[n]: v for n, v in after.items()}) for fi in f_minus]
    y = [table[n] for n in species]
    t = table[TIME]
    out = dict(ev.assignments)
    for k, theta in enumerate(directions):
        s = [sp.Symbol(names[k][i], real=True) for i in range(len(species))]
        g_theta = sp.diff(g, table[theta]) if kinds[k] == "parameter" else 0
        num = sum((sp.diff(g, yi) * si for yi, si in zip(y, s)), sp.Integer(0)) + g_theta
        den = sum((sp.diff(g, yi) * fi for yi, fi in zip(y, f_minus)), sp.Integer(0)) \
            + sp.diff(g, t)
        dtau = -num / den
        for i, n in enumerate(species):
            if n not in assign and sp.expand(f_plus[i] - f_minus[i]) == 0:
                continue      # s+ = s- + f dtau - f dtau: this sensitivity does not jump
            h = after[n]
            value = sum((sp.diff(h, yj) * (sj + fj * dtau)
                         for yj, sj, fj in zip(y, s, f_minus)), sp.Integer(0))
            if kinds[k] == "parameter":
                value += sp.diff(h, table[theta])
            value -= f_plus[i] * dtau
            try:
                out[names[k][i]] = from_sympy(value)
            except ExpressionError as exc:
                raise ModelError(f"{where}: the jump of d {n}/d {theta} cannot be written in "
                                 f"the expression language ({exc})") from None
    return Event(name=ev.name, trigger=ev.trigger, assignments=out, delay=None,
                 priority=ev.priority, persistent=ev.persistent,
                 initial_value=ev.initial_value,
                 use_values_from_trigger_time=ev.use_values_from_trigger_time,
                 description=ev.description)
