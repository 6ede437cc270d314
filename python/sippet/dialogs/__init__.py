"""Dialogs and sessions (RFC 3261 §12 to §15), sans-I/O.

``DialogLayer`` takes the requests and responses a user agent sends and receives, with
the time, and returns actions (``SendRequest``, ``SendAck``, ``SendResponse``,
``DeliverRequest``, ``DeliverResponse``, ``AckRequired``, ``StateChanged``); the
application carries them out and calls ``handle_timers`` at ``next_deadline()``. No
sockets, clock or event loop here. See ``docs/dialogs.md``.
"""

from __future__ import annotations

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
from sippet.dialogs.dialog import Dialog, DialogId
from sippet.dialogs.errors import DialogError
from sippet.dialogs.layer import DialogLayer
from sippet.dialogs.requests import build_cancel, route_request_uri
from sippet.dialogs.settings import DEFAULT_MAX_DIALOGS, DialogSettings
from sippet.dialogs.state import TRANSITIONS, DialogEvent, DialogState, TerminationReason

__all__ = [
    "DEFAULT_MAX_DIALOGS",
    "TRANSITIONS",
    "AckRequired",
    "Action",
    "DeliverRequest",
    "DeliverResponse",
    "Dialog",
    "DialogError",
    "DialogEvent",
    "DialogId",
    "DialogLayer",
    "DialogSettings",
    "DialogState",
    "SendAck",
    "SendRequest",
    "SendResponse",
    "StateChanged",
    "TerminationReason",
    "build_cancel",
    "route_request_uri",
]
