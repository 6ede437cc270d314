"""The transport plug-in interface: what the stack needs from UDP, TCP, TLS, WS and WSS.

A transport moves bytes; it knows nothing of SIP. The stack hands it whole messages to send
to an ``(address, port)`` and receives, through a ``TransportReceiver``, each datagram (or,
for a stream transport, each message cut by ``sippet._native.StreamFramer``) with the
address it came from. RFC 3261 §18: the transport moves bytes; what goes where is decided
above it, in ``sippet.stack.transport_layer``. docs/transports.md says how to write one.
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
        """Sending to ``destination`` failed, now or later (an ICMP error the OS reported,
        a connection that could not be opened or verified).

        ``reason`` is a short machine-readable code, a ``sippet.reasons.Reason`` where one
        fits: ``"unreachable"``, ``"tls_verification_failed"``...
        """


# A receiver may also have two optional methods, which a stream transport calls when
# present (getattr), so that a plain receiver needs neither:
# - ``framing_error(transport, source, error, head)``: bytes from ``source`` could not be
#   cut into messages; the stack answers the broken request before the connection closes;
# - ``connection_closed(transport, address)``: the connection known by ``address`` (the
#   ``source`` of its messages) ended; the stack forgets the names that stood for it.


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
    stream: ClassVar[bool] = False
    """Connection-oriented (TCP, TLS, WS, WSS): the transport layer then sends requests
    with ``connect_send`` and answers on the connection a request came in on."""

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

    # -- stream transports: defaults that suit a datagram transport ----------------------

    def connect_send(self, data: bytes, destination: Address, server_name: str | None) -> None:
        """Send one request to ``destination`` over the open connection to it, or over a
        new one; a new TLS connection verifies the peer's certificate for ``server_name``
        (or, when ``None``, for the IP address). Failures go to
        ``TransportReceiver.error_received`` with ``destination``."""
        self.send(data, destination)

    def has_connection(self, destination: Address) -> bool:
        """True while a connection to (or aliased to) ``destination`` is open."""
        return False

    def add_alias(self, source: Address, alias: Address) -> None:
        """RFC 5923 §5: let the connection from ``source`` carry requests to ``alias``.
        A datagram transport has no connection to lend, so nothing happens."""
        return None

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
