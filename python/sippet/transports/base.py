"""The transport plug-in interface: what the stack needs from UDP today and TCP/TLS later.

A transport moves bytes; it knows nothing of SIP. The stack hands it whole messages to send
to an ``(address, port)`` and receives, through a ``TransportReceiver``, each datagram (or,
for a stream transport, each message cut by ``sippet._native.StreamFramer``) with the
address it came from. RFC 3261 §18: the transport layer sends and receives; what goes where
is decided above it.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Protocol

Address = tuple[str, int]
"""An IP address (no IPv6 brackets) and a port."""


class TransportReceiver(Protocol):
    """The side of the stack a transport reports to."""

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        """One datagram (or framed stream message) arrived from ``source``."""

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        """Sending to ``destination`` failed, now or later (an ICMP error the OS reported).

        ``reason`` is a short machine-readable code: ``"unreachable"``, ``"refused"``...
        """


class Transport(abc.ABC):
    """A SIP transport: one bound socket (datagram) or one listener (stream).

    Subclasses set ``protocol`` (the Via sent-protocol transport, upper case: ``"UDP"``,
    ``"TCP"``, ``"TLS"``...) and ``reliable`` (RFC 3261 §17: reliable transports need no
    retransmissions). ``start`` binds and begins reporting to the receiver; ``stop`` closes
    and is idempotent; ``send`` never blocks: it sends or queues, and reports failures
    through ``TransportReceiver.error_received``.
    """

    protocol: ClassVar[str]
    reliable: ClassVar[bool]

    @abc.abstractmethod
    async def start(self, receiver: TransportReceiver) -> None:
        """Bind (and listen) and start delivering to ``receiver``."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Close; pending sends may be lost. Calling it twice is harmless."""

    @abc.abstractmethod
    def send(self, data: bytes, destination: Address) -> None:
        """Send one message to ``destination`` (an IP address, not a name)."""

    @property
    @abc.abstractmethod
    def local_address(self) -> Address:
        """The bound address and port (the real port when bound to port 0)."""

    @property
    @abc.abstractmethod
    def family(self) -> int:
        """``socket.AF_INET`` or ``socket.AF_INET6``: the destinations this transport reaches."""

    def __repr__(self) -> str:
        try:
            host, port = self.local_address
        except Exception:  # not started yet
            return f"<{type(self).__name__} (not started)>"
        return f"<{type(self).__name__} {format_address(self.protocol, host, port)}>"


def format_address(protocol: str, host: str, port: int) -> str:
    """``udp:127.0.0.1:5060`` or ``udp:[::1]:5060``: how sippet prints a transport address."""
    shown = f"[{host}]" if ":" in host else host
    return f"{protocol.lower()}:{shown}:{port}"
