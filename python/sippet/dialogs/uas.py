"""The UAS role of a ``DialogLayer``: requests this user agent receives and its answers.

Dialogs from its responses (§12.1.1), the checks on requests within a dialog (§12.2.2),
2xx retransmission until the ACK (§13.3.1.4), CANCEL (§9.2), overlapping and crossing
re-INVITEs (§14.2), BYE (§15.1.2), and 503 past ``max_dialogs``.
"""

from __future__ import annotations

from sippet.dialogs.actions import (
    Action,
    DeliverRequest,
    SendRequest,
    SendResponse,
    StateChanged,
)
from sippet.dialogs.dialog import (
    Dialog,
    DialogId,
    first_contact,
    refresh_target,
    response_code,
    tag_of,
    uas_dialog,
)
from sippet.dialogs.errors import DialogError
from sippet.dialogs.records import ClientInvite, InviteKey, ServerInvite, Unacked
from sippet.dialogs.requests import TARGET_REFRESH_METHODS, build_in_dialog, new_via
from sippet.dialogs.state import DialogEvent, DialogState, TerminationReason, next_state
from sippet.dialogs.store import DialogStore
from sippet.headers import RetryAfter
from sippet.message import Message, RequestLine
from sippet.method import Method

_EARLY = DialogState.EARLY
_CONFIRMED = DialogState.CONFIRMED

# RFC 3261 §14.2: the Retry-After of a 500 to an INVITE that overlaps another is "a
# randomly chosen value of between 0 and 10 seconds".
_OVERLAP_RETRY_MAX = 10


class UasRole(DialogStore):
    """Requests this side receives, and the responses it sends to them."""

    def receive_request(self, request: Message, now: float) -> list[Action]:
        """A request from the network (from ``DeliverRequest`` of the stack)."""
        start = request.start_line
        headers = request.headers
        if not isinstance(start, RequestLine) or not all(
            key in headers for key in ("call_id", "from", "to", "cseq", "via")
        ):
            return [DeliverRequest(request, None)]
        method = str(start.method)
        to_tag = tag_of(headers["to"])
        if method == Method.ACK:
            return self._ack(request, to_tag)
        if method == Method.CANCEL:
            return self._cancel(request)
        if to_tag:
            return self._in_dialog(request, method, to_tag, now)
        if method == Method.INVITE:
            return self._initial_invite(request, now)
        return [DeliverRequest(request, None)]

    def _initial_invite(self, request: Message, now: float) -> list[Action]:
        headers = request.headers
        key = InviteKey(headers["call_id"], tag_of(headers["from"]), headers["cseq"].seq)
        if key in self._server_invites:
            # Same Call-ID, From tag and CSeq but not absorbed by the transaction layer: a
            # merged request (§8.2.2.2); the application's endpoint rules answer it.
            return [DeliverRequest(request, None)]
        if not self._has_room():
            busy = request.to_response(503)
            busy.headers["retry_after"] = RetryAfter(self._settings.busy_retry_after, None, {})
            return [SendResponse(busy, None)]
        record = ServerInvite(key, request, None)
        self._reserve(record)
        self._server_invites[key] = record
        self._deadlines.schedule(record, now + self._settings.pending_invite_timeout)
        return [DeliverRequest(request, None)]

    def _ack(self, ack: Message, to_tag: str) -> list[Action]:
        headers = ack.headers
        dialog_id = DialogId(headers["call_id"], to_tag, tag_of(headers["from"]))
        dialog = self._dialogs.get(dialog_id)
        # RFC 3261 §17: an ACK is never answered; one for no 2xx of ours is dropped.
        if dialog is None:
            return []
        unacked = dialog.unacked
        if not isinstance(unacked, Unacked) or unacked.seq != headers["cseq"].seq:
            return []
        # §13.3.1.4: the ACK stops the 2xx retransmissions.
        self._deadlines.cancel(unacked)
        dialog.unacked = None
        return [DeliverRequest(ack, dialog_id)]

    def _cancel(self, cancel: Message) -> list[Action]:
        headers = cancel.headers
        key = InviteKey(headers["call_id"], tag_of(headers["from"]), headers["cseq"].seq)
        record = self._server_invites.get(key)
        if record is None or headers["via"][0].branch != record.request.headers["via"][0].branch:
            # §9.2: no matching transaction.
            return [SendResponse(cancel.to_response(481), None)]
        # §9.2: 200 for the CANCEL, then 487 for the INVITE it cancels.
        actions: list[Action] = [SendResponse(cancel.to_response(200), None)]
        self._forget_server_invite(record)
        terminated: list[Action] = []
        for early_id in record.early:
            dialog = self._dialogs.get(early_id)
            if dialog is not None and dialog.state is _EARLY:
                terminated.append(
                    self._end(dialog, DialogEvent.CANCEL, TerminationReason.CANCELLED)
                )
        actions.append(
            SendResponse(record.request.to_response(487, to_tag=record.to_tag), record.dialog_id)
        )
        actions.extend(terminated)
        actions.append(DeliverRequest(cancel, None))
        return actions

    def _in_dialog(self, request: Message, method: str, to_tag: str, now: float) -> list[Action]:
        headers = request.headers
        dialog_id = DialogId(headers["call_id"], to_tag, tag_of(headers["from"]))
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            # §12.2.2: a request with a To tag for no dialog of ours.
            return [SendResponse(request.to_response(481), None)]
        seq: int = headers["cseq"].seq
        if dialog.remote_seq is not None and seq < dialog.remote_seq:
            # §12.2.2: out of order.
            return [SendResponse(request.to_response(500), dialog_id)]
        dialog.remote_seq = seq
        if method == Method.BYE:
            return self._bye(request, dialog)
        if method == Method.INVITE:
            pending = dialog.pending_invite
            if isinstance(pending, ServerInvite):
                # §14.2: an INVITE before the final response to the previous one.
                overlap = request.to_response(500)
                delay = self._rng.randint(0, _OVERLAP_RETRY_MAX)
                overlap.headers["retry_after"] = RetryAfter(delay, None, {})
                return [SendResponse(overlap, dialog_id)]
            if isinstance(pending, ClientInvite):
                # §14.2: glare with our own re-INVITE.
                return [SendResponse(request.to_response(491), dialog_id)]
            key = InviteKey(dialog_id.call_id, dialog_id.remote_tag, seq)
            record = ServerInvite(key, request, dialog_id)
            record.to_tag = to_tag
            self._server_invites[key] = record
            dialog.pending_invite = record
            self._deadlines.schedule(record, now + self._settings.pending_invite_timeout)
        if method in TARGET_REFRESH_METHODS:
            refresh_target(dialog, request)  # §12.2.2
        return [DeliverRequest(request, dialog_id)]

    def _bye(self, bye: Message, dialog: Dialog) -> list[Action]:
        actions: list[Action] = []
        pending = dialog.pending_invite
        if isinstance(pending, ServerInvite):
            # §15.1.2: the dialog's pending INVITE (a re-INVITE, or the INVITE of an early
            # dialog) gets a final response, 487 advised; its other early dialogs end.
            self._forget_server_invite(pending)
            actions.append(
                SendResponse(pending.request.to_response(487, to_tag=pending.to_tag), None)
            )
            for early_id in pending.early:
                early = self._dialogs.get(early_id)
                if early is not None and early is not dialog and early.state is _EARLY:
                    actions.append(
                        self._end(early, DialogEvent.FAILURE, TerminationReason.REJECTED)
                    )
        dialog_id = dialog.id
        actions.append(self._end(dialog, DialogEvent.BYE, TerminationReason.BYE))
        actions.append(DeliverRequest(bye, dialog_id))
        return actions

    def send_response(self, response: Message, now: float) -> list[Action]:
        """A response the application sends to a request it received; returns it as
        ``SendResponse`` with its dialog, after the dialog changes it makes (§12.1.1,
        §13.3.1.4). Raises ``DialogError`` (``invalid_response``) for a 101-299 to an
        INVITE without a To tag (§12.1.1 needs it)."""
        headers = response.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return [SendResponse(response, None)]
        cseq = headers["cseq"]
        to_tag = tag_of(headers["to"])
        call_id = headers["call_id"]
        remote_tag = tag_of(headers["from"])
        if str(cseq.method) == Method.INVITE:
            record = self._server_invites.get(InviteKey(call_id, remote_tag, cseq.seq))
            if record is not None:
                return self._answer_invite(record, response, to_tag, now)
        dialog_id = DialogId(call_id, to_tag, remote_tag)
        return [SendResponse(response, dialog_id if dialog_id in self._dialogs else None)]

    def _answer_invite(
        self, record: ServerInvite, response: Message, to_tag: str, now: float
    ) -> list[Action]:
        code = response_code(response)
        if code == 100:
            return [SendResponse(response, record.dialog_id)]
        if code < 300 and not to_tag:
            raise DialogError("a 101-299 to an INVITE needs a To tag", reason="invalid_response")
        if record.dialog_id is not None:
            return self._answer_reinvite(record, response, code, now)
        dialog_id = DialogId(record.key.call_id, to_tag, record.key.from_tag)
        if record.to_tag is None and to_tag:
            record.to_tag = to_tag
        dialog = self._dialogs.get(dialog_id)
        actions: list[Action] = []
        if code < 200:
            if dialog is None:
                if not record.reserved and not self._has_room():
                    # A second tag for one INVITE, past max_dialogs: no early dialog.
                    return [SendResponse(response, None)]
                self._release(record)
                dialog = uas_dialog(record.request, response)
                dialog.pending_invite = record  # §14.2 and §15.1.2 see it from the dialog
                self._dialogs[dialog_id] = dialog
                record.early.append(dialog_id)
                actions.append(StateChanged(dialog_id, _EARLY, None))
            actions.append(SendResponse(response, dialog_id))
            return actions
        self._forget_server_invite(record)
        if code >= 300:
            # §12.3: the early dialogs end with the INVITE.
            actions.append(SendResponse(response, None))
            actions.extend(self._end_early(record.early, TerminationReason.REJECTED))
            return actions
        # Early dialogs under other tags end first, which also frees their places.
        others = [early_id for early_id in record.early if early_id != dialog_id]
        actions.extend(self._end_early(others, TerminationReason.UNCONFIRMED))
        if dialog is None:
            dialog = uas_dialog(record.request, response)
            self._dialogs[dialog_id] = dialog
        else:
            dialog.state = next_state(dialog.state, DialogEvent.SUCCESS)
            contact = first_contact(response)
            if contact is not None:
                dialog.contact = contact
        actions.append(StateChanged(dialog_id, _CONFIRMED, None))
        actions.append(SendResponse(response, dialog_id))
        self._await_ack(dialog, response, record.key.seq, now)
        return actions

    def _answer_reinvite(
        self, record: ServerInvite, response: Message, code: int, now: float
    ) -> list[Action]:
        assert record.dialog_id is not None
        dialog = self._dialogs.get(record.dialog_id)
        if dialog is None:
            self._forget_server_invite(record)
            return [SendResponse(response, None)]
        if code < 200:
            return [SendResponse(response, dialog.id)]
        self._forget_server_invite(record)
        if code < 300:
            contact = first_contact(response)
            if contact is not None:
                dialog.contact = contact
            self._await_ack(dialog, response, record.key.seq, now)
        return [SendResponse(response, dialog.id)]

    def _await_ack(self, dialog: Dialog, response: Message, seq: int, now: float) -> None:
        # §13.3.1.4: retransmit from T1, doubling up to T2, until the ACK or 64*T1.
        if isinstance(dialog.unacked, Unacked):
            self._deadlines.cancel(dialog.unacked)
        settings = self._settings
        unacked = Unacked(dialog.id, response, seq, settings.t1, now + settings.ack_timeout)
        dialog.unacked = unacked
        self._deadlines.schedule(unacked, now + settings.t1)

    def _unacked_timer(self, unacked: Unacked, deadline: float) -> list[Action]:
        dialog = self._dialogs.get(unacked.dialog_id)
        if dialog is None or dialog.unacked is not unacked:
            return []
        if deadline >= unacked.give_up:
            # §13.3.1.4: no ACK in 64*T1: the dialog is confirmed but must end with a BYE.
            dialog.unacked = None
            seq = 1 if dialog.local_seq is None else dialog.local_seq + 1
            bye = build_in_dialog(dialog, Method.BYE, seq, new_via(dialog.via or self._via))
            return [
                self._end(dialog, DialogEvent.NO_ACK, TerminationReason.NO_ACK),
                SendRequest(bye, dialog.id),
            ]
        unacked.interval = min(unacked.interval * 2, self._settings.t2)
        self._deadlines.schedule(unacked, min(deadline + unacked.interval, unacked.give_up))
        return [SendResponse(unacked.response, dialog.id)]

    def _server_invite_expired(self, record: ServerInvite) -> list[Action]:
        self._forget_server_invite(record)
        actions: list[Action] = []
        for early_id in record.early:
            dialog = self._dialogs.get(early_id)
            if dialog is not None and dialog.state is _EARLY:
                actions.append(
                    self._end(dialog, DialogEvent.EXPIRED, TerminationReason.UNCONFIRMED)
                )
        return actions
