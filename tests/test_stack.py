"""sippet.Stack end to end on loopback: two stacks in one process, or a stack and a raw
socket that plays the peer (to see the exact bytes, lose a message, or send garbage)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from helpers.aio import async_test, recvfrom
from helpers.clock import async_test_on_stepped_clock, stepped_clock
from sippet import (
    URI,
    CSeq,
    Message,
    Method,
    NameAddr,
    Reason,
    RequestLine,
    SentBy,
    TransactionError,
    TransportError,
    ValidationError,
    Via,
)
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.resolver import ResolvedAddress, SystemResolver
from sippet.stack import AnswerTimeouts, Core, Stack
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import UDP

TIMEOUT = 5.0
FAST = TimerSettings(t1=0.05, t2=0.2, t4=0.25, timer_d=0.5)


class Recorder(Core):
    """Records everything delivered; answers requests with ``answer`` (a status code list
    per method) when given, through a plain (not async) callback."""

    def __init__(self, stack: Stack, answers: dict[str, list[int]] | None = None) -> None:
        self.stack = stack
        self.answers = answers or {}
        self.requests: asyncio.Queue[tuple[Message, ServerKey | None]] = asyncio.Queue()
        self.responses: asyncio.Queue[tuple[Message, ClientKey | None]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.put_nowait((request, server_key))
        if server_key is None:
            return
        tag = create_tag()
        for code in self.answers.get(str(request.start_line.method), []):  # type: ignore[union-attr]
            self.stack.send_response(request.to_response(code, to_tag=tag))

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        # An async callback on purpose: the stack runs it as a task.
        self.responses.put_nowait((response, client_key))

    def receive_error(self, reason: str, key: object) -> None:
        self.errors.put_nowait((reason, key))


async def get(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), TIMEOUT)


async def stack_on(
    host: str, answers: dict[str, list[int]] | None = None, **options: Any
) -> tuple[Stack, Recorder, UDP]:
    max_size = options.pop("max_message_size", None)
    stack = Stack(name=f"test-{host}", **options)
    await stack.start()
    transport = UDP(host, 0) if max_size is None else UDP(host, 0, max_message_size=max_size)
    await stack.add_transport(transport)
    core = Recorder(stack, answers)
    stack.register_core(core)
    return stack, core, transport


def request(
    method: Method,
    request_uri: str,
    local: tuple[str, int],
    *,
    routes: list[str] | None = None,
    rport: bool = True,
    sent_by: SentBy | None = None,
) -> Message:
    params: dict[str, str | None] = {"branch": create_branch()}
    if rport:
        params["rport"] = None
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", sent_by or SentBy(*local), params)],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse("sip:alice@example.com"), {"tag": create_tag()}),
        "to": NameAddr("", URI.parse("sip:bob@example.com"), {}),
        "call_id": create_call_id(),
        "cseq": CSeq(1, method),
    }
    if routes:
        headers["route"] = [NameAddr("", URI.parse(r), {}) for r in routes]
    return Message(RequestLine(method, URI.parse(request_uri)), headers)


def uri_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class RawPeer:
    """A plain UDP socket in the test's event loop."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]

    @property
    def port(self) -> int:
        return self.address[1]

    async def receive(self) -> tuple[bytes, tuple[str, int]]:
        data, source = await asyncio.wait_for(recvfrom(self.sock, 70000), TIMEOUT)
        return data, source[:2]

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        self.sock.sendto(data, destination)

    def close(self) -> None:
        self.sock.close()


def closed_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


# -- a core that does not answer ------------------------------------------------------------


async def turns(count: int = 50) -> None:
    """Let the event loop run ``count`` iterations without letting loop time pass."""
    for _ in range(count):
        await asyncio.sleep(0)


@async_test_on_stepped_clock
async def test_requests_the_core_never_answers_are_ended_and_reported() -> None:
    # No RFC timer ends a server transaction in Trying/Proceeding (§17.2.1, §17.2.2): the
    # stack's answer timeouts do, so a core that drops requests leaves nothing behind. The
    # clock is stepped: each deadline is reached when the test says so, whatever the speed.
    clock = stepped_clock()
    timeouts = AnswerTimeouts(non_invite=100.0, invite=200.0)
    slow_t1 = TimerSettings(t1=5.0, t2=5.0)  # Timer J = 64*T1 = 320 s: past both answer timeouts
    stack, core, udp = await stack_on(
        "127.0.0.1", {"MESSAGE": [200]}, answer_timeouts=timeouts, timers=slow_t1
    )
    peer = RawPeer("127.0.0.1")
    try:
        target = f"sip:bob@127.0.0.1:{udp.local_address[1]}"
        keys = {}
        for method in (Method.OPTIONS, Method.INVITE, Method.MESSAGE):
            peer.send(bytes(request(method, target, peer.address)), udp.local_address)
            _, keys[method] = await get(core.requests)
        assert stack.layer.server_count == 3
        clock.advance(50.0)  # half the non-INVITE timeout: nothing ends yet
        await turns()
        assert core.errors.empty()
        assert stack.layer.state_of(keys[Method.OPTIONS]) is not None
        # MESSAGE was answered at once: only OPTIONS, then INVITE, are reported.
        clock.advance(50.0)
        assert await get(core.errors) == ("unanswered", keys[Method.OPTIONS])
        assert stack.layer.state_of(keys[Method.OPTIONS]) is None
        await turns()
        assert core.errors.empty()  # the INVITE's timeout is twice as long
        assert stack.layer.state_of(keys[Method.INVITE]) is not None
        clock.advance(100.0)
        assert await get(core.errors) == ("unanswered", keys[Method.INVITE])
        assert stack.layer.state_of(keys[Method.INVITE]) is None
        # The answered MESSAGE stays in Completed for Timer J, never reported; then it ends.
        assert stack.layer.state_of(keys[Method.MESSAGE]) is not None
        clock.advance(150.0)
        await turns()
        assert stack.layer.state_of(keys[Method.MESSAGE]) is None
        assert core.errors.empty()
        assert stack.layer.server_count == 0
    finally:
        peer.close()
        await stack.close()


def test_answer_timeouts_default_to_64_t1_and_past_timer_c() -> None:
    stack = Stack(timers=TimerSettings(t1=0.25))
    assert stack.answer_timeouts == AnswerTimeouts(non_invite=16.0, invite=181.0)


# -- two stacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", pytest.param("::1", marks=pytest.mark.ipv6)])
@async_test
async def test_options_through_transactions(host: str) -> None:
    a, a_core, a_udp = await stack_on(host)
    b, b_core, b_udp = await stack_on(host, {"OPTIONS": [200]})
    try:
        port = b_udp.local_address[1]
        sent = request(Method.OPTIONS, f"sip:bob@{uri_host(host)}:{port}", a_udp.local_address)
        key = await a.send(sent)
        assert key == ClientKey(sent.headers["via"][0].branch, "OPTIONS")
        received, server_key = await get(b_core.requests)
        assert isinstance(server_key, ServerKey)
        assert received.headers["call_id"] == sent.headers["call_id"]
        response, client_key = await get(a_core.responses)
        assert client_key == key
        assert response.start_line.status_code == 200
        assert response.headers["call_id"] == sent.headers["call_id"]
    finally:
        await a.close()
        await b.close()


@async_test
async def test_invite_180_200_and_ack() -> None:
    a, a_core, a_udp = await stack_on("127.0.0.1")
    b, b_core, b_udp = await stack_on("127.0.0.1", {"INVITE": [180, 200]})
    try:
        uri = f"sip:bob@127.0.0.1:{b_udp.local_address[1]}"
        invite = request(Method.INVITE, uri, a_udp.local_address)
        key = await a.send(invite)
        ringing, key1 = await get(a_core.responses)
        ok, key2 = await get(a_core.responses)
        assert (ringing.start_line.status_code, ok.start_line.status_code) == (180, 200)
        assert key1 == key2 == key
        assert ok.headers["to"].params["tag"] == ringing.headers["to"].params["tag"]
        # The ACK of a 2xx: a new branch, no transaction, delivered with key None.
        ack = request(Method.ACK, uri, a_udp.local_address)
        ack.headers.update(
            {
                "from": invite.headers["from"],
                "to": ok.headers["to"],
                "call_id": invite.headers["call_id"],
                "cseq": CSeq(1, Method.ACK),
            }
        )
        assert await a.send(ack) is None
        _invite, _key = await get(b_core.requests)
        received_ack, ack_key = await get(b_core.requests)
        assert received_ack.start_line.method == Method.ACK
        assert ack_key is None
    finally:
        await a.close()
        await b.close()


@async_test
async def test_lost_request_is_retransmitted_with_short_t1() -> None:
    stack, core, udp = await stack_on("127.0.0.1", timers=FAST)
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, f"sip:bob@127.0.0.1:{peer.port}", udp.local_address)
        key = await stack.send(sent)
        first, _ = await peer.receive()  # "lost": not answered
        second, source = await peer.receive()  # Timer E: the retransmission
        assert first == second
        parsed = Message.parse(second)
        peer.send(bytes(parsed.to_response(200)), source)
        response, client_key = await get(core.responses)
        assert client_key == key and response.start_line.status_code == 200
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_top_via_gets_received_and_rport() -> None:
    a, a_core, a_udp = await stack_on("127.0.0.1")
    b, b_core, b_udp = await stack_on("127.0.0.1", {"OPTIONS": [200]})
    try:
        sent = request(
            Method.OPTIONS,
            f"sip:bob@127.0.0.1:{b_udp.local_address[1]}",
            a_udp.local_address,
            sent_by=SentBy("client.invalid", 5999),  # a wrong sent-by: rport saves the day
        )
        sent.headers["via"].append(
            Via((2, 0), "UDP", SentBy("192.0.2.9", 5060), {"branch": "z9hG4bKold", "rport": None})
        )
        await a.send(sent)
        received, _ = await get(b_core.requests)
        top, bottom = received.headers["via"]
        assert top.params["received"] == "127.0.0.1"
        assert top.params["rport"] == str(a_udp.local_address[1])
        assert bottom.params == {"branch": "z9hG4bKold", "rport": None}
        response, _ = await get(a_core.responses)  # reached us through received/rport
        assert response.start_line.status_code == 200
    finally:
        await a.close()
        await b.close()


# -- malformed input ------------------------------------------------------------------------------

BAD_OPTIONS = (
    "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad1;rport\r\n"
    "From: <sip:alice@example.com>;tag=9\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: bad-1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\n"
    "Max-Forwards: 69\r\n"
    "Content-Length: 0\r\n\r\n"
)


@async_test
async def test_malformed_request_gets_a_stateless_400() -> None:
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        peer.send(BAD_OPTIONS.encode(), udp.local_address)
        data, source = await peer.receive()
        assert source == udp.local_address
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"SIP/2.0 400 Bad Request (multiple_definition)"
        assert (
            b"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad1;rport=%d;received=127.0.0.1"
            % peer.port
            in lines
        )
        assert b"Call-ID: bad-1" in lines
        assert b"CSeq: 1 OPTIONS" in lines
        assert any(line.startswith(b"To: <sip:bob@example.com>;tag=") for line in lines)
        assert body == b""
        assert core.requests.empty()  # the core never saw it
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_unsupported_version_gets_505() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        wire = BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "").replace(
            "SIP/2.0\r\n", "SIP/7.0\r\n", 1
        )
        peer.send(wire.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 505 ")
        assert b"Call-ID: bad-1\r\n" in data
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_invalid_request_gets_400_from_validation() -> None:
    # Parses, but the CSeq method differs from the request method (RFC 4475 mismatch01).
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        wire = BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "").replace(
            "CSeq: 1 OPTIONS", "CSeq: 1 INVITE"
        )
        peer.send(wire.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 400 Bad Request (")
        assert core.requests.empty()
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_malformed_response_is_dropped_and_the_stack_keeps_working() -> None:
    stack, core, udp = await stack_on("127.0.0.1", {"OPTIONS": [200]})
    peer = RawPeer("127.0.0.1")
    try:
        peer.send(
            b"SIP/2.0 abc OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n\r\n",
            udp.local_address,
        )
        good = BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "")
        peer.send(good.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 200 OK\r\n")  # the answer to the good request only
        assert core.responses.empty()
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_huge_datagram_is_dropped_and_the_stack_still_answers() -> None:
    stack, core, udp = await stack_on("127.0.0.1", {"OPTIONS": [200]}, max_message_size=4000)
    peer = RawPeer("127.0.0.1")
    try:
        good = BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "")
        huge = good.replace(
            "Content-Length: 0\r\n\r\n", "Content-Length: 5000\r\n\r\n" + "x" * 5000
        )
        peer.send(huge.encode(), udp.local_address)
        peer.send(good.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 200 OK\r\n")
        request_seen, _ = await get(core.requests)
        assert request_seen.body == b""  # the huge one never reached the core
        assert core.requests.empty()
    finally:
        peer.close()
        await stack.close()


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", pytest.param("::1", marks=pytest.mark.ipv6)])
@async_test
async def test_unreachable_port_reaches_receive_error(host: str) -> None:
    stack, core, udp = await stack_on(host)
    try:
        uri = f"sip:bob@{uri_host(host)}:{closed_port(host)}"
        key = await stack.send(request(Method.OPTIONS, uri, udp.local_address))
        reason, error_key = await get(core.errors)
        assert (reason, error_key) == ("unreachable", key)
    finally:
        await stack.close()


@async_test
async def test_resolution_failure_reaches_receive_error() -> None:
    stack, core, udp = await stack_on("127.0.0.1")
    try:
        # RFC 6761 §6.2: a .test name is not delegated; without a record it does not resolve.
        sent = request(Method.OPTIONS, "sip:bob@nonexistent.test", udp.local_address)
        key = await stack.send(sent)
        reason, error_key = await get(core.errors)
        assert (reason, error_key) == ("nxdomain", key)
        assert key == ClientKey(sent.headers["via"][0].branch, "OPTIONS")
    finally:
        await stack.close()


class CountingResolver(SystemResolver):
    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []

    async def resolve(self, host: str, port: int, transport: str) -> list[ResolvedAddress]:
        self.hosts.append(host)
        return await super().resolve(host, port, transport)


@async_test
async def test_an_invalid_host_is_never_resolved() -> None:
    """RFC 6761 §6.4, RFC 7118 §5: a .invalid host names a client's connection; with no
    connection that gave the name, the send fails at once with no_connection."""
    resolver = CountingResolver()
    stack, core, udp = await stack_on("127.0.0.1", resolver=resolver)
    try:
        key = await stack.send(request(Method.OPTIONS, "sip:bob@c1.invalid", udp.local_address))
        assert await get(core.errors) == (Reason.NO_CONNECTION, key)
        assert resolver.hosts == []
    finally:
        await stack.close()


@async_test
async def test_timeout_reaches_receive_error() -> None:
    stack, core, udp = await stack_on("127.0.0.1", timers=FAST)
    peer = RawPeer("127.0.0.1")  # receives, never answers
    try:
        key = await stack.send(
            request(Method.OPTIONS, f"sip:bob@127.0.0.1:{peer.port}", udp.local_address)
        )
        reason, error_key = await get(core.errors)  # Timer F = 64*T1 = 3.2 s
        assert (reason, error_key) == ("timeout", key)
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_send_validates_and_responses_need_a_transaction() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    try:
        bad = request(Method.OPTIONS, "sip:bob@127.0.0.1", udp.local_address)
        del bad.headers["call_id"]
        with pytest.raises(ValidationError):
            await stack.send(bad)
        orphan = request(Method.OPTIONS, "sip:bob@127.0.0.1", udp.local_address).to_response(200)
        with pytest.raises(TransactionError) as info:
            await stack.send(orphan)
        assert info.value.reason == "no_transaction"
    finally:
        await stack.close()


# -- routing ---------------------------------------------------------------------------------------


@async_test
async def test_target_overrides_the_request_uri() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, "sip:bob@nonexistent.invalid", udp.local_address)
        sent.target = ("UDP", "127.0.0.1", peer.port)  # type: ignore[assignment]
        await stack.send(sent)
        data, _ = await peer.receive()
        assert data.startswith(b"OPTIONS sip:bob@nonexistent.invalid SIP/2.0\r\n")
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_loose_route_sends_to_the_first_route_unchanged() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(
            Method.OPTIONS,
            "sip:bob@nonexistent.invalid",
            udp.local_address,
            routes=[f"sip:127.0.0.1:{peer.port};lr", "sip:p2.invalid;lr"],
        )
        await stack.send(sent)
        data, _ = await peer.receive()
        received = Message.parse(data)
        assert str(received.start_line.request_uri) == "sip:bob@nonexistent.invalid"
        assert [str(r.uri) for r in received.headers["route"]] == [
            f"sip:127.0.0.1:{peer.port};lr",
            "sip:p2.invalid;lr",
        ]
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_strict_route_becomes_the_request_uri() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(
            Method.OPTIONS,
            "sip:bob@nonexistent.invalid",
            udp.local_address,
            routes=[f"sip:127.0.0.1:{peer.port}", "sip:p2.invalid;lr"],
        )
        await stack.send(sent)
        data, _ = await peer.receive()
        received = Message.parse(data)
        assert str(received.start_line.request_uri) == f"sip:127.0.0.1:{peer.port}"
        assert [str(r.uri) for r in received.headers["route"]] == [
            "sip:p2.invalid;lr",
            "sip:bob@nonexistent.invalid",
        ]
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_maddr_overrides_the_request_uri_host() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        uri = f"sip:bob@nonexistent.invalid:{peer.port};maddr=127.0.0.1"
        await stack.send(request(Method.OPTIONS, uri, udp.local_address))
        data, _ = await peer.receive()
        assert data.startswith(f"OPTIONS {uri} SIP/2.0\r\n".encode())
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_trace_logs_one_line_per_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="sippet.trace")
    a, a_core, a_udp = await stack_on("127.0.0.1", trace="line")
    b, _b_core, b_udp = await stack_on("127.0.0.1", {"OPTIONS": [200]})
    try:
        uri = f"sip:bob@127.0.0.1:{b_udp.local_address[1]}"
        await a.send(request(Method.OPTIONS, uri, a_udp.local_address))
        await get(a_core.responses)
        lines = [r.getMessage() for r in caplog.records if r.name == "sippet.trace"]
        assert any(f"-> udp:127.0.0.1:{b_udp.local_address[1]} OPTIONS {uri}" in x for x in lines)
        assert any(" <- " in x and "200 OK" in x for x in lines)
    finally:
        await a.close()
        await b.close()


@async_test
async def test_state_is_released_when_transactions_end() -> None:
    # Short timers: J and K end both sides soon after the 200; nothing may be left behind.
    a, a_core, a_udp = await stack_on("127.0.0.1", timers=FAST)
    b, _b_core, b_udp = await stack_on("127.0.0.1", {"OPTIONS": [200]}, timers=FAST)
    try:
        uri = f"sip:bob@127.0.0.1:{b_udp.local_address[1]}"
        for _ in range(5):
            await a.send(request(Method.OPTIONS, uri, a_udp.local_address))
            await get(a_core.responses)
        assert len(a.layer) == 5 and len(b.layer) == 5
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while (len(a.layer) or len(b.layer)) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert len(a.layer) == 0 and len(b.layer) == 0
        assert a.transport_layer.indexed == 0 and b.transport_layer.indexed == 0
    finally:
        await a.close()
        await b.close()


@async_test
async def test_without_a_core_requests_leave_no_transaction(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="sippet.stack")
    stack = Stack(name="no-core")
    await stack.start()
    transport = await stack.add_transport(UDP("127.0.0.1", 0))
    peer = RawPeer("127.0.0.1")
    try:
        peer.send(BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "").encode(), transport.local_address)
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while "no core registered" not in caplog.text:
            assert asyncio.get_running_loop().time() < deadline, "the request never arrived"
            await asyncio.sleep(0.01)
        assert stack.layer.server_count == 0
    finally:
        peer.close()
        await stack.close()


@async_test_on_stepped_clock
async def test_terminate_stops_retransmissions_silently() -> None:
    clock = stepped_clock()
    stack, core, udp = await stack_on("127.0.0.1", timers=FAST)
    peer = RawPeer("127.0.0.1")
    try:
        target = f"sip:bob@127.0.0.1:{peer.port}"
        key = await stack.send(request(Method.OPTIONS, target, udp.local_address))
        await peer.receive()
        assert key is not None
        stack.terminate(key)
        assert len(stack.layer) == 0
        # Past every Timer E retransmission and Timer F (64*T1): nothing may fire.
        clock.advance(FAST.t1 * 65)
        await turns()
        # A retransmission would reach the peer before this next request does.
        marker = request(Method.OPTIONS, target, udp.local_address)
        await stack.send(marker)
        data, _ = await peer.receive()
        assert Message.parse(data).headers["call_id"] == marker.headers["call_id"]
        assert core.errors.empty()  # and no timeout was reported for the terminated one
    finally:
        peer.close()
        await stack.close()


class Faulty(Recorder):
    """A core whose callbacks raise: plain for OPTIONS, async for everything else."""

    def receive_request(self, request: Message, server_key: ServerKey | None) -> Any:
        self.requests.put_nowait((request, server_key))
        if request.start_line.method == Method.OPTIONS:  # type: ignore[union-attr]
            raise RuntimeError("plain callback failed")

        async def failing() -> None:
            raise RuntimeError("async callback failed")

        return failing()


@async_test
async def test_core_exceptions_are_logged_and_the_stack_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("ERROR", logger="sippet.stack")
    a, _a_core, a_udp = await stack_on("127.0.0.1")
    b = Stack(name="faulty")
    await b.start()
    b_udp = await b.add_transport(UDP("127.0.0.1", 0))
    faulty = Faulty(b)
    b.register_core(faulty)
    try:
        uri = f"sip:bob@127.0.0.1:{b_udp.local_address[1]}"
        await a.send(request(Method.OPTIONS, uri, a_udp.local_address))
        await a.send(request(Method.MESSAGE, uri, a_udp.local_address))
        await get(faulty.requests)
        await get(faulty.requests)
        await asyncio.sleep(0.05)  # let the failing task finish
        assert "plain callback failed" in caplog.text
        assert "async callback failed" in caplog.text
        # Still serving: a third request arrives and reaches the core.
        await a.send(request(Method.OPTIONS, uri, a_udp.local_address))
        third, _ = await get(faulty.requests)
        assert third.start_line.method == Method.OPTIONS
    finally:
        await a.close()
        await b.close()


@async_test
async def test_unserializable_request_reaches_receive_error() -> None:
    stack, core, udp = await stack_on("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, "sip:bob@127.0.0.1:5", udp.local_address)
        sent.headers["subject"] = "two\r\nlines"  # would inject a header: refused
        key = await stack.send(sent)
        reason, error_key = await get(core.errors)
        assert (reason, error_key) == ("invalid_message", key)
    finally:
        await stack.close()


class MapResolver:
    """A resolver plug-in that knows one made-up name."""

    def __init__(self, name: str, address: str) -> None:
        self.name, self.address = name, address
        self.asked: list[tuple[str, int, str]] = []

    async def resolve(self, host: str, port: int, transport: str) -> list[tuple[int, str, int]]:
        self.asked.append((host, port, transport))
        if host != self.name:
            raise TransportError(f"unknown {host}", reason="nxdomain")
        return [(socket.AF_INET, self.address, port)]


@async_test
async def test_resolver_is_a_plug_in() -> None:
    resolver = MapResolver("sip.example.test", "127.0.0.1")
    stack, _core, udp = await stack_on("127.0.0.1", resolver=resolver)
    peer = RawPeer("127.0.0.1")
    try:
        uri = f"sip:bob@sip.example.test:{peer.port}"
        await stack.send(request(Method.OPTIONS, uri, udp.local_address))
        data, _ = await peer.receive()
        assert data.startswith(f"OPTIONS {uri} SIP/2.0\r\n".encode())
        assert resolver.asked == [("sip.example.test", peer.port, "UDP")]
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_stateless_response_to_a_sent_by_name_is_resolved() -> None:
    # No received/rport: RFC 3261 §18.2.2 sends to the sent-by, here a name to resolve.
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(
            Method.OPTIONS,
            "sip:bob@127.0.0.1",
            udp.local_address,
            rport=False,
            sent_by=SentBy("localhost", peer.port),
        )
        await stack.send_stateless(sent.to_response(404))
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 404 Not Found\r\n")
    finally:
        peer.close()
        await stack.close()


@pytest.mark.ipv6
@async_test
async def test_dual_stack_transport_reaches_ipv4_through_mapped_addresses() -> None:
    # A UDP transport bound to "::" (IPV6_V6ONLY off, the Linux default) serves IPv4 peers:
    # requests to an IPv4 host go out as ::ffff:a.b.c.d, answers return to the source.
    b, b_core, b_udp = await stack_on("::", {"OPTIONS": [200]})
    a, a_core, a_udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        uri = f"sip:bob@127.0.0.1:{b_udp.local_address[1]}"
        await a.send(request(Method.OPTIONS, uri, a_udp.local_address))
        response, _ = await get(a_core.responses)
        assert response.start_line.status_code == 200
        received, _ = await get(b_core.requests)
        assert received.headers["via"][0].params["received"] == "::ffff:127.0.0.1"
        await b.send(request(Method.OPTIONS, f"sip:x@127.0.0.1:{peer.port}", ("::1", 5060)))
        data, source = await peer.receive()
        assert data.startswith(b"OPTIONS sip:x@127.0.0.1:")
        assert source[1] == b_udp.local_address[1]
    finally:
        peer.close()
        await a.close()
        await b.close()


def test_drop_log_is_rate_limited(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sippet.transports import droplog

    clock = [100.0]
    monkeypatch.setattr(droplog.time, "monotonic", lambda: clock[0])
    log = droplog.DropLog(logging.getLogger("sippet.test.drops"), per_second=3)
    caplog.set_level("WARNING", logger="sippet.test.drops")
    for number in range(10):
        log.warning("dropped %d", number)
    assert [r.getMessage() for r in caplog.records] == ["dropped 0", "dropped 1", "dropped 2"]
    clock[0] += 1.0
    log.warning("dropped %d", 10)
    assert [r.getMessage() for r in caplog.records][3:] == [
        "7 more dropped or rejected messages were not logged",
        "dropped 10",
    ]


def test_drop_log_budget_is_per_kind(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A flood of one rejection must not hide the first lines of another in the same second.
    from sippet.transports import droplog

    monkeypatch.setattr(droplog.time, "monotonic", lambda: 100.0)
    log = droplog.DropLog(logging.getLogger("sippet.test.drops"), per_second=2)
    caplog.set_level("WARNING", logger="sippet.test.drops")
    for number in range(50):
        log.warning("refused %d", number)
    log.warning("cut off %s", "a")
    log.warning("cut off %s", "b")
    log.warning("cut off %s", "c")
    assert [r.getMessage() for r in caplog.records] == [
        "refused 0",
        "refused 1",
        "cut off a",
        "cut off b",
    ]
