"""Scenarios on an SBML model: ``model: path/to/model.xml`` in place of ``disease:``.

::

    name: my-model
    model: models/receptor.xml          # an SBML file, relative to the scenario file
    parameters: {kon: 0.02, V_cell: 2}  # SBML ids: a parameter's value, a compartment's size
    initial: {L: 5}                     # SBML species ids: initial value (the species' symbol:
                                        #   concentration unless hasOnlySubstanceUnits)
    time: {end: 600, output_every: 5}   # in the model's time unit
    therapies:                          # doses into the model's species
      - {species: L, amount: 2, every: 120, count: 4}            # boluses of substance
      - {species: L, amount: 10, duration: 60, start: 300}       # infused over 60 time units
    arms:                               # `immunesim compare`: arms of species doses
      none: []
      weekly: [{species: L, amount: 2, every: 120, count: 4}]
    compare: {outcome: RL, times: [300, 600]}
    outputs: {variables: [L, RL], readouts: [RL], formats: [csv]}

How the SBML file is read (and what is refused) is :func:`immunesim.model.sbml.load_sbml`.

- **Values** are numbers in the SBML model's own units; parameter and initial overrides are
  set in the SBML document before it is imported, so initial assignments and rules that read
  them see them (an id that an initial assignment or assignment rule sets is refused).
- **Time** is the model's time unit (its ``timeUnits``): plain numbers are in it; a time with
  a unit (``"2 h"``) is converted where the model declares second, minute, hour or day, and
  refused where it declares none.
- **Doses** add ``amount`` of substance (the model's substance unit) to a species' amount: a
  species whose concentration is the state gets ``amount / size`` of its compartment, which
  must then be of fixed size. Species that are constant, boundary species without rules, or set
  by an assignment rule cannot be dosed (nothing integrates them).
- **Trials** (``population``, ``trial``, ``arms``) work as on a preset, with the arms' doses into
  species, population parameters drawn around the model's values, endpoints on its variables,
  and weeks of 7 days in the model's time unit (a model that declares none cannot place them).
  Each patient's start is evaluated with its drawn values, so initial assignments that read a
  drawn parameter follow it (:meth:`SBMLModel.start`; models with fast reactions or rateOf,
  whose start cannot be re-evaluated, refuse a drawn parameter that feeds an initial value).
- ``run`` draws ``trajectories.png`` (one panel per output variable, the first eight);
  ``outputs.figures: []`` draws nothing.
- Not for SBML models (refused, saying so): ``disease``, ``patient``, ``treat_to_target``,
  the presets' figures, pathogen challenges, population covariates and ``regimen_search``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..events import Bolus, Infusion
from ..model.sbml import MAX_SBML_BYTES, SBMLModel, load_sbml
from ..validation import clip, did_you_mean, finite, mapping

#: file name endings that make ``model:`` name an SBML file
SUFFIXES = (".xml", ".sbml")
#: the figures of an SBML model's run (``outputs.figures``; default: all)
SBML_FIGURES = ("trajectories",)
_MODELS: dict = {}      # (sha256, values) -> SBMLModel: compare and repeated runs import once


def scenario_path(text: str, base: Path | None) -> Path:
    """A file named in a scenario (an SBML ``model:``, ``population.from``): ``~`` expanded, and
    relative to ``base``, the scenario's folder, unless absolute (default: the working directory)."""
    path = Path(text.strip()).expanduser()
    return base / path if base is not None and not path.is_absolute() else path


def names_sbml(raw) -> bool:
    """Whether a scenario's ``model:`` value names an SBML file."""
    return isinstance(raw, str) and raw.strip().lower().endswith(SUFFIXES)


@dataclass(frozen=True)
class SBMLSource:
    """The SBML model of a scenario: its file (absolute path and SHA-256 when validated), the
    scenario's values set in it (sorted ``(id, value)`` pairs) and its time unit."""

    path: str
    sha256: str
    values: tuple = ()
    time_unit: str = "1"

    @property
    def file_name(self) -> str:
        return Path(self.path).name


def sbml_model(source: SBMLSource) -> SBMLModel:
    """The imported model with the scenario's values (imports cached per process; the file is
    checked against the validated content every time)."""
    key = (source.sha256, source.values)
    data = _read(Path(source.path))
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise ModelError(f"model: {source.path} changed since the scenario was validated; "
                         "validate it again")
    if key not in _MODELS:
        if len(_MODELS) >= 8:
            _MODELS.clear()
        _MODELS[key] = load_sbml(data.decode("utf-8", "replace"), values=dict(source.values))
    return _MODELS[key]


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise ModelError(f"model: {path} is not a file")
    if path.stat().st_size > MAX_SBML_BYTES:
        raise ModelError(f"model: {path} is {path.stat().st_size} bytes; at most {MAX_SBML_BYTES}")
    return path.read_bytes()


def validate_source(data, base: Path | None, problems: list) -> tuple[SBMLSource | None, SBMLModel | None]:
    """The scenario's SBML model with its ``parameters`` and ``initial`` set, validated; (None,
    None) with problems appended where it cannot be had."""
    for key in ("disease", "patient", "treat_to_target"):
        if key in data:
            problems.append(f"{key}: not used with an SBML model (model: {clip(data['model'])})")
    population = data.get("population") if isinstance(data.get("population"), dict) else {}
    for key in ("covariates", "covariate_effects"):
        if key in population:
            problems.append(f"population.{key}: covariates describe a disease preset's patients; "
                            "an SBML model's population varies its parameters")
    trial = data.get("trial") if isinstance(data.get("trial"), dict) else {}
    if "regimen_search" in trial:
        problems.append("trial.regimen_search: searches drug regimens of a disease preset")
    path = scenario_path(data["model"], base)
    try:
        raw = _read(path)
        model = load_sbml(raw.decode("utf-8", "replace"))
    except ModelError as exc:
        problems += [f"model: {path.name}: {p}" for p in exc.problems]
        return None, None
    except (OSError, UnicodeError) as exc:
        problems.append(f"model: {path}: cannot be read ({type(exc).__name__})")
        return None, None
    values = {}
    symbols = model.sbml.symbols
    for section, kinds in (("parameters", ("parameter", "compartment")), ("initial", ("species",))):
        for key, v in mapping(data.get(section), section, problems).items():
            sym = symbols.get(key)
            if sym is None or sym.kind not in kinds:
                ids = [s.id for s in symbols.values() if s.kind in kinds]
                problems.append(f"{section}.{key}: not a {' or '.join(kinds)} id of the SBML "
                                f"model; {did_you_mean(str(key), ids, 'see immunesim sbml info')}")
                continue
            f = finite(v)
            if f is None or isinstance(v, bool) or (section == "initial" and f < 0):
                problems.append(f"{section}.{key}: expected a {'number >= 0' if section == 'initial' else 'finite number'} "
                                f"in the SBML model's units{f' ({sym.units})' if sym.units else ''}, got {clip(v)}")
                continue
            values[key] = f
    if values:
        try:
            model = load_sbml(raw.decode("utf-8", "replace"), values=values)
        except ModelError as exc:
            for p in exc.problems:
                sid = p.split("'")[1] if p.startswith("'") else ""
                section = "initial" if symbols.get(sid) and symbols[sid].kind == "species" else "parameters"
                problems.append(f"{section}.{sid}: {p.split(': ', 1)[-1]}" if sid else f"model: {p}")
            return None, None
    drawn = population.get("parameters")
    if isinstance(drawn, dict):
        _check_drawn(raw, model, values, list(drawn), problems)
    source = SBMLSource(path=str(path.resolve()), sha256=hashlib.sha256(raw).hexdigest(),
                        values=tuple(sorted(values.items())), time_unit=model.time_unit)
    _MODELS[(source.sha256, source.values)] = model
    return source, model


def patient_starts(model: SBMLModel, P: np.ndarray, drawn: list) -> tuple[np.ndarray, np.ndarray, dict]:
    """Each patient's initial state and parameters with its drawn parameters (model names) set
    in the SBML model's start (:meth:`~immunesim.model.sbml.SBMLModel.start`: initial
    assignments that read them re-evaluated); and, by row, why a start could not be had (a
    value that is not finite there: the patient is rejected)."""
    ids = {s.name: s.id for s in model.sbml.symbols.values()}
    cols = [(ids[name], model.parameter_index[name]) for name in drawn]
    Y0 = np.full((P.shape[0], len(model.species)), np.nan)
    P = P.copy()
    failed = {}
    for i in range(P.shape[0]):
        try:
            Y0[i], P[i] = model.start({sid: P[i, k] for sid, k in cols})
        except ModelError as exc:
            failed[i] = f"start: {exc.problems[0]}"
    return Y0, P, failed


def _check_drawn(raw: bytes, model: SBMLModel, values: dict, drawn: list, problems: list) -> None:
    """Population parameters must be plain parameters; where the model's start cannot be
    re-evaluated per patient (fast reactions, rateOf), also ones no initial value depends on.
    Checked by importing again with the parameter changed."""
    if model.start_recipe is not None:
        return
    symbols = model.sbml.symbols
    base_y, base_p = model.initial_vector(None), model.parameter_vector(None)
    for name in drawn:
        sym = symbols.get(name)
        if sym is None or sym.kind != "parameter" or sym.role != "parameter":
            continue            # validate_population names it (not a parameter of the model)
        k = model.parameter_index[sym.name]
        probe = load_sbml(raw.decode("utf-8", "replace"),
                          values={**values, name: 1.5 * base_p[k] + 1.0})
        y, p = probe.initial_vector(None), probe.parameter_vector(None)
        p[k] = base_p[k]
        if not (np.array_equal(y, base_y) and np.array_equal(p, base_p)):
            problems.append(f"population.parameters.{name}: the SBML model's initial values depend "
                            "on it (an initial assignment or rule reads it), and a patient's "
                            "parameters are drawn after import; vary what it sets instead, or "
                            "set it for the whole scenario under parameters")


def population_data(model: SBMLModel) -> dict:
    """The model data a population is validated against: the SBML parameters that are plain
    constants (not compartments, not set by rules or events)."""
    return {"parameters": [
        {"name": s.name, "unit": s.units or "1", "bounds": (-np.inf, np.inf),
         "value": model.parameters[model.parameter_index[s.name]].value}
        for s in model.sbml.symbols.values() if s.kind == "parameter" and s.role == "parameter"]}


def dose_targets(model: SBMLModel) -> dict[str, tuple[str, float]]:
    """Species that can be dosed: SBML id -> (the state a dose goes into, the factor an amount
    of substance is multiplied by to give that state's change)."""
    out = {}
    for sid, sym in model.sbml.symbols.items():
        if sym.kind != "species":
            continue
        if sym.amount is not None and sym.amount in model.species_index:
            out[sid] = (sym.amount, 1.0)
        elif sym.role == "state" and sym.name in model.species_index:
            if sym.only_substance:
                out[sid] = (sym.name, 1.0)
            elif sym.compartment in model.parameter_index:     # a compartment of fixed size
                size = model.parameters[model.parameter_index[sym.compartment]].value
                if size > 0:
                    out[sid] = (sym.name, 1.0 / size)
    return out


def dose_events(model: SBMLModel, doses) -> list:
    """Engine events of :class:`~immunesim.drugs.regimen.SpeciesDose` entries."""
    targets = dose_targets(model)
    out = []
    for d in doses:
        if d.species not in targets:
            raise ModelError(f"species '{d.species}' cannot be dosed (constant, a boundary "
                             "species without rules, set by a rule, or in a compartment whose "
                             "size changes)")
        state, factor = targets[d.species]
        for t in d.dose_times():
            if d.duration:
                out.append(Infusion(start=t, duration=d.duration, target=state,
                                    rate=d.amount * factor / d.duration))
            else:
                out.append(Bolus(time=t, target=state, amount=d.amount * factor))
    return out


def default_readouts(model: SBMLModel) -> tuple[str, ...]:
    """The summary table's columns by default: the SBML ids a time course reports (every species
    that can change, then every parameter and compartment a rule or event changes)."""
    names = set(model.variable_names)
    return tuple(model.sbml.symbols[s].name for s in model.sbml.reported()
                 if model.sbml.symbols[s].name in names)
