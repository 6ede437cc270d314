"""Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8)."""

from __future__ import annotations

import pytest
from sippet import Message, Method, SentBy, TransactionError
from sippet.transactions import (
    DeliverError,
    DeliverRequest,
    Send,
    ServerKey,
    State,
    Terminated,
    TransactionLayer,
)
from tx_factory import BRANCH, drain, request, response_to

KEY = ServerKey(BRANCH, "REGISTER", SentBy("pc33.atlanta.com", 5060))
SRC = object()


def received(reliable: bool = False) -> tuple[TransactionLayer, Message]:
    layer = TransactionLayer()
    req = request(Method.REGISTER)
    assert layer.receive_request(req, SRC, reliable, 0.0) == [DeliverRequest(req, KEY)]
    assert layer.state_of(KEY) is State.TRYING
    assert layer.next_deadline() is None
    return layer, req


def test_trying_discards_retransmissions() -> None:
    layer, req = received()
    assert layer.receive_request(req, SRC, False, 0.5) == []
    assert layer.state_of(KEY) is State.TRYING


def test_proceeding_sends_provisionals_and_resends_latest() -> None:
    layer, req = received()
    first = response_to(req, 100)
    second = response_to(req, 182)
    assert layer.send_response(first, 0.1) == [Send(first, SRC, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING
    assert layer.send_response(second, 0.2) == [Send(second, SRC, KEY)]
    assert layer.receive_request(req, SRC, False, 0.5) == [Send(second, SRC, KEY)]


@pytest.mark.parametrize("provisional_first", [False, True])
@pytest.mark.parametrize("status", [200, 302, 503])
def test_completed_resends_final_until_timer_j(provisional_first: bool, status: int) -> None:
    layer, req = received()
    if provisional_first:
        layer.send_response(response_to(req, 100), 0.1)
    final = response_to(req, status)
    assert layer.send_response(final, 1.0) == [Send(final, SRC, KEY)]
    assert layer.state_of(KEY) is State.COMPLETED
    assert layer.next_deadline() == 33.0  # Timer J = 64*T1
    assert layer.receive_request(req, SRC, False, 2.0) == [Send(final, SRC, KEY)]
    # Another response from the TU in Completed is its mistake (§17.2.2): raised, and
    # nothing changes (the deadline stays Timer J's).
    for late in (500, 100, status):
        with pytest.raises(TransactionError) as refused:
            layer.send_response(response_to(req, late), 2.0)
        assert refused.value.reason == "response_not_allowed"
    assert layer.state_of(KEY) is State.COMPLETED
    assert layer.next_deadline() == 33.0
    assert drain(layer, 100.0) == [(33.0, Terminated(KEY))]
    # Afterwards the same request is new again.
    assert layer.receive_request(req, SRC, False, 40.0) == [DeliverRequest(req, KEY)]


def test_reliable_final_ends_at_once() -> None:
    layer, req = received(reliable=True)
    ok = response_to(req, 200)
    assert layer.send_response(ok, 1.0) == [Send(ok, SRC, KEY), Terminated(KEY)]
    assert len(layer) == 0 and layer.timer_count == 0


def test_response_without_transaction_raises() -> None:
    layer, req = received(reliable=True)
    layer.send_response(response_to(req, 200), 1.0)
    with pytest.raises(TransactionError) as info:
        layer.send_response(response_to(req, 200), 1.1)
    assert info.value.reason == "no_transaction"


@pytest.mark.parametrize("state", ["proceeding", "completed"])
def test_transport_error_informs_tu_and_keeps_state(state: str) -> None:
    layer, req = received()
    status = 180 if state == "proceeding" else 200
    response = response_to(req, status)
    layer.send_response(response, 0.1)
    before = layer.state_of(KEY)
    assert layer.transport_error(KEY, "unreachable", 0.2) == [DeliverError("unreachable", KEY)]
    assert layer.state_of(KEY) is before
    assert layer.receive_request(req, SRC, False, 0.3) == [Send(response, SRC, KEY)]
