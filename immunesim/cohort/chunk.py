"""One chunk of a virtual trial: draw candidates, screen them, run every arm.

:func:`run_chunk` is a pure function of (scenario, chunk index): the same inputs give the same
arrays on any machine, in any process, in any order. That is what lets the local and the
Dask backends, and a resumed run, agree exactly.

Per chunk (``chunk`` candidates, a multiple of the population's 64-candidate block):

1. draw parameters and covariates (:class:`~immunesim.scenario.population.Population`);
2. reject draws outside a parameter's bounds;
3. run-in: simulate every remaining candidate untreated from day 0 to ``trial.baseline``
   (one batched kernel); reject failed integrations and candidates failing a constraint on a
   baseline readout;
4. every arm: simulate the accepted patients from their baseline state (the run-in is the
   same in every arm, so it is shared: common random numbers by construction) with the arm's
   doses; a second run with a pathogen challenge for each ``challenge_week`` endpoint;
5. evaluate the endpoints per patient and arm.
"""

from __future__ import annotations

import numpy as np

from ..drugs.regimen import regimen_events
from ..events import Bolus, window_events
from ..result import Result, import_xarray
from ..scenario.build import scenario_model, solver_options
from ..scenario.endpoints import ACR, CHALLENGE
from ..scenario.population import BLOCK
from ..scenario.sbml_source import dose_events, patient_starts
from ..scenario.strategy import run_strategy
from ..simulate import choose_tier, simulate_batch
from . import clinical as clin_mod
from .endpoints import challenge_outcome, evaluate

xr = import_xarray()

_MODELS: dict = {}
CHALLENGE_DT = 1.0 / 24.0     # days: output spacing of challenge runs (clearance time resolution)


def trial_model(scenario):
    """The trial's model (cached per process by scenario hash: Dask workers build it once)."""
    key = scenario.hash
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = scenario_model(scenario, drugs=scenario.arm_drugs())  # one kernel for every arm
    return _MODELS[key]


def trial_kernels(scenario, model) -> str:
    """The kernel tier of the trial (README, Kernels): the composed kernels (a preset with
    drugs: its module compiled once for every drug combination) or the specialised ones when its
    patient-arm runs (``population.size`` x arms) repay a compile, else the generic ones;
    fixed by the scenario, not by what a cache holds, so that every chunk, worker and resumed
    run of a trial uses the same tier."""
    return choose_tier(model, "auto", scenario.population.size * len(scenario.arms), by_cache=False)


def _batch(model, P, t, y0, events, solver):
    """simulate_batch with failures flagged silently: the chunk records them per patient."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return simulate_batch(model, P, t, y0=y0, events=events, on_failure="flag", **solver)


def _window(events, a: float, b: float, last: bool):
    """The events (one list, or one list per patient) inside ``[a, b)`` (``[a, b]`` if ``last``)."""
    if events and isinstance(events[0], list):
        return [window_events(e, a, b, last) for e in events]
    return window_events(events, a, b, last)


def _arm_events(regimens, weights: np.ndarray, extra=()):
    """Engine events for each patient: one shared list when no dose depends on weight."""
    if any(r.per_kg for r in regimens):
        return [regimen_events(regimens, float(w)) + list(extra) for w in weights]
    return regimen_events(regimens, 70.0) + list(extra)   # fixed doses: weight does not matter


class _ArmRunner:
    """Runs one arm for the accepted patients: one batched kernel for a fixed regimen; for a
    treat-to-target arm, each patient through the segmented strategy runner (decisions depend
    on the patient's own readouts, so patients cannot share one schedule; ~10-50 ms each)."""

    def __init__(self, scenario, model, arm, P, Y0, weights, solver):
        self.sc, self.model, self.P, self.Y0, self.w, self.solver = scenario, model, P, Y0, weights, solver
        self.regs = (*scenario.population.background, *scenario.arms[arm]["therapies"])
        self.rules = scenario.arms[arm]["treat_to_target"]

    def __call__(self, t, extra=()):
        """The arm's Result over output times ``t``, and the index into ``t`` of each patient's
        management decision (-1: none; None without ``trial.management``)."""
        if self.rules:
            return self._strategy(t, extra), None
        r = _batch(self.model, self.P, t, self.Y0, self._events(self.regs, t, extra), self.solver)
        mg = self.sc.trial.management
        if mg is None:
            return r, None
        # management: the patients whose readout crossed the limit run again with their own
        # schedule, the stopped drugs' later doses dropped and the courses added at the decision;
        # the same course up to it (the step before it now ends on it: the solver's tolerance)
        j = list(self.model.variable_names).index(mg.readout)
        y = r.dataset["y"].values
        k = mg.decision_index(t, float(t[0]), y[:, :, j])
        hit = np.flatnonzero((k >= 0) & (np.asarray(r.status) == 0))
        if hit.size:
            ev = [self._events(mg.regimens(self.regs, float(t[k[i]])), t, extra, float(self.w[i]))
                  for i in hit]
            r2 = _batch(self.model, self.P[hit], t, self.Y0[hit], ev, self.solver)
            ds = r.dataset.copy(deep=True)
            ds["y"].values[hit] = r2.dataset["y"].values
            ds["status"].values[hit] = np.asarray(r2.status)
            message = np.asarray(r.message, dtype=object)
            message[hit] = np.asarray(r2.message, dtype=object)
            ds["message"] = (ds["message"].dims, message.astype(str))
            r = Result(ds)
        return r, k

    def rescued(self, t, rows: np.ndarray, rescue) -> Result:
        """Patients ``rows`` run again with the ``rescue`` regimens added to the arm's (the
        escape rule's rescue therapy; the course up to the escape is the same)."""
        regs = (*self.regs, *rescue)
        ev = [self._events(regs, t, (), float(self.w[i])) for i in rows]
        return _batch(self.model, self.P[rows], t, self.Y0[rows], ev, self.solver)

    def _events(self, regs, t, extra, weight=None):
        """The arm's engine events (one list, or one per patient), or one patient's for
        ``weight`` (kg)."""
        if self.sc.sbml is not None:      # doses into an SBML model's species
            ev = dose_events(self.model, regs) + list(extra)
        elif weight is not None:
            ev = regimen_events(regs, weight) + list(extra)
        else:
            ev = _arm_events(regs, self.w, extra=extra)
        if self.sc.population.background:   # its doses before baseline were the run-in's
            ev = _window(ev, float(t[0]), float(t[-1]), last=True)
        return ev

    def _strategy(self, t, extra):
        import dataclasses
        import warnings

        pnames, snames = self.model.parameter_names, self.model.species_names
        n = self.P.shape[0]
        out = np.full((n, t.size, len(self.model.variable_names)), np.nan)
        codes, messages = np.zeros(n, dtype=np.int64), np.full(n, "success", dtype=object)
        for i in range(n):
            sc = dataclasses.replace(
                self.sc, parameters=dict(zip(pnames, self.P[i])), initial=dict(zip(snames, self.Y0[i])),
                times=tuple(t), therapies=tuple(self.regs), treat_to_target=self.rules,
                solver=self.solver,                                 # with the trial's tier
                covariates={**self.sc.covariates, "body_weight": float(self.w[i])})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                r = run_strategy(sc, self.model, extra_events=extra)[0]
            y = r.dataset["y"].values
            out[i, : y.shape[0]] = y
            codes[i], messages[i] = int(r.status), str(r.message)
        ds = xr.Dataset({"y": (("patient", "time", "variable"), out), "status": ("patient", codes),
                         "message": ("patient", messages.astype(str))})
        return Result(ds)


def run_chunk(scenario, index: int) -> xr.Dataset:
    """Chunk ``index`` of the scenario's trial as a Dataset (see the module docstring)."""
    pop, trial = scenario.population, scenario.trial
    model = trial_model(scenario)
    blocks = trial.chunk // BLOCK
    drugs = scenario.arm_drugs()
    P, cov = pop.draw(scenario.seed, index * blocks, blocks, model, drugs, scenario.parameters)
    n_cand = P.shape[0]
    ok, reasons = candidate_ok(model, P)
    reasons = np.array(reasons, dtype=object)
    solver = {**solver_options(scenario, model), "kernels": trial_kernels(scenario, model)}
    names = list(model.variable_names)
    n_sp = len(model.species)
    y0 = model.initial_vector(scenario.initial or None)
    Y0 = np.tile(y0, (n_cand, 1))
    if scenario.sbml is not None and pop.parameters:
        # an SBML model's start may depend on a drawn parameter (initial assignments):
        # each patient's start evaluated with its own values
        Y0, P, failed = patient_starts(model, P, list(pop.parameters))
        for i, why in failed.items():
            if ok[i]:
                ok[i], reasons[i] = False, why
    idx = np.flatnonzero(ok)
    base_state = np.zeros((n_cand, n_sp))
    base_vals = np.full((n_cand, len(names)), np.nan)
    if idx.size:
        if trial.baseline > 0:      # untreated, or on the population's background therapy
            bg = pop.background
            ev = (_arm_events(bg, cov["body_weight"][idx]) if bg and scenario.sbml is None
                  else dose_events(model, bg) if bg else [])
            ev = _window(ev, 0.0, trial.baseline, last=False)
            r = _batch(model, P[idx], [0.0, trial.baseline], Y0[idx], ev, solver)
            last = r.dataset["y"].values[:, -1, :]
            good = np.asarray(r.ok)
            for j in np.flatnonzero(~good):
                reasons[idx[j]] = f"run-in failed: {r.message[j]}"
            ok[idx[~good]] = False
        else:
            r = _batch(model, P[idx], [0.0], Y0[idx], [], solver)
            last = r.dataset["y"].values[:, -1, :]
        base_state[idx] = last[:, :n_sp]
        base_vals[idx] = last
    t = trial.times()
    t_weeks = (t - trial.baseline) / trial.week
    # a trial that names no instrument runs as before: no measurement draws, no baseline visit
    clin = trial.clinical if trial.uses_instruments or any(
        trial.measured(c.readout) for c in pop.constraints) else None
    if clin is not None:      # each candidate's measurement variation, and its baseline visit
        draws = clin_mod.patient_draws(clin, scenario.seed, cov["candidate"], t.size)
        base_measured = {k: v[:, 0] for k, v in clin_mod.measure(
            clin, draws, {v: base_vals[:, [names.index(v)]] for v in clin.latents}, t_weeks[:1]).items()}
    for con in pop.constraints:
        x = base_measured[con.readout] if trial.measured(con.readout) else base_vals[:, names.index(con.readout)]
        fail = ok & ~con.passes(x)
        for i in np.flatnonzero(fail):
            reasons[i] = f"baseline {con.describe()} not met ({con.readout} = {x[i]:.4g})"
        ok &= ~fail
    acc = np.flatnonzero(ok)
    keep = list(dict.fromkeys([*trial.variables, *(e.readout for e in trial.endpoints if e.readout
                                                   and e.kind != CHALLENGE and not trial.measured(e.readout))]))
    # kept trajectories: model variables from the solver, clinical instruments as measured
    kmodel = [(j, names.index(v)) for j, v in enumerate(keep) if not trial.measured(v)]
    kmeasured = [(j, v) for j, v in enumerate(keep) if trial.measured(v)]
    arms = list(scenario.arms)
    n, T = acc.size, t.size
    traj = np.full((len(arms), n, T, len(keep)), np.nan)
    status = np.zeros((len(arms), n), dtype=np.int64)
    message = np.full((len(arms), n), "", dtype=object)
    outcomes = {}      # (endpoint, week) -> (arms x patients) responder / value
    if clin is not None:
        draws = clin_mod.take(draws, acc)
    for a, arm in enumerate(arms):
        if n == 0:
            continue
        run_arm = _ArmRunner(scenario, model, arm, P[acc], base_state[acc], cov["body_weight"][acc], solver)
        r, decided = run_arm(t)
        if decided is not None:     # weeks after baseline of the management decision (inf: none)
            _store_extra(outcomes, "management:week", a, len(arms), n,
                         np.where(decided >= 0, t_weeks[np.maximum(decided, 0)], np.inf))
        y = r.dataset["y"].values
        status[a] = r.status
        message[a] = np.asarray(r.message, dtype=object)
        measured = out_week = withdrawn = None
        if clin is not None:
            def measure(y):
                return clin_mod.measure(clin, draws, {v: y[:, :, names.index(v)] for v in clin.latents},
                                        t_weeks)
            measured = measure(y)
            if trial.dropout is not None:
                withdrawn, escaped = clin_mod.leaving_weeks(clin, trial.dropout, draws, measured, t_weeks,
                                                            trial.weeks)   # completers: inf
                out_week = np.minimum(withdrawn, escaped)
                _store_extra(outcomes, "dropout:week", a, len(arms), n, out_week)
                if trial.dropout.escape_week is not None:   # which of the two, for observed cases
                    _store_extra(outcomes, "withdrawal:week", a, len(arms), n, withdrawn)
                    _store_extra(outcomes, "escape:week", a, len(arms), n, escaped)
                rows = np.flatnonzero(np.isfinite(escaped) & (status[a] == 0))
                rescue = trial.dropout.rescue_for(arm)
                if rescue and rows.size:     # escapers on their rescue from the escape visit;
                    r2 = run_arm.rescued(t, rows, rescue)   # who escapes was decided on the first run
                    y = y.copy()
                    y[rows] = r2.dataset["y"].values
                    status[a][rows] = np.asarray(r2.status)
                    message[a][rows] = [f"rescue run: {m}" if c else m
                                        for m, c in zip(np.asarray(r2.message), np.asarray(r2.status))]
                    measured = measure(y)
            for j, v in kmeasured:
                traj[a][:, :, j] = measured[v]
        if kmodel:
            traj[a][:, :, [j for j, _ in kmodel]] = y[:, :, [k for _, k in kmodel]]
        for ep in trial.endpoints:
            if ep.kind == CHALLENGE:
                tc = trial.baseline + trial.week * ep.value
                tcg = np.union1d(t, np.arange(tc, t[-1] + 1e-9, CHALLENGE_DT))  # clearance to the hour
                rc, _ = run_arm(tcg, extra=[Bolus(time=tc, target="Pathogen", amount=1.0)])
                bad = (np.asarray(rc.status) != 0) & (status[a] == 0)
                status[a][bad] = np.asarray(rc.status)[bad]
                message[a][bad] = [f"challenge run: {m}" for m in np.asarray(rc.message)[bad]]
                res = challenge_outcome(ep, tcg, rc.dataset["y"].values[:, :, names.index("Pathogen")], tc)
                _store(outcomes, ep, a, len(arms), n, res, (ep.value,))
                _store_extra(outcomes, f"{ep.name}:peak", a, len(arms), n, res["peak"])
                continue
            if ep.kind == ACR or trial.measured(ep.readout):
                res = clin_mod.endpoint_outcome(clin, ep, measured, t_weeks)
            else:
                j = names.index(ep.readout)
                res = evaluate(ep, t_weeks, y[:, :, j], y[:, 0, j])
            res = clin_mod.impute_dropouts(res, ep, out_week, withdrawn)
            if ep.time_to_event:
                _store_extra(outcomes, f"{ep.name}:time", a, len(arms), n, res["time"])
                _store_extra(outcomes, f"{ep.name}:event", a, len(arms), n, res["event"].astype(float))
            else:
                _store(outcomes, ep, a, len(arms), n, res, ep.weeks)
    cand = cov["candidate"]
    data = {
        "trajectory": (("arm", "patient", "time", "variable"), traj),
        "status": (("arm", "patient"), status),
        "message": (("arm", "patient"), message.astype(str)),
        "baseline": (("patient", "readout"), base_vals[acc]),
        "parameters": (("patient", "parameter"), P[acc]),
        "candidate_status": (("candidate",), np.where(ok, "accepted", reasons).astype(str)),
    }
    for k in ("body_weight", "age", "female", *[c for c in cov if c.endswith("_alleles")]):
        data[k] = (("patient",), np.asarray(cov[k])[acc].astype(float))
    coords = {}
    if clin is not None:       # the measured baseline visit (instruments, DAS28)
        data["clinical_baseline"] = (("patient", "instrument"),
                                     np.stack([base_measured[k][acc] for k in clin.names], axis=1))
        coords["instrument"] = list(clin.names)
    for key, arr in outcomes.items():
        data[f"outcome:{key}"] = (("arm", "patient"), arr)
    coords.update({"arm": arms, "patient": cand[acc], "time": t, "variable": keep, "readout": names,
                   "parameter": list(model.parameter_names), "candidate": cand})
    return xr.Dataset(data, coords=coords, attrs={"chunk": index, "n_candidates": n_cand,
                                                  "n_accepted": int(n)})


def _store(outcomes, ep, a, n_arms, n, res, weeks):
    for j, w in enumerate(weeks):
        for part in ("responder", "value"):
            key = f"{ep.name}:{w:g}:{part}"
            arr = outcomes.setdefault(key, np.full((n_arms, n), np.nan))
            arr[a] = res[part][:, j]


def _store_extra(outcomes, key, a, n_arms, n, values):
    arr = outcomes.setdefault(key, np.full((n_arms, n), np.nan))
    arr[a] = values


def candidate_ok(model, P: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Rows of ``P`` inside every parameter's bounds, and a reason for each row outside."""
    ok = np.ones(P.shape[0], dtype=bool)
    reasons = [""] * P.shape[0]
    for j, par in enumerate(model.parameters):
        lo, hi = par.bounds
        bad = ~np.isfinite(P[:, j]) | (P[:, j] < lo) | (P[:, j] > hi)
        for i in np.flatnonzero(bad & ok):
            reasons[i] = f"{par.name} outside its bounds [{lo:g}, {hi:g}]"
        ok &= ~bad
    return ok, reasons
