"""``DialogLayer``: the dialogs of one user agent (RFC 3261 §12 to §15), sans-I/O.

It sits above the transaction layer: the application hands it the requests and responses
the stack delivers and the ones it sends, with the time, and carries out the actions it
returns. It keeps dialogs, INVITEs in progress and unacknowledged 2xx responses; nothing
is kept once a dialog ends. See ``docs/dialogs.md``.
"""

from __future__ import annotations

from sippet.dialogs.actions import Action
from sippet.dialogs.dialog import DialogId
from sippet.dialogs.records import ClientInvite, ServerInvite, Unacked
from sippet.dialogs.state import DialogEvent, TerminationReason
from sippet.dialogs.uac import UacRole
from sippet.dialogs.uas import UasRole


class DialogLayer(UacRole, UasRole):
    """The dialogs of one user agent.

    ``via`` is the Via template (protocol and sent-by; the branch is made per request)
    for requests the layer builds in dialogs it did not start by an INVITE of its own: the
    BYE of a UAS whose 2xx got no ACK, requests from ``create_request`` on the UAS side.
    ``rng`` draws the Retry-After of §14.2 (a seeded one makes tests repeatable).
    """

    def terminate(self, dialog_id: DialogId, now: float) -> list[Action]:
        """End a dialog without a BYE (the application gave up on it): it is forgotten."""
        dialog = self._dialogs.get(dialog_id)
        if dialog is None:
            return []
        return [self._end(dialog, DialogEvent.LOCAL, TerminationReason.LOCAL)]

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
