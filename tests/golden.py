"""Outputs of the shipped scenarios as they were before a refactoring, kept to prove it changed
no result (issue 17: "every scenario's outputs identical before and after").

``check(name, path)`` compares an output table (CSV) with ``tests/golden/<name>``: the same
columns and rows, text cells equal, numbers equal to 1e-6 relative (the tables print six
significant digits; the tolerance allows only a last-digit difference between CPUs, whose
compiled kernels may round differently). With ``IMMUNESIM_WRITE_GOLDEN=1`` it (re)writes the
file instead: only do that for a change that is meant to alter results, and say so in the
commit.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(text.splitlines()))


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) and math.isnan(y):
        return True
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12)


def check(name: str, path) -> None:
    text = Path(path).read_text()
    ref = GOLDEN / name
    if os.environ.get("IMMUNESIM_WRITE_GOLDEN") == "1":
        ref.write_text(text)
        return
    assert ref.exists(), f"no golden output {ref}; write it with IMMUNESIM_WRITE_GOLDEN=1"
    got, want = _rows(text), _rows(ref.read_text())
    assert got[0] == want[0], f"{name}: columns changed: {got[0]} != {want[0]}"
    assert len(got) == len(want), f"{name}: {len(got)} rows, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got[1:], want[1:]), start=1):
        bad = [(c, x, y) for c, x, y in zip(want[0], g, w) if not _same(x, y)]
        assert not bad, f"{name} row {i}: (column, now, before) {bad[:5]}"
