"""Route preprocessing (RFC 3261 §16.4), target determination (§16.5), and where a
forwarded request leaves (§16.6 step 7, as far as the proxy needs to know it)."""

from __future__ import annotations

import ipaddress

from sippet.headers import NameAddr
from sippet.message import Message, RequestLine
from sippet.proxy.config import ProxyConfig
from sippet.uri import URI, default_port

_STREAM_DEFAULTS = {"sip": "UDP", "sips": "TLS"}


def is_own_uri(uri: URI, config: ProxyConfig) -> bool:
    """A SIP or SIPS URI that names the proxy (one of its interfaces or aliases)."""
    if uri.scheme not in ("sip", "sips"):
        return False
    host = uri.parameters.get("maddr") or uri.host
    return config.is_own(host, uri.port, default_port(uri.scheme) or 5060)


def preprocess_routes(request: Message, config: ProxyConfig) -> None:
    """§16.4, in place: undo a strict router's rewrite, strip our ``maddr``, and pop our
    own URIs from the top of Route (two of them after double record-routing, RFC 5658)."""
    start = request.start_line
    assert isinstance(start, RequestLine)
    routes: list[NameAddr] = list(request.headers.get("route", ()))
    uri = start.request_uri
    # The Request-URI is a URI we put in Record-Route: the previous hop is a strict
    # router; the real Request-URI is the last Route value.
    if routes and is_own_uri(uri, config) and "lr" in uri.parameters:
        uri = routes.pop().uri
    # A maddr naming us, reached on the URI's port and transport: strip it, and the
    # non-default port and transport that went with it.
    maddr = uri.parameters.get("maddr")
    if maddr is not None and config.is_own(maddr, uri.port, default_port(uri.scheme) or 5060):
        parameters = {k: v for k, v in uri.parameters.items() if k not in ("maddr", "transport")}
        uri = uri.replace(port=None, parameters=parameters)
    while routes and is_own_uri(routes[0].uri, config):
        routes.pop(0)
    request.start_line = RequestLine(start.method, uri, start.version)
    if routes:
        request.headers["route"] = routes
    else:
        request.headers.pop("route", None)


def needs_lookup(request: Message, config: ProxyConfig) -> bool:
    """§16.5: the application gives the target set when the Request-URI is in one of our
    domains (or names us) and no Route is left; otherwise the target is the Request-URI.
    With ``any_domain``, also every request outside a dialog (no To tag): inside one, the
    Request-URI is the peer's remote target (§12.2.1.1), not an address-of-record."""
    if request.headers.get("route"):
        return False
    start = request.start_line
    assert isinstance(start, RequestLine)
    uri = start.request_uri
    to = request.headers.get("to")
    if config.any_domain and (to is None or to.params.get("tag") is None):
        return True
    host = (uri.host or "").lower()
    return host in config.domains or host in config.aliases or is_own_uri(uri, config)


def next_hop_uri(request: Message) -> URI:
    """The URI the next hop comes from: the first Route, else the Request-URI."""
    routes = request.headers.get("route")
    if routes:
        return routes[0].uri  # type: ignore[no-any-return]
    start = request.start_line
    assert isinstance(start, RequestLine)
    return start.request_uri


def outgoing_protocol(request: Message) -> str:
    """The transport a forwarded request leaves on: the next hop's ``transport``
    parameter, else UDP for sip: and TLS for sips: (RFC 3261 §18.1.1, without RFC 3263)."""
    if request.target is not None:
        return str(request.target[0]).upper()
    uri = next_hop_uri(request)
    transport = uri.parameters.get("transport")
    if transport:
        protocol = transport.upper()
        return "TLS" if uri.scheme == "sips" and protocol == "TCP" else protocol
    return _STREAM_DEFAULTS.get(uri.scheme, "UDP")


def is_broadcast(host: str | None) -> bool:
    """A limited-broadcast or unspecified IPv4 address: never a SIP next hop (RFC 4475
    §3.3.10 bcast). A directed broadcast cannot be told from a host without the netmask."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_unspecified or address == ipaddress.IPv4Address("255.255.255.255")


def next_hop_is_broadcast(request: Message) -> bool:
    uri = next_hop_uri(request)
    host = request.target[1] if request.target is not None else None
    return is_broadcast(host or uri.parameters.get("maddr") or uri.host)
