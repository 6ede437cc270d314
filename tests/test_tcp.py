"""TCP transport on loopback (RFC 3261 §18): two stacks, or a stack and a raw socket peer.

Connection reuse, §18.2.2 responses on the request's connection (and on a new one when it is
gone), RFC 5923 alias, RFC 5626 keep-alives, framing errors answered then closed, §18.1.1
UDP-to-TCP switch for large requests, IPv4 and IPv6.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from helpers.aio import async_test
from sippet import URI, CSeq, Message, Method, NameAddr, Reason, RequestLine, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import TCP, UDP, StreamLimits, Transport

TIMEOUT = 5.0

HOSTS = [pytest.param("127.0.0.1", id="ipv4"), pytest.param("::1", id="ipv6")]


class Recorder(Core):
    """Records what is delivered; answers each request (but ACK) with ``code``."""

    def __init__(self, stack: Stack, code: int | None = 200) -> None:
        self.stack = stack
        self.code = code
        self.requests: asyncio.Queue[tuple[Message, ServerKey | None]] = asyncio.Queue()
        self.responses: asyncio.Queue[tuple[Message, ClientKey | None]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.put_nowait((request, server_key))
        if server_key is not None and self.code is not None:
            self.stack.send_response(request.to_response(self.code, to_tag=create_tag()))

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.responses.put_nowait((response, client_key))

    def receive_error(self, reason: str, key: object) -> None:
        self.errors.put_nowait((reason, key))


async def get(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), TIMEOUT)


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def options(
    target: str,
    local: tuple[str, int],
    protocol: str = "TCP",
    *,
    via_params: dict[str, str | None] | None = None,
    body: bytes = b"",
) -> Message:
    params: dict[str, str | None] = {"branch": create_branch(), "rport": None}
    params.update(via_params or {})
    headers: dict[str, Any] = {
        "via": [Via((2, 0), protocol, SentBy(*local), params)],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse("sip:alice@example.com"), {"tag": create_tag()}),
        "to": NameAddr("", URI.parse("sip:bob@example.com"), {}),
        "call_id": create_call_id(),
        "cseq": CSeq(1, Method.OPTIONS),
    }
    return Message(RequestLine(Method.OPTIONS, URI.parse(target)), headers, body)


async def tcp_stack(
    host: str, code: int | None = 200, **transport_options: Any
) -> tuple[Stack, Recorder, TCP]:
    stack = Stack(name=f"tcp-{host}")
    await stack.start()
    transport = TCP(host, 0, **transport_options)
    await stack.add_transport(transport)
    core = Recorder(stack, code)
    stack.register_core(core)
    return stack, core, transport


def uri_of(transport: Transport, user: str = "bob") -> str:
    host, port = transport.local_address
    return f"sip:{user}@{bracket(host)}:{port};transport={transport.protocol.lower()}"


class RawStream:
    """A plain TCP client socket in the test's event loop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.address: tuple[str, int] = writer.get_extra_info("sockname")[:2]

    @classmethod
    async def connect(cls, address: tuple[str, int]) -> RawStream:
        reader, writer = await asyncio.open_connection(address[0], address[1])
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_message(self) -> bytes:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                length = int(value)
        body = await asyncio.wait_for(self.reader.readexactly(length), TIMEOUT)
        return head + body

    async def closed_by_peer(self) -> bool:
        """True when the peer closes (EOF) or resets within TIMEOUT, after any data."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), TIMEOUT):
                pass
        except TimeoutError:
            return False
        except ConnectionError:  # reset (an abort), or seen by a write: closed all the same
            return True
        return True

    def close(self) -> None:
        self.writer.close()


@pytest.mark.parametrize("host", HOSTS)
@async_test
async def test_request_and_response_share_one_connection(host: str) -> None:
    a, a_core, a_tcp = await tcp_stack(host)
    b, b_core, b_tcp = await tcp_stack(host)
    try:
        for _ in range(3):
            key = await a.send(options(uri_of(b_tcp), a_tcp.local_address))
            request, _ = await get(b_core.requests)
            assert request.headers["via"][0].protocol == "TCP"
            response, client_key = await get(a_core.responses)
            assert response.start_line.status_code == 200
            assert client_key == key
        # Three requests, one connection each side (§18.2.2: the response went back on it).
        assert a_tcp.connection_count == 1 and b_tcp.connection_count == 1
    finally:
        await a.close()
        await b.close()


@async_test
async def test_response_goes_on_a_new_connection_when_the_request_s_is_gone() -> None:
    """RFC 3261 §18.2.2: the connection closed before the response: connect to the Via's
    received/rport (here the sent-by port, the peer's listener)."""
    b, b_core, b_tcp = await tcp_stack("127.0.0.1", code=None)
    listener_got: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener_got.put_nowait(await RawStream(reader, writer).read_message())
        writer.close()

    listener = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    listen_port = listener.sockets[0].getsockname()[1]
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        request = options(uri_of(b_tcp), ("127.0.0.1", listen_port))
        del request.headers["via"][0].params["rport"]
        await raw.send(bytes(request))
        received, key = await get(b_core.requests)
        raw.close()
        while b_tcp.connection_count:
            await asyncio.sleep(0.01)
        b.send_response(received.to_response(200, to_tag=create_tag()))
        data = await get(listener_got)
        assert data.startswith(b"SIP/2.0 200 OK\r\n")
        assert key is not None
    finally:
        listener.close()
        await b.close()


@async_test
async def test_alias_lets_requests_reuse_the_peer_s_connection() -> None:
    """RFC 5923 §5: the peer's Via has ``alias``: a request to its sent-by goes back on the
    connection it opened instead of a new one."""
    b, b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        fake_listener = ("127.0.0.1", 9)  # nothing listens: only the alias can reach it
        await raw.send(bytes(options(uri_of(b_tcp), fake_listener, via_params={"alias": None})))
        await get(b_core.requests)
        assert (await raw.read_message()).startswith(b"SIP/2.0 200")
        await b.send(options("sip:alice@127.0.0.1:9;transport=tcp", b_tcp.local_address))
        request = await raw.read_message()
        assert request.startswith(b"OPTIONS sip:alice@127.0.0.1:9;transport=tcp SIP/2.0\r\n")
        assert b_tcp.connection_count == 1
        raw.close()
    finally:
        await b.close()


@async_test
async def test_without_alias_a_request_opens_its_own_connection() -> None:
    b, b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        await raw.send(bytes(options(uri_of(b_tcp), ("127.0.0.1", 9))))
        await get(b_core.requests)
        await raw.read_message()
        await b.send(options("sip:alice@127.0.0.1:9;transport=tcp", b_tcp.local_address))
        reason, _key = await get(b_core.errors)
        assert reason == "unreachable"  # port 9 refuses: a new connection was tried
        raw.close()
    finally:
        await b.close()


@async_test
async def test_a_client_named_invalid_is_reached_over_its_connection_while_it_is_open() -> None:
    """RFC 7118 §5 made general: a client that names itself with a ``.invalid`` host (it
    cannot be reached otherwise) gets requests on its own connection; once that closes,
    a request for it fails with ``no_connection`` (no DNS lookup, no connection attempt)."""
    b, b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        await raw.send(bytes(options(uri_of(b_tcp), ("client-7.invalid", 5060))))
        await get(b_core.requests)
        assert (await raw.read_message()).startswith(b"SIP/2.0 200")
        assert b.transport_layer.connection_names == 1
        await b.send(options("sip:alice@client-7.invalid;transport=tcp", b_tcp.local_address))
        assert (await raw.read_message()).startswith(b"OPTIONS sip:alice@client-7.invalid")
        raw.close()
        for _ in range(100):  # bounded: until the stack saw the close
            if b.transport_layer.connection_names == 0:
                break
            await asyncio.sleep(0.05)
        assert b.transport_layer.connection_names == 0
        key = await b.send(options("sip:alice@client-7.invalid;transport=tcp", ("127.0.0.1", 1)))
        assert await get(b_core.errors) == (Reason.NO_CONNECTION, key)
    finally:
        await b.close()


@async_test
async def test_keepalive_ping_is_answered_with_pong() -> None:
    """RFC 5626 §4.4.1: CRLFCRLF gets CRLF; the connection stays usable."""
    b, _b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        await raw.send(b"\r\n\r\n")
        assert await asyncio.wait_for(raw.reader.readexactly(2), TIMEOUT) == b"\r\n"
        await raw.send(bytes(options(uri_of(b_tcp), raw.address)))
        assert (await raw.read_message()).startswith(b"SIP/2.0 200")
        raw.close()
    finally:
        await b.close()


@async_test
async def test_client_connections_send_keepalive_pings() -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await RawStream(reader, writer).read_message()
        got.put_nowait(await asyncio.wait_for(reader.readexactly(4), TIMEOUT))
        writer.close()

    listener = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    a, _a_core, a_tcp = await tcp_stack(
        "127.0.0.1", stream_limits=StreamLimits(keepalive_interval=0.1)
    )
    try:
        await a.send(options(f"sip:x@127.0.0.1:{port};transport=tcp", a_tcp.local_address))
        assert await get(got) == b"\r\n\r\n"
    finally:
        listener.close()
        await a.close()


@pytest.mark.parametrize("name", ["ncl", "mcl01"])
@async_test
async def test_framing_error_is_answered_400_then_closed(name: str) -> None:
    """RFC 4475 §3.1.2.3 (ncl) and mcl01 over TCP: the framing cannot be recovered."""
    from conftest import RFC4475_DIR

    b, b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        data = (RFC4475_DIR / f"{name}.dat").read_bytes().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
        await raw.send(data)
        answer = await raw.read_message()
        assert answer.startswith(b"SIP/2.0 400 ")
        assert await raw.closed_by_peer()
        assert b_core.requests.empty()
    finally:
        await b.close()


@async_test
async def test_incomplete_message_is_cut_off_after_message_timeout() -> None:
    """RFC 4475 §3.1.2.2 clerr: Content-Length larger than the body: wait, then close."""
    from conftest import RFC4475_DIR

    b, b_core, b_tcp = await tcp_stack("127.0.0.1", stream_limits=StreamLimits(message_timeout=0.3))
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        await raw.send((RFC4475_DIR / "clerr.dat").read_bytes())
        assert await raw.closed_by_peer()
        assert b_core.requests.empty()
        assert b_tcp.connection_count == 0
    finally:
        await b.close()


@async_test
async def test_idle_connection_is_closed() -> None:
    b, _b_core, b_tcp = await tcp_stack("127.0.0.1", stream_limits=StreamLimits(idle_timeout=0.2))
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        assert await raw.closed_by_peer()
        assert b_tcp.connection_count == 0
    finally:
        await b.close()


@async_test
async def test_unreachable_peer_is_a_transport_error_with_the_key() -> None:
    a, a_core, a_tcp = await tcp_stack("127.0.0.1")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    try:
        key = await a.send(options(f"sip:x@127.0.0.1:{port};transport=tcp", a_tcp.local_address))
        reason, error_key = await get(a_core.errors)
        assert reason == "unreachable" and error_key == key
    finally:
        await a.close()


@async_test
async def test_large_request_over_udp_goes_over_tcp() -> None:
    """RFC 3261 §18.1.1: larger than 1300 bytes and the URI allows it: TCP, Via changed."""
    a = Stack(name="a")
    b = Stack(name="b")
    await a.start()
    await b.start()
    try:
        a_udp = await a.add_transport(UDP("127.0.0.1", 0))
        a_tcp = TCP("127.0.0.1", 0)
        await a.add_transport(a_tcp)
        b_tcp = TCP("127.0.0.1", 0)
        await b.add_transport(b_tcp)
        b_core = Recorder(b)
        a_core = Recorder(a)
        a.register_core(a_core)
        b.register_core(b_core)
        port = b_tcp.local_address[1]
        big = options(f"sip:bob@127.0.0.1:{port}", a_udp.local_address, "UDP", body=b"x" * 1400)
        await a.send(big)
        request, _ = await get(b_core.requests)
        assert request.headers["via"][0].protocol == "TCP"
        response, _ = await get(a_core.responses)
        assert response.start_line.status_code == 200
    finally:
        await a.close()
        await b.close()


@async_test
async def test_framing_error_split_across_chunks_is_still_answered() -> None:
    """The headers of the broken message arrive in pieces, after a good message in the same
    first chunk: the 400 is still built from the broken message's own headers."""
    from conftest import RFC4475_DIR

    b, b_core, b_tcp = await tcp_stack("127.0.0.1")
    try:
        raw = await RawStream.connect(b_tcp.local_address)
        good = bytes(options(uri_of(b_tcp), raw.address))
        broken = (RFC4475_DIR / "ncl.dat").read_bytes().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
        cut = broken.index(b"Content-Length")
        await raw.send(good + broken[:40])
        assert (await raw.read_message()).startswith(b"SIP/2.0 200 OK\r\n")
        await raw.send(broken[40:cut])
        await asyncio.sleep(0.05)
        await raw.send(broken[cut:])
        answer = Message.parse(await raw.read_message())
        assert answer.start_line.status_code == 400  # type: ignore[union-attr]
        assert (
            answer.headers["call_id"]
            == Message.parse(
                broken.replace(b"Content-Length: -999", b"Content-Length: 0").split(b"\r\n\r\n")[0]
                + b"\r\n\r\n"
            ).headers["call_id"]
        )
        assert await raw.closed_by_peer()
        request, _ = await get(b_core.requests)
        assert request.headers["call_id"] != answer.headers["call_id"]
    finally:
        await b.close()
