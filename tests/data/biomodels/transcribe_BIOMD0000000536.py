"""Write ``BIOMD0000000536.xml``: BioModels BIOMD0000000536, transcribed.

Dwivedi G, Fitz L, Hegen M, Martin SW, Harrold J, Heatherington A, Li C (2014) A multiscale
model of interleukin-6-mediated immune regulation in Crohn's disease and its application in
drug discovery and development. CPT Pharmacometrics Syst Pharmacol 3:e89,
doi:10.1038/psp.2013.64. The curated file ("Dwivedi2014 - Crohns IL6 Disease model - sgp130
activity") is dedicated to the public domain (CC0) by BioModels.

There is no download on this machine, so the file is transcribed from the stored BioModels copy
(SBML Level 2 Version 4, 237 kB, most of it MIRIAM and COPASI annotations) by this script. Every
id, name, compartment, initial amount, parameter value, initial assignment, assignment rule,
reaction (reactants, products, modifiers, kinetic law) and event (trigger, delay, assignment) is
as in that file; the time unit (hour) and substance unit (nmol) too. What differs:

- the annotations, notes and metaids are left out;
- the file's 49 function definitions are 5 shapes (binding, first order, zero order,
  Michaelis-Menten, catalysed Michaelis-Menten), each repeated with its arguments in another
  order under another id; here each shape is defined once and every kinetic law calls it with
  the same arguments, so each evaluates to the same expression (``V * f(..)/V``, the COPASI
  form, kept).

The model is at steady state at its start (the file's initial amounts are the untreated
steady state: ``tests/test_sbml.py`` checks every derivative against that), and 13 events dose
sgp130Fc into serum at weeks 0 to 12 (``parameter_1``, ``parameter_2``, ``parameter_3``: the
weekly, two-weekly and four-weekly doses, 0 in the file; 2.346 nmol per dose unit).

Run:  python tests/data/biomodels/transcribe_BIOMD0000000536.py
"""

from __future__ import annotations

import re
from pathlib import Path

import libsbml

OUT = Path(__file__).with_name("BIOMD0000000536.xml")

COMPARTMENTS = {"S": ("mw53ffe9e6_beef_45c4_90a5_a79197ed506e", "serum"),
                "L": ("mw88ca8d9a_f5cf_41bf_9d9d_fc48f6e1a19e", "liver"),
                "G": ("mwe9501423_9fb4_494b_b5b6_288f3fcb17b5", "gut"),
                "P": ("mw8fbcbf3b_47d8_4adc_8ad4_f9fc547d3e87", "peripheral")}

#: alias: (id, name, compartment alias, initial amount; None for a species set by a rule)
SPECIES = {
    "IL6s": ("mwf626e95e_543f_41e4_aad4_c6bf60ab345b", "IL6", "S", 0.000435628896551166),
    "sgp130s": ("mwbbbce920_e8dd_4320_9386_fc94bfb2fc99", "sgp130", "S", 3.9),
    "C3s": ("mw810ff751_fa4e_4143_bd50_169b3e325e1e", "sR_IL6_sgp130", "S", 0.0874060669217432),
    "CRPs": ("mw114aa90f_5f5b_4fe8_9406_361c8489b6a1", "CRP", "S", 221.06367608557),
    "sRs": ("mw30ae63db_6cd3_4b6f_93ad_3350cd360bcc", "sR", "S", 4.25350679194445),
    "sRIL6s": ("mw03db56ac_8dc6_4931_ae82_fef706d2ee3d", "sR_IL6", "S", 0.00109424263781451),
    "Fcs": ("mwf345ed7a_0622_403c_b816_c8749a2c9ded", "sgpFc", "S", -1.22575436720674e-26),
    "sRIL6Fcs": ("mwa2d8dd1c_bb9a_4552_8738_e24671651c1d", "sR_IL6_sgpFc", "S", -2.29473714389906e-28),
    "gp130L": ("mw80848184_e2dd_47ce_86d7_7a21479342bd", "gp130", "L", 0.388958921403941),
    "RIL6gp130L": ("mwd2d9d93a_3bd1_4f17_bac1_baba9ef2d55a", "R_IL6_gp130", "L", 6.59935877686372e-5),
    "sRIL6L": ("mw4638f126_8cb8_4021_ab41_6ae195743ba0", "sR_IL6", "L", 0.000976164943878913),
    "RL": ("mw10315fa3_6f13_4618_bda8_a8694bd3c374", "R", "L", 0.438235811135574),
    "IL6L": ("mw0adf3eb4_a196_4c48_b10d_4e9e9faaf9e1", "IL6", "L", 7.2566581144648e-4),
    "RIL6L": ("mw7d86cc23_a1af_44c3_bdb9_71e9b1bb2a83", "R_IL6", "L", 1.60036523605187e-5),
    "RactL": ("mw0eb6c959_d408_45a0_a450_928b8c5876bb", "Ractive", "L", 0.765416493681823),
    "STAT3L": ("mw42054cd7_17af_46da_970c_7f99151906ad", "STAT3", "L", 0.777537339578334),
    "pSTAT3L": ("mw39c2e431_fdc3_4964_be29_6ca856620b1b", "pSTAT3", "L", 9.22246266042167),
    "CRPL": ("mwd5313618_89eb_4c8c_bc82_66f10f966349", "CRP", "L", None),
    "sRL": ("mw2e464cf3_a09c_4b7c_9f3c_06720016a48e", "sR", "L", 6.08704712819468),
    "CRPexL": ("mw36ea78c1_ed71_4def_96d3_857a442d7195", "CRPExtracellular", "L", 409.775322370541),
    "sgp130L": ("mw147d30ec_478e_4090_b496_128a131d29eb", "sgp130", "L", 5.5896988923534),
    "C3L": ("mwab41493c_6349_45f1_a226_3030cfed0e06", "sR_IL6_sgp130", "L", 0.116343661809953),
    "sRIL6FcL": ("mw1d9426a3_e1e9_49e0_ad77_eb6833be398a", "sR_IL6_sgpFc", "L", -1.68120955431364e-27),
    "FcL": ("mw3667a5e1_02c9_44a0_acb4_b0431faa822d", "sgpFc", "L", -6.97919693038973e-26),
    "sRIL6G": ("mw7becb5fe_8da8_4285_a821_0d77ad811b62", "sR_IL6", "G", 0.00130682388893128),
    "gp130G": ("mw8c9107e6_f51d_442d_b2dc_2bfdbb8482ca", "gp130", "G", 0.374962692933961),
    "RIL6gp130G": ("mw824bc3d4_1ac3_4912_9b51_8f14ff1c96b9", "R_IL6_gp130", "G", 8.44890497633548e-5),
    "RactG": ("mw6cce2109_0e32_4dd9_98ec_41173e8ef07d", "Ractive", "G", 0.980272509547246),
    "STAT3G": ("mw2b255f94_8018_4b99_bde8_918eeac45446", "STAT3", "G", 0.610636013508212),
    "pSTAT3G": ("mw48867e93_f170_44e8_ac7a_185b23e1bf3b", "pSTAT3", "G", 9.38936398649179),
    "geneG": ("mw0083d743_836f_4238_a17f_4602193d5bc0", "geneProduct", "G", None),
    "sRG": ("mwd31f52cc_04e7_40e0_885f_c7b2d9e62215", "sR", "G", 6.06410682471754),
    "IL6G": ("mw2c9b0499_3325_4394_8af3_bbf653a944a0", "IL6", "G", 0.0093481986616084),
    "sgp130G": ("mwd65b5b39_dc1b_4e77_a999_67277a880e5e", "sgp130", "G", 5.56973864471412),
    "C3G": ("mw6335d5d7_c7b0_4bc0_b883_f7ee4915c2c3", "sR_IL6_sgp130", "G", 0.136303909449242),
    "FcG": ("mwf7796221_1fea_4274_a93e_c00adbf5778c", "sgpFc", "G", -5.46278871281916e-28),
    "sRIL6FcG": ("mw2f3d48e0_c9c4_4a0e_aca3_9241eb573296", "sR_IL6_sgpFc", "G", 5.3253664019487e-28),
    "FcP": ("mwbc2f5464_81e5_43fd_8b39_f5a2756af72f", "sgpFc", "P", -6.85083014757454e-27),
    "supp": ("species_1", "CRP Suppression (%)", "S", None),
}

#: alias: (id, name, value)
PARAMETERS = {
    "kRLOn": ("kRLOn", "kRLOn", 0.384), "kRLOff": ("kRLOff", "kRLOff", 1.92),
    "kgpOn": ("kgp130On", "kgp130On", 20.52), "kgpOff": ("kgp130Off", "kgp130Off", 1.026),
    "kRAct": ("kRAct", "kRAct", 155.0), "kRint": ("kRint", "kRint", 1.96),
    "kRsynth": ("kRsynth", "kRsynth", 0.0685), "kRdeg": ("kRdeg", "kRintBasal", 0.1561),
    "kIL6Synth": ("kIL6Synth", "ksynthIL6", 0.0063), "kIL6Decay": ("kIL6Decay", "kdegIL6", 34.82),
    "kCRPDecay": ("kCRPDecay", "kdegCRP", 0.36),
    "KmSTATDephos": ("mwfd291862_195f_4979_94b5_b4e5ae1b7d52", "KmSTATDephos", 5.34),
    "VmSTATDephos": ("mwd36b0261_2480_4cab_9222_2cf8fb0e65dc", "VmSTATDephos", 0.62),
    "VmRDephos": ("mw1667a8e0_9d20_4e59_ba51_596148aba787", "VmRDephos", 0.525),
    "KmRDephos": ("mwfcf06900_5f2f_4bb3_bb1f_12023612b8a8", "KmRDephos", 155.3),
    "kcatSTATPhos": ("mw9442cd0e_4d7c_4ba6_a695_f84919bdf569", "kcatSTATPhos", 145.0),
    "KmSTATPhos": ("mwe8fc1900_f07d_468b_b5c8_15400a583c3d", "KmSTATPhos", 219.0),
    "KmProtSynth": ("mw08950572_81b0_4570_b2e4_b9c3462c1425", "KmProtSynth", 10.0),
    "VmProtSynth": ("mw92d854a7_8aaf_458e_b5e2_20a63ce9b654", "VmProtSynth", 330.0),
    "kCRPSecretion": ("mw862f1480_c60c_4863_a565_b2c1c77e238e", "kCRPSecretion", 0.5),
    "ksynthCRP": ("mw65c85954_5ca0_4df2_9e22_ff2aa3fbe3f1", "ksynthCRP", 0.42),
    "ksynthsR": ("mwc4c58db7_5535_4590_aaa5_bbc8ed53cdab", "ksynthsR", 0.1),
    "kdegsR": ("mw88a75379_f9a1_4acc_baeb_94c32bb736a5", "kdegsR", 0.3),
    "ksynthsgp130": ("mw1f41474c_c399_4a60_a53a_9926dd092e8d", "ksynthsgp130", 3.9),
    "kdegsgp130": ("mwbcb5a310_9b67_405e_89ec_43d25e8cc93d", "kdegsgp130", 1.0),
    "ksynthIL6Gut": ("mwa8d72918_f6c2_4d81_bf3b_fc2b464d5e69", "ksynthIL6Gut", 0.036),
    "kdegIL6Gut": ("mw06241335_b5f2_47ed_bdcc_ef77b68a2b98", "kdegIL6Gut", 1.0),
    "kT2S": ("mwce10678d_8197_408c_ad47_1daec8104cd8", "kdistTissueToSerum", 0.8473),
    "kS2T": ("mwc67e1333_079a_4bea_9b4f_0a1b15ddd7bb", "kdistSerumToTissue", 1.2125),
    "kRShedding": ("mw5832a2dc_ee18_44df_aa59_ccb21cb74df2", "kRShedding", 0.0054),
    "kintActiveR": ("mwf44f7f27_5bb1_4c7f_8964_560fa5e1743a", "kintActiveR", 0.01),
    "infusionTime": ("mwdc9e2eb7_c8f4_4026_a8d0_eff8ce1f1aea", "infusionTime", 1.0),
    "kAbS2L": ("mw640ca705_e089_4c64_a5f4_9562317e8c76", "kAbSerumToLiver", 0.0208333333333333),
    "kAbL2S": ("mw43ccad8c_cabf_4eaf_90d5_e06ae43be2cb", "kAbLiverToSerum", 0.0208333333333333),
    "kAbS2G": ("mw9f83bdd3_3aa1_47ff_abd6_54e5ce60704a", "kAbSerumToGut", 0.0104166666666667),
    "kAbG2S": ("mwa071fdbe_d498_4620_a7a4_940aa31c8161", "kAbGutToSerum", 0.0208333333333333),
    "VSerum": ("mw2c605ff5_50f5_45f2_a70c_53fcd866d14c", "VSerum", 2.88),
    "VLiver": ("mwc691d0d1_8c1b_4ce4_85c6_1315c42e97b1", "VLiver", 2.88),
    "VGut": ("mwa8283449_0e21_41a1_baac_ebf697b3555a", "VGut", 1.44),
    "VPeriph": ("mw6729db10_c577_4319_b355_2e3f11c0f942", "VPeriph", 0.576),
    "QSerumLiver": ("mw434adaf5_cef0_4a33_9ad2_a4e49e1fd825", "QSerumLiver", 0.06),
    "QSerumGut": ("mw6a5e10a9_d442_4dde_8ec3_6a26c9807374", "QSerumGut", 0.03),
    "QSerumPeriph": ("mw1366c3b5_e79b_44a7_93cc_ee09d383eabf", "QSerumPeriph", 0.001),
    "kAbS2P": ("mwf67caf9d_2f4b_4986_abf2_e6090bbb72ce", "kAbSerumToPeriph", 3.47222222222222e-4),
    "kAbP2S": ("mw4aea26f6_8860_414c_97f5_40d325196f2e", "kAbPeriphToSerum", 0.00173611111111111),
    "kdegAb": ("mwbd1d5bc3_d4b9_4aec_9b86_6f776da20a30", "kdegAb", 0.0018),
    "dose1": ("parameter_1", "Dose Q1W", 0.0), "dose2": ("parameter_2", "Dose Q2W", 0.0),
    "dose4": ("parameter_3", "Dose Q4W", 0.0),
    "CRP0": ("Metabolite_80", "Initial for CRP", 221.06367608557),
    "mv3": ("ModelValue_3", "Initial for Dose Q1W", 0.0),
    "mv4": ("ModelValue_4", "Initial for Dose Q2W", 0.0),
    "mv5": ("ModelValue_5", "Initial for Dose Q4W", 0.0),
}

INITIAL_ASSIGNMENTS = {"kAbS2L": "QSerumLiver/VSerum", "kAbL2S": "QSerumLiver/VLiver",
                       "kAbS2G": "QSerumGut/VSerum", "kAbG2S": "QSerumGut/VGut",
                       "kAbS2P": "QSerumPeriph/VSerum", "kAbP2S": "QSerumPeriph/VPeriph",
                       "CRP0": "CRPs", "mv3": "dose1", "mv4": "dose2", "mv5": "dose4"}

RULES = {"supp": "(CRPs - CRP0)/(CRP0/(-100))",
         "geneG": "VmProtSynth*pSTAT3G/(KmProtSynth + pSTAT3G)",
         "CRPL": "VmProtSynth*pSTAT3L/(KmProtSynth + pSTAT3L)"}

#: the five shapes of the file's function definitions
FUNCTIONS = {
    "binding": (("kon", "koff", "a", "b", "c", "V"), "(kon*a*b - koff*c)/V"),
    "first_order": (("k", "x", "V"), "k*x/V"),
    "zero_order": (("k", "V"), "k/V"),
    "michaelis_menten": (("Vm", "x", "Km", "V"), "Vm*x/(Km + x)/V"),
    "catalysed": (("kcat", "e", "x", "Km", "V"), "kcat*e*x/(Km + x)/V"),
}

#: (id, compartment alias or None, kinetic law, reactants, products, modifiers, reversible);
#: a compartment C makes the law ``C * f(.., C)`` as the file writes it
REACTIONS = [
    ("reaction_1", "S", "binding(kRLOn, kRLOff, sRs, IL6s, sRIL6s, S)", "sRs IL6s", "sRIL6s", "", True),
    ("reaction_2", "S", "binding(kgpOn, kgpOff, sRIL6s, sgp130s, C3s, S)", "sRIL6s sgp130s", "C3s", "", True),
    ("reaction_3", "S", "zero_order(kIL6Synth, S)", "", "IL6s", "", False),
    ("reaction_4", "S", "first_order(kIL6Decay, IL6s, S)", "IL6s", "", "", False),
    ("reaction_5", "S", "first_order(kCRPDecay, CRPs, S)", "CRPs", "", "", False),
    ("reaction_6", "L", "binding(kgpOn, kgpOff, sRIL6L, gp130L, RIL6gp130L, L)", "sRIL6L gp130L", "RIL6gp130L", "", True),
    ("reaction_7", "L", "binding(kRLOn, kRLOff, RL, IL6L, RIL6L, L)", "RL IL6L", "RIL6L", "", True),
    ("reaction_8", "L", "binding(kgpOn, kgpOff, RIL6L, gp130L, RIL6gp130L, L)", "RIL6L gp130L", "RIL6gp130L", "", True),
    ("reaction_16", "L", "first_order(kRAct, RIL6gp130L, L)", "RIL6gp130L", "RactL", "", False),
    ("reaction_9", "L", "catalysed(kcatSTATPhos, RactL, STAT3L, KmSTATPhos, L)", "STAT3L RactL", "pSTAT3L RactL", "", False),
    ("reaction_10", "L", "michaelis_menten(VmSTATDephos, pSTAT3L, KmSTATDephos, L)", "pSTAT3L", "STAT3L", "", False),
    ("reaction_15", "L", "first_order(kRdeg, RL, L)", "RL", "", "", False),
    ("reaction_11", "L", "first_order(kRint, RIL6L, L)", "RIL6L", "", "", False),
    ("reaction_12", "L", "first_order(kRint, RIL6gp130L, L)", "RIL6gp130L", "", "", False),
    ("reaction_13", "L", "first_order(kintActiveR, RactL, L)", "RactL", "", "", False),
    ("reaction_14", "L", "zero_order(kRsynth, L)", "", "RL", "", False),
    ("reaction_41", "G", "binding(kgpOn, kgpOff, sRIL6G, gp130G, RIL6gp130G, G)", "sRIL6G gp130G", "RIL6gp130G", "", True),
    ("reaction_46", "G", "first_order(kRAct, RIL6gp130G, G)", "RIL6gp130G", "RactG", "", False),
    ("reaction_42", "G", "catalysed(kcatSTATPhos, RactG, STAT3G, KmSTATPhos, G)", "STAT3G RactG", "pSTAT3G RactG", "", False),
    ("reaction_43", "G", "michaelis_menten(VmSTATDephos, pSTAT3G, KmSTATDephos, G)", "pSTAT3G", "STAT3G", "", False),
    ("reaction_44", "G", "first_order(kRint, RIL6gp130G, G)", "RIL6gp130G", "", "", False),
    ("reaction_45", "G", "first_order(kintActiveR, RactG, G)", "RactG", "", "", False),
    ("mwb675e13a_26c0_4b18_a8c3_0f5a62090ba4", "L", "michaelis_menten(VmRDephos, RactL, KmRDephos, L)", "RactL", "RIL6gp130L", "", False),
    ("mw64df7c9e_35da_4c7f_be56_c5dabfb060b6", "G", "michaelis_menten(VmRDephos, RactG, KmRDephos, G)", "RactG", "RIL6gp130G", "", False),
    ("mw391f3b8e_5649_4851_b2e2_782cb3e015b6", "L", "zero_order(kRsynth, L)", "", "gp130L", "", False),
    ("mw4a00a3a4_778f_4952_8100_2dc3cc2b7046", "L", "first_order(kRdeg, gp130L, L)", "gp130L", "", "", False),
    ("mw6db30657_4e56_4c3a_8575_9c67393dde4f", "G", "zero_order(kRsynth, G)", "", "gp130G", "", False),
    ("mw6f470e13_f0e4_4294_83d8_59dd5670d10c", "G", "first_order(kRdeg, gp130G, G)", "gp130G", "", "", False),
    ("mwfb35eca9_7afc_4ba8_a46c_738cab57eb9f", None, "kS2T*sRs - kT2S*sRG", "sRs", "sRG", "", True),
    ("mw61d2af92_6da5_41ce_b90e_aa6f430e6ba1", None, "kS2T*IL6s - kT2S*IL6G", "IL6s", "IL6G", "", True),
    ("mw4c099d5c_200f_474e_8ec1_59e9223a8afd", "G", "binding(kRLOn, kRLOff, sRG, IL6G, sRIL6G, G)", "sRG IL6G", "sRIL6G", "", True),
    ("mwbe8567ce_3349_4442_8b12_53cd9bc168e7", None, "kS2T*sRIL6s - kT2S*sRIL6G", "sRIL6s", "sRIL6G", "", True),
    ("mw12a9fa7e_a273_4c1e_b970_ed33f3a9a705", None, "kS2T*sRs - kT2S*sRL", "sRs", "sRL", "", True),
    ("mw1046000b_e1e8_4f6f_82a1_532d2aa793bb", None, "kS2T*IL6s - kT2S*IL6L", "IL6s", "IL6L", "", True),
    ("mw8e8b65a8_6830_4091_9a40_19645e8fe554", None, "kS2T*sRIL6s - kT2S*sRIL6L", "sRIL6s", "sRIL6L", "", True),
    ("mwa812f08f_1035_42bd_82d2_72d691308f88", "L", "binding(kRLOn, kRLOff, sRL, IL6L, sRIL6L, L)", "sRL IL6L", "sRIL6L", "", True),
    ("mwab0012ac_e5f2_4904_9893_820fd210402e", "L", "first_order(kCRPSecretion, CRPL, L)", "", "CRPexL", "CRPL", False),
    ("mwcdc24bd4_d9e4_47fe_8300_d222d853111c", None, "kS2T*CRPs - kT2S*CRPexL", "CRPs", "CRPexL", "", True),
    ("mwff2ebcf1_dcf1_47b9_9cac_7306fc6f7f76", "S", "zero_order(ksynthCRP, S)", "", "CRPs", "", False),
    ("mw1c5a5ff7_5130_490f_a740_6a744ccf8a94", None, "kS2T*sgp130s - kT2S*sgp130G", "sgp130s", "sgp130G", "", True),
    ("mw7b56053c_7256_4703_a8c3_4fd46b2c23d0", None, "kS2T*sgp130s - kT2S*sgp130L", "sgp130s", "sgp130L", "", True),
    ("mw8be158f1_ea81_45bf_80d4_6e31cd83fe6c", "G", "binding(kgpOn, kgpOff, sgp130G, sRIL6G, C3G, G)", "sgp130G sRIL6G", "C3G", "", True),
    ("mwd77df15b_fed7_41a8_a3d6_b0f6c590c5f6", "L", "binding(kgpOn, kgpOff, sRIL6L, sgp130L, C3L, L)", "sRIL6L sgp130L", "C3L", "", True),
    ("mw01babcdf_0f03_46b0_81b1_201cc846e361", None, "kS2T*C3s - kT2S*C3G", "C3s", "C3G", "", True),
    ("mwae5dbb44_7de5_46ab_8c20_ac4f8956b0f0", None, "kS2T*C3s - kT2S*C3L", "C3s", "C3L", "", True),
    ("mw432fde6e_59ab_47f0_9fb1_086433a602e3", "S", "zero_order(ksynthsR, S)", "", "sRs", "", False),
    ("mw41c27823_d7ee_4554_9eac_3d5beec8e854", "S", "first_order(kdegsR, sRs, S)", "sRs", "", "", False),
    ("mw50c6744c_e883_4612_8663_e38750cbad1b", "S", "zero_order(ksynthsgp130, S)", "", "sgp130s", "", False),
    ("mwb6a99eb5_ea4c_4733_98dd_1daf5ec6b0db", "S", "first_order(kdegsgp130, sgp130s, S)", "sgp130s", "", "", False),
    ("mw1ce0c484_681f_4d85_8ffe_392d0c100cfa", "G", "zero_order(ksynthIL6Gut, G)", "", "IL6G", "", False),
    ("mwf913ea0b_785a_4701_ac91_b18ab5dd5a89", "G", "first_order(kdegIL6Gut, IL6G, G)", "IL6G", "", "", False),
    ("mw71d90b81_8211_4039_8807_12a7fe03206c", "S", "first_order(kRShedding, CRPs, S)", "CRPs", "CRPs sRs", "", False),
    ("mwdf4ba845_7271_4ada_b43f_fdac83df3b5c", None, "kAbS2P*Fcs - kAbP2S*FcP", "Fcs", "FcP", "", True),
    ("mwc32a28fa_525c_44af_8d2c_e728c21eb90a", "S", "binding(kgpOn, kgpOff, Fcs, sRIL6s, sRIL6Fcs, S)", "Fcs sRIL6s", "sRIL6Fcs", "", True),
    ("mw14d351b9_623a_48e8_a21c_854411039120", "S", "first_order(kdegAb, sRIL6Fcs, S)", "sRIL6Fcs", "", "", False),
    ("mwba7f4605_8571_439b_b3ab_eb0b43808db8", "S", "first_order(kdegAb, Fcs, S)", "Fcs", "", "", False),
    ("mw5be6711a_526a_4a58_80c6_d353dcabdf87", "G", "first_order(kdegAb, sRIL6FcG, G)", "sRIL6FcG", "", "", False),
    ("mw1d3068d7_5679_41ee_9892_984e33012070", "G", "binding(kgpOn, kgpOff, FcG, sRIL6G, sRIL6FcG, G)", "FcG sRIL6G", "sRIL6FcG", "", True),
    ("mwb341c690_7147_46a1_8577_201598de3bf1", "L", "binding(kgpOn, kgpOff, FcL, sRIL6L, sRIL6FcL, L)", "FcL sRIL6L", "sRIL6FcL", "", True),
    ("mw5d9fcd0c_ca08_4444_b509_2ea4777e0025", "L", "first_order(kdegAb, sRIL6FcL, L)", "sRIL6FcL", "", "", False),
    ("mw131e3c9d_e77d_48c0_bdbb_77b2c10aaf3d", None, "kAbS2L*Fcs - kAbL2S*FcL", "Fcs", "FcL", "", True),
    ("mw14940d1f_6a1f_47cb_8170_801ba645f4c1", None, "kAbS2G*Fcs - kAbG2S*FcG", "Fcs", "FcG", "", True),
    ("mwb62106e7_e959_4a1d_9a00_b36d4e19a48f", None, "kAbS2L*sRIL6Fcs - kAbL2S*sRIL6FcL", "sRIL6Fcs", "sRIL6FcL", "", True),
    ("mwad648b6c_45ca_4f41_9747_06db1f6060fc", None, "kAbS2G*sRIL6Fcs - kAbG2S*sRIL6FcG", "sRIL6Fcs", "sRIL6FcG", "", True),
    ("mw2ae288ab_7d03_4a84_a024_c711ad2b77e6", "L", "first_order(kdegAb, FcL, L)", "FcL", "", "", False),
    ("mw9629d028_fcc0_4886_9e4d_36eecdb0381d", "G", "first_order(kdegAb, FcG, G)", "FcG", "", "", False),
]

#: (id, name, trigger time in hours, doses given: "1" weekly, "2" two-weekly, "4" four-weekly)
EVENTS = [("event_1", "Week1", 168, "1"), ("event_2", "Week2", 336, "12"),
          ("event_3", "Week3", 504, "1"), ("event_4", "Week4", 672, "124"),
          ("event_5", "Week5", 840, "1"), ("event_6", "Week6", 1008, "12"),
          ("event_7", "Week7", 1176, "1"), ("event_8", "Week8", 1344, "124"),
          ("event_9", "Week9", 1512, "1"), ("event_10", "Week10", 1680, "12"),
          ("event_11", "Week11", 1848, "1"), ("event_12", "Week12", 2016, "124"),
          ("event_13", "Week0", 0.1, "1+2+4")]


def _ids() -> dict[str, str]:
    names = {a: v[0] for a, v in COMPARTMENTS.items()}
    names.update({a: v[0] for a, v in SPECIES.items()})
    names.update({a: v[0] for a, v in PARAMETERS.items()})
    return names


def _math(formula: str, names: dict[str, str]):
    text = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", lambda m: names.get(m.group(0), m.group(0)), formula)
    ast = libsbml.parseL3Formula(text)
    if ast is None:
        raise ValueError(f"{formula}: {libsbml.getLastParseL3Error()}")
    return ast


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"{what}: {libsbml.OperationReturnValue_toString(code)}")


def build() -> libsbml.SBMLDocument:
    names = _ids()
    doc = libsbml.SBMLDocument(2, 4)
    m = doc.createModel()
    m.setId("MODEL1408050003")
    m.setName("Dwivedi2014 - Crohns IL6 Disease model - sgp130 activity")
    for fid, (args, body) in FUNCTIONS.items():
        f = m.createFunctionDefinition()
        f.setId(fid)
        _check(f.setMath(libsbml.parseL3Formula(f"lambda({', '.join(args)}, {body})")), fid)
    for uid, kind, mult, scale in (("time", libsbml.UNIT_KIND_SECOND, 3600.0, 0),
                                   ("substance", libsbml.UNIT_KIND_MOLE, 1.0, -9)):
        ud = m.createUnitDefinition()
        ud.setId(uid)
        ud.setName(uid)
        u = ud.createUnit()
        u.setKind(kind)
        u.setExponent(1)
        u.setScale(scale)
        u.setMultiplier(mult)
    for cid, name in COMPARTMENTS.values():
        c = m.createCompartment()
        c.setId(cid)
        c.setName(name)
        c.setSize(1.0)
        c.setConstant(True)
        c.setSpatialDimensions(3)
    for sid, name, comp, amount in SPECIES.values():
        s = m.createSpecies()
        s.setId(sid)
        s.setName(name)
        s.setCompartment(COMPARTMENTS[comp][0])
        if amount is not None:
            s.setInitialAmount(amount)
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(False)
        s.setConstant(False)
    for pid, name, value in PARAMETERS.values():
        p = m.createParameter()
        p.setId(pid)
        p.setName(name)
        p.setValue(value)
        p.setConstant(True)
    for alias, formula in INITIAL_ASSIGNMENTS.items():
        ia = m.createInitialAssignment()
        ia.setSymbol(names[alias])
        _check(ia.setMath(_math(formula, names)), alias)
    for alias, formula in RULES.items():
        r = m.createAssignmentRule()
        r.setVariable(names[alias])
        _check(r.setMath(_math(formula, names)), alias)
    for rid, comp, law, reactants, products, modifiers, reversible in REACTIONS:
        r = m.createReaction()
        r.setId(rid)
        r.setName(rid)
        r.setReversible(reversible)
        for alias in reactants.split():
            ref = r.createReactant()
            ref.setSpecies(names[alias])
            ref.setStoichiometry(1.0)
        for alias in products.split():
            ref = r.createProduct()
            ref.setSpecies(names[alias])
            ref.setStoichiometry(1.0)
        for alias in modifiers.split():
            r.createModifier().setSpecies(names[alias])
        kl = r.createKineticLaw()
        _check(kl.setMath(_math(f"{comp}*{law}" if comp else law, names)), rid)
    for eid, name, when, doses in EVENTS:
        e = m.createEvent()
        e.setId(eid)
        e.setName(name)
        e.setUseValuesFromTriggerTime(False)
        _check(e.createTrigger().setMath(_math(f"time >= {when}", names)), eid)
        _check(e.createDelay().setMath(_math("0", names)), eid)
        given = {"1": "mv3", "2": "mv4", "4": "mv5"}
        if "+" in doses:   # the week-0 event writes each dose's term apart
            amount = " + ".join(f"{given[d]}*2.346" for d in doses.split("+"))
        elif len(doses) == 1:
            amount = f"{given[doses]}*2.346"
        else:
            amount = "(" + " + ".join(given[d] for d in doses) + ")*2.346"
        ea = e.createEventAssignment()
        ea.setVariable(names["Fcs"])
        _check(ea.setMath(_math(f"Fcs + {amount}", names)), eid)
    return doc


HEADER = """<!-- BioModels BIOMD0000000536: Dwivedi G, Fitz L, Hegen M, Martin SW, Harrold J,
     Heatherington A, Li C (2014) A multiscale model of interleukin-6-mediated immune regulation
     in Crohn's disease and its application in drug discovery and development. CPT
     Pharmacometrics Syst Pharmacol 3:e89, doi:10.1038/psp.2013.64 ("Dwivedi2014 - Crohns IL6
     Disease model - sgp130 activity"). Dedicated to the public domain (CC0) by BioModels.
     Transcribed from the curated file by transcribe_BIOMD0000000536.py (beside this file),
     which says what differs: annotations left out, the 49 function definitions written as
     the 5 shapes they repeat. -->
"""


def main() -> None:
    doc = build()
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    n = doc.checkConsistency()
    errors = [doc.getError(i) for i in range(n)
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        raise SystemExit("\n".join(e.getMessage() for e in errors))
    text = libsbml.writeSBMLToString(doc)
    head, _, rest = text.partition("\n")
    OUT.write_text(head + "\n" + HEADER + rest)
    m = doc.getModel()
    print(f"wrote {OUT} ({m.getNumSpecies()} species, {m.getNumReactions()} reactions, "
          f"{m.getNumEvents()} events)")


if __name__ == "__main__":
    main()
