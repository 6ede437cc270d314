"""Transports: the plug-in interface (``Transport``), UDP, TCP, TLS, and WS/WSS.

``WS`` and ``WSS`` (RFC 7118) live in ``sippet.transports.ws``, which needs the
``websockets`` library; they are loaded on first use (``sippet.transports.WS``), so that
importing sippet does not import ``websockets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sippet.transports.base import Address, Transport, TransportReceiver, format_address
from sippet.transports.stream import StreamLimits, StreamTransport
from sippet.transports.tcp import TCP
from sippet.transports.tls import TLS
from sippet.transports.udp import UDP

if TYPE_CHECKING:
    from sippet.transports.ws import WS as WS
    from sippet.transports.ws import WSS as WSS

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

_LAZY = frozenset({"WS", "WSS"})
"""Names loaded from ``sippet.transports.ws`` on first use (not in ``__all__``, so that a
star import works without ``websockets``)."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("sippet.transports.ws"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
