"""Autoreactive B cells, short- and long-lived plasma cells, autoantibody, immune complexes,
complement.

- B cells (CD20+) are activated by self antigen with T-cell help (effector CD4 cells as the
  Tfh proxy) and differentiate into short-lived plasma cells (days) and long-lived plasma
  cells (months to years, in a limited survival niche; CD20-negative, so B-cell depletion
  spares them: Manz et al. 1997, Nature 388:133, doi:10.1038/40540; Radbruch et al. 2006,
  Nat Rev Immunol 6:741, doi:10.1038/nri1886).
- Plasma cells secrete autoantibody (IgG, half-life ~21 days: Morell, Terry & Waldmann
  1970, J Clin Invest 49:673, doi:10.1172/JCI106279).
- Autoantibody binds self antigen into immune complexes, which consume complement (C3, as a
  fraction of normal) and, with it, injure tissue (tissue module).
- Drug hooks: ``kill_B`` (anti-CD20 depletion), ``inh_SYK`` (SYK carries BCR signalling, so
  its inhibition lowers B-cell activation: Braselmann et al. 2006, J Pharmacol Exp Ther
  319:998, doi:10.1124/jpet.106.109355), ``supp_prolif`` (antimetabolites).
"""

from ._entry import P, R, S, X

SPECIES = [
    S("B", "cells/uL", 5.01, "autoreactive B cells (CD20+)"),
    S("SLPC", "cells/uL", 0.00244, "short-lived plasma cells"),
    S("LLPC", "cells/uL", 0.00811, "long-lived plasma cells (CD20-negative)"),
    S("AutoAb", "AU/mL", 1.55, "autoantibody titer"),
    S("IC", "AU/mL", 0.00158, "circulating/deposited immune complexes"),
    S("C3", "1", 1.0, "complement C3, fraction of normal"),
]

PARAMETERS = [
    P("s_b", 0.5, "cells/uL/day", "assumed: bone-marrow output of autoreactive B cells"),
    P("d_b", 0.1, "1/day", "assumed: naive B-cell lifetime ~10 days in this pool"),
    P("r_b", 1.0, "1/day", "assumed: maximal B-cell activation/expansion rate"),
    P("K_help", 5.0, "cells/uL", "assumed: effector CD4 density giving half-maximal help"),
    P("K_ag_b", 10.0, "AU", "assumed: antigen half-saturating BCR engagement"),
    P("B_max", 100.0, "cells/uL", "assumed: capacity of the autoreactive B compartment"),
    P("f_sl", 0.3, "1", "assumed: share of activated B cells becoming short-lived plasma cells per day of activation"),
    P("f_ll", 0.01, "1", "assumed: share becoming long-lived plasma cells"),
    P("LL_max", 2.0, "cells/uL", "assumed: long-lived plasma-cell survival niche"),
    P("d_slpc", 0.2, "1/day", "short-lived plasma cells live 3-5 days (Radbruch 2006, doi:10.1038/nri1886)"),
    P("d_llpc", 0.002, "1/day", "assumed: long-lived plasma-cell half-life ~1 year (months to lifelong: Manz 1997, doi:10.1038/40540)"),
    P("p_ab", 5.0, "AU/mL/(cells/uL)/day", "assumed: autoantibody secretion per plasma cell density"),
    P("d_ab", 0.033, "1/day", "IgG half-life ~21 days (Morell 1970, doi:10.1172/JCI106279)"),
    P("k_ic", 0.001, "1/AU/day", "assumed: immune-complex formation per AU antigen"),
    P("d_ic", 1.0, "1/day", "assumed: immune-complex clearance ~1 day (Fc-receptor and complement mediated)"),
    P("k_c3", 0.5, "1/day", "assumed: C3 synthesis/catabolism turnover ~2%/h"),
    P("k_c3_ic", 0.02, "1/(AU/mL)/day", "assumed: C3 consumption per unit immune complex"),
    P("inh_SYK", 0.0, "1", "drug hook: fractional inhibition of SYK (BCR signalling); 0 untreated", (0, 1)),
    P("kill_B", 0.0, "1/day", "drug hook: extra death rate of CD20+ B cells (anti-CD20 depletion); 0 untreated"),
]

RULES = [
    R("help", "Teff/(Teff + K_help)", "1", "T-cell help available to B cells"),
    R("b_activation", "r_b*help*Ag/(Ag + K_ag_b)*(1 - inh_SYK)*(1 - supp_prolif)", "1/day", "B-cell activation rate"),
    R("complement_activation", "IC*C3", "AU/mL", "complement activation by immune complexes (C5a proxy)"),
]

PROCESSES = [
    X("b_output", "s_b", {"B": 1}),
    X("b_death", "d_b*B", {"B": -1}),
    X("b_depletion", "kill_B*B", {"B": -1}, "CD20+ B cells killed by a depleting antibody (plasma cells spared)"),
    X("b_expansion", "b_activation*B*(1 - B/B_max)", {"B": 1}),
    X("slpc_differentiation", "f_sl*b_activation*B", {"B": -1, "SLPC": 1}),
    X("llpc_differentiation", "f_ll*b_activation*B*(1 - LLPC/LL_max)", {"B": -1, "LLPC": 1}),
    X("slpc_death", "d_slpc*SLPC", {"SLPC": -1}),
    X("llpc_death", "d_llpc*LLPC", {"LLPC": -1}),
    X("autoab_secretion", "p_ab*(SLPC + LLPC)", {"AutoAb": 1}),
    X("autoab_catabolism", "d_ab*AutoAb", {"AutoAb": -1}),
    X("ic_formation", "k_ic*AutoAb*Ag", {"AutoAb": -1, "IC": 1}),
    X("ic_clearance", "d_ic*IC", {"IC": -1}),
    X("c3_turnover", "k_c3*(1 - C3)", {"C3": 1}),
    X("c3_consumption", "k_c3_ic*IC*C3", {"C3": -1}),
]
