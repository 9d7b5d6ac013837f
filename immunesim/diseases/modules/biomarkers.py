"""Biomarkers common to every disease: CRP and cell-subset ratios.

CRP is made by hepatocytes on IL-6 signalling (IL-6R/gp130, JAK1: so IL-6R blockade and JAK
inhibitors lower it) and has a plasma half-life of ~19 h (Pepys & Hirschfield 2003, J Clin
Invest 111:1805, doi:10.1172/JCI18921). Disease-activity composites live with each preset.
"""

from ._entry import P, R, S, X

SPECIES = [S("CRP", "mg/L", 1.63, "C-reactive protein")]

PARAMETERS = [
    P("body_weight", 70.0, "kg", "covariate: patient body weight (default: 70 kg reference adult)"),
    P("d_CRP", 0.875, "1/day", "CRP plasma half-life ~19 h (Pepys & Hirschfield 2003, doi:10.1172/JCI18921)"),
    P("p_CRP_0", 0.5, "mg/L/day", "assumed: basal CRP synthesis (with basal IL-6, ~1.6 mg/L in health; normal < 3 mg/L)"),
    P("p_CRP", 40.0, "mg/L/day", "assumed: hepatic CRP at full IL-6 signalling (acute phase up to ~50 mg/L)"),
]

RULES = [
    R("Treg_Teff_ratio", "Treg/(Teff + 1e-9)", "1", "Treg : effector ratio of the autoreactive response"),
]

PROCESSES = [
    X("CRP_synthesis", "p_CRP_0 + p_CRP*sig_IL6", {"CRP": 1}),
    X("CRP_clearance", "d_CRP*CRP", {"CRP": -1}),
]
