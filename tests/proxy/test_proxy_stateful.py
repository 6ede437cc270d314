"""The stateful proxy core on a fake clock: forwarding (§16.6), the response context and
the best response (§16.7), forking by q-value, Timer C (§16.8), CANCEL (§16.10), ACK."""

from __future__ import annotations

from dataclasses import replace

from sippet import URI, Message
from sippet.message import Target
from sippet.proxy import (
    EndTransaction,
    Lookup,
    ProxyAction,
    ProxyTarget,
    SendRequest,
    SendResponse,
    SendStateless,
    StatefulProxy,
)
from sippet.proxy.branch import loop_part
from sippet.transactions import ClientKey, ServerKey
from sippet.transactions.keys import server_key_of

from .messages import CONFIG, PROXY_HOST, code, method, request, response_to, ruri

ALICE = URI.parse("sip:alice@192.0.2.21")
BOB = URI.parse("sip:bob@192.0.2.22")
CAROL = URI.parse("sip:carol@192.0.2.23")


def skey(message: Message) -> ServerKey:
    key = server_key_of(message, str(message.start_line[0]))
    assert key is not None
    return key


def ckey(forwarded: Message) -> ClientKey:
    return ClientKey(forwarded.headers["via"][0].branch, str(forwarded.start_line[0]))


def sent_requests(actions: list[ProxyAction]) -> list[Message]:
    return [a.request for a in actions if isinstance(a, SendRequest)]


def sent_responses(actions: list[ProxyAction]) -> list[int]:
    return [code(a.response) for a in actions if isinstance(a, SendResponse)]


def start_call(
    proxy: StatefulProxy, targets: list[ProxyTarget], now: float = 0.0, method: str = "INVITE"
) -> tuple[Message, list[Message]]:
    """An INVITE for bob@example.com, looked up to ``targets``; the copies sent."""
    invite = request(method)
    actions = proxy.receive_request(invite, skey(invite), now)
    assert len(actions) == 1 and isinstance(actions[0], Lookup)
    return invite, sent_requests(proxy.forward(actions[0].handle, targets, now))


def answer(
    proxy: StatefulProxy, forwarded: Message, code: int, now: float, **kw: str
) -> list[ProxyAction]:
    return proxy.receive_response(response_to(forwarded, code, **kw), ckey(forwarded), now)


# -- forwarding (§16.6) ----------------------------------------------------------------


def test_the_forwarded_copy() -> None:
    proxy = StatefulProxy(CONFIG)
    invite, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    assert ruri(copy) == ALICE  # step 2
    assert copy.headers["max_forwards"] == 69  # step 3
    rr = copy.headers["record_route"]  # step 4: one entry, UDP in and out
    assert [str(v.uri) for v in rr] == [f"sip:{PROXY_HOST}:5060;lr"]
    top, below = copy.headers["via"]  # step 8
    assert top.sent_by.host == PROXY_HOST and top.protocol == "UDP"
    assert top.branch.startswith("z9hG4bK") and loop_part(top.branch) is not None
    assert below == invite.headers["via"][0]
    assert invite.headers["max_forwards"] == 70  # the received request is not changed


def test_max_forwards_is_set_when_absent_and_options_gets_no_record_route() -> None:
    proxy = StatefulProxy(CONFIG)
    options = request("OPTIONS", "sip:carol@elsewhere.net", max_forwards=None)
    (copy,) = sent_requests(proxy.receive_request(options, skey(options), 0.0))
    assert copy.headers["max_forwards"] == 70
    assert "record_route" not in copy.headers
    assert str(ruri(copy)) == "sip:carol@elsewhere.net"  # §16.5: not ours


def test_a_transport_change_gets_two_record_route_entries() -> None:
    proxy = StatefulProxy(CONFIG)
    tcp_target = ProxyTarget(URI.parse("sip:alice@192.0.2.21;transport=tcp"))
    _, (copy,) = start_call(proxy, [tcp_target])
    # RFC 5658: the outgoing (TCP) side on top for the callee, the incoming (UDP) below.
    assert [str(v.uri) for v in copy.headers["record_route"]] == [
        f"sip:{PROXY_HOST}:5060;transport=tcp;lr",
        f"sip:{PROXY_HOST}:5060;lr",
    ]
    assert copy.headers["via"][0].protocol == "TCP"


def test_policy_routes_target_routes_and_next_hop() -> None:
    outbound = URI.parse("sip:edge.example.net;lr")
    proxy = StatefulProxy(replace(CONFIG, outbound_route=(outbound,)))
    path = URI.parse("sip:pathproxy.example.net;lr")
    hop = Target("UDP", "198.51.100.7", 40000)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE, route=(path,), next_hop=hop)])
    assert [str(r.uri) for r in copy.headers["route"]] == [str(outbound), str(path)]
    assert copy.target == hop


def test_a_broadcast_target_is_never_sent_to() -> None:
    proxy = StatefulProxy(CONFIG)
    invite = request()
    (lookup,) = proxy.receive_request(invite, skey(invite), 0.0)
    assert isinstance(lookup, Lookup)
    actions = proxy.forward(lookup.handle, [ProxyTarget(URI.parse("sip:x@255.255.255.255"))], 0.0)
    assert sent_requests(actions) == []
    assert sent_responses(actions) == [403]


def test_an_empty_target_set_gets_480_and_a_rejected_lookup_its_status() -> None:
    proxy = StatefulProxy(CONFIG)
    invite = request()
    (lookup,) = proxy.receive_request(invite, skey(invite), 0.0)
    assert isinstance(lookup, Lookup)
    assert sent_responses(proxy.forward(lookup.handle, [], 0.0)) == [480]
    invite2 = request(branch="z9hG4bKother")
    (lookup2,) = proxy.receive_request(invite2, skey(invite2), 0.0)
    assert isinstance(lookup2, Lookup)
    assert sent_responses(proxy.reject(lookup2.handle, 404, 0.0)) == [404]
    assert len(proxy) == 0  # neither left anything behind


def test_too_many_contexts_get_503() -> None:
    proxy = StatefulProxy(replace(CONFIG, max_contexts=1))
    start_call(proxy, [ProxyTarget(ALICE)])
    second = request(branch="z9hG4bKsecond")
    assert sent_responses(proxy.receive_request(second, skey(second), 0.0)) == [503]


# -- responses (§16.7) -----------------------------------------------------------------


def test_provisional_and_final_responses_go_upstream_without_our_via() -> None:
    proxy = StatefulProxy(CONFIG)
    invite, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    assert answer(proxy, copy, 100, 1.0) == []  # a 100 is hop by hop
    (ringing,) = answer(proxy, copy, 180, 1.0)
    assert isinstance(ringing, SendResponse)
    assert ringing.response.headers["via"] == invite.headers["via"]
    (ok,) = answer(proxy, copy, 200, 2.0)
    assert isinstance(ok, SendResponse) and code(ok.response) == 200
    assert ok.response.headers["via"] == invite.headers["via"]


def test_a_stray_response_is_dropped() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    response = response_to(copy, 200)
    assert proxy.receive_response(response, None, 1.0) == []
    assert proxy.receive_response(response, ClientKey("z9hG4bKnotours", "INVITE"), 1.0) == []


def test_parallel_fork_best_response_wins_and_the_other_branch_is_cancelled() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    assert to_alice.headers["via"][0].branch != to_bob.headers["via"][0].branch
    answer(proxy, to_alice, 180, 1.0)
    answer(proxy, to_bob, 180, 1.0)
    actions = answer(proxy, to_bob, 200, 2.0)
    assert sent_responses(actions) == [200]
    (cancel,) = sent_requests(actions)
    assert method(cancel) == "CANCEL"
    assert ruri(cancel) == ALICE
    assert cancel.headers["via"] == [to_alice.headers["via"][0]]  # §9.1: same branch
    # The cancelled branch's 487 is not forwarded: the call was answered.
    assert answer(proxy, to_alice, 487, 3.0) == []


def test_a_cancel_waits_for_a_provisional_response() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    actions = answer(proxy, to_bob, 200, 1.0)
    assert sent_requests(actions) == []  # Alice's branch has sent nothing yet (§9.1)
    late = answer(proxy, to_alice, 180, 2.0)
    (cancel,) = sent_requests(late)
    assert method(cancel) == "CANCEL"
    assert sent_responses(late) == []  # no provisional after the final


def test_every_2xx_is_forwarded() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    assert sent_responses(answer(proxy, to_alice, 200, 1.0, to_tag="a")) == [200]
    assert sent_responses(answer(proxy, to_bob, 200, 1.5, to_tag="b")) == [200]


def test_the_lowest_class_wins_and_preferred_4xx_first() -> None:
    proxy = StatefulProxy(CONFIG)
    _, copies = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB), ProxyTarget(CAROL)])
    assert answer(proxy, copies[0], 500, 1.0) == []
    assert answer(proxy, copies[1], 404, 1.0) == []
    assert sent_responses(answer(proxy, copies[2], 415, 1.0)) == [415]


def test_a_6xx_ends_the_search() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice,) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB, q=0.5)])
    answer(proxy, to_alice, 180, 0.5)
    actions = answer(proxy, to_alice, 603, 1.0)
    assert sent_responses(actions) == [603]
    assert sent_requests(actions) == []  # Bob (lower q) is never tried


def test_a_503_becomes_500() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    assert sent_responses(answer(proxy, copy, 503, 1.0)) == [500]


def test_challenges_of_all_branches_are_merged() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    answer(proxy, to_alice, 401, 1.0, extra='WWW-Authenticate: Digest realm="a", nonce="1"')
    (final,) = answer(
        proxy, to_bob, 407, 1.0, extra='Proxy-Authenticate: Digest realm="b", nonce="2"'
    )
    assert isinstance(final, SendResponse)
    assert code(final.response) == 401
    assert [a.params["realm"] for a in final.response.headers["www_authenticate"]] == ["a"]
    assert [a.params["realm"] for a in final.response.headers["proxy_authenticate"]] == ["b"]


def test_sequential_forking_by_q_value() -> None:
    proxy = StatefulProxy(CONFIG)
    targets = [ProxyTarget(CAROL, q=0.1), ProxyTarget(ALICE, q=1.0), ProxyTarget(BOB, q=0.5)]
    _, (first,) = start_call(proxy, targets)
    assert ruri(first) == ALICE
    (second,) = sent_requests(answer(proxy, first, 480, 1.0))
    assert ruri(second) == BOB
    (third,) = sent_requests(answer(proxy, second, 486, 2.0))
    assert ruri(third) == CAROL
    # All 4xx: the first received of the lowest class (none is a preferred 4xx).
    assert sent_responses(answer(proxy, third, 404, 3.0)) == [480]


def test_branch_errors_count_as_408_and_503() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    assert proxy.receive_error("unreachable", ckey(to_alice), 1.0) == []
    actions = proxy.receive_error("timeout", ckey(to_bob), 32.0)
    assert sent_responses(actions) == [408]  # 4xx is a lower class than 5xx


# -- Timer C (§16.6 step 11, §16.8) ------------------------------------------------------


def test_timer_c_is_reset_by_provisionals_then_cancels_the_branch() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)], now=0.0)
    assert proxy.next_deadline() == 181.0
    answer(proxy, copy, 180, 100.0)
    assert proxy.next_deadline() == 281.0
    assert proxy.handle_timers(280.9) == []
    actions = proxy.handle_timers(281.0)
    (cancel,) = sent_requests(actions)
    assert method(cancel) == "CANCEL"
    assert sent_responses(answer(proxy, copy, 487, 282.0)) == [487]


def test_timer_c_without_a_provisional_acts_as_408() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)], now=10.0)
    actions = proxy.handle_timers(191.0)
    assert sent_responses(actions) == [408]
    assert EndTransaction(ckey(copy)) in actions
    assert answer(proxy, copy, 200, 192.0) == []  # too late: the caller has its 408


def test_a_branch_that_ignores_its_cancel_is_given_up() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)], now=0.0)
    answer(proxy, copy, 183, 1.0)
    (cancel,) = sent_requests(proxy.handle_timers(182.0))
    assert method(cancel) == "CANCEL"
    actions = proxy.handle_timers(182.0 + 32.0)
    assert EndTransaction(ckey(copy)) in actions
    assert sent_responses(actions) == [408]


def test_a_context_ends_after_its_linger_time() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    answer(proxy, copy, 200, 1.0)
    assert len(proxy) == 1
    assert sent_responses(answer(proxy, copy, 200, 5.0)) == [200]  # a retransmission
    proxy.handle_timers(1.0 + 32.0)
    assert len(proxy) == 0 and proxy.next_deadline() is None
    assert answer(proxy, copy, 200, 40.0) == []


def test_timer_c_is_not_set_for_non_invite() -> None:
    proxy = StatefulProxy(CONFIG)
    start_call(proxy, [ProxyTarget(ALICE)], method="MESSAGE")
    assert proxy.next_deadline() is None


# -- CANCEL (§16.10) and ACK -----------------------------------------------------------


def test_a_cancel_is_answered_and_forwarded_to_every_pending_branch() -> None:
    proxy = StatefulProxy(CONFIG)
    _, (to_alice, to_bob) = start_call(proxy, [ProxyTarget(ALICE), ProxyTarget(BOB)])
    answer(proxy, to_alice, 180, 1.0)
    answer(proxy, to_bob, 180, 1.0)
    cancel = request("CANCEL")
    actions = proxy.receive_request(cancel, skey(cancel), 2.0)
    assert sent_responses(actions) == [200]
    cancels = sent_requests(actions)
    assert {c.headers["via"][0].branch for c in cancels} == {
        to_alice.headers["via"][0].branch,
        to_bob.headers["via"][0].branch,
    }
    assert answer(proxy, to_alice, 487, 3.0) == []
    assert sent_responses(answer(proxy, to_bob, 487, 3.0)) == [487]


def test_a_cancel_during_the_lookup_answers_the_invite_487() -> None:
    proxy = StatefulProxy(CONFIG)
    invite = request()
    (lookup,) = proxy.receive_request(invite, skey(invite), 0.0)
    assert isinstance(lookup, Lookup)
    cancel = request("CANCEL")
    assert sent_responses(proxy.receive_request(cancel, skey(cancel), 1.0)) == [200, 487]
    try:
        proxy.forward(lookup.handle, [ProxyTarget(ALICE)], 2.0)
    except KeyError:
        pass
    else:
        raise AssertionError("a cancelled lookup must not be forwarded")


def test_a_cancel_without_context_is_forwarded_like_any_request() -> None:
    proxy = StatefulProxy(CONFIG)
    cancel = request("CANCEL", "sip:carol@elsewhere.net")
    (copy,) = sent_requests(proxy.receive_request(cancel, skey(cancel), 0.0))
    assert method(copy) == "CANCEL"


def test_an_ack_for_a_2xx_follows_its_route_statelessly() -> None:
    proxy = StatefulProxy(CONFIG)
    ack = request(
        "ACK",
        "sip:alice@192.0.2.21",
        branch="z9hG4bKack1",
        extra=f"Route: <sip:{PROXY_HOST}:5060;lr>, <sip:edge.example.net;lr>",
    )
    (action,) = proxy.receive_request(ack, None, 0.0)
    assert isinstance(action, SendStateless)
    copy = action.message
    assert [str(r.uri) for r in copy.headers["route"]] == ["sip:edge.example.net;lr"]
    assert copy.headers["via"][0].sent_by.host == PROXY_HOST
    again = request(
        "ACK",
        "sip:alice@192.0.2.21",
        branch="z9hG4bKack1",
        extra=f"Route: <sip:{PROXY_HOST}:5060;lr>, <sip:edge.example.net;lr>",
    )
    (retransmitted,) = proxy.receive_request(again, None, 1.0)
    assert isinstance(retransmitted, SendStateless)
    assert retransmitted.message.headers["via"][0] == copy.headers["via"][0]


def test_an_ack_with_max_forwards_0_is_dropped() -> None:
    proxy = StatefulProxy(CONFIG)
    ack = request("ACK", "sip:alice@192.0.2.21", max_forwards=0)
    assert proxy.receive_request(ack, None, 0.0) == []


def test_a_server_transaction_that_ends_takes_its_context_along() -> None:
    proxy = StatefulProxy(CONFIG)
    invite, (copy,) = start_call(proxy, [ProxyTarget(ALICE)])
    answer(proxy, copy, 180, 1.0)
    actions = proxy.receive_error("unanswered", skey(invite), 2.0)
    (cancel,) = sent_requests(actions)  # the branch is no longer wanted
    assert method(cancel) == "CANCEL"
    assert answer(proxy, copy, 487, 3.0) == []  # nothing to forward it to
    proxy.handle_timers(3.0)
    assert len(proxy) == 0 and proxy.next_deadline() is None


def test_acks_waiting_for_a_lookup_are_bounded_too() -> None:
    proxy = StatefulProxy(replace(CONFIG, max_contexts=2))
    for number in range(5):
        ack = request("ACK", branch=f"z9hG4bKack{number}")
        proxy.receive_request(ack, None, 0.0)
    assert len(proxy) == 2
