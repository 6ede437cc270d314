"""What the layer's hot paths promise beyond the state machines: messages are let go as
soon as the state no longer needs them, and the timer sweep of ``handle_timers`` (runs of
one FIFO, timers that only end fired inline) keeps the deadline order of ``pop_due``."""

from __future__ import annotations

import sys
from typing import Any

from sippet import Message, Method
from sippet.transactions import (
    DeliverError,
    DeliverRequest,
    Send,
    State,
    Terminated,
    TimerSettings,
    TransactionLayer,
)
from tx_factory import ack_for, drain, invite, request, response_to


def held(message: Message) -> int:
    """References to ``message`` besides the caller's variable and this call's argument."""
    return sys.getrefcount(message) - 2


# -- messages are released ------------------------------------------------------------------


def started(layer: TransactionLayer, req: Message, now: float, reliable: bool = False) -> Any:
    """Receive ``req`` as a new request; the key of its server transaction."""
    (deliver,) = layer.receive_request(req, "src", reliable, now)
    assert isinstance(deliver, DeliverRequest) and deliver.key is not None
    return deliver.key


def test_completed_server_non_invite_keeps_the_response_not_the_request() -> None:
    layer = TransactionLayer()
    req = request()
    base = held(req)
    key = started(layer, req, 0.0)
    assert held(req) == base + 1
    ok = response_to(req, 200)
    layer.send_response(ok, 0.1)
    assert held(req) == base  # §17.2.2: Completed only resends the final response
    # ... which it still does for a retransmitted request, until Timer J.
    assert layer.receive_request(req, "src", False, 1.0) == [Send(ok, "src", key)]
    drain(layer, 100.0)
    assert len(layer) == 0


def test_rfc2543_server_transaction_keeps_its_request_for_matching() -> None:
    layer = TransactionLayer()
    req = request(branch=None)
    base = held(req)
    started(layer, req, 0.0)
    layer.send_response(response_to(req, 200), 0.1)
    assert held(req) == base + 1  # §17.2.3: Request-URI and To tag are compared with it
    merged = request(branch=None, to_tag="x")  # same key, another To tag: not a retransmission
    assert layer.receive_request(merged, "src", False, 0.2) == [DeliverRequest(merged, None)]


def test_server_invite_releases_the_invite_after_a_final_response() -> None:
    for status in (200, 486):
        layer = TransactionLayer()
        inv = invite()
        base = held(inv)
        key = started(layer, inv, 0.0)
        layer.send_response(response_to(inv, 180), 0.05)
        assert held(inv) == base + 1  # Proceeding: the 100 Trying may still be built
        final = response_to(inv, status)
        layer.send_response(final, 0.1)
        assert held(inv) == base
        # A retransmitted INVITE: absorbed in Accepted, answered in Completed.
        again = layer.receive_request(inv, "src", False, 0.2)
        assert again == ([] if status == 200 else [Send(final, "src", key)])
        if status == 486:
            assert layer.receive_request(ack_for(inv, final), "src", False, 0.3) == []
            assert layer.state_of(key) is State.CONFIRMED
        drain(layer, 100.0)
        assert len(layer) == 0


def test_client_transactions_release_the_request_when_done_with_it() -> None:
    # Accepted (2xx) and Completed (non-INVITE final) need the request no more; Completed
    # after a 300-699 keeps the ACK it built, which it resends for each retransmission.
    for req, status in ((invite(), 200), (request(Method.OPTIONS), 200), (invite(), 486)):
        layer = TransactionLayer()
        base = held(req)
        key = layer.send_request(req, "dst", False, 0.0)[0]  # the Send action dropped
        assert held(req) == base + 1
        final = response_to(req, status)
        first = layer.receive_response(final, 0.1)
        assert held(req) == base
        if status == 486:
            (ack,) = [a for a in first if isinstance(a, Send)]
            assert layer.receive_response(final, 0.2) == [Send(ack.message, "dst", key)]
        drain(layer, 100.0)
        assert len(layer) == 0


# -- timer sweep ------------------------------------------------------------------------------


def test_sweep_fires_many_timeouts_in_deadline_order_across_fifos() -> None:
    # Interleaved Timer J (server non-INVITE, 32 s), Timer K (client non-INVITE after a
    # 200, T4 = 5 s) and Timer F (client non-INVITE never answered, reliable, 32 s), all
    # fired by one late call: every end in deadline order; F also reports a timeout.
    layer = TransactionLayer()
    expected: list[tuple[float, Any]] = []
    timed_out = []
    for i in range(30):
        now = i * 0.25
        if i % 3 == 0:
            req = request(branch=f"z9hG4bKs{i}")
            key = started(layer, req, now)
            layer.send_response(response_to(req, 200), now)
            expected.append((now + 32.0, key))
        elif i % 3 == 1:
            req = request(branch=f"z9hG4bKk{i}")
            key, _ = layer.send_request(req, "dst", False, now)
            layer.receive_response(response_to(req, 200), now + 0.125)  # before E (0.5)
            expected.append((now + 0.125 + 5.0, key))
        else:
            key, _ = layer.send_request(request(branch=f"z9hG4bKf{i}"), "dst", True, now)
            expected.append((now + 32.0, key))
            timed_out.append(key)
    actions = layer.handle_timers(1000.0)
    in_order = [key for _, key in sorted(expected, key=lambda item: item[0])]
    assert [a.key for a in actions if isinstance(a, Terminated)] == in_order
    assert [a.key for a in actions if isinstance(a, DeliverError)] == timed_out
    assert len(layer) == 0 and layer.timer_count == 0


def test_sweep_breaks_a_tie_between_two_fifos_like_pop_due() -> None:
    # Timer J (32 s) started at 0 and Timer K (T4 = 5 s) started at 27 are both due at 32:
    # equal deadlines in two FIFOs; the smaller delay (K) goes first, as in pop_due.
    layer = TransactionLayer()
    server = request(branch="z9hG4bKserver")
    skey = started(layer, server, 0.0)
    layer.send_response(response_to(server, 200), 0.0)
    client = request(branch="z9hG4bKclient")
    ckey, _ = layer.send_request(client, "dst", False, 26.9)
    layer.receive_response(response_to(client, 200), 27.0)
    actions = layer.handle_timers(40.0)
    assert actions == [Terminated(ckey), Terminated(skey)]


def test_sweep_stops_at_now_and_resumes() -> None:
    layer = TransactionLayer()
    keys = []
    for i in range(10):
        req = request(branch=f"z9hG4bK{i}")
        keys.append(started(layer, req, float(i)))
        layer.send_response(response_to(req, 404), float(i))
    first = layer.handle_timers(32.0 + 4.5)  # Timer J of the first five (32 .. 36 s)
    assert first == [Terminated(key) for key in keys[:5]]
    assert layer.next_deadline() == 37.0
    assert layer.handle_timers(100.0) == [Terminated(key) for key in keys[5:]]


def test_sweep_mixes_retransmissions_and_ends() -> None:
    # A client INVITE in Calling (Timer A: T1, doubling) among server non-INVITE
    # transactions whose Timer J fires: retransmissions leave the run for the full path, and
    # everything stays in deadline order.
    t1 = 0.0625  # 64*T1 = 4 s
    layer = TransactionLayer(TimerSettings(t1=t1))
    inv = invite(branch="z9hG4bKinv")
    layer.send_request(inv, "dst", False, 0.0)
    ends_at = {}
    for i in range(4):
        req = request(branch=f"z9hG4bKj{i}")
        started(layer, req, i * 0.1)
        layer.send_response(response_to(req, 200), i * 0.1)
        ends_at[f"z9hG4bKj{i}"] = i * 0.1 + 64 * t1
    out = drain(layer, 10.0)
    assert [t for t, a in out if isinstance(a, Send)] == [
        0.0625,
        0.1875,
        0.4375,
        0.9375,
        1.9375,
        3.9375,
    ]
    ends = [(t, a.key.branch) for t, a in out if isinstance(a, Terminated)]
    # Timer B (4.0) was filed after the J entries with larger deadlines (out of its FIFO's
    # order, so in the fallback heap): J0 first on the tie, as pop_due does.
    assert ends == [
        (ends_at["z9hG4bKj0"], "z9hG4bKj0"),
        (4.0, "z9hG4bKinv"),
        (ends_at["z9hG4bKj1"], "z9hG4bKj1"),
        (ends_at["z9hG4bKj2"], "z9hG4bKj2"),
        (ends_at["z9hG4bKj3"], "z9hG4bKj3"),
    ]
    assert len(layer) == 0 and layer.timer_count == 0
