"""The client side shared by ``sippet options`` and ``sippet call``: resolve the target
URI, open a transport towards it, and know the local address to put in Via and Contact."""

from __future__ import annotations

import argparse
import ipaddress
import socket
from dataclasses import dataclass

from sippet.apps.addresses import local_address_towards
from sippet.cli.arguments import bind_address
from sippet.cli.common import (
    add_resolver_argument,
    add_tls_arguments,
    first_address,
)
from sippet.errors import ParseError, SippetError, TransportError
from sippet.stack import Stack
from sippet.stack.routing import uri_next_hop
from sippet.transports import Transport, format_address
from sippet.transports.invalid_names import invalid_host
from sippet.transports.listen import (
    PROTOCOLS,
    client_ssl_context,
    make_transport,
    server_ssl_context,
)
from sippet.uri import URI

WEBSOCKET_PROTOCOLS = frozenset({"WS", "WSS"})


class ClientError(Exception):
    """Why the client cannot start, as printed after ``error: ``."""


@dataclass(frozen=True)
class Client:
    transport: Transport
    protocol: str
    where: str
    """The peer, as ``udp:127.0.0.1:5060``."""
    local_host: str
    """Our address as the peer reaches it (never a wildcard when it can be found), for
    Via and Contact; a ``.invalid`` name over WebSocket."""
    local_port: int
    """0 when the peer can only answer over our connection (WS, WSS, TLS without a
    certificate)."""


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bind",
        "-b",
        type=bind_address,
        default=None,
        help="local HOST:PORT to send from (default: loopback for a loopback target, "
        "else any address; any port)",
    )
    add_tls_arguments(parser)
    add_resolver_argument(parser)


def target_uri(text: str) -> URI:
    if ":" not in text or text.split(":", 1)[0].lower() not in ("sip", "sips"):
        text = "sip:" + text
    return URI.parse(text)


async def open_client(stack: Stack, args: argparse.Namespace) -> Client:
    """Resolve ``args.uri`` with the stack's resolver (RFC 3263 with ``--resolver``), add a
    transport for it to ``stack`` (bound to ``args.bind``). The stack resolves the request
    again (from the cache) and fails over from there; this first target only chooses the
    local address and family."""
    try:
        uri = target_uri(args.uri)
        hop = uri_next_hop(uri)
        family, address, port = await first_address(stack.resolver, uri, hop.protocol)
    except (ParseError, SippetError) as exc:
        raise ClientError(f"{args.uri}: {exc}") from None
    protocol = hop.protocol
    if protocol not in PROTOCOLS:
        raise ClientError(f"unsupported transport {protocol}")
    bind_host, bind_port = args.bind or (_default_bind(family, address), 0)
    try:
        # A secure transport listens only when given a certificate: it is a client here.
        server_context = server_ssl_context(args.cert, args.key) if args.cert else None
        client_context = client_ssl_context(args.ca)
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot load the TLS certificate or CA: {exc}") from None
    try:
        transport = make_transport(
            protocol,
            (bind_host, bind_port),
            server_context=server_context,
            client_context=client_context,
            listen=protocol not in WEBSOCKET_PROTOCOLS,
        )
        await stack.add_transport(transport)
    except (TransportError, ImportError) as exc:
        raise ClientError(str(exc)) from None
    local_host, local_port = transport.local_address[:2]
    if protocol in WEBSOCKET_PROTOCOLS:
        # RFC 7118 Appendix B.1: a WebSocket client is reached over its connection only;
        # it names itself with a .invalid host in its Via and Contact.
        local_host, local_port = invalid_host(), 0
    elif local_host in ("0.0.0.0", "::"):
        local_host = local_address_towards(family, address, port) or local_host
    where = format_address(protocol, address, port)
    return Client(transport, protocol, where, local_host, local_port)


def _default_bind(family: int, address: str) -> str:
    """Loopback for a loopback target (nothing else need see the socket), else any."""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return address
    except ValueError:
        pass
    return "::" if family == socket.AF_INET6 else "0.0.0.0"
