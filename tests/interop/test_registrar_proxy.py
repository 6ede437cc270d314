"""examples/registrar_proxy.py against real peers: SIPp registers SIPp callees as contacts,
a SIPp caller calls their AOR through the example (UDP on loopback).

proxy-uac.xml fails a call whose 2xx lacks Record-Route and sends ACK and BYE through the
route set; proxy-uas.xml fails a call whose ACK or BYE did not come through a sippet proxy;
proxy-uas-ringing.xml rings until cancelled.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registrar.redis_server import RedisServer

from interop.sip_peers import (
    DATA,
    HOST,
    REPO,
    Sipp,
    SippetServer,
    free_udp_port,
    screen_row,
)

EXAMPLE = REPO / "examples" / "registrar_proxy.py"
REGISTER = DATA / "sipp" / "register-contact.xml"
UAC = DATA / "sipp" / "proxy-uac.xml"
UAS = DATA / "sipp" / "proxy-uas.xml"
UAS_RINGING = DATA / "sipp" / "proxy-uas-ringing.xml"
DOMAIN = "example.com"
CALLS = 5


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


def start_example(tmp_path: Path, store: str) -> SippetServer:
    port = free_udp_port()
    command = [sys.executable, str(EXAMPLE), "--listen", f"udp:{HOST}:{port}"]
    command += ["--domain", DOMAIN, "--store", store]
    return SippetServer(tmp_path, "registrar-proxy", command, port).start()


def register(tmp_path: Path, proxy_port: int, user: str, contact_port: int) -> None:
    """One REGISTER of ``sip:USER@HOST:CONTACT_PORT`` for ``sip:USER@example.com``."""
    args = ["-sf", str(REGISTER), f"{HOST}:{proxy_port}", "-s", user]
    args += ["-key", "domain", DOMAIN, "-key", "contact_port", str(contact_port)]
    run = Sipp(tmp_path, f"register-{contact_port}", args, calls=1, timeout=15).run()
    assert run.stats is not None and run.stats.successful == 1, run.report()


def callee(tmp_path: Path, name: str, scenario: Path, calls: int) -> Sipp:
    args = ["-sf", str(scenario)]
    return Sipp(tmp_path, name, args, calls=calls, timeout=40).start().wait_bound()


def caller(tmp_path: Path, proxy_port: int, calls: int) -> Sipp:
    args = ["-sf", str(UAC), f"{HOST}:{proxy_port}", "-s", "bob", "-r", "10"]
    return Sipp(tmp_path, "uac", args, calls=calls, timeout=40).start()


@pytest.mark.parametrize("store_kind", ["memory", "sqlite", "redis"])
def test_a_registered_callee_is_called_through_the_record_routing_proxy(
    tmp_path: Path, store_kind: str, request: pytest.FixtureRequest
) -> None:
    if store_kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        store = server.url
    else:
        store = "memory:" if store_kind == "memory" else f"sqlite:{tmp_path / 'location.db'}"
    with start_example(tmp_path, store) as proxy:
        uas = callee(tmp_path, "uas", UAS, CALLS)
        register(tmp_path, proxy.port, "bob", uas.port)
        uac_run = caller(tmp_path, proxy.port, CALLS).wait()
        uas_run = uas.wait()
    for run in (uac_run, uas_run):
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (CALLS, 0), run.report()


def test_a_call_to_an_unregistered_user_is_not_forwarded(tmp_path: Path) -> None:
    with start_example(tmp_path, "memory:") as proxy:
        run = caller(tmp_path, proxy.port, 1).wait()
    assert run.stats is not None and run.stats.failed == 1, run.report()
    assert screen_row(run.screen(), "200 <-")[0] == 0, run.report()


def test_two_contacts_fork_the_answer_wins_and_the_ringing_branch_is_cancelled(
    tmp_path: Path,
) -> None:
    calls = 3
    with start_example(tmp_path, "memory:") as proxy:
        answering = callee(tmp_path, "uas-answer", UAS, calls)
        ringing = callee(tmp_path, "uas-ringing", UAS_RINGING, calls)
        register(tmp_path, proxy.port, "bob", ringing.port)
        register(tmp_path, proxy.port, "bob", answering.port)
        uac_run = caller(tmp_path, proxy.port, calls).wait()
        runs = [uac_run, answering.wait(), ringing.wait()]
    for run in runs:
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (calls, 0), run.report()
    assert screen_row(runs[0].screen(), "200 <-")[0] >= calls, runs[0].report()
    assert screen_row(runs[2].screen(), "-> CANCEL")[0] == calls, runs[2].report()
