"""What the four transaction state machines share: states, inputs, the transition table
format, and the two timer slots each transaction has.

Each machine (``client_invite.py``...) is a transition table
``{(State, Event): Edge(target, action, label)}`` in the shape of its RFC figure. An input
that has no entry for the current state is discarded: that is the RFC's "absorb" for late
and duplicate messages. The diagrams in ``docs/transactions.md`` are printed from these
tables by ``diagrams.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverError, new
from sippet.transactions.keys import TransactionKey
from sippet.transactions.timers import TimerSettings


class State(enum.Enum):
    """RFC 3261 §17 state names, with RFC 6026's Accepted."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    ACCEPTED = "Accepted"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"

    # Members are singletons: identity hashing (in C) is correct and several times faster
    # than Enum's hash of the name, which every transition table lookup pays.
    __hash__ = object.__hash__


class Event(enum.Enum):
    """Inputs of a transaction: messages (classified by status class), timers, errors."""

    REQUEST = "request"
    """A retransmission of the request that created a server transaction."""
    ACK = "ACK"
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    """2xx to an INVITE."""
    FAILURE = "300-699"
    """300-699 to an INVITE."""
    FINAL = "200-699"
    """Any final response to a non-INVITE request."""
    TRYING_DELAY = "100 Trying delay"
    """§17.2.1: the TU has not answered an INVITE within 200 ms."""
    TIMER_A = "Timer A"
    TIMER_B = "Timer B"
    TIMER_D = "Timer D"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_G = "Timer G"
    TIMER_H = "Timer H"
    TIMER_I = "Timer I"
    TIMER_J = "Timer J"
    TIMER_K = "Timer K"
    TIMER_L = "Timer L"
    TIMER_M = "Timer M"
    TRANSPORT_ERROR = "transport error"

    __hash__ = object.__hash__  # as for State


EdgeAction = Callable[[Any, Message | None, float], list[Action]]
"""``action(transaction, message_or_None, now) -> actions``, run after the state changed."""


class Edge(NamedTuple):
    """One transition: the state it enters, what it does, and its label in the figures."""

    target: State
    action: EdgeAction
    label: str


def absorb(_transaction: Any, _message: Message | None, _now: float) -> list[Action]:
    """The input needs no output (a retransmission absorbed, a timer that only ends)."""
    return []


# Module-level aliases: the hot paths compare states by identity without attribute lookups.
TERMINATED = State.TERMINATED
PROVISIONAL = Event.PROVISIONAL
SUCCESS = Event.SUCCESS
FAILURE = Event.FAILURE
FINAL = Event.FINAL


# Responses by status class. The 7xx-9xx classes do not exist (RFC 3261 §21); were one to
# reach us, it is treated as the failure class 6xx is.
INVITE_RESPONSE_EVENTS = (PROVISIONAL, PROVISIONAL, SUCCESS) + (FAILURE,) * 7
NON_INVITE_RESPONSE_EVENTS = (PROVISIONAL, PROVISIONAL) + (FINAL,) * 8


class Transaction:
    """State, timers and identity of one transaction; the behaviour is in ``TABLE``.

    Two timer slots cover every state of every machine (RFC 3261 §17): a retransmission
    timer (A, E, G, or the 100 Trying delay) and a timeout (B, D, F, H, I, J, K, L, M).
    The layer keeps one queue entry per transaction, at the earlier of the two; responses
    are classified with ``RESPONSE_EVENTS[status // 100]``.
    """

    __slots__ = (
        "entry",
        "key",
        "last_sent",
        "peer",
        "reliable",
        "request",
        "retransmit_at",
        "retransmit_event",
        "retransmit_interval",
        "settings",
        "state",
        "timeout_at",
        "timeout_delay",
        "timeout_event",
    )

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]]
    INITIAL: ClassVar[State]
    START_LABEL: ClassVar[str]
    IS_INVITE: ClassVar[bool]
    IS_SERVER: ClassVar[bool]
    RESPONSE_EVENTS: ClassVar[tuple[Event, ...]]
    """The input of a response, indexed by status class (``status // 100``)."""

    # Set together with their slot's deadline (start_retransmit, start_timeout) and read
    # only while it is set; the layer files the deadline under the interval or delay (see
    # TimerQueue).
    retransmit_event: Event
    retransmit_interval: float
    timeout_event: Event
    timeout_delay: float

    def __init__(
        self,
        key: TransactionKey,
        request: Message,
        peer: object,
        reliable: bool,
        settings: TimerSettings,
    ) -> None:
        self.key = key
        self.request = request
        # Client: where the request goes. Server: where the request came from.
        self.peer = peer
        self.reliable = reliable
        self.settings = settings
        self.state = self.INITIAL
        # Server: the last response sent. Client INVITE: the ACK of a 300-699.
        self.last_sent: Message | None = None
        self.retransmit_at: float | None = None
        self.timeout_at: float | None = None
        # This transaction's entry in the layer's timer queue, if any.
        self.entry: tuple[float, Any, float] | None = None

    def start(self, now: float) -> list[Action]:
        """The actions of entering the initial state."""
        raise NotImplementedError

    def dispatch(self, event: Event, message: Message | None, now: float) -> list[Action]:
        edge = self.TABLE.get((self.state, event))
        if edge is None:
            return []
        target, action, _label = edge
        self.state = target
        if target is TERMINATED:
            self.retransmit_at = self.timeout_at = None
        return action(self, message, now)

    def transport_error(self, reason: str, now: float) -> list[Action]:
        """RFC 3261 §17.1.4 / §17.2.4 (RFC 6026 §8.8): inform the TU, then the table says
        whether the transaction ends (client) or stays (server)."""
        actions: list[Action] = [new(DeliverError, (reason, self.key))]
        actions += self.dispatch(Event.TRANSPORT_ERROR, None, now)
        return actions

    def start_retransmit(self, event: Event, interval: float, now: float) -> None:
        self.retransmit_event = event
        self.retransmit_interval = interval
        self.retransmit_at = now + interval

    def start_timeout(self, event: Event, delay: float, now: float) -> None:
        self.timeout_event = event
        self.timeout_delay = delay
        self.timeout_at = now + delay

    def start_timeout_or_end(self, event: Event, delay: float, now: float) -> list[Action]:
        """Start a wait timer; a zero wait (D, I, J, K over reliable transports) fires at
        once, in the same call: the transaction ends without waiting for the clock."""
        if delay > 0:
            self.start_timeout(event, delay, now)
            return []
        return self.dispatch(event, None, now)

    def stop_timers(self) -> None:
        self.retransmit_at = self.timeout_at = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r} {self.state.value}>"
