"""Published models reproduced with the engine, shipped as model files with their sources.

- ``alexander_wahl_2010``: Alexander & Wahl (2010), Bull Math Biol 73:33,
  doi:10.1007/s11538-010-9519-2 (BioModels BIOMD0000000289).
- ``baker_2013``: Baker et al. (2013), Math Med Biol 30:311, doi:10.1093/imammb/dqs026
  (BioModels BIOMD0000000550).

The tests check each against the numbers published with it.
"""

from __future__ import annotations

from importlib import resources

from ...errors import ModelError
from ...model.loader import load_model
from ...model.model import Model

REFERENCE_MODELS = ("alexander_wahl_2010", "baker_2013")


def reference_model(name: str) -> Model:
    """Load a shipped reference model by name (see ``REFERENCE_MODELS``)."""
    if name not in REFERENCE_MODELS:
        raise ModelError(f"unknown reference model '{name}'; available: {', '.join(REFERENCE_MODELS)}")
    with resources.as_file(resources.files(__name__).joinpath(f"{name}.yaml")) as path:
        return load_model(path)
