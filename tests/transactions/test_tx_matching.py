"""Matching (RFC 3261 §17.1.3, §17.2.3, §9.2), RFC 2543 fallback, stray messages."""

from __future__ import annotations

from typing import Any

from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.transactions import (
    ClientKey,
    DeliverRequest,
    DeliverResponse,
    Send,
    ServerKey,
    State,
    Terminated,
    TransactionLayer,
    keys,
)
from sippet.transactions.keys import LEGACY_PREFIX
from sippet.uri import URI
from tx_factory import BRANCH, ack_for, cancel_for, invite, kinds, request, response_to

SRC = ("192.0.2.1", 5060)


def only_key(actions: list[Any]) -> ServerKey:
    assert kinds(actions)[0] == "DeliverRequest"
    key = actions[0].key
    assert isinstance(key, ServerKey)
    return key


# -- RFC 3261 branch matching ------------------------------------------------------------


def test_sent_by_default_port_and_host_case_match() -> None:
    layer = TransactionLayer()
    first = request(host="PC33.Atlanta.com")
    key = only_key(layer.receive_request(first, SRC, False, 0.0))
    assert key.sent_by == SentBy("pc33.atlanta.com", 5060)
    again = request(host="pc33.atlanta.com", port=5060)
    assert layer.receive_request(again, SRC, False, 0.1) == []  # absorbed in Trying
    assert layer.server_count == 1


def test_tls_sent_by_defaults_to_5061() -> None:
    layer = TransactionLayer()
    key = only_key(layer.receive_request(request(protocol="TLS"), SRC, True, 0.0))
    assert key.sent_by.port == 5061
    assert layer.receive_request(request(protocol="TLS", port=5061), SRC, True, 0.1) == []
    other = layer.receive_request(request(protocol="TLS", port=5060), SRC, True, 0.2)
    assert only_key(other) != key


def test_same_branch_from_another_sent_by_is_another_transaction() -> None:
    layer = TransactionLayer()
    a = only_key(layer.receive_request(request(), SRC, False, 0.0))
    b = only_key(layer.receive_request(request(host="evil.example.com"), SRC, False, 0.0))
    assert a != b and layer.server_count == 2


def test_method_is_part_of_the_key() -> None:
    layer = TransactionLayer()
    inv = invite()
    layer.receive_request(inv, SRC, False, 0.0)
    cancel = cancel_for(inv)
    key = only_key(layer.receive_request(cancel, SRC, False, 0.1))
    assert key.method == "CANCEL" and key.branch == BRANCH
    assert layer.server_count == 2


def test_unknown_method_key_keeps_its_text() -> None:
    layer = TransactionLayer()
    key = only_key(layer.receive_request(request("FOO"), SRC, False, 0.0))
    assert key.method == "FOO"


# -- CANCEL (§9.2) -------------------------------------------------------------------------


def test_cancel_finds_the_proceeding_invite() -> None:
    layer = TransactionLayer()
    inv = invite()
    invite_key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    cancel = cancel_for(inv)
    layer.receive_request(cancel, SRC, False, 0.1)
    assert layer.find_invite_for_cancel(cancel) == invite_key
    assert layer.state_of(invite_key) is State.PROCEEDING
    # The TU answers 200 to the CANCEL and 487 to the INVITE, each in its transaction.
    cancel_key = ServerKey(BRANCH, "CANCEL", invite_key.sent_by)
    assert layer.send_response(response_to(cancel, 200), 0.2)[0].key == cancel_key
    terminated = response_to(inv, 487)
    assert layer.send_response(terminated, 0.2) == [Send(terminated, SRC, invite_key)]
    assert layer.state_of(invite_key) is State.COMPLETED


def test_cancel_matching_nothing() -> None:
    layer = TransactionLayer()
    assert layer.find_invite_for_cancel(cancel_for(invite())) is None
    layer.receive_request(request(Method.OPTIONS), SRC, False, 0.0)  # same branch, not INVITE
    assert layer.find_invite_for_cancel(cancel_for(invite())) is None


def test_client_cancel_is_its_own_client_transaction() -> None:
    layer = TransactionLayer()
    inv = invite()
    layer.send_request(inv, "d", False, 0.0)
    cancel = cancel_for(inv)
    cancel_key, _ = layer.send_request(cancel, "d", False, 0.1)
    assert cancel_key == ClientKey(BRANCH, "CANCEL")
    ok = response_to(cancel, 200)
    assert layer.receive_response(ok, 0.2) == [DeliverResponse(ok, cancel_key)]
    terminated = response_to(inv, 487)
    actions = layer.receive_response(terminated, 0.3)
    assert actions[0] == DeliverResponse(terminated, ClientKey(BRANCH, "INVITE"))
    assert kinds(actions) == ["DeliverResponse", "Send"]  # the ACK


# -- stray messages ------------------------------------------------------------------------


def test_stray_response_goes_to_tu_without_key() -> None:
    layer = TransactionLayer()
    stray = response_to(invite(), 200)
    assert layer.receive_response(stray, 0.0) == [DeliverResponse(stray, None)]
    no_branch = response_to(invite(branch=None), 200)
    assert layer.receive_response(no_branch, 0.0) == [DeliverResponse(no_branch, None)]


def test_ack_matching_nothing_goes_to_tu_without_key() -> None:
    layer = TransactionLayer()
    inv = invite()
    ack = ack_for(inv, response_to(inv, 200), branch="z9hG4bKack2xx")
    assert layer.receive_request(ack, SRC, False, 0.0) == [DeliverRequest(ack, None)]
    assert len(layer) == 0


def test_ack_does_not_match_a_non_invite_transaction() -> None:
    layer = TransactionLayer()
    opts = request(Method.OPTIONS)
    layer.receive_request(opts, SRC, False, 0.0)
    ack = Message(RequestLine(Method.ACK, opts.start_line.request_uri), dict(opts.headers))  # type: ignore[union-attr]
    ack.headers["cseq"] = CSeq(1, Method.ACK)
    assert layer.receive_request(ack, SRC, False, 0.1) == [DeliverRequest(ack, None)]


# -- RFC 2543 fallback ---------------------------------------------------------------------


def inv2543(**kw: Any) -> Message:
    """Shaped like RFC 4475 §3.4.1 inv2543: no branch, no From tag, no Max-Forwards."""
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy("iftgw.example.com", None), {})],
        "from": NameAddr(
            "",
            URI("sip", "+13035551111", host="ift.client.example.net", parameters={"user": "phone"}),
            {},
        ),
        "to": NameAddr(
            "", URI("sip", "+16505552222", host="ss1.example.net", parameters={"user": "phone"}), {}
        ),
        "call_id": "inv2543.1717@ift.client.example.com",
        "cseq": CSeq(56, Method.INVITE),
    }
    headers.update(kw)
    return Message(RequestLine(Method.INVITE, URI("sip", "UserB", host="example.com")), headers)


def ack_2543(inv: Message, response: Message) -> Message:
    headers = dict(inv.headers)
    headers["to"] = response.headers["to"]
    headers["cseq"] = CSeq(56, Method.ACK)
    return Message(RequestLine(Method.ACK, inv.start_line.request_uri), headers)  # type: ignore[union-attr]


def test_inv2543_gets_a_synthetic_key_and_retransmissions_match() -> None:
    layer = TransactionLayer()
    inv = inv2543()
    key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    assert key == ServerKey(
        "rfc2543 inv2543.1717@ift.client.example.com  56 UDP ",
        "INVITE",
        SentBy("iftgw.example.com", 5060),
    )
    assert key.branch.startswith(LEGACY_PREFIX)
    assert layer.receive_request(inv2543(), SRC, False, 0.1) == []  # a retransmission
    # The response finds its transaction (no Request-URI needed).
    busy = response_to(inv, 486, to_tag="resp-tag")
    assert layer.send_response(busy, 0.2) == [Send(busy, SRC, key)]
    assert layer.receive_request(inv2543(), SRC, False, 0.3) == [Send(busy, SRC, key)]


def test_inv2543_ack_matches_by_to_tag_of_the_response() -> None:
    layer = TransactionLayer()
    inv = inv2543()
    key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    busy = response_to(inv, 486, to_tag="resp-tag")
    layer.send_response(busy, 0.1)
    wrong = ack_2543(inv, response_to(inv, 486, to_tag="other-tag"))
    assert layer.receive_request(wrong, SRC, False, 0.2) == [DeliverRequest(wrong, None)]
    assert layer.state_of(key) is State.COMPLETED
    assert layer.receive_request(ack_2543(inv, busy), SRC, False, 0.3) == []
    assert layer.state_of(key) is State.CONFIRMED


def test_inv2543_ack_in_accepted_goes_to_tu() -> None:
    # RFC 6026 §6: a cookie-less ACK matching an Accepted INVITE is passed to the TU.
    layer = TransactionLayer()
    inv = inv2543()
    key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    ok = response_to(inv, 200, to_tag="ok-tag")
    layer.send_response(ok, 0.1)
    ack = ack_2543(inv, ok)
    assert layer.receive_request(ack, SRC, False, 0.2) == [DeliverRequest(ack, None)]
    assert layer.state_of(key) is State.ACCEPTED


def test_2543_request_uri_and_to_tag_are_matched() -> None:
    layer = TransactionLayer()
    inv = inv2543()
    key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    other_uri = Message(
        RequestLine(Method.INVITE, URI("sip", "UserC", host="example.com")), dict(inv.headers)
    )
    # Same Call-ID, From tag, CSeq, Via, but another Request-URI: not a retransmission
    # (a merged request, §8.2.2.2), and no second transaction under the same key.
    assert layer.receive_request(other_uri, SRC, False, 0.1) == [DeliverRequest(other_uri, None)]
    to = inv.headers["to"]
    tagged = inv2543(to=NameAddr(to.display_name, to.uri, {"tag": "x"}))
    assert layer.receive_request(tagged, SRC, False, 0.1) == [DeliverRequest(tagged, None)]
    assert layer.server_count == 1 and layer.state_of(key) is State.PROCEEDING


def test_2543_cancel_finds_invite() -> None:
    layer = TransactionLayer()
    inv = inv2543()
    key = only_key(layer.receive_request(inv, SRC, False, 0.0))
    headers = dict(inv.headers)
    headers["cseq"] = CSeq(56, Method.CANCEL)
    cancel = Message(RequestLine(Method.CANCEL, inv.start_line.request_uri), headers)  # type: ignore[union-attr]
    cancel_key = only_key(layer.receive_request(cancel, SRC, False, 0.1))
    assert cancel_key.method == "CANCEL" and cancel_key != key
    assert layer.find_invite_for_cancel(cancel) == key
    elsewhere = Message(RequestLine(Method.CANCEL, URI("sip", "x", host="example.com")), headers)
    assert layer.find_invite_for_cancel(elsewhere) is None


def test_badbranch_bare_cookie_falls_back_to_2543() -> None:
    # RFC 4475 §3.2.1: branch exactly "z9hG4bK" identifies nothing. Two different requests
    # carrying it must not be taken for one transaction.
    layer = TransactionLayer()
    a = request(branch="z9hG4bK", call_id="badbranch.sadonfo23i420jv0as0derf3j3n", seq=8)
    b = request(branch="z9hG4bK", call_id="another-call", seq=8)
    key_a = only_key(layer.receive_request(a, SRC, False, 0.0))
    key_b = only_key(layer.receive_request(b, SRC, False, 0.0))
    assert key_a != key_b
    assert key_a.branch == "rfc2543 badbranch.sadonfo23i420jv0as0derf3j3n 1928301774 8 UDP z9hG4bK"
    assert layer.receive_request(a, SRC, False, 0.1) == []  # its own retransmission
    ok = response_to(a, 200)
    assert layer.send_response(ok, 0.2) == [Send(ok, SRC, key_a)]


def test_2543_non_invite_completes_and_ends() -> None:
    layer = TransactionLayer()
    a = request(branch=None)
    key = only_key(layer.receive_request(a, SRC, True, 0.0))
    assert key.branch.startswith(LEGACY_PREFIX)
    assert layer.send_response(response_to(a, 200), 0.1)[-1] == Terminated(key)
    assert len(layer) == 0


def test_sent_by_memo_stays_bounded_under_spoofed_hosts() -> None:
    for i in range(keys._NORMALIZED_MAX + 100):
        key = keys.server_key_of(request(host=f"H{i}.example.com"), "OPTIONS")
        assert key is not None and key.sent_by == SentBy(f"h{i}.example.com", 5060)
    remembered = sum(map(len, keys._NORMALIZED.values()))
    assert 0 < remembered <= keys._NORMALIZED_MAX


def test_sent_by_memo_stays_bounded_under_spoofed_protocols() -> None:
    for i in range(keys._PROTOCOLS_MAX * 3):
        key = keys.server_key_of(request(protocol=f"X{i}"), "OPTIONS")
        assert key is not None and key.sent_by == SentBy("pc33.atlanta.com", 5060)
    assert 0 < len(keys._NORMALIZED) <= keys._PROTOCOLS_MAX


def test_sent_by_default_port_follows_the_protocol() -> None:
    # The same sent-by means port 5060 over UDP and 5061 over TLS (RFC 3261 §18.2.2): the
    # memo keeps them apart.
    for protocol, port in (("UDP", 5060), ("TLS", 5061), ("tls", 5061), ("TCP", 5060)):
        key = keys.server_key_of(request(protocol=protocol), "OPTIONS")
        assert key is not None and key.sent_by == SentBy("pc33.atlanta.com", port)
