"""Files of ``immunesim compare``: ``arms.csv``, ``comparison.json``, ``arms.png`` and
``manifest.json`` (last); what each holds is in :mod:`immunesim.scenario.compare`."""

from __future__ import annotations

import json
import time
from typing import Callable

from ..durable import write_csv, write_text_atomic
from ..plot.compare import write_comparison_figure
from ..scenario.compare import Comparison, compare
from ..scenario.schema import Scenario
from . import begin_outputs, to_json, write_manifest

OUTPUTS = ("arms.csv", "arms.png", "comparison.json")


def compare_arms(scenario: Scenario, outdir, *, scenario_file=None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Run every arm of ``scenario`` (:func:`immunesim.compare`) and write the comparison;
    returns the manifest (``status`` 3 when an arm failed; its row is written all the same)."""
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    if scenario.arms:          # (without arms, compare() says so and nothing is touched)
        begin_outputs(outdir)  # before simulating: a killed run leaves no manifest at all
    cmp = compare(scenario, progress=say)
    write_comparison(cmp, outdir)
    n = len(cmp.rows)
    manifest = write_manifest(
        outdir, "compare", status=3 if cmp.failures else 0,
        message=(f"{len(cmp.failures)} of {n} arms failed" if cmp.failures else f"{n} arms compared"),
        outputs=OUTPUTS, started=started, seed=scenario.seed, scenario=scenario,
        scenario_file=scenario_file, arms=list(scenario.arms), outcome=cmp.outcome,
        failures=cmp.failures)
    say(f"done in {manifest['wall_s']:.2f} s")
    return manifest


def write_comparison(cmp: Comparison, outdir) -> None:
    """The comparison's files but the manifest."""
    outdir = begin_outputs(outdir)
    write_csv(outdir / "arms.csv", cmp.rows)
    write_text_atomic(outdir / "comparison.json",
                      json.dumps({"outcome": cmp.outcome, "arms": cmp.rows, "synergy": cmp.synergy},
                                 indent=2, default=to_json) + "\n")
    write_comparison_figure(cmp.times, cmp.curves, cmp.outcome, outdir / "arms.png", cmp.title,
                            time_unit=cmp.scenario.time_unit)
