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
from typing import Any, ClassVar, NamedTuple, Self, TypeAlias

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverError, new
from sippet.transactions.keys import LEGACY_PREFIX, TransactionKey
from sippet.transactions.timers import TimerSettings, Timing


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


TIMEOUT_EVENTS = frozenset(
    {
        Event.TIMER_B,
        Event.TIMER_D,
        Event.TIMER_F,
        Event.TIMER_H,
        Event.TIMER_I,
        Event.TIMER_J,
        Event.TIMER_K,
        Event.TIMER_L,
        Event.TIMER_M,
    }
)
"""Timers of the timeout slot: the transaction gives up or ends when they fire."""

RETRANSMIT_EVENTS = frozenset({Event.TIMER_A, Event.TIMER_E, Event.TIMER_G, Event.TRYING_DELAY})
"""Timers of the retransmission slot (the 100 Trying delay shares it: an INVITE server
transaction in Proceeding retransmits nothing)."""

Step: TypeAlias = tuple[State, EdgeAction]
"""An ``Edge`` without its label: what the layer runs."""


END: Step = (State.TERMINATED, absorb)
"""The step of a timer that only ends the transaction (Timers D, I, J, K, L, M), one shared
object: the timer sweep recognizes it by identity and ends such transactions inline."""


def _slot_edges(
    table: Mapping[tuple[State, Event], Edge], events: frozenset[Event]
) -> dict[State, Step]:
    """The edge of the timer of one slot in each state. RFC 3261 §17 runs at most one timer
    of each slot in a state (Calling: A and B; Completed: G and H...), so the state says
    which timer a slot holds, and a transaction need not store it."""
    edges: dict[State, Step] = {}
    for (state, event), edge in table.items():
        if event in events:
            if state in edges:
                raise ValueError(f"two timers of one slot in {state}")
            ends = edge.target is TERMINATED and edge.action is absorb
            edges[state] = END if ends else (edge.target, edge.action)
    return edges


def keeps_request(key: TransactionKey) -> bool:
    """Whether a server transaction past Proceeding/Trying still needs its request: only
    when it is matched by the RFC 2543 rules (§17.2.3), which compare the Request-URI and
    To tag of later requests with it (``matching.py``). Otherwise a Completed, Confirmed or
    Accepted transaction resends its last response at most, and dropping the request then
    frees a whole message 32 s early (64*T1 of Timers H, J, L)."""
    return key[0].startswith(LEGACY_PREFIX)


class Transaction:
    """State, timers and identity of one transaction; the behaviour is in ``TABLE``.

    Two timer slots cover every state of every machine (RFC 3261 §17): a retransmission
    timer (A, E, G, or the 100 Trying delay) and a timeout (B, D, F, H, I, J, K, L, M).
    The layer keeps one queue entry per transaction, at the earlier of the two. Which timer
    a slot holds follows from the state (``TIMEOUT_STEPS``, ``RETRANSMIT_STEPS``).

    The layer runs ``STEPS`` (``TABLE`` without the labels, as plain tuples) and, for a
    response, ``RESPONSE_STEPS[status // 100]`` (state -> step): the same transitions with
    fewer lookups. They are derived from ``TABLE`` when the class is made.
    """

    __slots__ = (
        "entry",
        "key",
        "last_sent",
        "peer",
        "request",
        "retransmit_at",
        "retransmit_interval",
        "state",
        "timeout_at",
        "timeout_delay",
        "timing",
    )

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]]
    INITIAL: ClassVar[State]
    START_LABEL: ClassVar[str]
    IS_INVITE: ClassVar[bool]
    IS_SERVER: ClassVar[bool]
    RESPONSE_EVENTS: ClassVar[tuple[Event, ...]]
    """The input of a response, indexed by status class (``status // 100``)."""

    # Derived from TABLE by __init_subclass__.
    STEPS: ClassVar[dict[tuple[State, Event], Step]]
    RESPONSE_STEPS: ClassVar[tuple[dict[State, Step], ...]]
    TIMEOUT_STEPS: ClassVar[dict[State, Step]]
    RETRANSMIT_STEPS: ClassVar[dict[State, Step]]

    key: TransactionKey
    request: Message | None
    """Dropped (None) once the state needs it no more (see ``keeps_request``)."""
    peer: object
    """Client: where the request goes. Server: where the request came from."""
    timing: Timing
    state: State
    last_sent: Message | None
    """Server: the last response sent. Client INVITE: the ACK of a 300-699."""
    retransmit_at: float | None
    timeout_at: float | None
    entry: tuple[float, Any, float] | None
    """This transaction's entry in the layer's timer queue, if any."""
    # Set together with their slot's deadline and read only while it is set; the layer files
    # the deadline under the interval or delay (see TimerQueue).
    retransmit_interval: float
    timeout_delay: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.TABLE
        cls.STEPS = {key: (edge.target, edge.action) for key, edge in table.items()}
        cls.RESPONSE_STEPS = tuple(
            {state: step for (state, e), step in cls.STEPS.items() if e is event}
            for event in cls.RESPONSE_EVENTS
        )
        cls.TIMEOUT_STEPS = _slot_edges(table, TIMEOUT_EVENTS)
        cls.RETRANSMIT_STEPS = _slot_edges(table, RETRANSMIT_EVENTS)

    # No __init__: ``Class()`` then runs object's C constructor only, cheaper than a Python
    # __init__; the layer sets the fields on its hot paths, ``make`` elsewhere.

    @classmethod
    def make(cls, key: TransactionKey, request: Message, peer: object, timing: Timing) -> Self:
        """A transaction in its initial state, no timer running (``start`` starts them)."""
        transaction = cls()
        transaction.key = key
        transaction.request = request
        transaction.peer = peer
        transaction.timing = timing
        transaction.state = cls.INITIAL
        transaction.last_sent = None
        transaction.retransmit_at = transaction.timeout_at = None
        transaction.entry = None
        return transaction

    @property
    def reliable(self) -> bool:
        return self.timing.reliable

    @property
    def settings(self) -> TimerSettings:
        return self.timing.settings

    def start(self, now: float) -> list[Action]:
        """The actions of entering the initial state."""
        raise NotImplementedError

    def dispatch(self, event: Event, message: Message | None, now: float) -> list[Action]:
        step = self.STEPS.get((self.state, event))
        if step is None:
            return []
        target, action = step
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

    def start_retransmit(self, interval: float, now: float) -> None:
        self.retransmit_interval = interval
        self.retransmit_at = now + interval

    def start_timeout_or_end(self, event: Event, delay: float, now: float) -> list[Action]:
        """Start a wait timer; a zero wait (D, I, J, K over reliable transports) fires at
        once, in the same call: the transaction ends without waiting for the clock."""
        if delay > 0:
            self.timeout_delay = delay
            self.timeout_at = now + delay
            return []
        return self.dispatch(event, None, now)

    def stop_timers(self) -> None:
        self.retransmit_at = self.timeout_at = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key!r} {self.state.value}>"
