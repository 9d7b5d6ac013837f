"""Drugs: the library (:mod:`.library`), PK models (:mod:`.pk`), regimens, exposure metrics."""

from .library import drug, drug_names
from .pk import pk_model, scaled_parameters
from .regimen import Regimen
from .simulate_pk import simulate_pk

__all__ = ["Regimen", "drug", "drug_names", "pk_model", "scaled_parameters", "simulate_pk"]
