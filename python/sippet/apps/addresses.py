"""Which of our addresses a peer can reach: what a Via, a Contact or an SDP ``c=`` line
should name when a socket is bound to a wildcard address."""

from __future__ import annotations

import socket


def local_address_towards(family: int, host: str, port: int) -> str | None:
    """The local IP the OS would use to reach ``host:port`` (a connected UDP socket sends
    nothing), for a Contact and SDP address the peer can reach."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
    except OSError:
        return None


__all__ = ["local_address_towards"]
