"""Where messages go: next hops of requests and responses, and Via stamping on receipt.

Pure functions on messages; no I/O. The stack resolves the host of the ``NextHop`` they
return and picks a transport for its protocol.

- Requests (RFC 3261 §8.1.2, §16.12, §12.2.1.1): ``Message.target`` if set; else the first
  Route; else the Request-URI. A first Route without ``lr`` is a strict router: the request
  is sent there too, after ``apply_strict_route`` made that Route its Request-URI.
- Responses (RFC 3261 §18.2.2, RFC 3581 §4): the top Via's ``maddr``, else ``received`` with
  ``rport`` (or the sent-by port), else the sent-by.
- Received requests (RFC 3261 §18.2.1, RFC 3581 §4): ``received`` and ``rport`` are written
  on the *top* Via.

Default ports have one rule, ``sippet.ports.default_port`` (re-exported here).
"""

from __future__ import annotations

import ipaddress

from sippet.errors import TransportError
from sippet.headers import NameAddr, Via
from sippet.message import Message, RequestLine, Target
from sippet.ports import DEFAULT_PORTS, default_port
from sippet.uri import URI

__all__ = [
    "DEFAULT_PORTS",
    "NextHop",
    "apply_strict_route",
    "default_port",
    "is_strict_route",
    "request_next_hop",
    "request_next_hop_uri",
    "response_next_hop",
    "stamp_received",
    "stamp_via",
    "uri_next_hop",
]

NextHop = Target
"""Where a message goes: a transport protocol (upper case, as in Via), a host (name or IP, no
brackets), a port. The same type as ``Message.target``: one address type from routing to the
transport layer."""


def uri_next_hop(uri: URI) -> NextHop:
    """The hop a SIP or SIPS URI designates (RFC 3261 §19.1.1, §8.1.2 without RFC 3263).

    ``transport`` parameter, else UDP for sip: and TLS for sips:; ``maddr`` overrides the
    host; the explicit port, else the transport's default.
    """
    scheme = uri.scheme
    if scheme not in ("sip", "sips"):
        raise TransportError(f"cannot route to a {scheme}: URI", reason="unsupported_uri_scheme")
    params = uri.parameters
    transport = params.get("transport")
    if transport:
        protocol = transport.upper()
        if scheme == "sips" and protocol == "TCP":
            protocol = "TLS"  # RFC 3261 §26.2.2: sips over TCP means TLS
        elif scheme == "sips" and protocol == "WS":
            protocol = "WSS"  # RFC 7118 §5.5, §9.2: sips over WebSocket means WSS
    else:
        protocol = "TLS" if scheme == "sips" else "UDP"
    host = params.get("maddr") or uri.host
    if not host:
        raise TransportError(f"no host in {uri}", reason="no_host")
    port = uri.port if uri.port is not None else default_port(protocol)
    return NextHop(protocol, host, port)


def is_strict_route(request: Message) -> bool:
    """True when the first Route value lacks ``lr``: the next hop is a strict router."""
    routes = request.headers.get("route")
    if not routes:
        return False
    return "lr" not in routes[0].uri.parameters


def apply_strict_route(request: Message) -> Message:
    """RFC 3261 §12.2.1.1, §16.12: sending to a strict router (first Route without ``lr``).

    Returns a copy of ``request`` whose Request-URI is the first Route's URI (stripped of
    its headers and of the parameters a Request-URI may not carry, §12.2.1.1 and the table
    of §19.1.1: ``method``), the first Route removed, and the old Request-URI appended as the
    last Route. The caller's message is not changed. This is the one place the rewrite is
    done: requests built in a dialog (``sippet.dialogs``) keep the loose form and get it here.
    """
    routes: list[NameAddr] = list(request.headers["route"])
    start = request.start_line
    assert isinstance(start, RequestLine)
    first = routes.pop(0)
    new_uri = URI(
        first.uri.scheme,
        first.uri.user,
        first.uri.password,
        first.uri.host,
        first.uri.port,
        {name: value for name, value in first.uri.parameters.items() if name != "method"},
        {},
        first.uri.opaque,
    )
    routes.append(NameAddr("", start.request_uri, {}))
    headers = dict(request.headers)
    headers["route"] = routes
    copy = Message(RequestLine(start.method, new_uri, start.version), headers, request.body)
    copy.wire_order = request.wire_order
    return copy


def request_next_hop(request: Message) -> NextHop:
    """Where a request goes (RFC 3261 §8.1.2): target, else first Route, else Request-URI.

    The first Route decides for a strict router too: its URI is the Request-URI the request
    gets from ``apply_strict_route`` (§12.2.1.1). Compute the hop before that rewrite.
    """
    target = request.target
    if target is not None:
        protocol, host, port = target  # a Target, or a plain tuple assigned by hand
        return NextHop(str(protocol).upper(), host, port)
    routes = request.headers.get("route")
    if routes:
        return uri_next_hop(routes[0].uri)
    start = request.start_line
    assert isinstance(start, RequestLine)
    return uri_next_hop(start.request_uri)


def request_next_hop_uri(request: Message) -> URI | None:
    """The URI the next hop of ``request`` comes from (§8.1.2: first Route, else
    Request-URI), for RFC 3263 resolution, which must see whether the URI gave a port and a
    transport. ``None`` when ``Message.target`` names the hop (nothing to resolve but the
    host)."""
    if request.target is not None:
        return None
    routes = request.headers.get("route")
    if routes:
        uri: URI = routes[0].uri
        return uri
    start = request.start_line
    assert isinstance(start, RequestLine)
    return start.request_uri


def response_next_hop(response: Message) -> NextHop:
    """Where a response goes over an unreliable transport (RFC 3261 §18.2.2, RFC 3581 §4)."""
    target = response.target
    if target is not None:
        protocol, host, port = target
        return NextHop(str(protocol).upper(), host, port)
    vias = response.headers.get("via")
    if not vias:
        raise TransportError("response without Via", reason="no_via")
    via: Via = vias[0]
    protocol = via.protocol.upper()
    params = via.params
    sent_port = via.sent_by.port
    maddr = params.get("maddr")
    port = sent_port if sent_port is not None else default_port(protocol)
    if maddr:
        return NextHop(protocol, maddr, port)  # §18.2.2: maddr, with the sent-by port
    received = params.get("received")
    if received:
        rport = params.get("rport")
        if rport and rport.isdigit():
            return NextHop(protocol, received, int(rport))  # RFC 3581 §4
        return NextHop(protocol, received, port)
    return NextHop(protocol, via.sent_by.host, port)


def _same_host(sent_by_host: str, address: str) -> bool:
    if sent_by_host == address:
        return True
    try:
        return ipaddress.ip_address(sent_by_host) == ipaddress.ip_address(address)
    except ValueError:
        return False  # a domain name: §18.2.1 always adds received


def stamp_received(request: Message, host: str, port: int) -> None:
    """Add ``received``/``rport`` to the request's top Via (RFC 3261 §18.2.1, RFC 3581 §4).

    ``received`` when the sent-by host is a name or differs from the source address, and
    always when the Via asks for ``rport``; ``rport`` is filled with the source port when it
    is present without a value. Changes the request in place.
    """
    vias = request.headers.get("via")
    if vias:
        stamp_via(vias, host, port)


def stamp_via(vias: list[Via], host: str, port: int) -> None:
    """``stamp_received`` on a list of Via values (the top one is changed)."""
    top: Via = vias[0]
    params = top.params
    wants_rport = "rport" in params and params["rport"] is None
    if not wants_rport and _same_host(top.sent_by.host, host):
        return
    # The parsed Via's params dict belongs to this message: edit it in place.
    params["received"] = host
    if wants_rport:
        params["rport"] = str(port)
