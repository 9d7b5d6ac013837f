"""The tissue kernels' layouts, without Numba: agent kinds and states, fields, tissue states,
neighbourhood channels, the drug vector and the rate vector (:mod:`.tissue_agents` compiles
against them). They live here so that the tissue's parameters and validation
(:mod:`immunesim.tissue.params`, the scenario checks) load without Numba.
"""

from enum import IntEnum

# -- agent kinds and states ---------------------------------------------------
TH1, TH17, TREG, BCELL, PLASMA, MAC, DC = 0, 1, 2, 3, 4, 5, 6
N_KINDS = 7
REST, ACTIVE, EXHAUSTED = 0, 1, 2
N_CLASSES = 3 * N_KINDS
# -- fields ------------------------------------------------------------------
F_TNF, F_IL6, F_IL2, F_IL10, F_IFNG, F_IL17, F_CHEM = 0, 1, 2, 3, 4, 5, 6
N_FIELDS = 7
# -- tissue states -----------------------------------------------------------
HEALTHY, DAMAGED, DEAD, REGENERATING = 0, 1, 2, 3
# -- neighbourhood channels ---------------------------------------------------
NB_APC, NB_TREG, NB_EFF, NB_ALL = 0, 1, 2, 3
N_NB = 4
# -- drug vector (systemic hooks, as in the ODE model) ---------------------------
D_NEUT_TNF, D_KILL_B, D_JAK_GC, D_JAK_12, D_SUPP, D_JAK_TREG = 0, 1, 2, 3, 4, 5
N_DRUG = 6

# -- rate vector layout ------------------------------------------------------
#: the tissue rules' rate constants, in the order of the kernels' ``rates`` vector: the one
#: list of them. ``immunesim.tissue.params.RATES`` gives each its value, unit and source (and
#: builds the vector by name), the mean-field model (``immunesim.tissue.meanfield``) uses the same
#: names as its parameters, and the kernels index the vector by name: ``rates[R.th_act]``.
RATE_NAMES = (
    "th_act", "th_deact", "th_prolif", "th_exh", "th_death", "exh_death", "treg_act", "treg_deact",
    "treg_prolif", "treg_death", "b_act", "b_prolif", "b_to_pc", "b_death", "pc_death", "mac_act",
    "mac_deact", "mac_death", "dc_lic", "dc_emig", "dc_death", "K_sup", "K_IL2", "K_IL2_treg",
    "K_IL10", "K_IFN", "K_TNF", "K_IL6", "K_chem", "contact", "tnf_dmg", "K_tnf_dmg", "ab_dmg",
    "K_ab", "repair", "clear", "regen", "h_damaged", "ab_sys", "ab_pc", "ab_clear", "upt_treg",
    "upt_eff", "K_IL17", "capacity",
)
R = IntEnum("R", [(name, i) for i, name in enumerate(RATE_NAMES)])
N_RATES = len(RATE_NAMES)
