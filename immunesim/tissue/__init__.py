"""The agent-based tissue core: a lattice of tissue cells with immune agents and cytokine fields.

:class:`Tissue` (state and step), :class:`TissueConfig` (the patch), :mod:`.params`
(every rule's parameter, unit and source), :func:`meanfield_model` (the well-mixed limit
as an ODE model). Hot loops live in ``immunesim.kernels.tissue_*``.
"""

from .config import TissueConfig
from .meanfield import meanfield_model

#: the lattice's names, imported on first use: its kernels need Numba, which a process that
#: never builds a tissue (a single ODE run on the ahead-of-time kernels) does not load
_LATTICE = ("DRUG_HOOKS", "Tissue", "drug_vector", "no_drug")


def __getattr__(name):
    if name in _LATTICE:
        from . import lattice  # on first use: Numba loads with it (see _LATTICE)

        return getattr(lattice, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["DRUG_HOOKS", "Tissue", "TissueConfig", "drug_vector", "meanfield_model", "no_drug"]
