"""Typed header values: the shapes of ``Message.headers``.

``Message.headers`` is a plain ``dict``. A known header is keyed by its snake_case name
(``"via"``, ``"cseq"``, ``"call_id"``...) and holds the typed value listed in ``HEADER_SHAPES``;
an unknown header keeps its wire name as key and holds a list of raw strings, one per line.

The shapes follow Sippet's header table. Composite values are named tuples, so both
``cseq.seq`` and ``seq, method = cseq`` work, and a plain tuple of the same shape is accepted
wherever a message is built by hand.

Conventions shared with the native parser (``src/core/model.rs``):

- Parameters are ordered ``dict[str, str | None]``: names lowercased (RFC 3261 §7.3.1),
  values unquoted; ``None`` is a parameter written without ``=value``.
- Display names are unquoted; ``""`` when absent.
- Hosts are stored without IPv6 brackets; the serializer adds them.
- Ports are ``None`` when the wire has none; no default port is filled in.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from sippet.method import Method

if TYPE_CHECKING:
    from sippet.uri import URI

Params: TypeAlias = dict[str, str | None]
"""Header or URI parameters: ``;name=value`` pairs in wire order."""

MethodName: TypeAlias = Method | str
"""A known method is a ``Method``; an unknown one stays a case-sensitive ``str``."""


class NameAddr(NamedTuple):
    """``"Display" <uri>;params`` as in From, To, Contact, Route, Record-Route."""

    display_name: str
    uri: URI
    params: Params


class SentBy(NamedTuple):
    """The sent-by of a Via: host (no IPv6 brackets) and port (``None`` if absent)."""

    host: str
    port: int | None


class Via(NamedTuple):
    """One Via value (RFC 3261 §20.42): ``SIP/2.0/UDP host:port;branch=...``."""

    version: tuple[int, int]
    protocol: str
    sent_by: SentBy
    params: Params

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")


class CSeq(NamedTuple):
    """CSeq (RFC 3261 §20.16): sequence number and method."""

    seq: int
    method: MethodName


class MediaType(NamedTuple):
    """Content-Type and each Accept value: ``((type, subtype), params)``."""

    media: tuple[str, str]
    params: Params


class TokenParams(NamedTuple):
    """A token with parameters: Accept-Encoding, Accept-Language, Reason,
    Content-Disposition, Event, Subscription-State, Replaces."""

    value: str
    params: Params


class UriParams(NamedTuple):
    """``<uri>;params``: Alert-Info, Call-Info, Error-Info."""

    uri: URI
    params: Params


class Auth(NamedTuple):
    """A challenge or credentials (RFC 3261 §20.7, §20.27, §20.28, §20.44)."""

    scheme: str
    params: Params


class MimeVersion(NamedTuple):
    major: int
    minor: int


class RetryAfter(NamedTuple):
    """Retry-After (RFC 3261 §20.33): seconds, optional comment, params."""

    seconds: int
    comment: str | None
    params: Params


class Timestamp(NamedTuple):
    """Timestamp (RFC 3261 §20.38): the value and an optional delay."""

    timestamp: float
    delay: float | None


class Warning(NamedTuple):
    """One Warning value (RFC 3261 §20.43)."""

    code: int
    agent: str
    text: str


class DeltaParams(NamedTuple):
    """Session-Expires and Min-SE (RFC 4028): delta-seconds with params."""

    seconds: int
    params: Params


class RAck(NamedTuple):
    """RAck (RFC 3262 §7.2): response number, CSeq number, method."""

    rseq: int
    cseq: int
    method: MethodName


class Unparsed(NamedTuple):
    """A header field kept as the raw text it arrived with, because it did not parse.

    Only a response to a malformed request carries one (RFC 3261 §8.2.6.2: the response
    copies the request's From, To, Call-ID and CSeq; see ``sippet.responses``). Allowed as
    the value of any typed header key; the serializer writes ``text`` as it is (one line,
    no surrounding whitespace), and the result reads back only as well as the request did.
    """

    text: str


Date: TypeAlias = datetime.datetime
"""Date headers are timezone-aware ``datetime`` values in UTC (only GMT is legal on the wire)."""


# Canonical wire name of every known header, keyed by its snake_case key. The typed ones
# are in HEADER_SHAPES; the rest are registered names kept raw under their canonical name.
CANONICAL_NAMES: dict[str, str] = {
    "accept": "Accept",
    "accept_encoding": "Accept-Encoding",
    "accept_language": "Accept-Language",
    "alert_info": "Alert-Info",
    "allow": "Allow",
    "allow_events": "Allow-Events",
    "authentication_info": "Authentication-Info",
    "authorization": "Authorization",
    "call_id": "Call-ID",
    "call_info": "Call-Info",
    "contact": "Contact",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "content_length": "Content-Length",
    "content_type": "Content-Type",
    "cseq": "CSeq",
    "date": "Date",
    "error_info": "Error-Info",
    "event": "Event",
    "expires": "Expires",
    "from": "From",
    "in_reply_to": "In-Reply-To",
    "max_forwards": "Max-Forwards",
    "mime_version": "MIME-Version",
    "min_expires": "Min-Expires",
    "min_se": "Min-SE",
    "organization": "Organization",
    "p_asserted_identity": "P-Asserted-Identity",
    "p_preferred_identity": "P-Preferred-Identity",
    "path": "Path",
    "priority": "Priority",
    "privacy": "Privacy",
    "proxy_authenticate": "Proxy-Authenticate",
    "proxy_authorization": "Proxy-Authorization",
    "proxy_require": "Proxy-Require",
    "rack": "RAck",
    "reason": "Reason",
    "record_route": "Record-Route",
    "refer_to": "Refer-To",
    "referred_by": "Referred-By",
    "replaces": "Replaces",
    "reply_to": "Reply-To",
    "require": "Require",
    "retry_after": "Retry-After",
    "route": "Route",
    "rseq": "RSeq",
    "server": "Server",
    "service_route": "Service-Route",
    "session_expires": "Session-Expires",
    "subject": "Subject",
    "subscription_state": "Subscription-State",
    "supported": "Supported",
    "timestamp": "Timestamp",
    "to": "To",
    "unsupported": "Unsupported",
    "user_agent": "User-Agent",
    "via": "Via",
    "warning": "Warning",
    "www_authenticate": "WWW-Authenticate",
}

# Compact forms (RFC 3261 §7.3.3 and the IANA SIP header registry). Those whose header we
# do not type (a, d, j, y) map to the canonical name under which the raw lines are kept.
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "referred_by",
    "c": "content_type",
    "d": "Request-Disposition",
    "e": "content_encoding",
    "f": "from",
    "i": "call_id",
    "j": "Reject-Contact",
    "k": "supported",
    "l": "content_length",
    "m": "contact",
    "o": "event",
    "r": "refer_to",
    "s": "subject",
    "t": "to",
    "u": "allow_events",
    "v": "via",
    "x": "session_expires",
    "y": "Identity",
}

# The shape of each typed header's value, for documentation and for checking built messages.
HEADER_SHAPES: dict[str, str] = {
    "accept": "list[MediaType]",
    "accept_encoding": "list[TokenParams]",
    "accept_language": "list[TokenParams]",
    "alert_info": "list[UriParams]",
    "allow": "list[Method | str]",
    "allow_events": "list[str]",
    "authentication_info": "Params",
    "authorization": "list[Auth]",
    "call_id": "str",
    "call_info": "list[UriParams]",
    "contact": "'*' | list[NameAddr]",
    "content_disposition": "TokenParams",
    "content_encoding": "list[str]",
    "content_language": "list[str]",
    "content_length": "int",
    "content_type": "MediaType",
    "cseq": "CSeq",
    "date": "datetime (UTC)",
    "error_info": "list[UriParams]",
    "event": "TokenParams",
    "expires": "int",
    "from": "NameAddr",
    "in_reply_to": "list[str]",
    "max_forwards": "int",
    "mime_version": "MimeVersion",
    "min_expires": "int",
    "min_se": "DeltaParams",
    "organization": "str",
    "p_asserted_identity": "list[NameAddr]",
    "p_preferred_identity": "list[NameAddr]",
    "path": "list[NameAddr]",
    "priority": "str",
    "privacy": "list[str]",
    "proxy_authenticate": "list[Auth]",
    "proxy_authorization": "list[Auth]",
    "proxy_require": "list[str]",
    "rack": "RAck",
    "reason": "list[TokenParams]",
    "record_route": "list[NameAddr]",
    "refer_to": "NameAddr",
    "referred_by": "NameAddr",
    "replaces": "TokenParams",
    "reply_to": "NameAddr",
    "require": "list[str]",
    "retry_after": "RetryAfter",
    "route": "list[NameAddr]",
    "rseq": "int",
    "server": "str",
    "service_route": "list[NameAddr]",
    "session_expires": "DeltaParams",
    "subject": "str",
    "subscription_state": "TokenParams",
    "supported": "list[str]",
    "timestamp": "Timestamp",
    "to": "NameAddr",
    "unsupported": "list[str]",
    "user_agent": "str",
    "via": "list[Via]",
    "warning": "list[Warning]",
    "www_authenticate": "list[Auth]",
}

# Headers that may appear once only: a second line or value is a parse error
# (RFC 3261 §7.3.1; RFC 4475 multi01, mcl01).
SINGLE_VALUED: frozenset[str] = frozenset(
    key for key, shape in HEADER_SHAPES.items() if not shape.startswith(("list", "'*'"))
)

# Canonical header order of a message built in code (a parsed message keeps its wire
# order). Via and routing first, as RFC 3261 §7.3.1 recommends for proxies' quick scanning;
# Content-Type and Content-Length last; headers not listed keep their relative order between.
CANONICAL_ORDER: tuple[str, ...] = (
    "via",
    "route",
    "record_route",
    "max_forwards",
    "from",
    "to",
    "call_id",
    "cseq",
    "contact",
)
CANONICAL_ORDER_LAST: tuple[str, ...] = ("content_type", "content_length")
