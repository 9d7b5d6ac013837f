"""The house is one-way (README, Architecture): every module imports only from layers below its
own, never a private name of another module, and no two modules import each other, directly
or round a cycle. Read from the source with ``ast``, so the test needs nothing installed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "immunesim"

#: rank of each top-level module or package: imports go to a strictly lower rank, or stay
#: inside the same package (README, Architecture, has the same table as a diagram)
LAYERS = {
    "errors": 0, "limits": 0,
    "validation": 1, "durable": 1, "provenance": 1,
    "safe_yaml": 2, "units": 2,
    "model": 3,
    "kernels": 4, "solvers": 5, "status": 5, "codegen": 6,
    "events": 7, "result": 7, "simulate": 8,
    "diseases": 9, "drugs": 10, "tissue": 10,
    "scenario": 11,
    "cohort": 12,
    "analysis": 13, "fitting": 13,
    "plot": 14,
    "io": 15,
    "cli": 16,
    "__init__": 17,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path):
    """(target module, imported name or None, line) of every immunesim import in ``path``."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("immunesim"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:
                    yield sub, None, node.lineno
                else:
                    yield target, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("immunesim"):
                    yield alias.name, None, node.lineno


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return top, LAYERS[top]


def test_every_module_has_a_layer():
    missing = sorted({m.split(".")[1] for m in MODULES if "." in m} - set(LAYERS))
    assert not missing, f"add these to LAYERS (and to the README's diagram): {missing}"


def test_imports_only_go_down():
    bad = []
    for name, path in MODULES.items():
        top, rank = _layer(name)
        for target, _, line in _imports(name, path):
            ttop, trank = _layer(target)
            if ttop != top and trank >= rank:
                bad.append(f"{path.relative_to(PKG.parent)}:{line}: {name} -> {target}")
    assert not bad, "imports that go up or sideways:\n" + "\n".join(bad)


def test_no_private_name_is_imported_from_another_module():
    bad = [f"{path.relative_to(PKG.parent)}:{line}: {target}.{what}"
           for name, path in MODULES.items()
           for target, what, line in _imports(name, path)
           if what and what.startswith("_") and target != name]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {name: {t for t, _, _ in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # a package imports its own modules to re-export them; a module importing its package's
    # __init__ would be the cycle, so those edges stay in
    state, stack, cycles = {}, [], []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in graph[n]:
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("bad", ["up", "private"])
def test_the_checks_can_fail(bad, tmp_path, monkeypatch):
    # the checks above read real imports: an upward or private import in a module is caught
    src = {"up": "from ..cli import main\n", "private": "from ..scenario.schema import _overrides\n"}[bad]
    fake = tmp_path / "immunesim" / "model" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(src)
    hits = list(_imports("immunesim.model.fake", fake))
    if bad == "up":
        assert [t for t, _, _ in hits] == ["immunesim.cli"]
        assert _layer("immunesim.cli")[1] > _layer("immunesim.model.fake")[1]
    else:
        assert hits == [("immunesim.scenario.schema", "_overrides", 1)]


def test_imports_sit_at_module_top_unless_a_comment_says_why():
    # the command line imports each command's modules when the command runs (its docstring
    # says why: `immunesim --help` and `validate` start without Numba, SymPy or Dask)
    bad = []
    for name, path in MODULES.items():
        if name == "immunesim.cli":
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if (isinstance(inner, ast.ImportFrom) and inner.level
                        and "#" not in lines[inner.end_lineno - 1]):
                    bad.append(f"{path.relative_to(PKG.parent)}:{inner.lineno}")
    assert not bad, "imports inside functions without a reason:\n" + "\n".join(bad)
