"""The parts of RFC 3261 §17.2.3 request matching that are not in the key.

For a request whose top Via branch carries the magic cookie, the key (branch, sent-by,
method) is the whole rule. For the RFC 2543 fallback the key holds Call-ID, From tag, CSeq
number, method and top Via (see ``keys.py``); these functions check the rest: the
Request-URI, and the To tag (the request's own for an INVITE or non-INVITE retransmission,
the one of the response the transaction sent for an ACK).
"""

from __future__ import annotations

from sippet.message import Message, RequestLine
from sippet.transactions.machine import Transaction


def to_tag(message: Message) -> str | None:
    to = message.headers.get("to")
    return None if to is None else to.params.get("tag")


def _request_uri(message: Message) -> object:
    line = message.start_line
    return line.request_uri if isinstance(line, RequestLine) else None


def legacy_request_matches(transaction: Transaction, request: Message) -> bool:
    """§17.2.3, RFC 2543 rules: a retransmission of the request (INVITE, or any other
    method but ACK) has the Request-URI and To tag of the request that created it.

    URIs are compared by value: a retransmission repeats the same bytes, so the §19.1.4
    equivalence rules (which forgive case and escaping differences) are not needed here.
    """
    original = transaction.request
    assert original is not None  # an RFC 2543 transaction keeps it (machine.keeps_request)
    return _request_uri(request) == _request_uri(original) and to_tag(request) == to_tag(original)


def legacy_ack_matches(transaction: Transaction, ack: Message) -> bool:
    """§17.2.3, RFC 2543 rules for ACK: the Request-URI of the INVITE, and the To tag of
    the response the transaction sent (which tells the ACK of a 2xx from the ACK of a
    non-2xx at a proxy that forwarded both)."""
    original = transaction.request
    assert original is not None  # an RFC 2543 transaction keeps it (machine.keeps_request)
    if _request_uri(ack) != _request_uri(original):
        return False
    sent = transaction.last_sent
    return sent is not None and to_tag(ack) == to_tag(sent)
