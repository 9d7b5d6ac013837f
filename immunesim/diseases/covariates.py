"""Patient covariates as documented multipliers on model parameters or initial values.

Genetic risk enters as a multiplier per risk allele on the mechanism the gene acts on. The
per-allele factors are assumptions of this model (marked), chosen to be modest, in the
direction of the published associations cited; they are not fitted odds ratios.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ModelError
from ..model.components import check_number
from ..validation import clip, did_you_mean

#: name -> (unit, default, (low, high), target kind, target, per-unit rule, documentation)
COVARIATES: dict[str, dict[str, Any]] = {
    "body_weight": dict(unit="kg", default=70.0, range=(20.0, 250.0), kind="set_parameter",
                        target="body_weight",
                        doc="body weight; scales weight-based readouts (insulin need) and, in "
                            "the interventions layer, weight-based dosing"),
    "hla_risk_alleles": dict(unit="alleles", default=0, range=(0, 2), kind="multiply_parameter",
                             target="m_hla", factor=1.5,
                             doc="HLA class II risk alleles (e.g. HLA-DRB1 shared epitope in RA, "
                                 "DR3/DR4 in T1D): x1.5 antigen presentation per allele (assumed; "
                                 "direction from Gregersen et al. 1987, doi:10.1002/art.1780301102)"),
    "ptpn22_risk_alleles": dict(unit="alleles", default=0, range=(0, 2), kind="multiply_parameter",
                                target="m_ptpn22", factor=1.25,
                                doc="PTPN22 R620W: x1.25 effective TCR signal per allele, i.e. a "
                                    "lower activation threshold (assumed; association from "
                                    "Begovich et al. 2004, doi:10.1086/422827)"),
    "ctla4_risk_alleles": dict(unit="alleles", default=0, range=(0, 2), kind="multiply_parameter",
                               target="m_ctla4", factor=0.85,
                               doc="CTLA4 CT60 risk allele: x0.85 Treg CTLA-4 function per allele "
                                   "(assumed; association from Ueda et al. 2003, "
                                   "doi:10.1038/nature01621)"),
    "baseline_crp": dict(unit="mg/L", default=None, range=(0.0, 500.0), kind="set_initial",
                         target="CRP", doc="measured CRP at the start"),
    "baseline_autoantibody": dict(unit="AU/mL", default=None, range=(0.0, 1e6), kind="set_initial",
                                  target="AutoAb", doc="measured autoantibody titer at the start"),
}


def apply_covariates(data: dict, covariates: Mapping[str, Any], where: str = "covariates") -> None:
    """Apply ``covariates`` to model-file ``data`` in place; ModelError naming every bad entry."""
    problems = []
    params = {p["name"]: p for p in data["parameters"]}
    species = {s["name"]: s for s in data["species"]}
    for name, value in covariates.items():
        spec = COVARIATES.get(name)
        if spec is None:
            hint = did_you_mean(name, COVARIATES, f"allowed: {', '.join(COVARIATES)}")
            problems.append(f"{where}.{clip(name, 40)}: unknown covariate; {hint}")
            continue
        try:
            v = check_number(value, f"{where}.{name}")
        except ModelError as exc:
            problems.append(str(exc))
            continue
        lo, hi = spec["range"]
        if not lo <= v <= hi:
            problems.append(f"{where}.{name}: {v} {spec['unit']} is outside the allowed range "
                            f"[{lo}, {hi}] {spec['unit']}")
            continue
        if spec["kind"] == "multiply_parameter":
            if v != int(v):
                problems.append(f"{where}.{name}: allele count must be 0, 1 or 2, got {v}")
                continue
            p = params[spec["target"]]
            p["value"] = p["value"] * spec["factor"] ** int(v)
            p["source"] = f"{p['source']}; x{spec['factor']}^{int(v)} for {name} = {int(v)}"
        elif spec["kind"] == "set_parameter":
            params[spec["target"]]["value"] = v
            params[spec["target"]]["source"] = f"covariate {name}"
        else:
            species[spec["target"]]["initial"] = v
    if problems:
        raise ModelError(problems)
