"""Autoreactive CD4 T cells: naive pool, Th1 and Th17 effectors, thymic and induced Tregs.

- Naive cells come from the thymus and are activated by presented self antigen *and*
  costimulation (signal 1 x signal 2), cooperatively (Hill n = 2: the activation threshold
  that makes tolerance and chronic inflammation two states of one system, assumed in the
  spirit of the TCR-threshold models, e.g. Grossman & Paul 1992, PNAS 89:10365,
  doi:10.1073/pnas.89.21.10365). PTPN22 risk alleles lower the threshold (``m_ptpn22``).
- PD-1 holds activation and expansion back by attenuating the TCR/CD28 signal itself (SHP-2
  dephosphorylates CD28 first: Hui et al. 2017, Science 355:1428, doi:10.1126/science.aaf1292),
  so it divides the signal before the threshold; a PD-1 agonist antibody (``agon_PD1``)
  engages PD-1 without its ligands; PD-L1 rises with IFN-gamma signalling
  (adaptive resistance). ``pd1_function = 0`` removes the checkpoint.
- The same signal is read in two places: at priming of naive cells in lymphoid organs
  (``priming``, which drives ``act_flux``) and at restimulation of effector cells in the
  target tissue (``activation``, which drives their expansion and IL-2). Untreated the two are
  equal. The checkpoint antibodies act where their checkpoint mostly works: CTLA-4 blockade
  at priming (``costim``; only ``w_ctla4_tissue`` of it reaches ``costim_tissue``), PD-1
  blockade in tissue (``pd1_brake``; only ``w_pd1_prime`` of it reaches ``pd1_brake_prime``)
  (Fife & Bluestone 2008, Immunol Rev 224:166, doi:10.1111/j.1600-065X.2008.00662.x; Wei,
  Duffy & Allison 2018, Cancer Discov 8:1069, doi:10.1158/2159-8290.CD-18-0367). So
  anti-CTLA-4 recruits new autoreactive clones and anti-PD-1 releases the effectors already in
  the tissue: their toxicities differ in frequency and onset (scenarios/checkpoint_trial.yaml).
- Glucocorticoid-receptor signalling (``supp_cytokine``, the prednisone hook) also drives
  effector cells into apoptosis (``k_gc_eff``), which is how high-dose steroids end an
  immune-related adverse event.
- Effector expansion needs IL-2 or, for a share ``il2_floor``, the other common-gamma-chain
  cytokines (IL-7, IL-15, IL-21); all signal through JAK1/JAK3 (Rochman, Spolski & Leonard 2009,
  Nat Rev Immunol 9:480, doi:10.1038/nri2580), so JAK inhibitors slow both. Tregs depend on
  IL-2 through CD25 alone here (their IL-7 receptor, CD127, is low), and their IL-2 signalling
  is less sensitive to the JAK inhibitors than the effectors' (``jak_treg``, cytokines module).
- Antimetabolites (methotrexate) block proliferation (``supp_prolif``): effector and Treg
  expansion alike.
- IL-10 and TGF-beta signalling suppress activation and expansion (Treg soluble mediators);
  CTLA-4 acts through ``costim`` (antigen_innate module).
- Inflammation disables suppression: IL-6 and TNF make effectors resistant to Tregs and
  impair Treg function (Pasare & Medzhitov 2003, Science 299:1033,
  doi:10.1126/science.1078231; Valencia et al. 2006, Blood 108:253,
  doi:10.1182/blood-2005-11-4567). ``treg_potency`` falls cooperatively with IL-6 + TNF
  signalling; this positive feedback (inflammation -> less suppression -> more
  inflammation) is what makes tolerance and chronic inflammation two stable states.
- Activated naive cells commit to Th1 (IL-12), Th17 (IL-6 with TGF-beta) or induced Treg
  (TGF-beta with IL-2, blocked by IL-6: Bettelli et al. 2006, Nature 441:235,
  doi:10.1038/nature04753), in proportion to those signals.
- Effectors expand with stimulation and IL-2 up to a niche capacity; Tregs expand with IL-2
  through CD25 (and consume it, cytokines module) and die faster when IL-2 is scarce; Tregs
  read ``sig_IL2_treg`` and effectors ``sig_IL2_eff``, equal without drug, different under
  low-dose IL-2 (CD25 gives Tregs ~100x the IL-2 affinity of effectors)
  (Malek 2008, Annu Rev Immunol 26:453, doi:10.1146/annurev.immunol.26.021607.090357).
- Low-dose IL-2 expands the body's whole CD25-high Treg pool (``Treg_body``, a fold of its
  untreated size, which blood Treg counts measure), and that pool takes up the dose: the
  exogenous IL-2 each cell receives falls as the pool grows (``il2_share``). So daily dosing
  raises Tregs a few-fold and holds them there instead of expanding them without bound, and
  they return to baseline at the Treg turnover after the course (Koreth et al. 2016, Blood
  128:130, doi:10.1182/blood-2016-02-702852; Whangbo et al. 2019, Blood Adv 3:2550,
  doi:10.1182/bloodadvances.2019000631). Untreated ``Treg_body`` stays at 1.
"""

from ._entry import P, R, S, X

SPECIES = [
    S("Tn", "cells/uL", 19.8, "autoreactive naive CD4 T cells"),
    S("Th1", "cells/uL", 0.0159, "autoreactive Th1 effector cells"),
    S("Th17", "cells/uL", 0.00174, "autoreactive Th17 effector cells"),
    S("Treg", "cells/uL", 1.3, "regulatory T cells acting on this response (thymic and induced)"),
    S("Treg_body", "1", 1.0, "the body's polyclonal CD25-high Treg pool, as a fold of its untreated size "
      "(what blood Treg counts measure); moves only under exogenous IL-2"),
]

PARAMETERS = [
    P("s_tn", 1.0, "cells/uL/day", "assumed: thymic output of autoreactive clones"),
    P("d_tn", 0.05, "1/day", "assumed: naive turnover ~20 days in this compartment"),
    P("k_act", 0.33, "1/day", "assumed: maximal naive activation rate; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("K_act", 0.9, "1", "assumed: signal1 x signal2 giving half-maximal activation; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("n_act", 3.0, "1", "assumed: cooperativity of TCR/CD28 signal integration; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("m_ptpn22", 1.0, "1", "covariate multiplier: PTPN22 risk alleles lower the threshold K_act"),
    P("pd1_function", 1.0, "1", "checkpoint switch: 1 normal PD-1 signalling, 0 none", (0, 10)),
    P("k_pd1", 0.53, "1", "assumed: PD-1 inhibition at baseline PD-L1; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("a_pdl1", 0.85, "1", "assumed: PD-L1 induction at full IFN-gamma signalling; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("block_PD1", 0.0, "1", "drug hook: fraction of PD-1 blocked (anti-PD-1); 0 untreated", (0, 1)),
    P("agon_PD1", 0.0, "1", "drug hook: fraction of PD-1 engaged by an agonist antibody; 0 untreated", (0, 1)),
    P("w_pd1_prime", 0.3, "1", "assumed: share of PD-1 blockade that acts at priming; PD-1 restrains effector cells in peripheral tissue where parenchymal cells express PD-L1, CTLA-4 the priming in lymphoid organs (Keir et al. 2008, Annu Rev Immunol 26:677, doi:10.1146/annurev.immunol.26.021607.090331; Fife & Bluestone 2008, doi:10.1111/j.1600-065X.2008.00662.x); untreated the priming and tissue brakes are equal. Value fitted to CheckMate 067 (Larkin et al. 2015, doi:10.1056/NEJMoa1504030) in scenarios/checkpoint_trial.yaml: grade 3-4 irAE by week 52, nivolumab / ipilimumab / combination, 9 / 24 / 51 % at 0.2, 14 / 24 / 60 % at 0.3, 18 / 24 / 65 % at 0.4 (published 16 / 27 / 55 %); above ~0.5 nivolumab becomes the more toxic drug", (0, 1)),
    P("k_pd1_agon", 1.0, "1", "assumed: PD-1 inhibition at full agonist engagement, equal to that of PD-L1 at full IFN-gamma induction (k_pd1 x (1 + a_pdl1) ~ 1): an agonist cannot signal more than the natural ligands engage"),
    P("supp_prolif", 0.0, "1", "drug hook: fraction of lymphocyte proliferation blocked (antimetabolites); 0 untreated", (0, 1)),
    P("w_supp_il10", 2.0, "1", "assumed: IL-10 suppression weight"),
    P("w_supp_tgfb", 1.0, "1", "assumed: TGF-beta suppression weight"),
    P("K_treg_resist", 0.09, "1", "assumed: IL-6 + TNF signalling halving Treg suppression (the healthy sum, ~0.07, leaves ~70 % potency); value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("n_treg_resist", 4.0, "1", "assumed: cooperativity of inflammatory resistance to suppression; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("gain", 0.55, "1", "assumed: effector/induced cells per activated naive cell (early divisions); value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("w_th1", 1.0, "1", "assumed: Th1 commitment weight per unit IL-12 signalling"),
    P("w_th17", 3.0, "1", "assumed: Th17 commitment weight per unit IL-6 x TGF-beta signalling"),
    P("w_itreg", 1.2, "1", "assumed: iTreg commitment weight per unit TGF-beta x IL-2 signalling; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("w_th0", 0.1, "1", "assumed: default (Th1) commitment without polarising cytokines"),
    P("K_il6_itreg", 0.2, "1", "assumed: IL-6 signalling halving iTreg commitment"),
    P("r_eff", 1.4, "1/day", "assumed: maximal effector expansion rate (one division per ~14 h); value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("K_cap", 25.0, "cells/uL", "assumed: effector niche capacity halving expansion; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("il2_floor", 0.25, "1", "assumed: IL-2-independent share of effector expansion, carried by the other common-gamma-chain cytokines (IL-7, IL-15, IL-21), which signal through JAK1/JAK3 like IL-2 (Rochman, Spolski & Leonard 2009, doi:10.1038/nri2580); value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("d_eff", 0.3, "1/day", "assumed: effector lifetime ~3 days without stimulation"),
    P("k_gc_eff", 1.0, "1/day", "assumed: extra effector T-cell death at full glucocorticoid-receptor repression (supp_cytokine = 1): glucocorticoids drive activated T cells into apoptosis (Herold, McPherson & Reichardt 2006, Cell Mol Life Sci 63:60, doi:10.1007/s00018-005-5390-y), which is how high-dose steroids end most immune-related adverse events of checkpoint inhibitors within weeks (Brahmer et al. 2018, J Clin Oncol 36:1714, doi:10.1200/JCO.2017.77.6385)"),
    P("s_treg", 0.1, "cells/uL/day", "assumed: thymic Treg output for this specificity pool"),
    P("r_treg", 0.58, "1/day", "assumed: maximal IL-2-driven Treg expansion; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("d_treg", 0.056, "1/day", "assumed: Treg turnover with ample IL-2; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("k_treg_il2dep", 0.05, "1/day", "assumed: extra Treg death without IL-2"),
    P("f_il2_sink", 1.0, "1", "assumed: share of a low dose of exogenous IL-2 taken up by the CD25-high cells of the body's Treg pool (receptor-mediated clearance), so that the dose reaching each cell falls as 1/(1 + f_il2_sink (Treg_body - 1)) as the pool expands: plasma IL-2 and Treg proliferation fall over weeks of continued daily low-dose IL-2 while Tregs expand (Whangbo et al. 2019, Blood Adv 3:2550, doi:10.1182/bloodadvances.2019000631); 1 is the limit where CD25 uptake dominates the clearance at low doses. With it daily 1 MIU/m2 raises the pool ~6-fold (x6.5 at week 12) and holds it there (Koreth et al. 2016, Blood 128:130, doi:10.1182/blood-2016-02-702852: >5-fold over 12 weeks)", (0, 1)),
]

RULES = [
    R("pd1_brake", "1/(1 + pd1_function*((1 - block_PD1)*k_pd1*(1 + a_pdl1*sig_IFNg) + k_pd1_agon*agon_PD1))", "1",
      "fraction of T-cell signalling left after PD-1"),
    R("treg_potency", "1/(1 + ((sig_IL6 + sig_TNF)/K_treg_resist)^n_treg_resist)", "1",
      "share of Treg suppression left in the inflammatory milieu (IL-6/TNF resistance)"),
    R("soluble_supp", "1/(1 + treg_potency*(w_supp_il10*sig_IL10 + w_supp_tgfb*sig_TGFb))", "1",
      "fraction left after IL-10/TGF-beta suppression"),
    R("pd1_brake_prime", "1/(1 + pd1_function*((1 - w_pd1_prime*block_PD1)*k_pd1*(1 + a_pdl1*sig_IFNg) + k_pd1_agon*agon_PD1))", "1",
      "fraction of T-cell signalling left after PD-1 at priming (equal to pd1_brake untreated; anti-PD-1 acts here only by w_pd1_prime)"),
    R("stim", "presentation*costim", "1", "signal 1 x signal 2 at priming"),
    R("priming", "hill(stim*m_ptpn22*pd1_brake_prime, K_act, n_act)*soluble_supp", "1",
      "activation of naive T cells at priming (0..1)"),
    R("activation", "hill(presentation*costim_tissue*m_ptpn22*pd1_brake, K_act, n_act)*soluble_supp", "1",
      "restimulation of effector T cells in the target tissue (0..1; equal to priming untreated)"),
    R("w_total", "w_th0 + w_th1*sig_IL12 + w_th17*sig_IL6*sig_TGFb + w_itreg*sig_TGFb*sig_IL2/(1 + sig_IL6/K_il6_itreg)",
      "1", "sum of commitment weights"),
    R("act_flux", "k_act*Tn*priming", "cells/uL/day", "naive cells activated per day"),
    R("Teff", "Th1 + Th17", "cells/uL", "autoreactive effector T cells"),
    R("sig_gc_eff", "il2_floor*jak_gc", "1",
      "IL-2-independent common-gamma-chain (IL-7, IL-15, IL-21) support of effector expansion, JAK1/JAK3"),
    R("expansion", "r_eff*activation*(sig_gc_eff + sig_IL2_eff)/(1 + il2_floor)/(1 + Teff/K_cap)*(1 - supp_prolif)", "1/day",
      "effector expansion rate"),
]

PROCESSES = [
    X("thymic_output", "s_tn", {"Tn": 1}),
    X("naive_death", "d_tn*Tn", {"Tn": -1}),
    X("naive_activation", "act_flux", {"Tn": -1}, "activated naive cells leave the pool"),
    X("th1_commitment", "gain*act_flux*(w_th0 + w_th1*sig_IL12)/w_total", {"Th1": 1}),
    X("th17_commitment", "gain*act_flux*w_th17*sig_IL6*sig_TGFb/w_total", {"Th17": 1}),
    X("itreg_induction", "gain*act_flux*w_itreg*sig_TGFb*sig_IL2_treg/(1 + sig_IL6/K_il6_itreg)/w_total",
      {"Treg": 1}, "induced Tregs; IL-6 blocks their induction"),
    X("th1_expansion", "expansion*Th1", {"Th1": 1}),
    X("th17_expansion", "expansion*Th17", {"Th17": 1}),
    X("th1_death", "(d_eff + k_gc_eff*supp_cytokine)*Th1", {"Th1": -1}),
    X("th17_death", "(d_eff + k_gc_eff*supp_cytokine)*Th17", {"Th17": -1}),
    X("treg_thymic", "s_treg", {"Treg": 1}),
    X("treg_expansion", "r_treg*sig_IL2_treg*(1 - supp_prolif)*Treg", {"Treg": 1}),
    X("treg_death", "(d_treg + k_treg_il2dep*(1 - sig_IL2_treg))*Treg", {"Treg": -1}),
    X("treg_body_expansion", "r_treg*agon_IL2_treg*il2_share*jak_treg*(1 - supp_prolif)*Treg_body", {"Treg_body": 1},
      "the body's Treg pool expands with the exogenous IL-2 share each cell receives"),
    X("treg_body_return", "d_treg*(Treg_body - 1)", {"Treg_body": -1},
      "and returns to its set point at the Treg turnover when the course ends"),
]
