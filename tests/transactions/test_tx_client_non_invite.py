"""Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6)."""

from __future__ import annotations

import pytest
from sippet import Message, Method
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
from tx_factory import BRANCH, drain, kinds, request, response_to

KEY = ClientKey(BRANCH, "OPTIONS")


def started(
    reliable: bool = False, settings: TimerSettings | None = None
) -> tuple[TransactionLayer, Message]:
    layer = TransactionLayer(settings)
    req = request(Method.OPTIONS)
    key, actions = layer.send_request(req, ("10.0.0.1", 5060), reliable, 0.0)
    assert key == KEY and actions == [Send(req, ("10.0.0.1", 5060), KEY)]
    return layer, req


def test_timer_e_doubles_capped_at_t2_and_timer_f_times_out() -> None:
    layer, _ = started()
    events = drain(layer, 100.0)
    sends = [t for t, a in events if isinstance(a, Send)]
    assert sends == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert events[-2:] == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]
    assert len(layer) == 0


def test_timer_e_cap_follows_t2() -> None:
    layer, _ = started(settings=TimerSettings(t2=2.0))
    sends = [t for t, a in drain(layer, 10.0) if isinstance(a, Send)]
    assert sends == [0.5, 1.5, 3.5, 5.5, 7.5, 9.5]


def test_reliable_has_no_timer_e_and_final_ends_at_once() -> None:
    layer, req = started(reliable=True)
    assert layer.next_deadline() == 32.0
    ok = response_to(req, 200)
    assert layer.receive_response(ok, 1.0) == [DeliverResponse(ok, KEY), Terminated(KEY)]
    assert len(layer) == 0


def test_reliable_timeout_without_retransmissions() -> None:
    layer, _ = started(reliable=True)
    assert drain(layer, 100.0) == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]


def test_proceeding_retransmits_every_t2() -> None:
    layer, req = started()
    assert layer.handle_timers(0.5) != []  # first retransmission; next E at 1.5
    trying = response_to(req, 100)
    assert layer.receive_response(trying, 0.7) == [DeliverResponse(trying, KEY)]
    assert layer.state_of(KEY) is State.PROCEEDING
    events = drain(layer, 20.0)
    assert [t for t, a in events if isinstance(a, Send)] == [1.5, 5.5, 9.5, 13.5, 17.5]
    another = response_to(req, 180)
    assert layer.receive_response(another, 20.0) == [DeliverResponse(another, KEY)]


def test_timer_f_fires_in_proceeding() -> None:
    layer, req = started()
    layer.receive_response(response_to(req, 100), 0.1)
    events = drain(layer, 100.0)
    assert events[-2:] == [(32.0, DeliverError("timeout", KEY)), (32.0, Terminated(KEY))]


@pytest.mark.parametrize("status", [200, 404, 699])
@pytest.mark.parametrize("provisional_first", [False, True])
def test_final_completes_absorbs_retransmissions_until_k(
    status: int, provisional_first: bool
) -> None:
    layer, req = started()
    if provisional_first:
        layer.receive_response(response_to(req, 100), 0.1)
    final = response_to(req, status)
    assert layer.receive_response(final, 1.0) == [DeliverResponse(final, KEY)]
    assert layer.state_of(KEY) is State.COMPLETED
    assert layer.next_deadline() == 6.0  # Timer K = T4, no more Timer E or F
    assert layer.receive_response(final, 2.0) == []
    assert layer.receive_response(response_to(req, 180), 2.0) == []
    assert drain(layer, 100.0) == [(6.0, Terminated(KEY))]
    assert layer.receive_response(final, 7.0) == [DeliverResponse(final, None)]


@pytest.mark.parametrize("state", ["trying", "proceeding", "completed"])
def test_transport_error_informs_tu_and_terminates(state: str) -> None:
    layer, req = started()
    if state == "proceeding":
        layer.receive_response(response_to(req, 100), 0.1)
    elif state == "completed":
        layer.receive_response(response_to(req, 200), 0.1)
    assert kinds(layer.transport_error(KEY, "connection_reset", 0.2)) == [
        "DeliverError",
        "Terminated",
    ]
    assert len(layer) == 0
    assert drain(layer, 100.0) == [] and layer.timer_count == 0
