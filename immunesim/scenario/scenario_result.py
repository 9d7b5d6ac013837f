"""What running a scenario gives back in memory: its trajectories and what the run decided."""

from __future__ import annotations

from ..result import Result


class ScenarioResult(Result):
    """A scenario's run (:func:`immunesim.run`): a :class:`~immunesim.Result` holding every
    variable over the scenario's times, with the scenario's name, hash, seed and disease in
    its attributes (made from the run's dataset or its :class:`~immunesim.Result`), and

    - ``scenario``: the :class:`~immunesim.scenario.Scenario` that was run, with ``seed``;
    - ``model``: the ODE model (None for ``model: abm``);
    - ``readouts``: the names of the summary table's columns;
    - ``counts``: onset counts (integer series) of the preset's count readouts, by name;
    - ``decisions``: a treat-to-target run's decisions (time, rule, action, readout, value);
    - ``time_to_flare_days``: a treat-to-target run's first flare (None without one);
    - ``chronic_state``: each check of the preset's documented characteristic state;
    - ``simulation_wall_s``: seconds spent simulating;
    - ``tissue``: a tissue run's lattice, step and exchange interval (None for ODE runs).
    """

    def __init__(self, dataset, *, scenario, seed: int, model=None, readouts=(), counts=None,
                 decisions=(), time_to_flare_days=None, chronic_state=(), simulation_wall_s=0.0,
                 tissue=None):
        super().__init__(dataset)
        self.scenario = scenario
        self.seed = seed
        self.model = model
        self.readouts = tuple(readouts)
        self.counts = dict(counts or {})
        self.decisions = list(decisions)
        self.time_to_flare_days = time_to_flare_days
        self.chronic_state = list(chronic_state)
        self.simulation_wall_s = simulation_wall_s
        self.tissue = tissue
