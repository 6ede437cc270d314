"""INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026."""

from __future__ import annotations

from typing import Any

import pytest
from sippet import Message, SentBy, StatusLine, Timestamp, TransactionError
from sippet.transactions import (
    DeliverError,
    DeliverRequest,
    Send,
    ServerKey,
    State,
    Terminated,
    TimerSettings,
    TransactionLayer,
)
from tx_factory import BRANCH, ack_for, drain, invite, kinds, response_to

KEY = ServerKey(BRANCH, "INVITE", SentBy("pc33.atlanta.com", 5060))
SRC = ("192.0.2.4", 5060)


def received(
    reliable: bool = False, settings: TimerSettings | None = None, **kw: Any
) -> tuple[TransactionLayer, Message]:
    layer = TransactionLayer(settings)
    inv = invite(**kw)
    assert layer.receive_request(inv, SRC, reliable, 0.0) == [DeliverRequest(inv, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING
    return layer, inv


def test_100_trying_after_200_ms_built_per_8_2_6() -> None:
    layer, inv = received(extra={"timestamp": Timestamp(54.0, None)})
    assert layer.next_deadline() == 0.2
    actions = layer.handle_timers(0.2)
    assert len(actions) == 1 and isinstance(actions[0], Send)
    trying = actions[0].message
    assert actions[0].destination == SRC and actions[0].key == KEY
    assert trying.start_line == StatusLine(100, "Trying")
    h = inv.headers
    assert trying.headers == {
        "via": h["via"],  # every Via value, in order
        "from": h["from"],
        "to": h["to"],  # no tag added to a 100
        "call_id": h["call_id"],
        "cseq": h["cseq"],
        "timestamp": Timestamp(54.0, None),
    }
    assert "tag" not in trying.headers["to"].params
    assert layer.next_deadline() is None
    # A retransmitted INVITE gets the 100 again.
    assert layer.receive_request(inv, SRC, False, 0.5) == [Send(trying, SRC, KEY)]


def test_no_100_when_the_tu_answers_first() -> None:
    layer, inv = received()
    ringing = response_to(inv, 180)
    assert layer.send_response(ringing, 0.1) == [Send(ringing, SRC, KEY)]
    assert layer.next_deadline() is None
    assert drain(layer, 10.0) == []


def test_trying_delay_zero_sends_at_once_and_none_never() -> None:
    layer = TransactionLayer(TimerSettings(trying_delay=0.0))
    inv = invite()
    actions = layer.receive_request(inv, SRC, False, 0.0)
    assert kinds(actions) == ["DeliverRequest", "Send"]
    assert actions[1].message.start_line.status_code == 100  # type: ignore[union-attr]
    layer = TransactionLayer(TimerSettings(trying_delay=None))
    assert layer.receive_request(inv, SRC, False, 0.0) == [DeliverRequest(inv, KEY)]
    assert layer.next_deadline() is None


def test_retransmitted_invite_in_proceeding_gets_latest_provisional() -> None:
    layer, inv = received()
    assert layer.receive_request(inv, SRC, False, 0.1) == []  # nothing sent yet
    ringing = response_to(inv, 180)
    progress = response_to(inv, 183)
    layer.send_response(ringing, 0.15)
    layer.send_response(progress, 0.3)
    assert layer.receive_request(inv, SRC, False, 0.5) == [Send(progress, SRC, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING


@pytest.mark.parametrize("reliable", [False, True])
def test_2xx_moves_to_accepted_until_timer_l(reliable: bool) -> None:
    layer, inv = received(reliable)
    ok = response_to(inv, 200)
    assert layer.send_response(ok, 1.0) == [Send(ok, SRC, KEY)]
    assert layer.state_of(KEY) is State.ACCEPTED
    assert layer.next_deadline() == 33.0  # Timer L = 64*T1 on every transport
    # INVITE retransmissions are absorbed: not to the TU, no 2xx resent by us.
    assert layer.receive_request(inv, SRC, reliable, 1.5) == []
    # The TU's own 2xx retransmissions go out.
    assert layer.send_response(ok, 1.5) == [Send(ok, SRC, KEY)]
    # A provisional or failure response after the 2xx is the TU's mistake: raised, not
    # sent, and the transaction is unchanged (RFC 6026 §7.1: only 2xx pass in Accepted).
    for late in (180, 500):
        with pytest.raises(TransactionError) as refused:
            layer.send_response(response_to(inv, late), 1.6)
        assert refused.value.reason == "response_not_allowed"
    assert layer.state_of(KEY) is State.ACCEPTED
    assert layer.next_deadline() == 33.0
    # The ACK of the 2xx (new branch, §13.2.2.4) matches nothing: to the TU without key.
    ack = ack_for(inv, ok, branch="z9hG4bKnewack")
    assert layer.receive_request(ack, SRC, reliable, 2.0) == [DeliverRequest(ack, None)]
    # An ACK that does match the transaction (branch reused) also goes to the TU.
    same = ack_for(inv, ok)
    assert layer.receive_request(same, SRC, reliable, 2.1) == [DeliverRequest(same, None)]
    assert layer.state_of(KEY) is State.ACCEPTED
    assert drain(layer, 100.0) == [(33.0, Terminated(KEY))]


def test_failure_timer_g_instants_and_timer_h_timeout() -> None:
    layer, inv = received()
    busy = response_to(inv, 486)
    assert layer.send_response(busy, 0.1) == [Send(busy, SRC, KEY)]
    assert layer.state_of(KEY) is State.COMPLETED
    events = drain(layer, 100.0)
    sends = [round(t - 0.1, 9) for t, a in events if isinstance(a, Send)]
    assert sends == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert all(a == Send(busy, SRC, KEY) for _, a in events if isinstance(a, Send))
    assert [a for _, a in events[-2:]] == [DeliverError("timeout", KEY), Terminated(KEY)]
    assert events[-1][0] == pytest.approx(32.1)
    assert len(layer) == 0


def test_completed_resends_response_on_invite_and_ack_confirms() -> None:
    layer, inv = received()
    busy = response_to(inv, 486)
    layer.send_response(busy, 0.1)
    assert layer.receive_request(inv, SRC, False, 0.3) == [Send(busy, SRC, KEY)]
    # A second final response is the TU's mistake (§17.2.1: one final response).
    with pytest.raises(TransactionError, match="COMPLETED") as refused:
        layer.send_response(response_to(inv, 500), 0.35)
    assert refused.value.reason == "response_not_allowed"
    ack = ack_for(inv, busy)
    assert layer.receive_request(ack, SRC, False, 0.4) == []  # absorbed
    assert layer.state_of(KEY) is State.CONFIRMED
    assert layer.next_deadline() == pytest.approx(5.4)  # Timer I = T4; G and H stopped
    assert layer.receive_request(ack, SRC, False, 1.0) == []
    assert layer.receive_request(inv, SRC, False, 1.0) == []
    with pytest.raises(TransactionError) as refused:
        layer.send_response(busy, 1.0)  # the transaction resends it, not the TU
    assert refused.value.reason == "response_not_allowed"
    events = drain(layer, 100.0)
    assert [a for _, a in events] == [Terminated(KEY)]
    assert events[0][0] == pytest.approx(5.4)


def test_reliable_failure_no_timer_g_and_ack_ends_at_once() -> None:
    layer, inv = received(reliable=True)
    busy = response_to(inv, 603)
    layer.send_response(busy, 0.1)
    assert layer.next_deadline() == pytest.approx(32.1)  # H only
    assert layer.receive_request(ack_for(inv, busy), SRC, True, 1.0) == [Terminated(KEY)]
    assert len(layer) == 0


def test_reliable_failure_without_ack_times_out_on_h() -> None:
    layer, inv = received(reliable=True)
    layer.send_response(response_to(inv, 603), 0.0)
    assert drain(layer, 100.0) == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]


def test_ack_in_proceeding_is_ignored() -> None:
    layer, inv = received()
    ack = ack_for(inv, response_to(inv, 486))
    assert layer.receive_request(ack, SRC, False, 0.1) == []
    assert layer.state_of(KEY) is State.PROCEEDING


@pytest.mark.parametrize("state", ["proceeding", "accepted", "completed"])
def test_transport_error_informs_tu_and_keeps_state(state: str) -> None:
    # RFC 6026 §7.1, §8.8: the state stays, so INVITE retransmissions are still absorbed.
    layer, inv = received()
    final = None
    if state == "accepted":
        final = response_to(inv, 200)
        layer.send_response(final, 0.1)
    elif state == "completed":
        final = response_to(inv, 480)
        layer.send_response(final, 0.1)
    before = layer.state_of(KEY)
    assert layer.transport_error(KEY, "unreachable", 0.2) == [DeliverError("unreachable", KEY)]
    assert layer.state_of(KEY) is before
    retransmission = layer.receive_request(inv, SRC, False, 0.3)
    assert all(not isinstance(a, DeliverRequest) for a in retransmission)
    assert layer.server_count == 1
    if final is not None:
        events = drain(layer, 100.0)
        assert events[-1][1] == Terminated(KEY)


def test_the_tus_mistakes_raise_and_change_nothing() -> None:
    # A 200 after a 486 (the example): raised, nothing sent, Completed kept with
    # its timers (G, H) where they were.
    layer, inv = received()
    busy = response_to(inv, 486)
    layer.send_response(busy, 0.1)
    deadline, timers = layer.next_deadline(), layer.timer_count
    for late in (200, 180, 486):
        with pytest.raises(TransactionError) as refused:
            layer.send_response(response_to(inv, late), 0.2)
        assert refused.value.reason == "response_not_allowed"
        assert str(late) in str(refused.value)
    assert layer.state_of(KEY) is State.COMPLETED
    assert (layer.next_deadline(), layer.timer_count) == (deadline, timers)
    # The network's own surprise (the INVITE again) is still absorbed: the 486 goes again.
    assert layer.receive_request(inv, SRC, False, 0.3) == [Send(busy, SRC, KEY)]
    # Once the transaction is gone, a response for it has no transaction at all.
    drain(layer, 100.0)
    with pytest.raises(TransactionError) as gone:
        layer.send_response(response_to(inv, 200), 101.0)
    assert gone.value.reason == "no_transaction"
