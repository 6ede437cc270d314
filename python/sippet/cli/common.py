"""Helpers shared by the ``sippet`` subcommands: address arguments, transports and TLS
contexts, logging, signals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import ssl

from sippet.ports import default_port
from sippet.resolver import LocatingResolver, ResolvedAddress, Resolver, SystemResolver
from sippet.transports import TCP, TLS, UDP
from sippet.transports.base import Address, Transport
from sippet.uri import URI

PROTOCOLS = ("UDP", "TCP", "TLS", "WS", "WSS")
"""What ``--listen`` and the URI of ``sippet options`` may name."""


def parse_host_port(text: str, default_port: int) -> Address:
    """``HOST:PORT``, ``HOST``, ``[V6]:PORT`` or ``[V6]`` -> ``(host, port)``."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise argparse.ArgumentTypeError(f"unclosed '[' in {text!r}")
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"expected ':PORT' after ']' in {text!r}")
        return host, _port(rest[1:], text)
    if text.count(":") > 1:  # a bare IPv6 address
        return text, default_port
    host, sep, port = text.partition(":")
    return host, _port(port, text) if sep else default_port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"bad port in {whole!r}")
    return int(text)


def parse_listen(text: str) -> tuple[str, Address]:
    """``PROTO:HOST:PORT`` (``udp``, ``tcp``, ``tls``, ``ws``, ``wss``; or ``HOST:PORT``,
    UDP implied) -> ``("TCP", (host, port))``; the port defaults to the protocol's."""
    protocol, sep, rest = text.partition(":")
    if sep and protocol.upper() in PROTOCOLS:
        name = protocol.upper()
        return name, parse_host_port(rest, default_port(name))
    return "UDP", parse_host_port(text, default_port("UDP"))


def add_resolver_argument(parser: argparse.ArgumentParser) -> None:
    """``--resolver HOST:PORT``: the DNS server that locates SIP servers (RFC 3263)."""
    parser.add_argument(
        "--resolver",
        type=nameserver_argument,
        default=None,
        metavar="HOST:PORT",
        help="locate servers the RFC 3263 way (NAPTR, SRV, A/AAAA) through this DNS server, "
        "failing over to the next one when a server does not answer (default: the "
        "system's getaddrinfo, A/AAAA only)",
    )


def nameserver_argument(text: str) -> str:
    # dnspython is imported only when a name server is named.
    from sippet.resolve.dns_resolver import parse_nameserver

    try:
        parse_nameserver(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def make_resolver(nameserver: str | None) -> Resolver:
    """A ``DnsResolver`` asking ``nameserver`` (``HOST:PORT``), else the system's
    ``getaddrinfo`` resolver."""
    if nameserver is None:
        return SystemResolver()
    from sippet.resolve.dns_resolver import DnsResolver

    return DnsResolver(nameserver)


async def first_address(resolver: Resolver, uri: URI, protocol: str) -> ResolvedAddress:
    """Where a request to ``uri`` over ``protocol`` goes first (the stack resolves it again,
    from the cache, and fails over from there): for choosing the local address and family.
    ``TransportError`` when the URI does not resolve."""
    from sippet.stack.routing import uri_next_hop

    if isinstance(resolver, LocatingResolver):
        from sippet.resolve.destination import IPFamily
        from sippet.resolve.lookup import Lookup

        destination = (await resolver.resolve_lookup(Lookup.from_uri(uri), transports=(protocol,)))[
            0
        ]
        family = socket.AF_INET6 if destination.family is IPFamily.IPV6 else socket.AF_INET
        return family, destination.address, destination.port
    hop = uri_next_hop(uri)
    return (await resolver.resolve(hop.host, hop.port, hop.protocol))[0]


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cert", default=None, help="certificate chain (PEM) for tls: and wss:")
    parser.add_argument("--key", default=None, help="private key (PEM) of --cert")
    parser.add_argument(
        "--ca", default=None, help="CA certificates (PEM) to trust, e.g. a private test CA"
    )


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


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop`` (a clean exit instead of a traceback)."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread, or on Windows: Ctrl-C still interrupts.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
