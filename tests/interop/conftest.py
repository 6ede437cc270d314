"""Fixtures for the interop tests: installed peers, sippet's UAS, Kamailio, SIPp runs.

SIPp and Kamailio are required: when one is missing the tests FAIL (CI installs both with
apt), they are never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from .sip_peers import HOST, Kamailio, MissingTool, SippetUAS, SippetUASFactory, find_tool


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interop: runs sippet against SIPp and Kamailio on loopback (real sockets)"
    )


def _require(name: str) -> str:
    try:
        return find_tool(name)
    except MissingTool as error:
        message = str(error)
    # Outside the except block: report the missing tool alone, without a chained traceback.
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def sipp_bin() -> str:
    return _require("sipp")


@pytest.fixture(scope="session")
def kamailio_bin() -> str:
    return _require("kamailio")


@pytest.fixture
def kamailio(kamailio_bin: str, tmp_path: Path) -> Iterator[Kamailio]:
    """Kamailio answering OPTIONS statelessly on a free loopback port; stopped afterwards."""
    server = Kamailio(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def sippet_uas(tmp_path: Path) -> Iterator[SippetUASFactory]:
    """Start `sippet uas` with extra arguments; every started server is stopped afterwards."""
    servers: list[SippetUAS] = []

    def start(extra: Sequence[str] = (), host: str = HOST) -> SippetUAS:
        server = SippetUAS(tmp_path, extra, host=host)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
