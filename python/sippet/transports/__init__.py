"""Transports: the plug-in interface (``Transport``), UDP, TCP and TLS."""

from __future__ import annotations

from sippet.transports.base import Address, Transport, TransportReceiver, format_address
from sippet.transports.stream import StreamLimits, StreamTransport
from sippet.transports.tcp import TCP
from sippet.transports.tls import TLS
from sippet.transports.udp import UDP

__all__ = [
    "TCP",
    "TLS",
    "UDP",
    "Address",
    "StreamLimits",
    "StreamTransport",
    "Transport",
    "TransportReceiver",
    "format_address",
]
