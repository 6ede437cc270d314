"""Interop: SIPp calls through a sippet proxy to SIPp callees, over UDP on loopback.

The proxy runs in the test's event loop (``ProxyService`` on a ``Stack``, a static target
map for the AOR); SIPp plays the caller (proxy-uac.xml: Record-Route required in the 2xx,
ACK and BYE through the route set) and the callees (proxy-uas.xml: the ACK and BYE must
arrive through the proxy; proxy-uas-ringing.xml: a ringing branch the proxy must cancel).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from helpers.aio import async_test_within
from interop.sip_peers import DATA, HOST, MissingTool, Sipp, SippRun, find_tool, screen_row
from sippet import URI, Message, RequestLine
from sippet.proxy import ProxyConfig, ProxyTarget, StatefulProxy
from sippet.proxy.service import ProxyService, interfaces_of
from sippet.stack import Stack
from sippet.transactions import ServerKey
from sippet.transports import UDP

UAC = DATA / "sipp" / "proxy-uac.xml"
UAS = DATA / "sipp" / "proxy-uas.xml"
UAS_RINGING = DATA / "sipp" / "proxy-uas-ringing.xml"
CALLS = 10


@pytest.fixture(scope="module")
def sipp() -> str:
    try:
        return find_tool("sipp")
    except MissingTool as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


class CountingProxy(ProxyService):
    """Counts the requests the proxy gets, by method."""

    methods: Counter[str]

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        start = request.start_line
        assert isinstance(start, RequestLine)
        self.methods[str(start.method)] += 1
        await super().receive_request(request, server_key)


async def serve_until_done(*runs: Sipp) -> list[SippRun]:
    """Serve while the SIPp processes run (each bounded by its -timeout)."""
    while any(run.process is not None and run.process.poll() is None for run in runs):
        await asyncio.sleep(0.05)
    return [run.wait() for run in runs]


async def start_proxy(targets: list[URI]) -> tuple[Stack, CountingProxy]:
    stack = Stack(name="proxy-sipp")
    await stack.start()
    await stack.add_transport(UDP(HOST, 0))
    config = ProxyConfig(interfaces=interfaces_of(stack))
    service = CountingProxy(
        stack, StatefulProxy(config), lambda _: [ProxyTarget(t) for t in targets]
    )
    service.methods = Counter()
    stack.register_core(service)
    return stack, service


def callee(tmp_path: Path, name: str, scenario: Path, calls: int) -> Sipp:
    return (
        Sipp(tmp_path, name, ["-sf", str(scenario)], calls=calls, timeout=40).start().wait_bound()
    )


def caller(tmp_path: Path, proxy_port: int, calls: int) -> Sipp:
    args = ["-sf", str(UAC), f"{HOST}:{proxy_port}", "-s", "bob", "-r", "10"]
    return Sipp(tmp_path, "uac", args, calls=calls, timeout=40).start()


def sipp_uri(run: Sipp) -> URI:
    return URI("sip", "bob", None, HOST, run.port)


@async_test_within(90)
async def test_sipp_calls_through_the_proxy_follow_the_record_route(
    sipp: str, tmp_path: Path
) -> None:
    uas = callee(tmp_path, "uas", UAS, CALLS)
    stack, service = await start_proxy([sipp_uri(uas)])
    try:
        uac = caller(tmp_path, stack.transports[0].local_address[1], CALLS)
        uac_run, uas_run = await serve_until_done(uac, uas)
    finally:
        service.close()
        await stack.close()
    for run in (uac_run, uas_run):
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (CALLS, 0), run.report()
    # Every ACK and BYE went through the proxy (the callee checked our branch on each).
    assert service.methods["INVITE"] >= CALLS
    assert service.methods["ACK"] >= CALLS and service.methods["BYE"] >= CALLS


@async_test_within(90)
async def test_a_forked_sipp_call_the_answer_wins_and_the_ringing_branch_is_cancelled(
    sipp: str, tmp_path: Path
) -> None:
    calls = 3
    answering = callee(tmp_path, "uas-answer", UAS, calls)
    ringing = callee(tmp_path, "uas-ringing", UAS_RINGING, calls)
    stack, service = await start_proxy([sipp_uri(ringing), sipp_uri(answering)])
    try:
        uac = caller(tmp_path, stack.transports[0].local_address[1], calls)
        runs = await serve_until_done(uac, answering, ringing)
    finally:
        service.close()
        await stack.close()
    for run in runs:
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (calls, 0), run.report()
    # The caller got the answer; a 487 reaching it would be an unexpected message and
    # fail its call: the losing branch's final stayed at the proxy.
    assert screen_row(runs[0].screen(), "200 <-")[0] >= calls, runs[0].report()
    assert screen_row(runs[2].screen(), "-> CANCEL")[0] == calls, runs[2].report()
