"""Via branches of forwarded requests, made so that loops can be told from spirals.

RFC 3261 §16.6 step 8: a proxy that detects loops makes its branch of two parts; the first
makes it unique (§8.1.1.7), the second is a hash of every field that affects how the
request is processed. §16.3 step 4: when a request comes back carrying a Via the proxy
placed, the proxy computes that hash again; equal means a loop (482), different a spiral.

Our branch: ``z9hG4bK`` + unique part + ``.`` + loop part (both lowercase hex).

The loop part hashes the Request-URI as received, the To and From tags, the Call-ID, the
CSeq number, and the Route (after our own entries were removed), Proxy-Require and
Proxy-Authorization values. The method is left out (§16.6 step 8: a CANCEL and a non-2xx
ACK carry the INVITE's branch). The topmost Via, which §16.6 also lists, is left out: the
top Via of a request that comes back is the previous hop's, never the one we hashed, so
with it in the hash no loop would ever be found.
"""

from __future__ import annotations

import hashlib
import secrets

from sippet.ids import MAGIC_COOKIE
from sippet.message import Message, RequestLine

_UNIQUE_BYTES = 8  # 64 random bits: the unique part of a stateful branch
_HASH_CHARS = 16  # 64 bits of each hash, in hex


def _digest(*fields: object) -> str:
    text = "\x00".join(str(field) for field in fields)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]


def _tag(value: object) -> str:
    params = value[2] if isinstance(value, tuple) and len(value) == 3 else {}
    tag = params.get("tag") if isinstance(params, dict) else None
    return tag or ""


def loop_hash(request: Message) -> str:
    """The loop-detection part of the branch for ``request`` (as received, after route
    preprocessing, before any change made to forward it)."""
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    cseq = headers.get("cseq")
    return _digest(
        start.request_uri,
        _tag(headers.get("to")),
        _tag(headers.get("from")),
        headers.get("call_id", ""),
        cseq[0] if cseq else "",
        [str(route.uri) for route in headers.get("route", ())],
        headers.get("proxy_require", ()),
        headers.get("proxy_authorization", ()),
    )


def stateful_branch(request: Message) -> str:
    """A new branch for one client transaction: random unique part (§8.1.1.7)."""
    return f"{MAGIC_COOKIE}{secrets.token_hex(_UNIQUE_BYTES)}.{loop_hash(request)}"


def stateless_branch(request: Message) -> str:
    """The branch a stateless proxy gives ``request`` (RFC 3261 §16.11): the same for every
    retransmission, and for the CANCEL and non-2xx ACK of an INVITE.

    The unique part hashes the received top Via branch when it has the magic cookie; else
    (an RFC 2543 peer) the top Via, the To and From tags, the Call-ID, the CSeq number and
    the Request-URI, as §16.11 recommends.
    """
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    vias = headers.get("via") or ()
    top = vias[0] if vias else None
    received_branch = top.params.get("branch") if top is not None else None
    if received_branch and received_branch.startswith(MAGIC_COOKIE):
        unique = _digest("branch", received_branch, top.sent_by if top is not None else "")
    else:
        cseq = headers.get("cseq")
        unique = _digest(
            "rfc2543",
            top,
            _tag(headers.get("to")),
            _tag(headers.get("from")),
            headers.get("call_id", ""),
            cseq[0] if cseq else "",
            start.request_uri,
        )
    return f"{MAGIC_COOKIE}{unique}.{loop_hash(request)}"


def loop_part(branch: str | None) -> str | None:
    """The loop part of a branch we made, or ``None`` for any other branch."""
    if not branch or not branch.startswith(MAGIC_COOKIE):
        return None
    _, dot, loop = branch.partition(".")
    return loop if dot and len(loop) == _HASH_CHARS else None
