"""What the dialog layer keeps, and the bookkeeping both roles share: the dialogs, the
INVITEs in progress, the deadlines, and the ``max_dialogs`` bound. A dialog that ends is
removed here with everything that belongs to it alone."""

from __future__ import annotations

import random
from collections.abc import Iterator

from sippet.dialogs.actions import (
    Action,
    StateChanged,
)
from sippet.dialogs.dialog import (
    Dialog,
    DialogId,
)
from sippet.dialogs.errors import DialogError
from sippet.dialogs.records import ClientInvite, InviteKey, ServerInvite, Unacked
from sippet.dialogs.settings import DialogSettings
from sippet.dialogs.state import DialogEvent, DialogState, TerminationReason, next_state
from sippet.dialogs.timers import Deadlines
from sippet.headers import Via

_EARLY = DialogState.EARLY
_TERMINATED = DialogState.TERMINATED


class DialogStore:
    """The state of a ``DialogLayer`` (see there for ``via`` and ``rng``)."""

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
