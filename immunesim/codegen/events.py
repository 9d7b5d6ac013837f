"""A model's state events as both kernel tiers run them (one layout, the codegen's one place)."""

from __future__ import annotations

import numpy as np

from ..kernels import constants as C
from ..model.model import Model


def event_layout(model: Model) -> tuple[tuple, np.ndarray]:
    """The expressions whose values the kernels need for ``model``'s events (per event: its
    trigger as 1/0, its priority and delay where given, each assignment's value), and the event
    table of :mod:`immunesim.kernels.constants` (``EVW`` integers per event, then ``EVA`` per
    assignment: target kind, target index, offset of its value)."""
    exprs, rows, assigns = [], [], []
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
        rows.append(row)
    table = [v for r in rows for v in r] + [v for a in assigns for v in a]
    return tuple(exprs), np.array(table, dtype=np.int64)
