"""The one default-port rule: the port of a hop, a sent-by or a ``received`` without one.

RFC 3261 §18.1.1, §18.2.2, §19.1.2: 5060 for UDP, TCP and SCTP, 5061 for TLS (and ``sips:``);
RFC 7118 §5.2 (WebSocket): 80 for WS and 443 for WSS. Routing, ``Message.get_remote`` and
the CLI all ask here.
"""

from __future__ import annotations

DEFAULT_PORTS: dict[str, int] = {
    "UDP": 5060,
    "TCP": 5060,
    "SCTP": 5060,
    "TLS": 5061,
    "TLS-SCTP": 5061,
    "WS": 80,
    "WSS": 443,
}


def default_port(protocol: str) -> int:
    """The port of a hop over ``protocol`` (any case) when none is given; 5060 for a
    protocol sippet does not know."""
    return DEFAULT_PORTS.get(protocol.upper(), 5060)
