"""Hypothesis state machine: a UAS ``DialogLayer`` against a reference model of the dialog
rules (RFC 3261 §9.2, §12, §13.3.1.4, §14, §15.1.2).

Calls arrive, are rung (with one of two tags), accepted, rejected, cancelled; the caller
sends ACKs and requests in and out of order (BYE, INFO, UPDATE, re-INVITE) to live and
dead dialogs; the UAS answers re-INVITEs and sends its own; the clock jumps. After each
step the actions returned must be the model's, and the live dialogs, their states, the
INVITEs in progress and ``next_deadline()`` must match the model's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dialog_factory import BOB_VIA, answer, from_caller, invite
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sippet import Message, Method
from sippet.dialogs import (
    Action,
    DeliverRequest,
    DeliverResponse,
    DialogError,
    DialogId,
    DialogLayer,
    DialogSettings,
    DialogState,
    SendAck,
    SendRequest,
    SendResponse,
    StateChanged,
    TerminationReason,
    build_cancel,
)

T1, T2 = 0.5, 4.0
GIVE_UP = 64 * T1
PENDING = 20.0  # a short pending_invite_timeout, so that it fires within a run
MAX_DIALOGS = 4
TAGS = ("tagA", "tagB")
FROM_TAG = "1928301774"
INVITE_SEQ = 5
Event = tuple[str, DialogId | None, object]


@dataclass
class Unacked:
    seq: int
    next_send: float
    interval: float
    give_up: float

    @property
    def deadline(self) -> float:
        return min(self.next_send, self.give_up)


@dataclass
class ModelDialog:
    state: DialogState
    remote_seq: int
    call: str
    unacked: Unacked | None = None
    reinvite: tuple[int, float, Message] | None = None
    """A re-INVITE received and not answered: (CSeq, deadline, request)."""
    own_reinvite: tuple[int, float, Message] | None = None
    """Our re-INVITE without final response: (CSeq, deadline, request)."""
    local_seq: int = 0


@dataclass
class ModelCall:
    invite: Message
    deadline: float
    early: list[DialogId] = field(default_factory=list)
    first_tag: str | None = None


def event(action: Action) -> Event:
    """What the model predicts of an action: its kind, dialog, and detail."""
    match action:
        case StateChanged(dialog_id, state, reason):
            return ("state", dialog_id, (state, reason))
        case SendResponse(response, dialog_id):
            return ("response", dialog_id, response.start_line.status_code)
        case SendRequest(request, dialog_id):
            return ("request", dialog_id, str(request.start_line.method))
        case DeliverRequest(request, dialog_id):
            return ("deliver", dialog_id, str(request.start_line.method))
        case DeliverResponse(response, dialog_id):
            return ("deliver_response", dialog_id, response.start_line.status_code)
        case SendAck(_, dialog_id):
            return ("ack", dialog_id, None)
        case _:
            return ("other", None, action)


class UasDialogMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.layer = DialogLayer(
            BOB_VIA,
            DialogSettings(t1=T1, t2=T2, max_dialogs=MAX_DIALOGS, pending_invite_timeout=PENDING),
        )
        self.now = 0.0
        self.serial = 0
        self.invites: dict[str, Message] = {}  # every INVITE ever received, by Call-ID
        self.calls: dict[str, ModelCall] = {}  # INVITEs not answered finally yet
        self.dialogs: dict[DialogId, ModelDialog] = {}
        self.answered_reinvites: dict[tuple[DialogId, int], float] = {}
        """Our re-INVITEs answered 2xx: the layer keeps them 64*T1 for 2xx retransmissions."""

    # -- helpers ---------------------------------------------------------------------------

    def _has_early(self, call: ModelCall) -> bool:
        return any(dialog_id in self.dialogs for dialog_id in call.early)

    def _reserved(self) -> int:
        """INVITEs holding a place for their first dialog: those with no early dialog."""
        return sum(1 for call in self.calls.values() if not self._has_early(call))

    def _dialog_id(self, call_id: str, tag: str) -> DialogId:
        return DialogId(call_id, tag, FROM_TAG)

    def _end(self, dialog_id: DialogId, reason: TerminationReason) -> Event:
        del self.dialogs[dialog_id]
        return ("state", dialog_id, (DialogState.TERMINATED, reason))

    def _end_call_early(
        self, call: ModelCall, reason: TerminationReason, keep: DialogId | None
    ) -> list[Event]:
        events = []
        for dialog_id in call.early:
            dialog = self.dialogs.get(dialog_id)
            if dialog is not None and dialog_id != keep and dialog.state is DialogState.EARLY:
                events.append(self._end(dialog_id, reason))
        return events

    def _check(self, actions: list[Action], expected: list[Event]) -> None:
        assert [event(action) for action in actions] == expected

    # -- calls ---------------------------------------------------------------------------

    @rule()
    def new_call(self) -> None:
        self.serial += 1
        call_id = f"call{self.serial}@atlanta.com"
        request = invite(call_id=call_id, seq=INVITE_SEQ)
        self.invites[call_id] = request
        actions = self.layer.receive_request(request, self.now)
        if len(self.dialogs) + self._reserved() >= MAX_DIALOGS:
            self._check(actions, [("response", None, 503)])
            return
        self._check(actions, [("deliver", None, "INVITE")])
        self.calls[call_id] = ModelCall(request, self.now + PENDING)

    @precondition(lambda self: self.calls)
    @rule(data=st.data(), tag=st.sampled_from(TAGS), status=st.sampled_from([180, 183]))
    def ring(self, data: st.DataObject, tag: str, status: int) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.calls)))
        call = self.calls[call_id]
        dialog_id = self._dialog_id(call_id, tag)
        actions = self.layer.send_response(answer(call.invite, status, to_tag=tag), self.now)
        expected: list[Event] = []
        full = len(self.dialogs) + self._reserved() >= MAX_DIALOGS
        if self._has_early(call) and dialog_id not in self.dialogs and full:
            # A second tag past max_dialogs: answered, no early dialog.
            self._check(actions, [("response", None, status)])
            return
        if dialog_id not in self.dialogs:
            expected.append(("state", dialog_id, (DialogState.EARLY, None)))
            self.dialogs[dialog_id] = ModelDialog(DialogState.EARLY, INVITE_SEQ, call_id)
            call.early.append(dialog_id)
        if call.first_tag is None:
            call.first_tag = tag
        expected.append(("response", dialog_id, status))
        self._check(actions, expected)

    @precondition(lambda self: self.calls)
    @rule(data=st.data(), tag=st.sampled_from(TAGS))
    def accept(self, data: st.DataObject, tag: str) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.calls)))
        call = self.calls.pop(call_id)
        dialog_id = self._dialog_id(call_id, tag)
        actions = self.layer.send_response(answer(call.invite, 200, to_tag=tag), self.now)
        dialog = self.dialogs.get(dialog_id)
        if dialog is None:
            dialog = self.dialogs[dialog_id] = ModelDialog(
                DialogState.CONFIRMED, INVITE_SEQ, call_id
            )
        dialog.state = DialogState.CONFIRMED
        dialog.unacked = Unacked(INVITE_SEQ, self.now + T1, T1, self.now + GIVE_UP)
        expected: list[Event] = [
            *self._end_call_early(call, TerminationReason.UNCONFIRMED, dialog_id),
            ("state", dialog_id, (DialogState.CONFIRMED, None)),
            ("response", dialog_id, 200),
        ]
        self._check(actions, expected)

    @precondition(lambda self: self.calls)
    @rule(data=st.data(), status=st.sampled_from([404, 486, 603]))
    def reject(self, data: st.DataObject, status: int) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.calls)))
        call = self.calls.pop(call_id)
        tag = call.first_tag or "rejecttag"
        actions = self.layer.send_response(answer(call.invite, status, to_tag=tag), self.now)
        self._check(
            actions,
            [
                ("response", None, status),
                *self._end_call_early(call, TerminationReason.REJECTED, None),
            ],
        )

    @precondition(lambda self: self.invites)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.invites)))
        actions = self.layer.receive_request(build_cancel(self.invites[call_id]), self.now)
        call = self.calls.pop(call_id, None)
        if call is None:
            self._check(actions, [("response", None, 481)])
            return
        expected: list[Event] = [("response", None, 200), ("response", None, 487)]
        expected += self._end_call_early(call, TerminationReason.CANCELLED, None)
        expected.append(("deliver", None, "CANCEL"))
        self._check(actions, expected)
        if call.first_tag is not None:
            # §9.2: the 487 carries the tag the early responses carried.
            terminated = actions[1]
            assert isinstance(terminated, SendResponse)
            assert terminated.response.headers["to"].params["tag"] == call.first_tag

    # -- the caller's requests in dialogs -------------------------------------------------

    def _known_dialog(self, data: st.DataObject) -> tuple[DialogId, Message]:
        """A live dialog most of the time; else any Call-ID and tag (often a dead one)."""
        if self.dialogs and data.draw(st.integers(0, 3)) > 0:
            dialog_id = data.draw(st.sampled_from(sorted(self.dialogs)))
            return dialog_id, self.invites[dialog_id.call_id]
        call_id = data.draw(st.sampled_from(sorted(self.invites)))
        tag = data.draw(st.sampled_from(TAGS))
        return self._dialog_id(call_id, tag), self.invites[call_id]

    @precondition(lambda self: self.invites)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        dialog_id, initial = self._known_dialog(data)
        dialog = self.dialogs.get(dialog_id)
        seq = dialog.unacked.seq if dialog and dialog.unacked else data.draw(st.integers(4, 7))
        ack = from_caller(initial, Method.ACK, seq, dialog_id.local_tag)
        actions = self.layer.receive_request(ack, self.now)
        if dialog is not None and dialog.unacked is not None and dialog.unacked.seq == seq:
            dialog.unacked = None
            self._check(actions, [("deliver", dialog_id, "ACK")])
        else:
            self._check(actions, [])

    @precondition(lambda self: self.invites)
    @rule(
        data=st.data(),
        method=st.sampled_from([Method.BYE, Method.INFO, "UPDATE", Method.INVITE]),
        offset=st.sampled_from([-1, 1, 2]),
    )
    def request(self, data: st.DataObject, method: Method | str, offset: int) -> None:
        dialog_id, initial = self._known_dialog(data)
        dialog = self.dialogs.get(dialog_id)
        seq = max((dialog.remote_seq if dialog else INVITE_SEQ) + offset, 1)
        request = from_caller(initial, method, seq, dialog_id.local_tag)
        actions = self.layer.receive_request(request, self.now)
        if dialog is None:
            self._check(actions, [("response", None, 481)])
            return
        if seq < dialog.remote_seq:
            self._check(actions, [("response", dialog_id, 500)])
            return
        dialog.remote_seq = seq
        call = self.calls.get(dialog.call)
        early_invite = call if call is not None and dialog.state is DialogState.EARLY else None
        if method == Method.BYE:
            expected: list[Event] = []
            if dialog.reinvite is not None:
                expected.append(("response", None, 487))
            elif early_invite is not None:
                del self.calls[dialog.call]
                expected.append(("response", None, 487))
                expected += self._end_call_early(
                    early_invite, TerminationReason.REJECTED, dialog_id
                )
            expected.append(self._end(dialog_id, TerminationReason.BYE))
            expected.append(("deliver", dialog_id, "BYE"))
            self._check(actions, expected)
            return
        if method == Method.INVITE:
            if dialog.reinvite is not None or early_invite is not None:
                self._check(actions, [("response", dialog_id, 500)])
                retry = actions[0].response.headers["retry_after"].seconds  # type: ignore[union-attr]
                assert 0 <= retry <= 10
                return
            if dialog.own_reinvite is not None:
                self._check(actions, [("response", dialog_id, 491)])
                return
            dialog.reinvite = (seq, self.now + PENDING, request)
        self._check(actions, [("deliver", dialog_id, str(method))])

    # -- the UAS's own re-INVITEs and answers ---------------------------------------------

    def _with_reinvite(self) -> list[DialogId]:
        return sorted(d for d, m in self.dialogs.items() if m.reinvite is not None)

    @precondition(lambda self: self._with_reinvite())
    @rule(data=st.data(), status=st.sampled_from([200, 488]))
    def answer_reinvite(self, data: st.DataObject, status: int) -> None:
        dialog_id = data.draw(st.sampled_from(self._with_reinvite()))
        dialog = self.dialogs[dialog_id]
        assert dialog.reinvite is not None
        seq, _, request = dialog.reinvite
        dialog.reinvite = None
        actions = self.layer.send_response(request.to_response(status), self.now)
        if status == 200:
            dialog.unacked = Unacked(seq, self.now + T1, T1, self.now + GIVE_UP)
        self._check(actions, [("response", dialog_id, status)])

    @precondition(lambda self: self.dialogs)
    @rule(data=st.data())
    def send_reinvite(self, data: st.DataObject) -> None:
        dialog_id = data.draw(st.sampled_from(sorted(self.dialogs)))
        dialog = self.dialogs[dialog_id]
        # An early dialog's INVITE is still in progress (§14.1).
        busy = (
            dialog.reinvite is not None
            or dialog.own_reinvite is not None
            or dialog.state is DialogState.EARLY
        )
        try:
            request = self.layer.create_request(dialog_id, Method.INVITE, self.now)
        except DialogError as error:
            assert busy and error.reason == "invite_pending"
            return
        assert not busy
        dialog.local_seq += 1
        assert request.headers["cseq"].seq == dialog.local_seq
        dialog.own_reinvite = (dialog.local_seq, self.now + PENDING, request)

    def _with_own_reinvite(self) -> list[DialogId]:
        return sorted(d for d, m in self.dialogs.items() if m.own_reinvite is not None)

    @precondition(lambda self: self._with_own_reinvite())
    @rule(data=st.data(), status=st.sampled_from([200, 491, 481]))
    def own_reinvite_answered(self, data: st.DataObject, status: int) -> None:
        dialog_id = data.draw(st.sampled_from(self._with_own_reinvite()))
        dialog = self.dialogs[dialog_id]
        assert dialog.own_reinvite is not None
        seq, _, request = dialog.own_reinvite
        dialog.own_reinvite = None
        actions = self.layer.receive_response(
            request.to_response(status, to_tag=FROM_TAG), self.now
        )
        if status == 200:
            self.answered_reinvites[(dialog_id, seq)] = self.now + GIVE_UP
            self._check(actions, [("deliver_response", dialog_id, 200), ("ack", dialog_id, None)])
        elif status == 481:
            self._check(
                actions,
                [self._end(dialog_id, TerminationReason.GONE), ("deliver_response", None, 481)],
            )
        else:
            self._check(actions, [("deliver_response", dialog_id, status)])

    @precondition(lambda self: self.dialogs)
    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        dialog_id = data.draw(st.sampled_from(sorted(self.dialogs)))
        actions = self.layer.terminate(dialog_id, self.now)
        self._check(actions, [self._end(dialog_id, TerminationReason.LOCAL)])

    # -- time ---------------------------------------------------------------------------------

    def _model_deadline(self) -> float | None:
        deadlines = [call.deadline for call in self.calls.values()]
        for dialog in self.dialogs.values():
            if dialog.unacked is not None:
                deadlines.append(dialog.unacked.deadline)
            if dialog.reinvite is not None:
                deadlines.append(dialog.reinvite[1])
            if dialog.own_reinvite is not None:
                deadlines.append(dialog.own_reinvite[1])
        deadlines.extend(self.answered_reinvites.values())
        return min(deadlines, default=None)

    def _fire_model(self, until: float) -> list[Event]:
        events: list[Event] = []
        while (deadline := self._model_deadline()) is not None and deadline <= until:
            for call_id, call in list(self.calls.items()):
                if call.deadline == deadline:
                    del self.calls[call_id]
                    events += self._end_call_early(call, TerminationReason.UNCONFIRMED, None)
            for key, expiry in list(self.answered_reinvites.items()):
                if expiry == deadline:
                    del self.answered_reinvites[key]
            for dialog_id, dialog in list(self.dialogs.items()):
                if dialog.reinvite is not None and dialog.reinvite[1] == deadline:
                    dialog.reinvite = None
                if dialog.own_reinvite is not None and dialog.own_reinvite[1] == deadline:
                    dialog.own_reinvite = None
                unacked = dialog.unacked
                if unacked is None or unacked.deadline != deadline:
                    continue
                if deadline >= unacked.give_up:
                    events.append(self._end(dialog_id, TerminationReason.NO_ACK))
                    events.append(("request", dialog_id, "BYE"))
                else:
                    events.append(("response", dialog_id, 200))
                    unacked.interval = min(unacked.interval * 2, T2)
                    unacked.next_send = deadline + unacked.interval
        return events

    @rule(step=st.sampled_from([0.25, 0.5, 1.0, 3.0, 8.0, 21.0, 33.0]))
    def advance(self, step: float) -> None:
        self.now += step
        actions = self.layer.handle_timers(self.now)
        expected = self._fire_model(self.now)
        assert Counter(event(action) for action in actions) == Counter(expected)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def same_dialogs(self) -> None:
        assert {d.id: d.state for d in self.layer} == {
            dialog_id: dialog.state for dialog_id, dialog in self.dialogs.items()
        }
        assert self.layer.pending_invites == len(self.calls) + sum(
            1 for d in self.dialogs.values() if d.reinvite or d.own_reinvite
        ) + len(self.answered_reinvites)
        assert len(self.layer) <= MAX_DIALOGS

    @invariant()
    def same_next_deadline(self) -> None:
        assert self.layer.next_deadline() == self._model_deadline()

    def teardown(self) -> None:
        # Everything ends by itself: nothing is kept once time has passed.
        self.now += 10 * (GIVE_UP + PENDING)
        self.layer.handle_timers(self.now)
        for dialog_id in [d.id for d in self.layer]:
            self.layer.terminate(dialog_id, self.now)
        assert len(self.layer) == 0
        assert self.layer.pending_invites == 0
        assert self.layer.next_deadline() is None


UasDialogMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_uas_dialog_state_machine = UasDialogMachine.TestCase
