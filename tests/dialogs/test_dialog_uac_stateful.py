"""Hypothesis state machine: a UAC ``DialogLayer`` against a reference model of forking
(RFC 3261 §12.1.2, §12.2.1.2, §13.2.2.4).

Several INVITEs are sent; each gets provisional responses, 2xx and retransmitted 2xx from
up to three forks, or a final failure; the UAC sends BYEs and requests that come back 481;
the clock jumps. The actions must be the model's: an early dialog per tagged 1xx (within
``max_dialogs``), the first 2xx confirms, each later 2xx of another fork is acknowledged
and BYEd, a retransmitted 2xx gets the very same ACK, early dialogs end with the
INVITE's failure or 64*T1 after its first 2xx.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialog_factory import ALICE_VIA, answer, invite
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sippet import Message, Method
from sippet.dialogs import (
    Action,
    DeliverResponse,
    DialogId,
    DialogLayer,
    DialogSettings,
    DialogState,
    SendAck,
    SendRequest,
    StateChanged,
    TerminationReason,
)

T1 = 0.5
GIVE_UP = 64 * T1
PENDING = 20.0
MAX_DIALOGS = 4
FORKS = ("f1", "f2", "f3")
FROM_TAG = "1928301774"
Event = tuple[str, DialogId | None, object]


@dataclass
class ModelInvite:
    request: Message
    deadline: float
    reserved: bool = True
    early: list[DialogId] = field(default_factory=list)
    first_2xx: DialogId | None = None
    acks: dict[DialogId, Message] = field(default_factory=dict)


def event(action: Action) -> Event:
    match action:
        case StateChanged(dialog_id, state, reason):
            return ("state", dialog_id, (state, reason))
        case DeliverResponse(response, dialog_id):
            return ("deliver", dialog_id, response.start_line.status_code)
        case SendAck(_, dialog_id):
            return ("ack", dialog_id, None)
        case SendRequest(request, dialog_id):
            return ("request", dialog_id, str(request.start_line.method))
        case _:
            return ("other", None, action)


class UacForkingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.layer = DialogLayer(
            ALICE_VIA,
            DialogSettings(t1=T1, max_dialogs=MAX_DIALOGS, pending_invite_timeout=PENDING),
        )
        self.now = 0.0
        self.serial = 0
        self.sent: dict[str, Message] = {}  # every INVITE sent, by Call-ID
        self.invites: dict[str, ModelInvite] = {}  # those the layer still holds
        self.dialogs: dict[DialogId, DialogState] = {}

    def _has_room(self) -> bool:
        reserved = sum(1 for record in self.invites.values() if record.reserved)
        return len(self.dialogs) + reserved < MAX_DIALOGS

    def _end(self, dialog_id: DialogId, reason: TerminationReason) -> Event:
        del self.dialogs[dialog_id]
        return ("state", dialog_id, (DialogState.TERMINATED, reason))

    def _end_early(self, record: ModelInvite, reason: TerminationReason) -> list[Event]:
        return [
            self._end(dialog_id, reason)
            for dialog_id in record.early
            if self.dialogs.get(dialog_id) is DialogState.EARLY
        ]

    @rule()
    def send_invite(self) -> None:
        self.serial += 1
        call_id = f"call{self.serial}@atlanta.com"
        request = invite(call_id=call_id, seq=1)
        if not self._has_room():
            try:
                self.layer.send_invite(request, self.now)
            except Exception as error:
                assert getattr(error, "reason", None) == "too_many_dialogs"
                return
            raise AssertionError("send_invite past max_dialogs")
        self.layer.send_invite(request, self.now)
        self.sent[call_id] = request
        self.invites[call_id] = ModelInvite(request, self.now + PENDING)

    def _pick(self, data: st.DataObject) -> tuple[str, Message, ModelInvite | None]:
        call_id = data.draw(st.sampled_from(sorted(self.sent)))
        return call_id, self.sent[call_id], self.invites.get(call_id)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), fork=st.sampled_from(FORKS), status=st.sampled_from([180, 183]))
    def provisional(self, data: st.DataObject, fork: str, status: int) -> None:
        call_id, request, record = self._pick(data)
        dialog_id = DialogId(call_id, FROM_TAG, fork)
        response = answer(request, status, to_tag=fork)
        actions = self.layer.receive_response(response, self.now)
        if record is None or dialog_id in self.dialogs:
            known = record is not None and dialog_id in self.dialogs
            expected: list[Event] = [("deliver", dialog_id if known else None, status)]
        elif record.first_2xx is None and (record.reserved or self._has_room()):
            record.reserved = False
            record.early.append(dialog_id)
            self.dialogs[dialog_id] = DialogState.EARLY
            expected = [
                ("state", dialog_id, (DialogState.EARLY, None)),
                ("deliver", dialog_id, status),
            ]
        else:
            expected = [("deliver", None, status)]
        assert [event(a) for a in actions] == expected

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), fork=st.sampled_from(FORKS))
    def success(self, data: st.DataObject, fork: str) -> None:
        call_id, request, record = self._pick(data)
        dialog_id = DialogId(call_id, FROM_TAG, fork)
        actions = self.layer.receive_response(answer(request, 200, to_tag=fork), self.now)
        got = [event(a) for a in actions]
        if record is None:
            assert got == [("deliver", None, 200)]
            return
        if dialog_id in record.acks:
            # §13.2.2.4: the same ACK for each retransmission.
            assert got == [("ack", dialog_id, None)]
            assert isinstance(actions[0], SendAck) and actions[0].ack is record.acks[dialog_id]
            return
        exists = dialog_id in self.dialogs
        if record.first_2xx is None and (exists or record.reserved or self._has_room()):
            record.first_2xx = dialog_id
            record.reserved = False
            record.deadline = self.now + GIVE_UP
            self.dialogs[dialog_id] = DialogState.CONFIRMED
            expected: list[Event] = [
                ("state", dialog_id, (DialogState.CONFIRMED, None)),
                ("deliver", dialog_id, 200),
                ("ack", dialog_id, None),
            ]
        else:
            reason = (
                TerminationReason.EXTRA_FORK
                if record.first_2xx is not None
                else TerminationReason.LIMIT
            )
            expected = [self._end(dialog_id, reason)] if exists else []
            expected += [
                ("deliver", None, 200),
                ("ack", dialog_id, None),
                ("request", dialog_id, "BYE"),
            ]
        assert got == expected
        ack = actions[-1] if expected[-1][0] == "ack" else actions[-2]
        assert isinstance(ack, SendAck)
        assert ack.ack.headers["to"].params["tag"] == fork
        record.acks[dialog_id] = ack.ack

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), status=st.sampled_from([486, 487, 603]))
    def failure(self, data: st.DataObject, status: int) -> None:
        call_id, request, record = self._pick(data)
        actions = self.layer.receive_response(answer(request, status), self.now)
        expected: list[Event] = []
        if record is not None and record.first_2xx is None:
            del self.invites[call_id]
            reason = TerminationReason.CANCELLED if status == 487 else TerminationReason.REJECTED
            expected = self._end_early(record, reason)
        expected.append(("deliver", None, status))
        assert [event(a) for a in actions] == expected

    @precondition(lambda self: self.dialogs)
    @rule(data=st.data(), method=st.sampled_from([Method.BYE, Method.INFO]))
    def request_in_dialog(self, data: st.DataObject, method: Method) -> None:
        dialog_id = data.draw(st.sampled_from(sorted(self.dialogs)))
        request = self.layer.create_request(dialog_id, method, self.now)
        assert request.headers["to"].params["tag"] == dialog_id.remote_tag
        if method == Method.BYE:
            del self.dialogs[dialog_id]  # §15.1.1: gone once the BYE is sent
            return
        # The peer does not know the dialog (§12.2.1.2).
        actions = self.layer.receive_response(request.to_response(481), self.now)
        expected = [self._end(dialog_id, TerminationReason.GONE), ("deliver", None, 481)]
        assert [event(a) for a in actions] == expected

    @rule(step=st.sampled_from([0.5, 4.0, 16.0, 33.0]))
    def advance(self, step: float) -> None:
        self.now += step
        actions = self.layer.handle_timers(self.now)
        expected: list[Event] = []
        for call_id, record in sorted(self.invites.items(), key=lambda item: item[1].deadline):
            if record.deadline <= self.now:
                del self.invites[call_id]
                expected += self._end_early(record, TerminationReason.UNCONFIRMED)
        assert sorted(map(str, (event(a) for a in actions))) == sorted(map(str, expected))

    @invariant()
    def same_state(self) -> None:
        assert {d.id: d.state for d in self.layer} == self.dialogs
        assert self.layer.pending_invites == len(self.invites)
        deadlines = [record.deadline for record in self.invites.values()]
        assert self.layer.next_deadline() == min(deadlines, default=None)
        assert len(self.layer) <= MAX_DIALOGS

    def teardown(self) -> None:
        self.layer.handle_timers(self.now + 10 * PENDING + GIVE_UP)
        for dialog_id in [d.id for d in self.layer]:
            self.layer.terminate(dialog_id, self.now)
        assert len(self.layer) == 0 and self.layer.pending_invites == 0
        assert self.layer.next_deadline() is None


UacForkingMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_uac_forking_state_machine = UacForkingMachine.TestCase
