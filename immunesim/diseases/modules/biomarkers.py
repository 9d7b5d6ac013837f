"""Biomarkers common to every disease: CRP and cell-subset ratios.

CRP is made by hepatocytes on IL-6 signalling (IL-6R/gp130, JAK1: so IL-6R blockade and JAK
inhibitors lower it) and has a plasma half-life of ~19 h (Pepys & Hirschfield 2003, J Clin
Invest 111:1805, doi:10.1172/JCI18921). Disease-activity composites live with each preset.

``tnf_pain`` is the share of tenderness and pain left at the current TNF signal: TNF
sensitises nociceptors, and blocking it relieves pain within a day, before the inflammation
resolves (Hess et al. 2011, PNAS 108:3731, doi:10.1073/pnas.1011774108); presets multiply
their tenderness and pain proxies by it.
"""

from ._entry import FRACTION, P, R, S, X

SPECIES = [S("CRP", "mg/L", 1.63, "C-reactive protein")]

PARAMETERS = [
    P("body_weight", 70.0, "kg", "covariate: patient body weight (default: 70 kg reference adult)"),
    P("d_CRP", 0.875, "1/day", "CRP plasma half-life ~19 h (Pepys & Hirschfield 2003, doi:10.1172/JCI18921)"),
    P("p_CRP_0", 0.5, "mg/L/day", "assumed: basal CRP synthesis (with basal IL-6, ~1.6 mg/L in health; normal < 3 mg/L)"),
    P("p_CRP", 40.0, "mg/L/day", "assumed: hepatic CRP at full IL-6 signalling (acute phase up to ~50 mg/L)"),
    P("w_tnf_pain", 0.0, "1", "share of tenderness and pain that TNF-sensitised nociceptors add in inflamed tissue, lost within a day of TNF blockade, before inflammation resolves (TNF blockade lowers pain-evoked brain activity within 24 h: Hess et al. 2011, doi:10.1073/pnas.1011774108); 0 unless a preset sets it (RA)", FRACTION),
    P("K_tnf_pain", 0.01, "1", "assumed: TNF signal (sig_TNF) at which the sensitisation is half-maximal; well below inflamed tissue's (~0.09 in the RA preset), so the nociceptors are near fully sensitised in active disease, and only blockade of TNF removes it"),
]

RULES = [
    R("Treg_Teff_ratio", "Treg/(Teff + 1e-9)", "1", "Treg : effector ratio of the autoreactive response"),
    R("tnf_pain", "1 - w_tnf_pain*K_tnf_pain/(sig_TNF + K_tnf_pain)", "1",
      "share of tenderness and pain left at the current TNF signal: near 1 in inflamed tissue, 1 - w_tnf_pain under full TNF blockade; presets' tenderness and pain readouts are multiplied by it"),
]

PROCESSES = [
    X("CRP_synthesis", "p_CRP_0 + p_CRP*sig_IL6", {"CRP": 1}),
    X("CRP_clearance", "d_CRP*CRP", {"CRP": -1}),
]
