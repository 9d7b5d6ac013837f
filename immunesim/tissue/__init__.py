"""The agent-based tissue core: a lattice of tissue cells with immune agents and cytokine fields.

:class:`Tissue` (state and step), :class:`TissueConfig` (the patch), :mod:`.params`
(every rule's parameter, unit and source), :func:`meanfield_model` (the well-mixed limit
as an ODE model). Hot loops live in ``immunesim.kernels.tissue_*``.
"""

from .config import TissueConfig
from .lattice import DRUG_HOOKS, Tissue, drug_vector, no_drug
from .meanfield import meanfield_model

__all__ = ["DRUG_HOOKS", "Tissue", "TissueConfig", "drug_vector", "meanfield_model", "no_drug"]
