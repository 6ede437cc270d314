"""RFC 3263 §4.3 fail-over, §4 pinning of ACK and CANCEL, and §5 responses, through the
``Stack`` with a ``DnsResolver`` asking a real dnsmasq. Targets are loopback ports: a dead
one has no listener (ICMP port unreachable for UDP, a refused connection for TCP), a live
one is a raw socket or a second stack. Assertions are on what each listener received and
on what the core was told, in order; never on how long anything took."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from helpers.aio import async_test, recvfrom
from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, StatusLine, Via
from sippet.dialogs.requests import build_cancel
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.resolve.dns_resolver import DnsResolver
from sippet.stack import Core, Stack
from sippet.stack.routing import request_next_hop
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import TCP, TLS, UDP
from sippet.uri import URI

from .dns_zone import DOMAIN
from .dnsmasq_server import Dnsmasq, StartDnsmasq

FIRST = "127.0.0.1"  # h1: the first target (priority 10)
SECOND = "127.0.0.2"  # h2: the second target (priority 20)
HOSTS = [f"--host-record=h1.{DOMAIN},{FIRST}", f"--host-record=h2.{DOMAIN},{SECOND}"]
TIMEOUT = 10.0
FAST = TimerSettings(t1=0.02, t2=0.04, t4=0.05, timer_d=0.1)
"""Timer B and F = 64*T1 = 1.28 s, so a silent target is given up quickly."""


def two_targets(name: str, label: str, first_port: int, second_port: int) -> list[str]:
    """``label`` SRV records for ``name``: h1 at priority 10, h2 at priority 20."""
    return [
        *HOSTS,
        f"--srv-host={label}.{name}.{DOMAIN},h1.{DOMAIN},{first_port},10,0",
        f"--srv-host={label}.{name}.{DOMAIN},h2.{DOMAIN},{second_port},20,0",
    ]


def dead_port(kind: socket.SocketKind, host: str = FIRST) -> int:
    """A loopback port with nothing listening on it (bound, then closed)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SECOND, 0))
    sock.setblocking(False)
    yield sock
    sock.close()


class Recorder(Core):
    """Every response and error the stack delivers, in order, as events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object, object]] = []
        self.changed = asyncio.Event()

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        status = response.start_line
        assert isinstance(status, StatusLine)
        self.events.append(("response", status.status_code, client_key))
        self.changed.set()

    def receive_error(self, reason: str, key: object) -> None:
        self.events.append(("error", str(reason), key))
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        async def until() -> None:
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), TIMEOUT)


def request(method: Method, uri: str, local: tuple[str, int], protocol: str = "UDP") -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), protocol, SentBy(*local), {"branch": create_branch()})],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse("sip:alice@example.com"), {"tag": create_tag()}),
        "to": NameAddr("", URI.parse(uri), {}),
        "call_id": create_call_id(),
        "cseq": CSeq(1, method),
    }
    if method == Method.INVITE:
        headers["contact"] = [NameAddr("", URI.parse(f"sip:alice@{local[0]}:{local[1]}"), {})]
    return Message(RequestLine(method, URI.parse(uri)), headers)


async def receive(sock: socket.socket) -> tuple[Message, Any]:
    data, source = await asyncio.wait_for(recvfrom(sock, 70000), TIMEOUT)
    return Message.parse(data), source


def branch_of(message: Message) -> str:
    return str(message.headers["via"][0].params["branch"])


async def client(dns: str, transport: UDP | TCP, timers: TimerSettings | None = None) -> Stack:
    stack = Stack("failover-client", resolver=DnsResolver(dns), timers=timers)
    await stack.start()
    await stack.add_transport(transport)
    return stack


@async_test
async def test_udp_dead_first_target_fails_over_to_the_second(
    start_dnsmasq: StartDnsmasq, live_udp: socket.socket
) -> None:
    dead = dead_port(socket.SOCK_DGRAM)
    dns = start_dnsmasq(two_targets("fo", "_sip._udp", dead, live_udp.getsockname()[1]))
    stack = await client(dns.address, UDP(FIRST, 0))
    core = Recorder()
    stack.register_core(core)
    try:
        udp = stack.transports[0]
        key = await stack.send(request(Method.OPTIONS, f"sip:ping@fo.{DOMAIN}", udp.local_address))
        assert key is not None
        retry, source = await receive(live_udp)  # after ICMP port unreachable from h1
        assert branch_of(retry) != key.branch  # §4.3: a new transaction
        live_udp.sendto(bytes(retry.to_response(200)), source)
        await core.wait_for(1)
        assert core.events == [("response", 200, key)]  # the original key, no error
    finally:
        await stack.close()


@async_test
async def test_tcp_refused_first_target_fails_over_to_the_second(
    start_dnsmasq: StartDnsmasq,
) -> None:
    server = Stack("failover-server")
    got: list[Message] = []

    class Answer(Core):
        def receive_request(self, message: Message, key: ServerKey | None) -> None:
            got.append(message)
            server.send_response(message.to_response(200))

    await server.start()
    try:
        listener = await server.add_transport(TCP(SECOND, 0))
        server.register_core(Answer())
        dead = dead_port(socket.SOCK_STREAM)
        dns = start_dnsmasq(two_targets("fot", "_sip._tcp", dead, listener.local_address[1]))
        # The client has TCP only: resolution looks for _sip._tcp (the transports it has).
        stack = await client(dns.address, TCP(FIRST, 0))
        core = Recorder()
        stack.register_core(core)
        try:
            tcp = stack.transports[0]
            uri = f"sip:ping@fot.{DOMAIN}"
            key = await stack.send(request(Method.OPTIONS, uri, tcp.local_address, "TCP"))
            await core.wait_for(1)
            assert core.events == [("response", 200, key)]
            assert len(got) == 1 and key is not None
            assert branch_of(got[0]) != key.branch
        finally:
            await stack.close()
    finally:
        await server.close()


@async_test
async def test_every_target_dead_gives_one_error_with_the_original_key(
    start_dnsmasq: StartDnsmasq, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sippet.stack")
    first, second = dead_port(socket.SOCK_DGRAM), dead_port(socket.SOCK_DGRAM, SECOND)
    dns = start_dnsmasq(two_targets("dead", "_sip._udp", first, second))
    stack = await client(dns.address, UDP(FIRST, 0))
    core = Recorder()
    stack.register_core(core)
    try:
        udp = stack.transports[0]
        key = await stack.send(
            request(Method.OPTIONS, f"sip:ping@dead.{DOMAIN}", udp.local_address)
        )
        await core.wait_for(1)
        assert core.events == [("error", "unreachable", key)]
        tried = [r.getMessage() for r in caplog.records if "trying the next target" in r.message]
        assert len(tried) == 1 and f"{SECOND}:{second}" in tried[0]
        # A second ICMP error for the first target (a retransmission) finds no
        # transaction: still one event, and nothing kept for the request.
        await asyncio.sleep(0.2)
        assert core.events == [("error", "unreachable", key)]
        assert len(stack._attempts) == 0
    finally:
        await stack.close()


@async_test
async def test_timer_f_timeout_fails_over_to_the_second_target(
    start_dnsmasq: StartDnsmasq, live_udp: socket.socket
) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # receives, never answers
    silent.bind((FIRST, 0))
    silent.setblocking(False)
    dns = start_dnsmasq(
        two_targets("slow", "_sip._udp", silent.getsockname()[1], live_udp.getsockname()[1])
    )
    stack = await client(dns.address, UDP(FIRST, 0), FAST)
    core = Recorder()
    stack.register_core(core)
    try:
        udp = stack.transports[0]
        key = await stack.send(
            request(Method.OPTIONS, f"sip:ping@slow.{DOMAIN}", udp.local_address)
        )
        assert key is not None
        first, _ = await receive(silent)
        assert branch_of(first) == key.branch
        retry, source = await receive(live_udp)  # only after Timer F of the first
        assert branch_of(retry) != key.branch
        assert core.events == []  # the core heard nothing of the timeout
        live_udp.sendto(bytes(retry.to_response(200)), source)
        await core.wait_for(1)
        assert core.events == [("response", 200, key)]
        # Everything the silent target got is the first attempt (retransmissions).
        while True:
            try:
                data, _ = silent.recvfrom(70000)
            except BlockingIOError:
                break
            assert branch_of(Message.parse(data)) == key.branch
    finally:
        await stack.close()
        silent.close()


@async_test
async def test_cancel_and_ack_go_to_the_target_the_invite_reached_after_fail_over(
    start_dnsmasq: StartDnsmasq, live_udp: socket.socket
) -> None:
    dead = dead_port(socket.SOCK_DGRAM)
    dns = start_dnsmasq(two_targets("call", "_sip._udp", dead, live_udp.getsockname()[1]))
    stack = await client(dns.address, UDP(FIRST, 0))
    core = Recorder()
    stack.register_core(core)
    try:
        udp = stack.transports[0]
        invite = request(Method.INVITE, f"sip:bob@call.{DOMAIN}", udp.local_address)
        key = await stack.send(invite)
        assert key is not None
        reached, source = await receive(live_udp)
        assert reached.start_line.method == Method.INVITE  # type: ignore[union-attr]
        live_udp.sendto(bytes(reached.to_response(180, to_tag="b")), source)
        await core.wait_for(1)
        # The core cancels the INVITE it sent (its branch); the stack sends the CANCEL
        # to the live target with the branch of the INVITE that reached it (§4, §9.1).
        cancel_key = await stack.send(build_cancel(invite))
        assert cancel_key == ClientKey(key.branch, "CANCEL")
        cancel, _ = await receive(live_udp)
        assert cancel.start_line.method == Method.CANCEL  # type: ignore[union-attr]
        assert branch_of(cancel) == branch_of(reached)
        live_udp.sendto(bytes(cancel.to_response(200)), source)
        live_udp.sendto(bytes(reached.to_response(487, to_tag="b")), source)
        ack, _ = await receive(live_udp)  # the transaction's ACK of the 487
        assert ack.start_line.method == Method.ACK  # type: ignore[union-attr]
        assert branch_of(ack) == branch_of(reached)
        await core.wait_for(3)
        assert core.events[0] == ("response", 180, key)
        assert sorted(core.events[1:], key=str) == sorted(
            [("response", 200, cancel_key), ("response", 487, key)], key=str
        )
    finally:
        await stack.close()


@async_test
async def test_the_core_asks_for_the_next_target_after_a_503(
    start_dnsmasq: StartDnsmasq, live_udp: socket.socket
) -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind((FIRST, 0))
    busy.setblocking(False)
    dns = start_dnsmasq(
        two_targets("busy", "_sip._udp", busy.getsockname()[1], live_udp.getsockname()[1])
    )
    stack = await client(dns.address, UDP(FIRST, 0))
    retried: list[bool] = []

    class RetryOn503(Recorder):
        def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
            super().receive_response(response, client_key)
            if client_key is not None and response.start_line.status_code == 503:  # type: ignore[union-attr]
                retried.append(stack.retry_next_target(client_key))

    core = RetryOn503()
    stack.register_core(core)
    try:
        udp = stack.transports[0]
        key = await stack.send(
            request(Method.OPTIONS, f"sip:ping@busy.{DOMAIN}", udp.local_address)
        )
        assert key is not None
        first, source = await receive(busy)
        busy.sendto(bytes(first.to_response(503)), source)
        retry, source = await receive(live_udp)
        assert branch_of(retry) != key.branch
        live_udp.sendto(bytes(retry.to_response(200)), source)
        await core.wait_for(2)
        assert core.events == [("response", 503, key), ("response", 200, key)]
        assert retried == [True]
        assert stack.retry_next_target(key) is False  # answered 200: nothing to retry
    finally:
        await stack.close()
        busy.close()


@async_test
async def test_response_goes_to_the_srv_targets_of_the_sent_by_when_the_connection_is_gone(
    start_dnsmasq: StartDnsmasq,
) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # the client's "server"
    listener.bind((SECOND, 0))
    listener.listen(1)
    listener.setblocking(False)
    dns = start_dnsmasq(
        [
            *HOSTS,
            f"--srv-host=_sip._tcp.client.{DOMAIN},h2.{DOMAIN},{listener.getsockname()[1]},0,0",
        ]
    )
    server = Stack("section5", resolver=DnsResolver(dns.address))
    received: list[Message] = []

    class Keep(Core):
        def receive_request(self, message: Message, key: ServerKey | None) -> None:
            received.append(message)

    await server.start()
    loop = asyncio.get_running_loop()
    try:
        tcp = await server.add_transport(TCP(FIRST, 0))
        server.register_core(Keep())
        # A client names itself client.sippet.test, without a port (RFC 3263 §5), and
        # with rport: the first try is its source port, closed by then.
        options = request(Method.OPTIONS, f"sip:uas@{FIRST}", (f"client.{DOMAIN}", 0), "TCP")
        options.headers["via"][0] = options.headers["via"][0]._replace(
            sent_by=SentBy(f"client.{DOMAIN}", None),
            params={"branch": create_branch(), "rport": None},
        )
        conn = socket.create_connection(tcp.local_address)
        conn.sendall(bytes(options))
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
        assert len(received) == 1
        source = received[0].headers["via"][0].params
        conn.close()
        for _ in range(200):
            if not tcp.has_connection((FIRST, int(source["rport"]))):
                break
            await asyncio.sleep(0.01)
        server.send_response(received[0].to_response(200))
        accepted, _ = await asyncio.wait_for(loop.sock_accept(listener), TIMEOUT)
        with accepted:
            data = await asyncio.wait_for(loop.sock_recv(accepted, 70000), TIMEOUT)
        response = Message.parse(data)
        assert response.start_line.status_code == 200  # type: ignore[union-attr]
        assert branch_of(response) == branch_of(options)
    finally:
        await server.close()
        listener.close()


async def targets_of(stack: Stack, uri: str) -> list[tuple[str, str, int]]:
    message = request(Method.OPTIONS, uri, ("192.0.2.1", 5060))
    hop = request_next_hop(message)
    peers = await stack.transport_layer.resolve_request(message, hop)
    return [(p.transport.protocol, p.address[0], p.address[1]) for p in peers]


@async_test
async def test_the_stack_resolves_the_uri_not_a_default_port(dnsmasq: Dnsmasq) -> None:
    # sip:ping@srv.sippet.test has no port: SRV decides (not A at 5060), with the
    # transports the stack has (UDP only: no _sip._tcp, no _sips._tcp).
    stack = Stack("resolve-uri", resolver=DnsResolver(dnsmasq.address))
    await stack.start()
    try:
        await stack.add_transport(UDP(FIRST, 0))
        assert await targets_of(stack, f"sip:ping@srv.{DOMAIN}") == [
            ("UDP", "127.0.0.1", 5070),
            ("UDP", "127.0.0.2", 5071),
            ("UDP", "127.0.0.3", 5072),
        ]
        # NAPTR prefers TLS, then TCP; this stack has UDP only, so it takes SIP+D2U.
        assert await targets_of(stack, f"sip:ping@naptr.{DOMAIN}") == [("UDP", "127.0.0.2", 5062)]
        await stack.add_transport(TCP(FIRST, 0))
        assert await targets_of(stack, f"sip:ping@naptr.{DOMAIN}") == [
            ("TCP", "127.0.0.1", 5060),
            ("UDP", "127.0.0.2", 5062),
        ]
    finally:
        await stack.close()


@pytest.mark.ipv6
@async_test
async def test_aaaa_only_when_the_stack_has_an_ipv6_transport(dnsmasq: Dnsmasq) -> None:
    stack = Stack("resolve-v6", resolver=DnsResolver(dnsmasq.address))
    await stack.start()
    try:
        await stack.add_transport(UDP(FIRST, 0))
        uri = f"sip:ping@plain.{DOMAIN}:5999"  # A 127.0.0.4 and AAAA ::1
        assert await targets_of(stack, uri) == [("UDP", "127.0.0.4", 5999)]
        await stack.add_transport(UDP("::1", 0))
        assert await targets_of(stack, uri) == [("UDP", "127.0.0.4", 5999), ("UDP", "::1", 5999)]
    finally:
        await stack.close()


@async_test
async def test_a_strict_route_is_resolved_from_its_own_uri(
    start_dnsmasq: StartDnsmasq, live_udp: socket.socket
) -> None:
    port = live_udp.getsockname()[1]
    dns = start_dnsmasq([*HOSTS, f"--srv-host=_sip._udp.strict.{DOMAIN},h2.{DOMAIN},{port},0,0"])
    stack = await client(dns.address, UDP(FIRST, 0))
    stack.register_core(Recorder())
    try:
        udp = stack.transports[0]
        message = request(Method.OPTIONS, "sip:bob@192.0.2.55", udp.local_address)
        message.headers["route"] = [NameAddr("", URI.parse(f"sip:strict.{DOMAIN}"), {})]
        await stack.send(message)  # §12.2.1.1: the Route's URI becomes the Request-URI
        reached, _ = await receive(live_udp)
        assert str(reached.start_line.request_uri) == f"sip:strict.{DOMAIN}"  # type: ignore[union-attr]
        assert [str(route.uri) for route in reached.headers["route"]] == ["sip:bob@192.0.2.55"]
    finally:
        await stack.close()


@async_test
async def test_tls_verification_failure_fails_over_to_the_next_target(
    start_dnsmasq: StartDnsmasq,
) -> None:
    ca = trustme.CA()
    domain = f"tls.{DOMAIN}"
    servers: list[Stack] = []
    got: dict[str, list[Message]] = {FIRST: [], SECOND: []}
    ports: dict[str, int] = {}
    # h1 shows a certificate for another name (RFC 5922 §4.1: the URI's domain is checked).
    for host, name in ((FIRST, "elsewhere.example"), (SECOND, domain)):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        server = Stack(f"tls-{host}")

        class Answer(Core):
            def __init__(self, stack: Stack, seen: list[Message]) -> None:
                self.stack, self.seen = stack, seen

            def receive_request(self, message: Message, key: ServerKey | None) -> None:
                self.seen.append(message)
                self.stack.send_response(message.to_response(200))

        await server.start()
        servers.append(server)
        listener = await server.add_transport(TLS(host, 0, ssl_context=context))
        server.register_core(Answer(server, got[host]))
        ports[host] = listener.local_address[1]
    try:
        dns = start_dnsmasq(two_targets("tls", "_sips._tcp", ports[FIRST], ports[SECOND]))
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        stack = await client(dns.address, TLS(FIRST, 0, ssl_context=None, client_context=trusting))
        core = Recorder()
        stack.register_core(core)
        try:
            tls = stack.transports[0]
            key = await stack.send(
                request(Method.OPTIONS, f"sips:ping@{domain}", tls.local_address, "TLS")
            )
            await core.wait_for(1)
            assert core.events == [("response", 200, key)]
            assert got[FIRST] == [] and len(got[SECOND]) == 1
        finally:
            await stack.close()
    finally:
        for server in servers:
            await server.close()
