"""sippet.transports.ws (RFC 7118) on real loopback sockets: the server and client sides,
text and binary messages, the ``sip`` subprotocol, one SIP message per WebSocket message,
responses back over the request's connection, error reports, and the abuse bounds (each
with a well-behaved peer answered throughout)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trustme
from helpers.aio import async_test, async_test_within
from sippet import URI, CSeq, Message, Method, NameAddr, Reason, RequestLine, SentBy, Target, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.stack.routing import uri_next_hop
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import Address, Transport
from sippet.transports.ws import WS, WSS, invalid_host
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.typing import Subprotocol

TIMEOUT = 5.0
SIP = [Subprotocol("sip")]
ANSWER_BOUND = 1.0
"""The issue's bound for a well-behaved peer's answer while another peer misbehaves."""

OPTIONS = (
    b"OPTIONS sip:server@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK-1\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:a@abc.invalid>;tag=1\r\n"
    b"To: <sip:server@127.0.0.1>\r\n"
    b"Call-ID: call-1\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n\r\n"
)


class Recorder:
    """A TransportReceiver that records what it is told."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, Address]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, Address]] = asyncio.Queue()

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        self.messages.put_nowait((data, source))

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        self.errors.put_nowait((reason, destination))


class Echo(Recorder):
    """Records, and sends every message back to where it came from (on its connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.transport: Transport | None = None

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        super().message_received(transport, data, source)
        transport.send(data, source)


async def get(queue: asyncio.Queue[Any], timeout: float = TIMEOUT) -> Any:
    return await asyncio.wait_for(queue.get(), timeout)


@contextlib.asynccontextmanager
async def running(transport: WS, receiver: Any) -> AsyncIterator[WS]:
    await transport.start(receiver)
    try:
        yield transport
    finally:
        await transport.stop()


def ws_uri(transport: WS, scheme: str = "ws") -> str:
    host, port = transport.local_address
    return f"{scheme}://{host}:{port}/"


async def sip_client(transport: WS, **options: Any) -> ClientConnection:
    return await connect(
        ws_uri(transport), subprotocols=SIP, proxy=None, compression=None, **options
    )


async def echoed(client: ClientConnection, data: bytes | str) -> bytes | str:
    await client.send(data)
    return await asyncio.wait_for(client.recv(), TIMEOUT)


# -- server side ----------------------------------------------------------------------------


@async_test
async def test_text_and_binary_messages_arrive_whole_with_the_connection_source() -> None:
    echo = Echo()
    async with running(WS("127.0.0.1", 0), echo) as server, await sip_client(server) as client:
        local = client.local_address[:2]
        # RFC 7118 §4.2: both text and binary messages are accepted.
        assert await echoed(client, OPTIONS.decode()) == OPTIONS.decode()
        data, source = await get(echo.messages)
        assert (data, source) == (OPTIONS, local)
        body = OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 2") + b"\xff\xfe"
        # A message with a non-UTF-8 octet comes back in a binary message (§4.2).
        assert await echoed(client, body) == body
        assert (await get(echo.messages)) == (body, local)
        assert server.connections == [local]


@async_test
async def test_each_websocket_message_is_one_delivery_fragments_joined() -> None:
    recorder = Recorder()
    async with running(WS("127.0.0.1", 0), recorder) as server, await sip_client(server) as client:
        await client.send(OPTIONS)
        await client.send(OPTIONS + OPTIONS)  # two messages in one: one delivery
        await client.send([OPTIONS[:10], OPTIONS[10:40], OPTIONS[40:]])  # fragmented
        deliveries = [(await get(recorder.messages))[0] for _ in range(3)]
    assert deliveries == [OPTIONS, OPTIONS + OPTIONS, OPTIONS]
    assert recorder.messages.empty()


@async_test
async def test_a_text_message_is_passed_on_undecoded() -> None:
    # A non-UTF-8 octet in a text message breaks RFC 7118 §4.2; the bytes go to the
    # receiver as they are, and the SIP parser above answers them like any bad message.
    recorder = Recorder()
    async with running(WS("127.0.0.1", 0), recorder) as server, await sip_client(server) as client:
        await client.send(OPTIONS + b"\xff", text=True)
        assert (await get(recorder.messages))[0] == OPTIONS + b"\xff"


@pytest.mark.parametrize("offered", [None, ["chat"], ["chat", "superchat"]])
@async_test
async def test_a_handshake_without_the_sip_subprotocol_is_refused(
    offered: list[str] | None,
) -> None:
    recorder = Recorder()
    async with running(WS("127.0.0.1", 0), recorder) as server:
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws_uri(server), subprotocols=offered, proxy=None)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 400
        assert server.connections == []
        # A proper client is still served.
        async with await sip_client(server) as client:
            assert client.subprotocol == "sip"
            await client.send(OPTIONS)
            assert (await get(recorder.messages))[0] == OPTIONS


@async_test
async def test_origins_are_checked_when_configured() -> None:
    recorder = Recorder()
    server_transport = WS("127.0.0.1", 0, origins=["https://app.example.com"])
    async with running(server_transport, recorder) as server:
        with pytest.raises(InvalidStatus) as refused:
            await sip_client(server, origin="https://evil.example.com")
        assert refused.value.response.status_code == 403
        async with await sip_client(server, origin="https://app.example.com") as client:
            await client.send(OPTIONS)
            assert (await get(recorder.messages))[0] == OPTIONS


@async_test
async def test_a_peer_closing_is_reported_with_its_address() -> None:
    recorder = Recorder()
    async with running(WS("127.0.0.1", 0), recorder) as server:
        client = await sip_client(server)
        local = client.local_address[:2]
        await client.send(OPTIONS)
        await get(recorder.messages)
        await client.close()
        assert await get(recorder.errors) == (Reason.CONNECTION_CLOSED, local)
        assert server.connections == []
        # Sending there now means connecting to the client's (closed) port: refused.
        server.send(OPTIONS, local)
        assert await get(recorder.errors) == (Reason.UNREACHABLE, local)


# -- client side ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", [pytest.param("127.0.0.1", id="ipv4"), pytest.param("::1", id="ipv6")]
)
@async_test
async def test_send_opens_a_connection_and_replies_come_back_on_it(host: str) -> None:
    echo = Echo()
    inbox = Recorder()
    async with (
        running(WS(host, 0), echo) as server,
        running(WS(host, listen=False), inbox) as client,
    ):
        assert client.local_address == (host, 0)
        assert (
            server.family == client.family == (socket.AF_INET6 if ":" in host else socket.AF_INET)
        )
        client.send(OPTIONS, server.local_address)
        client.send(OPTIONS + b"2", server.local_address)  # queued while connecting
        assert await get(inbox.messages) == (OPTIONS, server.local_address)
        assert await get(inbox.messages) == (OPTIONS + b"2", server.local_address)
        assert client.connections == [server.local_address]
        _, source = await get(echo.messages)
        assert source[0] == host
        assert server.connections == [source]
        # connect() finds the open connection rather than opening a second one.
        assert await client.connect(*server.local_address) == server.local_address
        assert len(server.connections) == 1


@async_test
async def test_connect_failures_are_reported_with_reason_codes() -> None:
    inbox = Recorder()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[:2]

    async def no_subprotocol(websocket: Any) -> None:
        await websocket.wait_closed()

    async with (
        running(WS("127.0.0.1", listen=False), inbox) as client,
        serve(no_subprotocol, "127.0.0.1", 0) as plain,
        serve(no_subprotocol, "127.0.0.1", 0, subprotocols=["chat"]) as chat,  # type: ignore[list-item]
    ):
        client.send(OPTIONS, closed)
        assert await get(inbox.errors) == (Reason.UNREACHABLE, closed)
        # A server that upgrades without naming "sip" (RFC 7118 §4.1 requires it).
        address = plain.sockets[0].getsockname()[:2]
        client.send(OPTIONS, address)
        assert await get(inbox.errors) == (Reason.SUBPROTOCOL_REFUSED, address)
        # A server that refuses the upgrade (websockets answers 400 to "sip" only).
        address = chat.sockets[0].getsockname()[:2]
        client.send(OPTIONS, address)
        assert await get(inbox.errors) == (Reason.HANDSHAKE_REFUSED, address)
        assert client.connections == []


@async_test
async def test_send_before_start_is_reported() -> None:
    transport = WS("127.0.0.1", 0)
    recorder = Recorder()
    async with running(transport, recorder):
        pass
    transport.send(OPTIONS, ("127.0.0.1", 9))
    await asyncio.sleep(0)
    assert await get(recorder.errors) == (Reason.NOT_STARTED, ("127.0.0.1", 9))


# -- WSS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("sip.example.test", "127.0.0.1").configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_wss_exchanges_messages_and_checks_the_certificate(ca: trustme.CA) -> None:
    @async_test
    async def run() -> None:
        echo, inbox = Echo(), Recorder()
        server_transport = WSS("127.0.0.1", 0, ssl_context=server_context(ca))
        trusting = WSS("127.0.0.1", ssl_context=None, client_context=client_context(ca))
        untrusting = WSS("127.0.0.1", ssl_context=None)  # the system CAs only
        async with (
            running(server_transport, echo) as server,
            running(trusting, inbox) as client,
            running(untrusting, inbox) as stranger,
        ):
            assert client.local_address == ("127.0.0.1", 0)  # no certificate: no listener
            # The name the transport layer passes (the hop's host) is verified, as for TLS.
            client.connect_send(OPTIONS, server.local_address, "sip.example.test")
            assert await get(inbox.messages) == (OPTIONS, server.local_address)
            stranger.connect_send(OPTIONS, server.local_address, "sip.example.test")
            assert await get(inbox.errors) == (
                Reason.TLS_VERIFICATION_FAILED,
                server.local_address,
            )
            async with running(
                WSS("127.0.0.1", ssl_context=None, client_context=client_context(ca)), inbox
            ) as mistaken:
                mistaken.connect_send(OPTIONS, server.local_address, "other.example.test")
                assert await get(inbox.errors) == (
                    Reason.TLS_VERIFICATION_FAILED,
                    server.local_address,
                )
                # No name: the IP address itself is verified, and it is in the certificate.
                mistaken.send(OPTIONS, server.local_address)
                assert await get(inbox.messages) == (OPTIONS, server.local_address)

    run()


def test_wss_bounds_the_tls_handshake(ca: trustme.CA) -> None:
    @async_test
    async def run() -> None:
        echo = Echo()
        transport = WSS("127.0.0.1", 0, ssl_context=server_context(ca), handshake_timeout=1.0)
        async with running(transport, echo) as server:
            # A TCP connection that never starts TLS is closed by the handshake bound.
            reader, writer = await _raw_connect(*server.local_address)
            assert await _closed(reader, 30)
            writer.close()

    run()


@async_test
async def test_a_wss_without_a_certificate_only_connects_out() -> None:
    async with running(WSS("127.0.0.1", 0, ssl_context=None), Recorder()) as client:
        assert client.local_address == ("127.0.0.1", 0)
        assert not client.listen


# -- with the Stack -------------------------------------------------------------------------


class Answering(Core):
    """Answers every request with 200 and records what arrives."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.requests: asyncio.Queue[tuple[Message, ServerKey | None]] = asyncio.Queue()
        self.responses: asyncio.Queue[tuple[Message, ClientKey | None]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.put_nowait((request, server_key))
        if server_key is not None and request.start_line.method != Method.ACK:  # type: ignore[union-attr]
            self.stack.send_response(request.to_response(200, to_tag=create_tag()))

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.responses.put_nowait((response, client_key))

    def receive_error(self, reason: str, key: object) -> None:
        self.errors.put_nowait((reason, key))


def ws_request(
    method: Method, request_uri: str, protocol: str, client_host: str, contact_host: str = ""
) -> Message:
    """A request as a WebSocket client builds it: ``.invalid`` Via and Contact (RFC 7118
    Appendix B.1, §8.1); the Contact's host is the Via's unless ``contact_host`` is given."""
    local = URI("sip", "alice", None, contact_host or client_host, None, {"transport": "ws"})
    return Message(
        RequestLine(method, URI.parse(request_uri)),
        {
            "via": [Via((2, 0), protocol, SentBy(client_host, None), {"branch": create_branch()})],
            "max_forwards": 70,
            "from": NameAddr("", local, {"tag": create_tag()}),
            "to": NameAddr("", URI.parse("sip:bob@example.com"), {}),
            "call_id": create_call_id(),
            "cseq": CSeq(1, method),
            "contact": [NameAddr("", local, {})],
        },
    )


async def until(condition: Callable[[], bool], attempts: int = 100) -> bool:
    """Polls ``condition`` (bounded: ``attempts`` times, 50 ms apart)."""
    for _ in range(attempts):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


@async_test
async def test_stack_over_ws_requests_and_responses_follow_the_connection() -> None:
    async with Stack("server") as server_stack, Stack("client") as client_stack:
        server, client = WS("127.0.0.1", 0), WS("127.0.0.1", listen=False)
        await server_stack.add_transport(server)
        await client_stack.add_transport(client)
        server_core, client_core = Answering(server_stack), Answering(client_stack)
        server_stack.register_core(server_core)
        client_stack.register_core(client_core)
        port = server.local_address[1]
        host = invalid_host()
        assert host.endswith(".invalid")
        # transport=ws picks the WS transport; the response comes back on the connection,
        # though the Via names a host that does not resolve.
        key = await client_stack.send(
            ws_request(Method.OPTIONS, f"sip:127.0.0.1:{port};transport=ws", "WS", host)
        )
        response, response_key = await get(client_core.responses)
        assert response.start_line.status_code == 200
        assert response_key == key
        request, _ = await get(server_core.requests)
        via = request.headers["via"][0]
        assert via.sent_by.host == host
        # RFC 3581: rport is the client's choice; the stack does not add it.
        assert "rport" not in via.params
        # The server reaches the client by the name it gave itself (its Contact, here a
        # Request-URI without a Target): the transport layer finds its connection.
        contact = request.headers["contact"][0].uri
        assert contact.host == host
        await server_stack.send(ws_request(Method.MESSAGE, str(contact), "WS", "127.0.0.1"))
        delivered, _ = await get(client_core.requests)
        assert delivered.start_line.method == Method.MESSAGE
        answer, _ = await get(server_core.responses)
        assert answer.start_line.status_code == 200
        # A core that kept the connection's address reaches it with a Target too.
        [flow] = server.connections
        by_target = ws_request(Method.MESSAGE, str(contact), "WS", "127.0.0.1")
        by_target.target = Target("WS", *flow)
        await server_stack.send(by_target)
        assert (await get(client_core.requests))[0].start_line.method == Method.MESSAGE
        assert (await get(server_core.responses))[0].start_line.status_code == 200
        assert len(server.connections) == 1 and client.connections == [server.local_address]
        assert server_stack.transport_layer.connection_names == 1
        # The client goes away: its name stands for nothing, and a request for it fails
        # with a clear reason instead of a DNS lookup or a timeout.
        await client.stop()
        assert await until(lambda: server_stack.transport_layer.connection_names == 0)
        key = await server_stack.send(ws_request(Method.MESSAGE, str(contact), "WS", "127.0.0.1"))
        assert await get(server_core.errors) == (Reason.NO_CONNECTION, key)


@async_test
async def test_invalid_names_route_to_their_own_connection_only() -> None:
    async with Stack("server") as server_stack:
        server = WS("127.0.0.1", 0)
        await server_stack.add_transport(server)
        core = Answering(server_stack)
        server_stack.register_core(core)
        async with await sip_client(server) as alice, await sip_client(server) as mallory:
            # Alice names herself in the Via and, differently, in the Contact (as JsSIP
            # does); both names stand for her connection.
            await alice.send(
                bytes(
                    ws_request(
                        Method.OPTIONS,
                        "sip:s@127.0.0.1",
                        "WS",
                        "via-a.invalid",
                        "contact-a.invalid",
                    )
                )
            )
            assert (await asyncio.wait_for(alice.recv(decode=False), TIMEOUT)).startswith(
                b"SIP/2.0 200 "
            )
            # Mallory claims Alice's name: answered on her own connection, name not taken.
            await mallory.send(
                bytes(ws_request(Method.OPTIONS, "sip:s@127.0.0.1", "WS", "CONTACT-A.invalid"))
            )
            assert (await asyncio.wait_for(mallory.recv(decode=False), TIMEOUT)).startswith(
                b"SIP/2.0 200 "
            )
            await get(core.requests)
            await get(core.requests)
            for uri in ("sip:alice@contact-a.invalid;transport=ws", "sip:alice@VIA-A.invalid"):
                await server_stack.send(ws_request(Method.MESSAGE, uri, "WS", "127.0.0.1"))
                reached = await asyncio.wait_for(alice.recv(decode=False), TIMEOUT)
                assert reached.startswith(f"MESSAGE {uri} SIP/2.0".encode())
            # sips: needs a secure connection (RFC 3261 §26.2.2); Alice's is plain WS.
            key = await server_stack.send(
                ws_request(
                    Method.MESSAGE, "sips:alice@contact-a.invalid;transport=ws", "WS", "127.0.0.1"
                )
            )
            assert await get(core.errors) == (Reason.NO_CONNECTION, key)
            # A name nobody gave: no DNS lookup, a clear reason.
            key = await server_stack.send(
                ws_request(Method.MESSAGE, "sip:bob@nobody.invalid;transport=ws", "WS", "127.0.0.1")
            )
            assert await get(core.errors) == (Reason.NO_CONNECTION, key)


@async_test
async def test_stack_answers_a_malformed_request_on_the_connection() -> None:
    async with Stack("server") as server_stack:
        server = WS("127.0.0.1", 0)
        await server_stack.add_transport(server)
        server_stack.register_core(Answering(server_stack))
        async with await sip_client(server) as client:
            bad = OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 9")
            await client.send(bad)
            reply = await asyncio.wait_for(client.recv(decode=False), TIMEOUT)
            assert reply.startswith(b"SIP/2.0 400 ")
            await client.send(OPTIONS)
            reply = await asyncio.wait_for(client.recv(decode=False), TIMEOUT)
            assert reply.startswith(b"SIP/2.0 200 ")


def test_ws_uris_route_to_ws_and_wss() -> None:
    assert tuple(uri_next_hop(URI.parse("sip:a@example.com;transport=ws"))) == (
        "WS",
        "example.com",
        80,
    )
    assert tuple(uri_next_hop(URI.parse("sip:a@example.com;transport=wss"))) == (
        "WSS",
        "example.com",
        443,
    )
    # RFC 7118 §5.5, §9.2: a sips URI over WebSocket is secure WebSocket.
    assert tuple(uri_next_hop(URI.parse("sips:a@example.com;transport=ws"))) == (
        "WSS",
        "example.com",
        443,
    )


def test_import_sippet_does_not_import_websockets() -> None:
    code = "import sys, sippet; print('websockets' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"


# -- abuse: each cut off, logged, and a well-behaved peer answered throughout ---------------


class GoodPeer:
    """A well-behaved client on its own loopback address that checks it is answered."""

    def __init__(self, server: WS, local_ip: str = "127.0.0.2") -> None:
        self.server = server
        self.local_ip = local_ip
        self.client: ClientConnection | None = None
        self.answered = 0

    async def __aenter__(self) -> GoodPeer:
        host, port = self.server.local_address
        sock = socket.create_connection((host, port), source_address=(self.local_ip, 0))
        self.client = await connect(ws_uri(self.server), subprotocols=SIP, proxy=None, sock=sock)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.close()

    async def check(self) -> None:
        """One OPTIONS echoed within ANSWER_BOUND."""
        assert self.client is not None
        await self.client.send(OPTIONS)
        try:
            reply = await asyncio.wait_for(self.client.recv(decode=False), ANSWER_BOUND)
        except TimeoutError:
            pytest.fail(
                f"the good peer was not answered within {ANSWER_BOUND} s "
                f"(after {self.answered} answers)"
            )
        assert reply == OPTIONS
        self.answered += 1

    async def keep_checking(self, until: asyncio.Future[Any], at_most: int = 200) -> None:
        for _ in range(at_most):
            if until.done():
                return
            await self.check()
            await asyncio.sleep(0.05)


@async_test
async def test_a_huge_message_closes_its_connection_only(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()
    async with (
        running(WS("127.0.0.1", 0, max_message_size=4096), echo) as server,
        GoodPeer(server) as good,
        await sip_client(server) as abuser,
    ):
        await good.check()
        local = abuser.local_address[:2]
        await abuser.send(b"x" * 4097)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(abuser.recv(), TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert await get(echo.errors) == (Reason.MESSAGE_TOO_LARGE, local)
        await good.check()
        # One below the bound is fine.
        await good.client.send(b"y" * 4096)  # type: ignore[union-attr]
        assert await asyncio.wait_for(good.client.recv(decode=False), TIMEOUT) == b"y" * 4096  # type: ignore[union-attr]
    assert "message_too_large" in caplog.text


@async_test
async def test_a_slow_sender_is_cut_off_by_the_idle_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "sippet.transports.ws")
    echo = Echo()
    async with (
        running(WS("127.0.0.1", 0, idle_timeout=1.0), echo) as server,
        GoodPeer(server) as good,
    ):
        # Handshake done, then one frame header and a byte at a time, never finishing.
        reader, writer = await asyncio.open_connection(*server.local_address)
        writer.write(_handshake(server))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(bytes([0x81, 0xFE, 0x10, 0x00, 1, 2, 3, 4]))  # masked text, 4096 bytes
        cut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def dribble() -> None:
            for _ in range(400):
                writer.write(b"a")
                await writer.drain()
                await asyncio.sleep(0.05)

        async def wait_cut() -> None:
            reason, _ = await get(echo.errors, 30)
            cut.set_result(None)
            assert reason == Reason.IDLE_TIMEOUT

        dribbling = asyncio.ensure_future(dribble())
        await asyncio.gather(wait_cut(), good.keep_checking(cut))
        dribbling.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await dribbling
        writer.close()
        assert good.answered >= 1
        # The good peer exchanged messages meanwhile, so it is not idle: still served.
        await good.check()
    assert "idle for 1 s" in caplog.text


@async_test_within(60)
async def test_thousands_of_idle_connections_are_bounded_and_cut_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo = Echo()
    transport = WS(
        "127.0.0.1",
        0,
        max_connections=3000,
        max_connections_per_address=1000,
        handshake_timeout=2.0,
    )
    async with running(transport, echo) as server, GoodPeer(server) as good:
        await good.check()
        host, port = server.local_address
        # 2000 TCP connections from 127.0.0.1 that never send a handshake.
        idle = [await _raw_connect(host, port) for _ in range(2000)]
        await good.check()
        # Beyond the per-address bound, a connection is closed at once.
        refused = await asyncio.gather(*(_closed(reader) for reader, _ in idle[1000:]))
        assert all(refused)
        await good.check()
        # The rest are closed when the handshake time is up; the good peer still served.
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def all_closed() -> bool:
            result = await asyncio.gather(*(_closed(r, 30) for r, _ in idle[:1000]))
            done.set_result(None)
            return all(result)

        closed_all, _ = await asyncio.gather(all_closed(), good.keep_checking(done))
        assert closed_all
        for _, writer in idle:
            writer.close()
        await good.check()
    assert "connections from that address" in caplog.text
    assert "closed without a WebSocket handshake" in caplog.text


@async_test_within(90)
async def test_hundreds_of_idle_websocket_connections_are_closed_by_the_idle_timeout() -> None:
    echo = Echo()
    transport = WS("127.0.0.1", 0, idle_timeout=2.0, max_connections_per_address=1000)
    async with running(transport, echo) as server, GoodPeer(server) as good:
        # Handshaken, then silent (no pings from the client side either).
        idle = [await sip_client(server, ping_interval=None) for _ in range(500)]
        await good.check()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def all_cut() -> list[str]:
            reasons = [(await get(echo.errors, 60))[0] for _ in idle]
            done.set_result(None)
            return reasons

        reasons, _ = await asyncio.gather(all_cut(), good.keep_checking(done, at_most=1200))
        assert reasons == [Reason.IDLE_TIMEOUT] * len(idle)
        assert server.connections == [good.client.local_address[:2]]  # type: ignore[union-attr]
        for client in idle:
            assert client.close_code == 1001  # going away, with the reason
            assert client.close_reason == "idle_timeout"
        await good.check()


@async_test
async def test_the_total_connection_bound_refuses_new_connections() -> None:
    echo = Echo()
    async with running(WS("127.0.0.1", 0, max_connections=5), echo) as server:
        clients = [await sip_client(server) for _ in range(5)]
        host, port = server.local_address
        reader, writer = await _raw_connect(host, port)
        assert await _closed(reader)
        writer.close()
        with pytest.raises(InvalidMessage):  # aborted before the HTTP response
            await sip_client(server)
        await clients[0].close()
        await get(echo.errors)  # its close, once the server saw it
        async with await sip_client(server) as again:
            assert await echoed(again, OPTIONS) == OPTIONS.decode()
        for client in clients[1:]:
            await client.close()


@async_test
async def test_a_peer_that_does_not_read_is_cut_off(caplog: pytest.LogCaptureFixture) -> None:
    echo = Echo()
    server_transport = WS("127.0.0.1", 0, max_write_buffer=256 * 1024)
    async with running(server_transport, echo) as server, GoodPeer(server) as good:
        await good.check()
        await get(echo.messages)
        # max_queue=1: the client library stops reading at once, so TCP fills up.
        lazy = await sip_client(server, max_queue=1)
        await lazy.send(OPTIONS)
        _, source = await get(echo.messages)
        big = b"z" * 60000
        for _ in range(2000):  # at most 120 MB offered; the bound is met long before
            server.send(big, source)
            await asyncio.sleep(0)
            if source not in server.connections:
                break
        assert await get(echo.errors) == (Reason.WRITE_BUFFER_FULL, source)
        await good.check()
        await lazy.close()
    assert "does not read" in caplog.text


async def _raw_connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


async def _closed(reader: asyncio.StreamReader, timeout: float = TIMEOUT) -> bool:
    """True when the server closed the connection (EOF or reset) within ``timeout``."""
    try:
        data = await asyncio.wait_for(reader.read(1024), timeout)
    except ConnectionError:
        return True
    except TimeoutError:
        return False
    return data == b"" or b"400" in data or b"503" in data


def _handshake(server: WS) -> bytes:
    host, port = server.local_address
    return (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
    ).encode()
