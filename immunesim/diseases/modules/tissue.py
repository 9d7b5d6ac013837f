"""Target tissue: healthy, reversibly damaged and irreversibly lost fractions.

Healthy tissue ``H = 1 - Dmg - Irr`` is injured by effector T cells, activated macrophages,
TNF, IL-17 and IL-6 signalling, and complement activated by immune complexes. Damaged tissue
repairs, and while it stays damaged a fraction becomes irreversible (erosions, fibrosis,
neuronal loss, beta-cell death), so the irreversible fraction grows only while
inflammation keeps tissue damaged. Weights are per disease (presets): T1D and MS injury is
T-cell dominated, RA and Crohn's TNF/macrophage, psoriasis IL-17, lupus nephritis complement.
"""

from ._entry import P, R, S, X

SPECIES = [
    S("Dmg", "1", 0.00411, "reversibly damaged (inflamed) fraction of the target tissue"),
    S("Irr", "1", 0.0, "irreversibly lost fraction of the target tissue"),
]

PARAMETERS = [
    P("k_inj_T", 0.004, "1/(cells/uL)/day", "assumed: injury per effector T-cell density; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("k_inj_mac", 0.0013, "1/(cells/uL)/day", "assumed: injury per activated macrophage density; value calibrated with the others marked so, so that health is a stable tolerant state with a bistable window in presentation"),
    P("k_inj_TNF", 0.02, "1/day", "assumed: injury at full TNF signalling"),
    P("k_inj_IL17", 0.02, "1/day", "assumed: injury at full IL-17 signalling"),
    P("k_inj_IL6", 0.0, "1/day", "assumed: injury at full IL-6 signalling (IL-6 trans-signalling on synovial fibroblasts and osteoclast precursors: IL-6-deficient mice are protected from collagen-induced arthritis, Alonzi et al. 1998, doi:10.1084/jem.187.4.461); 0 unless a preset sets it (RA)"),
    P("k_inj_C", 0.001, "1/(AU/mL)/day", "assumed: injury per unit complement activation"),
    P("k_repair", 0.1, "1/day", "assumed: resolution of damage over ~10 days"),
    P("k_irr", 2e-4, "1/day", "assumed: at most 0.02 %/day of damaged tissue becomes irreversible, ~1-3 %/year of the target under sustained inflammation (the order of radiographic progression in active RA); presets set their own"),
    P("K_irr", 0.1, "1", "assumed: damaged fraction at which half of that maximum applies (scarring needs sustained, substantial damage)"),
]

RULES = [
    R("Healthy", "max(0, 1 - Dmg - Irr)", "1", "healthy fraction of the target tissue"),
    R("injury", "Healthy*(k_inj_T*Teff + k_inj_mac*Mac + k_inj_TNF*sig_TNF^2 + k_inj_IL17*sig_IL17^2"
      " + k_inj_IL6*sig_IL6^2 + k_inj_C*complement_activation)", "1/day",
      "rate of tissue injury (cytokine terms squared: tonic signalling does not injure)"),
]

PROCESSES = [
    X("tissue_injury", "injury", {"Dmg": 1}),
    X("tissue_repair", "k_repair*Dmg", {"Dmg": -1}),
    X("irreversible_loss", "k_irr*Dmg*hill(Dmg, K_irr, 2)", {"Dmg": -1, "Irr": 1}),
]
