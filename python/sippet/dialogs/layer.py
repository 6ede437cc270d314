"""``DialogLayer``: the dialogs of one user agent (RFC 3261 §12 to §15), sans-I/O.

It sits above the transaction layer: the application hands it the requests and responses
the stack delivers and the ones it sends, with the time, and carries out the actions it
returns. It keeps dialogs, INVITEs in progress and unacknowledged 2xx responses; nothing
is kept once a dialog ends. See ``docs/dialogs.md``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from sippet.dialogs.actions import (
    AckRequired,
    Action,
    DeliverRequest,
    DeliverResponse,
    SendAck,
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
    uac_dialog,
    uac_route_set,
    uas_dialog,
)
from sippet.dialogs.errors import DialogError
from sippet.dialogs.records import ClientInvite, InviteKey, ServerInvite, Unacked
from sippet.dialogs.requests import TARGET_REFRESH_METHODS, build_ack, build_in_dialog, new_via
from sippet.dialogs.settings import DialogSettings
from sippet.dialogs.state import DialogEvent, DialogState, TerminationReason, next_state
from sippet.dialogs.timers import Deadlines
from sippet.headers import RetryAfter, Via
from sippet.message import Message, RequestLine
from sippet.method import Method

_EARLY = DialogState.EARLY
_CONFIRMED = DialogState.CONFIRMED
_TERMINATED = DialogState.TERMINATED

# RFC 3261 §14.2: the Retry-After of a 500 to an INVITE that overlaps another is "a
# randomly chosen value of between 0 and 10 seconds".
_OVERLAP_RETRY_MAX = 10


def _tag(name_addr: Any) -> str:
    tag: str | None = name_addr.params.get("tag")
    return tag or ""


class DialogLayer:
    """The dialogs of one user agent.

    ``via`` is the Via template (protocol and sent-by; the branch is made per request)
    for requests the layer builds in dialogs it did not start by an INVITE of its own: the
    BYE of a UAS whose 2xx got no ACK, requests from ``create_request`` on the UAS side.
    ``rng`` draws the Retry-After of §14.2 (a seeded one makes tests repeatable).
    """

    def __init__(
        self,
        via: Via,
        settings: DialogSettings | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings or DialogSettings()
        self._via = via
        self._rng = rng or random.Random()
        self._dialogs: dict[DialogId, Dialog] = {}
        self._client_invites: dict[InviteKey, ClientInvite] = {}
        self._server_invites: dict[InviteKey, ServerInvite] = {}
        self._deadlines = Deadlines()
        self._reserved = 0
        """Places in ``max_dialogs`` held by initial INVITEs for their first dialog."""

    # -- reading ---------------------------------------------------------------------------

    @property
    def settings(self) -> DialogSettings:
        return self._settings

    def __len__(self) -> int:
        """Live dialogs (Early and Confirmed)."""
        return len(self._dialogs)

    @property
    def pending_invites(self) -> int:
        """INVITEs in progress, both sides. An initial INVITE holds a place in
        ``max_dialogs`` until its first dialog takes it."""
        return len(self._client_invites) + len(self._server_invites)

    def dialog(self, dialog_id: DialogId) -> Dialog | None:
        return self._dialogs.get(dialog_id)

    def __iter__(self) -> Iterator[Dialog]:
        return iter(list(self._dialogs.values()))

    def next_deadline(self) -> float | None:
        """When ``handle_timers`` must next be called, or None when nothing is timed."""
        return self._deadlines.next_deadline()

    # -- UAC: sending ------------------------------------------------------------------

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
            or not _tag(headers["from"])
            or _tag(headers["to"])
        ):
            raise DialogError(
                "send_invite() needs an initial INVITE with From tag, Call-ID, CSeq and Via",
                reason="invalid_request",
            )
        self._check_room()
        key = InviteKey(headers["call_id"], _tag(headers["from"]), headers["cseq"].seq)
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

    def terminate(self, dialog_id: DialogId, now: float) -> list[Action]:
        """End a dialog without a BYE (the application gave up on it): it is forgotten."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            return []
        return [self._end(dialog, DialogEvent.LOCAL, TerminationReason.LOCAL)]

    def request_failed(self, request: Message, now: float) -> list[Action]:
        """The transaction of a request this side sent timed out or hit a transport error.

        §12.2.1.2: no response to a request within a dialog ends the dialog, as a 481 or
        408 would. An initial INVITE that failed ends its early dialogs."""
        headers = request.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return []
        actions: list[Action] = []
        if str(headers["cseq"].method) == Method.INVITE:
            key = InviteKey(headers["call_id"], _tag(headers["from"]), headers["cseq"].seq)
            record = self._client_invites.get(key)
            if record is not None and record.first_2xx is None:
                self._forget_client_invite(record)
                for dialog_id in record.early:
                    dialog = self._dialogs.get(dialog_id)
                    if dialog is not None:
                        actions.append(self._end(dialog, DialogEvent.GONE, TerminationReason.GONE))
        dialog_id = DialogId(headers["call_id"], _tag(headers["from"]), _tag(headers["to"]))
        dialog = self._dialogs.get(dialog_id)
        if dialog is not None:
            actions.append(self._end(dialog, DialogEvent.GONE, TerminationReason.GONE))
        return actions

    # -- UAC: receiving ---------------------------------------------------------------------

    def receive_response(self, response: Message, now: float) -> list[Action]:
        """A response to a request this side sent (from ``DeliverResponse`` of the stack)."""
        headers = response.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return [DeliverResponse(response, None)]
        call_id = headers["call_id"]
        local_tag = _tag(headers["from"])
        cseq = headers["cseq"]
        if str(cseq.method) == Method.INVITE:
            record = self._client_invites.get(InviteKey(call_id, local_tag, cseq.seq))
            if record is not None:
                return self._invite_response(record, response, now)
            return [DeliverResponse(response, None)]
        dialog_id = DialogId(call_id, local_tag, _tag(headers["to"]))
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
        dialog_id = DialogId(record.key.call_id, record.key.from_tag, _tag(response.headers["to"]))
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

    # -- UAS: receiving ---------------------------------------------------------------------

    def receive_request(self, request: Message, now: float) -> list[Action]:
        """A request from the network (from ``DeliverRequest`` of the stack)."""
        start = request.start_line
        headers = request.headers
        if not isinstance(start, RequestLine) or not all(
            key in headers for key in ("call_id", "from", "to", "cseq", "via")
        ):
            return [DeliverRequest(request, None)]
        method = str(start.method)
        to_tag = _tag(headers["to"])
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
        key = InviteKey(headers["call_id"], _tag(headers["from"]), headers["cseq"].seq)
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
        dialog_id = DialogId(headers["call_id"], to_tag, _tag(headers["from"]))
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
        key = InviteKey(headers["call_id"], _tag(headers["from"]), headers["cseq"].seq)
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
        dialog_id = DialogId(headers["call_id"], to_tag, _tag(headers["from"]))
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

    # -- UAS: answering ---------------------------------------------------------------------

    def send_response(self, response: Message, now: float) -> list[Action]:
        """A response the application sends to a request it received; returns it as
        ``SendResponse`` with its dialog, after the dialog changes it makes (§12.1.1,
        §13.3.1.4). Raises ``DialogError`` (``invalid_response``) for a 101-299 to an
        INVITE without a To tag (§12.1.1 needs it)."""
        headers = response.headers
        if not all(key in headers for key in ("call_id", "from", "to", "cseq")):
            return [SendResponse(response, None)]
        cseq = headers["cseq"]
        to_tag = _tag(headers["to"])
        call_id = headers["call_id"]
        remote_tag = _tag(headers["from"])
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

    def _end_early(self, dialog_ids: list[DialogId], reason: TerminationReason) -> list[Action]:
        """End those of ``dialog_ids`` still early: their INVITE got its final answer."""
        actions: list[Action] = []
        for dialog_id in dialog_ids:
            dialog = self._dialogs.get(dialog_id)
            if dialog is not None and dialog.state is _EARLY:
                event = (
                    DialogEvent.CANCEL
                    if reason is TerminationReason.CANCELLED
                    else DialogEvent.EXPIRED
                    if reason is TerminationReason.UNCONFIRMED
                    else DialogEvent.FAILURE
                )
                actions.append(self._end(dialog, event, reason))
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

    # -- timers --------------------------------------------------------------------------

    def handle_timers(self, now: float) -> list[Action]:
        """Fire every deadline due at ``now``, each at its own deadline, earliest first."""
        actions: list[Action] = []
        while (due := self._deadlines.pop_due(now)) is not None:
            deadline, record = due
            if isinstance(record, Unacked):
                actions.extend(self._unacked_timer(record, deadline))
            elif isinstance(record, ClientInvite):
                actions.extend(self._client_invite_expired(record))
            elif isinstance(record, ServerInvite):
                actions.extend(self._server_invite_expired(record))
        return actions

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

    # -- bookkeeping -----------------------------------------------------------------------

    def _has_room(self) -> bool:
        return len(self._dialogs) + self._reserved < self._settings.max_dialogs

    def _reserve(self, record: ClientInvite | ServerInvite) -> None:
        record.reserved = True
        self._reserved += 1

    def _release(self, record: ClientInvite | ServerInvite) -> None:
        if record.reserved:
            record.reserved = False
            self._reserved -= 1

    def _check_room(self) -> None:
        if not self._has_room():
            raise DialogError(
                f"max_dialogs ({self._settings.max_dialogs}) reached", reason="too_many_dialogs"
            )

    def _end(self, dialog: Dialog, event: DialogEvent, reason: TerminationReason) -> Action:
        dialog.state = next_state(dialog.state, event)
        assert dialog.state is _TERMINATED, (event, dialog)
        self._remove(dialog)
        return StateChanged(dialog.id, _TERMINATED, reason)

    def _remove(self, dialog: Dialog) -> None:
        """Forget the dialog and what belongs to it alone: its 2xx awaiting ACK and the
        re-INVITE in progress in it."""
        dialog.state = _TERMINATED
        self._dialogs.pop(dialog.id, None)
        if isinstance(dialog.unacked, Unacked):
            self._deadlines.cancel(dialog.unacked)
        dialog.unacked = None
        pending = dialog.pending_invite
        dialog.pending_invite = None
        if isinstance(pending, ClientInvite):
            self._forget_client_invite(pending)
        elif isinstance(pending, ServerInvite) and pending.dialog_id == dialog.id:
            self._forget_server_invite(pending)
        elif isinstance(pending, ServerInvite) and not any(
            early_id in self._dialogs for early_id in pending.early
        ):
            # The INVITE of an early dialog stays for its answer; with no early dialog
            # left it holds a place in max_dialogs again for the dialog its answer makes.
            self._reserve(pending)

    def _forget_client_invite(self, record: ClientInvite) -> None:
        self._release(record)
        self._deadlines.cancel(record)
        if self._client_invites.get(record.key) is record:
            del self._client_invites[record.key]
        if record.dialog_id is not None:
            dialog = self._dialogs.get(record.dialog_id)
            if dialog is not None and dialog.pending_invite is record:
                dialog.pending_invite = None

    def _forget_server_invite(self, record: ServerInvite) -> None:
        self._release(record)
        self._deadlines.cancel(record)
        if self._server_invites.get(record.key) is record:
            del self._server_invites[record.key]
        ids = record.early if record.dialog_id is None else [record.dialog_id]
        for dialog_id in ids:
            dialog = self._dialogs.get(dialog_id)
            if dialog is not None and dialog.pending_invite is record:
                dialog.pending_invite = None
