"""The endpoint rules and the response builder are sans-I/O: no clock, socket or loop."""

from __future__ import annotations

import ast
from pathlib import Path

import sippet

ROOT = Path(sippet.__file__).parent
FORBIDDEN = {"asyncio", "socket", "time", "select", "selectors", "threading", "os"}


def imported_roots(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_endpoint_and_responses_do_no_io() -> None:
    paths = [ROOT / "responses.py", *sorted((ROOT / "endpoint").glob("*.py"))]
    assert len(paths) >= 4  # responses, endpoint/__init__, uas, uac
    for path in paths:
        assert not imported_roots(path) & FORBIDDEN, path.name
        # Nor anything from the layers above (stack, transports, CLI).
        modules = {
            node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not {
            m for m in modules if m.startswith(("sippet.stack", "sippet.transports", "sippet.cli"))
        }
