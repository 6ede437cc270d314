"""The UAC role of a ``DialogLayer``: requests this user agent sends and their responses.

Dialogs from an INVITE's responses (§12.1.2), forks (§13.2.2.4), the ACK of each 2xx and
of its retransmissions (§13.2.2.4), requests within a dialog (§12.2.1.1) and what their
responses do to it (§12.2.1.2), re-INVITEs (§14.1).
"""

from __future__ import annotations

from typing import Any

from sippet.dialogs.actions import (
    AckRequired,
    Action,
    DeliverResponse,
    SendAck,
    SendRequest,
    StateChanged,
)
from sippet.dialogs.dialog import (
    Dialog,
    DialogId,
    refresh_target,
    response_code,
    tag_of,
    uac_dialog,
    uac_route_set,
)
from sippet.dialogs.errors import DialogError
from sippet.dialogs.records import ClientInvite, InviteKey
from sippet.dialogs.requests import TARGET_REFRESH_METHODS, build_ack, build_in_dialog, new_via
from sippet.dialogs.state import DialogEvent, DialogState, TerminationReason, next_state
from sippet.dialogs.store import DialogStore
from sippet.headers import Via
from sippet.message import Message, RequestLine
from sippet.method import Method

_EARLY = DialogState.EARLY
_CONFIRMED = DialogState.CONFIRMED
_TERMINATED = DialogState.TERMINATED


class UacRole(DialogStore):
    """Requests this side sends, and the responses that come back for them."""

    def send_invite(self, invite: Message, now: float, *, auto_ack: bool = True) -> None:
        """Record an initial INVITE (no To tag) this side sends, before it goes out.

        Its responses, given to ``receive_response``, then create its dialogs. With
        ``auto_ack`` the layer acknowledges each 2xx with a bodiless ACK; without, it
        returns ``AckRequired`` and waits for ``create_ack`` (the INVITE had no offer, so
        the ACK carries the answer, §13.2.2.4). Raises ``DialogError``: ``invalid_request``
        (not an INVITE, a To tag, or no From tag, Call-ID, CSeq or Via),
        ``too_many_dialogs`` (``max_dialogs`` reached), ``invite_pending`` (the same
        Call-ID, From tag and CSeq already in progress).
        """
        start = invite.start_line
        headers = invite.headers
        if (
            not isinstance(start, RequestLine)
            or start.method != Method.INVITE
            or not all(key in headers for key in ("call_id", "from", "to", "cseq", "via"))
            or not tag_of(headers["from"])
            or tag_of(headers["to"])
        ):
            raise DialogError(
                "send_invite() needs an initial INVITE with From tag, Call-ID, CSeq and Via",
                reason="invalid_request",
            )
        self._check_room()
        key = InviteKey(headers["call_id"], tag_of(headers["from"]), headers["cseq"].seq)
        if key in self._client_invites:
            raise DialogError(f"INVITE {key} already in progress", reason="invite_pending")
        record = ClientInvite(key, invite, None, auto_ack)
        self._reserve(record)
        self._client_invites[key] = record
        self._deadlines.schedule(record, now + self._settings.pending_invite_timeout)

    def create_request(
        self, dialog_id: DialogId, method: Method | str, now: float, *, via: Via | None = None
    ) -> Message:
        """A new request within the dialog (§12.2.1.1), to send at once.

        The local CSeq advances (from 1 when this side never sent one). A re-INVITE is
        recorded as in progress; a BYE ends the dialog (§15.1.1: the session ends when the
        BYE is handed to its transaction) and the dialog is gone when this returns, so its
        response comes back with no dialog. ``via`` overrides the dialog's Via template.
        Raises ``DialogError``: ``no_dialog``, ``ack_method`` (ACK and CANCEL are built
        with ``create_ack`` and ``build_cancel``), ``invite_pending`` (§14.1: no INVITE
        while another is in progress in the dialog, in either direction), ``not_confirmed``
        (a re-INVITE in an early dialog).
        """
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            raise DialogError(f"no dialog {dialog_id}", reason="no_dialog")
        name = str(method)
        if name in (Method.ACK, Method.CANCEL):
            raise DialogError(f"{name} is not built by create_request", reason="ack_method")
        is_invite = name == Method.INVITE
        if is_invite:
            if dialog.pending_invite is not None:
                raise DialogError(
                    "an INVITE is already in progress in this dialog", reason="invite_pending"
                )
            if dialog.state is not _CONFIRMED:
                raise DialogError("a re-INVITE needs a confirmed dialog", reason="not_confirmed")
        seq = 1 if dialog.local_seq is None else dialog.local_seq + 1
        dialog.local_seq = seq
        template = via or dialog.via or self._via
        request = build_in_dialog(dialog, method, seq, new_via(template))
        if is_invite:
            key = InviteKey(dialog_id.call_id, dialog_id.local_tag, seq)
            record = ClientInvite(key, request, dialog_id, auto_ack=True)
            self._client_invites[key] = record
            dialog.pending_invite = record
            self._deadlines.schedule(record, now + self._settings.pending_invite_timeout)
        elif name == Method.BYE:
            self._remove(dialog)
        return request

    def create_ack(
        self,
        dialog_id: DialogId,
        now: float,
        *,
        body: bytes = b"",
        content_type: Any = None,
    ) -> Message:
        """The ACK of the 2xx that returned ``AckRequired`` for ``dialog_id``, with the
        answer in ``body`` (§13.2.2.4). The layer sends it again for each retransmitted 2xx.
        Raises ``DialogError`` (``no_pending_ack``) when no 2xx awaits its ACK there."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is not None and dialog.local_seq is not None:
            # The ACK comes before any other request of this side in the dialog, so the
            # local CSeq is still the INVITE's.
            key = InviteKey(dialog_id.call_id, dialog_id.local_tag, dialog.local_seq)
            record = self._client_invites.get(key)
            if record is not None and dialog_id in record.acks and record.acks[dialog_id] is None:
                via = new_via(dialog.via or self._via)
                ack = build_ack(dialog, record.request, via, body, content_type)
                record.acks[dialog_id] = ack
                return ack
        raise DialogError(f"no 2xx awaits an ACK in {dialog_id}", reason="no_pending_ack")

    def request_failed(self, request: Message, now: float) -> list[Action]:
        """The transaction of a request this side sent timed out or hit a transport error.

        §12.2.1.2: no response to a request within a dialog ends the dialog, as a 481 or
        408 would. An initial INVITE that failed ends its early dialogs."""
        headers = request.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return []
        actions: list[Action] = []
        if str(headers["cseq"].method) == Method.INVITE:
            key = InviteKey(headers["call_id"], tag_of(headers["from"]), headers["cseq"].seq)
            record = self._client_invites.get(key)
            if record is not None and record.first_2xx is None:
                self._forget_client_invite(record)
                for dialog_id in record.early:
                    dialog = self._dialogs.get(dialog_id)
                    if dialog is not None:
                        actions.append(self._end(dialog, DialogEvent.GONE, TerminationReason.GONE))
        dialog_id = DialogId(headers["call_id"], tag_of(headers["from"]), tag_of(headers["to"]))
        dialog = self._dialogs.get(dialog_id)
        if dialog is not None:
            actions.append(self._end(dialog, DialogEvent.GONE, TerminationReason.GONE))
        return actions

    def receive_response(self, response: Message, now: float) -> list[Action]:
        """A response to a request this side sent (from ``DeliverResponse`` of the stack)."""
        headers = response.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return [DeliverResponse(response, None)]
        call_id = headers["call_id"]
        local_tag = tag_of(headers["from"])
        cseq = headers["cseq"]
        if str(cseq.method) == Method.INVITE:
            record = self._client_invites.get(InviteKey(call_id, local_tag, cseq.seq))
            if record is not None:
                return self._invite_response(record, response, now)
            return [DeliverResponse(response, None)]
        dialog_id = DialogId(call_id, local_tag, tag_of(headers["to"]))
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            return [DeliverResponse(response, None)]
        code = response_code(response)
        if code in (481, 408):
            # §12.2.1.2: the peer no longer knows the dialog, or did not answer.
            return [
                self._end(dialog, DialogEvent.GONE, TerminationReason.GONE),
                DeliverResponse(response, None),
            ]
        if 200 <= code < 300 and str(cseq.method) in TARGET_REFRESH_METHODS:
            refresh_target(dialog, response)
        return [DeliverResponse(response, dialog_id)]

    def _invite_response(self, record: ClientInvite, response: Message, now: float) -> list[Action]:
        code = response_code(response)
        if record.dialog_id is not None:
            return self._reinvite_response(record, response, code, now)
        if code == 100:
            return [DeliverResponse(response, None)]
        dialog_id = DialogId(
            record.key.call_id, record.key.from_tag, tag_of(response.headers["to"])
        )
        if code < 200:
            return self._provisional(record, response, dialog_id)
        if code < 300:
            return self._success(record, response, dialog_id, now)
        # §12.3, §13.2.2.3: a final non-2xx ends every early dialog of the INVITE.
        reason = TerminationReason.CANCELLED if code == 487 else TerminationReason.REJECTED
        actions: list[Action] = []
        if record.first_2xx is None:
            self._forget_client_invite(record)
            for early_id in record.early:
                dialog = self._dialogs.get(early_id)
                if dialog is not None and dialog.state is _EARLY:
                    actions.append(self._end(dialog, DialogEvent.FAILURE, reason))
        actions.append(DeliverResponse(response, None))
        return actions

    def _provisional(
        self, record: ClientInvite, response: Message, dialog_id: DialogId
    ) -> list[Action]:
        dialog = self._dialogs.get(dialog_id)
        if dialog is not None:
            return [DeliverResponse(response, dialog_id)]
        # §12.1.2: a 1xx with a To tag creates an early dialog, unless the INVITE is done.
        if (
            not dialog_id.remote_tag
            or record.first_2xx is not None
            or not (record.reserved or self._has_room())
        ):
            return [DeliverResponse(response, None)]
        self._release(record)
        dialog = uac_dialog(record.request, response, self._via)
        self._dialogs[dialog_id] = dialog
        record.early.append(dialog_id)
        return [StateChanged(dialog_id, _EARLY, None), DeliverResponse(response, dialog_id)]

    def _success(
        self, record: ClientInvite, response: Message, dialog_id: DialogId, now: float
    ) -> list[Action]:
        if dialog_id in record.acks:
            # A retransmitted 2xx: the same ACK again (§13.2.2.4), or nothing while the
            # application has not built it yet.
            ack = record.acks[dialog_id]
            return [] if ack is None else [SendAck(ack, dialog_id)]
        dialog = self._dialogs.get(dialog_id)
        if record.first_2xx is not None or (
            dialog is None and not record.reserved and not self._has_room()
        ):
            return self._refuse_fork(record, response, dialog_id, dialog)
        self._release(record)
        record.first_2xx = dialog_id
        # §13.2.2.4: the INVITE is complete 64*T1 after its first 2xx.
        self._deadlines.schedule(record, now + self._settings.ack_timeout)
        actions: list[Action] = []
        if dialog is None:
            dialog = uac_dialog(record.request, response, self._via)
            self._dialogs[dialog_id] = dialog
        else:
            # §13.2.2.4: the early dialog is confirmed and its route set recomputed.
            dialog.state = next_state(dialog.state, DialogEvent.SUCCESS)
            dialog.route_set = uac_route_set(response)
            refresh_target(dialog, response)
        actions.append(StateChanged(dialog_id, _CONFIRMED, None))
        actions.append(DeliverResponse(response, dialog_id))
        actions.extend(self._acknowledge(record, dialog, response))
        return actions

    def _refuse_fork(
        self,
        record: ClientInvite,
        response: Message,
        dialog_id: DialogId,
        dialog: Dialog | None,
    ) -> list[Action]:
        """§13.2.2.4: a 2xx this side will not keep (another fork answered first, or the
        layer is full) is acknowledged, then its dialog ended with a BYE."""
        reason = (
            TerminationReason.EXTRA_FORK
            if record.first_2xx is not None
            else TerminationReason.LIMIT
        )
        actions: list[Action] = []
        if dialog is None:
            dialog = uac_dialog(record.request, response, self._via)
        else:
            dialog.route_set = uac_route_set(response)
            refresh_target(dialog, response)
            self._remove(dialog)
            actions.append(StateChanged(dialog_id, _TERMINATED, reason))
        ack = build_ack(dialog, record.request, new_via(dialog.via or self._via))
        record.acks[dialog_id] = ack
        seq = 1 if dialog.local_seq is None else dialog.local_seq + 1
        bye = build_in_dialog(dialog, Method.BYE, seq, new_via(dialog.via or self._via))
        actions.append(DeliverResponse(response, None))
        actions.append(SendAck(ack, dialog_id))
        actions.append(SendRequest(bye, dialog_id))
        return actions

    def _acknowledge(self, record: ClientInvite, dialog: Dialog, response: Message) -> list[Action]:
        if not record.auto_ack:
            record.acks[dialog.id] = None
            return [AckRequired(response, dialog.id)]
        ack = build_ack(dialog, record.request, new_via(dialog.via or self._via))
        record.acks[dialog.id] = ack
        return [SendAck(ack, dialog.id)]

    def _reinvite_response(
        self, record: ClientInvite, response: Message, code: int, now: float
    ) -> list[Action]:
        assert record.dialog_id is not None
        dialog_id = record.dialog_id
        dialog = self._dialogs.get(dialog_id)
        if code < 200:
            return [DeliverResponse(response, dialog_id if dialog else None)]
        if code < 300:
            if dialog_id in record.acks:
                ack = record.acks[dialog_id]
                return [] if ack is None else [SendAck(ack, dialog_id)]
            if dialog is None:
                return [DeliverResponse(response, None)]
            if dialog.pending_invite is record:
                dialog.pending_invite = None
            record.first_2xx = dialog_id
            self._deadlines.schedule(record, now + self._settings.ack_timeout)
            refresh_target(dialog, response)  # §12.2.1.2: a 2xx to a target refresh
            return [
                DeliverResponse(response, dialog_id),
                *self._acknowledge(record, dialog, response),
            ]
        self._forget_client_invite(record)
        if dialog is None:
            return [DeliverResponse(response, None)]
        if code in (481, 408):
            return [
                self._end(dialog, DialogEvent.GONE, TerminationReason.GONE),
                DeliverResponse(response, None),
            ]
        # §14.1: a failed re-INVITE leaves the dialog as it was.
        return [DeliverResponse(response, dialog_id)]

    def _client_invite_expired(self, record: ClientInvite) -> list[Action]:
        self._forget_client_invite(record)
        actions: list[Action] = []
        # §13.2.2.4: early dialogs not confirmed by now are over.
        for early_id in record.early:
            dialog = self._dialogs.get(early_id)
            if dialog is not None and dialog.state is _EARLY:
                actions.append(
                    self._end(dialog, DialogEvent.EXPIRED, TerminationReason.UNCONFIRMED)
                )
        return actions
