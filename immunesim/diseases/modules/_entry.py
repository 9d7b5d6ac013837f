"""Helpers that keep the module files readable."""


def P(name, value, unit, source, bounds=None):
    """A parameter entry in model-file form (bounds default to (0, inf))."""
    out = {"name": name, "value": value, "unit": unit, "source": source}
    if bounds is not None:
        out["bounds"] = list(bounds)
    return out


def S(name, unit, initial, description):
    return {"name": name, "unit": unit, "initial": initial, "description": description}


def R(name, expression, unit, description=""):
    return {"name": name, "expression": expression, "unit": unit, "description": description}


def X(name, rate, stoichiometry, description=""):
    return {"name": name, "rate": rate, "stoichiometry": stoichiometry, "description": description}


FRACTION = (0.0, 1.0)
