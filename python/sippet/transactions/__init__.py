"""The SIP transaction layer (RFC 3261 §17 as amended by RFC 6026), sans-I/O.

``TransactionLayer`` takes messages, transport errors and the current time, and returns
actions (``Send``, ``DeliverRequest``, ``DeliverResponse``, ``DeliverError``,
``Terminated``); the stack carries them out and calls ``handle_timers`` at
``next_deadline()``. No sockets, no clock, no event loop here. See ``docs/transactions.md``.
"""

from __future__ import annotations

from sippet.transactions.actions import (
    Action,
    DeliverError,
    DeliverRequest,
    DeliverResponse,
    Send,
    Terminated,
)
from sippet.transactions.keys import ClientKey, ServerKey, TransactionKey
from sippet.transactions.layer import TransactionLayer
from sippet.transactions.machine import Event, State
from sippet.transactions.timers import TimerSettings

__all__ = [
    "Action",
    "ClientKey",
    "DeliverError",
    "DeliverRequest",
    "DeliverResponse",
    "Event",
    "Send",
    "ServerKey",
    "State",
    "Terminated",
    "TimerSettings",
    "TransactionKey",
    "TransactionLayer",
]
