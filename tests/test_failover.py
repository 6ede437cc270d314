"""``sippet.stack.failover``: the bookkeeping of RFC 3263 §4.3 fail-over, on values alone
(the network paths are in tests/resolve/test_failover_stack.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.stack.failover import Attempts, retry_request
from sippet.stack.routing import NextHop
from sippet.stack.transport_layer import Peer
from sippet.transactions import ClientKey
from sippet.uri import URI


class FakeTransport:
    def __init__(self, protocol: str, port: int) -> None:
        self.protocol = protocol
        self.local_address = ("192.0.2.1", port)


UDP = FakeTransport("UDP", 5060)
TCP = FakeTransport("TCP", 5070)
HOP = NextHop("UDP", "example.com", 5060)


def peer(transport: FakeTransport, n: int) -> Peer:
    return Peer(transport, (f"198.51.100.{n}", 5060))  # type: ignore[arg-type]


def options(branch: str = "z9hG4bK-first") -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy("192.0.2.1", 5060), {"branch": branch, "rport": None})],
        "from": NameAddr("", URI.parse("sip:a@example.com"), {"tag": "t"}),
        "to": NameAddr("", URI.parse("sip:b@example.com"), {}),
        "call_id": "c",
        "cseq": CSeq(7, Method.OPTIONS),
        "max_forwards": 70,
    }
    return Message(RequestLine(Method.OPTIONS, URI.parse("sip:b@example.com")), headers)


KEY = ClientKey("z9hG4bK-first", "OPTIONS")


def test_retry_has_a_new_branch_and_keeps_the_rest() -> None:
    original = options()
    retry = retry_request(original, peer(UDP, 1), peer(UDP, 2))
    via = retry.headers["via"][0]
    assert via.params["branch"] != "z9hG4bK-first"
    assert via.params["branch"].startswith("z9hG4bK")
    assert via.params["rport"] is None
    assert retry.headers["cseq"] == CSeq(7, Method.OPTIONS)  # §4.3: identical but the branch
    assert original.headers["via"][0].params["branch"] == "z9hG4bK-first"  # not changed


def test_retry_over_another_transport_names_it_in_the_via() -> None:
    retry = retry_request(options(), peer(UDP, 1), peer(TCP, 2))
    via = retry.headers["via"][0]
    assert via.protocol == "TCP"
    assert via.sent_by == SentBy("192.0.2.1", 5070)  # the TCP transport's own port


def test_attempts_walk_the_targets_then_give_up() -> None:
    attempts = Attempts()
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [peer(UDP, 2), peer(UDP, 3)])
    first = attempts.next_attempt(KEY)
    assert first is not None
    request, _, target = first
    assert target == peer(UDP, 2)
    assert attempts.original(request.current) == KEY
    assert attempts.current(KEY) == request.current
    second = attempts.next_attempt(request.current)
    assert second is not None and second[2] == peer(UDP, 3)
    assert attempts.next_attempt(second[0].current) is None  # none left
    assert len(attempts) == 0
    assert attempts.original(second[0].current) == second[0].current  # forgotten


def test_an_answered_attempt_does_not_fail_over() -> None:
    attempts = Attempts()
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [peer(UDP, 2)])
    attempts.answered(KEY)  # a 1xx came: that server was reached (§4.3)
    assert attempts.next_attempt(KEY) is None
    assert len(attempts) == 0


def test_one_target_keeps_nothing() -> None:
    attempts = Attempts()
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [])
    assert len(attempts) == 0 and attempts.next_attempt(KEY) is None


def test_targets_are_bounded() -> None:
    attempts = Attempts(max_targets=2)
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [peer(UDP, n) for n in range(2, 10)])
    step = attempts.next_attempt(KEY)
    assert step is not None
    assert attempts.next_attempt(step[0].current) is None  # two targets in all


def test_a_503_keeps_the_request_for_the_core_and_is_bounded() -> None:
    attempts = Attempts(max_retryable=1)
    other = ClientKey("z9hG4bK-other", "OPTIONS")
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [peer(UDP, 2)])
    attempts.start(other, options("z9hG4bK-other"), HOP, peer(UDP, 1), [peer(UDP, 2)])
    attempts.final(KEY, 503)
    attempts.final(other, 503)  # pushes KEY out: at most one kept
    assert attempts.retry_after_503(KEY) is None
    step = attempts.retry_after_503(other)
    assert step is not None and step[2] == peer(UDP, 2)
    assert attempts.original(step[0].current) == other


def test_a_final_other_than_503_forgets_the_request() -> None:
    attempts = Attempts()
    attempts.start(KEY, options(), HOP, peer(UDP, 1), [peer(UDP, 2)])
    attempts.final(KEY, 486)
    assert attempts.retry_after_503(KEY) is None
    assert len(attempts) == 0


def test_cancel_alias_lives_as_long_as_its_transaction() -> None:
    attempts = Attempts()
    sent = ClientKey("z9hG4bK-retry", "CANCEL")
    original = ClientKey("z9hG4bK-first", "CANCEL")
    attempts.alias_cancel(sent, original)
    assert attempts.original(sent) == original
    attempts.ended(sent)
    assert attempts.original(sent) == sent and len(attempts) == 0


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Attempts(max_targets=0)
