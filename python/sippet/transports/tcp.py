"""TCP transport (RFC 3261 §18): mandatory for every SIP element, IPv4 or IPv6."""

from __future__ import annotations

from typing import ClassVar

from sippet.transports.stream import StreamTransport


class TCP(StreamTransport):
    """Listens on ``host:port`` (``port=0``: any free port) and connects on demand.

    See ``StreamTransport`` for ``limits`` and ``stream_limits``.
    """

    protocol: ClassVar[str] = "TCP"
