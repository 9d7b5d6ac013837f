"""Self antigen, dendritic-cell maturation with explicit costimulation, macrophages.

- Self antigen ``Ag`` comes from baseline turnover and from tissue injury (``injury``, tissue
  module) and is cleared.
- Immature DCs (a constant pool) mature on antigen uptake with a danger signal: TNF
  signalling, tissue damage, and pathogen (infection module). Presentation strength scales
  with mature DCs and the HLA risk multiplier ``m_hla``.
- Costimulation (CD80/86 on mature DCs) is an explicit factor: CTLA-4 on Tregs strips it
  (trans-endocytosis, Qureshi et al. 2011, Science 332:600, doi:10.1126/science.1202947);
  ``block_CD80`` is the hook for CTLA-4-Ig (abatacept). ``costim`` is the costimulation of
  priming in lymphoid organs, ``costim_tissue`` that of effector restimulation in the target
  tissue: equal untreated; anti-CTLA-4 (``block_CTLA4``) acts on the first and only by
  ``w_ctla4_tissue`` on the second (tcells module).
- Activated autoreactive B cells present self antigen too: their BCR concentrates it, and
  activated B cells carry CD80/86 (weight ``w_b_apc``, 0 unless a preset sets it). B cells are
  efficient antigen-presenting cells in rheumatoid synovium, and the loss of that function is
  one reason B-cell depletion works in RA although long-lived plasma cells keep making
  autoantibody (Silverman & Carson 2003, Arthritis Res Ther 5 Suppl 4:S1, doi:10.1186/ar1010;
  in human synovium-SCID chimeras anti-CD20 abolished synovial T-cell activation: Takemura et
  al. 2001, J Immunol 167:4710).
- Macrophages are activated by IFN-gamma and TNF signalling (and pathogen), deactivated by
  IL-10 signalling.
"""

from ._entry import FRACTION, P, R, S, X

SPECIES = [
    S("Ag", "AU", 1.02, "free self antigen (1 AU = healthy baseline level)"),
    S("DC", "cells/uL", 0.279, "mature antigen-presenting dendritic cells"),
    S("Mac", "cells/uL", 0.223, "activated (M1-like) macrophages"),
]

PARAMETERS = [
    P("s_ag", 0.5, "AU/day", "assumed: sets baseline self antigen to 1 AU with d_ag"),
    P("d_ag", 0.5, "1/day", "assumed: antigen cleared over ~2 days"),
    P("k_ag_inj", 20.0, "AU", "assumed: antigen released per unit of tissue injured (fraction)"),
    P("DC0", 10.0, "cells/uL", "assumed: immature DC pool available for maturation"),
    P("k_dcm", 0.97, "1/day", "assumed: maximal DC maturation rate; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("K_ag", 10.0, "AU", "assumed: antigen level half-saturating DC uptake"),
    P("danger0", 0.023, "1", "assumed: basal danger (tonic microbial/tissue signals); value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("w_danger_tnf", 1.0, "1", "assumed: TNF signalling weight in DC maturation"),
    P("w_danger_dmg", 0.5, "1", "assumed: tissue damage (DAMPs) weight in DC maturation; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("K_danger_dmg", 0.095, "1", "assumed: damaged fraction giving half-maximal DAMP signal; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("d_dc", 0.3, "1/day", "assumed: mature DC lifetime ~3 days"),
    P("K_dc", 1.0, "cells/uL", "assumed: mature DC density giving presentation 1 (times m_hla)"),
    P("w_b_apc", 0.0, "day", "assumed: presentation by the B cells activated per day, in mature-DC equivalents; 0 by default, set by presets in which B cells present antigen in the target tissue (RA synovium: Silverman & Carson 2003, doi:10.1186/ar1010)"),
    P("m_hla", 1.0, "1", "covariate multiplier: HLA risk alleles raise presentation (see covariates)"),
    P("ctla4_function", 1.0, "1", "checkpoint switch: 1 normal CTLA-4 function, 0 none (knockout)", (0, 10)),
    P("m_ctla4", 1.0, "1", "covariate multiplier: CTLA4 variants lower Treg CTLA-4 (see covariates)"),
    P("K_treg_ctla4", 1.43, "cells/uL", "assumed: Treg density halving available costimulation; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("block_CD80", 0.0, "1", "drug hook: fraction of CD80/86 blocked (CTLA-4-Ig); 0 untreated", FRACTION),
    P("block_CTLA4", 0.0, "1", "drug hook: fraction of Treg CTLA-4 blocked (anti-CTLA-4); 0 untreated", FRACTION),
    P("w_ctla4_tissue", 0.2, "1", "assumed: share of CTLA-4 blockade that reaches effector restimulation in the target tissue; CTLA-4 acts mainly at priming in lymphoid organs, where Tregs strip CD80/86 from dendritic cells (Wing et al. 2008, Science 322:271, doi:10.1126/science.1160062), PD-1 mainly on effector cells in peripheral tissue (Fife & Bluestone 2008, Immunol Rev 224:166, doi:10.1111/j.1600-065X.2008.00662.x); untreated the two costimulation terms are equal. Not fitted: 0 or 0.4 instead move the CheckMate 067 rates of scenarios/checkpoint_trial.yaml by at most 4 points (ipilimumab 22 or 28 % instead of 24 %)", FRACTION),
    P("Mac0", 5.0, "cells/uL", "assumed: resting macrophage pool"),
    P("k_mac", 0.5, "1/day", "assumed: maximal macrophage activation rate"),
    P("mac_basal", 0.02, "1", "assumed: tonic activation signal"),
    P("d_mac", 0.2, "1/day", "assumed: activated-macrophage reversion/death over ~5 days"),
    P("k_mac_il10", 1.0, "1/day", "assumed: extra deactivation at full IL-10 signalling"),
]

RULES = [
    R("danger", "danger0 + w_danger_tnf*sig_TNF + w_danger_dmg*Dmg/(Dmg + K_danger_dmg)"
      " + w_bystander*Pathogen/(Pathogen + K_path)", "1", "danger signal for DC maturation"),
    R("costim", "(1 - block_CD80)/(1 + ctla4_function*(1 - block_CTLA4)*m_ctla4*treg_potency*Treg/K_treg_ctla4)", "1",
      "CD80/86 costimulation left after CTLA-4 removal and blockade, at priming (lymphoid organs)"),
    R("costim_tissue", "(1 - block_CD80)/(1 + ctla4_function*(1 - w_ctla4_tissue*block_CTLA4)*m_ctla4*treg_potency*Treg/K_treg_ctla4)", "1",
      "CD80/86 costimulation of effector restimulation in the target tissue (equal to costim untreated; anti-CTLA-4 acts here only by w_ctla4_tissue)"),
    R("presentation", "m_hla*(DC + w_b_apc*b_activation*B)/K_dc", "1",
      "self-antigen presentation strength (dendritic cells and activated B cells)"),
]

PROCESSES = [
    X("antigen_turnover", "s_ag", {"Ag": 1}),
    X("antigen_release", "k_ag_inj*injury", {"Ag": 1}, "self antigen released by tissue injury"),
    X("antigen_clearance", "d_ag*Ag", {"Ag": -1}),
    X("dc_maturation", "k_dcm*DC0*Ag/(Ag + K_ag)*danger", {"DC": 1}),
    X("dc_death", "d_dc*DC", {"DC": -1}),
    X("mac_activation", "k_mac*Mac0*(mac_basal + sig_IFNg + sig_TNF + w_danger_path*Pathogen/(Pathogen + K_path))/3",
      {"Mac": 1}),
    X("mac_deactivation", "(d_mac + k_mac_il10*sig_IL10)*Mac", {"Mac": -1}),
]
