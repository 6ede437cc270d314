"""INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026 §7.1.

Proceeding: the INVITE goes to the TU; 100 (Trying) is sent if the TU has not answered
within 200 ms; provisional responses from the TU are sent, and the latest is resent when the
INVITE is retransmitted. Completed (after 300-699): the response is resent on Timer G (T1,
doubling up to T2, unreliable transports only) until an ACK or Timer H (64*T1). Confirmed:
ACK retransmissions are absorbed until Timer I (T4; zero over reliable transports).
Accepted (after a 2xx, RFC 6026): INVITE retransmissions are absorbed; the TU's own 2xx
retransmissions are sent; ACKs go to the TU (as the ACK of a 2xx, with no key), until
Timer L (64*T1). A transport error is reported and the state kept (RFC 6026 §8.8), so that
retransmissions of the INVITE are still absorbed; the timers end the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverError, DeliverRequest, Send, new
from sippet.transactions.build import build_trying
from sippet.transactions.machine import (
    INVITE_RESPONSE_EVENTS,
    Edge,
    Event,
    State,
    Transaction,
    absorb,
    keeps_request,
)

PROCEEDING = State.PROCEEDING
ACCEPTED = State.ACCEPTED
COMPLETED = State.COMPLETED
CONFIRMED = State.CONFIRMED
TERMINATED = State.TERMINATED


def _resend_last(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.2.1: a retransmitted INVITE gets the latest response again (none yet: absorbed).
    last = t.last_sent
    return [] if last is None else [new(Send, (last, t.peer, t.key))]


def _send_trying(t: Transaction, _: Message | None, now: float) -> list[Action]:
    assert t.request is not None  # kept while Proceeding
    trying = build_trying(t.request)
    t.last_sent = trying
    return [new(Send, (trying, t.peer, t.key))]


def _send_provisional(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # The TU answered: no 100 (Trying) from us any more.
    t.retransmit_at = None
    t.last_sent = response
    return [new(Send, (response, t.peer, t.key))]


def _accept(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # RFC 6026 §8.5, §8.7: send the 2xx (never resent by us), Timer L = 64*T1.
    t.retransmit_at = None
    t.timeout_delay = delay = t.timing.long
    t.timeout_at = now + delay
    t.last_sent = response
    key = t.key
    if not keeps_request(key):
        t.request = None  # Accepted only sends the TU's 2xx retransmissions
    return [new(Send, (response, t.peer, key))]


def _send_response(t: Transaction, response: Message | None, now: float) -> list[Action]:
    t.last_sent = response
    return [new(Send, (response, t.peer, t.key))]


def _ack_to_tu(t: Transaction, ack: Message | None, now: float) -> list[Action]:
    # RFC 6026 §7.1: an ACK in Accepted acknowledges the 2xx; the TU handles it.
    return [new(DeliverRequest, (ack, None))]


def _reject(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # §17.2.1: Timer G = T1 over unreliable transports only; Timer H = 64*T1 always.
    timing = t.timing
    if timing.reliable:
        t.retransmit_at = None
    else:
        t.start_retransmit(timing.t1, now)
    t.timeout_delay = delay = timing.long
    t.timeout_at = now + delay
    t.last_sent = response
    key = t.key
    if not keeps_request(key):
        t.request = None  # Completed and Confirmed only resend the response
    return [new(Send, (response, t.peer, key))]


def _resend_response(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.2.1: G = MIN(2G, T2).
    t.start_retransmit(min(2 * t.retransmit_interval, t.timing.t2), now)
    return [new(Send, (t.last_sent, t.peer, t.key))]


def _confirm(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.2.1: G and H stop; Timer I = T4, or zero over reliable transports.
    t.retransmit_at = t.timeout_at = None
    return t.start_timeout_or_end(Event.TIMER_I, t.timing.i, now)


def _timeout(t: Transaction, _: Message | None, now: float) -> list[Action]:
    return [new(DeliverError, ("timeout", t.key))]


class ServerInviteTransaction(Transaction):
    __slots__ = ()

    INITIAL = PROCEEDING
    START_LABEL = "INVITE / to TU, start the 100 Trying delay (200 ms)"
    IS_INVITE = True
    IS_SERVER = True
    RESPONSE_EVENTS = INVITE_RESPONSE_EVENTS

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]] = {
        (PROCEEDING, Event.REQUEST): Edge(PROCEEDING, _resend_last, "INVITE / resend last 1xx"),
        (PROCEEDING, Event.TRYING_DELAY): Edge(
            PROCEEDING, _send_trying, "no TU response in 200 ms / send 100"
        ),
        (PROCEEDING, Event.PROVISIONAL): Edge(
            PROCEEDING, _send_provisional, "101-199 from TU / send response"
        ),
        (PROCEEDING, Event.SUCCESS): Edge(ACCEPTED, _accept, "2xx from TU / send, start L"),
        (PROCEEDING, Event.FAILURE): Edge(
            COMPLETED, _reject, "300-699 from TU / send, start G (unreliable) and H"
        ),
        (PROCEEDING, Event.TRANSPORT_ERROR): Edge(
            PROCEEDING, absorb, "transport error / inform TU"
        ),
        (ACCEPTED, Event.REQUEST): Edge(ACCEPTED, absorb, "INVITE / absorb"),
        (ACCEPTED, Event.SUCCESS): Edge(ACCEPTED, _send_response, "2xx from TU / send"),
        (ACCEPTED, Event.ACK): Edge(ACCEPTED, _ack_to_tu, "ACK / to TU"),
        (ACCEPTED, Event.TIMER_L): Edge(TERMINATED, absorb, "Timer L"),
        (ACCEPTED, Event.TRANSPORT_ERROR): Edge(ACCEPTED, absorb, "transport error / inform TU"),
        (COMPLETED, Event.REQUEST): Edge(COMPLETED, _resend_last, "INVITE / resend response"),
        (COMPLETED, Event.TIMER_G): Edge(
            COMPLETED, _resend_response, "Timer G / resend response, G = min(2G, T2)"
        ),
        (COMPLETED, Event.ACK): Edge(CONFIRMED, _confirm, "ACK / start I"),
        (COMPLETED, Event.TIMER_H): Edge(TERMINATED, _timeout, "Timer H / inform TU (timeout)"),
        (COMPLETED, Event.TRANSPORT_ERROR): Edge(COMPLETED, absorb, "transport error / inform TU"),
        (CONFIRMED, Event.ACK): Edge(CONFIRMED, absorb, "ACK / absorb"),
        (CONFIRMED, Event.TIMER_I): Edge(TERMINATED, absorb, "Timer I"),
    }

    def start(self, now: float) -> list[Action]:
        actions: list[Action] = [new(DeliverRequest, (self.request, self.key))]
        delay = self.timing.trying_delay
        if delay is not None:
            if delay > 0:
                self.start_retransmit(delay, now)
            else:
                actions += _send_trying(self, None, now)
        return actions
