"""Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).

Trying: the request went to the TU; its retransmissions are discarded. Proceeding: each
provisional response from the TU is sent, and the latest is resent when the request is
retransmitted. Completed: the final response is resent for each retransmission of the
request until Timer J (64*T1; zero over reliable transports); later responses from the TU
are discarded. A transport error is reported and the state kept (RFC 6026 §8.8 replaced
§17.2.4's "transition to the terminated state" for every server transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverRequest, Send, new
from sippet.transactions.keys import LEGACY_PREFIX
from sippet.transactions.machine import (
    NON_INVITE_RESPONSE_EVENTS,
    Edge,
    Event,
    State,
    Transaction,
    absorb,
)

TRYING = State.TRYING
PROCEEDING = State.PROCEEDING
COMPLETED = State.COMPLETED
TERMINATED = State.TERMINATED


def _resend_last(t: Transaction, _: Message | None, now: float) -> list[Action]:
    return [new(Send, (t.last_sent, t.peer, t.key))]


def _send_provisional(t: Transaction, response: Message | None, now: float) -> list[Action]:
    t.last_sent = response
    return [new(Send, (response, t.peer, t.key))]


def _complete(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # §17.2.2: Timer J = 64*T1 over unreliable transports, zero over reliable ones.
    t.last_sent = response
    key = t.key
    if not key[0].startswith(LEGACY_PREFIX):  # keeps_request(key), inlined
        t.request = None  # Completed only resends the response
    delay = t.timing.j
    if delay > 0:  # start_timeout_or_end, inlined
        t.timeout_delay = delay
        t.timeout_at = now + delay
        return [new(Send, (response, t.peer, key))]
    actions: list[Action] = [new(Send, (response, t.peer, key))]
    actions += t.dispatch(Event.TIMER_J, None, now)
    return actions


class ServerNonInviteTransaction(Transaction):
    __slots__ = ()

    INITIAL = TRYING
    START_LABEL = "request / to TU"
    IS_INVITE = False
    IS_SERVER = True
    RESPONSE_EVENTS = NON_INVITE_RESPONSE_EVENTS

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]] = {
        (TRYING, Event.REQUEST): Edge(TRYING, absorb, "request / discard"),
        (TRYING, Event.PROVISIONAL): Edge(PROCEEDING, _send_provisional, "1xx from TU / send"),
        (TRYING, Event.FINAL): Edge(COMPLETED, _complete, "200-699 from TU / send, start J"),
        (PROCEEDING, Event.REQUEST): Edge(PROCEEDING, _resend_last, "request / resend last 1xx"),
        (PROCEEDING, Event.PROVISIONAL): Edge(PROCEEDING, _send_provisional, "1xx from TU / send"),
        (PROCEEDING, Event.FINAL): Edge(COMPLETED, _complete, "200-699 from TU / send, start J"),
        (PROCEEDING, Event.TRANSPORT_ERROR): Edge(
            PROCEEDING, absorb, "transport error / inform TU"
        ),
        (COMPLETED, Event.REQUEST): Edge(COMPLETED, _resend_last, "request / resend response"),
        (COMPLETED, Event.TIMER_J): Edge(TERMINATED, absorb, "Timer J"),
        (COMPLETED, Event.TRANSPORT_ERROR): Edge(COMPLETED, absorb, "transport error / inform TU"),
    }

    def start(self, now: float) -> list[Action]:
        return [new(DeliverRequest, (self.request, self.key))]
