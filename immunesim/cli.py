"""The ``immunesim`` command line.

``immunesim run SCENARIO [-o OUTDIR] [--seed N]`` runs a scenario file (a disease preset with
overrides, see :mod:`immunesim.scenario`) and writes results.nc, summary.csv, figures and
manifest.json. ``immunesim validate SCENARIO`` checks one (exit 0 valid, 2 with one line per
problem). ``immunesim list diseases | variables [DISEASE] | parameters DISEASE`` prints the
presets, the model's variables, or a preset's parameters with units and sources.
``immunesim simulate MODEL.yaml [-o OUTDIR]`` runs a model file (its optional
``simulation`` block gives t_end, output_every, method, rtol, atol and doses) and
writes ``results.nc``, ``trajectories.csv`` and ``manifest.json`` atomically.
``immunesim sbml MODEL.yaml`` prints the model as SBML L3V2; ``immunesim sbml run MODEL.xml
--t-end T --points N -o OUT.csv`` simulates an SBML model, ``immunesim sbml info MODEL.xml`` says
what it imports as.
Any failure a user can cause ends with one clear message and exit status 2.

Each command imports the modules it needs when it runs, not at the top of this file: the
package's heavy dependencies (Numba, SymPy, SciPy's statistics, Dask, Matplotlib) then load
only for the commands that use them, and ``immunesim --help``, ``validate`` and ``list``
start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from .validation import clip as _clip
from .validation import number

_SIM_KEYS = ("t_end", "output_every", "method", "rtol", "atol", "doses")
_DOSE_KEYS = ("target", "amount", "every", "count", "start")


def simulation_settings(data, path, model, args) -> dict:
    """The run of ``immunesim simulate``: the model file's ``simulation`` block with the
    command line's flags over it, every value checked (every problem reported at once, each
    with its field path or flag)."""
    from .errors import ModelError
    from .limits import MAX_DOSES, MAX_OUTPUT_POINTS
    from .validation import check_keys, each_mapping, is_one_of
    from .solvers import METHODS, SolverOptions

    problems: list[str] = []
    sim = data.get("simulation")
    if sim is None:
        sim = {}
    if not isinstance(sim, dict):
        raise ModelError(f"{path}.simulation: expected a mapping of {', '.join(_SIM_KEYS)}, "
                         f"got {type(sim).__name__}")
    check_keys(sim, _SIM_KEYS, f"{path}.simulation.", problems)

    def pick(flag, key, default=None):
        value = getattr(args, flag)
        if value is not None:
            return value, f"--{flag.replace('_', '-')}"
        value = sim.get(key)
        return (default if value is None else value), f"{path}.simulation.{key}"

    value, where = pick("t_end", "t_end", 100.0)
    t_end = number(value, where, problems, 0.0, open_lo=True)
    value, where = pick("dt", "output_every", None if t_end is None else t_end / 100)
    dt = None if value is None else number(value, where, problems, 0.0, open_lo=True)
    if t_end is not None and dt is not None and dt > t_end:
        problems.append(f"{where}: {dt:g} is longer than the run ({t_end:g})")
        dt = None
    if t_end is not None and dt is not None:
        if t_end / dt + 1 > MAX_OUTPUT_POINTS:
            problems.append(f"{where}: {t_end:g}/{dt:g} is {t_end / dt + 1:.3g} output points; at "
                            f"most {MAX_OUTPUT_POINTS} allowed")
    opts = {}
    value, where = pick("method", "method")
    if value is not None:
        if not is_one_of(value, METHODS):
            problems.append(f"{where}: {_clip(value)} is not a method; one of {', '.join(METHODS)}")
        else:
            opts["method"] = value
    for key in ("rtol", "atol"):
        value, where = pick(key, key)
        if value is not None:
            v = number(value, where, problems, 0.0, open_lo=True)
            if v is not None:
                try:
                    SolverOptions(**{key: v})
                except ModelError as exc:
                    problems.append(f"{where}: {exc}")
                else:
                    opts[key] = v
    events = []
    total = 0
    for _, where, d in each_mapping(sim.get("doses"), f"{path}.simulation.doses", _DOSE_KEYS,
                                 problems, "{target, amount, every, count, start} (target and "
                                 "amount required)", "doses"):
        target = d.get("target")
        if not is_one_of(target, model.species_index):
            problems.append(f"{where}.target: {_clip(target)} is not a species of the model "
                            f"(species: {', '.join(model.species_names)})")
        amount = number(d.get("amount"), f"{where}.amount", problems)
        every = number(d.get("every", 1.0), f"{where}.every", problems, 0.0, open_lo=True)
        start = number(d.get("start", 0.0), f"{where}.start", problems, 0.0)
        count = d.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DOSES:
            problems.append(f"{where}.count: expected an integer in [1, {MAX_DOSES}], got "
                            f"{_clip(count)}")
            continue
        total += count
        if total > MAX_DOSES:
            problems.append(f"{where}.count: {total} doses in all; at most {MAX_DOSES} allowed")
            continue
        if None not in (amount, every, start) and is_one_of(target, model.species_index):
            from .events import doses as make_doses

            events += make_doses(target=target, amount=amount, every=every, count=count,
                                 start=start)
    if problems:
        raise ModelError(problems)
    return {"t_end": t_end, "dt": dt, "opts": opts, "events": events}


def _simulate(args) -> int:
    import numpy as np

    from . import simulate
    from .io.run import write_simulation
    from .model.loader import model_from_dict, read_yaml

    data = read_yaml(args.model)
    model = model_from_dict(data, where=str(args.model))
    run = simulation_settings(data, str(args.model), model, args)
    t_end, dt, opts = run["t_end"], run["dt"], run["opts"]
    t = np.arange(0.0, t_end + 0.5 * dt, dt)
    t0 = time.perf_counter()
    result = simulate(model, t, events=run["events"], on_failure="flag", **opts)
    wall = time.perf_counter() - t0
    out = Path(args.output)
    write_simulation(result, model, out, model_file=args.model, started=t0, solver=opts)
    print(f"{model.name}: {result.message}; {len(t)} time points x {len(result.variables)} "
          f"variables in {wall:.3f} s -> {out}/results.nc, trajectories.csv, manifest.json")
    return 0 if result.ok else 3


def _progress(msg: str) -> None:
    print(f"immunesim: {msg}", file=sys.stderr, flush=True)


def _run(args) -> int:
    from .io.run import run_scenario
    from .scenario import load_scenario

    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise _Usage(f"--seed: expected an integer 0 <= seed < 2**63 (as a file's seed:), got "
                     f"{_clip(args.seed)}")
    sc = load_scenario(args.scenario)
    manifest = run_scenario(sc, args.output, seed=args.seed, scenario_file=args.scenario,
                            progress=None if args.quiet else _progress)
    print(f"{sc.name}: {manifest['message']}; wrote {', '.join(manifest['outputs'])} and "
          f"manifest.json to {args.output}/")
    return 0 if manifest["status"] == 0 else 3


def pk_request(args):
    """(regimen, days, weight) of ``immunesim pk``, every flag checked, problems named by flag."""
    from .drugs import Regimen
    from .drugs.pk import REFERENCE_WEIGHT_KG
    from .errors import ModelError
    from .limits import MAX_DAYS

    problems = []
    days = number(args.days, "--days", problems, 0.0, MAX_DAYS, open_lo=True)
    weight = number(REFERENCE_WEIGHT_KG if args.weight is None else args.weight, "--weight (kg)",
                    problems, 20.0, 250.0)
    every, count = args.every, args.count
    if every is None and count is None:
        count = 1
    reg = None
    try:
        reg = Regimen.parse(args.drug, dose=args.dose, route=args.route, every=every, count=count,
                            until=None if (every is None or count is not None) else (days or 1.0),
                            loading=args.loading, infusion_hours=args.infusion_hours)
    except ModelError as exc:
        flag = {"until": "days", "infusion_hours": "infusion-hours"}
        for p in exc.problems:
            key, _, rest = p.partition(": ")
            problems.append(f"--{flag.get(key, key)}: {rest}" if rest and " " not in key else p)
    if problems:
        raise ModelError(problems)
    return reg, days, weight


def _pk(args) -> int:
    from .drugs import simulate_pk

    reg, days, weight = pk_request(args)
    t, c, m = simulate_pk(reg, days, weight)
    if args.output:
        from .durable import write_text_atomic

        rows = "\n".join(f"{a:.6g},{b:.6g}" for a, b in zip(t, c))
        write_text_atomic(args.output, "time_day,concentration_ug_per_ml\n" + rows + "\n")
    keys = ("cmax_ug_per_ml", "tmax_days", "trough_ug_per_ml", "auc_tau_ug_day_per_ml",
            "half_life_days")
    if args.json:
        print(json.dumps({**{k: m[k] for k in keys},
                          **{k: m[k] for k in m if k not in keys}}, default=float))
        return 0
    print(f"{m['drug']}: {m['n_doses']} dose(s) of {m['dose_mg']:g} mg {args.route} over "
          f"{days:g} days ({weight:g} kg); last dosing interval day {m['last_dose_day']:g} "
          f"to {m['last_dose_day'] + m['interval_days']:g}:")
    print(f"  Cmax       {m['cmax_ug_per_ml']:.4g} ug/mL")
    print(f"  Tmax       {m['tmax_days']:.4g} days after the dose")
    print(f"  trough     {m['trough_ug_per_ml']:.4g} ug/mL")
    print(f"  AUC(tau)   {m['auc_tau_ug_day_per_ml']:.4g} ug*day/mL")
    print(f"  half-life  {m['half_life_days']:.4g} days (terminal, last third of the interval)")
    if args.output:
        print(f"  concentration time course -> {args.output}")
    return 0


def _drug_show(args) -> int:
    from .drugs import drug

    d = drug(args.name)
    print(f"{d['name']} ({d.get('brand', '')}): {d['class']}")
    mech = d["mechanism"]
    print(f"mechanism: {mech['kind']} of {mech['target']}: {mech['description']}")
    print(f"routes: {', '.join(d['routes'])}; PK model: {d['pk']['model']}")
    rows = [(k, e["value"], e["unit"], e["source"]) for k, e in d["pk"]["parameters"].items()]
    rows += [(k, d["pk"][k]["value"], "1", d["pk"][k]["source"])
             for k in ("weight_exponent_CL", "weight_exponent_V") if k in d["pk"]]
    print(f"{'parameter':18s} {'value':>10s} {'unit':8s} source")
    for k, v, unit, source in rows:
        print(f"{k:18s} {v:10.4g} {unit:8s} {source}")
    from .drugs.couple import effects

    print("pharmacodynamics:")
    pd = {**{f"potency {k}": e for k, e in (mech.get("potencies") or {}).items()},
          **{k: mech[k] for k in ("potency", "potency_low", "unbound_fraction", "cellular_shift",
                                  "max_rate", "ke0") if k in mech}}
    for k, e in pd.items():
        print(f"  {k:18s} {e['value']:10.4g} {e.get('unit', '1'):8s} {e['source']}")
    for hook, ec50, _, _ in effects(d):
        print(f"  acts on {hook}: half-maximal at {ec50:.4g} ug/mL total serum concentration")
    return 0


def _compare(args) -> int:
    from .scenario import load_scenario
    from .io.compare import compare_arms

    sc = load_scenario(args.scenario)
    m = compare_arms(sc, args.output, scenario_file=args.scenario,
                     progress=None if args.quiet else _progress)
    print(f"{sc.name}: {len(m['arms'])} arms compared on {m['outcome']}; wrote arms.csv, arms.png, "
          f"comparison.json and manifest.json to {args.output}/")
    for f in m["failures"]:
        print(f"  failed: {f}")
    return 0 if not m["failures"] else 3


def _trial(args) -> int:
    from .io.trial import run_trial
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    if sc.trial is None:
        raise _Usage(f"{args.scenario}: no trial block; `immunesim trial` needs population and trial "
                     "(see README, Virtual trials)")
    from .limits import MAX_POPULATION

    if args.size is not None:
        if not 1 <= args.size <= MAX_POPULATION:
            raise _Usage(f"--size: expected a number of patients in [1, {MAX_POPULATION}], got "
                         f"{args.size}")
        import dataclasses

        sc = dataclasses.replace(sc, population=dataclasses.replace(sc.population, size=args.size))
    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise _Usage(f"--workers: expected a number of worker processes in [1, 1024], got "
                     f"{args.workers}")
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=sc.population.size, unit="patient", desc=f"{sc.name}", file=sys.stderr,
                   dynamic_ncols=True)

        def progress(done, total, candidates):
            bar.update(done - bar.n)
            bar.set_postfix(candidates=candidates, refresh=False)
    try:
        m = run_trial(sc, args.output, resume=args.resume, workers=args.workers,
                      scheduler=args.scheduler, scenario_file=args.scenario,
                      progress=progress if bar else None, say=None if args.quiet else _progress)
    finally:
        if bar is not None:
            bar.close()
    print(f"{sc.name}: {m['patients']} patients x {len(m['arms'])} arms "
          f"({m['patients_excluded']} excluded for failed integrations); wrote {', '.join(m['outputs'])} "
          f"and manifest.json to {args.output}/")
    return 0 if not m["patients_excluded"] else 3


def _fit(args) -> int:
    """``immunesim fit PROBLEM.yaml --evaluate [--json]``: a PEtab problem's negative
    log-likelihood at its parameter table's nominal values (``--json``: one JSON object with
    ``nllh`` and ``n_measurements`` on stdout, nothing else); ``immunesim fit PROBLEM.yaml -o
    OUTDIR``: the multistart fit (:mod:`immunesim.io.fit`)."""
    import json

    from .fitting import evaluate, load_problem

    if args.evaluate:
        problem = load_problem(args.problem)
        r = evaluate(problem)
        if args.json:
            print(json.dumps({"nllh": r["nllh"], "n_measurements": r["n_measurements"]}))
        else:
            print(f"{args.problem}: nllh {r['nllh']:.10g} over {r['n_measurements']} "
                  f"measurements at the nominal parameters ({len(r['statuses'])} simulation "
                  "conditions)")
        return 0
    if args.output is None:
        raise _Usage("fit: give -o OUTDIR for a fit, or --evaluate for the objective at the "
                     "nominal parameters")
    if not 1 <= args.starts <= 10_000:
        raise _Usage(f"--starts: expected a number of starts in [1, 10000], got {args.starts}")
    if not 1 <= args.max_iter <= 100_000:
        raise _Usage(f"--max-iter: expected [1, 100000], got {args.max_iter}")
    if args.max_time is not None and not (math.isfinite(args.max_time) and args.max_time > 0):
        raise _Usage(f"--max-time: expected seconds > 0, got {args.max_time}")
    if args.screen and not args.starts < args.screen <= 100_000:
        raise _Usage(f"--screen: expected more candidates than --starts ({args.starts}) and at "
                     f"most 100000, got {args.screen}")
    if args.screen and not 1 <= args.screen_iter < args.max_iter:
        raise _Usage(f"--screen-iter: expected [1, --max-iter ({args.max_iter})), got "
                     f"{args.screen_iter}")
    for flag, v in (("--workers", args.workers), ("--processes", args.processes)):
        if v is not None and not 1 <= v <= 1024:
            raise _Usage(f"{flag}: expected a number of processes in [1, 1024], got {v}")
    from .io.fit import run_fit

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=args.starts + (args.screen or 0), unit="start", desc=args.problem.stem,
                   file=sys.stderr, dynamic_ncols=True)

        def progress(done, total):
            bar.update(done - bar.n)
    try:
        fit = run_fit(args.problem, args.output, n_starts=args.starts, seed=args.seed,
                      processes=args.processes, workers=args.workers, scheduler=args.scheduler,
                      max_iter=args.max_iter, with_profile=args.profile, resume=args.resume,
                      hierarchical=not args.no_hierarchical, max_time=args.max_time,
                      kernels=args.kernels, screen=args.screen, screen_iter=args.screen_iter,
                      finish=not args.no_finish,
                      progress=progress if bar else None, say=None if args.quiet else _progress)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps({"nllh": fit["nllh"], "n_measurements": fit["n_measurements"],
                          "starts_at_best": fit["starts_at_best"], "output": str(args.output)}))
    else:
        print(f"{args.problem.stem}: best nllh {fit['nllh']:.10g} (start {fit['best_start']}; "
              f"{fit['starts_at_best']} of {fit['n_starts']} starts reached it); wrote "
              f"best.csv, starts.csv, fit.json and figures to {args.output}/")
        if fit["best_at_bounds"]:       # where a bound stopped the optimiser, the basin may be one of several
            print("  at a bound in the best fit: " + ", ".join(
                f"{p} ({side})" for p, side in fit["best_at_bounds"].items()))
    return 0


def _sensitivity(args) -> int:
    """``immunesim sensitivity SCENARIO -o OUTDIR`` (:mod:`immunesim.io.sensitivity`)."""
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    if sc.sensitivity is None:
        raise _Usage(f"{args.scenario}: no sensitivity: block (method, samples, parameters, "
                     "outputs; see the README)")
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise _Usage(f"--threads: expected [1, 1024], got {args.threads}")
    from .io.sensitivity import run_sensitivity_files

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="run", desc=sc.name, file=sys.stderr, dynamic_ncols=True)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)
    try:
        m = run_sensitivity_files(sc, args.output, scenario_file=str(args.scenario),
                                  progress=progress if bar is not None else None,
                                  say=None if args.quiet else _progress, threads=args.threads)
    finally:
        if bar is not None:
            bar.close()
    print(f"{sc.name}: {m['method']} sensitivity of {len(sc.sensitivity['outputs'])} output(s) "
          f"to {len(m['parameters'])} parameter(s), {m['n_runs']} runs in "
          f"{m['analysis_wall_s']:.1f} s; wrote {', '.join(m['outputs'])} and manifest.json to "
          f"{args.output}/")
    return 0 if not m["runs_failed"] else 3


def _validate(args) -> int:
    from .scenario import load_scenario

    sc = load_scenario(args.scenario)
    if sc.sbml is not None:
        unit = {"1": "time units (the model declares none)"}.get(sc.time_unit, f"{sc.time_unit}s")
        print(f"{args.scenario}: valid (SBML model {sc.sbml.file_name}, "
              f"{sc.times[-1] - sc.times[0]:g} {unit}, {len(sc.times)} output times, "
              f"{len(sc.sbml.values)} value(s) set, {len(sc.therapies)} dose entr"
              f"{'y' if len(sc.therapies) == 1 else 'ies'})")
        return 0
    print(f"{args.scenario}: valid ({sc.disease}, {sc.times[-1] - sc.times[0]:g} days, "
          f"{len(sc.times)} output times, {len(sc.parameters)} parameter override(s))")
    return 0


def _list(args) -> int:
    from .diseases.build import diseases, model_data, resolve_disease

    what = args.what
    if what == "drugs":
        from .drugs import drug, drug_names

        for name in drug_names():
            d = drug(name)
            print(f"{name:14s} {d.get('brand', ''):10s} {d['class']}")
        return 0
    if what == "diseases":
        for name, meta in diseases().items():
            aliases = ", ".join(meta.get("aliases", []))
            print(f"{name:10s} {meta['title']}" + (f"  (aliases: {aliases})" if aliases else ""))
        return 0
    if what == "parameters" and args.disease is None:
        raise _Usage("list parameters needs a disease: immunesim list parameters DISEASE")
    disease = resolve_disease(args.disease or "healthy")
    data = model_data(disease)
    if what == "variables":
        print(f"{'name':18s} {'kind':8s} {'unit':22s} description")
        for sp in data["species"]:
            print(f"{sp['name']:18s} {'species':8s} {sp['unit']:22s} {sp['description']}")
        for r in data["rules"]:
            print(f"{r['name']:18s} {'rule':8s} {r['unit']:22s} {r.get('description', '')}")
        return 0
    print(f"{'name':16s} {'value':>11s} {'unit':24s} source")
    for p in data["parameters"]:
        print(f"{p['name']:16s} {p['value']:11.4g} {p['unit']:24s} {p['source']}")
    return 0


class _Usage(Exception):
    """A command line used wrongly (argparse cannot express it); printed without traceback."""


def _sbml_parser():
    from .io.sbml_run import ATOL, RTOL
    from .solvers import METHODS

    ap = argparse.ArgumentParser(prog="immunesim sbml", description=(
        "immunesim sbml MODEL.yaml: print a model file as SBML L3V2; immunesim sbml run "
        "MODEL.xml ...: simulate an SBML model and write a CSV; immunesim sbml info MODEL.xml: "
        "what an SBML model imports as."))
    sub = ap.add_subparsers(dest="sbml_command", required=True)
    r = sub.add_parser("run", help="simulate an SBML model, write time, then one column per id")
    r.add_argument("model", type=Path)
    r.add_argument("--t-start", type=float, default=0.0, help="start time (default 0)")
    r.add_argument("--t-end", type=float, required=True, help="end time, in the model's time")
    r.add_argument("--points", type=int, required=True, help="output times, evenly spaced, ends included")
    r.add_argument("-o", "--output", type=Path, required=True, help="the CSV file to write")
    r.add_argument("--variables", help="ids to report, in order (default: every species that "
                   "can change, then every parameter and compartment a rule changes)")
    r.add_argument("--amount", help="species to report as amounts")
    r.add_argument("--concentration", help="species to report as concentrations")
    r.add_argument("--rtol", type=float, default=RTOL, help=f"relative tolerance (default {RTOL:g})")
    r.add_argument("--atol", type=float, default=ATOL, help=f"absolute tolerance (default {ATOL:g})")
    r.add_argument("--method", choices=list(METHODS), default="rodas5p")
    i = sub.add_parser("info", help="print what an SBML model imports as, and what is refused")
    i.add_argument("model", type=Path)
    return ap


def _ids(text) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _sbml(args) -> int:
    words = list(args.args)
    if not words or words[0] in ("-h", "--help"):
        _sbml_parser().print_help()
        return 0 if words else 2
    if words[0] in ("run", "info"):
        sub = _sbml_parser().parse_args(words)
        return _sbml_run(sub) if sub.sbml_command == "run" else _sbml_info(sub)
    if len(words) != 1 or words[0].startswith("-"):
        raise _Usage("usage: immunesim sbml MODEL.yaml | immunesim sbml run MODEL.xml --t-end T "
                     "--points N -o OUT.csv [...] | immunesim sbml info MODEL.xml")
    from .io.sbml import to_sbml
    from .model.loader import load_model

    sys.stdout.write(to_sbml(load_model(Path(words[0]))) + "\n")
    return 0


def _sbml_run(args) -> int:
    from .io.sbml_run import time_course, write_csv
    from .limits import MAX_OUTPUT_POINTS
    from .model.sbml import load_sbml

    if not 2 <= args.points <= MAX_OUTPUT_POINTS:
        raise _Usage(f"--points must be between 2 and {MAX_OUTPUT_POINTS}, got {args.points}")
    model = load_sbml(args.model)
    header, values = time_course(model, t_start=args.t_start, t_end=args.t_end,
                                 points=args.points, variables=_ids(args.variables),
                                 amount=_ids(args.amount), concentration=_ids(args.concentration),
                                 rtol=args.rtol, atol=args.atol, method=args.method)
    write_csv(args.output, header, values)
    return 0


def _sbml_info(args) -> int:
    from .errors import ModelError
    from .model.sbml import load_sbml

    try:
        model = load_sbml(args.model)
    except ModelError as exc:
        print(f"{args.model}: not imported; refused:")
        for p in exc.problems:
            print(f"  - {p}")
        return 2
    info = model.sbml
    print(f"{args.model}: SBML Level {info.level} Version {info.version}, model "
          f"'{info.model_id}'")
    for kind, n in info.counts.items():
        print(f"  {kind:32s} {n}")
    roles: dict[str, int] = {}
    for sym in info.symbols.values():
        role = sym.role
        if sym.amount:
            role = ("amount a state" if sym.amount in model.species_names else "amount fixed") + \
                ", concentration a rule"
        key = f"{sym.kind}: {role}"
        roles[key] = roles.get(key, 0) + 1
    print(f"imported as {len(model.species)} state variables, {len(model.rules)} rules, "
          f"{len(model.parameters)} parameters, {len(model.processes)} processes:")
    for key in sorted(roles):
        print(f"  {key:32s} {roles[key]}")
    print("reported by default: " + ", ".join(info.reported()))
    print("refused: nothing")
    return 0


def main(argv=None) -> int:
    from .errors import ImmunesimError
    from .solvers import METHODS

    ap = argparse.ArgumentParser(prog="immunesim", description="Immune-system simulation engine.")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="run a model file and write results")
    s.add_argument("model", type=Path)
    s.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    s.add_argument("--t-end", type=float, help="end time in the model's time unit")
    s.add_argument("--dt", type=float, help="output interval")
    s.add_argument("--method", choices=list(METHODS))
    s.add_argument("--rtol", type=float)
    s.add_argument("--atol", type=float)
    s.set_defaults(func=_simulate)
    r = sub.add_parser("run", help="run a scenario file and write results, summary, figures")
    r.add_argument("scenario", type=Path)
    r.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    r.add_argument("--seed", type=int, help="override the scenario's seed")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    r.set_defaults(func=_run)
    c = sub.add_parser("compare", help="run a scenario's therapy arms on the same patient")
    c.add_argument("scenario", type=Path)
    c.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    c.set_defaults(func=_compare)
    tr = sub.add_parser("trial", help="run a virtual trial: a population, arms and endpoints")
    tr.add_argument("scenario", type=Path)
    tr.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    grp = tr.add_mutually_exclusive_group()
    grp.add_argument("--workers", type=int, help="start a local Dask cluster of N worker processes")
    grp.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:port)")
    tr.add_argument("--resume", action="store_true",
                    help="continue a killed run in OUTDIR (or extend it to a larger --size)")
    tr.add_argument("--size", type=int, help="patients to accept (overrides population.size; the "
                    "first N patients of the full trial)")
    tr.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    tr.set_defaults(func=_trial)
    se = sub.add_parser("sensitivity", help="global (sobol, morris, fast) or local sensitivity "
                        "of a scenario's outputs: its sensitivity: block")
    se.add_argument("scenario", type=Path)
    se.add_argument("-o", "--output", default="out", help="output folder (default: out)")
    se.add_argument("--threads", type=int, help="threads of the batched runs (default: the cores)")
    se.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    se.set_defaults(func=_sensitivity)
    v = sub.add_parser("validate", help="check a scenario file (exit 0 valid, 2 invalid)")
    v.add_argument("scenario", type=Path)
    v.set_defaults(func=_validate)
    li = sub.add_parser("list", help="list diseases, variables [DISEASE] or parameters DISEASE")
    li.add_argument("what", choices=["diseases", "variables", "parameters", "drugs"])
    li.add_argument("disease", nargs="?", help="a disease preset or alias")
    li.set_defaults(func=_list)
    k = sub.add_parser("pk", help="simulate a drug regimen and print exposure metrics")
    k.add_argument("drug")
    k.add_argument("--dose", required=True, help='e.g. "40 mg" or "8 mg/kg"')
    k.add_argument("--route", required=True, choices=["iv", "sc", "oral"])
    k.add_argument("--every", help='dosing interval, e.g. "14 d", "2 w", "12 h"')
    k.add_argument("--count", type=int, help="number of maintenance doses (default: until --days)")
    k.add_argument("--days", type=float, required=True, help="days to simulate")
    k.add_argument("--weight", type=float, help="body weight in kg (default 70)")
    k.add_argument("--loading", help='loading doses, e.g. "0,2,6 w"; maintenance follows')
    k.add_argument("--infusion-hours", type=float, help="IV infusion duration in hours")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.add_argument("-o", "--output", help="write the concentration time course to FILE.csv")
    k.set_defaults(func=_pk)
    dr = sub.add_parser("drug", help="drug library: immunesim drug show NAME")
    drs = dr.add_subparsers(dest="drug_command", required=True)
    ds = drs.add_parser("show", help="print a drug's parameters with units and sources")
    ds.add_argument("name")
    ds.set_defaults(func=_drug_show)
    f = sub.add_parser("fit", help="PEtab problems: --evaluate prints the negative "
                       "log-likelihood at the nominal parameters")
    f.add_argument("problem", type=Path, help="the PEtab problem's YAML file")
    f.add_argument("--evaluate", action="store_true", help="the objective at the nominal values")
    f.add_argument("--json", action="store_true", help="one JSON object on stdout")
    f.add_argument("-o", "--output", type=Path, help="fit: write best.csv, starts.csv, fit.json "
                   "and figures to this folder")
    f.add_argument("--starts", type=int, default=20, help="local optimisations (default 20)")
    f.add_argument("--seed", type=int, default=0, help="seed of the start points (default 0)")
    f.add_argument("--max-iter", type=int, default=1000, help="iterations per start "
                   "(default 1000, fides' own)")
    f.add_argument("--max-time", type=float, help="wall-clock seconds per start (default: no "
                   "limit; a start past it stops with status 'maxtime', and the result then "
                   "depends on the machine's speed)")
    f.add_argument("--screen", type=int, default=0, help="draw N (> --starts) candidates, run "
                   "each for --screen-iter iterations and continue the --starts lowest "
                   "(default 0: off; writes screen.csv)")
    f.add_argument("--screen-iter", type=int, default=100, help="iterations of each screened "
                   "candidate (default 100; below --max-iter)")
    f.add_argument("--profile", action="store_true", help="add profile likelihoods "
                   "(profiles.csv, profiles.png) with 95%% intervals")
    f.add_argument("--resume", action="store_true", help="run only the starts not yet saved in "
                   "OUTDIR/starts")
    f.add_argument("--no-hierarchical", action="store_true", help="optimise the observables' "
                   "scaling factors like the other parameters (default: each set to its "
                   "closed-form optimum given the others)")
    f.add_argument("--no-finish", action="store_true", help="end each start where the "
                   "optimisation with the scalings in closed form stops (default: continue it on "
                   "the full problem, the scalings optimised too)")
    f.add_argument("--kernels", choices=("auto", "generic", "specialised"), default="auto",
                   help="kernel tier of the fit's simulations: the model's own (specialised, "
                        "compiled once and cached; several times faster per gradient) or the "
                        "generic ones (nothing to compile); auto (default): specialised where "
                        "the fit is large enough to repay the compile")
    f.add_argument("--processes", type=int, help="local worker processes (default: the cores)")
    f.add_argument("--workers", type=int, help="run the starts on a local Dask cluster of N "
                   "worker processes")
    f.add_argument("--scheduler", help="run the starts on a running Dask scheduler "
                   "(tcp://host:port)")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    f.set_defaults(func=_fit)
    b = sub.add_parser("sbml", help="SBML: MODEL.yaml prints a model file as SBML L3V2; "
                       "'run MODEL.xml ...' simulates an SBML model; 'info MODEL.xml' says what "
                       "it imports as", add_help=False)
    b.add_argument("args", nargs=argparse.REMAINDER)
    b.set_defaults(func=_sbml)
    argv = sys.argv[1:] if argv is None else list(argv)
    bad = next((a for a in argv if "\x00" in str(a)), None)
    if bad is not None:
        print(f"immunesim: error: argument {_clip(bad)} contains a NUL character", file=sys.stderr)
        return 2
    if argv and argv[0] == "sbml":     # its own parser: 'sbml MODEL.yaml', 'sbml run ...', --help
        args = argparse.Namespace(func=_sbml, args=argv[1:])
    else:
        args = ap.parse_args(argv)
    import warnings

    from .codegen import KernelCacheWarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, KernelCacheWarning):      # ours: one line, no source location
            print(f"immunesim: warning: {message}", file=sys.stderr)
        else:
            default_show(message, category, filename, lineno, file, line)
    default_show = warnings.showwarning
    warnings.showwarning = show
    try:
        return args.func(args)
    except ImmunesimError as exc:
        problems = getattr(exc, "problems", None)
        if problems and len(problems) > 1:
            print(f"immunesim: error: {len(problems)} problems:", file=sys.stderr)
            for p in problems:
                print(f"  - {p}", file=sys.stderr)
        else:
            print(f"immunesim: error: {exc}", file=sys.stderr)
        return 2
    except _Usage as exc:
        print(f"immunesim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("immunesim: interrupted; outputs already written are complete, none is partial",
              file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"immunesim: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = default_show


if __name__ == "__main__":
    sys.exit(main())
