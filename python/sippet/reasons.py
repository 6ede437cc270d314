"""``Reason``: every machine-readable reason the stack reports to ``Core.receive_error``.

A ``str`` subclass (``enum.StrEnum``), so ``reason == "timeout"`` and logging keep working;
a transport may still report a reason of its own (an errno name such as ``"econnreset"``),
which arrives as a plain string.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Why a transaction failed (RFC 3261 §8.1.3.1: a timeout counts as a 408, a transport
    error as a 503)."""

    TIMEOUT = "timeout"
    """Timer B, F or H fired: no final response, or no ACK (RFC 3261 §17)."""
    UNANSWERED = "unanswered"
    """Server key: the core sent no final response within the stack's ``AnswerTimeouts``."""
    UNREACHABLE = "unreachable"
    """An ICMP error, or a refused or unroutable connection."""
    MESSAGE_TOO_LARGE = "message_too_large"
    """The message does not fit in a datagram (EMSGSIZE) or a peer's stream limits."""
    FORBIDDEN = "forbidden"
    """The OS refused to send there (EACCES, EPERM)."""
    NXDOMAIN = "nxdomain"
    """The host name did not resolve."""
    NO_TRANSPORT = "no_transport"
    """No transport of the needed protocol (and address family) was added to the stack."""
    NO_HOST = "no_host"
    """The URI to route to has no host."""
    NO_VIA = "no_via"
    """A response without Via: it cannot be routed."""
    UNSUPPORTED_URI_SCHEME = "unsupported_uri_scheme"
    """Routing to a URI that is neither sip: nor sips:."""
    INVALID_MESSAGE = "invalid_message"
    """The message built by the core cannot be serialized (a CR or LF in a value...)."""
    NOT_STARTED = "not_started"
    """The transport was stopped or never started."""
    CONNECT_TIMEOUT = "connect_timeout"
    """A stream connection (TCP, or the TLS handshake on it) was not up in time."""
    CONNECTION_CLOSED = "connection_closed"
    """The connection closed before the message could be written."""
    CONNECTION_LIMIT = "connection_limit"
    """Opening one more connection would exceed the transport's limits."""
    TLS_VERIFICATION_FAILED = "tls_verification_failed"
    """The peer's certificate did not verify (untrusted, expired, or not for the host)."""
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    """The TLS handshake failed for another reason (protocol, cipher, client certificate)."""
    IDLE_TIMEOUT = "idle_timeout"
    """A connection carried nothing for its transport's ``idle_timeout`` and was closed."""
    WRITE_BUFFER_FULL = "write_buffer_full"
    """The peer did not read: more than the transport's ``max_write_buffer`` bytes waited."""
    PROTOCOL_ERROR = "protocol_error"
    """The peer broke its transport's framing (RFC 6455 frames for WebSocket)."""
    HANDSHAKE_REFUSED = "handshake_refused"
    """A WebSocket server answered the upgrade with an HTTP status other than 101."""
    HANDSHAKE_FAILED = "handshake_failed"
    """A WebSocket handshake response broke RFC 6455."""
    SUBPROTOCOL_REFUSED = "subprotocol_refused"
    """A WebSocket server upgraded without the ``sip`` subprotocol (RFC 7118 §4.1)."""
    NO_CONNECTION = "no_connection"
    """The peer is reached only over its own connection (a ``.invalid`` host: RFC 7118 §5,
    RFC 6761 §6.4) and no open connection is known for it."""
    TRANSPORT_ERROR = "transport_error"
    """Any other transport failure."""
