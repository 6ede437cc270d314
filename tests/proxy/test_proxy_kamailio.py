"""Interop: a call through two sippet proxies with Kamailio between them, all three
record-routing. SIPp caller → sippet proxy A → Kamailio → sippet proxy B → SIPp callee:
sippet forwards to Kamailio (A) and Kamailio forwards to sippet (B). The caller's ACK and
BYE follow the route set [A, Kamailio, B] (proxy-uac.xml requires Record-Route; the
callee, proxy-uas.xml, requires the ACK and BYE to come from a sippet proxy)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.aio import async_test_within
from interop.sip_peers import DATA, HOST, Kamailio, MissingTool, Sipp, find_tool, free_udp_port
from sippet import URI, Message, NameAddr
from sippet.proxy import ProxyConfig, ProxyTarget, StatefulProxy
from sippet.proxy.service import ProxyService, interfaces_of
from sippet.stack import Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import UDP

UAC = DATA / "sipp" / "proxy-uac.xml"
UAS = DATA / "sipp" / "proxy-uas.xml"
CALLS = 5

# Kamailio as a record-routing, transaction-stateful proxy that sends every new call to
# sippet proxy B (its Request-URI rewritten to B's AOR) and routes in-dialog requests by
# their Route. NEXT_PORT is replaced with B's port; `listen` and `mpath` by the fixture.
KAMAILIO_PROXY_CFG = """#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:5070
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "pv.so"
request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (is_method("OPTIONS") && $rU == "probe") { sl_send_reply("200", "OK"); exit; }
    if (is_method("CANCEL")) {
        if (t_check_trans()) { t_relay(); }
        exit;
    }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK") && t_check_trans()) { t_relay(); }
        exit;
    }
    record_route();
    $ru = "sip:" + $rU + "@127.0.0.1:NEXT_PORT";
    t_relay();
}
"""


@pytest.fixture(scope="module")
def tools() -> None:
    try:
        find_tool("sipp")
        find_tool("kamailio")
    except MissingTool as error:
        message = str(error)
    else:
        return
    pytest.fail(message, pytrace=False)


class WatchingProxy(ProxyService):
    """Records the methods of the requests it gets and the Record-Route of each 2xx."""

    methods: Counter[str]
    record_routes: list[list[NameAddr]]

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.methods[str(request.start_line[0])] += 1
        await super().receive_request(request, server_key)

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        if (
            200 <= int(response.start_line[0]) < 300
            and str(response.headers["cseq"][1]) == "INVITE"
        ):
            self.record_routes.append(list(response.headers.get("record_route", [])))
        await super().receive_response(response, client_key)


async def sippet_proxy(locate_to: URI | None) -> tuple[Stack, WatchingProxy]:
    """A record-routing sippet proxy; with ``locate_to``, its AORs all lead there."""
    stack = Stack(name="proxy")
    await stack.start()
    await stack.add_transport(UDP(HOST, 0))
    config = ProxyConfig(interfaces=interfaces_of(stack))

    def locate(request: Message) -> list[ProxyTarget] | int:
        return [ProxyTarget(locate_to)] if locate_to is not None else 404

    service = WatchingProxy(stack, StatefulProxy(config), locate)
    service.methods = Counter()
    service.record_routes = []
    stack.register_core(service)
    return stack, service


@pytest.fixture
def kamailio_port() -> Iterator[int]:
    yield free_udp_port()


@async_test_within(90)
async def test_a_call_through_sippet_kamailio_and_sippet(
    tools: None, tmp_path: Path, kamailio_port: int
) -> None:
    uas = Sipp(tmp_path, "uas", ["-sf", str(UAS)], calls=CALLS, timeout=40).start().wait_bound()
    stack_b, service_b = await sippet_proxy(URI("sip", "bob", None, HOST, uas.port))
    port_b = stack_b.transports[0].local_address[1]
    config = tmp_path / "kamailio-proxy.cfg"
    config.write_text(KAMAILIO_PROXY_CFG.replace("NEXT_PORT", str(port_b)))
    kamailio = Kamailio(tmp_path, kamailio_port, config=config)
    stack_a, service_a = await sippet_proxy(URI("sip", "bob", None, HOST, kamailio_port))
    try:
        await asyncio.to_thread(kamailio.start)
        port_a = stack_a.transports[0].local_address[1]
        args = ["-sf", str(UAC), f"{HOST}:{port_a}", "-s", "bob", "-r", "10"]
        uac = Sipp(tmp_path, "uac", args, calls=CALLS, timeout=40).start()
        while any(p.process is not None and p.process.poll() is None for p in (uac, uas)):
            await asyncio.sleep(0.05)
        runs = [uac.wait(), uas.wait()]
    finally:
        kamailio.stop()
        for service, stack in ((service_a, stack_a), (service_b, stack_b)):
            service.close()
            await stack.close()
        uas.stop()
    for run in runs:
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (
            run.report() + "\nkamailio:\n" + kamailio.log.read_text(errors="replace")[-2000:]
        )
    # Each 2xx carried the three Record-Route entries, B's on top (the last to add one).
    assert service_a.record_routes, "no 2xx went through proxy A"
    for entries in service_a.record_routes:
        assert [(v.uri.host, v.uri.port) for v in entries] == [
            (HOST, port_b),
            (HOST, kamailio_port),
            (HOST, port_a),
        ]
        assert all("lr" in v.uri.parameters for v in entries)
    # The ACKs and BYEs went A → Kamailio → B (B is reached only through Kamailio).
    for service in (service_a, service_b):
        assert service.methods["ACK"] >= CALLS and service.methods["BYE"] >= CALLS
