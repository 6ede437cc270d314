"""The tree's layers (docs/DESIGN.md): a module never imports from a layer above it. Here:
nothing below the command line imports ``sippet.cli``, which is argument parsing only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "sippet"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_below_the_cli_imports_it() -> None:
    below = [
        path
        for path in PACKAGE.rglob("*.py")
        if "cli" not in path.relative_to(PACKAGE).parts and path.name != "__main__.py"
    ]
    assert len(below) > 100  # the whole package, not an empty glob
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(path) if name.split(".")[:2] == ["sippet", "cli"]
        )
        for path in below
    }
    assert {path: names for path, names in offenders.items() if names} == {}
