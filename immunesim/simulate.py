"""The entry points: :func:`simulate` (one run) and :func:`simulate_batch` (a parameter matrix)."""

from __future__ import annotations

import os
import warnings
from typing import Mapping, Sequence

import numpy as np

from .codegen import (composed_cached, kernels_cached, load_aot_solver, load_composed,
                      load_generic, load_kernels, split)
from .codegen.tape import packed_tape
from .errors import ModelError
from .events import Event, SetParameter, SetSpecies, compile_schedule, concat_schedules
from .kernels.constants import EV_SET_PARAM, N_STATS
from .kernels.layout import C_NOBSK
from .model.model import Model
from .model.sensitivity import SensitivityLayout, check_directions, sensitivity_model
from .provenance import version_attrs
from .result import Result, ResultData
from .solvers import SolverOptions
from .solvers.buffers import empty_output
from .status import STAT_FIELDS, describe
from .validation import clip, is_one_of


def simulate(model: Model, t_eval=None, *, t_span=None, params: Mapping[str, float] | None = None,
             y0: Mapping[str, float] | None = None, events: Sequence[Event] = (),
             method: str = "rodas5p", rtol: float = 1e-6, atol=1e-9, max_steps: int = 100_000,
             first_step: float | None = None, max_step: float | None = None,
             on_failure: str = "raise", kernels: str = "auto",
             sensitivities: Sequence[str] | None = None) -> Result:
    """Simulate ``model`` once.

    Parameters
    ----------
    model : the model.
    t_eval : output times (sorted, in the model's time unit). Default: 101 points over ``t_span``.
    t_span : ``(t0, t_end)``; default ``(t_eval[0], t_eval[-1])``.
    params, y0 : overrides ``{name: value}`` of parameter values and initial states.
    events : scheduled :class:`~immunesim.Bolus`, :class:`~immunesim.Infusion`,
        :class:`~immunesim.SetParameter`, :class:`~immunesim.SetSpecies`.
    method : ``"rodas5p"`` (stiff, order 5, default), ``"rodas4"`` (stiff, order 4) or
        ``"dopri5"`` (non-stiff); see :data:`immunesim.METHODS`.
    rtol, atol : local error tolerances; ``atol`` scalar or one per species.
    max_steps, first_step, max_step : step limits.
    on_failure : ``"raise"`` (default) raises :class:`~immunesim.SimulationError` carrying the
        partial result; ``"flag"`` returns it with ``status``/``message`` set.
    kernels : ``"auto"`` (default), ``"generic"``, ``"specialised"`` or ``"composed"``: which
        tier runs the model (see :data:`KERNEL_TIERS`). ``"auto"`` uses the model's specialised
        kernels when they are in the cache, the composed kernels when the model splits and its
        preset's composed module is cached, and the generic kernels otherwise, so a new model
        gives its first result without compiling anything of its own. The tiers agree to the
        solver tolerance, not bit for bit: pin a tier where bits must repeat across cache
        states. The result's ``kernels`` attribute says which ran.
    sensitivities : parameter names, and species names for their initial values: the forward
        sensitivities ``d variable / d name`` of every species and rule are integrated with the
        state (:mod:`immunesim.model.sensitivity`) and returned as ``result.sensitivities``
        (dims ``time x variable x direction``), in the variable's unit per the direction's.
        Their error is controlled with the state's (same ``rtol``, ``atol`` per species).

    Returns
    -------
    Result with dims ``time x variable`` (species then rules).
    """
    opts = SolverOptions(method=method, rtol=rtol, atol=atol, max_steps=max_steps,
                         first_step=first_step, max_step=max_step)
    _check_on_failure(on_failure)
    t0, t_out = _times(t_eval, t_span)
    p = model.parameter_vector(params)
    y = model.initial_vector(y0)
    run, layout = model, None
    if sensitivities is not None:
        run, layout = augmented(model, sensitivities)
        events = _sensitivity_events(model, layout, events)
        y = np.concatenate([y, _sensitivity_start(model, layout)])
    sched = compile_schedule(run, events, t0)
    if choose_tier(run, kernels, 1) == "composed":
        kern = _Kernels.composed(run)
        solve, p_run = getattr(kern.mod, f"solve_one_{opts.method}_plain"), kern.pack(p[None, :])[0]
        sched = kern.schedule(sched)    # after pack: where the composed kernels keep parameters
    else:
        kern = None
        solve, tail = one_solver(run, kernels, opts.method)
        p_run = p if tail is None else np.concatenate([p, tail])
    out = np.empty((t_out.size, len(run.variable_names) if kern is None else kern.n_out(run, p_run)))
    stats = np.zeros(N_STATS)
    atol = opts.atol_vector(len(model.species))
    c = np.ascontiguousarray       # the ahead-of-time entry points take contiguous arrays only
    code = solve(c(p_run, np.float64), c(y, np.float64), float(t0), c(t_out, np.float64),
                 c(sched.time, np.float64), c(sched.kind, np.int64), c(sched.index, np.int64),
                 c(sched.value, np.float64), float(opts.rtol),
                 c(np.tile(atol, len(run.species) // len(model.species)), np.float64),
                 float(opts.first_step or 0.0),
                 float(opts.max_step or np.inf), int(opts.max_steps), out, stats)
    tier = kern.tier if kern is not None else _tier_name(tail)
    out = out if kern is None else kern.outputs(out)
    out, sens = _split(model, run, layout, out)
    result = Result(data=_result_data(model, opts, t0, t_out, out, np.array(code), stats, p,
                                      None, tier, run.species_names, layout, sens))
    return result.raise_for_status() if on_failure == "raise" else result


def simulate_batch(model: Model, params=None, t_eval=None, *, t_span=None,
                   n_patients: int | None = None, y0=None, events=(), patient_ids=None,
                   n_threads: int | None = None, method: str = "rodas5p", rtol: float = 1e-6,
                   atol=1e-9, max_steps: int = 100_000, first_step: float | None = None,
                   max_step: float | None = None, on_failure: str = "flag",
                   kernels: str = "auto", sensitivities: Sequence[str] | None = None) -> Result:
    """Simulate many patients in one compiled kernel, in parallel (Numba ``prange``).

    Parameters
    ----------
    params : the parameter matrix, as ``{name: values}`` (one value per patient, or a
        scalar; unnamed parameters keep model values), a pandas ``DataFrame`` with parameter
        columns, or an array ``(n_patients, n_parameters)`` in model order.
    n_patients : needed only when ``params`` is None.
    y0 : initial states as ``{name: values}`` or an array ``(n_patients, n_species)``.
    events : one schedule for all patients, or a list of schedules, one per patient.
    n_threads : threads to use (default: Numba's default, all cores).
    on_failure : ``"flag"`` (default) marks failed patients in ``status``/``message``
        and warns; ``"raise"`` raises if any patient failed.
    kernels : as in :func:`simulate`; with ``"auto"``, a batch of at least
        :data:`SPECIALISE_AT` patients compiles the model's specialised kernels (they repay
        their compile), a smaller one runs on the generic kernels unless the specialised are
        cached.
    sensitivities : as in :func:`simulate`; ``result.sensitivities`` has dims
        ``patient x time x variable x direction``.
    Other arguments as in :func:`simulate`.

    Returns
    -------
    Result with dims ``patient x time x variable`` and per-patient ``status``.
    """
    opts = SolverOptions(method=method, rtol=rtol, atol=atol, max_steps=max_steps,
                         first_step=first_step, max_step=max_step)
    _check_on_failure(on_failure)
    t0, t_out = _times(t_eval, t_span)
    P = _param_matrix(model, params, n_patients)
    n = P.shape[0]
    Y0 = _initial_matrix(model, y0, n)
    run, layout = model, None
    if sensitivities is not None:
        run, layout = augmented(model, sensitivities)
        Y0 = np.ascontiguousarray(np.concatenate(
            [Y0, np.tile(_sensitivity_start(model, layout), (n, 1))], axis=1))
    compiled, schedules = {}, []  # a schedule shared by all patients is compiled once
    for evs in _per_patient_events(events, n):
        if id(evs) not in compiled:
            more = evs if layout is None else _sensitivity_events(model, layout, evs)
            compiled[id(evs)] = compile_schedule(run, more, t0)
        schedules.append(compiled[id(evs)])
    kern = _Kernels.choose(run, kernels, n)
    P_run = kern.pack(P)       # before the schedules: where the composed kernels keep parameters
    ptr, ev_t, ev_k, ev_i, ev_v = concat_schedules([kern.schedule(s) for s in schedules])
    mod = kern.mod
    out = empty_output((n, t_out.size, kern.n_out(run, P_run[0]) if n else len(run.variable_names)))
    stats = np.zeros((n, N_STATS))
    codes = np.zeros(n, dtype=np.int64)
    import numba

    previous = numba.get_num_threads()
    if n_threads is not None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
            raise ModelError(f"n_threads must be a positive integer, got {n_threads!r}")
        numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        atol = opts.atol_vector(len(model.species))
        getattr(mod, f"solve_batch_{opts.method}{_variant(run)}")(
            P_run, Y0, t0, t_out, ptr, ev_t, ev_k, ev_i, ev_v, float(opts.rtol),
            np.tile(atol, len(run.species) // len(model.species)), float(opts.first_step or 0.0),
            float(opts.max_step or np.inf), int(opts.max_steps), out, stats, codes)
    finally:
        numba.set_num_threads(previous)
    out, sens = _split(model, run, layout, kern.outputs(out))
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    if ids.shape != (n,):
        raise ModelError(f"patient_ids must have one id per patient ({n}), got shape {ids.shape}")
    result = Result(data=_result_data(model, opts, t0, t_out, out, codes, stats, P, ids,
                                      kern.tier, run.species_names, layout, sens))
    n_bad = int((codes != 0).sum())
    if n_bad and on_failure == "flag":
        first = int(np.flatnonzero(codes)[0])
        warnings.warn(f"{n_bad} of {n} patients failed and are flagged in result.status "
                      f"(first: patient {ids[first]}: {result.message[first]}); "
                      "use result.successful() for statistics", RuntimeWarning, stacklevel=2)
    return result.raise_for_status() if on_failure == "raise" else result


# -- kernel tiers -----------------------------------------------------------------
#: ``generic``: one module of solver code compiled once for every model, the model evaluated
#: from its instruction tape (:mod:`immunesim.codegen.tape`): a new model costs milliseconds.
#: ``specialised``: the model's own module (generated right-hand side, Jacobian and sparse LU,
#: unrolled stages), compiled once per model structure and cached: the fastest per patient.
#: ``composed``: a model whose declared inputs (a disease preset's drug hooks) are driven by a
#: block of its own (coupled drugs): the base's kernels compiled once with the inputs as
#: parameters, the driver on the tape (:mod:`immunesim.codegen.compose`): every drug
#: combination of a preset shares one compiled module.
KERNEL_TIERS = ("auto", "generic", "specialised", "composed")
#: patients from which ``kernels="auto"`` compiles a batch's specialised kernels (composed ones
#: where the model splits: a preset with drugs)
SPECIALISE_AT = 256
#: patients from which ``kernels="auto"`` compiles a composable model's own specialised kernels
#: rather than run the composed ones: ~2.2x faster per step (RA + three drugs: 3.7 against 8.2
#: us, 2026-12-06), which repays their ~38 s compile from 2,500-5,000 patient-years (README,
#: "Kernels: drugs composed with a compiled preset")
OWN_KERNELS_AT = 4096


def choose_tier(model: Model, kernels: str = "auto", n_patients: int = 1, *,
                by_cache: bool = True) -> str:
    """``"generic"``, ``"specialised"`` or ``"composed"``: what ``kernels`` means for ``model``
    and a run of ``n_patients`` (``$IMMUNESIM_KERNELS`` set to one of them forces it for
    ``"auto"``). ``"auto"`` runs a model on its own specialised kernels where they are cached;
    else, for a run large enough to repay a compile (or where that module is cached), on the
    composed kernels where the model splits (:func:`immunesim.codegen.split`: they serve every
    drug combination of its preset) and its own specialised kernels where it does not; else on
    the generic kernels. ``"composed"`` on a model that does not split runs its specialised
    kernels. With ``by_cache=False`` the choice ignores what the cache holds (a trial fixes its
    tier from its size, so every chunk, worker and resumed run uses the same one)."""
    if not is_one_of(kernels, KERNEL_TIERS):
        raise ModelError(f"kernels must be one of {', '.join(KERNEL_TIERS)}, got {clip(kernels)}")
    if kernels == "auto":
        forced = os.environ.get("IMMUNESIM_KERNELS", "")
        kernels = forced if forced in KERNEL_TIERS[1:] else "auto"
    if kernels == "composed":
        return "composed" if split_of(model) is not None else "specialised"
    if kernels != "auto":
        return kernels
    if by_cache and kernels_cached(model):
        return "specialised"
    comp = split_of(model) if n_patients < OWN_KERNELS_AT else None
    if n_patients >= SPECIALISE_AT or (by_cache and comp is not None and composed_cached(comp.base)):
        return "specialised" if comp is None else "composed"
    return "generic"


_SPLITS: dict = {}


def split_of(model: Model):
    """:func:`immunesim.codegen.split` of ``model``, kept per structure in the process."""
    key = model.structure_hash
    if key not in _SPLITS:
        if len(_SPLITS) > 64:
            _SPLITS.clear()
        _SPLITS[key] = split(model)
    return _SPLITS[key]


class _Kernels:
    """The kernel module chosen for a run and what it needs: the parameter matrix laid out for
    it, the events' parameter indices, and its outputs in the model's variable order."""

    def __init__(self, mod, tier: str, tail=None, comp=None):
        self.mod, self.tier, self.tail, self.comp = mod, tier, tail, comp
        self.target = None

    @classmethod
    def choose(cls, model: Model, kernels: str, n: int) -> "_Kernels":
        tier = choose_tier(model, kernels, n)
        if tier == "composed":
            return cls.composed(model)
        mod, tail = kernel_tier(model, tier, n)
        return cls(mod, _tier_name(tail), tail)

    @classmethod
    def composed(cls, model: Model) -> "_Kernels":
        comp = split_of(model)
        return cls(load_composed(comp.base), "composed", comp=comp)

    def pack(self, P: np.ndarray) -> np.ndarray:
        if self.comp is not None:
            mod = self.mod
            P_run, k0 = self.comp.pack(P, packed_tape(self.comp.driver), mod.DI_ROW[:mod.DI_N],
                                       mod.DI_COL[:mod.DI_N], mod.D_JROW, mod.D_JCOL, mod.D_NNZ_W)
            self.target = self.comp.parameter_target(k0)
            return P_run
        if self.tail is None:
            return P
        n = P.shape[0]
        return np.ascontiguousarray(
            np.concatenate([P, np.broadcast_to(self.tail, (n, self.tail.size))], axis=1))

    def schedule(self, sched):
        """``sched`` with its parameter indices where the composed kernels keep them."""
        if self.comp is None or not (sched.kind == EV_SET_PARAM).any():
            return sched
        index = sched.index.copy()
        setp = sched.kind == EV_SET_PARAM
        index[setp] = self.target[index[setp]]
        return type(sched)(sched.time, sched.kind, index, sched.value)

    def n_out(self, model: Model, p_row: np.ndarray) -> int:
        """Columns of the kernels' output for ``model`` (``p_row``: one packed parameter row)."""
        if self.comp is None:
            return len(model.variable_names)
        return int(self.mod.D_N_OBS + p_row[len(self.comp.base.parameters) + C_NOBSK])

    def outputs(self, out: np.ndarray) -> np.ndarray:
        if self.comp is None:
            return out
        return np.ascontiguousarray(out[..., self.comp.output_columns()])


def kernel_tier(model: Model, kernels: str, n_patients: int):
    """(kernel module, tail to append to each parameter vector or None) for ``model``."""
    if choose_tier(model, kernels, n_patients) == "specialised":
        return load_kernels(model), None
    return load_generic(), packed_tape(model)


def one_solver(model: Model, kernels: str, method: str):
    """(single-run solver function, tail as in :func:`kernel_tier`) for ``model``. On the
    generic tier the default method runs its ahead-of-time compiled entry point where the
    cache has it or can build it (:func:`immunesim.codegen.cache.load_aot_solver`: the same
    code and bits as the JIT-compiled one, without initialising Numba in the process), else
    the JIT-compiled one."""
    entry = f"solve_one_{method}{_variant(model)}"
    if choose_tier(model, kernels, 1) == "specialised":
        return getattr(load_kernels(model), entry), None
    return (load_aot_solver(entry) or getattr(load_generic(), entry)), packed_tape(model)


# -- forward sensitivities --------------------------------------------------------
_AUGMENTED: dict = {}


def augmented(model: Model, sensitivities) -> tuple[Model, SensitivityLayout]:
    """``(model with its sensitivity equations, layout)`` for the directions ``sensitivities``
    (:func:`immunesim.model.sensitivity.sensitivity_model`), kept for the process's next run
    of the same model and directions (the symbolic work is done once)."""
    names, _ = check_directions(model, sensitivities)
    key = (model.hash, names)
    if key not in _AUGMENTED:
        if len(_AUGMENTED) >= 32:
            _AUGMENTED.pop(next(iter(_AUGMENTED)))
        _AUGMENTED[key] = sensitivity_model(model, names)
    return _AUGMENTED[key]


def _sensitivity_start(model: Model, layout) -> np.ndarray:
    """The sensitivities' initial values: d y0 / d direction (1 on its own species for an
    initial value, 0 for a parameter)."""
    n = len(model.species)
    s0 = np.zeros(n * len(layout.directions))
    for k, (name, kind) in enumerate(zip(layout.directions, layout.kinds)):
        if kind == "initial":
            s0[k * n + model.species_index[name]] = 1.0
    return s0


def _sensitivity_events(model: Model, layout, events) -> list:
    """``events`` and, after each SetSpecies, its species' sensitivities set to 0 (the value
    set does not depend on any direction); a SetParameter of a direction is refused."""
    out = []
    for ev in events:
        out.append(ev)
        if isinstance(ev, SetParameter) and ev.name in layout.directions:
            raise ModelError(f"events: SetParameter of '{ev.name}' at t = {ev.time}: it is a "
                             "sensitivity direction, which cannot be set during the run")
        if isinstance(ev, SetSpecies) and ev.name in model.species_index:
            i = model.species_index[ev.name]
            out += [SetSpecies(time=ev.time, name=row[i], value=0.0) for row in layout.names]
    return out


def _split(model: Model, run: Model, layout, out: np.ndarray):
    """``(trajectories of model's variables, sensitivities or None)`` from the output of the
    augmented model ``run`` (its variables: species, sensitivity species, rules, sensitivity
    rules)."""
    if layout is None:
        return out, None
    index = {n: i for i, n in enumerate(run.variable_names)}
    own = [index[n] for n in model.variable_names]
    cols = np.array([[index[n] for n in row] for row in layout.names])   # direction x variable
    sens = np.moveaxis(out[..., cols], -2, -1)      # ... x time x variable x direction
    return np.ascontiguousarray(out[..., own]), np.ascontiguousarray(sens)


# -- argument handling --------------------------------------------------------
def _check_on_failure(on_failure):
    if on_failure not in ("raise", "flag"):
        raise ModelError(f"on_failure must be 'raise' or 'flag', got {on_failure!r}")


def _times(t_eval, t_span):
    if t_span is not None:
        try:
            t0, t1 = (float(v) for v in t_span)
        except (TypeError, ValueError):
            raise ModelError(f"t_span must be (t0, t_end), got {t_span!r}") from None
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
            raise ModelError(f"t_span must be finite with t_end > t0, got {t_span!r}")
    if t_eval is None:
        if t_span is None:
            raise ModelError("give t_eval (output times) or t_span (t0, t_end)")
        return t0, np.linspace(t0, t1, 101)
    t_out = np.atleast_1d(np.asarray(t_eval, dtype=np.float64))
    if t_out.ndim != 1 or t_out.size == 0 or not np.all(np.isfinite(t_out)):
        raise ModelError("t_eval must be a non-empty 1-D sequence of finite times")
    if np.any(np.diff(t_out) <= 0):
        raise ModelError("t_eval must be strictly increasing")
    if t_span is None:
        t0 = float(t_out[0])
    elif t_out[0] < t0 or t_out[-1] > t1:
        raise ModelError(f"t_eval [{t_out[0]}, {t_out[-1]}] lies outside t_span {tuple(t_span)}")
    return t0, t_out


def _param_matrix(model: Model, params, n_patients) -> np.ndarray:
    base = model.parameter_vector()
    names = model.parameter_names
    if params is None:
        if not isinstance(n_patients, int) or n_patients < 1:
            raise ModelError("give params (a parameter matrix) or n_patients")
        return np.tile(base, (n_patients, 1))
    if hasattr(params, "columns") and hasattr(params, "to_numpy"):  # a DataFrame
        params = {str(c): params[c].to_numpy() for c in params.columns}
    if isinstance(params, Mapping):
        cols = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
        lengths = {v.size for v in cols.values() if v.size != 1}
        if len(lengths) > 1:
            raise ModelError(f"params columns have different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else (n_patients or 1)
        P = np.tile(base, (n, 1))
        for name, v in cols.items():
            P[:, model.index_of(name, "parameter")] = v
    else:
        P = np.array(params, dtype=np.float64)
        if P.ndim != 2 or P.shape[1] != len(names):
            raise ModelError(f"params array must have shape (n_patients, {len(names)}) in model "
                             f"parameter order {list(names)}, got {P.shape}")
    if n_patients is not None and P.shape[0] != n_patients:
        raise ModelError(f"params has {P.shape[0]} patients but n_patients={n_patients}")
    for j, par in enumerate(model.parameters):
        col = P[:, j]
        lo, hi = par.bounds
        bad = np.flatnonzero(~np.isfinite(col) | (col < lo) | (col > hi))
        if bad.size:
            raise ModelError(f"params: parameter '{par.name}' of patient {bad[0]} is {col[bad[0]]}, "
                             f"outside its bounds [{lo}, {hi}] ({par.unit}); "
                             f"{bad.size} patient(s) affected")
    return np.ascontiguousarray(P)


def _initial_matrix(model: Model, y0, n: int) -> np.ndarray:
    Y = np.tile(model.initial_vector(), (n, 1))
    if y0 is None:
        return Y
    if isinstance(y0, Mapping):
        for name, v in y0.items():
            Y[:, model.index_of(name, "species")] = np.asarray(v, dtype=float)
    else:
        Y = np.array(y0, dtype=np.float64)
        if Y.shape != (n, len(model.species)):
            raise ModelError(f"y0 array must have shape ({n}, {len(model.species)}), got {Y.shape}")
    nonneg = np.array([s.nonnegative for s in model.species])
    bad = ~np.isfinite(Y) | ((Y < 0) & nonneg)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise ModelError(f"y0: species '{model.species_names[k]}' of patient {i} is {Y[i, k]} "
                         "(must be finite, and >= 0 for non-negative species)")
    return np.ascontiguousarray(Y)


def _per_patient_events(events, n):
    events = list(events)
    if events and all(isinstance(e, (list, tuple)) for e in events):
        if len(events) != n:
            raise ModelError(f"events: {len(events)} schedules given for {n} patients")
        return events
    return [events] * n


# -- result assembly -----------------------------------------------------------
def _variant(model: Model) -> str:
    """The kernels' suffix for ``model``: ``_plain`` (no state-event code, so none is compiled)
    for a model without state events."""
    return "" if model.events else "_plain"


def _tier_name(tail) -> str:
    return "specialised" if tail is None else "generic"


def _result_data(model, opts, t0, t_out, out, codes, stats, P, ids, tier, species_names=None,
                 layout=None, sens=None) -> ResultData:
    batched = ids is not None
    species_names = model.species_names if species_names is None else species_names
    lead = ("patient",) if batched else ()
    kinds = ["species"] * len(model.species) + ["rule"] * len(model.rules)
    messages = np.vectorize(lambda c, i: describe(int(c), stats[i] if batched else stats,
                                                  species_names, opts.max_steps),
                            otypes=[object])(codes, np.arange(codes.size).reshape(codes.shape))
    data = {
        "y": (lead + ("time", "variable"), out, {}),
        "status": (lead, codes.astype(np.int64), {}),
        "message": (lead, messages.astype(str), {}),
        "parameters": (lead + ("parameter",), P, {}),
    }
    for name, slot in STAT_FIELDS.items():
        data[name] = (lead, stats[..., slot].astype(np.int64), {})
    coords = {"time": (("time",), t_out, {"units": model.time_unit}),
              "variable": (("variable",), np.array(model.variable_names), {}),
              "unit": (("variable",), np.array(model.variable_units), {}),
              "kind": (("variable",), np.array(kinds), {}),
              "parameter": (("parameter",), np.array(model.parameter_names), {}),
              "parameter_unit": (("parameter",), np.array([q.unit for q in model.parameters]), {})}
    if batched:
        coords["patient"] = (("patient",), ids, {})
    if layout is not None:
        data["sensitivity"] = (lead + ("time", "variable", "direction"), sens, {})
        coords["direction"] = (("direction",), np.array(layout.directions), {})
        coords["direction_kind"] = (("direction",), np.array(layout.kinds), {})
    atol = np.atleast_1d(np.asarray(opts.atol, dtype=float))
    attrs = {"model": model.name, "model_hash": model.hash,
             "structure_hash": model.structure_hash, "time_unit": model.time_unit,
             "t0": float(t0), "method": opts.method, "rtol": float(opts.rtol),
             "atol": atol if atol.size > 1 else float(atol[0]),
             "max_steps": int(opts.max_steps), "kernels": tier, **version_attrs()}
    return ResultData(data, coords, attrs)
