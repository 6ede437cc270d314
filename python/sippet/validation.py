"""Checks that a parsed message is usable: the rules the grammar alone cannot express.

The parser accepts anything well formed; ``validate`` then checks what RFC 3261 needs
before a message may enter the transaction layer, and says which response a server should
answer a bad request with (``ValidationError.status_code``).

The rules, in the order they are checked (the first failure is raised):

1. SIP version 2.0 in the start line (RFC 3261 §7.1; §21.5.6 505 Version Not Supported,
   RFC 4475 §3.1.2.16 badvers) -> 505.
2. To, From, CSeq, Call-ID and at least one Via are present (§8.1.1, RFC 4475 §3.3.1
   insuf) -> 400. Max-Forwards is *not* required: RFC 2543 requests do not carry it
   (RFC 4475 §3.4.1 inv2543), and a UAS is told to accept them.
3. A Content-Length, when present, equals the body length in bytes (§20.14) -> 400.
4. The From header has a non-empty tag (§8.1.1.3) -> 400, except where RFC 2543 allows
   none: a request whose bottom Via (the UAC's) has a branch without the ``z9hG4bK``
   magic cookie, or no branch, comes from a 2543 UAC, which did not have to tag From
   (§12.1.1: "A UAS MUST be prepared to receive a request without a tag in the From
   field"); and a response copies its request's From (§8.2.6.2), so it may lack the tag
   too (RFC 4475 inv2543 must be answerable). A tag without a value (``;tag``,
   ``;tag=``) is always refused.
5. Requests only: the CSeq method equals the request method (§8.1.1.5; RFC 4475
   mismatch01 -> 400). When the request method is one sippet does not know, the answer
   is 501 instead (RFC 4475 §3.1.2.18 mismatch02 prefers 501 Not Implemented).
6. With ``transport`` (the protocol the message arrived on, e.g. ``"UDP"``): the top Via
   has version 2.0 and its protocol is that transport (§18.2.1, §18.1.2), and its branch,
   when it has the magic cookie, has something after it (RFC 4475 §3.2.1 badbranch: a
   bare cookie identifies no transaction) -> 400. A branch without the cookie is accepted
   as an RFC 2543 peer (§17.2.3 defines how to match such requests) unless
   ``allow_rfc2543=False``; Sippet required the cookie on every Via, which rejects any
   request that went through a 2543 proxy.

``allow_rfc2543=False`` turns the RFC 2543 allowances (untagged From in requests and
responses, branch without the cookie) into errors for an element that does not want them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sippet.errors import ValidationError
from sippet.ids import MAGIC_COOKIE
from sippet.method import Method

if TYPE_CHECKING:
    from sippet.message import Message

_REQUIRED: tuple[tuple[str, str], ...] = (
    ("to", "To"),
    ("from", "From"),
    ("cseq", "CSeq"),
    ("call_id", "Call-ID"),
    ("via", "Via"),
)


def validate(message: Message, transport: str | None = None, *, allow_rfc2543: bool = True) -> None:
    """Raise ``sippet.ValidationError`` (``reason``, ``status_code``) if ``message`` breaks
    one of the rules in this module's docstring; return ``None`` if it is valid."""
    _check_version(message)
    _check_required(message)
    _check_content_length(message)
    vias = message.headers["via"]
    top_via = vias[0]
    _check_from_tag(message, allow_rfc2543 and not _has_cookie(vias[-1]), allow_rfc2543)
    if message.is_request:
        _check_cseq_method(message)
    if transport is not None:
        _check_top_via(top_via, transport, allow_rfc2543)


def is_valid(message: Message, transport: str | None = None, *, allow_rfc2543: bool = True) -> bool:
    """``True`` when ``validate`` would not raise."""
    try:
        validate(message, transport, allow_rfc2543=allow_rfc2543)
    except ValidationError:
        return False
    return True


def _fail(text: str, reason: str, status_code: int = 400) -> ValidationError:
    return ValidationError(text, reason=reason, status_code=status_code)


def _check_version(message: Message) -> None:
    version = message.start_line.version
    if tuple(version) != (2, 0):
        raise _fail(f"unsupported SIP version {version!r}", "unsupported_version", 505)


def _check_required(message: Message) -> None:
    headers = message.headers
    missing = [name for key, name in _REQUIRED if key not in headers]
    if missing:
        raise _fail(f"missing header(s): {', '.join(missing)}", "missing_header")
    via = headers["via"]
    if not isinstance(via, list) or not via:
        raise _fail("Via must hold at least one value", "missing_header")


def _check_content_length(message: Message) -> None:
    length = message.headers.get("content_length")
    if length is not None and length != len(message.body):
        raise _fail(
            f"Content-Length {length} but the body has {len(message.body)} bytes",
            "content_length_mismatch",
        )


def _params_of(value: Any, header: str) -> dict[str, str | None]:
    """The parameters of a name-addr (From/To) or Via value, checking its shape."""
    try:
        params = value[-1]
    except (TypeError, IndexError):
        params = None
    if not isinstance(params, dict):
        raise _fail(f"{header} has no parameters field: {value!r}", "invalid_header")
    return params


def _has_cookie(via: Any) -> bool:
    branch = _params_of(via, "Via").get("branch")
    return branch is not None and branch.startswith(MAGIC_COOKIE)


def _check_from_tag(message: Message, rfc2543_origin: bool, allow_rfc2543: bool) -> None:
    params = _params_of(message.headers["from"], "From")
    if params.get("tag"):
        return
    # RFC 3261 §12.1.1: a 2543 UAC may omit the From tag. A request shows it by its bottom
    # Via (the UAC's own: proxies above it may be RFC 3261 ones); a response copies the
    # From of its request (§8.2.6.2), so its missing tag is the peer's affair: refusing it
    # would leave a 2543 request unanswerable.
    if "tag" not in params and (rfc2543_origin or (allow_rfc2543 and message.is_response)):
        return
    raise _fail("From has no tag", "missing_from_tag")


def _check_cseq_method(message: Message) -> None:
    method = message.start_line[0]
    try:
        cseq_method = message.headers["cseq"][1]
    except (TypeError, IndexError) as exc:
        raise _fail(f"malformed CSeq {message.headers['cseq']!r}", "invalid_header") from exc
    if str(cseq_method) == str(method):
        return
    if isinstance(method, Method):
        raise _fail(f"CSeq method {cseq_method} differs from {method}", "cseq_method_mismatch")
    # RFC 4475 §3.1.2.18: an unknown method is answered 501 even when CSeq disagrees.
    raise _fail(f"unknown method {method} (CSeq says {cseq_method})", "cseq_method_mismatch", 501)


def _check_top_via(via: Any, transport: str, allow_rfc2543: bool) -> None:
    try:
        version, protocol = via[0], via[1]
    except (TypeError, IndexError) as exc:
        raise _fail(f"malformed Via {via!r}", "invalid_header") from exc
    if tuple(version) != (2, 0):
        raise _fail(f"top Via has version {version!r}", "via_version_mismatch")
    if str(protocol).upper() != transport.upper():
        raise _fail(
            f"top Via protocol {protocol} but the message came over {transport}",
            "via_protocol_mismatch",
        )
    branch = _params_of(via, "Via").get("branch")
    if branch is not None and branch.startswith(MAGIC_COOKIE):
        if len(branch) == len(MAGIC_COOKIE):
            raise _fail("top Via branch is the bare magic cookie", "invalid_branch")
        return
    if not allow_rfc2543:
        raise _fail("top Via branch lacks the z9hG4bK magic cookie", "invalid_branch")
