"""The one response builder: RFC 3261 §8.2.6 ("Generating the Response").

Every response sippet builds comes from here: ``Message.to_response``, the transaction
layer's 100 (Trying), the stack's stateless answers to requests it cannot accept, and the
UAS checks of ``sippet.endpoint``. The rules, all in ``response_from_headers``:

- Via (every value, in order), From, Call-ID and CSeq are copied (§8.2.6.2).
- To is copied; above 100, a To without a tag gets ``to_tag`` or a new random tag
  (§8.2.6.2: "the UAS MUST add a tag"; one tag for every response to one request, so the
  caller passes the same ``to_tag`` to each). A 100 gets no tag (§8.2.6.2 allows one; a
  100 never creates a dialog, so adding one would only waste the tag).
- Timestamp is copied into a 100 (Trying) (§8.2.6.1); the caller adds any delay.
- Record-Route is copied, in order, into a 101-299 response to a method that can create a
  dialog: INVITE (§12.1.1), SUBSCRIBE and NOTIFY (RFC 6665 §4.1.2.4, §4.2.1), REFER
  (RFC 3515 §2.4.4, which creates a subscription). Those are the responses that can
  establish a dialog (an early one for 101-199 with a To tag). Other methods never
  create a dialog, so a route set in their responses would mean nothing; a re-INVITE's
  2xx gets the copy too, which is harmless and what the proxies on the path expect.
- A header field that did not parse (``Unparsed`` from ``ParseError.reply_raw``) is copied
  as its raw text (§8.2.6.2 asks for the copy whatever the request held; RFC 4475
  scalar02, quotbal, badaspec, baddn are answered 400 this way). An unparsed To gets no
  tag: its text cannot be edited safely, and a 400 creates no dialog.

Headers missing from the request are skipped. A response can only be routed back by its
top Via (§18.2.2), so the stateless builders answer ``None`` without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sippet.errors import ParseError
from sippet.header_ops import copy_value
from sippet.headers import NameAddr, Unparsed
from sippet.ids import create_tag
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method
from sippet.status import REASON_PHRASES, status_class
from sippet.status import reason_phrase as default_reason_phrase

# RFC 3261 §12.1.1, RFC 6665 §4.1.2.4 and §4.2.1, RFC 3515 §2.4.4: methods whose
# 101-299 responses can establish a dialog.
DIALOG_CREATING: frozenset[str] = frozenset({"INVITE", "SUBSCRIBE", "NOTIFY", "REFER"})

# RFC 3261 §8.2.6.2: copied into every response, in this order.
_COPIED: tuple[str, ...] = ("via", "from", "to", "call_id", "cseq")

# §8.2.6.2 header fields the core may hand back as raw text (``ParseError.reply_raw``).
_RAW_COPIED: tuple[str, ...] = ("from", "to", "call_id", "cseq")


def response_to(
    request: Message,
    status_code: int,
    reason_phrase: str | None = None,
    *,
    to_tag: str | None = None,
    extra: Mapping[str, Any] | None = None,
    share: bool = False,
) -> Message:
    """The response to ``request`` (RFC 3261 §8.2.6), with ``extra`` headers added.

    ``extra`` holds the headers the status needs (Allow for 405, Unsupported for 420,
    Contact for 3xx...) or any other: they are set after the copied ones and win over
    them. ``share=True`` shares the copied values with the request instead of copying
    them (faster; only when neither is changed afterwards). Raises ``ValueError`` for a
    response, for an ACK (RFC 3261 §17: an ACK is never answered) and for a status
    outside 100-699.
    """
    line = request.start_line
    if not isinstance(line, RequestLine):
        raise ValueError("a response answers a request")
    method = line.method  # a Method is its text (StrEnum): no str() needed
    if method == Method.ACK:
        raise ValueError("an ACK is never answered (RFC 3261 §17)")
    return response_from_headers(
        request.headers,
        status_code,
        reason_phrase,
        to_tag=to_tag,
        method=method,
        extra=extra,
        share=share,
    )


def response_from_headers(
    request_headers: Mapping[str, Any],
    status_code: int,
    reason_phrase: str | None = None,
    *,
    to_tag: str | None = None,
    method: str | None = None,
    extra: Mapping[str, Any] | None = None,
    share: bool = False,
) -> Message:
    """A response built from a request's headers by the rules of this module.

    For when there is no parsed request: ``ParseError.reply_headers``, or the headers of a
    request that failed validation. ``method`` (for the Record-Route rule) defaults to the
    CSeq method. Raises ``ValueError`` for a status outside 100-699.
    """
    if type(status_code) is not int or not 100 <= status_code <= 699:
        status_class(status_code)  # raises the ValueError
    if reason_phrase is None:
        reason_phrase = REASON_PHRASES.get(status_code) or default_reason_phrase(status_code)
    headers: dict[str, Any] = {}
    get = request_headers.get
    for key in _COPIED:
        value = get(key)
        if value is None:
            continue
        if not share:
            value = copy_value(value)
        elif type(value) is list:
            value = list(value)  # a response may change its lists (a proxy pops its Via)
        headers[key] = value
    to = headers.get("to")
    if status_code > 100 and isinstance(to, tuple) and not isinstance(to, Unparsed):
        display_name, uri, params = to
        if "tag" not in params:
            tag = create_tag() if to_tag is None else to_tag
            headers["to"] = NameAddr(display_name, uri, {**params, "tag": tag})
    if status_code == 100:
        timestamp = request_headers.get("timestamp")
        if timestamp is not None:
            headers["timestamp"] = timestamp  # immutable: shared either way
    elif status_code < 300:
        if method is None:
            method = _cseq_method(request_headers)
        record_route = request_headers.get("record_route")
        if record_route and method in DIALOG_CREATING:
            headers["record_route"] = list(record_route) if share else copy_value(record_route)
    if extra:
        headers.update(extra)
    return Message(StatusLine(status_code, reason_phrase), headers)


def trying(invite: Message) -> Message:
    """100 (Trying) for an INVITE (RFC 3261 §17.2.1, §8.2.6.1): the §8.2.6.2 headers and
    the Timestamp, shared with the request (the transaction layer never changes either),
    no To tag. On the path of every INVITE, so it copies nothing it need not."""
    headers = invite.headers
    copied: dict[str, Any] = {}
    for key in _COPIED:
        value = headers.get(key)
        if value is not None:
            copied[key] = value
    timestamp = headers.get("timestamp")
    if timestamp is not None:
        copied["timestamp"] = timestamp
    return Message(StatusLine(100, "Trying"), copied)


def response_to_unparsable(
    error: ParseError, *, to_tag: str | None = None, phrase_reason: bool = True
) -> Message | None:
    """The response to a request that did not parse (RFC 3261 §8.2.6; RFC 4475 §3.1.2).

    Status ``error.status_code`` (400, 505, 513...); with ``phrase_reason`` the reason
    code is shown in the phrase (``"Bad Request (value_out_of_range)"``). The headers that
    parsed (``error.reply_headers``) are copied as values, those that did not
    (``error.reply_raw``) as their raw text. ``None`` when there is no top Via to send the
    response to (§18.2.2), or when the request was an ACK (never answered, §17).
    """
    typed = error.reply_headers or {}
    raw = error.reply_raw or {}
    headers: dict[str, Any] = dict(typed)
    for key in _RAW_COPIED:
        if key not in headers and key in raw:
            headers[key] = Unparsed(raw[key])
    return _stateless(headers, error.status_code, error.reason if phrase_reason else "", to_tag)


def error_response(
    headers: Mapping[str, Any], status_code: int, reason: str, *, to_tag: str | None = None
) -> Message | None:
    """The stateless answer to a request that parsed but cannot be accepted (a
    ``ValidationError``): ``status_code`` with ``reason`` in the phrase when given.

    ``None`` when the request has no top Via or is an ACK. Missing From, To, Call-ID or
    CSeq do not prevent an answer (RFC 4475 insuf: "ideally respond 400"): the response
    copies what there is.
    """
    return _stateless(headers, status_code, reason, to_tag)


def _stateless(
    headers: Mapping[str, Any], status_code: int, reason: str, to_tag: str | None
) -> Message | None:
    vias = headers.get("via")
    if not isinstance(vias, list) or not vias:
        return None
    method = _cseq_method(headers)
    if method == Method.ACK:
        return None
    phrase = default_reason_phrase(status_code)
    if reason:
        phrase = f"{phrase} ({reason})"
    return response_from_headers(
        headers, status_code, phrase, to_tag=to_tag, method=method, share=False
    )


def _cseq_method(headers: Mapping[str, Any]) -> str | None:
    """The CSeq method, also from the raw text of a CSeq that did not parse."""
    cseq = headers.get("cseq")
    if isinstance(cseq, Unparsed):
        words = cseq.text.split()
        return words[-1] if len(words) > 1 else None
    try:
        return str(cseq[1])  # type: ignore[index]
    except (TypeError, IndexError):
        return None


__all__ = [
    "DIALOG_CREATING",
    "error_response",
    "response_from_headers",
    "response_to",
    "response_to_unparsable",
    "trying",
]
