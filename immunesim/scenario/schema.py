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
                                       # or an SBML file in place of disease: see
                                       # immunesim.scenario.sbml_source
    tissue: {shape: [200, 200], exchange_every: "6 h"}   # the lattice (abm and hybrid)
    outputs:
      variables: [Teff, Treg, CRP]     # default: all
      readouts: [DAS28_CRP, CRP]       # summary.csv columns; default: the preset's readouts
      summary_times: ["1 year", "2 years"]   # default: every year and the end
      figures: [cells, cytokines, tissue, biomarkers]   # default: all four; [] for none
      formats: [netcdf, csv]           # results.nc is always written; csv adds trajectories.csv

Every problem is reported at once, each as ``field.path: what was given; what is allowed``.
Each section has its validator in :mod:`immunesim.scenario.sections`; :func:`validate` calls them
in order and assembles a :class:`Scenario`: frozen data, every value in the model's units. Turning
it into a model and events is :mod:`immunesim.scenario.build`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..drugs.regimen import parse_therapies
from ..errors import ImmunesimError, problem_lines
from ..safe_yaml import read_yaml
from ..units import TIME_UNITS, time_unit
from ..validation import check_keys, clip, mapping, name_list
from . import sections
from .endpoints import CHALLENGE
from .sbml_source import (
    SBML_FIGURES,
    SBMLSource,
    default_readouts,
    dose_targets,
    names_sbml,
    population_data,
    scenario_path,
    validate_source,
)
from .sensitivity_spec import validate_sensitivity
from .strategy_spec import strategy_drugs
from .tissue import validate_tissue

TOP_KEYS = ("name", "description", "disease", "seed", "patient", "parameters", "initial", "time",
            "therapies", "arms", "compare", "treat_to_target", "solver", "outputs", "model",
            "tissue", "population", "trial", "sensitivity")


class ScenarioError(ImmunesimError, ValueError):
    """An invalid scenario; ``problems`` holds one readable line per problem."""

    def __init__(self, problems):
        self.problems = problem_lines(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: frozen data, every value converted to the model's units (time in
    days). It builds nothing itself: :func:`immunesim.scenario.build.scenario_model` and
    :func:`~immunesim.scenario.build.scenario_events` turn it into a model and its events."""

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
    sbml: SBMLSource | None = None   # an SBML model in place of the disease preset
    sensitivity: dict | None = None  # immunesim sensitivity (scenario.sensitivity_spec)
    source: dict = field(default_factory=dict, repr=False)
    pk_atol: float = sections.PK_ATOL_DEFAULT   # solver.pk_atol: the drugs' amounts (mg)

    @property
    def hash(self) -> str:
        """SHA-256 of the validated content (canonical JSON): equal for equivalent files."""
        content = {k: getattr(self, k) for k in (
            "disease", "seed", "covariates", "parameters", "initial", "times", "therapies",
            "solver", "variables", "readouts", "summary_times", "figures", "formats", "arms",
            "compare", "treat_to_target")}
        if self.drugs() or self.arm_drugs():   # their results depend on it; others hash as before
            content["solver"] = {**self.solver, "pk_atol": self.pk_atol}
        if self.model_kind != "ode":     # kept out otherwise: ODE scenario hashes unchanged
            content.update(model_kind=self.model_kind, tissue=self.tissue)
        if self.trial is not None:       # likewise: only trial scenarios hash these
            trial = dataclasses.asdict(self.trial)
            if trial["week"] == 7.0:     # days: hashes as before weeks could be other units
                del trial["week"]
            for key in ("clinical", "dropout", "published", "management"):   # hashed only where present
                if not trial[key]:
                    del trial[key]
            for ep in trial["endpoints"]:     # the default analysis hashes as before it existed
                if ep["analysis"] == "nri":
                    del ep["analysis"]
            if trial.get("dropout") and not trial["dropout"]["rescue"]:
                del trial["dropout"]["rescue"]
            content.update(population=self.population, trial=trial)
        if self.sensitivity is not None:  # only scenarios with the block hash it
            content.update(sensitivity=self.sensitivity)
        if self.sbml is not None:        # the file's content and the values set in it
            content.update(sbml={"sha256": self.sbml.sha256, "values": self.sbml.values})
        text = json.dumps(content, sort_keys=True, default=lambda o: dataclasses.asdict(o)
                          if dataclasses.is_dataclass(o) else list(o))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def body_weight(self) -> float:
        return float(self.covariates.get("body_weight", 70.0))

    @property
    def time_unit(self) -> str:
        """The unit of every time in the scenario: days, or an SBML model's time unit."""
        return self.sbml.time_unit if self.sbml is not None else "day"

    @property
    def title(self) -> str:
        """The name and what it runs, for figure titles."""
        what = f"SBML model {self.sbml.file_name}" if self.sbml is not None else self.disease
        return f"{self.name} ({what})"

    def arm_drugs(self) -> list[str]:
        """Every drug any arm may give (its therapies and its rules), in order of appearance."""
        if self.sbml is not None:
            return []
        out = [r.drug for r in self.population.background] if self.population is not None else []
        for spec in self.arms.values():
            out += [r.drug for r in spec["therapies"]]
            if spec["treat_to_target"]:
                out += strategy_drugs(spec["treat_to_target"])
        if self.trial is not None and self.trial.management is not None:
            out += [r.drug for r in self.trial.management.give]
        if self.trial is not None and self.trial.dropout is not None:
            out += [r.drug for _, regs in self.trial.dropout.rescue for r in regs]
        return list(dict.fromkeys(out))

    def drugs(self) -> list[str]:
        """Every drug the run may give: its therapies and those its rules may start."""
        if self.sbml is not None:
            return []
        extra = strategy_drugs(self.treat_to_target) if self.treat_to_target else []
        return list(dict.fromkeys([r.drug for r in self.therapies] + extra))


def validate(data: Any, *, origin: str = "scenario", base: Path | None = None,
             path: Path | None = None) -> Scenario:
    """Validate parsed scenario data section by section (:mod:`immunesim.scenario.sections`);
    :class:`ScenarioError` listing every problem. ``base``: the folder relative paths in it
    (an SBML ``model:``, ``population.from``) are read from (default: the working directory);
    ``path``: the file ``data`` was read from, if any (a chain of ``population.from`` that
    returns to it is a cycle)."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{origin}: expected a mapping of scenario fields at the top level, "
                            f"got {type(data).__name__}")
    check_keys(data, TOP_KEYS, "", problems)
    data = population_from(data, base, problems, (str(Path(path).resolve()),) if path else ())
    if names_sbml(data.get("model")):
        return _validate_sbml(data, origin, base, problems)
    disease, mdata = sections.disease(data.get("disease"), problems)
    name, description, seed = sections.identity(data, origin, problems)
    covariates = sections.patient(data.get("patient"), mdata, problems)
    parameters = sections.parameters(data.get("parameters"), disease, mdata, problems)
    initial = sections.initial(data.get("initial"), mdata, problems)
    times = sections.time(data.get("time"), disease, mdata, problems)
    therapies = tuple(parse_therapies(data.get("therapies", []), "therapies", times, problems))
    arms = sections.arms(data.get("arms"), mdata, times, problems)
    compare = sections.compare(data.get("compare"), arms, mdata, problems)
    solver = sections.solver(data.get("solver"), problems)
    pk_atol = solver.pop("pk_atol", sections.PK_ATOL_DEFAULT)
    outputs = mapping(data.get("outputs"), "outputs", problems)
    check_keys(outputs, sections.OUTPUT_KEYS, "outputs.", problems)
    strategy = sections.treat_to_target(data.get("treat_to_target"), mdata, times, problems)
    drugs = [r.drug for r in therapies] + (strategy_drugs(strategy) if strategy else [])
    variables, readouts = sections.outputs_variables(outputs, disease, mdata, drugs, covariates, problems)
    summary_times, times = sections.summary_times(outputs, times, problems)
    figures, formats = sections.figures_formats(outputs, problems)
    model_kind, tissue = validate_tissue(data.get("model"), data.get("tissue"), seed,
                                         times[-1] if times else None, problems)
    if model_kind != "ode" and (arms or strategy):
        problems.append(f"model: {model_kind} runs take therapies, not arms or treat_to_target")
    population, trial = sections.population_trial(data.get("population"), data.get("trial"), mdata,
                                                  arms, covariates, times, model_kind, problems,
                                                  clinical=sections.clinical_of(disease, mdata, problems))
    sens = None
    if "sensitivity" in data and mdata is not None:
        full = sections.coupled_data(mdata, drugs, covariates, [])   # listed once, above
        table = {p["name"]: (parameters.get(p["name"], p["value"]),
                             tuple(p.get("bounds", (0.0, float("inf")))))
                 for p in full["parameters"]}
        sens = validate_sensitivity(data["sensitivity"], table,
                                    {p["name"]: str(p.get("source", "")) for p in full["parameters"]},
                                    sections.variable_names(full), seed,
                                    times[-1] if times else None, problems)
        if model_kind != "ode":
            problems.append("sensitivity: runs on the ODE model (model: ode)")
    if problems:
        raise ScenarioError(problems)
    return Scenario(name=name, disease=disease, seed=seed, covariates=covariates,
                    parameters=parameters, initial=initial, times=times, therapies=therapies,
                    solver=solver, variables=variables or (), readouts=readouts,
                    summary_times=summary_times, figures=figures, formats=formats,
                    description=description, arms=arms, compare=compare, treat_to_target=strategy,
                    model_kind=model_kind, tissue=tissue, population=population, trial=trial,
                    sensitivity=sens, source=dict(data), pk_atol=pk_atol)


#: how many scenario files a chain of ``population.from`` references may pass through
MAX_POPULATION_FROM = 8


def population_from(data: Mapping, base: Path | None, problems: list, _chain: tuple = ()) -> Mapping:
    """``data`` with ``population.from`` resolved: the ``population`` block of the scenario file it
    names (relative to ``base``, the folder of the file that names it; default the working
    directory), with the keys given beside ``from`` in place of that block's own (so a scenario
    takes a calibrated population once written and changes, say, its background therapy). The
    named file may itself take its population ``from`` another, up to
    :data:`MAX_POPULATION_FROM` files; a cycle is refused. Problems are appended, each naming
    ``population.from``; the result never holds ``from``, so the scenario's stored source (its
    hash, a trial's resume check, the Dask workers) carries the population that was used."""
    pop = data.get("population")
    if not isinstance(pop, Mapping) or "from" not in pop:
        return data
    own = {k: v for k, v in pop.items() if k != "from"}
    ref = pop["from"]
    if not isinstance(ref, str) or not ref.strip():
        problems.append(f"population.from: expected the path of a scenario file (relative to this "
                        f"one), got {clip(ref)}")
        return {**data, "population": own}
    try:
        path = scenario_path(ref, base)
        key = str(path.resolve())
    except (OSError, ValueError, RuntimeError) as exc:
        problems.append(f"population.from: {clip(ref)}: not a usable path ({type(exc).__name__})")
        return {**data, "population": own}
    if key in _chain:
        problems.append(f"population.from: {ref}: a cycle of population references "
                        f"({' -> '.join(Path(c).name for c in (*_chain, key))})")
        return {**data, "population": own}
    if len(_chain) >= MAX_POPULATION_FROM:
        problems.append(f"population.from: {ref}: more than {MAX_POPULATION_FROM} files in a chain "
                        "of population references")
        return {**data, "population": own}
    try:
        other = read_yaml(path, ScenarioError, "scenario file")
    except ScenarioError as exc:
        problems += [f"population.from: {p}" for p in exc.problems]
        return {**data, "population": own}
    if not isinstance(other, Mapping) or not isinstance(other.get("population"), Mapping):
        problems.append(f"population.from: {ref}: has no population block to take")
        return {**data, "population": own}
    if _subject(other, path.parent) != _subject(data, base):
        problems.append(f"population.from: {ref}: its population is of {_subject(other, path.parent)}, "
                        f"this scenario's of {_subject(data, base)}")
        return {**data, "population": own}
    inner: list[str] = []
    other = population_from(other, path.parent, inner, (*_chain, key))
    problems += [f"population.from: {ref}: {p}" for p in inner]
    return {**data, "population": {**other["population"], **own}}


def _subject(data: Mapping, base: Path | None) -> str:
    """What a scenario's population is drawn for: its disease preset, or its SBML file."""
    model = data.get("model")
    if not names_sbml(model):
        return f"disease {clip(data.get('disease'))}"
    try:
        where = str(scenario_path(model, base).resolve())
    except (OSError, ValueError, RuntimeError):   # validate_source reports an unusable path
        where = model.strip()
    return f"the SBML model {clip(where)}"


def _validate_sbml(data: Mapping, origin: str, base: Path | None, problems: list) -> Scenario:
    """A scenario on an SBML model (:mod:`immunesim.scenario.sbml_source`): the sections that
    apply to any model, its times in the model's time unit, doses into its species."""
    source, model = validate_source(data, base, problems)
    name, description, seed = sections.identity(data, origin, problems)
    names = list(model.variable_names) if model is not None else None
    species = list(dose_targets(model)) if model is not None else []
    with time_unit(source.time_unit if source is not None else "1"):
        section = mapping(data.get("time"), "time", problems)
        if not {"end", "times"} & set(section):
            problems.append("time: an SBML model needs time.end (with output_every) or "
                            "time.times, in the model's time unit")
        times = sections.time(section, "", None, problems)
        therapies = tuple(parse_therapies(data.get("therapies", []), "therapies", times, problems,
                                          species=species))
        arms = sections.arms(data.get("arms"), None, times, problems, species=species)
        compare = sections.compare(data.get("compare"), arms, None, problems, names=names,
                                   unit=source.time_unit if source is not None else "1")
        solver = sections.solver(data.get("solver"), problems)
        if solver.pop("pk_atol", None) is not None:
            problems.append("solver.pk_atol: applies to the library drugs coupled to a disease "
                            "preset; an SBML model's doses go into its own species (use atol)")
        outputs = mapping(data.get("outputs"), "outputs", problems)
        check_keys(outputs, sections.OUTPUT_KEYS, "outputs.", problems)
        raw_figures = outputs.get("figures", list(SBML_FIGURES))
        figures = name_list([] if raw_figures is False else raw_figures, "outputs.figures",
                            SBML_FIGURES, problems, "figures") or ()
        _, formats = sections.figures_formats({**outputs, "figures": []}, problems)
        variables = readouts = None
        if names is not None:
            variables = name_list(outputs.get("variables"), "outputs.variables", names, problems,
                                  "variables")
            readouts = name_list(outputs.get("readouts"), "outputs.readouts", names, problems,
                                 "variables") or default_readouts(model)
        if "summary_times" in outputs or times is None:
            summary_times, times = sections.summary_times(outputs, times, problems)
        else:
            summary_times = (times[0], times[-1])
        population = trial = None
        if ("population" in data or "trial" in data) and model is not None:
            if source.time_unit not in TIME_UNITS:
                problems.append("trial: the SBML model declares no time unit, so the trial's "
                                "weeks cannot be placed (declare the model's timeUnits)")
            else:
                population, trial = sections.population_trial(
                    data.get("population"), data.get("trial"), population_data(model), arms, {},
                    times, "ode", problems, names=names, week=7.0 / TIME_UNITS[source.time_unit])
            for e in (trial.endpoints if trial is not None else ()):
                if e.kind == CHALLENGE:
                    problems.append(f"trial.endpoints.{e.name}: a pathogen challenge needs a "
                                    "disease preset")
        sens = None
        if "sensitivity" in data and model is not None:
            pdata = population_data(model)["parameters"]
            sens = validate_sensitivity(
                data["sensitivity"], {p["name"]: (p["value"], p["bounds"]) for p in pdata},
                {p.name: p.source for p in model.parameters}, names, seed,
                times[-1] if times else None, problems)
    if problems:
        raise ScenarioError(problems)
    return Scenario(name=name, disease="", seed=seed, covariates={}, parameters={}, initial={},
                    times=times, therapies=therapies, solver=solver, variables=variables or (),
                    readouts=readouts, summary_times=summary_times, figures=tuple(figures),
                    formats=formats, description=description, arms=arms, compare=compare,
                    population=population, sensitivity=sens,
                    trial=trial, sbml=source, source=dict(data))


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file; :class:`ScenarioError` with every problem."""
    path = Path(path)
    data = read_yaml(path, ScenarioError, "scenario file")
    try:
        return validate(data, origin=path.stem, base=path.parent, path=path)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {p}" for p in exc.problems]) from None
