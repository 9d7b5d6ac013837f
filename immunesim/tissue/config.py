"""Configuration of a tissue run: lattice, initial populations, influx, overrides (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ModelError
from ..validation import clip
from . import params as P
from .params import DEFAULT_DENSITY, DEFAULT_INFLUX


@dataclass(frozen=True, kw_only=True)
class TissueConfig:
    """A tissue patch: ``shape`` (rows, columns) of sites ``dx_um`` apart, stepped every
    ``dt_min`` minutes. ``density``/``influx`` per kind (agents per site; cells/day per
    1000 sites), ``rates``/``speeds`` override :mod:`immunesim.tissue.params`, ``focus``
    is the radius (sites) of an injured patch at the centre at t=0 (health ``focus_health``)
    that starts the autoimmune response, ``vessel_fraction`` the share of sites where cells
    enter. Influx is scaled by ``1 + recruit_max * CHEM/(CHEM + K_chem)`` of the mean
    chemokine (assumed: inflamed tissue recruits up to ~20x the resting influx through
    chemokine-activated endothelium)."""

    shape: tuple = (200, 200)
    dx_um: float = 10.0
    dt_min: float = 1.0
    density: dict = field(default_factory=lambda: dict(DEFAULT_DENSITY))
    influx: dict = field(default_factory=lambda: dict(DEFAULT_INFLUX))
    rates: dict = field(default_factory=dict)
    speeds: dict = field(default_factory=dict)
    diffusion: dict = field(default_factory=dict)
    focus: float = 10.0
    focus_health: float = 0.3
    vessel_fraction: float = 0.02
    recruit_max: float = 20.0
    seed: int = 0

    def __post_init__(self):
        problems = []
        sh = self.shape
        if (not isinstance(sh, (tuple, list)) or len(sh) != 2
                or not all(isinstance(v, int) and v >= 3 for v in sh)):
            problems.append(f"shape: expected (rows, columns), integers >= 3, got {clip(sh)}")
        for name, lo, hi in (("dx_um", 1.0, 100.0), ("dt_min", 1e-3, 60.0),
                             ("focus_health", 0.0, 1.0), ("vessel_fraction", 1e-6, 1.0), ("recruit_max", 0.0, 1e4)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                problems.append(f"{name}: expected a number in [{lo:g}, {hi:g}], got {clip(v)}")
        if not isinstance(self.focus, (int, float)) or self.focus < 0:
            problems.append(f"focus: expected a radius >= 0 sites, got {clip(self.focus)}")
        for what in ("density", "influx", "speeds"):
            d = getattr(self, what)
            for k, v in d.items():
                if k not in P.KINDS:
                    problems.append(f"{what}.{k}: not a cell kind; one of {', '.join(P.KINDS)}")
                elif not isinstance(v, (int, float)) or v < 0:
                    problems.append(f"{what}.{k}: expected a number >= 0, got {clip(v)}")
        for k, v in self.diffusion.items():
            if k not in P.FIELDS:
                problems.append(f"diffusion.{k}: not a field; one of {', '.join(P.FIELDS)}")
            elif not isinstance(v, (int, float)) or v < 0:
                problems.append(f"diffusion.{k}: expected um^2/s >= 0, got {clip(v)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            problems.append(f"seed: expected an integer 0 <= seed < 2**63, got {clip(self.seed)}")
        try:
            P.rate_vector(self.rates)
        except ModelError as exc:
            problems.append(str(exc))
        if problems:
            raise ModelError(problems)

    @property
    def dt_day(self) -> float:
        return self.dt_min / 1440.0
