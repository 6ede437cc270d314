"""INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) with RFC 6026's Accepted state."""

from __future__ import annotations

import pytest
from sippet import CSeq, Message, Method, NameAddr, RequestLine
from sippet.transactions import (
    ClientKey,
    DeliverError,
    DeliverResponse,
    Send,
    State,
    Terminated,
    TimerSettings,
    TransactionLayer,
)
from sippet.uri import URI
from tx_factory import BRANCH, drain, invite, kinds, response_to

KEY = ClientKey(BRANCH, "INVITE")


def started(
    reliable: bool = False, settings: TimerSettings | None = None, now: float = 0.0
) -> tuple[TransactionLayer, Message]:
    layer = TransactionLayer(settings)
    inv = invite()
    key, actions = layer.send_request(inv, "dest", reliable, now)
    assert key == KEY
    assert actions == [Send(inv, "dest", KEY)]
    return layer, inv


def test_timer_a_doubles_from_t1_and_timer_b_gives_up_at_64_t1() -> None:
    layer, inv = started()
    events = drain(layer, 100.0)
    sends = [t for t, a in events if isinstance(a, Send)]
    assert sends == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert all(a.message is inv for _, a in events if isinstance(a, Send))
    assert events[-2:] == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]
    assert len(layer) == 0


def test_timer_a_follows_t1() -> None:
    layer, _ = started(settings=TimerSettings(t1=1.0))
    events = drain(layer, 100.0)
    assert [t for t, a in events if isinstance(a, Send)] == [1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
    assert events[-1] == (64.0, Terminated(KEY))


def test_reliable_transport_has_no_timer_a_only_b() -> None:
    layer, _ = started(reliable=True)
    assert layer.next_deadline() == 32.0
    events = drain(layer, 100.0)
    assert events == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]


def test_late_handle_timers_fires_each_due_timer_at_its_own_instant() -> None:
    layer, _ = started()
    actions = layer.handle_timers(10.0)
    assert kinds(actions) == ["Send"] * 4  # 0.5, 1.5, 3.5, 7.5
    assert layer.next_deadline() == 15.5


def test_provisional_moves_to_proceeding_and_stops_a_and_b() -> None:
    layer, inv = started()
    ringing = response_to(inv, 180)
    assert layer.receive_response(ringing, 0.2) == [DeliverResponse(ringing, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING
    assert layer.next_deadline() is None  # §17.1.1.2: B only fires in Calling
    assert drain(layer, 1000.0) == []
    again = response_to(inv, 183)
    assert layer.receive_response(again, 5.0) == [DeliverResponse(again, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING


@pytest.mark.parametrize("provisional_first", [False, True])
def test_2xx_moves_to_accepted_every_2xx_to_tu_until_timer_m(provisional_first: bool) -> None:
    layer, inv = started()
    if provisional_first:
        layer.receive_response(response_to(inv, 180), 0.1)
    ok = response_to(inv, 200)
    assert layer.receive_response(ok, 1.0) == [DeliverResponse(ok, KEY)]  # no ACK from us
    assert layer.state_of(KEY) is State.ACCEPTED
    assert layer.next_deadline() == 33.0  # Timer M = 64*T1
    # A retransmission, and a 2xx from another fork: both to the TU.
    assert layer.receive_response(ok, 2.0) == [DeliverResponse(ok, KEY)]
    forked = response_to(inv, 200, to_tag="other-fork")
    assert layer.receive_response(forked, 3.0) == [DeliverResponse(forked, KEY)]
    # Neither 1xx nor 300-699 mean anything in Accepted.
    assert layer.receive_response(response_to(inv, 180), 4.0) == []
    assert layer.receive_response(response_to(inv, 486), 4.0) == []
    assert drain(layer, 100.0) == [(33.0, Terminated(KEY))]
    # After Timer M a 2xx is stray.
    assert layer.receive_response(ok, 40.0) == [DeliverResponse(ok, None)]


@pytest.mark.parametrize("provisional_first", [False, True])
def test_failure_sends_ack_and_completed_absorbs_retransmissions_until_d(
    provisional_first: bool,
) -> None:
    layer, inv = started()
    if provisional_first:
        layer.receive_response(response_to(inv, 180), 0.1)
    busy = response_to(inv, 486)
    actions = layer.receive_response(busy, 0.7)
    assert kinds(actions) == ["DeliverResponse", "Send"]
    assert actions[0] == DeliverResponse(busy, KEY)
    ack = actions[1]
    assert isinstance(ack, Send) and ack.destination == "dest" and ack.key == KEY
    assert layer.state_of(KEY) is State.COMPLETED
    assert layer.next_deadline() == 0.7 + 32.0  # Timer D, and no more Timer A
    # A retransmitted 486 is acknowledged again, not passed up.
    assert layer.receive_response(busy, 1.0) == [Send(ack.message, "dest", KEY)]
    # Late provisional or 2xx: discarded.
    assert layer.receive_response(response_to(inv, 180), 1.1) == []
    assert layer.receive_response(response_to(inv, 200), 1.2) == []
    assert drain(layer, 100.0) == [(32.7, Terminated(KEY))]


def test_timer_d_is_configurable() -> None:
    layer, inv = started(settings=TimerSettings(timer_d=40.0))
    layer.receive_response(response_to(inv, 603), 1.0)
    assert layer.next_deadline() == 41.0


def test_reliable_failure_acks_and_ends_at_once() -> None:
    layer, inv = started(reliable=True)
    busy = response_to(inv, 486)
    actions = layer.receive_response(busy, 0.7)
    assert kinds(actions) == ["DeliverResponse", "Send", "Terminated"]
    assert len(layer) == 0 and layer.next_deadline() is None


def test_ack_of_failure_is_built_per_17_1_1_3() -> None:
    route = [NameAddr("", URI("sip", None, host="p1.example.com", parameters={"lr": None}), {})]
    layer = TransactionLayer()
    inv = invite(routes=route)
    layer.send_request(inv, "dest", False, 0.0)
    busy = response_to(inv, 486, to_tag="99sa0xk")
    ack = layer.receive_response(busy, 1.0)[1]
    assert isinstance(ack, Send)
    msg = ack.message
    assert msg.start_line == RequestLine(Method.ACK, inv.start_line.request_uri)  # type: ignore[union-attr]
    h = msg.headers
    assert h["via"] == [inv.headers["via"][0]]  # only the top Via, same branch
    assert h["to"] == busy.headers["to"] and h["to"].params["tag"] == "99sa0xk"
    assert h["from"] == inv.headers["from"]
    assert h["call_id"] == inv.headers["call_id"]
    assert h["cseq"] == CSeq(inv.headers["cseq"].seq, Method.ACK)
    assert h["route"] == route
    assert h["max_forwards"] == 70
    assert "contact" not in h and msg.body == b""


def test_ack_has_no_route_when_invite_had_none() -> None:
    layer, inv = started()
    ack = layer.receive_response(response_to(inv, 404), 1.0)[1]
    assert isinstance(ack, Send) and "route" not in ack.message.headers


@pytest.mark.parametrize("state", ["calling", "proceeding", "completed", "accepted"])
def test_transport_error_informs_tu_and_terminates(state: str) -> None:
    layer, inv = started()
    if state == "proceeding":
        layer.receive_response(response_to(inv, 100), 0.1)
    elif state == "completed":
        layer.receive_response(response_to(inv, 500), 0.1)
    elif state == "accepted":
        layer.receive_response(response_to(inv, 200), 0.1)
    assert layer.transport_error(KEY, "unreachable", 0.2) == [
        DeliverError("unreachable", KEY),
        Terminated(KEY),
    ]
    assert len(layer) == 0
    assert layer.transport_error(KEY, "unreachable", 0.3) == []
    assert drain(layer, 100.0) == []
    assert layer.timer_count == 0
