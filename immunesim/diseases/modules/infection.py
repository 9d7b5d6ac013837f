"""Protective immunity: a replicating pathogen cleared by innate and effector responses.

A pathogen challenge (a bolus of ``Pathogen``, in units of the inoculum) grows
logistically and is killed by activated macrophages, more so with TNF and IFN-gamma
signalling, and by pathogen-specific effector T cells, which expand on pathogen antigen
with their own (autocrine) IL-2 through JAK1-JAK3; glucocorticoids repress that IL-2's
transcription (``supp_cytokine``). Immunosuppression therefore slows clearance: anti-TNF and
JAK inhibitors through the signalling terms, glucocorticoids and PDE4 inhibitors through
cytokine production, antimetabolites through T-cell proliferation, lymphocyte-depleting drugs through ``Tpath``.
The pathogen also activates macrophages and, weakly (``w_bystander``), matures DCs that
present self antigen: the route by which infections can flare autoimmunity.
"""

from ._entry import P, R, S, X

SPECIES = [
    S("Pathogen", "inoculum", 0.0, "pathogen load (1 = a typical challenge inoculum)"),
    S("Tpath", "cells/uL", 0.1, "pathogen-specific effector T cells"),
]

PARAMETERS = [
    P("r_path", 2.0, "1/day", "assumed: pathogen doubling ~8 h at low load"),
    P("K_extinct", 1e-4, "inoculum", "assumed: below ~1e-4 of an inoculum the population stops growing (quasi-extinction, Allee-type)"),
    P("Path_max", 1000.0, "inoculum", "assumed: carrying capacity of the infected site"),
    P("k_kill_mac", 0.5, "1/(cells/uL)/day", "assumed: killing per activated macrophage density"),
    P("k_kill_T", 1.0, "1/(cells/uL)/day", "assumed: killing per pathogen-specific effector density"),
    P("K_path", 1.0, "inoculum", "assumed: load giving half-maximal pathogen sensing"),
    P("w_danger_path", 2.0, "1", "assumed: pathogen weight in macrophage activation"),
    P("w_bystander", 0.1, "1", "assumed: pathogen-derived danger reaching DCs that present self antigen (bystander activation; Fujinami et al. 2006, doi:10.1128/CMR.19.1.80-94.2006): small, so an ordinary infection causes a transient flare, not autoimmunity, in health"),
    P("s_tpath", 0.01, "cells/uL/day", "assumed: memory/naive precursor input"),
    P("r_tpath", 1.5, "1/day", "assumed: maximal pathogen-specific T-cell expansion"),
    P("d_tpath", 0.1, "1/day", "assumed: effector contraction over ~10 days"),
    P("K_tpath", 100.0, "cells/uL", "assumed: pathogen-specific effector capacity"),
]

RULES = [
    R("innate_killing", "k_kill_mac*Mac*(0.2 + sig_TNF + sig_IFNg)/2.2", "1/day",
      "innate killing rate per unit pathogen"),
]

PROCESSES = [
    X("pathogen_growth", "r_path*Pathogen*Pathogen/(Pathogen + K_extinct)*(1 - Pathogen/Path_max)",
      {"Pathogen": 1}),
    X("pathogen_innate_kill", "innate_killing*Pathogen", {"Pathogen": -1}),
    X("pathogen_T_kill", "k_kill_T*Tpath*Pathogen", {"Pathogen": -1}),
    X("tpath_input", "s_tpath", {"Tpath": 1}),
    X("tpath_expansion", "r_tpath*Tpath*Pathogen/(Pathogen + K_path)*jak_gc*(1 - supp_prolif)"
      "*(1 - supp_cytokine)"
      "*(1 - Tpath/K_tpath)", {"Tpath": 1}),
    X("tpath_contraction", "d_tpath*Tpath", {"Tpath": -1}),
]
