"""The registrar core stays sans-I/O: only the stores and the stack binding do I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import sippet.registrar

PACKAGE = Path(sippet.registrar.__file__).parent
IO_SIDE = {"service.py"}
FORBIDDEN = {"asyncio", "socket", "time", "select", "selectors", "threading", "sqlite3", "redis"}


def imported_roots(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names.add(module.split(".")[0])
            if module.startswith(("sippet.stack", "sippet.transports", "sippet.registrar.stores")):
                names.add(module)
    return names


def test_pure_modules_do_no_io() -> None:
    pure = [path for path in PACKAGE.glob("*.py") if path.name not in IO_SIDE]
    assert len(pure) >= 7
    for path in pure:
        roots = imported_roots(path)
        assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
        io_layers = {name for name in roots if name.startswith("sippet.")}
        assert not io_layers, f"{path.name} imports {io_layers}"
