"""sippet.transports.UDP when the socket cannot take more: queueing on EAGAIN, draining when
writable, the drop at the queue's cap, and ``stop()`` with a full queue.

Loopback UDP never reports EAGAIN on this kernel, even with the smallest SO_SNDBUF and a
flood (the datagram is handed to the receiver, or dropped there, inside ``sendto``), so the
congestion is made by the socket itself: a real, bound, non-blocking UDP socket whose
``sendto`` answers ``BlockingIOError`` while the test says the send buffer is full. Everything
else (the event loop's writable callbacks, the receiving transport) is real."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from helpers.aio import async_test
from sippet.transports import UDP, Address, Transport
from sippet.transports import udp as udp_module

TIMEOUT = 5.0


class CongestibleSocket(socket.socket):
    """A UDP socket whose send buffer the test can declare full."""

    congested = False
    instances: ClassVar[list[CongestibleSocket]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = 0
        CongestibleSocket.instances.append(self)

    def sendto(self, data: Any, *args: Any) -> int:  # type: ignore[override]
        self.attempts += 1
        if CongestibleSocket.congested:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return super().sendto(data, *args)


class Inbox:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[bytes] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, Address]] = asyncio.Queue()

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        self.messages.put_nowait(data)

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        self.errors.put_nowait((reason, destination))


@pytest.fixture
def congestible() -> Iterator[type[CongestibleSocket]]:
    CongestibleSocket.congested = False
    CongestibleSocket.instances = []
    yield CongestibleSocket
    CongestibleSocket.congested = False


async def sender_and_receiver(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[UDP, Inbox, UDP, Inbox, CongestibleSocket]:
    receiver_inbox, sender_inbox = Inbox(), Inbox()
    receiver = UDP("127.0.0.1", 0)
    await receiver.start(receiver_inbox)
    with monkeypatch.context() as patch:
        patch.setattr(udp_module.socket, "socket", CongestibleSocket)
        sender = UDP("127.0.0.1", 0)
        await sender.start(sender_inbox)
    (sock,) = CongestibleSocket.instances
    return sender, sender_inbox, receiver, receiver_inbox, sock


async def drain(inbox: Inbox, count: int) -> list[bytes]:
    return [await asyncio.wait_for(inbox.messages.get(), TIMEOUT) for _ in range(count)]


async def turns(count: int = 20) -> None:
    """Let the event loop run ``count`` iterations (writable and readable callbacks)."""
    for _ in range(count):
        await asyncio.sleep(0)


@async_test
async def test_eagain_queues_in_order_and_writable_drains(
    congestible: type[CongestibleSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, sender_inbox, receiver, inbox, sock = await sender_and_receiver(monkeypatch)
    try:
        congestible.congested = True
        for number in range(3):
            sender.send(b"datagram %d" % number, receiver.local_address)
        await turns()
        assert inbox.messages.empty()  # all three wait in the queue
        # Only the first send met the full buffer; the next two queued behind it without
        # trying, and each writable wake-up tried the head once.
        congestible.congested = False
        received = await drain(inbox, 3)
        assert received == [b"datagram 0", b"datagram 1", b"datagram 2"]
        # Drained: the next send goes straight out (one sendto, no queue).
        before = sock.attempts
        sender.send(b"datagram 3", receiver.local_address)
        assert sock.attempts == before + 1
        assert await drain(inbox, 1) == [b"datagram 3"]
        await turns()
        assert sock.attempts == before + 1  # no writable callback left behind
        assert sender_inbox.errors.empty()
    finally:
        await sender.stop()
        await receiver.stop()


@async_test
async def test_queue_cap_drops_the_excess_and_logs(
    congestible: type[CongestibleSocket],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", logger="sippet.transports.udp")
    cap = udp_module._SEND_QUEUE_LIMIT
    sender, _sender_inbox, receiver, inbox, _sock = await sender_and_receiver(monkeypatch)
    try:
        congestible.congested = True
        for number in range(cap + 5):
            sender.send(b"%d" % number, receiver.local_address)
        drops = [r for r in caplog.records if "send queue full" in r.getMessage()]
        assert len(drops) == 5
        congestible.congested = False
        received = await drain(inbox, cap)
        assert received == [b"%d" % number for number in range(cap)]  # the first `cap`, in order
        await turns()
        assert inbox.messages.empty()  # the five beyond the cap were dropped
    finally:
        await sender.stop()
        await receiver.stop()


@async_test
async def test_stop_with_a_full_queue_discards_it_and_stops_writing(
    congestible: type[CongestibleSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, sender_inbox, receiver, inbox, sock = await sender_and_receiver(monkeypatch)
    try:
        congestible.congested = True
        for number in range(10):
            sender.send(b"%d" % number, receiver.local_address)
        await turns()
        await sender.stop()
        assert sock.fileno() == -1  # closed
        attempts = sock.attempts
        congestible.congested = False
        await turns()
        assert sock.attempts == attempts  # the writable callback went with the socket
        # A send after stop reports "not_started" to the receiver, asynchronously.
        sender.send(b"late", receiver.local_address)
        assert await asyncio.wait_for(sender_inbox.errors.get(), TIMEOUT) == (
            "not_started",
            receiver.local_address,
        )
        await asyncio.sleep(0.05)
        assert inbox.messages.empty()
    finally:
        await sender.stop()
        await receiver.stop()


@async_test
async def test_send_error_while_draining_is_reported_and_the_rest_still_go(
    congestible: type[CongestibleSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A queued datagram too large for UDP (EMSGSIZE) fails when its turn comes: reported
    # with its destination, and the datagrams queued after it are still sent.
    sender, sender_inbox, receiver, inbox, _sock = await sender_and_receiver(monkeypatch)
    try:
        congestible.congested = True
        sender.send(b"before", receiver.local_address)
        sender.send(b"x" * 70_000, receiver.local_address)
        sender.send(b"after", receiver.local_address)
        congestible.congested = False
        assert await drain(inbox, 2) == [b"before", b"after"]
        assert await asyncio.wait_for(sender_inbox.errors.get(), TIMEOUT) == (
            "message_too_large",
            receiver.local_address,
        )
    finally:
        await sender.stop()
        await receiver.stop()


@async_test
async def test_datagram_too_large_for_udp_is_reported_as_message_too_large() -> None:
    # A real EMSGSIZE: no UDP datagram holds more than 65,507 bytes of payload over IPv4.
    inbox = Inbox()
    sender = UDP("127.0.0.1", 0)
    await sender.start(inbox)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as target:
            target.bind(("127.0.0.1", 0))
            destination = target.getsockname()
            sender.send(b"x" * 70_000, destination)
            assert await asyncio.wait_for(inbox.errors.get(), TIMEOUT) == (
                "message_too_large",
                destination,
            )
    finally:
        await sender.stop()
