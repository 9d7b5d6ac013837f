"""Parameters of the agent-based tissue model, each with its unit and source.

Every value is given in the unit a modeler would look up (speeds in um/min, diffusion in
um^2/s, secretion in molecules/cell/s or pg/cell/day) and converted here, once, to the
kernels' units: time in days, lengths in lattice sites, concentrations in pg/mL of the
interstitial volume of one site (``dx**3``; a 10 um site holds 1e-9 mL, so one pg secreted
into it is 1e9 pg/mL before it spreads).

The lattice is one layer of tissue cells, ``dx`` apart: a 2D slab, so a cytokine spreads
in plane only. Several immune agents may share a site (they crawl over and between the
parenchymal cells); "contact" means the same site, and the contact neighbourhood of a site
is the 3x3 block around it.

Sources: a DOI or a label where a number was measured; "assumed" with the reason otherwise.
Most rate constants of the tissue rules are assumed: their literature is qualitative (what
suppresses what) more often than quantitative. Their role is stated next to each, and the
tests check the behaviours that matter (Treg removal raises damage, TNF blockade lowers
it, the well-mixed limit agrees with the mean-field ODE of the same rules).
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..kernels import tissue_layout as K
from ..validation import did_you_mean

AVOGADRO = 6.02214076e23
MW_KDA = {"TNF": 52.0, "IL6": 21.0, "IL2": 15.5, "IL10": 37.0, "IFNg": 34.0, "IL17": 35.0, "CHEM": 8.0}
FIELDS = ("TNF", "IL6", "IL2", "IL10", "IFNg", "IL17", "CHEM")
KINDS = ("Th1", "Th17", "Treg", "B", "Plasma", "Mac", "DC")
STATES = ("rest", "active", "exhausted")

#: name -> (value, unit, source): one entry per name of the kernels' rate layout
#: (``tissue_agents.RATE_NAMES``); :func:`rate_vector` places each value by name.
RATES = {
    "th_act": (24.0, "1/day per APC in 3x3", "assumed: activation within ~1 h of contact with a presenting cell (Mempel, Henrickson & von Andrian 2004, doi:10.1038/nature02238: stable contacts within hours)"),
    "th_deact": (0.5, "1/day", "assumed: effectors return to rest over days without antigen"),
    "th_prolif": (3.0, "1/day", "assumed: one division per ~8 h at full IL-2 signal, as in clonal expansion"),
    "th_exh": (0.05, "1/day", "assumed: exhaustion under chronic stimulation over weeks"),
    "th_death": (0.1, "1/day", "assumed: effector T-cell lifetime ~10 days in tissue"),
    "exh_death": (0.3, "1/day", "assumed: exhausted cells die within days"),
    "treg_act": (2.0, "1/day", "assumed: Treg activation by IL-2 (STAT5) within a day"),
    "treg_deact": (0.5, "1/day", "assumed: as effectors"),
    "treg_prolif": (1.0, "1/day", "assumed: IL-2-driven Treg expansion, slower than effectors"),
    "treg_death": (0.1, "1/day", "assumed: as effectors"),
    "b_act": (2.0, "1/day per active Th in 3x3", "assumed: cognate T help activates a B cell within a day"),
    "b_prolif": (1.0, "1/day", "assumed: activated B-cell division ~daily under T help"),
    "b_to_pc": (0.1, "1/day", "assumed: plasma-cell differentiation over ~10 days (doubled by IL-6)"),
    "b_death": (0.05, "1/day", "assumed: B-cell lifetime weeks"),
    "pc_death": (0.02, "1/day", "assumed: tissue plasma cells live ~50 days (long-lived cells longer)"),
    "mac_act": (4.0, "1/day", "assumed: M1 activation by IFN-gamma/TNF within hours"),
    "mac_deact": (0.5, "1/day", "assumed: return to rest over days, faster with IL-10"),
    "mac_death": (0.05, "1/day", "assumed: tissue macrophages live weeks"),
    "dc_lic": (2.0, "1/day per unit of tissue damage", "assumed: DCs take up antigen from injured cells within a day"),
    "dc_emig": (1.0, "1/day", "assumed: licensed DCs leave for the draining lymph node within ~1 day"),
    "dc_death": (0.1, "1/day", "assumed: tissue DC lifetime ~10 days"),
    "K_sup": (2.0, "active Tregs in 3x3", "assumed: two active Tregs around halve an effector's function (contact suppression, CTLA-4)"),
    "K_IL2": (1550.0, "pg/mL", "assumed: ~100 pM for effectors with intermediate CD25 (high-affinity IL-2R Kd ~10 pM, Wang & Smith 1987, doi:10.1084/jem.166.4.1055)"),
    "K_IL2_treg": (155.0, "pg/mL", "high-affinity IL-2R Kd ~10 pM on CD25-high Tregs (Wang & Smith 1987, doi:10.1084/jem.166.4.1055), 15.5 kDa"),
    "K_IL10": (3700.0, "pg/mL", "assumed: ~100 pM, IL-10 receptor Kd order (37 kDa dimer)"),
    "K_IFN": (3400.0, "pg/mL", "assumed: ~100 pM, IFN-gamma receptor Kd order (34 kDa dimer)"),
    "K_TNF": (5200.0, "pg/mL", "assumed: ~100 pM, TNFR1 Kd order (52 kDa trimer)"),
    "K_IL6": (2100.0, "pg/mL", "assumed: ~100 pM, IL-6R/gp130 Kd order (21 kDa)"),
    "K_chem": (800.0, "pg/mL", "assumed: ~100 pM, chemokine receptor Kd order (8 kDa)"),
    "contact": (2.0, "1/day per active effector", "assumed: below the 2-16 kills/day of cytotoxic T cells in vivo (Halle et al. 2016, doi:10.1016/j.immuni.2016.01.010), as Th1/Th17 injure through their partners"),
    "tnf_dmg": (0.1, "1/day", "assumed: TNF-driven injury at saturation (TNF is cytotoxic to few parenchymal cells)"),
    "K_tnf_dmg": (5200.0, "pg/mL", "assumed: as K_TNF"),
    "ab_dmg": (0.2, "1/day", "assumed: complement injury by immune complexes at saturation"),
    "K_ab": (1.0, "deposit units", "definition: the deposit unit is the half-maximal one"),
    "repair": (0.05, "1/day", "assumed: injured parenchyma recovers over ~2-3 weeks"),
    "clear": (2.0, "1/day per macrophage", "assumed: efferocytosis of a dead cell within hours of contact"),
    "regen": (0.1, "1/day", "assumed: regeneration of a cleared site over ~1-2 weeks"),
    "h_damaged": (0.7, "1", "assumed: health below which a cell counts as damaged"),
    "ab_sys": (0.02, "deposit units/day per systemic autoantibody unit", "assumed: deposition of circulating autoantibody (hybrid runs)"),
    "ab_pc": (0.5, "deposit units/day per plasma cell", "assumed: local autoantibody from plasma cells in the tissue"),
    "ab_clear": (0.1, "1/day", "assumed: immune-complex clearance over ~10 days"),
    "upt_treg": (1.43e4, "1/day per Treg on the site", "~1e4 high-affinity IL-2R per CD25-high Treg (Busse et al. 2010, doi:10.1073/pnas.0909789107) x kon ~1e7 /M/s in one 1000 um^3 site"),
    "upt_eff": (4.8e3, "1/day per active effector on the site", "assumed: a third of the Treg's IL-2 uptake (fewer CD25)"),
    "K_IL17": (3500.0, "pg/mL", "assumed: ~100 pM; IL-17 doubles stromal IL-6/chemokine at this level"),
    "capacity": (2.0, "immune cells per site", "assumed: crowding stops division at ~2 immune cells per parenchymal cell (dense infiltrates)"),
}
if set(RATES) != set(K.RATE_NAMES):   # a programming error, caught at import
    raise ImportError(f"tissue RATES and the kernel's RATE_NAMES differ: {sorted(set(RATES) ^ set(K.RATE_NAMES))}")

#: per kind: (speed um/min, chemotactic sensitivity, source)
MOTILITY = {
    "Th1": (10.0, 5.0, "T cells ~11 um/min (Miller et al. 2002, doi:10.1126/science.1070051); chemotaxis assumed"),
    "Th17": (10.0, 5.0, "as Th1 (Miller et al. 2002, doi:10.1126/science.1070051)"),
    "Treg": (10.0, 5.0, "as Th1 (Miller et al. 2002, doi:10.1126/science.1070051)"),
    "B": (6.0, 2.0, "B cells ~6 um/min (Miller et al. 2002, doi:10.1126/science.1070051); chemotaxis assumed"),
    "Plasma": (0.0, 0.0, "plasma cells settle in the tissue (assumed immobile)"),
    "Mac": (2.0, 5.0, "assumed: tissue macrophages crawl ~1-3 um/min"),
    "DC": (3.0, 2.0, "assumed: interstitial DCs ~3 um/min (Lindquist et al. 2004, doi:10.1038/ni1058)"),
}

#: secretion by one cell of a class, molecules/cell/s (class -> {field: rate})
SECRETION = {
    ("Th1", "active"): {"IFNg": 5.0, "TNF": 1.0, "IL2": 10.0},
    ("Th17", "active"): {"IL17": 5.0, "TNF": 0.5, "IL2": 5.0},
    ("Th1", "exhausted"): {"IFNg": 0.5},
    ("Th17", "exhausted"): {"IL17": 0.5},
    ("Treg", "active"): {"IL10": 5.0},
    ("Mac", "active"): {"TNF": 2.0, "IL6": 2.0, "CHEM": 2.0, "IL10": 0.2},
    ("Mac", "rest"): {"IL10": 0.1},
    ("DC", "active"): {"CHEM": 1.0},
}
SECRETION_SOURCE = ("IL-2 ~10 molecules/cell/s by activated T cells (Busse et al. 2010, "
                    "doi:10.1073/pnas.0909789107); the others assumed of the same order or less, "
                    "set so that the mean over a fully inflamed patch is of the order of the "
                    "receptors' K (a site is 1e-9 mL: one molecule/s of TNF is 7.5e6 pg/mL/day)")
#: stromal secretion by an injured (damaged or dead) site, molecules/site/s, times 1 + IL17/K_IL17
TISSUE_SECRETION = {"CHEM": 0.2, "IL6": 0.05}
TISSUE_SOURCE = "assumed: injured stroma releases chemokines and IL-6, amplified by IL-17"
#: decay, 1/day (as the ODE model's cytokine half-lives), chemokine assumed
DECAY = {"TNF": 50.0, "IL6": 8.0, "IL2": 77.0, "IL10": 16.0, "IFNg": 16.0, "IL17": 16.0, "CHEM": 16.0}
DECAY_SOURCE = "immunesim.diseases.modules.cytokines (the ODE model's half-lives); chemokine assumed ~1 h"
#: diffusion coefficient, um^2/s
DIFFUSION = {f: 10.0 for f in FIELDS}
DIFFUSION_SOURCE = ("IL-2 in dense cellular tissue ~10 um^2/s (Busse et al. 2010, "
                    "doi:10.1073/pnas.0909789107; Thurley et al. 2015, doi:10.1371/journal.pcbi.1004206); "
                    "assumed the same for the others")

GEOMETRY = {
    "dx": (10.0, "um", "assumed: one parenchymal cell per site (~10 um)"),
    "dt": (1.0, "min", "assumed: a T cell crawls about one site per minute"),
}


#: initial agents per site (mean; placed uniformly at random)
DEFAULT_DENSITY = {"Th1": 0.01, "Th17": 0.01, "Treg": 0.01, "B": 0.005, "Plasma": 0.0,
                   "Mac": 0.02, "DC": 0.005}
DENSITY_SOURCE = ("assumed: of order 1 immune cell per 10-50 parenchymal cells in inflamed "
                  "tissue; Tregs ~30-50 % of tissue CD4 T cells here")
#: influx, cells/day per 1000 sites, at rest (scaled up with the mean chemokine)
DEFAULT_INFLUX = {"Th1": 1.0, "Th17": 1.0, "Treg": 1.0, "B": 0.25, "Plasma": 0.0,
                  "Mac": 1.0, "DC": 0.5}
INFLUX_SOURCE = ("assumed: at rest, influx replaces deaths at the default density "
                 "(density x death rate, per 1000 sites)")



def rate_vector(overrides: dict | None = None) -> np.ndarray:
    """The kernel's rate vector with ``overrides`` (name -> value in the table's unit)."""
    overrides = dict(overrides or {})
    bad = [k for k in overrides if k not in RATES]
    if bad:
        hints = [f"{str(k)[:40]} ({did_you_mean(k, RATES, 'no close match')})" for k in bad]
        raise ModelError(f"tissue parameters: unknown {', '.join(hints)}; see immunesim.tissue.params.RATES")
    out = np.array([float(overrides.get(k, RATES[k][0])) for k in K.RATE_NAMES])
    neg = [k for k, v in zip(K.RATE_NAMES, out) if not np.isfinite(v) or v < 0]
    if neg:
        raise ModelError(f"tissue parameters: {', '.join(neg)} must be finite and >= 0")
    for k in K.RATE_NAMES:   # half-saturation constants divide
        if k.startswith("K_") and out[K.R[k]] <= 0:
            raise ModelError(f"tissue parameters: {k} must be > 0")
    return out


def per_site(q_molecules_per_s: float, field: str, dx_um: float) -> float:
    """A secretion of ``q`` molecules/s into one site, as pg/mL/day."""
    pg_per_day = q_molecules_per_s * 86400.0 / AVOGADRO * MW_KDA[field] * 1e3 * 1e12
    return pg_per_day / (dx_um ** 3 * 1e-12)


def secretion_entries(dx_um: float):
    """(class, field, pg/mL/day per cell on a site) arrays of every secretion entry."""
    cls, fld, q = [], [], []
    for (kind, state), rates in SECRETION.items():
        for f, v in rates.items():
            cls.append(3 * KINDS.index(kind) + STATES.index(state))
            fld.append(FIELDS.index(f))
            q.append(per_site(v, f, dx_um))
    return np.array(cls, dtype=np.int64), np.array(fld, dtype=np.int64), np.array(q)


def tissue_sources(dx_um: float) -> np.ndarray:
    out = np.zeros(K.N_FIELDS)
    for f, q in TISSUE_SECRETION.items():
        out[FIELDS.index(f)] = per_site(q, f, dx_um)
    return out


def motility(dx_um: float, overrides: dict | None = None):
    """(hops per day, chemotactic sensitivity) per kind: a hop per ``dx`` of path."""
    overrides = overrides or {}
    hops = np.array([overrides.get(k, MOTILITY[k][0]) * 1440.0 / dx_um for k in KINDS])
    chi = np.array([MOTILITY[k][1] for k in KINDS])
    return hops, chi


def table() -> list[dict]:
    """Every tissue parameter as ``{name, value, unit, source}`` (for docs and ``drug show``-like listings)."""
    rows = [{"name": k, "value": v[0], "unit": v[1], "source": v[2]} for k, v in RATES.items()]
    rows += [{"name": f"speed_{k}", "value": v[0], "unit": "um/min", "source": v[2]} for k, v in MOTILITY.items()]
    rows += [{"name": f"chi_{k}", "value": v[1], "unit": "1 (per K_chem of gradient)", "source": "assumed: a gradient of one K_chem between sites multiplies that move's weight by 1 + chi"} for k, v in MOTILITY.items()]
    rows += [{"name": f"D_{f}", "value": DIFFUSION[f], "unit": "um^2/s", "source": DIFFUSION_SOURCE} for f in FIELDS]
    rows += [{"name": f"decay_{f}", "value": DECAY[f], "unit": "1/day", "source": DECAY_SOURCE} for f in FIELDS]
    rows += [{"name": f"q_{k}_{s}_{f}", "value": q, "unit": "molecules/cell/s", "source": SECRETION_SOURCE}
             for (k, s), d in SECRETION.items() for f, q in d.items()]
    rows += [{"name": f"q_tissue_{f}", "value": q, "unit": "molecules/site/s", "source": TISSUE_SOURCE}
             for f, q in TISSUE_SECRETION.items()]
    rows += [{"name": k, "value": v[0], "unit": v[1], "source": v[2]} for k, v in GEOMETRY.items()]
    rows += [{"name": f"density_{k}", "value": v, "unit": "agents/site at t=0", "source": DENSITY_SOURCE}
             for k, v in DEFAULT_DENSITY.items()]
    rows += [{"name": f"influx_{k}", "value": v, "unit": "cells/day per 1000 sites", "source": INFLUX_SOURCE}
             for k, v in DEFAULT_INFLUX.items()]
    return rows
