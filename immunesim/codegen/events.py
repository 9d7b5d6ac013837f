"""A model's state events as both kernel tiers run them (one layout, the codegen's one place)."""

from __future__ import annotations

import ast

import numpy as np

from ..kernels import constants as C
from ..model.expr import parse
from ..model.model import Model


def event_layout(model: Model) -> tuple[tuple, np.ndarray]:
    """The expressions whose values the kernels need for ``model``'s events (per event: its
    trigger as 1/0, its priority and delay where given, each assignment's value), and the event
    table of :mod:`immunesim.kernels.constants` (``EVW`` integers per event, then ``EVA`` per
    assignment: target kind, target index, offset of its value)."""
    exprs, rows, assigns, watches = [], [], [], []
    for e in model.events:
        trig = len(exprs)
        exprs.append(e.parsed_trigger)
        offs = []
        for x in (e.parsed_priority, e.parsed_delay):
            offs.append(-1 if x is None else len(exprs))
            if x is not None:
                exprs.append(x)
        first = len(assigns)
        for target, x in e.parsed_assignments:
            kind = 0 if target in model.species_index else 1
            index = model.species_index[target] if kind == 0 else model.parameter_index[target]
            assigns.append((kind, index, len(exprs)))
            exprs.append(x)
        row = [0] * C.EVW
        row[C.EV_TRIG], row[C.EV_PRIO], row[C.EV_DELAY] = trig, offs[0], offs[1]
        row[C.EV_FIRST], row[C.EV_NASSIGN] = first, len(e.parsed_assignments)
        row[C.EV_PERSISTENT] = int(e.persistent)
        row[C.EV_INITIAL] = int(e.initial_value)
        row[C.EV_USE_TRIGGER] = int(e.use_values_from_trigger_time)
        mine = [trig]
        for cmp in _comparisons(e.parsed_trigger):
            mine.append(len(exprs))
            exprs.append(cmp)
        row[C.EV_WFIRST], row[C.EV_NWATCH] = len(watches), len(mine)
        watches.extend(mine)
        rows.append(row)
    base = len(rows) * C.EVW + len(assigns) * C.EVA
    for row in rows:
        row[C.EV_WFIRST] += base
    table = [v for r in rows for v in r] + [v for a in assigns for v in a] + watches
    return tuple(exprs), np.array(table, dtype=np.int64)


def _comparisons(trigger) -> list:
    """Each comparison inside a trigger (``a < b < c`` as ``a < b`` and ``b < c``) as an
    expression worth 1 while it holds, 0 otherwise."""
    out, stack = [], [trigger.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                text = ast.unparse(ast.Compare(left=left, ops=[op], comparators=[right]))
                out.append(parse(f"piecewise(1, {text}, 0)", "event trigger comparison"))
                left = right
        else:
            stack.extend(ast.iter_child_nodes(node))
    return out
