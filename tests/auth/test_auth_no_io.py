"""sippet.auth is sans-I/O: no sockets, event loop, clock, threads or files."""

from __future__ import annotations

import ast
from pathlib import Path

import sippet.auth

PACKAGE = Path(sippet.auth.__file__).parent
FORBIDDEN = {"asyncio", "socket", "time", "select", "selectors", "threading", "os", "io"}


def test_package_does_no_io() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} opens a file"
                continue
            else:
                continue
            assert not names & FORBIDDEN, f"{path.name} imports {names & FORBIDDEN}"
