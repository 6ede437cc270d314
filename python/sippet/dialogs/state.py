"""The dialog state machine of RFC 3261 §12: Early, Confirmed, Terminated.

One labelled table, ``TRANSITIONS[(state, event)] -> state``. A dialog is born Early (a
101-199 response with a To tag, §12.1) or Confirmed (a 2xx, §12.1); every other edge is
listed here. An event with no entry for the current state leaves the dialog unchanged:
a late 1xx after the 2xx, a second 2xx (a retransmission) on a confirmed dialog.
"""

from __future__ import annotations

import enum


class DialogState(enum.Enum):
    """RFC 3261 §12 names."""

    EARLY = "Early"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"

    __hash__ = object.__hash__


class DialogEvent(enum.Enum):
    """What moves a dialog."""

    PROVISIONAL = "1xx"
    """A 101-199 response with a To tag to the dialog's INVITE (§12.1, §13.2.2.1)."""
    SUCCESS = "2xx"
    """A 2xx response to the dialog's INVITE (§13.2.2.4, §13.3.1.4)."""
    FAILURE = "300-699"
    """A final non-2xx response to the INVITE that created the early dialog (§12.3)."""
    CANCEL = "CANCEL"
    """The INVITE of an early dialog was cancelled (§9.2: 487)."""
    BYE = "BYE"
    """A BYE, sent or received (§15)."""
    NO_ACK = "no ACK"
    """No ACK for the UAS's 2xx after 64*T1 (§13.3.1.4)."""
    GONE = "481/408"
    """A 481 or 408, or no response, to a request within the dialog (§12.2.1.2)."""
    EXPIRED = "INVITE completed"
    """64*T1 after the first 2xx the UAC forgets early dialogs left unconfirmed
    (§13.2.2.4); an INVITE that never got a final response ends its early dialogs too."""
    LOCAL = "terminate()"
    """The application ended the dialog without a BYE."""


class TerminationReason(enum.StrEnum):
    """Why a dialog ended: the ``reason`` of a ``StateChanged(..., TERMINATED, reason)``."""

    REJECTED = "rejected"
    """The INVITE got a final non-2xx response (§12.3)."""
    CANCELLED = "cancelled"
    """The INVITE was cancelled (§9.2)."""
    BYE = "bye"
    """A BYE was sent or received (§15)."""
    NO_ACK = "no_ack"
    """The UAS got no ACK for its 2xx within 64*T1; a BYE goes out (§13.3.1.4)."""
    GONE = "gone"
    """The peer answered 481 or 408, or did not answer, a request in the dialog (§12.2.1.2)."""
    UNCONFIRMED = "unconfirmed"
    """An early dialog never confirmed: 64*T1 after the first 2xx of another fork
    (§13.2.2.4), or the INVITE never got a final response in ``pending_invite_timeout``."""
    EXTRA_FORK = "extra_fork"
    """A 2xx from a second fork: acknowledged, then ended with a BYE (§13.2.2.4)."""
    LIMIT = "limit"
    """A 2xx would have created a dialog past ``max_dialogs``: acknowledged, then BYE."""
    LOCAL = "local"
    """The application called ``terminate``."""


_E = DialogState.EARLY
_C = DialogState.CONFIRMED
_T = DialogState.TERMINATED

TRANSITIONS: dict[tuple[DialogState, DialogEvent], DialogState] = {
    # §12.1: more provisional responses keep the dialog early; the 2xx confirms it.
    (_E, DialogEvent.PROVISIONAL): _E,
    (_E, DialogEvent.SUCCESS): _C,
    # §12.3 and §9.2: an early dialog ends with its INVITE's failure.
    (_E, DialogEvent.FAILURE): _T,
    (_E, DialogEvent.CANCEL): _T,
    # §15: "The caller's UA MAY send a BYE for either confirmed or early dialogs".
    (_E, DialogEvent.BYE): _T,
    (_E, DialogEvent.GONE): _T,
    (_E, DialogEvent.EXPIRED): _T,
    (_E, DialogEvent.LOCAL): _T,
    (_C, DialogEvent.BYE): _T,
    (_C, DialogEvent.NO_ACK): _T,
    (_C, DialogEvent.GONE): _T,
    (_C, DialogEvent.LOCAL): _T,
}
"""Every edge of the dialog state machine; what is missing leaves the state unchanged."""


def next_state(state: DialogState, event: DialogEvent) -> DialogState:
    """The state after ``event``; the same state when the table has no edge for it."""
    return TRANSITIONS.get((state, event), state)
