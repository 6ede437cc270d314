"""The SIP transports DNS can name: default ports, SRV labels and NAPTR services.

One table, so that every rule about a transport's port or DNS name is stated once:

- default ports, read from ``sippet.ports`` (the one default-port rule): RFC 3261 §19.1.2
  (5060 for UDP, TCP and SCTP; 5061 for TLS, and for TLS over SCTP likewise), RFC 7118
  §5.5 (80 for WS, 443 for WSS);
- SRV owner names: RFC 3263 §4.1 and §4.2 (``_sip._udp``, ``_sip._tcp``, ``_sips._tcp`` for
  TLS, ``_sip._sctp``, ``_sips._sctp``); RFC 7118 defines no SRV label for WebSocket, so
  ``_sip._ws`` and ``_sips._ws`` follow the RFC 3263 pattern (service ``_sip``/``_sips``,
  protocol label the transport) and are a convention, not a standard;
- NAPTR services: RFC 3263 §4.1 (``D2U``, ``D2T``, ``D2S``) and RFC 7118 §5.5, §10.2
  (``D2W``), with ``SIPS+`` meaning the secure variant. ``SIPS+D2U`` names nothing: TLS does
  not run over UDP (RFC 3263 §4.1).
"""

from __future__ import annotations

from typing import NamedTuple

from sippet.ports import DEFAULT_PORTS


class TransportInfo(NamedTuple):
    """What DNS resolution needs to know about one transport (upper case, as in Via)."""

    name: str
    default_port: int
    srv_label: str
    """The SRV owner name prefix, e.g. ``_sips._tcp`` (the domain follows)."""
    naptr_service: str
    """The NAPTR service field that selects this transport, e.g. ``SIPS+D2T``."""
    secure: bool
    """Runs over TLS: the only transports a ``sips:`` URI may resolve to (RFC 3261 §26.2.2)."""


TRANSPORTS: dict[str, TransportInfo] = {
    info.name: info
    for info in (
        TransportInfo("UDP", DEFAULT_PORTS["UDP"], "_sip._udp", "SIP+D2U", secure=False),
        TransportInfo("TCP", DEFAULT_PORTS["TCP"], "_sip._tcp", "SIP+D2T", secure=False),
        TransportInfo("TLS", DEFAULT_PORTS["TLS"], "_sips._tcp", "SIPS+D2T", secure=True),
        TransportInfo("SCTP", DEFAULT_PORTS["SCTP"], "_sip._sctp", "SIP+D2S", secure=False),
        TransportInfo(
            "TLS-SCTP", DEFAULT_PORTS["TLS-SCTP"], "_sips._sctp", "SIPS+D2S", secure=True
        ),
        TransportInfo("WS", DEFAULT_PORTS["WS"], "_sip._ws", "SIP+D2W", secure=False),
        TransportInfo("WSS", DEFAULT_PORTS["WSS"], "_sips._ws", "SIPS+D2W", secure=True),
    )
}

TRANSPORT_BY_NAPTR_SERVICE: dict[str, str] = {
    info.naptr_service: info.name for info in TRANSPORTS.values()
}

DEFAULT_TRANSPORTS: tuple[str, ...] = ("UDP", "TCP", "TLS")
"""The transports a resolver looks for when its caller names none, in preference order:
UDP first for ``sip:`` (the one transport RFC 3263 §4.1 calls interoperable), then TCP and
TLS. A stack passes the transports it really has."""

# RFC 3261 §26.2.2: a sips: URI over a stream transport means that transport under TLS;
# the ``transport`` parameter still names the stream protocol (``transport=tcp``).
_SECURE_VARIANT: dict[str, str] = {"TCP": "TLS", "SCTP": "TLS-SCTP", "WS": "WSS"}


def transport_info(name: str) -> TransportInfo:
    """The row for ``name`` (any case); ``KeyError`` for a transport DNS cannot name."""
    return TRANSPORTS[name.upper()]


def secure_variant(name: str) -> str | None:
    """The transport a ``sips:`` URI uses for the ``transport`` parameter ``name`` (TCP ->
    TLS, WS -> WSS...), or ``None`` when there is no secure variant (UDP)."""
    upper = name.upper()
    if upper in TRANSPORTS and TRANSPORTS[upper].secure:
        return upper
    return _SECURE_VARIANT.get(upper)


def default_port(transport: str) -> int:
    """The port of ``transport`` when none is given (5060, 5061 for TLS, 80/443 for WS)."""
    return transport_info(transport).default_port
