"""sippet.proxy's core is sans-I/O: only the binder (service.py) may do I/O, and no core
module imports it or the stack."""

from __future__ import annotations

import ast
from pathlib import Path

import sippet.proxy

PACKAGE = Path(sippet.proxy.__file__).parent
BINDER = "service.py"
FORBIDDEN = {"asyncio", "socket", "time", "select", "selectors", "threading", "os", "io"}
FORBIDDEN_SIPPET = {"sippet.stack", "sippet.transports", "sippet.proxy.service", "sippet.resolver"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_the_core_does_no_io() -> None:
    modules = sorted(p for p in PACKAGE.glob("*.py") if p.name != BINDER)
    assert len(modules) >= 9
    for path in modules:
        names = _imports(path)
        top = {name.split(".")[0] for name in names}
        assert not top & FORBIDDEN, f"{path.name} imports {top & FORBIDDEN}"
        below = {n for n in names if any(n.startswith(f) for f in FORBIDDEN_SIPPET)}
        assert not below, f"{path.name} imports {below}"


def test_the_binder_is_the_one_that_uses_asyncio() -> None:
    assert "asyncio" in _imports(PACKAGE / BINDER)
