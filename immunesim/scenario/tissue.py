"""The ``model`` and ``tissue`` fields of a scenario (agent-based and hybrid runs)::

    model: hybrid                 # ode (default) | abm | hybrid
    tissue:
      shape: [200, 200]           # rows, columns of lattice sites
      dx: "10 um"                 # site spacing (default 10 um)
      dt: "1 min"                 # tissue step (default 1 min)
      density: {Th1: 0.01}        # initial agents per site, per kind
      influx: {Th1: 1.0}          # cells/day per 1000 sites at rest, per kind
      parameters: {th_act: 24}    # rule parameters (immunesim.tissue.params.RATES units)
      speeds: {Th1: 10}           # um/min
      diffusion: {TNF: 10}        # um^2/s
      focus: 10                   # radius (sites) of the injured patch that starts the response
      focus_health: 0.3
      vessel_fraction: 0.02
      recruit_max: 20
      exchange_every: "6 h"       # hybrid: ODE <-> tissue exchange interval
      snapshot_every: "1 d"       # lattice snapshots (PNG each, and the animation)
      field: TNF                  # cytokine shown as the heat map
      animation: gif              # gif | none
"""

from __future__ import annotations

from typing import Mapping

from ..errors import ModelError
from ..limits import MAX_SNAPSHOTS, MAX_TISSUE_SITES, MAX_TISSUE_STEPS
from ..tissue import params as P
from ..tissue.config import TissueConfig
from ..tissue.params import DEFAULT_DENSITY, DEFAULT_INFLUX
from ..units import UnitProblem, to_unit
from ..validation import check_keys, clip

#: summary.csv columns of an abm run
ABM_READOUTS = ("health_mean", "damaged_fraction", "dead_fraction", "Th1_active", "Th17_active",
                "Treg", "B", "Plasma", "Mac_active", "TNF_mean", "IL6_mean", "IL2_mean")

MODELS = ("ode", "abm", "hybrid")
TISSUE_KEYS = ("shape", "dx", "dt", "density", "influx", "parameters", "speeds", "diffusion",
               "focus", "focus_health", "vessel_fraction", "recruit_max", "exchange_every",
               "snapshot_every", "field", "animation")
ANIMATIONS = ("gif", "none")


def validate_tissue(model_kind, raw, seed: int, end_day: float | None, problems: list) -> tuple:
    """(model kind, tissue options dict or {}); problems appended with field paths."""
    kind = "ode" if model_kind is None else model_kind
    if kind not in MODELS:
        problems.append(f"model: {clip(model_kind)} is not allowed; one of {', '.join(MODELS)}, "
                        "or an SBML file (.xml) in place of disease")
        return "ode", {}
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.append(f"tissue: expected a mapping of tissue options, got {clip(raw)}")
        return kind, {}
    if kind == "ode":
        if raw:
            problems.append("tissue: only used with model: abm or model: hybrid")
        return kind, {}
    check_keys(raw, TISSUE_KEYS, "tissue.", problems)
    cfg = {"seed": seed}
    shape = raw.get("shape", [200, 200])
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 3 <= v <= 20000 for v in shape)):
        problems.append(f"tissue.shape: expected [rows, columns], integers 3-20000, got {clip(shape)}")
    else:
        cfg["shape"] = tuple(shape)

    def quantity(key, unit, default):
        try:
            return to_unit(raw.get(key, default), unit)
        except UnitProblem as exc:
            problems.append(f"tissue.{key}: {exc}")
            return None

    dx = quantity("dx", "um", "10 um")
    dt = quantity("dt", "min", "1 min")
    if dx is not None:
        cfg["dx_um"] = dx
    if dt is not None:
        cfg["dt_min"] = dt
    for key in ("density", "influx", "speeds", "diffusion"):
        if key in raw:
            if not isinstance(raw[key], Mapping):
                problems.append(f"tissue.{key}: expected a mapping, got {clip(raw[key])}")
            else:
                cfg[key] = dict(raw[key])
    if "density" in cfg:
        cfg["density"] = {**DEFAULT_DENSITY, **cfg["density"]}
    if "influx" in cfg:
        cfg["influx"] = {**DEFAULT_INFLUX, **cfg["influx"]}
    if "parameters" in raw:
        if not isinstance(raw["parameters"], Mapping):
            problems.append(f"tissue.parameters: expected a mapping, got {clip(raw['parameters'])}")
        else:
            cfg["rates"] = dict(raw["parameters"])
    for key in ("focus", "focus_health", "vessel_fraction", "recruit_max"):
        if key in raw:
            cfg[key] = raw[key]
    opts = {"exchange_every": 0.25, "snapshot_every": None, "field": "TNF", "animation": "gif"}
    for key, default in (("exchange_every", "6 h"), ("snapshot_every", None)):
        if key in raw or default is not None:
            v = quantity(key, "day", raw.get(key, default))
            if v is not None:
                if v <= 0:
                    problems.append(f"tissue.{key}: must be a positive time, got {clip(raw.get(key))}")
                else:
                    opts[key] = v
    if opts["snapshot_every"] is None and end_day:
        opts["snapshot_every"] = end_day / 8.0
    if "shape" in cfg and cfg["shape"][0] * cfg["shape"][1] > MAX_TISSUE_SITES:
        problems.append(f"tissue.shape: {cfg['shape'][0]} x {cfg['shape'][1]} sites; at most "
                        f"{MAX_TISSUE_SITES} (4000 x 4000) allowed")
    if end_day and cfg.get("dt_min") and end_day * 1440.0 / cfg["dt_min"] > MAX_TISSUE_STEPS:
        problems.append(f"tissue.dt: {end_day:g} days in steps of {cfg['dt_min']:g} min is "
                        f"{end_day * 1440.0 / cfg['dt_min']:.3g} steps; at most {MAX_TISSUE_STEPS}")
    if cfg.get("dt_min") and opts["exchange_every"] * 1440.0 < cfg["dt_min"]:
        problems.append(f"tissue.exchange_every: {clip(raw.get('exchange_every'))} is shorter than "
                        f"one tissue step ({cfg['dt_min']:g} min)")
    if end_day and opts["snapshot_every"] and end_day / opts["snapshot_every"] > MAX_SNAPSHOTS:
        problems.append(f"tissue.snapshot_every: {end_day / opts['snapshot_every']:.3g} snapshots; "
                        f"at most {MAX_SNAPSHOTS} allowed")
    field = raw.get("field", "TNF")
    if field not in P.FIELDS:
        problems.append(f"tissue.field: {clip(field)} is not a field; one of {', '.join(P.FIELDS)}")
    else:
        opts["field"] = field
    anim = raw.get("animation", "gif")
    if anim not in ANIMATIONS:
        problems.append(f"tissue.animation: {clip(anim)} is not allowed; one of {', '.join(ANIMATIONS)}")
    else:
        opts["animation"] = anim
    try:
        TissueConfig(**cfg)
    except ModelError as exc:
        problems += [f"tissue.{p}" if not p.startswith("tissue") else p for p in exc.problems]
    except TypeError as exc:
        problems.append(f"tissue: {exc}")
    return kind, {"config": cfg, **opts}


def tissue_config(options: dict):
    return TissueConfig(**options["config"])
