"""Messages the transaction layer makes itself: 100 (Trying) and the ACK of a non-2xx."""

from __future__ import annotations

from typing import Any

from sippet.headers import CSeq
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.responses import trying


def build_trying(invite: Message) -> Message:
    """100 (Trying) for an INVITE (§17.2.1), from the one response builder
    (``sippet.responses.trying``): the §8.2.6 headers and Timestamp, no To tag."""
    return trying(invite)


def build_ack(invite: Message, response: Message) -> Message:
    """The ACK of a 300-699 response, built by the client transaction (§17.1.1.3).

    Request-URI, Call-ID and From of the INVITE; To of the response (with its tag); the
    INVITE's top Via only; CSeq number of the INVITE with method ACK; the INVITE's Route
    header fields. Max-Forwards 70 (§8.1.1.6). Sent where the INVITE went.
    """
    request_line = invite.start_line
    assert isinstance(request_line, RequestLine)
    headers = invite.headers
    ack_headers: dict[str, Any] = {
        "via": [headers["via"][0]],
        "max_forwards": 70,
        "from": headers["from"],
        "to": response.headers["to"],
        "call_id": headers["call_id"],
        "cseq": CSeq(headers["cseq"].seq, Method.ACK),
    }
    route = headers.get("route")
    if route:
        ack_headers["route"] = route
    return Message(
        RequestLine(Method.ACK, request_line.request_uri, request_line.version),
        ack_headers,
        target=invite.target,
    )
