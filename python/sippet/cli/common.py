"""Helpers shared by the ``sippet`` subcommands: address and resolver arguments, logging.

Parsing listen addresses and building transports lives below the applications, in
``sippet.transports.listen``; here it is only adapted to ``argparse`` (a usage error)."""

from __future__ import annotations

import argparse
import logging
import socket

from sippet.resolver import LocatingResolver, ResolvedAddress, Resolver, SystemResolver
from sippet.transports.base import Address
from sippet.transports.listen import parse_host_port, parse_listen
from sippet.uri import URI


def listen_argument(text: str) -> tuple[str, Address]:
    """``--listen PROTO:HOST:PORT`` (``sippet.transports.listen.parse_listen``)."""
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def host_port_argument(text: str, default_port: int) -> Address:
    """``HOST:PORT`` for a flag (``sippet.transports.listen.parse_host_port``)."""
    try:
        return parse_host_port(text, default_port)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
