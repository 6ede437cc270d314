"""sippet.transports.UDP on real loopback sockets (IPv4 and IPv6): binding, sending,
receiving, the size bound, and ICMP errors reported with the destination they concern."""

from __future__ import annotations

import asyncio
import socket

import pytest
from helpers.aio import async_test
from sippet.errors import TransportError
from sippet.transports import UDP, Address, Transport, format_address

FAMILIES = [
    pytest.param("127.0.0.1", id="ipv4"),
    pytest.param("::1", id="ipv6", marks=pytest.mark.ipv6),
]


class Recorder:
    """A TransportReceiver that records what it is told and wakes waiters."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, Address]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, Address]] = asyncio.Queue()

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        self.messages.put_nowait((data, source))

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        self.errors.put_nowait((reason, destination))


def closed_port(host: str) -> int:
    """A UDP port on ``host`` that nothing listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def started(host: str) -> tuple[UDP, Recorder]:
    recorder = Recorder()
    transport = UDP(host, 0)
    await transport.start(recorder)
    return transport, recorder


@pytest.mark.parametrize("host", FAMILIES)
@async_test
async def test_send_and_receive(host: str) -> None:
    a, _ = await started(host)
    b, inbox = await started(host)
    try:
        assert a.local_address[0] == host and a.local_address[1] > 0
        assert a.family == (socket.AF_INET6 if ":" in host else socket.AF_INET)
        a.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n", b.local_address)
        data, source = await asyncio.wait_for(inbox.messages.get(), 5)
        assert data == b"OPTIONS sip:x SIP/2.0\r\n\r\n"
        assert source == a.local_address
    finally:
        await a.stop()
        await b.stop()


@pytest.mark.parametrize("host", FAMILIES)
@async_test
async def test_oversized_datagram_is_dropped_and_the_next_one_arrives(host: str) -> None:
    recorder = Recorder()
    receiver = UDP(host, 0, max_message_size=1000)
    await receiver.start(recorder)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as raw:
            raw.sendto(b"x" * 1001, receiver.local_address)
            raw.sendto(b"y" * 1000, receiver.local_address)
            data, _source = await asyncio.wait_for(recorder.messages.get(), 5)
        assert data == b"y" * 1000  # the 1001-byte datagram never reached the receiver
        assert recorder.messages.empty()
    finally:
        await receiver.stop()


@pytest.mark.parametrize("host", FAMILIES)
@async_test
async def test_icmp_port_unreachable_is_reported_with_its_destination(host: str) -> None:
    # Linux reports ICMP errors on unconnected UDP sockets with IP_RECVERR/IPV6_RECVERR.
    transport, recorder = await started(host)
    try:
        nowhere = (host, closed_port(host))
        transport.send(b"hello", nowhere)
        reason, destination = await asyncio.wait_for(recorder.errors.get(), 5)
        assert (reason, destination) == ("unreachable", nowhere)
    finally:
        await transport.stop()


@async_test
async def test_bind_conflict_raises_transport_error() -> None:
    first, _ = await started("127.0.0.1")
    try:
        with pytest.raises(TransportError) as info:
            await UDP("127.0.0.1", first.local_address[1]).start(Recorder())
        assert info.value.reason == "eaddrinuse"
    finally:
        await first.stop()


@async_test
async def test_stop_is_idempotent_and_local_address_needs_start() -> None:
    transport = UDP("127.0.0.1", 0)
    with pytest.raises(TransportError) as info:
        _ = transport.local_address
    assert info.value.reason == "not_started"
    recorder = Recorder()
    await transport.start(recorder)
    address = transport.local_address
    await transport.stop()
    await transport.stop()
    # Stopped: the port is free again, and a send is refused through the receiver.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rebind:
        rebind.bind(address)
    transport.send(b"late", address)
    assert await asyncio.wait_for(recorder.errors.get(), 5) == ("not_started", address)
    assert recorder.errors.empty() and recorder.messages.empty()


def test_format_address() -> None:
    assert format_address("UDP", "127.0.0.1", 5060) == "udp:127.0.0.1:5060"
    assert format_address("UDP", "::1", 5060) == "udp:[::1]:5060"


class Echoing:
    """A receiver that answers every datagram with one too large for UDP (EMSGSIZE), and
    records the order in which it hears of datagrams and failures."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.done = asyncio.Event()

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        self.events.append(("message", data))
        transport.send(b"x" * 70_000, source)

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        self.events.append(("error", reason))
        if len(self.events) == 4:
            self.done.set()


@async_test
async def test_a_send_failure_is_reported_before_the_next_datagram() -> None:
    # Both datagrams wait in the socket when the loop first reads it: the failure of the
    # answer to the first must reach the receiver before the second does, so that it never
    # acts on input that came after a failure it has not heard of.
    receiver = Echoing()
    transport = UDP("127.0.0.1", 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        await transport.start(receiver)
        try:
            peer.sendto(b"first", transport.local_address)
            peer.sendto(b"second", transport.local_address)
            await asyncio.wait_for(receiver.done.wait(), 5)
            assert receiver.events == [
                ("message", b"first"),
                ("error", "message_too_large"),
                ("message", b"second"),
                ("error", "message_too_large"),
            ]
        finally:
            await transport.stop()
