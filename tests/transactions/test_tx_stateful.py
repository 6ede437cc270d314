"""A Hypothesis state machine against one ``TransactionLayer`` and a reference model.

The model is written from RFC 3261 §17 (Figures 5-8), RFC 6026 (Accepted, §8.8 transport
errors) and docs/transactions.md (timer table, actions, errors). Every input (client and
server requests, responses, ACKs, CANCELs, TU responses, transport errors, terminate,
clock advances) is fed to both; the layer's actions must equal the model's, key by key, and
``state_of``, ``len``, ``next_deadline`` must agree after each step. The model keeps each
transaction's two timer slots (retransmission, timeout) with the same arithmetic as the
RFC's ("now + interval", the interval doubling from the deadline it fired at), so the
deadlines compare exactly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sippet import Message, Method, RequestLine, StatusLine, TransactionError
from sippet.transactions import (
    Action,
    ClientKey,
    DeliverError,
    DeliverRequest,
    DeliverResponse,
    Send,
    ServerKey,
    State,
    Terminated,
    TransactionKey,
    TransactionLayer,
)
from tx_factory import ack_for, cancel_for, invite, request, response_to

T1, T2, T4 = 0.5, 4.0, 5.0
LONG = 64 * T1  # Timers B, F, H, J (unreliable), L, M
TIMER_D = 32.0
TRYING_DELAY = 0.2

CLIENT_BRANCHES = ["z9hG4bKc0", "z9hG4bKc1", "z9hG4bKc2"]
SERVER_BRANCHES: list[str | None] = ["z9hG4bKs0", "z9hG4bKs1", "z9hG4bKs2", None]
"""None: an RFC 2543 request (no branch), matched by the §17.2.3 fallback rules."""
METHODS = ["INVITE", "OPTIONS", "CANCEL"]
STATUSES = [100, 180, 183, 200, 202, 300, 404, 486, 500, 603]
TU_STATUSES = [100, 180, 200, 486, 603]
STEPS = [0.05, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0, 5.0, 8.0, 31.5, 32.0, 33.0, 40.0, 100.0]

Expected = tuple[Any, ...]
"""("Send", key, destination, message | "ACK" | "100"), ("DReq", key, message),
("DResp", key, message), ("Err", key, reason), ("Term", key)."""


@dataclass
class Tx:
    """The model of one live transaction."""

    key: TransactionKey
    invite: bool
    server: bool
    reliable: bool
    peer: object
    request: Message
    state: State
    rt_at: float | None = None
    rt_int: float = 0.0
    to_at: float | None = None
    to_error: bool = False  # B, F, H tell the TU ("timeout"); D, I, J, K, L, M only end
    last_sent: Any = None
    finals: list[int] = field(default_factory=list)

    def next_deadline(self) -> float | None:
        slots = [t for t in (self.rt_at, self.to_at) if t is not None]
        return min(slots) if slots else None


def _build_request(method: str, branch: str | None) -> Message:
    if method == "INVITE":
        return invite(branch=branch)
    if method == "CANCEL":
        return cancel_for(invite(branch=branch))
    return request(Method.OPTIONS, branch=branch)


def _branch_of(key: TransactionKey) -> str | None:
    """The branch a server key was made from; None for the RFC 2543 synthetic one."""
    return None if key.branch.startswith("rfc2543 ") else key.branch


def _describe(action: Action) -> Expected:
    assert isinstance(action, (Send, DeliverRequest, DeliverResponse, DeliverError, Terminated))
    if isinstance(action, Send):
        return ("Send", action.key, action.destination, action.message)
    if isinstance(action, DeliverRequest):
        return ("DReq", action.key, action.request)
    if isinstance(action, DeliverResponse):
        return ("DResp", action.key, action.response)
    if isinstance(action, DeliverError):
        return ("Err", action.key, action.reason)
    return ("Term", action.key)


def _same(actual: Expected, expected: Expected) -> bool:
    if actual[0] == "Term" or expected[0] == "Term":
        return actual == expected
    if len(actual) != len(expected) or actual[:-1] != expected[:-1]:
        return False
    got, want = actual[-1], expected[-1]
    if want == "ACK":  # §17.1.1.3: built by the client transaction
        line = got.start_line
        return (
            isinstance(line, RequestLine)
            and line.method == Method.ACK
            and got.headers["cseq"].method == Method.ACK
            and len(got.headers["via"]) == 1
        )
    if want == "100":  # §17.2.1, §8.2.6: built by the server transaction
        line = got.start_line
        return isinstance(line, StatusLine) and line.status_code == 100
    if isinstance(want, str):
        return bool(got == want)  # a transport error reason
    return got is want


def _assert_actions(actual: list[Action], expected: list[Expected]) -> None:
    described = [_describe(a) for a in actual]
    assert len(described) == len(expected) and all(
        _same(a, e) for a, e in zip(described, expected, strict=True)
    ), f"actions {described!r}\n  expected {expected!r}"


class TransactionLayerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.layer = TransactionLayer()
        self.now = 0.0
        self.live: dict[TransactionKey, Tx] = {}
        self.seen: list[TransactionKey] = []
        self.responses: list[Message] = []  # for duplicates and late responses
        self.counter = itertools.count()

    # -- model helpers ---------------------------------------------------------------------

    def _client(self, branch: str, method: str) -> Tx | None:
        return self.live.get(ClientKey(branch, method))

    def _server(self, branch: str | None, method: str) -> Tx | None:
        for key, tx in self.live.items():
            if tx.server and _branch_of(key) == branch and key.method == method:
                return tx
        return None

    def _end(self, tx: Tx, out: list[Expected]) -> None:
        out.append(("Term", tx.key))
        del self.live[tx.key]

    def _wait_or_end(self, tx: Tx, delay: float, now: float, out: list[Expected]) -> None:
        """A wait timer (D, I, J, K): zero over reliable transports ends at once."""
        tx.rt_at = None
        tx.to_error = False
        if delay > 0:
            tx.to_at = now + delay
        else:
            tx.to_at = None
            self._end(tx, out)

    def _fire(self, tx: Tx, now: float) -> list[tuple[float, Expected]]:
        """Fire this transaction's timers due at ``now``, each at its own deadline; the
        timeout wins a tie (docs/transactions.md)."""
        out: list[tuple[float, Expected]] = []
        while tx.key in self.live:
            deadline = tx.next_deadline()
            if deadline is None or deadline > now:
                break
            if tx.to_at is not None and tx.to_at <= deadline:
                ended: list[Expected] = []
                if tx.to_error:
                    ended.append(("Err", tx.key, "timeout"))
                self._end(tx, ended)
                out += [(deadline, e) for e in ended]
                break
            assert tx.rt_at is not None
            if tx.server and tx.state is State.PROCEEDING:  # the 100 Trying delay
                tx.rt_at = None
                tx.last_sent = "100"
                out.append((deadline, ("Send", tx.key, tx.peer, "100")))
                continue
            if tx.server:  # Timer G
                tx.rt_int = min(2 * tx.rt_int, T2)
                message = tx.last_sent
            elif tx.invite:  # Timer A, no cap
                tx.rt_int = 2 * tx.rt_int
                message = tx.request
            elif tx.state is State.TRYING:  # Timer E
                tx.rt_int = min(2 * tx.rt_int, T2)
                message = tx.request
            else:  # Timer E in Proceeding
                tx.rt_int = T2
                message = tx.request
            tx.rt_at = deadline + tx.rt_int
            out.append((deadline, ("Send", tx.key, tx.peer, message)))
        return out

    def _model_deadline(self) -> float | None:
        deadlines = [d for tx in self.live.values() if (d := tx.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def _check_finals(self, actions: list[Action]) -> None:
        """§17.1.2.2: one final response per non-INVITE client transaction; RFC 6026 §8.4:
        an INVITE client transaction passes up more than one final only as 2xx."""
        for action in actions:
            if isinstance(action, DeliverResponse) and action.key is not None:
                tx = self.live.get(action.key)
                line = action.response.start_line
                assert isinstance(line, StatusLine)
                if tx is None or line.status_code < 200:
                    continue  # a stray key is caught by the comparison with the model
                tx.finals.append(line.status_code)
                if not tx.invite:
                    assert len(tx.finals) == 1, tx.finals
                elif len(tx.finals) > 1:
                    assert all(200 <= code < 300 for code in tx.finals), tx.finals

    def _run_timers(self, now: float) -> None:
        actions = self.layer.handle_timers(now)
        expected: dict[TransactionKey, list[tuple[float, Expected]]] = {}
        for tx in list(self.live.values()):
            fired = self._fire(tx, now)
            if fired:
                expected[tx.key] = fired
        # Per key, the actions are exactly the model's; across keys, in deadline order.
        by_key: dict[TransactionKey, list[Action]] = {}
        for action in actions:
            assert action.key is not None
            by_key.setdefault(action.key, []).append(action)
        assert set(by_key) == set(expected), (by_key, expected)
        cursor = dict.fromkeys(expected, 0)
        last = -1.0
        for action in actions:
            key = action.key
            assert key is not None
            deadline = expected[key][cursor[key]][0]
            cursor[key] += 1
            assert deadline >= last, "timers fired out of deadline order"
            last = deadline
        for key, fired in expected.items():
            _assert_actions(by_key[key], [e for _, e in fired])
        self._check_terminated(actions)

    def _check_terminated(self, actions: list[Action]) -> None:
        ended = [a.key for a in actions if isinstance(a, Terminated)]
        assert len(ended) == len(set(ended)), "Terminated twice for one key"
        for key in ended:
            assert self.layer.state_of(key) is None
            # Terminated is the last action about its key.
            index = max(i for i, a in enumerate(actions) if a.key == key)
            assert isinstance(actions[index], Terminated)

    def _advance(self, target: float, stepwise: bool) -> None:
        if stepwise:  # wake at each deadline, as a stack does
            while (deadline := self.layer.next_deadline()) is not None and deadline <= target:
                self.now = max(self.now, deadline)
                self._run_timers(self.now)
        self.now = target  # or wake late: each timer must still fire at its own deadline
        while (deadline := self.layer.next_deadline()) is not None and deadline <= self.now:
            self._run_timers(self.now)

    # -- client transactions (§17.1) ------------------------------------------------------

    @rule(
        branch=st.sampled_from(CLIENT_BRANCHES),
        method=st.sampled_from(METHODS),
        reliable=st.booleans(),
    )
    def client_request(self, branch: str, method: str, reliable: bool) -> None:
        req = _build_request(method, branch)
        destination = f"dest-{next(self.counter)}"
        if self._client(branch, method) is not None:
            with pytest.raises(TransactionError) as error:
                self.layer.send_request(req, destination, reliable, self.now)
            assert error.value.reason == "already_started"
            return
        key, actions = self.layer.send_request(req, destination, reliable, self.now)
        assert key == ClientKey(branch, method)
        invite_tx = method == "INVITE"
        tx = Tx(key, invite_tx, False, reliable, destination, req, State.CALLING)
        if not invite_tx:
            tx.state = State.TRYING
        # §17.1.1.2 A and B, §17.1.2.2 E and F.
        tx.to_at, tx.to_error = self.now + LONG, True
        if not reliable:
            tx.rt_at, tx.rt_int = self.now + T1, T1
        self.live[key] = tx
        self.seen.append(key)
        _assert_actions(actions, [("Send", key, destination, req)])

    @rule(branch=st.sampled_from(CLIENT_BRANCHES))
    def client_ack_refused(self, branch: str) -> None:
        inv = invite(branch=branch)
        ack = ack_for(inv, response_to(inv, 486))
        with pytest.raises(TransactionError) as error:
            self.layer.send_request(ack, "dest", False, self.now)
        assert error.value.reason == "ack_not_allowed"

    def _feed_response(self, response: Message) -> None:
        branch = response.headers["via"][0].params["branch"]
        method = str(response.headers["cseq"].method)
        code = response.start_line.status_code
        actions = self.layer.receive_response(response, self.now)
        self._check_finals(actions)
        tx = self._client(branch, method)
        out: list[Expected] = []
        if tx is None:  # stray: no client transaction (§17.1.3)
            out.append(("DResp", None, response))
        elif tx.invite:
            final = tx.state in (State.CALLING, State.PROCEEDING)
            if final and code < 200:
                out.append(("DResp", tx.key, response))
                tx.state, tx.rt_at, tx.to_at = State.PROCEEDING, None, None
            elif final and code < 300:  # RFC 6026 §8.4: Accepted, Timer M
                out.append(("DResp", tx.key, response))
                tx.state, tx.rt_at, tx.to_at, tx.to_error = State.ACCEPTED, None, None, False
                tx.to_at = self.now + LONG
            elif final:  # §17.1.1.2: to the TU, ACK, Timer D
                out.append(("DResp", tx.key, response))
                out.append(("Send", tx.key, tx.peer, "ACK"))
                tx.state = State.COMPLETED
                self._wait_or_end(tx, 0.0 if tx.reliable else TIMER_D, self.now, out)
            elif tx.state is State.COMPLETED and code >= 300:
                out.append(("Send", tx.key, tx.peer, "ACK"))
            elif tx.state is State.ACCEPTED and 200 <= code < 300:
                out.append(("DResp", tx.key, response))
        elif tx.state in (State.TRYING, State.PROCEEDING):
            out.append(("DResp", tx.key, response))
            if code < 200:
                tx.state = State.PROCEEDING
            else:  # §17.1.2.2: Completed, Timer K
                tx.state = State.COMPLETED
                self._wait_or_end(tx, 0.0 if tx.reliable else T4, self.now, out)
        _assert_actions(actions, out)
        self._check_terminated(actions)

    @rule(
        branch=st.sampled_from([*CLIENT_BRANCHES, "z9hG4bKnobody"]),
        method=st.sampled_from(METHODS),
        status=st.sampled_from(STATUSES),
    )
    def client_response(self, branch: str, method: str, status: int) -> None:
        tx = self._client(branch, method)
        req = tx.request if tx is not None else _build_request(method, branch)
        response = response_to(req, status)
        self.responses.append(response)
        self._feed_response(response)

    @rule(index=st.integers(0, 1000), status=st.sampled_from(STATUSES))
    def client_response_to_live(self, index: int, status: int) -> None:
        """A response for a live client transaction (random branches rarely hit one)."""
        clients = [tx for tx in self.live.values() if not tx.server]
        if clients:
            response = response_to(clients[index % len(clients)].request, status)
            self.responses.append(response)
            self._feed_response(response)

    @rule(index=st.integers(0, 1000), status=st.sampled_from(TU_STATUSES))
    def tu_response_to_live(self, index: int, status: int) -> None:
        """The TU answers a live server transaction (a second final included)."""
        servers = [tx for tx in self.live.values() if tx.server]
        if servers:
            self._tu_send(servers[index % len(servers)], status)

    @rule(index=st.integers(0, 1000))
    def client_response_again(self, index: int) -> None:
        """A retransmitted response, possibly after its transaction ended."""
        if self.responses:
            self._feed_response(self.responses[index % len(self.responses)])

    # -- server transactions (§17.2) -------------------------------------------------------

    @rule(
        branch=st.sampled_from(SERVER_BRANCHES),
        method=st.sampled_from(METHODS),
        reliable=st.booleans(),
    )
    def server_request(self, branch: str | None, method: str, reliable: bool) -> None:
        tx = self._server(branch, method)
        if method == "CANCEL":
            inv = self._server(branch, "INVITE")
            cancel = cancel_for(inv.request if inv is not None else invite(branch=branch))
            found = self.layer.find_invite_for_cancel(cancel)
            assert found == (inv.key if inv is not None else None)  # §9.2
        if tx is not None:  # a retransmission: absorbed, maybe the last response resent
            actions = self.layer.receive_request(tx.request, "elsewhere", reliable, self.now)
            # §17.2.1, §17.2.2: Proceeding and Completed resend the last response; Trying,
            # Accepted (RFC 6026 §7.1) and Confirmed absorb.
            out: list[Expected] = []
            if tx.state in (State.PROCEEDING, State.COMPLETED) and tx.last_sent is not None:
                out.append(("Send", tx.key, tx.peer, tx.last_sent))
            _assert_actions(actions, out)
            return
        req = _build_request(method, branch)
        source = f"src-{next(self.counter)}"
        actions = self.layer.receive_request(req, source, reliable, self.now)
        assert len(actions) == 1 and isinstance(actions[0], DeliverRequest)
        key = actions[0].key
        assert isinstance(key, ServerKey)
        assert (_branch_of(key), key.method) == (branch, method)
        assert key not in self.live
        invite_tx = method == "INVITE"
        tx = Tx(key, invite_tx, True, reliable, source, req, State.PROCEEDING)
        if invite_tx:  # §17.2.1: 100 Trying unless the TU answers within 200 ms
            tx.rt_at, tx.rt_int = self.now + TRYING_DELAY, TRYING_DELAY
        else:
            tx.state = State.TRYING
        self.live[key] = tx
        self.seen.append(key)
        _assert_actions(actions, [("DReq", key, req)])

    @rule(branch=st.sampled_from(SERVER_BRANCHES), for_2xx=st.booleans())
    def server_ack(self, branch: str | None, for_2xx: bool) -> None:
        tx = self._server(branch, "INVITE")
        inv = tx.request if tx is not None else invite(branch=branch)
        last = tx.last_sent if tx is not None else None
        answered = last if isinstance(last, Message) else response_to(inv, 486)
        if for_2xx:  # §13.2.2.4: a branch of its own, no transaction
            ack = ack_for(inv, answered, branch=f"z9hG4bKack{next(self.counter)}")
            actions = self.layer.receive_request(ack, "src-ack", False, self.now)
            _assert_actions(actions, [("DReq", None, ack)])
            return
        ack = ack_for(inv, answered)
        actions = self.layer.receive_request(ack, "src-ack", False, self.now)
        out: list[Expected] = []
        if tx is None or tx.state is State.ACCEPTED:  # RFC 6026 §7.1: to the TU
            out.append(("DReq", None, ack))
        elif branch is None and not isinstance(last, Message):
            # §17.2.3, RFC 2543 rules: an ACK matches with the To tag of the response the
            # transaction sent (the ACK above copies it); none sent yet, or the layer's own
            # 100 (no To tag) against an ACK with one: not this transaction's ACK.
            out.append(("DReq", None, ack))
        elif tx.state is State.COMPLETED:  # §17.2.1: Confirmed, Timer I
            tx.state = State.CONFIRMED
            self._wait_or_end(tx, 0.0 if tx.reliable else T4, self.now, out)
        _assert_actions(actions, out)
        self._check_terminated(actions)

    @rule(
        branch=st.sampled_from(SERVER_BRANCHES),
        method=st.sampled_from(METHODS),
        status=st.sampled_from(TU_STATUSES),
    )
    def tu_response(self, branch: str | None, method: str, status: int) -> None:
        tx = self._server(branch, method)
        if tx is None:
            response = response_to(_build_request(method, branch), status)
            with pytest.raises(TransactionError) as error:
                self.layer.send_response(response, self.now)
            assert error.value.reason == "no_transaction"
            return
        self._tu_send(tx, status)

    def _tu_send(self, tx: Tx, status: int) -> None:
        """The TU answers ``tx``: the actions the model expects, or, when the model's state
        takes no such response, ``TransactionError("response_not_allowed")`` and no change
        (the local side's mistake is raised, never absorbed)."""
        response = response_to(tx.request, status)
        out = self._tu_response_model(tx, response, status)
        if out is None:
            with pytest.raises(TransactionError) as error:
                self.layer.send_response(response, self.now)
            assert error.value.reason == "response_not_allowed"
            assert self.layer.state_of(tx.key) is tx.state
            return
        actions = self.layer.send_response(response, self.now)
        _assert_actions(actions, out)
        self._check_terminated(actions)

    def _tu_response_model(self, tx: Tx, response: Message, status: int) -> list[Expected] | None:
        """The actions for the TU's response, ``None`` when the state refuses it."""
        out: list[Expected] = []
        send = ("Send", tx.key, tx.peer, response)
        if tx.invite:
            if tx.state is State.PROCEEDING:
                out.append(send)
                tx.last_sent, tx.rt_at = response, None
                if 200 <= status < 300:  # RFC 6026 §8.5: Accepted, Timer L
                    tx.state, tx.to_at, tx.to_error = State.ACCEPTED, self.now + LONG, False
                elif status >= 300:  # §17.2.1: Completed, G (unreliable) and H
                    tx.state, tx.to_at, tx.to_error = State.COMPLETED, self.now + LONG, True
                    if not tx.reliable:
                        tx.rt_at, tx.rt_int = self.now + T1, T1
            elif tx.state is State.ACCEPTED and 200 <= status < 300:  # RFC 6026 §7.1
                out.append(send)
                tx.last_sent = response
            else:  # Completed, Confirmed, or a non-2xx in Accepted
                return None
        elif tx.state in (State.TRYING, State.PROCEEDING):
            out.append(send)
            tx.last_sent = response
            if status < 200:
                tx.state = State.PROCEEDING
            else:  # §17.2.2: Completed, Timer J
                tx.state = State.COMPLETED
                self._wait_or_end(tx, 0.0 if tx.reliable else LONG, self.now, out)
        else:  # §17.2.2 Completed: the final response was sent
            return None
        return out

    # -- both kinds ------------------------------------------------------------------------

    def _pick(self, index: int) -> TransactionKey:
        if not self.seen:
            return ClientKey("z9hG4bKnone", "OPTIONS")
        return self.seen[index % len(self.seen)]

    @rule(index=st.integers(0, 1000))
    def transport_error(self, index: int) -> None:
        key = self._pick(index)
        actions = self.layer.transport_error(key, "unreachable", self.now)
        tx = self.live.get(key)
        out: list[Expected] = []
        if tx is not None:
            out.append(("Err", key, "unreachable"))
            if not tx.server:  # §17.1.4 ends it; RFC 6026 §8.8 keeps a server's state
                self._end(tx, out)
        _assert_actions(actions, out)
        self._check_terminated(actions)

    @rule(index=st.integers(0, 1000))
    def terminate(self, index: int) -> None:
        key = self._pick(index)
        actions = self.layer.terminate(key, self.now)
        tx = self.live.get(key)
        out: list[Expected] = []
        if tx is not None:
            self._end(tx, out)
        _assert_actions(actions, out)
        self._check_terminated(actions)

    @rule(step=st.sampled_from(STEPS), stepwise=st.booleans())
    def advance(self, step: float, stepwise: bool) -> None:
        self._advance(self.now + step, stepwise)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def agrees_with_model(self) -> None:
        for key in self.seen:
            tx = self.live.get(key)
            assert self.layer.state_of(key) is (None if tx is None else tx.state), key
        assert len(self.layer) == len(self.live)
        assert self.layer.client_count == sum(not tx.server for tx in self.live.values())
        deadline = self.layer.next_deadline()
        assert deadline == self._model_deadline()
        assert deadline is None or deadline > self.now

    def teardown(self) -> None:
        # Far past every timer (10 * 64*T1), then answer or end what waits for the TU.
        self._advance(self.now + 10 * LONG, stepwise=False)
        for tx in list(self.live.values()):
            # Only the states without a timer are left: the TU owes them an answer.
            assert tx.next_deadline() is None
            assert tx.state in (State.TRYING, State.PROCEEDING), tx
            if tx.server:
                status = 486 if tx.invite else 200
                self._tu_send(tx, status)
            else:
                actions = self.layer.terminate(tx.key, self.now)
                _assert_actions(actions, [("Term", tx.key)])
                del self.live[tx.key]
        self._advance(self.now + 10 * LONG, stepwise=False)
        assert not self.live
        assert len(self.layer) == 0
        assert self.layer.next_deadline() is None
        assert self.layer.timer_count == 0


TransactionLayerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
test_transaction_layer_state_machine = TransactionLayerMachine.TestCase
