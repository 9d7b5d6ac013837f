"""A model split into a compiled base and the small block that drives the base's inputs.

A disease preset declares its drug hooks as ``inputs`` (:class:`~immunesim.model.Model`). A
drug coupled to it adds species (its pharmacokinetics) whose right-hand sides read nothing of
the disease, and turns the hooks it drives into rules of those species. Such a model is block
triangular: with ``y = (y_d, y_k)`` (disease, drugs) and hooks ``H(y_k)``,

    f = (F(y_d, H(y_k)), G(y_k)),    J = [[J_d, dF/dH dH/dy_k], [0, J_k]].

:func:`split` finds the two blocks from the model's structure alone (no drug is named here):

- the *base*: the model's leading species with their processes and rules, every input a
  parameter, the parameters ordered by name. Its structure is the same for every drug
  combination of a preset, so its compiled kernels
  (:func:`~immunesim.codegen.generate.generate_composed_source`) serve all of them;
- the *driver*: the trailing species whose right-hand sides read only each other, their
  processes, rules and parameters, and one extra species per driven input whose right-hand
  side is that input's value (so that the driver's instruction tape gives ``H`` and ``dH/dy_k``
  with its own right-hand side and Jacobian). It runs on the tape interpreter
  (:mod:`immunesim.kernels.tape_eval`): a new drug combination compiles nothing.

Each linear solve of a Rosenbrock stage is done block by block: ``x_k`` from an LU program of
the driver's own species (its input species are never solved for), then ``x_d`` from the base's
unrolled LU with ``b_d + C x_k`` (``C = dF/dH dH/dy_k``, sparse).

:meth:`Composition.pack` lays one patient's parameter vector out for the composed kernels; the
fields of its header are the ``C_*`` constants of :mod:`immunesim.kernels.layout`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kernels import layout as L
from ..model.components import Parameter, Process, Species
from ..model.expr import TIME
from ..model.model import Model
from . import sparse_lu

#: the prefix of the driver's input species and processes (no split where the model has the name)
INPUT_PREFIX = "composed_input_"


@dataclass(frozen=True, eq=False)
class Composition:
    """``model`` as a base and a driver (see the module docstring)."""

    model: Model
    base: Model
    driver: Model
    n_base: int                     # species of the base: the model's first n_base
    driven: tuple[str, ...]         # the inputs the driver drives, in the order of its input species
    base_params: np.ndarray         # each base parameter's index in the model, -1 for a driven input
    driver_params: np.ndarray       # each driver parameter's index in the model
    _layout: dict = field(default_factory=dict, repr=False)     # pack's shared part, once built

    @property
    def n_driver(self) -> int:
        """The driver's own species (without its input species)."""
        return len(self.model.species) - self.n_base

    def parameter_target(self, k0: int) -> np.ndarray:
        """Where each model parameter lives in the composed parameter vector (driver slice at
        ``k0``): for the events that set parameters."""
        out = np.full(len(self.model.parameters), -1, dtype=np.int64)
        for j, m in enumerate(self.base_params):
            if m >= 0:
                out[m] = j
        for j, m in enumerate(self.driver_params):
            out[m] = k0 + j
        return out

    def output_columns(self) -> np.ndarray:
        """For each of the model's variables (species, then rules), its column in the composed
        kernels' output: base species, base rules, driver species, input species, driver rules."""
        nb, nk, nf = self.n_base, self.n_driver, len(self.driven)
        base_rule = {r: nb + i for i, r in enumerate(self.base.rule_names)}
        n_obs_base = nb + len(self.base.rules)
        drv_rule = {r: n_obs_base + nk + nf + i for i, r in enumerate(self.driver.rule_names)}
        cols = list(range(nb)) + [n_obs_base + i for i in range(nk)]
        cols += [base_rule[r] if r in base_rule else drv_rule[r] for r in self.model.rule_names]
        return np.asarray(cols, dtype=np.int64)

    def pack(self, P: np.ndarray, tape_tail: np.ndarray, di_row: np.ndarray, di_col: np.ndarray,
             d_jrow: np.ndarray, d_jcol: np.ndarray, d_nnz_w: int) -> tuple[np.ndarray, int]:
        """``(composed parameter matrix, offset of the driver slice)`` from the model's ``P``
        (patients x parameters), the driver's packed tape, and the base module's constants: the
        pattern of ``dF/dinputs`` (``di_row``, ``di_col``: base species, position in
        ``base.inputs``), of its Jacobian and the size of its LU storage. The part between the
        base's parameters and the driver's (header, integer arrays, scratch) is the same for
        every patient and every call: it is built once per composition."""
        if "middle" not in self._layout:
            self._layout["middle"] = self._middle(tape_tail, di_row, di_col, d_jrow, d_jcol,
                                                  d_nnz_w)
        middle = self._layout["middle"]
        npb, npk = len(self.base.parameters), len(self.driver.parameters)
        at = npb + middle.size
        out = np.empty((P.shape[0], at + npk + tape_tail.size))
        own = self.base_params >= 0
        out[:, :npb] = 0.0
        out[:, np.flatnonzero(own)] = P[:, self.base_params[own]]
        out[:, npb:at] = middle
        out[:, at:at + npk] = P[:, self.driver_params]
        out[:, at + npk:] = tape_tail
        return out, at

    def _middle(self, tape_tail, di_row, di_col, d_jrow, d_jcol, d_nnz_w) -> np.ndarray:
        """The header, integer arrays and scratch of :meth:`pack`."""
        nb, nk, nf = self.n_base, self.n_driver, len(self.driven)
        m = nk + nf
        npb = len(self.base.parameters)
        # the driver's tape header: its Jacobian pattern and sizes
        npk = len(self.driver.parameters)
        dp = np.concatenate([np.zeros(npk), tape_tail])
        head = dp[dp.size - L.HEADER:]

        def ints(key, count):
            o = int(head[key])
            return dp[o:o + count].view(np.int64)

        nnzk = int(head[L.H_NNZ])
        krow, kcol = ints(L.H_JROW, nnzk), ints(L.H_JCOL, nnzk)
        n_obs_k = m + int(head[L.H_NRULES])
        real = [q for q in range(nnzk) if krow[q] < nk]
        # the driver's own species' sparse LU (its input species are solved for by nobody)
        pattern = [(int(krow[q]), int(kcol[q])) for q in real]
        luk = sparse_lu.program(sparse_lu.plan(nk, pattern, sparse_lu.MAX_PROGRAM_OPS), pattern)
        nwk = int(luk[L.P_NNZW])
        # C = dF/dH dH/dy_k: entries (base row, driver column), each a sum of products
        pos = {name: c for c, name in enumerate(self.base.inputs)}
        by_col: dict[int, list[int]] = {}
        for e, c in enumerate(di_col):
            by_col.setdefault(int(c), []).append(e)
        slot: dict[tuple[int, int], int] = {}
        triples = []
        for q in range(nnzk):
            if krow[q] >= nk:
                f = int(krow[q]) - nk
                for e in by_col.get(pos[self.driven[f]], ()):
                    ij = (int(di_row[e]), int(kcol[q]))
                    triples.append((slot.setdefault(ij, len(slot)), e, q))
        crow = [i for i, _ in slot]
        ccol = [j for _, j in slot]
        jrow = np.concatenate([d_jrow, krow[real] + nb, np.asarray(crow, dtype=np.int64)])
        jcol = np.concatenate([d_jcol, kcol[real] + nb, np.asarray(ccol, dtype=np.int64) + nb])
        inp = [self.base.parameter_index[name] for name in self.driven]
        int_parts = [inp, real, crow, ccol, [t[0] for t in triples], [t[1] for t in triples],
                     [t[2] for t in triples], jrow, jcol, luk]
        float_sizes = [m, m, m, nnzk, len(di_row), nb, n_obs_k]
        at = npb + L.C_HEADER
        header = np.zeros(L.C_HEADER)
        header[[L.C_NK, L.C_NF, L.C_NKR, L.C_NNZK, L.C_NC, L.C_NT, L.C_NJ, L.C_NWK, L.C_NOBSK,
                L.C_OWK, L.C_OWC, L.C_NLUK]] = [nk, nf, len(real), nnzk, len(slot), len(triples),
                                                jrow.size, nwk, n_obs_k, d_nnz_w, d_nnz_w + nwk,
                                                luk.size]
        blocks = []
        for slot_field, values in zip(L.C_INTS, int_parts):
            arr = np.asarray(values, dtype=np.int64)
            header[slot_field] = at
            blocks.append(arr.view(np.float64))
            at += arr.size
        for slot_field, size in zip(L.C_FLOATS, float_sizes):
            header[slot_field] = at
            blocks.append(np.zeros(size))
            at += size
        header[L.C_K0] = at
        return np.concatenate([header, *blocks])


def _species_of(names, species: set, rule_species: dict) -> set:
    out = set()
    for n in names:
        if n in species:
            out.add(n)
        elif n in rule_species:
            out |= rule_species[n]
    return out


def split(model: Model) -> Composition | None:
    """``model`` as a base and a driver, or None where it is not block triangular in its
    declared inputs (no inputs driven by rules, state events, time in an expression, a process
    changing both blocks, a name read across the blocks other than a driven input, or a
    parameter read by both)."""
    if not model.inputs or model.events:
        return None
    species = set(model.species_names)
    rules = {r.name: r for r in model.rules}
    if any(TIME in r.parsed.names for r in model.rules) or any(
            TIME in p.parsed.names for p in model.processes):
        return None
    rule_species: dict[str, set] = {}
    for r in model.rules:          # in dependency order
        rule_species[r.name] = _species_of(r.parsed.names, species, rule_species)
    deps: dict[str, set] = {s: set() for s in model.species_names}
    for pr in model.processes:
        reads = _species_of(pr.parsed.names, species, rule_species)
        for target in pr.stoichiometry:
            deps[target] |= reads
    driven_all = [n for n in model.inputs if n in rules]
    if not driven_all:
        return None
    reach, stack = set(), [s for n in driven_all for s in rule_species[n]]
    while stack:
        s = stack.pop()
        if s not in reach:
            reach.add(s)
            stack += deps[s]
    if not reach:
        return None
    nb = min(model.species_index[s] for s in reach)
    tail = set(model.species_names[nb:])
    if nb == 0 or any(not deps[s] <= tail for s in tail):
        return None
    base_procs, drv_procs = [], []
    for pr in model.processes:
        targets = set(pr.stoichiometry)
        if targets <= tail:
            drv_procs.append(pr)
        elif targets & tail:
            return None
        else:
            base_procs.append(pr)
    # a rule is the driver's where it reads the driver's species other than through a driven
    # input (a disease rule of the hooks alone stays in the base, whatever drives them)
    driven = set(driven_all)
    cut: dict[str, set] = {}       # species read other than through a driven input
    for r in model.rules:
        cut[r.name] = set() if r.name in driven else _species_of(r.parsed.names, species, cut)
    drv_rules = [r for r in model.rules if r.name in driven or (cut[r.name] and cut[r.name] <= tail)]
    drv_rule_names = {r.name for r in drv_rules}
    base_rules = [r for r in model.rules if r.name not in drv_rule_names]
    params = set(model.parameter_names)
    base_reads, drv_reads = set(), set()
    for expr in [*(r.parsed for r in base_rules), *(p.parsed for p in base_procs)]:
        base_reads |= expr.names
    for expr in [*(r.parsed for r in drv_rules), *(p.parsed for p in drv_procs)]:
        drv_reads |= expr.names
    base_rule_names = {r.name for r in base_rules}
    if (base_reads & (tail | drv_rule_names)) - driven:
        return None
    if drv_reads & ((species - tail) | base_rule_names):
        return None
    base_p = (base_reads & params) | (set(model.inputs) & params)
    if base_p & drv_reads:
        return None
    inputs = tuple(sorted(model.inputs))
    by_name = {p.name: p for p in model.parameters}
    base_parameters = []
    for name in sorted(base_p | driven):
        if name in driven:
            base_parameters.append(Parameter(name=name, value=0.0, unit=rules[name].unit,
                                             source="input: computed by the driver block",
                                             bounds=(-np.inf, np.inf)))
        else:
            base_parameters.append(by_name[name])
    base = Model(f"{model.name} (composed base)", species=model.species[:nb],
                 parameters=base_parameters, processes=base_procs, rules=base_rules,
                 time_unit=model.time_unit, inputs=inputs)
    order = [n for n in inputs if n in driven]
    taken = set(model.species_names) | set(model.parameter_names) | set(rules) | {
        p.name for p in model.processes}
    names = [f"{INPUT_PREFIX}{k}" for k in range(len(order))]
    if taken & set(names):
        return None
    drv_params = [p for p in model.parameters if p.name not in base_p]
    driver = Model(f"{model.name} (composed driver)",
                   species=[*model.species[nb:],
                            *(Species(name=n, unit="1", description="an input's value",
                                      nonnegative=False) for n in names)],
                   parameters=drv_params, rules=drv_rules,
                   processes=[*drv_procs, *(Process(name=n, rate=h, stoichiometry={n: 1})
                                                  for n, h in zip(names, order))],
                   time_unit=model.time_unit)
    index = model.parameter_index
    return Composition(
        model=model, base=base, driver=driver, n_base=nb, driven=tuple(order),
        base_params=np.array([index.get(p.name, -1) for p in base.parameters], dtype=np.int64),
        driver_params=np.array([index[p.name] for p in drv_params], dtype=np.int64))
