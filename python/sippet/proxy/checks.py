"""Request validation (RFC 3261 §16.3 steps 2 to 5): the answer for a request the proxy
must not forward, or ``None`` when it may go on.

Step 1 (syntax) is the stack's (parse and ``validate``); step 6 (Proxy-Authorization) is the
application's, with ``sippet.auth``.
"""

from __future__ import annotations

from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.proxy.branch import loop_hash, loop_part
from sippet.proxy.config import ProxyConfig
from sippet.transactions.keys import DEFAULT_PORT, TLS_PORT

ROUTABLE_SCHEMES = frozenset({"sip", "sips"})
"""Request-URI schemes the proxy can route (§16.3 step 2); anything else gets 416."""


def check_request(request: Message, config: ProxyConfig) -> Message | None:
    """§16.3 steps 2, 3 and 5 in order: the error response to send, or ``None``.

    Step 4 (loops, ``is_looped``) is checked after route preprocessing (§16.4): the loop
    hash covers the Route as it is once our own entries are removed, and a looped request
    arrives with our Record-Route URI still on top of its Route. An ACK is never answered
    (§17): use ``fails_checks`` for one.
    """
    failure = _failure(request, config)
    if failure is None:
        return None
    status_code, unsupported = failure
    response = request.to_response(status_code)
    if unsupported:
        response.headers["unsupported"] = unsupported
    return response


def fails_checks(request: Message, config: ProxyConfig) -> bool:
    """True when ``check_request`` would answer ``request`` with an error."""
    return _failure(request, config) is not None


def _failure(request: Message, config: ProxyConfig) -> tuple[int, list[str]] | None:
    start = request.start_line
    assert isinstance(start, RequestLine)
    # Step 2: a scheme it cannot route (RFC 4475 unkscm).
    if start.request_uri.scheme not in ROUTABLE_SCHEMES:
        return 416, []
    # Step 3: Max-Forwards 0 (RFC 4475 zeromf). An OPTIONS for the proxy itself is
    # answered by the caller before this check (step 3: it "MAY act as the final
    # recipient").
    if request.headers.get("max_forwards") == 0:
        return 483, []
    # Step 5: Proxy-Require tags it does not know (RFC 4475 bext01, proxy role).
    tags = request.headers.get("proxy_require", ())
    unknown = [tag for tag in tags if tag not in config.supported]
    if unknown:
        return 420, unknown
    return None


def is_looped(request: Message, config: ProxyConfig) -> bool:
    """§16.3 step 4: a Via the proxy placed whose loop part equals this request's hash
    (a spiral, whose routing fields changed, goes on). ``request`` is route-preprocessed."""
    current: str | None = None
    for via in request.headers.get("via", ()):
        default = TLS_PORT if via.protocol.upper() == "TLS" else DEFAULT_PORT
        if not config.is_own(via.sent_by.host, via.sent_by.port, default):
            continue
        placed = loop_part(via.params.get("branch"))
        if placed is None:
            continue
        if current is None:
            current = loop_hash(request)
        if placed == current:
            return True
    return False


def is_for_proxy_itself(request: Message, config: ProxyConfig) -> bool:
    """An OPTIONS with no Route whose Request-URI names the proxy and no user: the proxy
    answers it as the final recipient (§11, §16.3 step 3)."""
    start = request.start_line
    assert isinstance(start, RequestLine)
    uri = start.request_uri
    return (
        start.method == Method.OPTIONS
        and not request.headers.get("route")
        and uri.scheme in ROUTABLE_SCHEMES
        and not uri.user
        and config.is_own(uri.host, uri.port, TLS_PORT if uri.scheme == "sips" else DEFAULT_PORT)
    )
