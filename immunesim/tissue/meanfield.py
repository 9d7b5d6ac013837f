"""The mean-field ODE of the tissue's T-cell rules: what the lattice should do when well mixed.

With fast motility and fast diffusion, agent positions decorrelate and fields flatten, so
the 3x3 neighbourhood of a site holds on average its number of sites (9, fewer at the
edges) times the mean density of each class,
and every rule's rate becomes a rate of the mean densities. This module writes that limit
as a declarative :class:`immunesim.Model` (species are mean agents per site, fields in
pg/mL) for the DC - Th1 - Treg - IL-2 - IL-10 rules, with tissue health held fixed, and
the tests run it with the ODE engine against the lattice. Saturating functions of local
counts (Treg suppression) are evaluated at the mean count; the difference (Jensen's
inequality over the Poisson scatter of counts) shrinks as counts per neighbourhood grow,
so the comparison uses dense populations.
"""

from __future__ import annotations

from ..kernels import tissue_layout as K
from ..model import Model, Parameter, Process, Rule, Species
from . import params as P
from .config import TissueConfig

SPECIES = ("DCr", "DCa", "Thr", "Tha", "The", "Tgr", "Tga", "IL2", "IL10")


def meanfield_model(config: TissueConfig, health: float) -> Model:
    """Mean-field model of ``config``'s T-cell rules at fixed tissue ``health`` (0-1)."""
    rates = P.rate_vector(config.rates)
    params = [Parameter(name=n, value=float(rates[K.R[n]]), unit=P.RATES[n][1], source=P.RATES[n][2])
              for n in K.RATE_NAMES]
    q_il2 = P.per_site(P.SECRETION[("Th1", "active")]["IL2"], "IL2", config.dx_um)
    q_il10 = P.per_site(P.SECRETION[("Treg", "active")]["IL10"], "IL10", config.dx_um)
    ny, nx = config.shape
    nb_sites = (3 * ny - 2) * (3 * nx - 2) / (ny * nx)   # mean 3x3 block inside the lattice
    params += [
        Parameter(name="nb_sites", value=nb_sites, unit="sites",
                  source="the 3x3 neighbourhood, averaged over sites (edge blocks are cut)"),
        Parameter(name="h", value=float(health), unit="1", source="fixed tissue health"),
        Parameter(name="q_IL2", value=q_il2, unit="pg/mL/day", source=P.SECRETION_SOURCE),
        Parameter(name="q_IL10", value=q_il10, unit="pg/mL/day", source=P.SECRETION_SOURCE),
        Parameter(name="d_IL2", value=P.DECAY["IL2"], unit="1/day", source=P.DECAY_SOURCE),
        Parameter(name="d_IL10", value=P.DECAY["IL10"], unit="1/day", source=P.DECAY_SOURCE),
    ]
    for k in ("Th1", "Treg", "DC"):
        params.append(Parameter(name=f"in_{k}", value=config.influx.get(k, 0.0) / 1000.0,
                                unit="cells/site/day", source="configured influx"))
    d = config.density
    init = {"DCr": d.get("DC", 0.0), "Thr": d.get("Th1", 0.0), "Tgr": d.get("Treg", 0.0)}
    species = [Species(name=s, unit="pg/mL" if s.startswith("IL") else "cells/site",
                       initial=init.get(s, 0.0)) for s in SPECIES]
    rules = [
        Rule(name="nbTreg", expression="nb_sites*Tga", unit="cells"),
        Rule(name="sT", expression="1/(1 + nbTreg/K_sup)", unit="1"),
        Rule(name="sIL10", expression="1/(1 + IL10/K_IL10)", unit="1"),
        Rule(name="room", expression="max(0, 1 - nb_sites*(DCr + DCa + Thr + Tha + The + Tgr + Tga)/(9*capacity))", unit="1"),
        Rule(name="sig_treg", expression="IL2/(IL2 + K_IL2_treg)", unit="1"),
        Rule(name="act", expression="th_act*nb_sites*DCa*sT*sIL10*Thr", unit="cells/site/day"),
        Rule(name="deact", expression="th_deact*(1 + nbTreg/K_sup)*Tha", unit="cells/site/day"),
    ]
    X = Process
    processes = [
        X(name="dc_in", rate="in_DC", stoichiometry={"DCr": 1}),
        X(name="dc_lic", rate="dc_lic*(1 - h)*DCr", stoichiometry={"DCr": -1, "DCa": 1}),
        X(name="dc_die_r", rate="dc_death*DCr", stoichiometry={"DCr": -1}),
        X(name="dc_die_a", rate="(dc_death + dc_emig)*DCa", stoichiometry={"DCa": -1}),
        X(name="th_in", rate="in_Th1", stoichiometry={"Thr": 1}),
        X(name="th_act_", rate="act", stoichiometry={"Thr": -1, "Tha": 1}),
        X(name="th_deact_", rate="deact", stoichiometry={"Tha": -1, "Thr": 1}),
        X(name="th_exh_", rate="th_exh*Tha", stoichiometry={"Tha": -1, "The": 1}),
        X(name="th_div", rate="th_prolif*IL2/(IL2 + K_IL2)*sT*room*Tha", stoichiometry={"Tha": 1}),
        X(name="th_die_r", rate="th_death*Thr", stoichiometry={"Thr": -1}),
        X(name="th_die_a", rate="th_death*Tha", stoichiometry={"Tha": -1}),
        X(name="th_die_e", rate="exh_death*The", stoichiometry={"The": -1}),
        X(name="tg_in", rate="in_Treg", stoichiometry={"Tgr": 1}),
        X(name="tg_act", rate="treg_act*sig_treg*Tgr", stoichiometry={"Tgr": -1, "Tga": 1}),
        X(name="tg_deact", rate="treg_deact*Tga", stoichiometry={"Tga": -1, "Tgr": 1}),
        X(name="tg_div", rate="treg_prolif*sig_treg*room*Tga", stoichiometry={"Tga": 1}),
        X(name="tg_die_r", rate="treg_death*Tgr", stoichiometry={"Tgr": -1}),
        X(name="tg_die_a", rate="treg_death*Tga", stoichiometry={"Tga": -1}),
        X(name="il2_secr", rate="q_IL2*Tha", stoichiometry={"IL2": 1}),
        X(name="il2_loss", rate="(d_IL2 + upt_treg*(Tgr + Tga) + upt_eff*Tha)*IL2", stoichiometry={"IL2": -1}),
        X(name="il10_secr", rate="q_IL10*Tga", stoichiometry={"IL10": 1}),
        X(name="il10_loss", rate="d_IL10*IL10", stoichiometry={"IL10": -1}),
    ]
    return Model("tissue_meanfield", species=species, parameters=params, rules=rules,
                 processes=processes)


#: lattice readouts (Tissue.summary keys, divided by the number of sites) per mean-field species
LATTICE = {"DCa": "DC_active", "Tha": "Th1_active", "Tga": "Treg_active", "IL2": "IL2_mean",
           "IL10": "IL10_mean"}
