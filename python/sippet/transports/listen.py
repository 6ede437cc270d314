"""Where a transport listens, as people write it (``udp:127.0.0.1:5060``, ``tls:[::1]``),
and the transport built for it.

Shared by every program that opens transports from text (the CLI, ``sippet serve`` and its
TOML file, the examples). Bad text is a ``ValueError`` naming what is wrong; the CLI turns
it into a usage error, the TOML reader into a one-line start-up error.
"""

from __future__ import annotations

import ssl

from sippet.ports import default_port
from sippet.transports.base import Address, Transport
from sippet.transports.tcp import TCP
from sippet.transports.tls import TLS
from sippet.transports.udp import UDP

PROTOCOLS = ("UDP", "TCP", "TLS", "WS", "WSS")
"""What a listen address and the URI of ``sippet options`` may name."""


def parse_host_port(text: str, default_port: int) -> Address:
    """``HOST:PORT``, ``HOST``, ``[V6]:PORT`` or ``[V6]`` -> ``(host, port)``."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"unclosed '[' in {text!r}")
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise ValueError(f"expected ':PORT' after ']' in {text!r}")
        return host, _port(rest[1:], text)
    if text.count(":") > 1:  # a bare IPv6 address
        return text, default_port
    host, sep, port = text.partition(":")
    return host, _port(port, text) if sep else default_port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"bad port in {whole!r}")
    return int(text)


def parse_listen(text: str) -> tuple[str, Address]:
    """``PROTO:HOST:PORT`` (``udp``, ``tcp``, ``tls``, ``ws``, ``wss``; or ``HOST:PORT``,
    UDP implied) -> ``("TCP", (host, port))``; the port defaults to the protocol's."""
    protocol, sep, rest = text.partition(":")
    if sep and protocol.upper() in PROTOCOLS:
        name = protocol.upper()
        return name, parse_host_port(rest, default_port(name))
    return "UDP", parse_host_port(text, default_port("UDP"))


def server_ssl_context(cert: str, key: str | None) -> ssl.SSLContext:
    """A TLS server context holding ``cert`` and ``key`` (``ssl.SSLError`` when unusable)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_ssl_context(ca: str | None) -> ssl.SSLContext:
    """A TLS client context that verifies servers against the system CAs and ``ca``."""
    context = ssl.create_default_context()
    if ca is not None:
        context.load_verify_locations(ca)
    return context


def make_transport(
    protocol: str,
    address: Address,
    *,
    server_context: ssl.SSLContext | None = None,
    client_context: ssl.SSLContext | None = None,
    listen: bool = True,
) -> Transport:
    """The transport for ``protocol`` bound to ``address``. A secure one without a
    ``server_context`` only connects out (it does not listen); so does a WS or WSS one
    with ``listen=False`` (a WebSocket client is reached over its own connection only)."""
    host, port = address
    if protocol == "UDP":
        return UDP(host, port)
    if protocol == "TCP":
        return TCP(host, port)
    if protocol == "TLS":
        return TLS(host, port, ssl_context=server_context, client_context=client_context)
    # WebSocket lives in its own module, with its own dependency (websockets), loaded here.
    from sippet.transports.ws import WS, WSS

    if protocol == "WS":
        return WS(host, port, listen=listen)
    return WSS(
        host,
        port,
        ssl_context=server_context if listen else None,
        client_context=client_context,
    )
