"""The stateful proxy core (RFC 3261 §16.2 to §16.10): sans-I/O, clock passed in.

Inputs: ``receive_request``, ``receive_response``, ``receive_error`` (what the stack
delivers), ``forward``/``reject`` (the application's answer to a ``Lookup``),
``handle_timers``; each takes ``now`` and returns the actions to carry out, in order.
``next_deadline()`` is the earliest timer (Timer C, or the end of a context).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.proxy.actions import (
    EndTransaction,
    Lookup,
    ProxyAction,
    SendRequest,
    SendResponse,
    SendStateless,
)
from sippet.proxy.branch import stateful_branch, stateless_branch
from sippet.proxy.checks import check_request, fails_checks, is_for_proxy_itself, is_looped
from sippet.proxy.config import ProxyConfig
from sippet.proxy.context import (
    Branch,
    BranchState,
    ResponseContext,
    best_response,
    status_of,
    waves_by_q,
)
from sippet.proxy.forward import ProxyTarget, cancel_for, forward_copy
from sippet.proxy.routing import needs_lookup, next_hop_is_broadcast, preprocess_routes
from sippet.transactions import ClientKey, ServerKey, TransactionKey

_TimerKind = Literal["timer_c", "linger"]


@dataclass
class _Pending:
    """A request waiting for the application's target set."""

    key: ServerKey | None  # None for an ACK (forwarded statelessly)
    request: Message
    received_protocol: str


def received_protocol(request: Message) -> str:
    """The transport a request came on: its top Via's protocol (RFC 3261 §18.2.1)."""
    vias = request.headers.get("via")
    return str(vias[0].protocol).upper() if vias else "UDP"


def answer_options(request: Message) -> Message:
    """The proxy's own answer to an OPTIONS addressed to it (§11)."""
    response = request.to_response(200)
    response.headers["allow"] = [
        Method.INVITE,
        Method.ACK,
        Method.CANCEL,
        Method.OPTIONS,
        Method.BYE,
    ]
    return response


class StatefulProxy:
    """A transaction-stateful proxy: one response context per forwarded request (§16.7)."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self._contexts: dict[ServerKey, ResponseContext] = {}
        self._branches: dict[str, tuple[ResponseContext, Branch]] = {}
        self._pending: dict[int, _Pending] = {}
        self._next_handle = 0
        self._timers: list[tuple[float, int, _TimerKind, object]] = []
        self._timer_seq = 0

    def __len__(self) -> int:
        """Response contexts and lookups in progress."""
        return len(self._contexts) + len(self._pending)

    # -- requests ----------------------------------------------------------------------

    def receive_request(
        self, request: Message, key: ServerKey | None, now: float
    ) -> list[ProxyAction]:
        """A request from the stack; ``key`` is ``None`` for an ACK outside a transaction
        (the ACK of a 2xx) and for a merged request (§8.2.2.2)."""
        start = request.start_line
        assert isinstance(start, RequestLine)
        if start.method == Method.ACK:
            return self._receive_ack(request, now)
        if key is None:
            return [SendStateless(request.to_response(482, "Loop Detected (merged request)"))]
        if start.method == Method.CANCEL:
            cancelled = self._receive_cancel(request, key, now)
            if cancelled is not None:
                return cancelled
        if is_for_proxy_itself(request, self.config):
            return [SendResponse(answer_options(request))]
        error = check_request(request, self.config)
        if error is None:
            preprocess_routes(request, self.config)
            if is_looped(request, self.config):
                error = request.to_response(482)
        if error is None and len(self) >= self.config.max_contexts:
            error = request.to_response(503)
        if error is not None:
            return [SendResponse(error)]
        pending = _Pending(key, request, received_protocol(request))
        return self._route(pending, now)

    def _receive_ack(self, ack: Message, now: float) -> list[ProxyAction]:
        # An ACK is never answered (§17): one that fails a check, or comes while the
        # proxy is full, is dropped.
        if fails_checks(ack, self.config) or len(self) >= self.config.max_contexts:
            return []
        preprocess_routes(ack, self.config)
        if is_looped(ack, self.config):
            return []
        return self._route(_Pending(None, ack, received_protocol(ack)), now)

    def _route(self, pending: _Pending, now: float) -> list[ProxyAction]:
        handle = self._next_handle
        self._next_handle += 1
        self._pending[handle] = pending
        if needs_lookup(pending.request, self.config):
            return [Lookup(handle, pending.request)]
        start = pending.request.start_line
        assert isinstance(start, RequestLine)
        return self.forward(handle, [ProxyTarget(start.request_uri)], now)

    def _receive_cancel(
        self, cancel: Message, key: ServerKey, now: float
    ) -> list[ProxyAction] | None:
        """§16.10: answer 200 and cancel every pending branch. ``None`` when no context
        matches: the CANCEL is then forwarded like any request."""
        invite_key = ServerKey(key.branch, "INVITE", key.sent_by)
        context = self._contexts.get(invite_key)
        waiting = [h for h, p in self._pending.items() if p.key == invite_key]
        if context is None and not waiting:
            return None
        actions: list[ProxyAction] = [SendResponse(cancel.to_response(200))]
        for handle in waiting:  # the INVITE never left: it is answered here
            pending = self._pending.pop(handle)
            actions.append(SendResponse(pending.request.to_response(487)))
        if context is not None and not context.final_sent:
            context.cancelled = True
            context.waves.clear()
            for branch in context.pending():
                actions += self._cancel(branch, now)
        return actions

    # -- the application's answer ------------------------------------------------------

    def forward(self, handle: int, targets: Iterable[ProxyTarget], now: float) -> list[ProxyAction]:
        """Forward the request of ``Lookup(handle)`` to ``targets`` (§16.6); an empty target
        set gets 480 (Temporarily Unavailable). Raises ``KeyError`` for an unknown handle."""
        pending = self._pending.pop(handle)
        targets = list(targets)
        request = pending.request
        if pending.key is None:
            return self._forward_ack(pending, targets)
        if not targets:
            return [SendResponse(request.to_response(480))]
        waves = waves_by_q(targets, self.config.max_targets)
        context = ResponseContext(pending.key, request, pending.received_protocol, waves)
        self._contexts[pending.key] = context
        return self._next_wave(context, now)

    def reject(
        self, handle: int, status_code: int, now: float, reason: str | None = None
    ) -> list[ProxyAction]:
        """Answer the request of ``Lookup(handle)`` with ``status_code`` instead."""
        pending = self._pending.pop(handle)
        if pending.key is None:
            return []
        return [SendResponse(pending.request.to_response(status_code, reason))]

    def _forward_ack(self, pending: _Pending, targets: list[ProxyTarget]) -> list[ProxyAction]:
        # The ACK of a 2xx has no transaction (§13.2.2.4): it goes to one target, with a
        # branch computed as a stateless proxy would (its retransmissions keep it).
        if not targets:
            return []
        target = max(targets, key=lambda t: t.q)
        branch = stateless_branch(pending.request)
        copy = forward_copy(pending.request, target, branch, self.config, pending.received_protocol)
        if next_hop_is_broadcast(copy):
            return []
        return [SendStateless(copy)]

    def _next_wave(self, context: ResponseContext, now: float) -> list[ProxyAction]:
        actions: list[ProxyAction] = []
        while context.waves and not context.pending():
            for target in context.waves.pop(0):
                actions += self._start_branch(context, target, now)
        if not context.pending():
            actions += self._send_best(context, now)
        return actions

    def _start_branch(
        self, context: ResponseContext, target: ProxyTarget, now: float
    ) -> list[ProxyAction]:
        branch_id = stateful_branch(context.request)
        copy = forward_copy(
            context.request, target, branch_id, self.config, context.received_protocol
        )
        if next_hop_is_broadcast(copy):
            # Never forwarded to a broadcast address (RFC 4475 bcast): a refused branch.
            context.finals.append(context.request.to_response(403, "Forbidden (broadcast address)"))
            return []
        branch = Branch(branch_id, copy, target)
        context.branches[branch_id] = branch
        self._branches[branch_id] = (context, branch)
        if context.is_invite:
            self._set_timer_c(branch, now + self.config.timer_c)  # §16.6 step 11
        return [SendRequest(copy)]

    # -- responses ---------------------------------------------------------------------

    def receive_response(
        self, response: Message, key: ClientKey | None, now: float
    ) -> list[ProxyAction]:
        """A response from a client transaction. One that matches none (``key`` None, RFC
        6026 §7.3) or no branch of ours is dropped (§16.7 step 1)."""
        if key is None or key.method == "CANCEL":
            return []  # our CANCELs' answers end at the proxy
        found = self._branches.get(key.branch)
        if found is None:
            return []
        context, branch = found
        if branch.given_up:
            return []  # its answer was already made up (408, 503): a late one is too late
        vias = response.headers.get("via") or []
        if len(vias) < 2:
            return []  # nothing to forward it to
        response.headers["via"] = vias[1:]  # §16.7 step 3: our own Via removed
        code = status_of(response)
        if code < 200:
            return self._provisional(context, branch, response, now)
        branch.state = BranchState.DONE
        branch.timer_c = None
        if code < 300:
            return self._success(context, response, now)
        if context.final_sent:
            return []
        context.finals.append(response)
        if code >= 600:  # §16.7 step 5: a 6xx ends the search
            context.waves.clear()
            return self._cancel_pending(context, now) + self._send_best(context, now)
        return self._next_wave(context, now)

    def _provisional(
        self, context: ResponseContext, branch: Branch, response: Message, now: float
    ) -> list[ProxyAction]:
        actions: list[ProxyAction] = []
        if branch.state is BranchState.CALLING:
            branch.state = BranchState.PROCEEDING
            if branch.cancel_wanted:
                actions += self._cancel(branch, now)
        if context.is_invite and not branch.cancelled:
            self._set_timer_c(branch, now + self.config.timer_c)  # §16.7 step 2
        # §16.7 step 5: provisional responses other than 100 are forwarded at once.
        if status_of(response) > 100 and not context.final_sent:
            actions.append(SendResponse(response))
        return actions

    def _success(
        self, context: ResponseContext, response: Message, now: float
    ) -> list[ProxyAction]:
        # §16.7 step 5: every 2xx is forwarded, the late ones of other branches too.
        actions: list[ProxyAction] = [SendResponse(response)]
        if not context.final_sent:
            context.final_sent = True
            context.waves.clear()
            context.linger_until = now + self.config.context_linger
            self._push_timer(context.linger_until, "linger", context)
            actions += self._cancel_pending(context, now)  # §16.7 step 10
        return actions

    def _send_best(self, context: ResponseContext, now: float) -> list[ProxyAction]:
        """§16.7 step 6 to 9: the best final response, with the challenges of every 401 and
        407 merged, a 503 turned into 500; 408 when no branch answered."""
        if context.final_sent:
            return []
        best = best_response(context.finals)
        if best is None:
            best = context.request.to_response(408)
        elif status_of(best) == 503:  # §16.7 step 6: the 503 is about the next hop
            best = context.request.to_response(500)
        elif status_of(best) in (401, 407):
            best = _merge_challenges(best, context.finals)
        context.final_sent = True
        context.linger_until = now + self.config.context_linger
        self._push_timer(context.linger_until, "linger", context)
        return [SendResponse(best)]

    def receive_error(self, reason: str, key: TransactionKey, now: float) -> list[ProxyAction]:
        """A transaction failed. A branch acts as if it got 408 (timeout, §16.6 step 7) or
        503 (a transport error, §16.9); a server transaction that ended takes its context."""
        if isinstance(key, ServerKey):
            for handle in [h for h, p in self._pending.items() if p.key == key]:
                del self._pending[handle]
            context = self._contexts.get(key)
            if context is not None and not context.final_sent:
                # Nobody can be answered any more: stop trying, let the branches end.
                context.final_sent = True
                context.waves.clear()
                context.linger_until = now
                self._push_timer(now, "linger", context)
                return self._cancel_pending(context, now)
            return []
        if key.method == "CANCEL":
            return []
        found = self._branches.get(key.branch)
        if found is None:
            return []
        context, branch = found
        return self._fail_branch(context, branch, 408 if reason == "timeout" else 503, now)

    def _fail_branch(
        self, context: ResponseContext, branch: Branch, status_code: int, now: float
    ) -> list[ProxyAction]:
        if branch.state is BranchState.DONE:
            return []
        branch.state = BranchState.DONE
        branch.timer_c = None
        branch.given_up = True
        if context.final_sent:
            return []
        context.finals.append(context.request.to_response(status_code))
        return self._next_wave(context, now)

    # -- cancelling --------------------------------------------------------------------

    def _cancel_pending(self, context: ResponseContext, now: float) -> list[ProxyAction]:
        actions: list[ProxyAction] = []
        for branch in context.pending():
            actions += self._cancel(branch, now)
        return actions

    def _cancel(self, branch: Branch, now: float) -> list[ProxyAction]:
        """CANCEL a pending INVITE branch (§16.10); before any provisional response, only
        once one arrives (§9.1)."""
        if branch.cancelled or str(branch.request.start_line[0]) != "INVITE":
            return []
        if branch.state is BranchState.CALLING:
            branch.cancel_wanted = True
            return []
        branch.cancelled = True
        # A branch that ignores the CANCEL too is given up 64*T1 later (§9.1).
        self._set_timer_c(branch, now + self.config.context_linger)
        return [SendRequest(cancel_for(branch.request))]

    # -- timers ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        while self._timers and not self._is_live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def handle_timers(self, now: float) -> list[ProxyAction]:
        """Fire every timer due at ``now``: Timer C (§16.8) and the end of contexts."""
        actions: list[ProxyAction] = []
        while self._timers and self._timers[0][0] <= now:
            entry = heapq.heappop(self._timers)
            if not self._is_live(entry):
                continue
            deadline, _, kind, ref = entry
            if kind == "timer_c":
                assert isinstance(ref, Branch)
                actions += self._timer_c_fired(ref, deadline)
            else:
                assert isinstance(ref, ResponseContext)
                self._end_context(ref, deadline)
        return actions

    def _timer_c_fired(self, branch: Branch, now: float) -> list[ProxyAction]:
        found = self._branches.get(branch.branch)
        if found is None:
            return []
        context = found[0]
        branch.timer_c = None
        if branch.cancelled:
            # The CANCEL got no final response either: give the branch up.
            end = EndTransaction(ClientKey(branch.branch, "INVITE"))
            return [end, *self._fail_branch(context, branch, 408, now)]
        if branch.state is BranchState.PROCEEDING:
            return self._cancel(branch, now)  # §16.8: CANCEL; its 487 ends the branch
        # §16.8: as if 408; the transaction (Timer B has normally ended it) goes too.
        end = EndTransaction(ClientKey(branch.branch, "INVITE"))
        return [end, *self._fail_branch(context, branch, 408, now)]

    def _end_context(self, context: ResponseContext, now: float) -> None:
        if context.pending():
            # Branches still owed a response (Timer B or C ends each): look again later.
            context.linger_until = now + self.config.context_linger
            self._push_timer(context.linger_until, "linger", context)
            return
        if self._contexts.get(context.key) is context:
            del self._contexts[context.key]
        for branch_id in context.branches:
            self._branches.pop(branch_id, None)

    def _set_timer_c(self, branch: Branch, deadline: float) -> None:
        branch.timer_c = deadline
        self._push_timer(deadline, "timer_c", branch)

    def _push_timer(self, deadline: float, kind: _TimerKind, ref: object) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (deadline, self._timer_seq, kind, ref))

    @staticmethod
    def _is_live(entry: tuple[float, int, _TimerKind, object]) -> bool:
        deadline, _, kind, ref = entry
        if kind == "timer_c":
            return isinstance(ref, Branch) and ref.timer_c == deadline
        return isinstance(ref, ResponseContext) and ref.linger_until == deadline


def _merge_challenges(chosen: Message, finals: list[Message]) -> Message:
    """§16.7 step 7: every WWW-Authenticate and Proxy-Authenticate of the 401s and 407s."""
    merged = chosen.copy()
    for key in ("www_authenticate", "proxy_authenticate"):
        values = list(merged.headers.get(key, ()))
        for response in finals:
            if response is chosen or status_of(response) not in (401, 407):
                continue
            values += [v for v in response.headers.get(key, ()) if v not in values]
        if values:
            merged.headers[key] = values
    return merged
