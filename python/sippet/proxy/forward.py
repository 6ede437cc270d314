"""Building the request sent to one target (RFC 3261 §16.6 steps 1 to 8)."""

from __future__ import annotations

from typing import NamedTuple

from sippet.headers import CSeq, NameAddr, SentBy, Via
from sippet.message import Message, RequestLine, Target
from sippet.method import Method
from sippet.proxy.config import ProxyConfig
from sippet.proxy.routing import outgoing_protocol
from sippet.uri import URI

# §16.6 step 4: requests that can create a dialog (RFC 3261 §12.1, RFC 6665 §4.1.2.4,
# RFC 3515 §2.4.4): a Record-Route on them puts the proxy in the dialog's route set.
_DIALOG_CREATING = frozenset({"INVITE", "SUBSCRIBE", "NOTIFY", "REFER"})


class ProxyTarget(NamedTuple):
    """One element of a target set (§16.5).

    - ``uri``: the new Request-URI (a contact, or the Request-URI itself).
    - ``q``: its preference (RFC 3261 §20.10, 0 to 1): higher q-values are tried first,
      equal ones in parallel (§16.6).
    - ``route``: loose routes to push for this target only (e.g. a registered Path,
      RFC 3327 §5.3).
    - ``next_hop``: where to send it regardless of Route and Request-URI (the address and
      transport a REGISTER came from, for a contact behind NAT).
    """

    uri: URI
    q: float = 1.0
    route: tuple[URI, ...] = ()
    next_hop: Target | None = None


def forward_copy(
    request: Message,
    target: ProxyTarget,
    branch: str,
    config: ProxyConfig,
    received_protocol: str,
) -> Message:
    """The copy of ``request`` (validated, route-preprocessed) sent to ``target``."""
    start = request.start_line
    assert isinstance(start, RequestLine)
    copy = request.copy()  # step 1
    copy.target = target.next_hop
    copy.start_line = RequestLine(start.method, target.uri, start.version)  # step 2
    # Step 3: Max-Forwards decremented, or set when absent.
    max_forwards = request.headers.get("max_forwards")
    copy.headers["max_forwards"] = config.max_forwards if max_forwards is None else max_forwards - 1
    # Step 6 (before step 4: Record-Route must name the interface the copy leaves on,
    # which the Route decides): policy routes and the target's routes on top of Route.
    pushed = [NameAddr("", uri, {}) for uri in (*config.outbound_route, *target.route)]
    if pushed:
        copy.headers["route"] = [*pushed, *copy.headers.get("route", ())]
    protocol = outgoing_protocol(copy)
    # Step 4: Record-Route.
    if config.record_route and str(start.method) in _DIALOG_CREATING:
        add_record_route(copy, config, received_protocol, protocol)
    # Step 8: our Via on top.
    sent_by = config.interface(protocol)
    via = Via(
        (2, 0), protocol, SentBy(sent_by.host, sent_by.port), {"branch": branch, "rport": None}
    )
    copy.headers["via"] = [via, *copy.headers.get("via", ())]
    return copy


def add_record_route(
    request: Message, config: ProxyConfig, received_protocol: str, sent_protocol: str
) -> None:
    """§16.6 step 4, in place. When the request changes transport across the proxy, two
    entries (RFC 5658 §3.2): the outgoing side's on top, for the callee's requests, and the
    incoming side's below it, for the caller's (its route set is the reverse)."""
    entries = [record_route_uri(config, sent_protocol)]
    incoming = record_route_uri(config, received_protocol)
    if incoming != entries[0]:
        entries.append(incoming)
    values = [NameAddr("", uri, {}) for uri in entries]
    request.headers["record_route"] = [*values, *request.headers.get("record_route", ())]


def record_route_uri(config: ProxyConfig, protocol: str) -> URI:
    """``sip:host:port;lr`` of the interface for ``protocol`` (``transport=`` unless UDP;
    ``sips:`` for TLS, RFC 3261 §16.6 step 4 for a SIPS Request-URI)."""
    sent_by = config.interface(protocol)
    parameters: dict[str, str | None] = {}
    scheme = "sip"
    upper = protocol.upper()
    if upper == "TLS":
        scheme = "sips"
    elif upper != "UDP":
        parameters["transport"] = upper.lower()
    parameters["lr"] = None
    return URI(scheme, None, None, sent_by.host, sent_by.port, parameters)


def cancel_for(request: Message) -> Message:
    """The CANCEL of a forwarded INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, To,
    From, CSeq number and top Via (so the same branch), and its Route."""
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    cancel = Message(RequestLine(Method.CANCEL, start.request_uri, start.version))
    cancel.headers["via"] = [headers["via"][0]]
    for key in ("from", "to", "call_id"):
        cancel.headers[key] = headers[key]
    cancel.headers["cseq"] = CSeq(headers["cseq"][0], Method.CANCEL)
    cancel.headers["max_forwards"] = 70
    if "route" in headers:
        cancel.headers["route"] = headers["route"]
    cancel.target = request.target
    return cancel
