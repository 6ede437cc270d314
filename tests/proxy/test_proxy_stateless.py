"""The stateless proxy core (RFC 3261 §16.11): one target, branches computed from the
request, no state; responses to the next Via; RFC 4475 bcast dropped."""

from __future__ import annotations

from dataclasses import replace

from helpers.messages import Load
from sippet import URI, Message
from sippet.headers import SentBy
from sippet.proxy import (
    EndTransaction,
    Lookup,
    ProxyTarget,
    SendStateless,
    StatelessProxy,
)
from sippet.transactions import ServerKey
from sippet.transactions.keys import server_key_of

from .messages import CONFIG, PROXY_HOST, code, method, request, response_to, ruri

ALICE = URI.parse("sip:alice@192.0.2.21")
BOB = URI.parse("sip:bob@192.0.2.22")


def skey(message: Message) -> ServerKey:
    key = server_key_of(message, str(message.start_line[0]))
    assert key is not None
    return key


def forwarded(proxy: StatelessProxy, message: Message, targets: list[ProxyTarget]) -> Message:
    actions = proxy.receive_request(message, skey(message), 0.0)
    assert actions[0] == EndTransaction(skey(message))  # no transaction kept, no 100
    lookup = actions[1]
    assert isinstance(lookup, Lookup)
    (send,) = proxy.forward(lookup.handle, targets, 0.0)
    assert isinstance(send, SendStateless)
    return send.message


def test_one_target_the_first_of_the_highest_q() -> None:
    proxy = StatelessProxy(CONFIG)
    copy = forwarded(proxy, request(), [ProxyTarget(BOB, q=0.5), ProxyTarget(ALICE, q=0.9)])
    assert ruri(copy) == ALICE
    assert copy.headers["max_forwards"] == 69
    assert len(proxy) == 0


def test_retransmissions_and_the_cancel_get_the_same_branch() -> None:
    proxy = StatelessProxy(CONFIG)
    first = forwarded(proxy, request(), [ProxyTarget(ALICE)])
    again = forwarded(proxy, request(), [ProxyTarget(ALICE)])
    cancel = forwarded(proxy, request("CANCEL"), [ProxyTarget(ALICE)])
    assert first.headers["via"][0] == again.headers["via"][0] == cancel.headers["via"][0]
    assert first.headers["record_route"] == again.headers["record_route"]
    other = forwarded(proxy, request(branch="z9hG4bKclient2"), [ProxyTarget(ALICE)])
    assert other.headers["via"][0].branch != first.headers["via"][0].branch


def test_an_rfc2543_request_gets_a_branch_from_its_fields() -> None:
    proxy = StatelessProxy(CONFIG)
    legacy = "SIP/2.0/UDP 192.0.2.1:5060"
    one = forwarded(proxy, request(branch="1", via=legacy), [ProxyTarget(ALICE)])
    two = forwarded(proxy, request(branch="1", via=legacy), [ProxyTarget(ALICE)])
    other = forwarded(proxy, request(branch="1", via=legacy, cseq=2), [ProxyTarget(ALICE)])
    assert one.headers["via"][0].branch == two.headers["via"][0].branch
    assert one.headers["via"][0].branch != other.headers["via"][0].branch


def test_errors_are_sent_statelessly(rfc4475: Load) -> None:
    proxy = StatelessProxy(CONFIG)
    zeromf = Message.parse(rfc4475("zeromf"))
    end, answer = proxy.receive_request(zeromf, skey(zeromf), 0.0)
    assert isinstance(end, EndTransaction)
    assert isinstance(answer, SendStateless) and code(answer.message) == 483


def test_a_response_goes_to_the_next_via() -> None:
    proxy = StatelessProxy(CONFIG)
    invite = request()
    copy = forwarded(proxy, invite, [ProxyTarget(ALICE)])
    (send,) = proxy.receive_response(response_to(copy, 180), None, 1.0)
    assert isinstance(send, SendStateless)
    assert send.message.headers["via"] == invite.headers["via"]


def test_bcast_a_response_not_ours_is_dropped(rfc4475: Load) -> None:
    proxy = StatelessProxy(CONFIG)
    assert proxy.receive_response(Message.parse(rfc4475("bcast")), None, 0.0) == []


def test_bcast_never_forwarded_to_the_broadcast_via(rfc4475: Load) -> None:
    # The proxy is the first Via of bcast: the next one is 255.255.255.255.
    config = replace(CONFIG, interfaces={"UDP": SentBy("192.0.2.198", 5060)})
    proxy = StatelessProxy(config)
    assert proxy.receive_response(Message.parse(rfc4475("bcast")), None, 0.0) == []
    # The same response with a real next Via is forwarded: the check is the broadcast.
    text = rfc4475("bcast").replace(b"255.255.255.255", b"192.0.2.55")
    (send,) = proxy.receive_response(Message.parse(text), None, 0.0)
    assert isinstance(send, SendStateless)


def test_a_response_with_only_our_via_is_dropped() -> None:
    proxy = StatelessProxy(CONFIG)
    ours = request("OPTIONS", via=f"SIP/2.0/UDP {PROXY_HOST}:5060").to_response(200)
    assert proxy.receive_response(ours, None, 0.0) == []


def test_an_ack_is_forwarded_and_never_answered() -> None:
    proxy = StatelessProxy(CONFIG)
    ack = request("ACK", "sip:alice@192.0.2.21")
    (send,) = proxy.receive_request(ack, None, 0.0)
    assert isinstance(send, SendStateless) and method(send.message) == "ACK"
    looped = request("ACK", "sip:alice@192.0.2.21", max_forwards=0)
    assert proxy.receive_request(looped, None, 0.0) == []
