"""What the dialog layer asks the application (or the stack) to do.

Every input of ``DialogLayer`` returns a list of these, in the order to carry them out.
They are immutable named tuples; match them with class patterns
(``case SendAck(ack, dialog_id): ...``).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from sippet.dialogs.dialog import DialogId
from sippet.dialogs.state import DialogState, TerminationReason
from sippet.message import Message


class SendRequest(NamedTuple):
    """Send ``request`` through a new client transaction (``Stack.send``): the BYE the
    layer builds when a dialog must end (§13.3.1.4 no ACK, §13.2.2.4 a second fork)."""

    request: Message
    dialog_id: DialogId


class SendAck(NamedTuple):
    """Send the ACK of a 2xx straight to the transport, without a transaction
    (§13.2.2.4; ``Stack.send`` does so for an ACK). Repeated for each retransmitted 2xx."""

    ack: Message
    dialog_id: DialogId


class SendResponse(NamedTuple):
    """Send ``response`` through its server transaction (``Stack.send``). For a 2xx
    retransmitted after the transaction is gone (RFC 6026 Timer L), send it statelessly.
    ``dialog_id`` is None for a response outside any dialog (481, 487, 503...)."""

    response: Message
    dialog_id: DialogId | None


class DeliverRequest(NamedTuple):
    """A request for the application: ``dialog_id`` is its dialog, or None for a request
    outside any dialog (an initial INVITE, OPTIONS, a CANCEL the layer answered...)."""

    request: Message
    dialog_id: DialogId | None


class DeliverResponse(NamedTuple):
    """A response for the application, with its dialog (None when it has none)."""

    response: Message
    dialog_id: DialogId | None


class AckRequired(NamedTuple):
    """A 2xx to an INVITE sent with ``auto_ack=False`` arrived: the application must call
    ``DialogLayer.create_ack`` (with the answer to an offer in the 2xx, §13.2.2.4)."""

    response: Message
    dialog_id: DialogId


class StateChanged(NamedTuple):
    """A dialog was created (Early or Confirmed), confirmed, or ended. ``reason`` is set
    for Terminated only; a terminated dialog is already gone from the layer."""

    dialog_id: DialogId
    state: DialogState
    reason: TerminationReason | None


Action: TypeAlias = (
    SendRequest
    | SendAck
    | SendResponse
    | DeliverRequest
    | DeliverResponse
    | AckRequired
    | StateChanged
)
"""Any output of the dialog layer."""
