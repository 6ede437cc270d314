"""Abusive stream peers against a TCP stack, each while a well-behaved peer keeps asking.

A slow sender, an endless header line, a huge Content-Length and a thousand idle
connections are each cut off (and logged), and throughout, a well-behaved peer on its own
connection from another loopback address gets every OPTIONS answered within
``ANSWER_BOUND`` (the issue's "answered within a second": a bound on waiting, so that a
starved stack fails the test instead of hanging it; not a speed measurement).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable

import pytest
from helpers.aio import async_test_within
from sippet.stack import Stack
from sippet.transports import TCP, StreamLimits
from test_tcp import RawStream, Recorder, options

ANSWER_BOUND = 1.0
GOOD_PEER = "127.0.0.2"  # another loopback address: per-address limits do not touch it
LIMITS = StreamLimits(
    message_timeout=0.5,
    idle_timeout=1.0,
    max_connections_per_address=200,
    max_connections=400,
)


@contextlib.asynccontextmanager
async def stack_under_abuse() -> AsyncIterator[tuple[Stack, TCP]]:
    stack = Stack(name="abused")
    await stack.start()
    transport = TCP("127.0.0.1", 0, stream_limits=LIMITS)
    await stack.add_transport(transport)
    stack.register_core(Recorder(stack))
    try:
        yield stack, transport
    finally:
        await stack.close()


async def well_behaved_peer(transport: TCP, stop: asyncio.Event) -> int:
    """OPTIONS after OPTIONS on one connection until ``stop``; each must be answered 200
    within ANSWER_BOUND. Returns how many were answered."""
    host, port = transport.local_address
    reader, writer = await asyncio.open_connection(host, port, local_addr=(GOOD_PEER, 0))
    peer = RawStream(reader, writer)
    answered = 0
    try:
        while not stop.is_set():
            await peer.send(bytes(options(f"sip:bob@{host}:{port};transport=tcp", peer.address)))
            answer = await asyncio.wait_for(peer.read_message(), ANSWER_BOUND)
            assert answer.startswith(b"SIP/2.0 200 OK\r\n")
            answered += 1
            await asyncio.sleep(0.05)
    finally:
        peer.close()
    return answered


async def while_served(transport: TCP, abuse: Awaitable[None]) -> int:
    """Run ``abuse`` while the well-behaved peer asks; its answers count (at least one)."""
    stop = asyncio.Event()
    good = asyncio.ensure_future(well_behaved_peer(transport, stop))
    try:
        await abuse
    finally:
        stop.set()
    answered = await good
    assert answered >= 1
    return answered


@async_test_within(60)
async def test_slow_sender_is_cut_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "sippet.transports.stream")
    async with stack_under_abuse() as (_stack, transport):
        host, port = transport.local_address
        slow = await RawStream.connect((host, port))
        message = bytes(options(f"sip:bob@{host}:{port};transport=tcp", slow.address))

        async def trickle() -> None:
            # One byte every 50 ms: the whole message would take far past message_timeout.
            with contextlib.suppress(ConnectionError):
                for byte in message[:60]:
                    await slow.send(bytes([byte]))
                    await asyncio.sleep(0.05)
            assert await slow.closed_by_peer()

        await while_served(transport, trickle())
    assert "sent part of a message and not the rest" in caplog.text


@async_test_within(60)
async def test_endless_header_line_is_cut_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "sippet.transports.stream")
    async with stack_under_abuse() as (_stack, transport):
        host, port = transport.local_address
        flood = await RawStream.connect((host, port))

        async def endless_line() -> None:
            with contextlib.suppress(ConnectionError):
                await flood.send(b"OPTIONS sip:bob@h SIP/2.0\r\nX-Endless: ")
                for _ in range(1000):  # 4 MB at most: far past max_stream_buffer
                    await flood.send(b"a" * 4096)
            assert await flood.closed_by_peer()

        await while_served(transport, endless_line())
    assert "framing error" in caplog.text and "message_too_large" in caplog.text


@async_test_within(60)
async def test_huge_content_length_is_answered_513_and_closed() -> None:
    async with stack_under_abuse() as (_stack, transport):
        host, port = transport.local_address
        liar = await RawStream.connect((host, port))
        request = options(f"sip:bob@{host}:{port};transport=tcp", liar.address)
        head = bytes(request).replace(b"Content-Length: 0", b"Content-Length: 100000000")
        assert b"Content-Length: 100000000" in head

        async def huge() -> None:
            await liar.send(head)
            answer = await liar.read_message()
            assert answer.startswith(b"SIP/2.0 513 ")
            assert await liar.closed_by_peer()

        await while_served(transport, huge())


@async_test_within(90)
async def test_a_thousand_idle_connections_are_refused_or_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "sippet.transports.stream")
    async with stack_under_abuse() as (_stack, transport):
        host, port = transport.local_address
        idle: list[RawStream] = []

        async def open_idle() -> None:
            for _ in range(1000):
                with contextlib.suppress(OSError):
                    idle.append(await RawStream.connect((host, port)))
            assert len(idle) > LIMITS.max_connections_per_address
            # At most max_connections_per_address were admitted; the others were closed at
            # once, and the admitted ones close when idle_timeout passes.
            closed = await asyncio.gather(*(stream.closed_by_peer() for stream in idle))
            assert all(closed)
            assert transport.connection_count <= 1  # the well-behaved peer's, if open

        try:
            await while_served(transport, open_idle())
        finally:
            for stream in idle:
                stream.close()
    assert "connection limit per address (200) reached for 127.0.0.1" in caplog.text
    assert "idle for 1 s" in caplog.text
