"""INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as amended by RFC 6026 §7.2.

Calling: the INVITE is resent on Timer A (T1, doubling, unreliable transports only) until
a response or Timer B (64*T1). Proceeding: no timer runs; Timer B only fires in Calling
(§17.1.1.2). Giving up on a server that never answers finally is the TU's job: a UAC
CANCELs (§9.1), a proxy runs Timer C (§16.6), either may call ``TransactionLayer.terminate``.
Completed (after 300-699): the transaction acknowledges each retransmission of the final
response until Timer D. Accepted (after a 2xx, RFC 6026): every 2xx goes to the TU, which
sends the ACK of a 2xx itself (§13.2.2.4), until Timer M (64*T1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sippet.message import Message
from sippet.transactions.actions import Action, DeliverError, DeliverResponse, Send, new
from sippet.transactions.build import build_ack
from sippet.transactions.machine import (
    INVITE_RESPONSE_EVENTS,
    Edge,
    Event,
    State,
    Transaction,
    absorb,
)

CALLING = State.CALLING
PROCEEDING = State.PROCEEDING
ACCEPTED = State.ACCEPTED
COMPLETED = State.COMPLETED
TERMINATED = State.TERMINATED


def _resend_invite(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.1.1.2: Timer A fires: retransmit, reset A to twice its value (no cap).
    t.retransmit_interval = interval = 2 * t.retransmit_interval
    t.retransmit_at = now + interval
    return [new(Send, (t.request, t.peer, t.key))]


def _timeout(t: Transaction, _: Message | None, now: float) -> list[Action]:
    return [new(DeliverError, ("timeout", t.key))]


def _first_provisional(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # §17.1.1.2: no more retransmissions in Proceeding, and Timer B only fires in Calling.
    t.retransmit_at = t.timeout_at = None
    return [new(DeliverResponse, (response, t.key))]


def _to_tu(t: Transaction, response: Message | None, now: float) -> list[Action]:
    return [new(DeliverResponse, (response, t.key))]


def _accept(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # RFC 6026 §8.4: to the TU, no ACK (the TU sends it), Timer M = 64*T1.
    # Accepted passes 2xx responses up and nothing else: the INVITE is not needed any more.
    t.retransmit_at = None
    t.request = None
    t.timeout_delay = delay = t.timing.long
    t.timeout_at = now + delay
    return [new(DeliverResponse, (response, t.key))]


def _reject(t: Transaction, response: Message | None, now: float) -> list[Action]:
    # §17.1.1.2: to the TU, then an ACK (even over reliable transports) to where the INVITE
    # went; Timer D, zero over reliable transports.
    assert response is not None and t.request is not None
    t.retransmit_at = t.timeout_at = None
    ack = build_ack(t.request, response)
    t.last_sent = ack
    t.request = None  # Completed resends the ACK only
    actions: list[Action] = [
        new(DeliverResponse, (response, t.key)),
        new(Send, (ack, t.peer, t.key)),
    ]
    actions += t.start_timeout_or_end(Event.TIMER_D, t.timing.d, now)
    return actions


def _resend_ack(t: Transaction, _: Message | None, now: float) -> list[Action]:
    # §17.1.1.2: a retransmitted final response is acknowledged again, not passed up.
    assert t.last_sent is not None
    return [new(Send, (t.last_sent, t.peer, t.key))]


class ClientInviteTransaction(Transaction):
    __slots__ = ()

    INITIAL = CALLING
    START_LABEL = "INVITE from TU / send INVITE, start A (unreliable) and B"
    IS_INVITE = True
    IS_SERVER = False
    RESPONSE_EVENTS = INVITE_RESPONSE_EVENTS

    TABLE: ClassVar[Mapping[tuple[State, Event], Edge]] = {
        (CALLING, Event.TIMER_A): Edge(CALLING, _resend_invite, "Timer A / resend INVITE, A = 2A"),
        (CALLING, Event.TIMER_B): Edge(TERMINATED, _timeout, "Timer B / inform TU (timeout)"),
        (CALLING, Event.PROVISIONAL): Edge(
            PROCEEDING, _first_provisional, "1xx / to TU, stop A and B"
        ),
        (CALLING, Event.SUCCESS): Edge(ACCEPTED, _accept, "2xx / to TU, start M"),
        (CALLING, Event.FAILURE): Edge(COMPLETED, _reject, "300-699 / to TU, send ACK, start D"),
        (CALLING, Event.TRANSPORT_ERROR): Edge(TERMINATED, absorb, "transport error / inform TU"),
        (PROCEEDING, Event.PROVISIONAL): Edge(PROCEEDING, _to_tu, "1xx / to TU"),
        (PROCEEDING, Event.SUCCESS): Edge(ACCEPTED, _accept, "2xx / to TU, start M"),
        (PROCEEDING, Event.FAILURE): Edge(COMPLETED, _reject, "300-699 / to TU, send ACK, start D"),
        (PROCEEDING, Event.TRANSPORT_ERROR): Edge(
            TERMINATED, absorb, "transport error / inform TU"
        ),
        (COMPLETED, Event.FAILURE): Edge(COMPLETED, _resend_ack, "300-699 / resend ACK"),
        (COMPLETED, Event.TIMER_D): Edge(TERMINATED, absorb, "Timer D"),
        (COMPLETED, Event.TRANSPORT_ERROR): Edge(TERMINATED, absorb, "transport error / inform TU"),
        (ACCEPTED, Event.SUCCESS): Edge(ACCEPTED, _to_tu, "2xx / to TU"),
        (ACCEPTED, Event.TIMER_M): Edge(TERMINATED, absorb, "Timer M"),
        (ACCEPTED, Event.TRANSPORT_ERROR): Edge(TERMINATED, absorb, "transport error / inform TU"),
    }

    def start(self, now: float) -> list[Action]:
        # §17.1.1.2: Timer A = T1 over unreliable transports only; Timer B = 64*T1 always.
        # TransactionLayer.send_request does the same inline (its hot path).
        timing = self.timing
        if not timing.reliable:
            self.start_retransmit(timing.t1, now)
        self.timeout_delay = timing.long
        self.timeout_at = now + timing.long
        return [new(Send, (self.request, self.peer, self.key))]
