"""Random sequences of inputs: the layer's bookkeeping holds whatever the order.

Invariants: every created transaction gets exactly one Terminated, nothing about a key
follows its Terminated, Send goes to the destination the transaction was created with, and
once the remaining transactions are ended the layer and its timer queue are empty.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import Message, Method, RequestLine, TransactionError
from sippet.transactions import (
    Action,
    ClientKey,
    DeliverRequest,
    Send,
    ServerKey,
    Terminated,
    TransactionKey,
    TransactionLayer,
)
from tx_factory import invite, request, response_to

BRANCHES = ["z9hG4bKa", "z9hG4bKb", None]  # None: an RFC 2543 request
METHODS = [Method.INVITE, Method.OPTIONS]
STATUSES = [100, 180, 200, 486]

op = st.one_of(
    st.tuples(st.just("send_request"), st.sampled_from(BRANCHES[:2]), st.sampled_from(METHODS)),
    st.tuples(st.just("receive_request"), st.sampled_from(BRANCHES), st.sampled_from(METHODS)),
    st.tuples(
        st.just("receive_response"),
        st.sampled_from(BRANCHES[:2]),
        st.sampled_from(METHODS),
        st.sampled_from(STATUSES),
    ),
    st.tuples(
        st.just("send_response"),
        st.sampled_from(BRANCHES),
        st.sampled_from(METHODS),
        st.sampled_from(STATUSES),
    ),
    st.tuples(st.just("ack"), st.sampled_from(BRANCHES), st.sampled_from(STATUSES)),
    st.tuples(st.just("transport_error"), st.integers(0, 5)),
    st.tuples(st.just("terminate"), st.integers(0, 5)),
    st.tuples(st.just("advance"), st.sampled_from([0.1, 0.5, 2.0, 6.0, 40.0])),
)


def _message(branch: str | None, method: Method) -> Message:
    return invite(branch=branch) if method is Method.INVITE else request(method, branch=branch)


class Checker:
    def __init__(self) -> None:
        self.layer = TransactionLayer()
        self.now = 0.0
        self.live: dict[TransactionKey, object] = {}  # key -> destination
        self.created = 0
        self.terminated = 0
        self.seen: list[TransactionKey] = []

    def run(self, actions: list[Action]) -> None:
        for action in actions:
            key = action.key
            if isinstance(action, DeliverRequest) and key is not None and key not in self.live:
                self.live[key] = "in"  # every request comes from "in"
                self.created += 1
                self.seen.append(key)
            elif key is not None:
                assert key in self.live, f"{action!r} about an unknown or ended key"
            if isinstance(action, Send):
                assert action.destination == self.live[action.key]
            if isinstance(action, Terminated):
                del self.live[action.key]
                self.terminated += 1

    def step(self, operation: tuple[Any, ...]) -> None:
        layer, now = self.layer, self.now
        name = operation[0]
        if name == "send_request":
            try:
                key, actions = layer.send_request(
                    _message(operation[1], operation[2]), "out", False, now
                )
            except TransactionError as error:
                assert error.reason == "already_started"
                return
            assert key not in self.live
            self.live[key] = "out"
            self.created += 1
            self.seen.append(key)
            self.run(actions)
        elif name == "receive_request":
            self.run(layer.receive_request(_message(operation[1], operation[2]), "in", False, now))
        elif name == "receive_response":
            sent = _message(operation[1], operation[2])
            self.run(layer.receive_response(response_to(sent, operation[3]), now))
        elif name == "send_response":
            received = _message(operation[1], operation[2])
            before = (len(layer), layer.timer_count, layer.next_deadline())
            try:
                self.run(layer.send_response(response_to(received, operation[3]), now))
            except TransactionError as error:
                # No transaction, or one whose state takes no such response: either way
                # the refusal changes nothing.
                assert error.reason in ("no_transaction", "response_not_allowed")
                assert (len(layer), layer.timer_count, layer.next_deadline()) == before
        elif name == "ack":
            inv = invite(branch=operation[1])
            line = inv.start_line
            assert isinstance(line, RequestLine)
            ack = Message(line._replace(method=Method.ACK), dict(inv.headers))
            ack.headers["to"] = response_to(inv, operation[2]).headers["to"]
            self.run(layer.receive_request(ack, "in", False, now))
        elif name in ("transport_error", "terminate"):
            if self.seen:
                key = self.seen[operation[1] % len(self.seen)]
                if name == "terminate":
                    self.run(layer.terminate(key, now))
                else:
                    self.run(layer.transport_error(key, "unreachable", now))
        else:
            self.now += operation[1]
            self.run(layer.handle_timers(self.now))
        deadline = layer.next_deadline()
        assert deadline is None or deadline > self.now or name != "advance"
        assert len(layer) == len(self.live)


@settings(max_examples=300, deadline=None)
@given(st.lists(op, max_size=40))
def test_bookkeeping_holds_for_any_input_order(operations: list[tuple[Any, ...]]) -> None:
    checker = Checker()
    for operation in operations:
        checker.step(operation)
    for key in list(checker.live):
        checker.run(checker.layer.terminate(key, checker.now))
    checker.run(checker.layer.handle_timers(checker.now + 1e6))
    assert checker.created == checker.terminated
    assert len(checker.layer) == 0 and checker.layer.timer_count == 0
    assert all(isinstance(k, (ClientKey, ServerKey)) for k in checker.seen)
