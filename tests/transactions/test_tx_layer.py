"""TransactionLayer as a whole: contract errors, timer ordering, the timer queue, the
generated diagrams, the sans-I/O rule, and a leak test on a fake clock."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import Message, Method, RequestLine, StatusLine, TransactionError
from sippet.transactions import (
    ClientKey,
    DeliverError,
    DeliverRequest,
    DeliverResponse,
    Send,
    ServerKey,
    Terminated,
    TimerSettings,
    TransactionLayer,
    diagrams,
)
from sippet.transactions.timers import TimerQueue
from tx_factory import drain, invite, kinds, request, response_to, via

PACKAGE = Path(diagrams.__file__).parent
DOC = Path(__file__).parents[2] / "docs" / "transactions.md"


def test_duplicate_client_key_is_refused() -> None:
    layer = TransactionLayer()
    layer.send_request(invite(), "d", False, 0.0)
    with pytest.raises(TransactionError) as info:
        layer.send_request(invite(), "d", False, 0.1)
    assert info.value.reason == "already_started"
    assert layer.client_count == 1


def test_ack_and_branchless_requests_are_refused() -> None:
    layer = TransactionLayer()
    with pytest.raises(TransactionError) as info:
        layer.send_request(request(Method.ACK), "d", False, 0.0)
    assert info.value.reason == "ack_not_allowed"
    with pytest.raises(TransactionError) as info:
        layer.send_request(request(branch=None), "d", False, 0.0)
    assert info.value.reason == "no_branch"
    with pytest.raises(TransactionError) as info:
        layer.receive_request(response_to(invite(), 200), "s", False, 0.0)
    assert info.value.reason == "not_a_request"
    no_via = request()
    del no_via.headers["via"]
    with pytest.raises(TransactionError) as info:
        layer.receive_request(no_via, "s", False, 0.0)
    assert info.value.reason == "invalid_message"
    assert len(layer) == 0


def test_response_without_cseq_has_no_transaction() -> None:
    layer = TransactionLayer()
    bare = Message(StatusLine(200, "OK"), {"via": [via()]})
    with pytest.raises(TransactionError):
        layer.send_response(bare, 0.0)
    assert layer.receive_response(bare, 0.0)[0].key is None


def test_terminate_removes_at_once_and_is_idempotent() -> None:
    layer = TransactionLayer()
    key, _ = layer.send_request(invite(), "d", False, 0.0)
    assert layer.terminate(key, 1.0) == [Terminated(key)]
    assert len(layer) == 0 and layer.state_of(key) is None
    assert layer.terminate(key, 1.0) == []
    assert layer.next_deadline() is None
    assert drain(layer, 100.0) == [] and layer.timer_count == 0


def test_timers_of_several_transactions_fire_in_deadline_order() -> None:
    layer = TransactionLayer()
    k1, _ = layer.send_request(invite(branch="z9hG4bK1"), "a", False, 0.0)
    k2, _ = layer.send_request(request(branch="z9hG4bK2"), "b", False, 0.25)
    actions = layer.handle_timers(4.0)
    # INVITE: A at 0.5, 1.5, 3.5; OPTIONS: E at 0.75, 1.75, 3.75.
    assert [a.key for a in actions] == [k1, k2, k1, k2, k1, k2]
    assert layer.next_deadline() == 7.5


def test_next_deadline_ignores_cancelled_timers() -> None:
    layer = TransactionLayer()
    inv = invite()
    layer.send_request(inv, "d", False, 0.0)
    other, _ = layer.send_request(request(branch="z9hG4bKx"), "d", True, 0.0)
    layer.receive_response(response_to(inv, 180), 0.1)  # A and B of the INVITE stop
    assert layer.next_deadline() == 32.0  # F of the OPTIONS, not 0.5
    assert drain(layer, 40.0) == [(32.0, DeliverError("timeout", other)), (32.0, Terminated(other))]


class Owner:
    """A timer owner for the queue tests: ``entry`` is its live entry (TimerOwner)."""

    __slots__ = ("entry", "name")

    def __init__(self, name: object) -> None:
        self.name = name
        self.entry: tuple[float, Any, float] | None = None


def popped(queue: TimerQueue[Owner], now: float) -> tuple[float, object] | None:
    due = queue.pop_due(now)
    if due is None:
        return None
    assert due[1].entry is None  # no longer live
    return due[0], due[1].name


def test_timer_queue_removes_the_last_pushed_entry_at_once() -> None:
    queue: TimerQueue[Owner] = TimerQueue()
    first = queue.push(1.0, Owner("a"), 1.0)
    queue.push(2.0, Owner("b"), 1.0)
    last = queue.push(3.0, Owner("c"), 1.0)
    queue.cancel(last)  # the tail of its FIFO: gone at once
    assert len(queue) == 2 and queue.live == 2
    queue.cancel(first)  # not the tail: dropped lazily
    assert len(queue) == 2 and queue.live == 1
    queue.cancel(last)  # a second cancel changes nothing
    assert len(queue) == 2 and queue.live == 1
    assert popped(queue, 10.0) == (2.0, "b")
    assert popped(queue, 10.0) is None
    assert len(queue) == 0


def test_timer_queue_drops_cancelled_entries_in_bulk() -> None:
    queue: TimerQueue[Owner] = TimerQueue()
    entries = [queue.push(float(i), Owner(f"t{i}")) for i in range(5000)]
    for entry in entries[:4000]:
        queue.cancel(entry)
    assert len(queue) < 5000  # rebuilt once the cancelled outnumbered the live
    assert queue.live == 1000
    assert queue.next_deadline() == 4000.0
    assert popped(queue, 4000.5) == (4000.0, "t4000")
    assert popped(queue, 4000.5) is None


def test_timer_settings_are_checked_and_derived() -> None:
    assert TimerSettings().timeout == 32.0
    assert TimerSettings(t1=0.25).timeout == 16.0
    with pytest.raises(ValueError):
        TimerSettings(t1=0.0)
    with pytest.raises(ValueError):
        TimerSettings(t1=5.0, t2=4.0)
    with pytest.raises(ValueError):
        TimerSettings(trying_delay=-1.0)


def test_package_does_no_io() -> None:
    forbidden = {"asyncio", "socket", "time", "select", "selectors", "threading", "os"}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & forbidden, f"{path.name} imports {names & forbidden}"


def test_committed_diagrams_match_the_tables() -> None:
    assert diagrams.markdown() in DOC.read_text()


# The transitions each machine must have, written from the RFC figures and text (not from
# the tables): (state, event, next state). "Figure n" is RFC 3261's, "6026 Figure n" the
# replacement in RFC 6026 §8.4/§8.6; §17.1.4 makes any transport error end a client
# transaction, and RFC 6026 §8.8 (amending §17.2.4) keeps a server transaction in its state.
_CLIENT_INVITE = {
    ("Calling", "Timer A", "Calling"),  # 6026 Figure 5: reset A, INVITE sent
    ("Calling", "Timer B", "Terminated"),  # inform TU
    ("Calling", "1xx", "Proceeding"),
    ("Calling", "2xx", "Accepted"),
    ("Calling", "300-699", "Completed"),  # ACK sent
    ("Calling", "transport error", "Terminated"),
    ("Proceeding", "1xx", "Proceeding"),
    ("Proceeding", "2xx", "Accepted"),
    ("Proceeding", "300-699", "Completed"),
    ("Proceeding", "transport error", "Terminated"),  # §17.1.4
    ("Completed", "300-699", "Completed"),  # retransmission: ACK sent again
    ("Completed", "Timer D", "Terminated"),
    ("Completed", "transport error", "Terminated"),
    ("Accepted", "2xx", "Accepted"),  # 2xx to TU
    ("Accepted", "Timer M", "Terminated"),
    ("Accepted", "transport error", "Terminated"),  # §17.1.4
}
_CLIENT_NON_INVITE = {
    ("Trying", "Timer E", "Trying"),  # Figure 6
    ("Trying", "Timer F", "Terminated"),
    ("Trying", "transport error", "Terminated"),
    ("Trying", "1xx", "Proceeding"),
    ("Trying", "200-699", "Completed"),
    ("Proceeding", "Timer E", "Proceeding"),
    ("Proceeding", "Timer F", "Terminated"),
    ("Proceeding", "transport error", "Terminated"),
    ("Proceeding", "1xx", "Proceeding"),
    ("Proceeding", "200-699", "Completed"),
    ("Completed", "200-699", "Completed"),  # §17.1.2.2: buffers retransmissions
    ("Completed", "Timer K", "Terminated"),
    ("Completed", "transport error", "Terminated"),  # §17.1.4
}
_SERVER_INVITE = {
    ("Proceeding", "request", "Proceeding"),  # 6026 Figure 7: INVITE, send response
    ("Proceeding", "100 Trying delay", "Proceeding"),  # send 100 if TU won't in 200 ms
    ("Proceeding", "1xx", "Proceeding"),  # 101-199 from TU
    ("Proceeding", "2xx", "Accepted"),
    ("Proceeding", "300-699", "Completed"),
    ("Proceeding", "transport error", "Proceeding"),
    ("Completed", "request", "Completed"),  # INVITE, send response
    ("Completed", "Timer G", "Completed"),
    ("Completed", "ACK", "Confirmed"),
    ("Completed", "Timer H", "Terminated"),
    ("Completed", "transport error", "Completed"),
    ("Accepted", "request", "Accepted"),  # INVITE absorbed (6026 §8.7)
    ("Accepted", "ACK", "Accepted"),  # to TU
    ("Accepted", "2xx", "Accepted"),  # 2xx from TU, send
    ("Accepted", "Timer L", "Terminated"),
    ("Accepted", "transport error", "Accepted"),
    ("Confirmed", "ACK", "Confirmed"),  # §17.2.1: Confirmed absorbs further ACKs
    ("Confirmed", "Timer I", "Terminated"),
}
_SERVER_NON_INVITE = {
    ("Trying", "request", "Trying"),  # §17.2.2: retransmissions discarded in Trying
    ("Trying", "1xx", "Proceeding"),  # Figure 8
    ("Trying", "200-699", "Completed"),
    ("Proceeding", "request", "Proceeding"),  # send response
    ("Proceeding", "1xx", "Proceeding"),
    ("Proceeding", "200-699", "Completed"),
    ("Proceeding", "transport error", "Proceeding"),
    ("Completed", "request", "Completed"),  # send response
    ("Completed", "Timer J", "Terminated"),
    ("Completed", "transport error", "Completed"),
}
RFC_TRANSITIONS = {
    "ClientInviteTransaction": ("Calling", _CLIENT_INVITE),
    "ClientNonInviteTransaction": ("Trying", _CLIENT_NON_INVITE),
    "ServerInviteTransaction": ("Proceeding", _SERVER_INVITE),
    "ServerNonInviteTransaction": ("Trying", _SERVER_NON_INVITE),
}


@pytest.mark.parametrize(
    "title, machine", diagrams.MACHINES, ids=lambda v: getattr(v, "__name__", "")
)
def test_tables_have_exactly_the_rfc_transitions(title: str, machine: Any) -> None:
    initial, expected = RFC_TRANSITIONS[machine.__name__]
    assert machine.INITIAL.value == initial
    actual = {
        (source.value, event.value, edge.target.value)
        for (source, event), edge in machine.TABLE.items()
    }
    assert actual - expected == set(), "transitions the RFC does not have"
    assert expected - actual == set(), "RFC transitions missing from the table"
    # Every transition the diagram shows is one of the table's, so the docs show the RFC.
    arrows = diagrams.mermaid(machine).splitlines()[2:-1]
    assert len(arrows) == len(expected)
    for source, _event, target in expected:
        assert any(line.strip().startswith(f"{source} --> {target}: ") for line in arrows)


# -- leak test -----------------------------------------------------------------------------

N = 100_000


def _with_branch(template: Message, branch: str) -> Message:
    headers = dict(template.headers)
    headers["via"] = [via(branch)]
    return Message(template.start_line, headers)


def _run(layer: TransactionLayer, step: Any) -> tuple[int, int]:
    """Start N transactions 100 us apart; return (Terminated count, distinct keys)."""
    terminated: list[Any] = []
    now = 0.0
    for i in range(N):
        now = i * 1e-4
        step(i, now, terminated)
        if i % 500 == 0:
            terminated += [a for a in layer.handle_timers(now) if isinstance(a, Terminated)]
    terminated += [a for a in layer.handle_timers(now + 1000.0) if isinstance(a, Terminated)]
    return len(terminated), len({a.key for a in terminated})


def _assert_empty(layer: TransactionLayer) -> None:
    assert len(layer) == 0 and layer.client_count == 0 and layer.server_count == 0
    assert layer.next_deadline() is None
    assert layer.timer_count == 0


def test_leak_client_invite() -> None:
    layer = TransactionLayer()
    template = invite()

    def step(i: int, now: float, out: list[Any]) -> None:
        inv = _with_branch(template, f"z9hG4bKci{i}")
        _, actions = layer.send_request(inv, "d", i % 2 == 0, now)
        kind = i % 4
        if kind == 3:
            return  # times out on Timer B
        actions += layer.receive_response(response_to(inv, 180), now)
        status = 200 if kind < 2 else 486
        actions += layer.receive_response(response_to(inv, status), now)
        out += [a for a in actions if isinstance(a, Terminated)]

    assert _run(layer, step) == (N, N)
    _assert_empty(layer)


def test_leak_client_non_invite() -> None:
    layer = TransactionLayer()
    template = request(Method.OPTIONS)

    def step(i: int, now: float, out: list[Any]) -> None:
        req = _with_branch(template, f"z9hG4bKcn{i}")
        _, actions = layer.send_request(req, "d", i % 2 == 0, now)
        if i % 5 != 4:
            actions += layer.receive_response(response_to(req, 200), now)
        out += [a for a in actions if isinstance(a, Terminated)]

    assert _run(layer, step) == (N, N)
    _assert_empty(layer)


def test_leak_server_invite() -> None:
    layer = TransactionLayer()
    template = invite()

    def step(i: int, now: float, out: list[Any]) -> None:
        inv = _with_branch(template, f"z9hG4bKsi{i}")
        reliable = i % 2 == 0
        actions = layer.receive_request(inv, "s", reliable, now)
        kind = i % 3
        if kind == 0:
            actions += layer.send_response(response_to(inv, 200), now)
        else:
            busy = response_to(inv, 486)
            actions += layer.send_response(busy, now)
            if kind == 1:  # ACKed; otherwise Timer H
                ack = _with_branch(template, f"z9hG4bKsi{i}")
                line = ack.start_line
                assert isinstance(line, RequestLine)
                ack.start_line = line._replace(method=Method.ACK)
                ack.headers["to"] = busy.headers["to"]
                actions += layer.receive_request(ack, "s", reliable, now)
        out += [a for a in actions if isinstance(a, Terminated)]

    assert _run(layer, step) == (N, N)
    _assert_empty(layer)


def test_leak_server_non_invite() -> None:
    layer = TransactionLayer()
    template = request(Method.REGISTER)

    def step(i: int, now: float, out: list[Any]) -> None:
        req = _with_branch(template, f"z9hG4bKsn{i}")
        actions = layer.receive_request(req, "s", i % 2 == 0, now)
        actions += layer.send_response(response_to(req, 200), now)
        out += [a for a in actions if isinstance(a, Terminated)]

    assert _run(layer, step) == (N, N)
    _assert_empty(layer)


def test_send_actions_reference_the_given_destination() -> None:
    layer = TransactionLayer()
    destination = object()
    key, actions = layer.send_request(invite(), destination, False, 0.0)
    assert actions[0] == Send(actions[0].message, destination, key)  # type: ignore[union-attr]
    assert isinstance(key, ClientKey) and not isinstance(key, ServerKey)
    assert kinds(layer.handle_timers(0.5)) == ["Send"]


def test_actions_are_frozen_values_with_keyword_and_match_support() -> None:
    key = ClientKey("z9hG4bKa", "INVITE")
    send = Send(message=None, destination="d", key=key)  # type: ignore[arg-type]
    assert send == Send(None, "d", key)  # type: ignore[arg-type]
    assert send != Send(None, "elsewhere", key)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        send.key = key  # type: ignore[misc]
    # Values of one class: same fields in another action class are another action.
    response = Message(StatusLine(200, "OK"), {})
    assert DeliverResponse(response, key) != DeliverRequest(response, None)
    assert DeliverResponse(response, None) != DeliverRequest(response, None)
    assert DeliverResponse(response, None) == DeliverResponse(response, None)
    assert len({Terminated(key), Terminated(key), DeliverError("x", key)}) == 2
    match DeliverError("timeout", key):
        case DeliverError(reason, matched):
            assert (reason, matched) == ("timeout", key)
        case _:
            pytest.fail("DeliverError did not match its class pattern")
    assert repr(Terminated(key)) == f"Terminated(key={key!r})"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 100, allow_nan=False),
            st.sampled_from([0.5, 1.0, 4.0, 32.0]),
            st.booleans(),
        ),
        max_size=200,
    )
)
def test_timer_queue_pops_live_entries_in_deadline_order(
    pushes: list[tuple[float, float, bool]],
) -> None:
    # Bases in any order: entries that break their FIFO's order take the fallback heap.
    queue: TimerQueue[Owner] = TimerQueue()
    expected = []
    for i, (base, delay, cancelled) in enumerate(pushes):
        entry = queue.push(base + delay, Owner(i), delay)
        if cancelled:
            queue.cancel(entry)
        else:
            expected.append((base + delay, i))
    fired = []
    while (due := popped(queue, 200.0)) is not None:
        fired.append(due)
    assert [d for d, _ in fired] == sorted(d for d, _ in expected)
    assert sorted(fired) == sorted(expected)  # type: ignore[type-var]
    assert len(queue) == 0 and queue.next_deadline() is None
