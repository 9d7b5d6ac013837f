"""One validator per section of a scenario file (the file's format is in
:mod:`immunesim.scenario.schema`, which calls these in order).

Each takes the raw section and the ``problems`` list, appends one line per problem (``field.path:
what was given; what is allowed``) and returns the section's validated value, or a safe
placeholder (``None``, empty) where the section is invalid, so that every later section is still
checked and every problem is reported at once. Sections that need the disease model's names take
its model data (``mdata``; ``None`` when the disease is invalid, and they skip those checks).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from ..diseases.build import clinical, model_data, preset, resolve_disease
from ..diseases.covariates import COVARIATES, apply_covariates
from ..drugs.couple import couple
from ..drugs.library import resolve_drug
from ..drugs.regimen import parse_therapies
from ..errors import ModelError
from ..limits import MAX_ARMS, MAX_CHUNK_VALUES, MAX_OUTPUT_POINTS, MAX_STEPS
from ..solvers import METHODS, check_tolerance
from ..units import TIME_UNITS, UnitProblem, days, to_unit
from ..validation import check_keys, clip, did_you_mean, is_one_of, mapping, name_list
from .population_spec import validate_population
from .strategy_spec import validate_strategy
from .trial_spec import validate_trial

PATIENT_KEYS = ("covariates",)
TIME_KEYS = ("end", "output_every", "times")
SOLVER_KEYS = ("method", "rtol", "atol", "pk_atol", "max_steps")
SOLVER_DEFAULTS = {"method": "rodas5p", "rtol": 1e-6, "atol": 1e-9, "max_steps": 100_000}
#: ``solver.pk_atol``: the absolute tolerance (mg) of the coupled drugs' amounts, where
#: ``atol`` is every other species' (README, "Scenario files": why 1 ng of a drug is enough);
#: kept beside the solver options (``Scenario.pk_atol``), which stay those of ``simulate``
PK_ATOL_DEFAULT = 1e-6
OUTPUT_KEYS = ("variables", "readouts", "summary_times", "figures", "formats")
FIGURES = ("cells", "cytokines", "tissue", "biomarkers")
FORMATS = ("netcdf", "csv")
DEFAULT_SUMMARY = ("CRP", "AutoAb", "Treg_Teff_ratio", "Dmg", "Irr")
ARM_KEYS = ("therapies", "treat_to_target")
COMPARE_KEYS = ("outcome", "weeks", "times", "from", "challenge_at", "synergy")
SYNERGY_KEYS = ("control", "a", "b", "combination")


def variable_names(mdata: dict) -> list[str]:
    """Species and rule names of a model's data: what outputs and rules may name."""
    return [s["name"] for s in mdata["species"]] + [r["name"] for r in mdata["rules"]]


def identity(data: Mapping, origin: str, problems: list) -> tuple[str, str, int]:
    """``name`` (default: ``origin``), ``description`` and ``seed``."""
    name = data.get("name", origin)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"name: expected a non-empty text, got {clip(name)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description: expected text, got {clip(description)}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        problems.append(f"seed: expected an integer 0 <= seed < 2**63, got {clip(seed)}")
        seed = 0
    return name, description, seed


def disease(raw, problems: list) -> tuple:
    """(preset name, its model data), or (raw, None) when it is not a preset."""
    if raw is None:
        problems.append("disease: required; one of the presets (`immunesim list diseases`)")
    elif not isinstance(raw, str):
        problems.append(f"disease: expected a preset name, got {clip(raw)}")
    else:
        try:
            name = resolve_disease(raw)
            return name, model_data(name)
        except ModelError as exc:
            problems.append(f"disease: {exc}")
    return raw, None


def clinical_of(disease, mdata, problems: list):
    """The preset's clinical instruments (:mod:`immunesim.diseases.clinical`), or None."""
    if mdata is None:
        return None
    try:
        return clinical(disease)
    except ModelError as exc:
        problems += exc.problems
        return None


def patient(raw, mdata, problems: list) -> dict:
    """Covariates in the model's units (names and ranges checked against the disease model)."""
    section = mapping(raw, "patient", problems)
    check_keys(section, PATIENT_KEYS, "patient.", problems)
    covariates = {}
    for key, value in mapping(section.get("covariates"), "patient.covariates", problems).items():
        try:
            covariates[key] = to_unit(value, COVARIATES[key]["unit"]) if key in COVARIATES else value
        except UnitProblem as exc:
            problems.append(f"patient.covariates.{key}: {exc}")
    if mdata is not None and covariates:
        try:
            apply_covariates(mdata, covariates, where="patient.covariates")
        except ModelError as exc:
            problems += exc.problems
    return covariates


def _overrides(raw, table: dict, path: str, what: str, fallback: str, problems: list):
    """(name, entry, raw value, value in the entry's unit) for each valid ``{name: value}``."""
    for key, value in mapping(raw, path, problems).items():
        entry = table.get(key)
        if entry is None:
            problems.append(f"{path}.{key}: not {what}; {did_you_mean(key, table, fallback)}")
            continue
        try:
            yield key, entry, value, to_unit(value, entry["unit"])
        except UnitProblem as exc:
            problems.append(f"{path}.{key}: {exc}")


def parameters(raw, disease_name: str, mdata, problems: list) -> dict:
    """Parameter overrides in each parameter's unit, inside its bounds."""
    out = {}
    if mdata is None:
        return out
    table = {p["name"]: p for p in mdata["parameters"]}
    for key, p, value, v in _overrides(raw, table, "parameters", f"a parameter of the {disease_name} model",
                                       "see `immunesim list parameters DISEASE`", problems):
        lo, hi = p.get("bounds", (0.0, float("inf")))
        if not lo <= v <= hi:
            problems.append(f"parameters.{key}: {clip(value)} is outside the allowed range "
                            f"[{lo}, {hi}] {p['unit']}")
        else:
            out[key] = v
    return out


def initial(raw, mdata, problems: list) -> dict:
    """Initial-state overrides (species, >= 0) in each species' unit."""
    out = {}
    if mdata is None:
        return out
    table = {s["name"]: s for s in mdata["species"]}
    for key, sp, value, v in _overrides(raw, table, "initial", "a species of the model",
                                        "see `immunesim list variables`", problems):
        if v < 0:
            problems.append(f"initial.{key}: must be >= 0 {sp['unit']}, got {clip(value)}")
        else:
            out[key] = v
    return out


def time(raw, disease_name: str, mdata, problems: list) -> tuple | None:
    """Output times in days: an explicit increasing list, or ``end`` (default: the preset's)
    every ``output_every`` (default 1 day), the end included."""
    section = mapping(raw, "time", problems)
    check_keys(section, TIME_KEYS, "time.", problems)
    if "times" in section:
        if "end" in section or "output_every" in section:
            problems.append("time: give either times or end/output_every, not both")
        values = section["times"]
        if not isinstance(values, list) or len(values) < 2:
            problems.append(f"time.times: expected a list of at least 2 times, got {clip(values)}")
            return None
        ts = [days(v, f"time.times[{i}]", problems, positive=False) for i, v in enumerate(values)]
        if None in ts:
            return None
        if any(b <= a for a, b in zip(ts, ts[1:])):
            problems.append("time.times: times must increase strictly")
            return None
        return tuple(ts)
    pr_end = preset(disease_name)["t_end"] if mdata is not None else 365.0
    end = days(section.get("end", pr_end), "time.end", problems)
    every = days(section.get("output_every", 1.0), "time.output_every", problems)
    if end is None or every is None:
        return None
    if every > end:
        problems.append(f"time.output_every: {clip(section.get('output_every'))} is longer than "
                        f"time.end {clip(section.get('end', pr_end))}")
        return None
    if end / every + 1 > MAX_OUTPUT_POINTS:
        problems.append(f"time.output_every: {end / every + 1:.0f} output points; at most "
                        f"{MAX_OUTPUT_POINTS} allowed (use a larger interval)")
        return None
    n = int(np.floor(end / every + 1e-9))
    ts = [k * every for k in range(n + 1)]
    if end - ts[-1] > 1e-9 * end:
        ts.append(end)
    return tuple(ts)


def arms(raw, mdata, times, problems: list, *, species=None) -> dict:
    """Arms: name -> {therapies, treat_to_target}; an arm may be a list of therapies (an empty
    list for untreated) or a mapping with both. ``species``: an SBML model's species that can be
    dosed (its arms are lists of doses into them; see :func:`~immunesim.drugs.regimen.parse_therapies`)."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping) and len(raw) > MAX_ARMS:
        problems.append(f"arms: {len(raw)} arms; at most {MAX_ARMS} allowed")
        return {}
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"arms: expected a mapping of arm name: list of therapies (an empty "
                        f"list for untreated) or {{therapies, treat_to_target}}, got {clip(raw)}")
        return {}
    names = variable_names(mdata) if mdata is not None else []
    out = {}
    for arm, therapies in raw.items():
        rules = None
        if isinstance(therapies, Mapping) and species is not None:
            problems.append(f"arms.{arm}: expected a list of doses into species (treat_to_target "
                            f"rules need a disease preset), got {clip(therapies)}")
            continue
        if isinstance(therapies, Mapping):
            check_keys(therapies, ARM_KEYS, f"arms.{arm}.", problems)
            local: list[str] = []
            rules = validate_strategy(therapies.get("treat_to_target"), names, times, local)
            problems += [f"arms.{arm}.{m}" if m.startswith("treat_to_target") else m for m in local]
            therapies = therapies.get("therapies", [])
        out[str(arm)] = {"therapies": tuple(parse_therapies(therapies, f"arms.{arm}", times, problems,
                                                            species=species)),
                         "treat_to_target": rules}
    return out


def compare(raw, arms: dict, mdata, problems: list, *, names=None, unit: str = "day") -> dict:
    """Options of ``immunesim compare``: outcome readout, weeks (after ``from``) and/or times,
    pathogen challenge time, and a Bliss synergy triple of arm names. ``names`` (an SBML
    model's variables) stand in for ``mdata``'s; ``unit`` is the scenario's time unit (an SBML
    model's: its weeks are 7 days in it, none where it declares no unit)."""
    section = mapping(raw, "compare", problems)
    check_keys(section, COMPARE_KEYS, "compare.", problems)
    sbml = names is not None
    out = {"outcome": None, "weeks": () if sbml else (12.0, 24.0, 52.0), "from": 0.0,
           "challenge_at": None, "synergy": None}
    if sbml:
        out["week"] = 7.0 / TIME_UNITS[unit] if unit in TIME_UNITS else None
        if "weeks" in section and out["week"] is None:
            problems.append("compare.weeks: the SBML model declares no time unit, so weeks "
                            "cannot be placed; give compare.times (in its time)")
        if "challenge_at" in section:
            problems.append("compare.challenge_at: a pathogen challenge needs a disease preset")
    outcome = section.get("outcome")
    if names is None and mdata is not None:
        names = variable_names(mdata)
    if names is not None and outcome is not None:
        if outcome not in names:
            hint = did_you_mean(outcome, names, "see `immunesim list variables DISEASE`")
            problems.append(f"compare.outcome: '{outcome}' is not a variable; {hint}")
        else:
            out["outcome"] = outcome
    if "weeks" in section:
        w = section["weeks"]
        if (not isinstance(w, list) or not w
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in w)):
            problems.append(f"compare.weeks: expected a list of weeks >= 0, got {clip(w)}")
        else:
            out["weeks"] = tuple(float(x) for x in w)
    if "times" in section:
        ts = section["times"]
        if not isinstance(ts, list) or not ts:
            problems.append(f"compare.times: expected a list of times, got {clip(ts)}")
        else:
            ts = [days(v, f"compare.times[{i}]", problems, positive=False) for i, v in enumerate(ts)]
            if None not in ts:
                out["times"] = tuple(ts)
    if "from" in section:
        v = days(section["from"], "compare.from", problems, positive=False)
        out["from"] = v if v is not None else 0.0
    if "challenge_at" in section:
        out["challenge_at"] = days(section["challenge_at"], "compare.challenge_at", problems, positive=False)
    if "synergy" in section:
        syn = section["synergy"]
        if not isinstance(syn, Mapping) or set(syn) != set(SYNERGY_KEYS):
            problems.append(f"compare.synergy: expected {{control, a, b, combination}} arm names, got {clip(syn)}")
        else:
            for k in SYNERGY_KEYS:
                if not is_one_of(syn[k], arms):
                    problems.append(f"compare.synergy.{k}: {clip(syn[k])} is not an arm (arms: {', '.join(arms)})")
            out["synergy"] = dict(syn)
    if section and not arms:
        problems.append("compare: needs arms (a mapping of arm name: therapies)")
    return out


def solver(raw, problems: list) -> dict:
    """``method`` (:data:`immunesim.solvers.METHODS`), ``rtol``, ``atol``, ``pk_atol``,
    ``max_steps``, with :data:`SOLVER_DEFAULTS` for what is not given."""
    section = mapping(raw, "solver", problems)
    check_keys(section, SOLVER_KEYS, "solver.", problems)
    out = dict(SOLVER_DEFAULTS)
    if "method" in section:
        if not is_one_of(section["method"], METHODS):
            problems.append(f"solver.method: {clip(section['method'])} is not allowed; one of {', '.join(METHODS)}")
        else:
            out["method"] = section["method"]
    for key in ("rtol", "atol", "pk_atol"):
        if key in section:
            problem = check_tolerance(key, section[key])
            if problem:
                problems.append(f"solver.{key}: {problem}")
            else:
                out[key] = float(section[key])
    if "max_steps" in section:
        v = section["max_steps"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_STEPS:
            problems.append(f"solver.max_steps: expected an integer in [1, {MAX_STEPS}], got {clip(v)}")
        else:
            out["max_steps"] = v
    return out


def treat_to_target(raw, mdata, times, problems: list) -> dict | None:
    """The scenario's own treat-to-target rules (see :mod:`immunesim.scenario.strategy`)."""
    if mdata is None:
        return None
    return validate_strategy(raw, variable_names(mdata), times, problems)


def coupled_data(mdata, drugs: list, covariates: dict, problems: list) -> dict:
    """The disease model's data with the run's drugs coupled (their PK species and parameters
    added); the disease's alone where a drug cannot be coupled (the problem is listed)."""
    if not drugs:
        return mdata
    try:
        return couple(mdata, [resolve_drug(d) for d in drugs], covariates.get("body_weight", 70.0))
    except ModelError as exc:
        problems += [f"therapies: {p}" for p in exc.problems]
        return mdata


def outputs_variables(section: dict, disease_name: str, mdata, drugs: list, covariates: dict,
                      problems: list) -> tuple:
    """(variables, readouts): names of the disease model with the run's drugs coupled; the
    readouts default to the preset's readouts, its counts and :data:`DEFAULT_SUMMARY`."""
    if mdata is None:
        return None, None
    pr = preset(disease_name)
    names = variable_names(coupled_data(mdata, drugs, covariates, problems))
    count_names = list((pr.get("counts") or {}).keys())
    variables = name_list(section.get("variables"), "outputs.variables", names, problems, "variables")
    readouts = name_list(section.get("readouts"), "outputs.readouts", names + count_names, problems,
                         "variables")
    if readouts is None:
        readouts = tuple([r["name"] for r in pr.get("readouts") or []] + count_names
                         + [n for n in DEFAULT_SUMMARY if n not in count_names])
    return variables, readouts


def summary_times(section: dict, times, problems: list) -> tuple:
    """(summary times, output times): given summary times are added to the output times (the
    solver stops at each: exact values); the default is the output time nearest each whole year
    (365.25 days), the start and the end."""
    if "summary_times" in section:
        raw = section["summary_times"]
        if not isinstance(raw, list) or not raw:
            problems.append(f"outputs.summary_times: expected a non-empty list of times, got {clip(raw)}")
            return None, times
        st = [days(v, f"outputs.summary_times[{i}]", problems, positive=False) for i, v in enumerate(raw)]
        if None in st or times is None:
            return None, times
        for i, v in enumerate(st):
            if not times[0] <= v <= times[-1]:
                problems.append(f"outputs.summary_times[{i}]: {clip(raw[i])} is outside the "
                                f"simulated time [{times[0]:g}, {times[-1]:g}] days")
        return tuple(st), tuple(sorted(set(times) | set(st)))
    if times is None:
        return None, times
    grid = np.asarray(times)
    years = [float(grid[np.argmin(np.abs(grid - 365.25 * k))])
             for k in range(1, int(times[-1] // 365.25 + 1e-9) + 1) if 365.25 * k >= times[0]]
    return tuple(sorted({times[0], *years, times[-1]})), times


def figures_formats(section: dict, problems: list) -> tuple[tuple, tuple]:
    """The figures to draw (default: all of :data:`FIGURES`; ``false`` or ``[]``: none) and the
    extra file formats (:data:`FORMATS`; default netcdf only)."""
    figures = section.get("figures", list(FIGURES))
    if figures is False:
        figures = []
    figures = name_list(figures, "outputs.figures", FIGURES, problems, "figures") or ()
    formats = name_list(section.get("formats", ["netcdf"]), "outputs.formats", FORMATS, problems,
                        "formats") or ()
    return tuple(figures), tuple(formats)


def _course_drugs(raw_trial) -> list[str]:
    """The library drugs of ``trial.management.give``, read before the trial block is validated
    (its readouts need the model's names, which include these drugs). An entry that is not
    valid is skipped here: ``validate_trial`` parses the courses and names the field."""
    management = raw_trial.get("management") if isinstance(raw_trial, Mapping) else None
    give = management.get("give") if isinstance(management, Mapping) else None
    out = []
    for entry in give if isinstance(give, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("drug"), str):
            try:
                out.append(resolve_drug(entry["drug"]))
            except ModelError:
                continue                  # reported, with its field, by validate_trial
    return out


def trial_names(mdata, arms: dict, covariates: dict, problems: list, extra_drugs=()) -> list:
    """Variable names of a trial's model: the disease model with every arm's drugs and
    ``extra_drugs`` (the population's background therapy and the management's courses, which
    the trial's model couples too)."""
    drugs = list(dict.fromkeys([*extra_drugs, *(r.drug for spec in arms.values() for r in spec["therapies"])]))
    full = mdata
    if drugs:
        try:
            full = couple(mdata, drugs, covariates.get("body_weight", 70.0))
        except ModelError as exc:
            problems += [f"arms: {p}" for p in exc.problems]
    return variable_names(full)


def population_trial(raw_population, raw_trial, mdata, arms: dict, covariates: dict, times,
                     model_kind: str, problems: list, *, names=None, week: float = 7.0,
                     clinical=None) -> tuple:
    """(population, trial) of ``immunesim trial``: each needs the other, both need the ODE
    model, and a chunk's trajectories must fit in memory (:data:`MAX_CHUNK_VALUES`). ``names``
    (an SBML model's variables) stand in for those of ``mdata`` with the arms' drugs; ``week``
    is a week in the scenario's time unit; ``clinical``: the disease's clinical instruments
    (constraints and endpoints may name them)."""
    if raw_population is None and raw_trial is None:
        return None, None
    background = ()
    if isinstance(raw_population, Mapping) and raw_population.get("background"):
        background = tuple(parse_therapies(raw_population["background"], "population.background",
                                           times, problems))
    if names is None:      # the trial's model couples the background drugs and courses too
        names = [] if mdata is None else trial_names(
            mdata, arms, covariates, problems, [*(r.drug for r in background), *_course_drugs(raw_trial)])
    measured = list(clinical.names) if clinical is not None else []
    population = validate_population(raw_population, mdata, [*names, *measured], problems)
    if population is not None and background:
        population = dataclasses.replace(population, background=background)
        if any(spec.get("treat_to_target") for spec in arms.values()):
            problems.append("population.background: not yet combined with treat_to_target arms; "
                            "give the background therapy as an entry of each arm instead")
    trial = validate_trial(raw_trial, arms, names, times, problems, week_length=week,
                           clinical=clinical,
                           background=population.background if population is not None else ())
    if raw_trial is not None and raw_population is None:
        problems.append("population: required by trial (population.size, parameters, covariates, constraints)")
    if raw_population is not None and raw_trial is None:
        problems.append("trial: required with population (baseline, weeks, endpoints)")
    if model_kind != "ode":
        problems.append(f"model: trials run the ODE model, not {model_kind}")
    if trial is not None and times is not None:
        values = trial.chunk * max(len(arms), 1) * len(times) * len(names)
        if values > MAX_CHUNK_VALUES:
            problems.append(f"trial.chunk: {trial.chunk} candidates x {len(arms)} arms x "
                            f"{len(times)} output times x {len(names)} variables is "
                            f"{8 * values / 1e9:.1f} GB per chunk; at most "
                            f"{8 * MAX_CHUNK_VALUES / 1e9:.0f} GB (lower trial.chunk or "
                            "output fewer times)")
    return population, trial

