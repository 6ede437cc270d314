"""UAC rules (RFC 3261 §8.1): building requests, and what to do with a final response.

- ``build_request``: a request outside a dialog with every header §8.1.1 asks for.
- ``next_request``: the same request again as a new transaction (new branch, CSeq one
  higher; §8.1.3.5), the base of every retry.
- ``RedirectTargets`` and ``redirect_request``: following 3xx responses (§8.1.3.4).
- ``retry_after``: when a 503 (or 500) allows the same server again (§21.5.4, §20.33).
- ``FollowUp``: the three together, with a hook (``Authenticator``) for 401/407 that the
  digest client (``sippet.auth``) plugs into.

Pure: no I/O, no clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from sippet.headers import CSeq, MediaType, NameAddr, RetryAfter, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method, to_method
from sippet.uri import URI

# RFC 3261 §8.1.1.6: "a UAC MUST insert a Max-Forwards header field ... which SHOULD be 70".
DEFAULT_MAX_FORWARDS = 70
# RFC 3261 §8.1.1.5: the first CSeq "MUST be less than 2**31".
MAX_INITIAL_CSEQ = 2**31 - 1
# RFC 3261 §8.1.1.8: requests that can establish a dialog carry a Contact (with RFC 6665
# SUBSCRIBE and RFC 3515 REFER).
_NEEDS_CONTACT = frozenset({Method.INVITE, Method.SUBSCRIBE, Method.REFER})
# Targets one request may be redirected to in all (the first included). §8.1.3.4 only
# forbids a URI twice; a bound also stops two servers that keep inventing new URIs.
DEFAULT_REDIRECT_LIMIT = 8
# Challenges answered for one request chain: a second challenge after credentials may be a
# stale nonce (RFC 7616 §3.3); a third means the credentials are wrong.
DEFAULT_AUTH_ATTEMPTS = 2


class LocalAddress(NamedTuple):
    """Where this UAC sends from, for its Via: ``(protocol, host, port)``."""

    protocol: str
    host: str
    port: int | None


def build_request(
    method: Method | str,
    request_uri: URI | str,
    *,
    from_: NameAddr | URI | str,
    local: LocalAddress | tuple[str, str, int | None],
    to: NameAddr | URI | str | None = None,
    contact: NameAddr | URI | str | None = None,
    call_id: str | None = None,
    cseq: int = 1,
    from_tag: str | None = None,
    route: Sequence[NameAddr] = (),
    supported: Sequence[str] | None = None,
    allow: Sequence[Method | str] | None = None,
    max_forwards: int = DEFAULT_MAX_FORWARDS,
    body: bytes = b"",
    content_type: MediaType | str | None = None,
    rport: bool = True,
) -> Message:
    """A new request outside a dialog, per RFC 3261 §8.1.1.

    Request-URI and To (§8.1.1.1, §8.1.1.2): To defaults to the Request-URI, without a
    tag. From gets ``from_tag`` or a new tag (§8.1.1.3); Call-ID a new one (§8.1.1.4);
    CSeq ``cseq`` with the method (§8.1.1.5, below 2**31); Max-Forwards 70 (§8.1.1.6); a
    Via with a new branch and, with ``rport``, the RFC 3581 ``rport`` parameter
    (§8.1.1.7); Contact, required for INVITE, SUBSCRIBE and REFER (§8.1.1.8); Route for a
    preloaded route set (§8.1.2); Supported and Allow when given (§8.1.1.9: "SHOULD"
    list the extensions; §20.5). Raises ``ValueError`` for a missing Contact, a CSeq out
    of range, or a body without a type.
    """
    method = method if isinstance(method, Method) else to_method(method)
    uri = request_uri if isinstance(request_uri, URI) else URI.parse(request_uri)
    if not 0 <= cseq <= MAX_INITIAL_CSEQ:
        raise ValueError(f"CSeq {cseq} is not below 2**31 (RFC 3261 §8.1.1.5)")
    if contact is None and method in _NEEDS_CONTACT:
        raise ValueError(f"a {method} needs a Contact (RFC 3261 §8.1.1.8)")
    if body and content_type is None:
        raise ValueError("a body needs a Content-Type (RFC 3261 §20.15)")
    protocol, host, port = local
    from_value = _name_addr(from_)
    from_value = from_value._replace(params={**from_value.params, "tag": from_tag or create_tag()})
    via_params: dict[str, str | None] = {"branch": create_branch()}
    if rport:
        via_params["rport"] = None
    headers: dict[str, Any] = {
        "via": [Via((2, 0), protocol.upper(), SentBy(host, port), via_params)],
        "max_forwards": max_forwards,
        "from": from_value,
        "to": _name_addr(uri if to is None else to),
        "call_id": call_id or create_call_id(),
        "cseq": CSeq(cseq, method),
    }
    if route:
        headers["route"] = list(route)
    if contact is not None:
        headers["contact"] = [_name_addr(contact)]
    if supported is not None:
        headers["supported"] = list(supported)
    if allow is not None:
        headers["allow"] = list(allow)
    if content_type is not None:
        headers["content_type"] = (
            content_type if isinstance(content_type, MediaType) else _media_type(content_type)
        )
    return Message(RequestLine(method, uri), headers, body)


def next_request(request: Message) -> Message:
    """``request`` again as a new transaction: a deep copy with a new top Via branch and
    the CSeq number one higher (RFC 3261 §8.1.3.5: "same value of the Call-ID, To, and
    From ... a new sequence number that is one higher"; §8.1.1.7: new branch)."""
    again = request.copy()
    headers = again.headers
    top = headers["via"][0]
    # What a peer wrote into our Via on the way back (RFC 3581 rport value, received)
    # belongs to the old transaction.
    params = {k: v for k, v in top.params.items() if k != "received"}
    params["branch"] = create_branch()
    if "rport" in params:
        params["rport"] = None
    headers["via"][0] = top._replace(params=params)
    seq, method = headers["cseq"]
    headers["cseq"] = CSeq(seq + 1, method)
    return again


def redirect_request(request: Message, target: URI) -> Message:
    """The request for one target of a redirect (§8.1.3.4): ``next_request`` with the
    target as Request-URI, less its ``method`` parameter and its headers. The URI's
    headers are not applied: §19.1.5 leaves it to the UAC, and a Route or Contact taken
    blindly from a redirect would let it steer the request anywhere."""
    again = next_request(request)
    line = again.start_line
    assert isinstance(line, RequestLine)
    parameters = {k: v for k, v in target.parameters.items() if k != "method"}
    again.start_line = line._replace(request_uri=target.replace(parameters=parameters, headers={}))
    return again


class RedirectTargets:
    """The target set of §8.1.3.4: starts with the original Request-URI; each 3xx adds
    its Contact URIs not seen before, tried in decreasing q (ties in the order received).

    At most ``limit`` targets in all; only ``schemes`` are taken (what this UAC can
    reach), and a SIPS original never goes to a non-SIPS target unless
    ``allow_insecure`` (§8.1.3.4 asks to tell the user at least).
    """

    __slots__ = ("_pending", "_seen", "allow_insecure", "limit", "schemes")

    def __init__(
        self,
        original: URI,
        *,
        limit: int = DEFAULT_REDIRECT_LIMIT,
        schemes: Iterable[str] = ("sip", "sips"),
        allow_insecure: bool = False,
    ) -> None:
        self.limit = limit
        self.schemes = frozenset(schemes)
        self.allow_insecure = allow_insecure or original.scheme != "sips"
        self._seen: list[URI] = [_bare(original)]
        self._pending: list[tuple[float, int, URI]] = []

    @property
    def pending(self) -> list[URI]:
        """The targets still to try, in the order they will be tried."""
        return [uri for _q, _n, uri in self._pending]

    def add(self, response: Message) -> int:
        """Put the Contact URIs of a 3xx ``response`` into the set; returns how many were
        new. Anything else adds nothing."""
        line = response.start_line
        if not isinstance(line, StatusLine) or not 300 <= line.status_code < 400:
            return 0
        contacts = response.headers.get("contact")
        if not isinstance(contacts, list):
            return 0  # none, or "*"
        added = 0
        for contact in contacts:
            uri = _bare(contact.uri)
            if uri.scheme.lower() not in self.schemes:
                continue
            if uri.scheme != "sips" and not self.allow_insecure:
                continue
            if any(uri.equivalent(seen) for seen in self._seen):
                continue  # §8.1.3.4: never the same URI twice (no redirect loops)
            if len(self._seen) >= self.limit:
                break
            self._seen.append(uri)
            self._pending.append((-_q_of(contact), len(self._seen), uri))
            added += 1
        self._pending.sort(key=lambda item: (item[0], item[1]))
        return added

    def next_target(self) -> URI | None:
        """The next target to try, or ``None`` when the set is exhausted."""
        if not self._pending:
            return None
        return self._pending.pop(0)[2]


def retry_after(response: Message, now: float) -> float | None:
    """When the server that sent ``response`` may be tried again: ``now`` plus the
    Retry-After of a 503 (§21.5.4: "SHOULD NOT forward any other requests to that server
    for the duration") or a 500 (§20.33). ``None`` without one: a 503 without Retry-After
    is a 500 (§21.5.4), a plain failure."""
    line = response.start_line
    if not isinstance(line, StatusLine) or line.status_code not in (500, 503):
        return None
    value: RetryAfter | None = response.headers.get("retry_after")
    if value is None:
        return None
    return now + value.seconds


class Authenticator(Protocol):
    """The 401/407 hook (RFC 3261 §8.1.3.5, §22.2, §22.3), for the digest client.

    ``authorize`` returns the request to send again with credentials (a new transaction:
    build it with ``next_request``, then add Authorization or Proxy-Authorization), or
    ``None`` when it has none for the challenge's realm.
    """

    def authorize(self, request: Message, challenge: Message) -> Message | None: ...


class FollowUp:
    """What a UAC sends after each final response to one request (§8.1.3).

    ``on_final(response, now)`` returns the next request to send, or ``None`` when the
    request has succeeded or failed for good:

    - 3xx: its Contacts join the target set; the next target is tried (§8.1.3.4).
    - 401/407: the ``authenticator``'s request, at most ``auth_attempts`` times.
    - any other failure: the next redirect target, if any (§8.1.3.4: "the element moves
      to the next address in the list").
    - a 500/503 with Retry-After also sets ``retry_at`` (``retry_after``), for the
      caller's choice of server.

    ``request`` is the last request sent. The chain keeps Call-ID, From and To
    (§8.1.3.4, §8.1.3.5).
    """

    __slots__ = ("_auth_left", "authenticator", "request", "retry_at", "targets")

    def __init__(
        self,
        request: Message,
        *,
        authenticator: Authenticator | None = None,
        auth_attempts: int = DEFAULT_AUTH_ATTEMPTS,
        redirect_limit: int = DEFAULT_REDIRECT_LIMIT,
    ) -> None:
        line = request.start_line
        if not isinstance(line, RequestLine):
            raise ValueError("FollowUp needs a request")
        self.request = request
        self.authenticator = authenticator
        self.targets = RedirectTargets(line.request_uri, limit=redirect_limit)
        self.retry_at: float | None = None
        self._auth_left = auth_attempts

    def on_final(self, response: Message, now: float) -> Message | None:
        line = response.start_line
        if not isinstance(line, StatusLine):
            raise ValueError("on_final needs a response")
        status = line.status_code
        if status < 300:
            return None
        self.retry_at = retry_after(response, now)
        if status in (401, 407) and self.authenticator is not None and self._auth_left > 0:
            self._auth_left -= 1
            authorized = self.authenticator.authorize(self.request, response)
            if authorized is not None:
                self.request = authorized
                return authorized
        self.targets.add(response)
        target = self.targets.next_target()
        if target is None:
            return None
        self.request = redirect_request(self.request, target)
        return self.request


def _name_addr(value: NameAddr | URI | str) -> NameAddr:
    if isinstance(value, NameAddr):
        return NameAddr(value.display_name, value.uri, dict(value.params))
    uri = value if isinstance(value, URI) else URI.parse(value)
    return NameAddr("", uri, {})


def _media_type(text: str) -> MediaType:
    kind, _, subtype = text.lower().partition("/")
    return MediaType((kind, subtype), {})


def _bare(uri: URI) -> URI:
    """A target URI as §8.1.3.4 copies it: no ``method`` parameter, no headers."""
    if "method" not in uri.parameters and not uri.headers:
        return uri
    parameters = {k: v for k, v in uri.parameters.items() if k != "method"}
    return uri.replace(parameters=parameters, headers={})


def _q_of(contact: NameAddr) -> float:
    q = contact.params.get("q")
    try:
        return 1.0 if q is None else float(q)
    except ValueError:
        return 0.0


__all__ = [
    "DEFAULT_AUTH_ATTEMPTS",
    "DEFAULT_MAX_FORWARDS",
    "DEFAULT_REDIRECT_LIMIT",
    "MAX_INITIAL_CSEQ",
    "Authenticator",
    "FollowUp",
    "LocalAddress",
    "RedirectTargets",
    "build_request",
    "next_request",
    "redirect_request",
    "retry_after",
]
