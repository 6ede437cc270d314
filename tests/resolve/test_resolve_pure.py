"""The RFC 3263 core stays sans-I/O: no module but the adapter imports an I/O library."""

from __future__ import annotations

import ast
from pathlib import Path

import sippet.resolve

PACKAGE = Path(sippet.resolve.__file__).parent
ADAPTER = "dns_resolver.py"


def test_pure_modules_do_no_io() -> None:
    forbidden = {"asyncio", "socket", "time", "select", "selectors", "threading", "os", "dns"}
    checked = 0
    for path in PACKAGE.glob("*.py"):
        if path.name == ADAPTER:
            continue
        checked += 1
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & forbidden, f"{path.name} imports {names & forbidden}"
    assert checked >= 8
