"""How robust is a preset's documented state to its calibrated parameters?

Each disease preset documents the state it settles in (``chronic_state``: chronic RA activity,
healthy tolerance, MS relapses, ...) and reaches it with parameters whose sources say they were
calibrated. :func:`robustness` perturbs all of those jointly, each by an independent factor
uniform in ``[1 - spread, 1 + spread]``, runs the untreated preset from its documented start
to its ``t_end`` for every draw (one batched kernel), and reports the share of draws that
still meet every criterion of the documented state, and how often each criterion fails. A
state kept in only a small share of ±20 % draws hangs on a knife edge of its calibration.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..diseases.build import disease_model, preset
from ..diseases.readouts import chronic_check, counts
from ..simulate import simulate_batch


def calibrated_parameters(model) -> list[str]:
    """Parameters whose source says they were calibrated (as ``sensitivity: {calibrated: ...}``)."""
    return [p.name for p in model.parameters if "calibrat" in str(p.source).lower()]


def robustness(disease: str, n: int = 200, spread: float = 0.2, seed: int = 0,
               parameters=None, values=None) -> dict:
    """Share of ``n`` joint perturbations (factors uniform in ``1 ± spread``) of the preset's
    calibrated ``parameters`` (default: all) that keep its documented ``chronic_state``.
    ``values`` (``{name: value}``, optional) sets model parameters before perturbing, to
    measure a variant of the preset (a fit's candidate) the same way.

    Returns ``{disease, n, spread, seed, parameters, kept, failed_integrations, criteria}``,
    ``criteria`` mapping ``name.stat`` to the share of draws failing it (a failed integration
    counts as not kept)."""
    pr = preset(disease)
    model = disease_model(disease)
    names = list(parameters) if parameters is not None else calibrated_parameters(model)
    rng = np.random.default_rng([int(seed), n])
    base = model.parameter_vector()
    for name, value in (values or {}).items():
        if name not in model.parameter_index:
            raise ValueError(f"robustness: values: '{name}' is not a parameter of the "
                             f"'{disease}' model")
        base[model.parameter_index[name]] = float(value)
    P = np.tile(base, (n, 1))
    cols = [model.parameter_index[p] for p in names]
    P[:, cols] *= rng.uniform(1.0 - spread, 1.0 + spread, (n, len(cols)))
    t_end = float(pr["t_end"])
    step = 1.0 if pr.get("counts") else 7.0        # onsets are counted on a daily grid
    t = np.arange(0.0, t_end + 1e-9, step)
    if t[-1] < t_end:
        t = np.append(t, t_end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = simulate_batch(model, P, t, on_failure="flag")
    y = r.dataset["y"].values
    ok = np.asarray(r.ok)
    kept = np.zeros(n, bool)
    fails: dict[str, int] = {}
    for i in np.flatnonzero(ok):
        values = {v: y[i, :, k] for k, v in enumerate(model.variable_names)}
        values.update(counts(values, pr.get("counts")))
        rows = chronic_check(t, values, pr["chronic_state"])
        kept[i] = all(row["ok"] for row in rows)
        for row in rows:
            if not row["ok"]:
                key = f"{row['name']}.{row['stat']}"
                fails[key] = fails.get(key, 0) + 1
    return {"disease": disease, "n": n, "spread": spread, "seed": seed, "parameters": names,
            "kept": float(kept.mean()), "failed_integrations": int((~ok).sum()),
            "criteria": {k: v / n for k, v in sorted(fails.items())}}
