"""UAS request checks (RFC 3261 §8.2), as pure functions that return the rejection.

Each check takes a request (and the ``UASPolicy`` saying what this UAS supports) and
returns the response to send when the request must be refused, or ``None`` to go on.
``check_request`` runs the checks an application picks, in the order of §8.2 ("UASs
SHOULD process the requests in the order of the steps that follow"):

- ``Check.METHOD`` (§8.2.1): 405 with Allow for a known method not supported; 501 with
  Allow for an unknown method (§21.5.2).
- ``Check.URI_SCHEME`` (§8.2.2.1): 416 for a Request-URI scheme not supported.
- ``Check.URI_OURS`` (§8.2.2.1): 404 when the application's ``is_ours`` predicate says no.
- ``Check.MERGED`` (§8.2.2.2): 482 for the same From tag, Call-ID and CSeq as an ongoing
  transaction, arriving by another path.
- ``Check.REQUIRE`` (§8.2.2.3): 420 with Unsupported for option tags not understood.
- ``Check.CONTENT`` (§8.2.3): 415 with Accept, Accept-Encoding and/or Accept-Language;
  400 for a body without Content-Type (§20.15).
- ``Check.ACCEPT`` (§21.4.7): 406 when the request's Accept excludes what the answer would
  carry.

An ACK is never checked (it is never answered, §17); Require is ignored in a CANCEL
(§8.2.2.3). Authentication, which §8.2 puts first, belongs to ``sippet.auth``. Nothing
here does I/O or reads a clock: the merged-request memory takes ``now``.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sippet.headers import MediaType, TokenParams
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.responses import response_to
from sippet.uri import URI


class Check(enum.StrEnum):
    """The §8.2 checks, in the order ``check_request`` runs them."""

    METHOD = "method"
    URI_SCHEME = "uri_scheme"
    URI_OURS = "uri_ours"
    MERGED = "merged"
    REQUIRE = "require"
    CONTENT = "content"
    ACCEPT = "accept"


ALL_CHECKS: tuple[Check, ...] = tuple(Check)


@dataclass(frozen=True)
class UASPolicy:
    """What a UAS supports, for the checks.

    - ``methods``: the methods it answers, in the order Allow lists them (ACK and CANCEL
      belong in it when INVITE does).
    - ``schemes``: Request-URI schemes it takes (lowercase).
    - ``is_ours``: whether a Request-URI is one it accepts requests for; ``None`` takes
      every URI.
    - ``extensions``: option tags it understands (Require; RFC 3261 §19.2).
    - ``content_types``: body types it understands (``"application/sdp"``); ``"*/*"``
      would take any. Multipart bodies are taken or refused as a whole.
    - ``content_encodings``: content codings it can undo (``identity`` always).
    - ``content_languages``: languages it understands; ``None`` takes any.
    - ``answer_types``: per method, the body types its answer carries; the Accept check
      refuses a request whose Accept excludes them all. A method not listed is not checked
      (its answer carries no body).
    """

    methods: Sequence[Method | str] = (
        Method.INVITE,
        Method.ACK,
        Method.CANCEL,
        Method.BYE,
        Method.OPTIONS,
    )
    schemes: Collection[str] = frozenset({"sip", "sips"})
    is_ours: Callable[[URI], bool] | None = None
    extensions: Collection[str] = frozenset()
    content_types: Collection[str] = frozenset({"application/sdp"})
    content_encodings: Collection[str] = frozenset()
    content_languages: Collection[str] | None = None
    answer_types: Mapping[str, Collection[str]] = field(
        default_factory=lambda: {"INVITE": ("application/sdp",), "OPTIONS": ("application/sdp",)}
    )


def check_request(
    request: Message,
    policy: UASPolicy,
    *,
    checks: Iterable[Check] | None = None,
    merged: MergedRequests | None = None,
    now: float = 0.0,
    to_tag: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Message | None:
    """The first refusal among ``checks`` (run in §8.2 order whatever order they are
    given in), or ``None`` when the request passes them all.

    ``checks=None`` runs them all (``Check.MERGED`` only when ``merged`` is given).
    ``Check.MERGED`` needs ``merged`` (and ``now``); it also records the request there
    when it passes. ``to_tag`` is the tag of every response to this request (§8.2.6.2);
    ``extra`` headers (Server...) go into the refusal.
    """
    if _method_of(request) == Method.ACK:
        return None
    if checks is None:
        wanted = set(ALL_CHECKS) if merged is not None else set(ALL_CHECKS) - {Check.MERGED}
    else:
        wanted = set(checks)
    if Check.MERGED in wanted and merged is None:
        raise ValueError("Check.MERGED needs a MergedRequests memory")
    for check in ALL_CHECKS:
        if check not in wanted:
            continue
        if check is Check.MERGED:
            assert merged is not None
            refusal = check_merged(request, merged, now, to_tag=to_tag)
        else:
            refusal = _SIMPLE[check](request, policy, to_tag)
        if refusal is not None:
            if extra:
                refusal.headers.update(extra)
            return refusal
    return None


# -- §8.2.1 Method Inspection ----------------------------------------------------------------


def check_method(request: Message, policy: UASPolicy, to_tag: str | None = None) -> Message | None:
    """405 with Allow for a known method this UAS does not support (§8.2.1); 501 with Allow
    for a method it does not know at all (§21.5.2; RFC 4475 intmeth, esc02)."""
    method = _method_of(request)
    if method in policy.methods:
        return None
    status = 405 if isinstance(method, Method) else 501
    return response_to(request, status, to_tag=to_tag, extra={"allow": list(policy.methods)})


# -- §8.2.2.1 To and Request-URI --------------------------------------------------------------


def check_uri_scheme(
    request: Message, policy: UASPolicy, to_tag: str | None = None
) -> Message | None:
    """416 for a Request-URI scheme this UAS does not take (§8.2.2.1; RFC 4475 unkscm,
    novelsc)."""
    if _request_uri(request).scheme.lower() in policy.schemes:
        return None
    return response_to(request, 416, to_tag=to_tag)


def check_uri_ours(
    request: Message, policy: UASPolicy, to_tag: str | None = None
) -> Message | None:
    """404 when the application's ``is_ours`` predicate refuses the Request-URI (§8.2.2.1)."""
    if policy.is_ours is None or policy.is_ours(_request_uri(request)):
        return None
    return response_to(request, 404, to_tag=to_tag)


# -- §8.2.2.2 Merged Requests ----------------------------------------------------------------

# RFC 3261 §17.2: a server transaction lives at most 64*T1 after its final response
# (Timers H, J, L); the request arrives at most 64*T1 after the first copy (Timer F/B at
# the client). Twice that covers any copy that can still be merged.
DEFAULT_MERGE_WINDOW = 64.0
# Bound on the requests remembered (about 200 bytes each): a flood of new requests pushes
# the oldest out early rather than growing without limit.
DEFAULT_MERGE_CAPACITY = 10_000


class MergedRequests:
    """Memory of the requests seen without a To tag, for §8.2.2.2: (From tag, Call-ID,
    CSeq) -> the top Via that carried it, kept ``window`` seconds and at most ``capacity``
    entries (the oldest go first). Sans-I/O: every call takes ``now``."""

    __slots__ = ("_seen", "capacity", "window")

    def __init__(
        self, *, window: float = DEFAULT_MERGE_WINDOW, capacity: int = DEFAULT_MERGE_CAPACITY
    ) -> None:
        if window <= 0 or capacity <= 0:
            raise ValueError("window and capacity must be positive")
        self.window = window
        self.capacity = capacity
        self._seen: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def is_merged(self, request: Message, now: float) -> bool:
        """True when ``request`` repeats the From tag, Call-ID and CSeq of a request that
        came through another path (another top Via branch or sent-by): a fork that came
        back. Otherwise the request is remembered (a retransmission refreshes nothing)."""
        self._expire(now)
        headers = request.headers
        if "tag" in headers["to"].params:
            return False  # §8.2.2.2 applies to requests outside a dialog only
        cseq = headers["cseq"]
        key = (headers["from"].params.get("tag"), headers["call_id"], cseq[0], str(cseq[1]))
        via = headers["via"][0]
        path = (via.params.get("branch"), str(via.protocol).upper(), via.sent_by)
        known = self._seen.get(key)
        if known is not None:
            return known[0] != path
        if len(self._seen) >= self.capacity:
            self._seen.popitem(last=False)
        self._seen[key] = (path, now + self.window)
        return False

    def _expire(self, now: float) -> None:
        seen = self._seen
        while seen:
            key, (_path, until) = next(iter(seen.items()))
            if until > now:
                return
            del seen[key]


def check_merged(
    request: Message, merged: MergedRequests, now: float, *, to_tag: str | None = None
) -> Message | None:
    """482 (Loop Detected) for a merged request (§8.2.2.2)."""
    if not merged.is_merged(request, now):
        return None
    return response_to(request, 482, to_tag=to_tag)


# -- §8.2.2.3 Require ------------------------------------------------------------------------


def check_require(request: Message, policy: UASPolicy, to_tag: str | None = None) -> Message | None:
    """420 with Unsupported listing the Require option tags not understood (§8.2.2.3;
    RFC 4475 bext01). Require in a CANCEL is ignored."""
    if _method_of(request) == Method.CANCEL:
        return None
    unknown = [tag for tag in request.headers.get("require", ()) if tag not in policy.extensions]
    if not unknown:
        return None
    return response_to(request, 420, to_tag=to_tag, extra={"unsupported": unknown})


# -- §8.2.3 Content Processing ---------------------------------------------------------------


def check_content(request: Message, policy: UASPolicy, to_tag: str | None = None) -> Message | None:
    """415 for a body whose type, encoding or language is not understood (§8.2.3), with
    the Accept, Accept-Encoding and Accept-Language headers of the parts that failed; a
    body marked optional (Content-Disposition ``handling=optional``) is never refused.
    400 for a body without Content-Type (§20.15: MUST be present)."""
    if not request.body:
        return None
    headers = request.headers
    content_type: MediaType | None = headers.get("content_type")
    if content_type is None:
        return response_to(request, 400, "Bad Request (body without Content-Type)", to_tag=to_tag)
    disposition: TokenParams | None = headers.get("content_disposition")
    handling = None if disposition is None else disposition.params.get("handling")
    if handling is not None and handling.lower() == "optional":
        return None
    extra: dict[str, Any] = {}
    if not _type_understood(content_type.media, policy.content_types):
        extra["accept"] = [_media_type(text) for text in sorted(policy.content_types)]
    codings = policy.content_encodings
    if any(
        c.lower() != "identity" and c.lower() not in codings
        for c in headers.get("content_encoding", ())
    ):
        extra["accept_encoding"] = [TokenParams(c, {}) for c in ("identity", *sorted(codings))]
    languages = policy.content_languages
    if languages is not None and any(
        tag.lower() not in languages for tag in headers.get("content_language", ())
    ):
        extra["accept_language"] = [TokenParams(tag, {}) for tag in sorted(languages)]
    if not extra:
        return None
    return response_to(request, 415, to_tag=to_tag, extra=extra)


# -- §21.4.7 Accept --------------------------------------------------------------------------


def check_accept(request: Message, policy: UASPolicy, to_tag: str | None = None) -> Message | None:
    """406 when the request's Accept admits none of the types the answer would carry
    (``policy.answer_types`` for its method; RFC 4475 sdp01). A request without Accept
    passes (§20.1: absent, ``application/sdp`` is assumed, which the answer is expected to
    carry); an empty Accept admits nothing (§20.1)."""
    produced = policy.answer_types.get(str(_method_of(request)))
    accept: list[MediaType] | None = request.headers.get("accept")
    if not produced or accept is None:
        return None
    for text in produced:
        wanted = _media_type(text).media
        if any(_accepts(value, wanted) for value in accept):
            return None
    return response_to(request, 406, to_tag=to_tag)


# -- helpers ---------------------------------------------------------------------------------

_SIMPLE: dict[Check, Callable[[Message, UASPolicy, str | None], Message | None]] = {
    Check.METHOD: check_method,
    Check.URI_SCHEME: check_uri_scheme,
    Check.URI_OURS: check_uri_ours,
    Check.REQUIRE: check_require,
    Check.CONTENT: check_content,
    Check.ACCEPT: check_accept,
}


def _method_of(request: Message) -> Method | str:
    line = request.start_line
    if not isinstance(line, RequestLine):
        raise ValueError("the UAS checks take a request")
    return line.method


def _request_uri(request: Message) -> URI:
    line = request.start_line
    assert isinstance(line, RequestLine)
    return line.request_uri


def _media_type(text: str) -> MediaType:
    kind, _, subtype = text.lower().partition("/")
    return MediaType((kind, subtype or "*"), {})


def _type_understood(media: tuple[str, str], understood: Collection[str]) -> bool:
    kind, subtype = media
    return f"{kind}/{subtype}" in understood or f"{kind}/*" in understood or "*/*" in understood


def _accepts(value: MediaType, wanted: tuple[str, str]) -> bool:
    """RFC 3261 §20.1 (media ranges as in RFC 2616 §14.1): ``*/*``, ``type/*`` or the exact
    type, with a q above 0."""
    kind, subtype = value.media
    if kind not in ("*", wanted[0]) or subtype not in ("*", wanted[1]):
        return False
    q = value.params.get("q")
    try:
        return q is None or float(q) > 0
    except ValueError:
        return True  # an unreadable q is not a refusal


__all__ = [
    "ALL_CHECKS",
    "DEFAULT_MERGE_CAPACITY",
    "DEFAULT_MERGE_WINDOW",
    "Check",
    "MergedRequests",
    "UASPolicy",
    "check_accept",
    "check_content",
    "check_merged",
    "check_method",
    "check_request",
    "check_require",
    "check_uri_ours",
    "check_uri_scheme",
]
