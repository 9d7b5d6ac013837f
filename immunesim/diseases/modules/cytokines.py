"""Cytokines TNF, IL-6, IL-17, IFN-gamma, IL-2, IL-10, TGF-beta (and IL-12 from DCs), each
with production, consumption and decay, and each signalling through a receptor-level term.

For every cytokine X the signal a cell receives is written in three layers, so an
intervention can act on the ligand, the receptor or the downstream kinase::

    X_free  = X * (1 - neut_X)                      # ligand: neutralising antibody/trap
    occ_X   = (1 - block_XR) * X_free/(X_free + K_X) # receptor occupancy, receptor blockade
    sig_X   = occ_X * prod(1 - inh_JAKk)            # JAK pair (all must signal)

Each cytokine is produced, decays, and is consumed by its receptors (``k_up_X * occ_X``:
blocked receptors consume none); IL-2's consumption is the explicit CD25 (Treg) and effector
uptake. Most of IL-6's first-order clearance is uptake through the IL-6 receptor
(``f_IL6R_clear``), which IL-6R antagonists block: serum IL-6 rises several-fold on
tocilizumab and then falls as disease activity does (Nishimoto et al. 2008, Blood 112:3959,
doi:10.1182/blood-2008-05-155846); untreated the clearance is the same. Basal sources include what balances receptor uptake at the healthy level
(``p_X_up0``), so adding uptake does not move the healthy state.

Injured tissue makes IL-6 (``p_IL6_dmg``: synovial fibroblasts in RA). A share
``w_IL6_dmg_TNF`` of it is induced by TNF, in proportion to TNF signalling relative to
``K_IL6_dmg_TNF``: in RA serum IL-6 falls to normal within a day of TNF neutralisation (Charles
et al. 1999, J Immunol 163:1521, doi:10.4049/jimmunol.163.3.1521). It is 0 unless a preset
sets it (RA).

Cell-intrinsic drug hooks act on production: ``supp_cytokine`` (glucocorticoid-receptor
repression of NF-kB/AP-1-driven transcription) and ``inh_PDE4`` (PDE4 inhibition: cAMP/PKA
lowers TNF, IL-12/23, IFN-gamma and IL-17 production and raises IL-10; Schafer et al. 2010,
Br J Pharmacol 159:842, doi:10.1111/j.1476-5381.2009.00559.x) scale the inflammatory
production terms of immune cells, not the basal sources of other tissues. Exogenous IL-2
(``agon_IL2_treg``, ``agon_IL2_eff``: receptor occupancy by a recombinant IL-2 on CD25-high
Tregs and on CD25-low effectors) adds to the endogenous signal in ``sig_IL2_treg`` and
``sig_IL2_eff``.

JAK pairs (O'Shea et al. 2015, Annu Rev Med 66:311, doi:10.1146/annurev-med-051113-024537):
IL-6 JAK1/JAK2; IL-2 JAK1/JAK3; IFN-gamma JAK1/JAK2; IL-12 JAK2/TYK2; IL-10 JAK1/TYK2.
TNF (NF-kB), IL-17 (Act1) and TGF-beta (SMAD) do not use JAKs. CD25-high Tregs signal through
the same JAK1/JAK3 pair but are less sensitive to its inhibitors (``jak_treg``: a 2.6-fold
higher IC50 for IL-2-induced STAT5 phosphorylation; Sewgobind et al. 2010, Am J Transplant
10:1785, doi:10.1111/j.1600-6143.2010.03200.x).

Decay rates are serum half-lives where one is published, otherwise assumed (stated).
"""

from ._entry import FRACTION, P, R, S, X

#: name: (JAK pair, healthy steady state pg/mL, K pg/mL, decay 1/day, source of the decay)
_CYTOKINES = {
    "TNF": ((), 1.05, 20.0, 50.0, "assumed: serum half-life ~20 min"),
    "IL6": (("JAK1", "JAK2"), 1.18, 50.0, 8.0, "assumed: plasma half-life ~2 h"),
    "IL17": ((), 0.00434, 20.0, 16.0, "assumed: half-life ~1 h"),
    "IFNg": (("JAK1", "JAK2"), 0.0399, 20.0, 16.0, "assumed: half-life ~1 h"),
    "IL2": (("JAK1", "JAK3"), 0.238, 5.0, 77.0, "IL-2 alpha half-life ~13 min (Konrad et al. 1990, Cancer Res 50:2009, PMID 2317789)"),
    "IL10": (("JAK1", "TYK2"), 1.46, 20.0, 16.0, "assumed: half-life ~1 h"),
    "TGFb": ((), 4.12, 20.0, 8.0, "assumed: active TGF-beta half-life ~2 h"),
    "IL12": (("JAK2", "TYK2"), 0.175, 20.0, 16.0, "assumed: half-life ~1 h"),
}
JAKS = ("JAK1", "JAK2", "JAK3", "TYK2")
UPTAKE = 0.1  # assumed: receptor uptake is a minor share of cytokine clearance (mostly renal/proteolytic)

SPECIES = [S(name, "pg/mL", init, f"{name} (serum/tissue)") for name, (_, init, *_r) in _CYTOKINES.items()]

PARAMETERS = []
RULES = []
for name, (jaks, init, K, decay, source) in _CYTOKINES.items():
    PARAMETERS += [
        P(f"K_{name}", K, "pg/mL", f"assumed: {name} level giving half-maximal receptor occupancy"),
        P(f"d_{name}", decay, "1/day", source),
        P(f"neut_{name}", 0.0, "1", f"drug hook: fraction of {name} ligand neutralised; 0 untreated", FRACTION),
        P(f"block_{name}R", 0.0, "1", f"drug hook: fraction of {name} receptors blocked; 0 untreated", FRACTION),
    ]
    jak_factor = "".join(f"*(1 - inh_{j})" for j in jaks)
    RULES += [
        R(f"{name}_free", f"{name}*(1 - neut_{name})", "pg/mL", f"{name} not bound by a neutralising drug"),
        R(f"occ_{name}", f"(1 - block_{name}R)*{name}_free/({name}_free + K_{name})", "1",
          f"{name} receptor occupancy"),
        R(f"sig_{name}", f"occ_{name}{jak_factor}", "1",
          f"{name} signalling (receptor occupancy x JAK activity)"),
    ]
    if name != "IL2":  # IL-2 has its explicit CD25 (Treg) and effector consumption below
        PARAMETERS.append(P(f"k_up_{name}", round(UPTAKE * K * decay, 6), "pg/mL/day",
                            f"assumed: receptor-mediated uptake at full occupancy, {UPTAKE:g} x K x decay, "
                            f"so uptake adds ~{UPTAKE:.0%} to clearance at low levels; blocked receptors "
                            "take up none (hence ligand rises under receptor blockade: Nishimoto 2008, "
                            "doi:10.1182/blood-2008-05-155846)"))
PARAMETERS += [P(f"inh_{j}", 0.0, "1", f"drug hook: fractional inhibition of {j}; 0 untreated", FRACTION)
               for j in JAKS]

PARAMETERS += [
    P("f_IL6R_clear", 0.8, "1", "assumed: share of IL-6's first-order clearance taken up through the IL-6 receptor (hepatocytes and other IL-6R-bearing cells), which IL-6R antagonists block; free serum IL-6 rises markedly on tocilizumab because IL-6R-mediated consumption is inhibited (Nishimoto et al. 2008, Blood 112:3959, doi:10.1182/blood-2008-05-155846; the fold rise was not retrieved here): 0.8 gives a ~4-fold rise within 2 days of 8 mg/kg in the RA preset; untreated the clearance is unchanged", FRACTION),
    P("treg_jak_ic50_fold", 2.6, "1", "Sewgobind et al. 2010 (Am J Transplant 10:1785, doi:10.1111/j.1600-6143.2010.03200.x): the IC50 of tofacitinib for IL-2-induced STAT5 phosphorylation was 2.6-fold higher in CD4+CD25-bright FOXP3+ Tregs than in CD25-negative effector T cells (104 vs 40 ng/mL), and at 100 ng/mL, a clinical exposure, it inhibited the Tregs' by 51 % and the effectors' by 84 %; Tregs from treated patients kept their suppressive function. Applied as a hyperbolic (Hill 1) shift of the IC50 of the common-gamma-chain JAK factor: jak_gc 0.16 (84 % inhibited) leaves the Tregs 0.33 (67 %); matching the 51 % too would need 3.5. 1 would treat Tregs as effectors", (0.1, 100.0)),
    P("supp_cytokine", 0.0, "1", "drug hook: fraction of inflammatory cytokine transcription repressed "
      "(glucocorticoid receptor); 0 untreated", FRACTION),
    P("inh_PDE4", 0.0, "1", "drug hook: fractional inhibition of PDE4; 0 untreated", FRACTION),
    P("agon_IL2_treg", 0.0, "1", "drug hook: CD25-high (Treg) IL-2 receptor occupancy by exogenous IL-2; "
      "0 untreated", FRACTION),
    P("agon_IL2_eff", 0.0, "1", "drug hook: CD25-low (effector) IL-2 receptor occupancy by exogenous "
      "IL-2; 0 untreated", FRACTION),
    P("k_pde4_il10", 1.0, "1", "assumed: IL-10 production rises by this fraction at full PDE4 inhibition "
      "(apremilast raises IL-10 about twofold in stimulated monocytes: Schafer et al. 2010, "
      "doi:10.1111/j.1476-5381.2009.00559.x)"),
]
RULES += [
    R("tx_inflam", "(1 - supp_cytokine)*(1 - inh_PDE4)", "1",
      "share of inflammatory cytokine transcription left (glucocorticoid, PDE4 inhibition)"),
    R("jak_gc", "(1 - inh_JAK1)*(1 - inh_JAK3)", "1",
      "JAK1/JAK3 activity left for the common-gamma-chain receptors (IL-2, IL-7, IL-15, IL-21)"),
    R("jak_treg", "treg_jak_ic50_fold*jak_gc/(1 - jak_gc + treg_jak_ic50_fold*jak_gc)", "1",
      "the same in CD25-high Tregs, whose IL-2 signalling needs a treg_jak_ic50_fold higher inhibitor "
      "level for the same inhibition (1 untreated)"),
    R("il2_share", "1/(1 + f_il2_sink*(Treg_body - 1))", "1",
      "share of a low dose of exogenous IL-2 left for each cell as the body's Treg pool, which takes it up, expands"),
    R("sig_IL2_treg", "(1 - (1 - occ_IL2)*(1 - agon_IL2_treg*il2_share))*jak_treg", "1",
      "IL-2 signalling in CD25-high Tregs (endogenous + exogenous IL-2, JAK1/JAK3)"),
    R("sig_IL2_eff", "(1 - (1 - occ_IL2)*(1 - agon_IL2_eff*il2_share))*jak_gc", "1",
      "IL-2 signalling in effector T cells (endogenous + exogenous IL-2, JAK1/JAK3)"),
]

_BASAL = ("TNF", "IL6", "IL10", "TGFb")
PARAMETERS += [
    P(f"p_{name}_up0", round(UPTAKE * _CYTOKINES[name][2] * _CYTOKINES[name][3]
                            * _CYTOKINES[name][1] / (_CYTOKINES[name][1] + _CYTOKINES[name][2]), 6),
      "pg/mL/day", f"calibrated: basal {name} production balancing receptor uptake at the healthy "
      f"level (k_up_{name} x X0/(X0 + K_{name}), X0 = {_CYTOKINES[name][1]} pg/mL)")
    for name in _BASAL]

PARAMETERS += [
    P("p_TNF_mac", 10.0, "pg/mL/day/(cells/uL)", "assumed: TNF from activated macrophages"),
    P("p_TNF_th1", 20.0, "pg/mL/day/(cells/uL)", "assumed: TNF from Th1 cells"),
    P("p_TNF_0", 50.0, "pg/mL/day", "assumed: basal TNF (gives ~1 pg/mL in health)"),
    P("p_IL6_mac", 5.0, "pg/mL/day/(cells/uL)", "assumed: IL-6 from macrophages (boosted by TNF)"),
    P("p_IL6_il17", 100.0, "pg/mL/day", "assumed: IL-6 from stromal cells at full IL-17 signalling"),
    P("p_IL6_dmg", 200.0, "pg/mL/day", "assumed: IL-6 from injured tissue per damaged fraction"),
    P("w_IL6_dmg_TNF", 0.0, "1", "share of the injured tissue's IL-6 that TNF induces: synovial fibroblasts make IL-6 on TNF (and IL-1) signalling, and in RA serum IL-6 falls to normal within a day of TNF neutralisation (Charles et al. 1999, J Immunol 163:1521, doi:10.4049/jimmunol.163.3.1521); 0 (no TNF dependence) unless a preset sets it (RA)", (0, 1)),
    P("K_IL6_dmg_TNF", 0.09, "1", "assumed: TNF signalling at which the TNF-induced share of that IL-6 is at its full value (p_IL6_dmg); 0.09 is about the RA preset's chronic state (0.085 untreated in its first two years, 2026-12-07), so p_IL6_dmg keeps about its meaning there"),
    P("p_IL6_0", 8.0, "pg/mL/day", "assumed: basal IL-6 (~1 pg/mL in health)"),
    P("p_IL17", 40.0, "pg/mL/day/(cells/uL)", "assumed: IL-17 per Th17 cell density"),
    P("p_IFNg", 40.0, "pg/mL/day/(cells/uL)", "assumed: IFN-gamma per Th1 cell density"),
    P("p_IL2", 120.0, "pg/mL/day/(cells/uL)", "assumed: IL-2 per activated effector density; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("p_IL2_0", 20.0, "pg/mL/day", "assumed: IL-2 from conventional T cells of other specificities"),
    P("k_IL2_cd25", 5.5, "1/(cells/uL)/day", "assumed: IL-2 consumption by CD25-high Tregs; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("k_IL2_eff", 1.0, "1/(cells/uL)/day", "assumed: IL-2 consumption by effectors"),
    P("p_IL10_treg", 10.0, "pg/mL/day/(cells/uL)", "assumed: IL-10 per Treg density"),
    P("p_IL10_mac", 2.0, "pg/mL/day/(cells/uL)", "assumed: IL-10 per activated macrophage density"),
    P("p_IL10_0", 10.0, "pg/mL/day", "assumed: basal IL-10"),
    P("p_TGFb_treg", 10.0, "pg/mL/day/(cells/uL)", "assumed: active TGF-beta per Treg density"),
    P("p_TGFb_0", 20.0, "pg/mL/day", "assumed: basal active TGF-beta"),
    P("p_IL12", 20.0, "pg/mL/day/(cells/uL)", "assumed: IL-12 per mature DC density (boosted by IFN-gamma)"),
]

PROCESSES = [
    X("TNF_production", "p_TNF_0 + p_TNF_up0 + (p_TNF_mac*Mac + p_TNF_th1*Th1)*tx_inflam", {"TNF": 1}),
    X("IL6_production", "p_IL6_0 + p_IL6_up0 + p_IL6_mac*Mac*(0.5 + sig_TNF)*(1 - supp_cytokine) + p_IL6_il17*sig_IL17 + p_IL6_dmg*Dmg*(1 - w_IL6_dmg_TNF + w_IL6_dmg_TNF*sig_TNF/K_IL6_dmg_TNF)",
      {"IL6": 1}),
    X("IL17_production", "p_IL17*Th17*tx_inflam", {"IL17": 1}),
    X("IFNg_production", "p_IFNg*Th1*tx_inflam", {"IFNg": 1}),
    X("IL2_production", "p_IL2_0 + p_IL2*Teff*activation*(1 - supp_cytokine)", {"IL2": 1}),
    X("IL2_consumption_treg", "k_IL2_cd25*Treg*IL2", {"IL2": -1}, "CD25 (IL-2R alpha) consumption"),
    X("IL2_consumption_eff", "k_IL2_eff*Teff*IL2", {"IL2": -1}),
    X("IL10_production", "p_IL10_0 + p_IL10_up0 + (p_IL10_treg*Treg + p_IL10_mac*Mac)*(1 + k_pde4_il10*inh_PDE4)", {"IL10": 1}),
    X("TGFb_production", "p_TGFb_0 + p_TGFb_up0 + p_TGFb_treg*Treg", {"TGFb": 1}),
    X("IL12_production", "p_IL12*DC*(0.5 + sig_IFNg)*tx_inflam", {"IL12": 1}),
] + [X(f"{name}_decay", f"d_{name}*{name}" if name != "IL6" else "d_IL6*(1 - f_IL6R_clear*block_IL6R)*IL6",
        {name: -1}) for name in _CYTOKINES] + [
    X(f"{name}_uptake", f"k_up_{name}*occ_{name}", {name: -1},
      "receptor-mediated consumption of the free ligand")
    for name in _CYTOKINES if name != "IL2"]
