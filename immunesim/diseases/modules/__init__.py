"""The autoimmune disease model, one module per file, each plain data in the model-file format.

Every module exposes ``SPECIES``, ``PARAMETERS``, ``RULES`` and ``PROCESSES``: lists of
mappings exactly as in a model YAML file (see :mod:`immunesim.model.loader`), so the same
definition feeds the kernels, the parameter tables (``immunesim list parameters``) and SBML
export. Modules refer to each other's names (a cytokine's producers live with the cells);
:func:`immunesim.diseases.build.model_data` joins them and the model layer checks that every
name resolves.

Units throughout: time in days; cells in cells/uL (blood-equivalent density of the
autoreactive clones and their tissue counterparts); cytokines in pg/mL; autoantibody in
AU/mL; tissue quantities as fractions of the target organ; CRP in mg/L.
"""

from . import antigen_innate, bcells, biomarkers, cytokines, infection, tcells, tissue

#: assembly order (species order in results follows it)
MODULES = (antigen_innate, tcells, bcells, cytokines, tissue, biomarkers, infection)

