"""Stateless error responses to requests the stack cannot accept (RFC 3261 §8.2.6, §18.3).

A request that fails to parse still gets an answer when its Via, From, To, Call-ID and CSeq
parsed (``ParseError.reply_headers``), and so does a request that parses but fails
validation. Sippet dropped both silently. An ACK is never answered (§17: an ACK gets no
response), and nothing is answered without the headers a response must carry.
"""

from __future__ import annotations

from typing import Any

from sippet.message import Message, response_from_headers
from sippet.method import Method
from sippet.status import reason_phrase

_REQUIRED = ("via", "from", "to", "call_id", "cseq")


def error_response(headers: dict[str, Any], status_code: int, reason: str) -> Message | None:
    """The response to send for a rejected request, or ``None`` when none can be sent.

    ``headers`` holds the typed headers that parsed; ``reason`` (a machine-readable code)
    is shown in the phrase, e.g. ``"Bad Request (multiple_definition)"``. A To without a
    tag gets one (§8.2.6.2).
    """
    if any(not headers.get(key) for key in _REQUIRED):
        return None
    method = headers["cseq"][1]
    if method == Method.ACK:
        return None
    phrase = f"{reason_phrase(status_code)} ({reason})" if reason else reason_phrase(status_code)
    return response_from_headers(headers, status_code, phrase, method=str(method))
