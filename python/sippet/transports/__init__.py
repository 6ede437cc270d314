"""Transports: the plug-in interface (``Transport``) and the UDP transport."""

from __future__ import annotations

from sippet.transports.base import Address, Transport, TransportReceiver, format_address
from sippet.transports.udp import UDP

__all__ = ["UDP", "Address", "Transport", "TransportReceiver", "format_address"]
