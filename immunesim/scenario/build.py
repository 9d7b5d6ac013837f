"""Turn a validated :class:`~immunesim.scenario.schema.Scenario` (pure data) into what the engine
runs: the disease model with the scenario's covariates and its drugs' pharmacokinetics coupled to
their targets, and the engine events of its doses."""

from __future__ import annotations

import numpy as np

from ..diseases.build import disease_model_data
from ..drugs.couple import couple, pk_amount_species
from ..drugs.regimen import regimen_events
from ..model import Model
from ..model.loader import model_from_dict
from .sbml_source import dose_events, sbml_model
from .schema import Scenario


def scenario_model(scenario: Scenario, drugs=None) -> Model:
    """The disease model with ``scenario``'s covariates and each drug's PK coupled to its target
    (parameter and initial-state overrides apply at simulation). ``drugs`` (default:
    ``scenario.drugs()``) may list more: a drug that is never dosed stays at zero concentration
    and leaves the disease model unchanged, so one model (one compiled kernel) can serve several
    arms (``scenario_model(sc, sc.arm_drugs())``). An SBML scenario's model is its SBML file
    with the scenario's values set in it."""
    if scenario.sbml is not None:
        return sbml_model(scenario.sbml)
    data = disease_model_data(scenario.disease, scenario.covariates)
    drugs = scenario.drugs() if drugs is None else list(drugs)
    if drugs:
        data = couple(data, drugs, scenario.body_weight)
    return model_from_dict(data, where=f"scenario '{scenario.name}'")


def scenario_events(scenario: Scenario) -> list:
    """The engine events of every dose of ``scenario``'s therapies (doses per kg use its body
    weight; an SBML scenario's doses go into its species)."""
    if scenario.sbml is not None:
        return dose_events(sbml_model(scenario.sbml), scenario.therapies)
    return regimen_events(scenario.therapies, scenario.body_weight)


def solver_options(scenario: Scenario, model: Model) -> dict:
    """The options of :func:`immunesim.simulate` for ``scenario`` run on ``model`` (its
    ``solver:`` block): ``atol`` per species where the model has coupled drugs, whose amounts
    (mg) get ``solver.pk_atol`` (:attr:`Scenario.pk_atol`) and every other species ``atol``."""
    opts = dict(scenario.solver)
    idx = pk_amount_species(model.species_names) if scenario.sbml is None else []
    if idx:     # atol is the solver block's number, or already per species where a trial's
        #         treat-to-target arm passes these options back in (cohort.chunk)
        atol = np.array(np.broadcast_to(np.asarray(opts["atol"], dtype=float), (len(model.species),)))
        atol[idx] = float(scenario.pk_atol)
        opts["atol"] = atol
    return opts
