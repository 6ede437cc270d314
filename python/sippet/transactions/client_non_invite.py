"""Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).

Trying: the request is resent on Timer E, starting at T1 and doubling up to T2 (unreliable
transports only), until a response or Timer F (64*T1). Proceeding: retransmissions go on
every T2, so that the server, which only answers retransmissions, gets a chance to resend a
lost final response (§17.1.2.1). Completed: response retransmissions are absorbed until
Timer K (T4; zero over reliable transports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverError, DeliverResponse, Send, new
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


def _resend_trying(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.1.2.2: E = MIN(2E, T2) while Trying.
    t.start_retransmit(min(2 * t.retransmit_interval, t.timing.t2), now)
    return [new(Send, (t.request, t.peer, t.key))]


def _resend_proceeding(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.1.2.2: in Proceeding Timer E is reset to T2.
    t.start_retransmit(t.timing.t2, now)
    return [new(Send, (t.request, t.peer, t.key))]


def _timeout(t: Transaction, _: Message | None, now: float) -> list[Action]:
    return [new(DeliverError, ("timeout", t.key))]


def _to_tu(t: Transaction, response: Message | None, now: float) -> list[Action]:
    return [new(DeliverResponse, (response, t.key))]


def _complete(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # §17.1.2.2: to the TU; Timer K = T4, or zero over reliable transports.
    t.retransmit_at = t.timeout_at = None
    t.request = None  # Completed absorbs retransmitted responses only
    actions: list[Action] = [new(DeliverResponse, (response, t.key))]
    actions += t.start_timeout_or_end(Event.TIMER_K, t.timing.k, now)
    return actions


class ClientNonInviteTransaction(Transaction):
    __slots__ = ()

    INITIAL = TRYING
    START_LABEL = "request from TU / send request, start E (unreliable) and F"
    IS_INVITE = False
    IS_SERVER = False
    RESPONSE_EVENTS = NON_INVITE_RESPONSE_EVENTS

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]] = {
        (TRYING, Event.TIMER_E): Edge(TRYING, _resend_trying, "Timer E / resend, E = min(2E, T2)"),
        (TRYING, Event.TIMER_F): Edge(TERMINATED, _timeout, "Timer F / inform TU (timeout)"),
        (TRYING, Event.PROVISIONAL): Edge(PROCEEDING, _to_tu, "1xx / to TU"),
        (TRYING, Event.FINAL): Edge(COMPLETED, _complete, "200-699 / to TU, start K"),
        (TRYING, Event.TRANSPORT_ERROR): Edge(TERMINATED, absorb, "transport error / inform TU"),
        (PROCEEDING, Event.TIMER_E): Edge(
            PROCEEDING, _resend_proceeding, "Timer E / resend, E = T2"
        ),
        (PROCEEDING, Event.TIMER_F): Edge(TERMINATED, _timeout, "Timer F / inform TU (timeout)"),
        (PROCEEDING, Event.PROVISIONAL): Edge(PROCEEDING, _to_tu, "1xx / to TU"),
        (PROCEEDING, Event.FINAL): Edge(COMPLETED, _complete, "200-699 / to TU, start K"),
        (PROCEEDING, Event.TRANSPORT_ERROR): Edge(
            TERMINATED, absorb, "transport error / inform TU"
        ),
        (COMPLETED, Event.FINAL): Edge(COMPLETED, absorb, "200-699 / absorb"),
        (COMPLETED, Event.TIMER_K): Edge(TERMINATED, absorb, "Timer K"),
        (COMPLETED, Event.TRANSPORT_ERROR): Edge(TERMINATED, absorb, "transport error / inform TU"),
    }

    def start(self, now: float) -> list[Action]:
        # §17.1.2.2: Timer F = 64*T1; Timer E = T1 over unreliable transports only.
        # TransactionLayer.send_request does the same inline (its hot path).
        timing = self.timing
        if not timing.reliable:
            self.start_retransmit(timing.t1, now)
        self.timeout_delay = timing.long
        self.timeout_at = now + timing.long
        return [new(Send, (self.request, self.peer, self.key))]
