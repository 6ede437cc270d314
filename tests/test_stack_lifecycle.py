"""sippet.Stack paths beyond the happy ones, on loopback: its life cycle (send after close,
close cancelling the core's tasks, input after close), responses that parse but fail
validation, send failures reaching the core with their key, ``limits=`` enforced on the
wire, and ``send_stateless`` for requests (RFC 3261 §16.11 stateless forwarding, §16.12.1.2
strict routes)."""

from __future__ import annotations

import asyncio

import pytest
from helpers.aio import async_test
from sippet import Limits, Message, Method, SippetError, TransportError
from sippet.stack import Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.transports import UDP
from test_stack import BAD_OPTIONS, TIMEOUT, RawPeer, Recorder, get, request, stack_on

GOOD_OPTIONS = BAD_OPTIONS.replace("Max-Forwards: 69\r\n", "")


# -- life cycle ------------------------------------------------------------------------------


@async_test
async def test_sending_after_close_raises() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    local = udp.local_address
    await stack.close()
    sent = request(Method.OPTIONS, "sip:bob@127.0.0.1:5", local)
    with pytest.raises(SippetError, match="not running"):
        await stack.send(sent)
    with pytest.raises(SippetError, match="not running"):
        await stack.send_stateless(sent)
    with pytest.raises(SippetError, match="not running"):
        stack.send_response(sent.to_response(200))
    with pytest.raises(SippetError, match="not running"):
        await stack.add_transport(UDP("127.0.0.1", 0))
    assert stack.transports == []


@async_test
async def test_close_twice_leaves_a_closed_stack_that_can_start_again() -> None:
    stack, _core, udp = await stack_on("127.0.0.1", {"OPTIONS": [200]})
    await stack.close()
    await stack.close()
    assert stack.transports == []
    with pytest.raises(SippetError, match="not running"):
        stack.terminate(ClientKey("z9hG4bKx", "OPTIONS"))
    # Started again, it serves as before, on a new transport.
    await stack.start()
    udp = await stack.add_transport(UDP("127.0.0.1", 0))
    peer = RawPeer("127.0.0.1")
    try:
        peer.send(GOOD_OPTIONS.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 200 OK\r\n")
        assert stack.transports == [udp]
    finally:
        peer.close()
        await stack.close()


class Stalling(Recorder):
    """A core whose request callback is a coroutine that waits until cancelled."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack)
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def receive_request(  # type: ignore[override]
        self, request: Message, server_key: ServerKey | None
    ) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


@async_test
async def test_close_cancels_the_cores_pending_tasks() -> None:
    stack = Stack(name="stalling")
    await stack.start()
    udp = await stack.add_transport(UDP("127.0.0.1", 0))
    core = Stalling(stack)
    stack.register_core(core)
    peer = RawPeer("127.0.0.1")
    try:
        peer.send(GOOD_OPTIONS.encode(), udp.local_address)
        await asyncio.wait_for(core.started.wait(), TIMEOUT)
        assert not core.cancelled.is_set()
        await stack.close()
        # close() returns only once the task has seen its cancellation.
        assert core.cancelled.is_set()
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_input_after_close_is_ignored() -> None:
    stack, core, udp = await stack_on("127.0.0.1", {"OPTIONS": [200]})
    await stack.close()
    # The transport is stopped, so the wire cannot reach the stack any more; a transport
    # that still calls in (a datagram already read, an ICMP error) must change nothing.
    stack.message_received(udp, GOOD_OPTIONS.encode(), ("127.0.0.1", 5999))
    stack.error_received(udp, "unreachable", ("127.0.0.1", 5999))
    await asyncio.sleep(0.05)
    assert core.requests.empty() and core.errors.empty()
    assert stack.layer.server_count == 0 and len(stack.layer) == 0


@async_test
async def test_response_that_parses_but_fails_validation_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="sippet.stack")
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, f"sip:bob@127.0.0.1:{peer.port}", udp.local_address)
        key = await stack.send(sent)
        data, source = await peer.receive()
        invalid = Message.parse(data).to_response(200)
        del invalid.headers["call_id"]  # RFC 3261 §8.1.1: every response carries a Call-ID
        peer.send(bytes(invalid), source)
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while "dropped an invalid response" not in caplog.text:
            assert asyncio.get_running_loop().time() < deadline, "the response never arrived"
            await asyncio.sleep(0.01)
        assert core.responses.empty()
        # The transaction still waits: the valid response that follows reaches the core.
        peer.send(bytes(Message.parse(data).to_response(200)), source)
        response, client_key = await get(core.responses)
        assert client_key == key and response.start_line.status_code == 200
    finally:
        peer.close()
        await stack.close()


# -- send failures reach the core with their key -----------------------------------------------


@async_test
async def test_request_too_large_for_udp_reaches_receive_error() -> None:
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.MESSAGE, f"sip:bob@127.0.0.1:{peer.port}", udp.local_address)
        sent.body = b"x" * 70_000  # more than a UDP datagram holds (EMSGSIZE)
        key = await stack.send(sent)
        assert await get(core.errors) == ("message_too_large", key)
        assert stack.layer.state_of(key) is None  # the transaction ended with the error
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_no_transport_for_the_family_reaches_receive_error() -> None:
    stack, core, udp = await stack_on("127.0.0.1")  # IPv4 only
    try:
        sent = request(Method.OPTIONS, "sip:bob@[::1]:5060", udp.local_address)
        key = await stack.send(sent)
        assert key == ClientKey(sent.headers["via"][0].branch, "OPTIONS")
        assert await get(core.errors) == ("no_transport", key)
        assert len(stack.layer) == 0
    finally:
        await stack.close()


@async_test
async def test_response_with_no_transport_reaches_receive_error_with_the_server_key() -> None:
    # The request came over IPv4 but its Via sends the response to an IPv6 sent-by with
    # an explicit received= (RFC 3261 §18.2.2): no transport of this stack reaches it.
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, "sip:bob@127.0.0.1", peer.address, rport=False)
        sent.headers["via"][0].params["received"] = "::1"
        wire = bytes(sent)
        peer.send(wire, udp.local_address)
        received, server_key = await get(core.requests)
        assert server_key is not None
        stack.send_response(received.to_response(200))
        assert await get(core.errors) == ("no_transport", server_key)
    finally:
        peer.close()
        await stack.close()


# -- limits ----------------------------------------------------------------------------------


@async_test
async def test_limits_are_enforced_on_received_messages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="sippet.stack")
    limits = Limits(max_message_size=2000)
    stack, core, udp = await stack_on("127.0.0.1", {"OPTIONS": [200]}, limits=limits)
    assert stack.limits is limits
    peer = RawPeer("127.0.0.1")
    try:
        filler = "X-Pad: " + "p" * 1000 + "\r\n"
        small = GOOD_OPTIONS.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n" + filler)
        pad = 2000 - len(small.encode()) - len("X-Fill: \r\n")
        fits = small.replace(filler, filler + "X-Fill: " + "f" * pad + "\r\n")
        assert len(fits.encode()) == 2000
        too_big = fits.replace("Call-ID: bad-1", "Call-ID: bad-22")
        assert len(too_big.encode()) == 2001
        # The UDP transport takes up to 64 KiB: the stack's own limit decides. One byte over
        # is refused before any header is read, so it is dropped (logged), never answered;
        # the request sent after it is the first to be answered.
        peer.send(too_big.encode(), udp.local_address)
        peer.send(fits.encode(), udp.local_address)
        data, _ = await peer.receive()
        assert data.startswith(b"SIP/2.0 200 OK\r\n")
        assert b"Call-ID: bad-1\r\n" in data
        request_seen, _ = await get(core.requests)
        assert request_seen.headers["call_id"] == "bad-1"
        assert core.requests.empty()
        assert "message too large (message_too_large)" in caplog.text
    finally:
        peer.close()
        await stack.close()


# -- send_stateless for requests ---------------------------------------------------------------


@async_test
async def test_send_stateless_forwards_a_request_without_a_transaction() -> None:
    stack, core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(Method.OPTIONS, f"sip:bob@127.0.0.1:{peer.port}", udp.local_address)
        await stack.send_stateless(sent)
        data, source = await peer.receive()
        assert source == udp.local_address
        assert Message.parse(data).headers["call_id"] == sent.headers["call_id"]
        assert len(stack.layer) == 0  # no client transaction, so no retransmission either
        # Its response matches no client transaction: the core gets it with no key, as a
        # stateless proxy needs (RFC 3261 §18.1.2, §16.11).
        peer.send(bytes(Message.parse(data).to_response(200)), source)
        response, client_key = await get(core.responses)
        assert client_key is None and response.headers["call_id"] == sent.headers["call_id"]
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_send_stateless_applies_a_strict_route() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    peer = RawPeer("127.0.0.1")
    try:
        sent = request(
            Method.MESSAGE,
            "sip:bob@nonexistent.invalid",
            udp.local_address,
            routes=[f"sip:127.0.0.1:{peer.port}", "sip:p2.invalid;lr"],
        )
        await stack.send_stateless(sent)
        data, _ = await peer.receive()
        received = Message.parse(data)
        # RFC 3261 §16.12.1.2: the strict router's URI becomes the Request-URI, and the
        # old Request-URI goes last in Route.
        assert str(received.start_line.request_uri) == f"sip:127.0.0.1:{peer.port}"  # type: ignore[union-attr]
        assert [str(r.uri) for r in received.headers["route"]] == [
            "sip:p2.invalid;lr",
            "sip:bob@nonexistent.invalid",
        ]
    finally:
        peer.close()
        await stack.close()


@async_test
async def test_send_stateless_raises_when_the_request_cannot_be_routed() -> None:
    stack, _core, udp = await stack_on("127.0.0.1")
    try:
        unresolvable = request(Method.OPTIONS, "sip:bob@nonexistent.test", udp.local_address)
        with pytest.raises(TransportError) as info:
            await stack.send_stateless(unresolvable)
        assert info.value.reason == "nxdomain"
        ipv6 = request(Method.OPTIONS, "sip:bob@[::1]:5060", udp.local_address)
        with pytest.raises(TransportError) as info:
            await stack.send_stateless(ipv6)
        assert info.value.reason == "no_transport"
    finally:
        await stack.close()
