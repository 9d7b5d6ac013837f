"""Scenario files: what they may contain, and strict validation with field paths.

A scenario is YAML read with ``yaml.safe_load`` (no tags, nothing executed)::

    name: ra-untreated                 # optional; default: the file name
    description: ...                   # optional
    disease: ra                        # required: a preset (immunesim list diseases)
    seed: 1                            # optional integer, default 0
    patient:
      covariates: {body_weight: "80 kg", hla_risk_alleles: 1}
    parameters: {k_inj_TNF: "0.1 1/day"}   # overrides, in the parameter's unit or with a unit
    initial: {Dmg: 0.1}                # initial state overrides (species)
    time: {end: "5 years", output_every: "1 day"}   # or times: [0, 30, 365] (days)
    therapies:                         # drug regimens (immunesim list drugs)
      - {drug: adalimumab, dose: "40 mg", route: sc, every: "14 d", start: "1 year", until: "2 years"}
      - {drug: tocilizumab, dose: "8 mg/kg", route: iv, infusion_hours: 1, every: "4 w", count: 6}
    solver: {method: rodas5p, rtol: 1.0e-6, atol: 1.0e-9}
    model: ode                         # ode (default) | abm | hybrid: see immunesim.scenario.tissue
    tissue: {shape: [200, 200], exchange_every: "6 h"}   # the lattice (abm and hybrid)
    outputs:
      variables: [Teff, Treg, CRP]     # default: all
      readouts: [DAS28_CRP, CRP]       # summary.csv columns; default: the preset's readouts
      summary_times: ["1 year", "2 years"]   # default: every year and the end
      figures: [cells, cytokines, tissue, biomarkers]   # default: all four; [] for none
      formats: [netcdf, csv]           # results.nc is always written; csv adds trajectories.csv

Every problem is reported at once, each as ``field.path: what was given; what is allowed``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import ImmunesimError, problem_lines
from ..limits import MAX_ARMS, MAX_OUTPUT_POINTS, MAX_STEPS
from ..validation import check_keys, clip, did_you_mean, is_one_of, mapping, name_list
from ..drugs.regimen import parse_therapies
from ..units import UnitProblem, days, to_unit
from ..diseases.build import disease_model_data
from ..model.loader import model_from_dict
from ..drugs.couple import couple
from .strategy import strategy_drugs
from ..drugs.regimen import regimen_events
from ..diseases.build import model_data, preset, resolve_disease
from ..diseases.covariates import COVARIATES, apply_covariates
from ..errors import ModelError
from ..solvers import METHODS
from ..solvers.options import check_tolerance
from .strategy import validate_strategy
from ..drugs.library import resolve_drug
from .tissue import validate_tissue
from .population_spec import validate_population
from .trial_spec import validate_trial
from ..limits import MAX_CHUNK_VALUES
from ..safe_yaml import read_yaml

TOP_KEYS = ("name", "description", "disease", "seed", "patient", "parameters", "initial", "time",
            "therapies", "arms", "compare", "treat_to_target", "solver", "outputs", "model",
            "tissue", "population", "trial")
PATIENT_KEYS = ("covariates",)
TIME_KEYS = ("end", "output_every", "times")
SOLVER_KEYS = ("method", "rtol", "atol", "max_steps")
OUTPUT_KEYS = ("variables", "readouts", "summary_times", "figures", "formats")
FIGURES = ("cells", "cytokines", "tissue", "biomarkers")
FORMATS = ("netcdf", "csv")
DEFAULT_SUMMARY = ("CRP", "AutoAb", "Treg_Teff_ratio", "Dmg", "Irr")


class ScenarioError(ImmunesimError, ValueError):
    """An invalid scenario; ``problems`` holds one readable line per problem."""

    def __init__(self, problems):
        self.problems = problem_lines(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: every value converted to the model's units (time in days)."""

    name: str
    disease: str
    seed: int
    covariates: dict
    parameters: dict
    initial: dict
    times: tuple
    therapies: tuple
    solver: dict
    variables: tuple
    readouts: tuple
    summary_times: tuple
    figures: tuple
    formats: tuple
    description: str = ""
    arms: dict = field(default_factory=dict)
    compare: dict = field(default_factory=dict)
    treat_to_target: dict | None = None
    model_kind: str = "ode"
    tissue: dict = field(default_factory=dict)
    population: Any = None       # immunesim.scenario.population.Population (immunesim trial)
    trial: Any = None            # immunesim.scenario.trial_spec.Trial
    source: dict = field(default_factory=dict, repr=False)

    @property
    def hash(self) -> str:
        """SHA-256 of the validated content (canonical JSON): equal for equivalent files."""
        content = {k: getattr(self, k) for k in (
            "disease", "seed", "covariates", "parameters", "initial", "times", "therapies",
            "solver", "variables", "readouts", "summary_times", "figures", "formats", "arms",
            "compare", "treat_to_target")}
        if self.model_kind != "ode":     # kept out otherwise: ODE scenario hashes unchanged
            content.update(model_kind=self.model_kind, tissue=self.tissue)
        if self.trial is not None:       # likewise: only trial scenarios hash these
            content.update(population=self.population, trial=self.trial)
        import dataclasses

        text = json.dumps(content, sort_keys=True, default=lambda o: dataclasses.asdict(o)
                          if dataclasses.is_dataclass(o) else list(o))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def body_weight(self) -> float:
        return float(self.covariates.get("body_weight", 70.0))

    def model(self, drugs=None):
        """The disease model with this scenario's covariates and each drug's PK coupled to its
        target (overrides apply at simulation). ``drugs`` (default: :meth:`drugs`) may list
        more: a drug that is never dosed stays at zero concentration and leaves the disease
        model unchanged, so one model (one compiled kernel) can serve several arms."""
        data = disease_model_data(self.disease, self.covariates)
        drugs = self.drugs() if drugs is None else list(drugs)
        if drugs:
            data = couple(data, drugs, self.body_weight)
        return model_from_dict(data, where=f"scenario '{self.name}'")

    def arm_drugs(self) -> list[str]:
        """Every drug any arm may give (its therapies and its rules), in order of appearance."""
        out = []
        for spec in self.arms.values():
            out += [r.drug for r in spec["therapies"]]
            if spec["treat_to_target"]:
                out += strategy_drugs(spec["treat_to_target"])
        return list(dict.fromkeys(out))

    def drugs(self) -> list[str]:
        """Every drug the run may give: its therapies and those its rules may start."""
        extra = strategy_drugs(self.treat_to_target) if self.treat_to_target else []
        return list(dict.fromkeys([r.drug for r in self.therapies] + extra))

    def events(self) -> list:
        """The engine events of every therapy's doses."""
        return regimen_events(self.therapies, self.body_weight)




def _overrides(raw, table: dict, path: str, what: str, fallback: str, problems: list):
    """(name, entry, value in the entry's unit) for each valid ``{name: value}`` of ``raw``."""
    for key, value in mapping(raw, path, problems).items():
        entry = table.get(key)
        if entry is None:
            problems.append(f"{path}.{key}: not {what}; {did_you_mean(key, table, fallback)}")
            continue
        try:
            yield key, entry, value, to_unit(value, entry["unit"])
        except UnitProblem as exc:
            problems.append(f"{path}.{key}: {exc}")


def validate(data: Any, *, origin: str = "scenario") -> Scenario:
    """Validate parsed scenario data; :class:`ScenarioError` listing every problem."""
    import numpy as np

    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level, "
                            f"got {type(data).__name__}")
    check_keys(data, TOP_KEYS, "", problems)

    disease = data.get("disease")
    mdata = None
    if disease is None:
        problems.append("disease: required; one of the presets (`immunesim list diseases`)")
    elif not isinstance(disease, str):
        problems.append(f"disease: expected a preset name, got {clip(disease)}")
    else:
        try:
            disease = resolve_disease(disease)
            mdata = model_data(disease)
        except ModelError as exc:
            problems.append(f"disease: {exc}")

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

    patient = mapping(data.get("patient"), "patient", problems)
    check_keys(patient, PATIENT_KEYS, "patient.", problems)
    # units converted here; unknown names and ranges are checked by apply_covariates
    covariates = {}
    for key, value in mapping(patient.get("covariates"), "patient.covariates", problems).items():
        try:
            covariates[key] = to_unit(value, COVARIATES[key]["unit"]) if key in COVARIATES else value
        except UnitProblem as exc:
            problems.append(f"patient.covariates.{key}: {exc}")
    if mdata is not None and covariates:
        try:
            apply_covariates(mdata, covariates, where="patient.covariates")
        except ModelError as exc:
            problems += exc.problems

    parameters, initial = {}, {}
    if mdata is not None:
        params = {p["name"]: p for p in mdata["parameters"]}
        for key, p, raw, v in _overrides(data.get("parameters"), params, "parameters",
                                         f"a parameter of the {disease} model",
                                         "see `immunesim list parameters DISEASE`", problems):
            lo, hi = p.get("bounds", (0.0, float("inf")))
            if not lo <= v <= hi:
                problems.append(f"parameters.{key}: {clip(raw)} is outside the allowed range "
                                f"[{lo}, {hi}] {p['unit']}")
            else:
                parameters[key] = v
        species = {s_["name"]: s_ for s_ in mdata["species"]}
        for key, sp, raw, v in _overrides(data.get("initial"), species, "initial",
                                          "a species of the model", "see `immunesim list variables`",
                                          problems):
            if v < 0:
                problems.append(f"initial.{key}: must be >= 0 {sp['unit']}, got {clip(raw)}")
            else:
                initial[key] = v

    # time: end (+ output_every) or an explicit list of times, in days
    time = mapping(data.get("time"), "time", problems)
    check_keys(time, TIME_KEYS, "time.", problems)
    times = None
    if "times" in time:
        if "end" in time or "output_every" in time:
            problems.append("time: give either times or end/output_every, not both")
        raw = time["times"]
        if not isinstance(raw, list) or len(raw) < 2:
            problems.append(f"time.times: expected a list of at least 2 times, got {clip(raw)}")
        else:
            ts = [days(v, f"time.times[{i}]", problems, positive=False) for i, v in enumerate(raw)]
            if None not in ts:
                if any(b <= a for a, b in zip(ts, ts[1:])):
                    problems.append("time.times: times must increase strictly")
                else:
                    times = tuple(ts)
    else:
        pr_end = preset(disease)["t_end"] if mdata is not None else 365.0
        end = days(time.get("end", pr_end), "time.end", problems)
        every = days(time.get("output_every", 1.0), "time.output_every", problems)
        if end is not None and every is not None:
            if every > end:
                problems.append(f"time.output_every: {clip(time.get('output_every'))} is longer than "
                                f"time.end {clip(time.get('end', pr_end))}")
            elif end / every + 1 > MAX_OUTPUT_POINTS:
                problems.append(f"time.output_every: {end / every + 1:.0f} output points; at most "
                                f"{MAX_OUTPUT_POINTS} allowed (use a larger interval)")
            else:
                n = int(np.floor(end / every + 1e-9))
                ts = [k * every for k in range(n + 1)]
                if end - ts[-1] > 1e-9 * end:
                    ts.append(end)
                times = tuple(ts)

    regimens = parse_therapies(data.get("therapies", []), "therapies", times, problems)
    arms = {}
    raw_arms = data.get("arms")
    if isinstance(raw_arms, Mapping) and len(raw_arms) > MAX_ARMS:
        problems.append(f"arms: {len(raw_arms)} arms; at most {MAX_ARMS} allowed")
        raw_arms = None
    if raw_arms is not None:
        if not isinstance(raw_arms, Mapping) or not raw_arms:
            problems.append(f"arms: expected a mapping of arm name: list of therapies (an empty "
                            f"list for untreated) or {{therapies, treat_to_target}}, got {clip(raw_arms)}")
        else:
            names0 = ([s_["name"] for s_ in mdata["species"]] + [r["name"] for r in mdata["rules"]]
                      if mdata is not None else [])
            for arm, th in raw_arms.items():
                rules = None
                if isinstance(th, Mapping):       # {therapies: [...], treat_to_target: {...}}
                    check_keys(th, ("therapies", "treat_to_target"), f"arms.{arm}.", problems)
                    rules = validate_strategy(th.get("treat_to_target"), names0, times, problems,
                                              parse_therapies)
                    if rules is not None:
                        for k, msg in enumerate(problems):
                            problems[k] = msg.replace("treat_to_target.", f"arms.{arm}.treat_to_target.", 1) \
                                if msg.startswith("treat_to_target.") else msg
                    th = th.get("therapies", [])
                arms[str(arm)] = {"therapies": tuple(parse_therapies(th, f"arms.{arm}", times, problems)),
                                  "treat_to_target": rules}
    compare = _compare(mapping(data.get("compare"), "compare", problems), arms, mdata, problems)

    solver = mapping(data.get("solver"), "solver", problems)
    check_keys(solver, SOLVER_KEYS, "solver.", problems)
    solver_out = {"method": "rodas5p", "rtol": 1e-6, "atol": 1e-9, "max_steps": 100_000}
    if "method" in solver:
        if not is_one_of(solver["method"], METHODS):
            problems.append(f"solver.method: {clip(solver['method'])} is not allowed; one of {', '.join(METHODS)}")
        else:
            solver_out["method"] = solver["method"]
    for key in ("rtol", "atol"):
        if key in solver:
            problem = check_tolerance(key, solver[key])
            if problem:
                problems.append(f"solver.{key}: {problem}")
            else:
                solver_out[key] = float(solver[key])
    if "max_steps" in solver:
        v = solver["max_steps"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_STEPS:
            problems.append(f"solver.max_steps: expected an integer in [1, {MAX_STEPS}], got {clip(v)}")
        else:
            solver_out["max_steps"] = v

    outputs = mapping(data.get("outputs"), "outputs", problems)
    check_keys(outputs, OUTPUT_KEYS, "outputs.", problems)
    variables = readouts = strategy = None
    if mdata is not None:
        pr = preset(disease)
        full = mdata
        base_names = [s["name"] for s in mdata["species"]] + [r["name"] for r in mdata["rules"]]

        strategy = validate_strategy(data.get("treat_to_target"), base_names, times, problems,
                                     parse_therapies)
        drugs = [r.drug for r in regimens] + (strategy_drugs(strategy) if strategy else [])
        if drugs:
            try:
                full = couple(mdata, [resolve_drug(d) for d in drugs], covariates.get("body_weight", 70.0))
            except ModelError as exc:
                problems += [f"therapies: {p}" for p in exc.problems]
        names = [s["name"] for s in full["species"]] + [r["name"] for r in full["rules"]]
        count_names = list((pr.get("counts") or {}).keys())
        variables = name_list(outputs.get("variables"), "outputs.variables", names, problems, "variables")
        readouts = name_list(outputs.get("readouts"), "outputs.readouts", names + count_names,
                              problems, "variables")
        if readouts is None:
            readouts = tuple([r["name"] for r in pr.get("readouts") or []] + count_names
                             + [n for n in DEFAULT_SUMMARY if n not in count_names])
    summary_times = None
    if "summary_times" in outputs:
        raw = outputs["summary_times"]
        if not isinstance(raw, list) or not raw:
            problems.append(f"outputs.summary_times: expected a non-empty list of times, got {clip(raw)}")
        else:
            st = [days(v, f"outputs.summary_times[{i}]", problems, positive=False) for i, v in enumerate(raw)]
            if None not in st and times is not None:
                for i, v in enumerate(st):
                    if not times[0] <= v <= times[-1]:
                        problems.append(f"outputs.summary_times[{i}]: {clip(raw[i])} is outside the "
                                        f"simulated time [{times[0]:g}, {times[-1]:g}] days")
                summary_times = tuple(st)
        if summary_times is not None:  # the solver stops at every summary time: exact values
            times = tuple(sorted(set(times) | set(summary_times)))
    elif times is not None:
        # default: the output time nearest each whole year (365.25 days), the start and the end
        grid = np.asarray(times)
        years = [float(grid[np.argmin(np.abs(grid - 365.25 * k))])
                 for k in range(1, int(times[-1] // 365.25 + 1e-9) + 1) if 365.25 * k >= times[0]]
        summary_times = tuple(sorted({times[0], *years, times[-1]}))
    figures = outputs.get("figures", list(FIGURES))
    if figures is False:
        figures = []
    figures = name_list(figures, "outputs.figures", FIGURES, problems, "figures") or ()
    formats = outputs.get("formats", ["netcdf"])
    formats = name_list(formats, "outputs.formats", FORMATS, problems, "formats") or ()

    model_kind, tissue = validate_tissue(data.get("model"), data.get("tissue"), seed,
                                         times[-1] if times else None, problems)
    if model_kind != "ode" and (arms or strategy):
        problems.append(f"model: {model_kind} runs take therapies, not arms or treat_to_target")
    population = trial = None
    if data.get("population") is not None or data.get("trial") is not None:
        trial_names = _trial_names(mdata, arms, covariates, problems) if mdata is not None else []
        population = validate_population(data.get("population"), mdata, trial_names, problems)
        trial = validate_trial(data.get("trial"), arms, trial_names, times, problems)
        if data.get("trial") is not None and data.get("population") is None:
            problems.append("population: required by trial (population.size, parameters, covariates, constraints)")
        if data.get("population") is not None and data.get("trial") is None:
            problems.append("trial: required with population (baseline, weeks, endpoints)")
        if model_kind != "ode":
            problems.append(f"model: trials run the ODE model, not {model_kind}")
        if trial is not None and times is not None:
            values = trial.chunk * max(len(arms), 1) * len(times) * len(trial_names)
            if values > MAX_CHUNK_VALUES:
                problems.append(f"trial.chunk: {trial.chunk} candidates x {len(arms)} arms x "
                                f"{len(times)} output times x {len(trial_names)} variables is "
                                f"{8 * values / 1e9:.1f} GB per chunk; at most "
                                f"{8 * MAX_CHUNK_VALUES / 1e9:.0f} GB (lower trial.chunk or "
                                "output fewer times)")
    if problems:
        raise ScenarioError(problems)
    return Scenario(name=name, disease=disease, seed=seed, covariates=covariates,
                    parameters=parameters, initial=initial, times=times, therapies=tuple(regimens),
                    solver=solver_out, variables=variables or (), readouts=readouts,
                    summary_times=summary_times, figures=tuple(figures), formats=tuple(formats),
                    description=description, arms=arms, compare=compare,
                    treat_to_target=strategy if mdata is not None else None,
                    model_kind=model_kind, tissue=tissue, population=population, trial=trial,
                    source=dict(data))


def _trial_names(mdata, arms, covariates, problems) -> list:
    """Variable names of the trial's model: the disease model with every arm's drugs."""
    drugs = list(dict.fromkeys(r.drug for spec in arms.values() for r in spec["therapies"]))
    full = mdata
    if drugs:
        try:
            full = couple(mdata, drugs, covariates.get("body_weight", 70.0))
        except ModelError as exc:
            problems += [f"arms: {p}" for p in exc.problems]
    return [s_["name"] for s_ in full["species"]] + [r["name"] for r in full["rules"]]


COMPARE_KEYS = ("outcome", "weeks", "from", "challenge_at", "synergy")


def _compare(raw: dict, arms: dict, mdata, problems: list) -> dict:
    """Options of ``immunesim compare``: outcome readout, weeks (after ``from``), pathogen
    challenge time, and a Bliss synergy triple."""
    check_keys(raw, COMPARE_KEYS, "compare.", problems)
    out = {"outcome": None, "weeks": (12.0, 24.0, 52.0), "from": 0.0, "challenge_at": None,
           "synergy": None}
    if mdata is not None:
        names = [s["name"] for s in mdata["species"]] + [r["name"] for r in mdata["rules"]]
        outcome = raw.get("outcome")
        if outcome is not None:
            if outcome not in names:
                hint = did_you_mean(outcome, names, "see `immunesim list variables DISEASE`")
                problems.append(f"compare.outcome: '{outcome}' is not a variable; {hint}")
            else:
                out["outcome"] = outcome
    if "weeks" in raw:
        w = raw["weeks"]
        if (not isinstance(w, list) or not w
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in w)):
            problems.append(f"compare.weeks: expected a list of weeks >= 0, got {clip(w)}")
        else:
            out["weeks"] = tuple(float(x) for x in w)
    if "from" in raw:
        v = days(raw["from"], "compare.from", problems, positive=False)
        out["from"] = v if v is not None else 0.0
    if "challenge_at" in raw:
        out["challenge_at"] = days(raw["challenge_at"], "compare.challenge_at", problems, positive=False)
    if "synergy" in raw:
        syn = raw["synergy"]
        keys = ("control", "a", "b", "combination")
        if not isinstance(syn, Mapping) or set(syn) != set(keys):
            problems.append(f"compare.synergy: expected {{control, a, b, combination}} arm names, got {clip(syn)}")
        else:
            for k in keys:
                if not is_one_of(syn[k], arms):
                    problems.append(f"compare.synergy.{k}: {clip(syn[k])} is not an arm (arms: {', '.join(arms)})")
            out["synergy"] = dict(syn)
    if raw and not arms:
        problems.append("compare: needs arms (a mapping of arm name: therapies)")
    return out


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file; :class:`ScenarioError` with every problem."""
    from pathlib import Path

    path = Path(path)
    data = read_yaml(path, ScenarioError, "scenario file")
    try:
        return validate(data, origin=path.stem)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {p}" for p in exc.problems]) from None
