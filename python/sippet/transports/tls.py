"""TLS transport (RFC 3261 §18, §26.2; RFC 5246/8446 through the stdlib ``ssl``).

``sips:`` URIs and ``transport=tls`` go over this transport only (the stack's transport
layer never falls back to TCP). Outgoing connections verify the server's certificate for
the host name of the hop (RFC 5922 §4; SNI) or, for an IP literal, for that address; a
failed verification reaches the Core as ``receive_error("tls_verification_failed", key)``.
"""

from __future__ import annotations

import ssl
from typing import ClassVar

from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.transports.stream import DEFAULT_STREAM_LIMITS, StreamLimits, StreamTransport


class TLS(StreamTransport):
    """A TLS listener on ``host:port`` with ``ssl_context`` (a server context holding the
    certificate and key: ``ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)`` then
    ``load_cert_chain``; set ``verify_mode = ssl.CERT_REQUIRED`` on it for mutual TLS).
    ``ssl_context=None``: no listener; the transport only opens connections (a client).

    ``client_context`` is used for connections this side opens; by default
    ``ssl.create_default_context()`` (the system's trusted CAs, host names checked). Give it
    your CA with ``load_verify_locations``, and a certificate with ``load_cert_chain`` when
    the peers ask for one (mutual TLS).
    """

    protocol: ClassVar[str] = "TLS"

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = 5061,
        *,
        ssl_context: ssl.SSLContext | None,
        client_context: ssl.SSLContext | None = None,
        limits: Limits = DEFAULT_LIMITS,
        stream_limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    ) -> None:
        super().__init__(host, port, limits=limits, stream_limits=stream_limits)
        self.ssl_context = ssl_context
        self.listening = ssl_context is not None
        self.client_context = (
            client_context if client_context is not None else ssl.create_default_context()
        )

    def _server_ssl(self) -> ssl.SSLContext | None:
        return self.ssl_context

    def _client_ssl(self) -> ssl.SSLContext | None:
        return self.client_context
