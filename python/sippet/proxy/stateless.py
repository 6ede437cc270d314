"""The stateless proxy core (RFC 3261 §16.11): a message forwarder that keeps nothing
between messages. Each request goes to one target with a branch computed from the request
(retransmissions, CANCEL and non-2xx ACK get the same one); each response goes to the
next Via once our own is removed."""

from __future__ import annotations

from collections.abc import Iterable

from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.proxy.actions import EndTransaction, Lookup, ProxyAction, SendStateless
from sippet.proxy.branch import stateless_branch
from sippet.proxy.checks import check_request, fails_checks, is_for_proxy_itself, is_looped
from sippet.proxy.config import ProxyConfig
from sippet.proxy.forward import ProxyTarget, forward_copy
from sippet.proxy.routing import (
    is_broadcast,
    needs_lookup,
    next_hop_is_broadcast,
    preprocess_routes,
)
from sippet.proxy.stateful import answer_options, received_protocol
from sippet.transactions import ClientKey, ServerKey
from sippet.transactions.keys import DEFAULT_PORT, TLS_PORT


class StatelessProxy:
    """§16.11. ``Lookup`` handles are kept only until the application answers them
    (bounded by ``config.max_contexts``); nothing else is kept."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self._pending: dict[int, Message] = {}
        self._next_handle = 0

    def __len__(self) -> int:
        return len(self._pending)

    def receive_request(
        self, request: Message, key: ServerKey | None, now: float
    ) -> list[ProxyAction]:
        # No transaction is kept: the stack's would absorb retransmissions (a stateless
        # proxy forwards them) and send 100 (Trying) (which it must not).
        actions: list[ProxyAction] = [] if key is None else [EndTransaction(key)]
        start = request.start_line
        assert isinstance(start, RequestLine)
        is_ack = start.method == Method.ACK
        if is_for_proxy_itself(request, self.config):
            return [*actions, SendStateless(answer_options(request))]
        if is_ack:
            # An ACK is never answered (§17): one that fails is dropped.
            if fails_checks(request, self.config):
                return actions
            preprocess_routes(request, self.config)
            if is_looped(request, self.config) or len(self._pending) >= self.config.max_contexts:
                return actions
        else:
            error = check_request(request, self.config)
            if error is None:
                preprocess_routes(request, self.config)
                if is_looped(request, self.config):
                    error = request.to_response(482)
            if error is None and len(self._pending) >= self.config.max_contexts:
                error = request.to_response(503)
            if error is not None:
                return [*actions, SendStateless(error)]
        handle = self._next_handle
        self._next_handle += 1
        self._pending[handle] = request
        if needs_lookup(request, self.config):
            return [*actions, Lookup(handle, request)]
        return actions + self.forward(handle, [ProxyTarget(start.request_uri)], now)

    def forward(self, handle: int, targets: Iterable[ProxyTarget], now: float) -> list[ProxyAction]:
        """Forward to one target (§16.11: one and only one): the first of the highest
        q-value, so that a lookup that gives the same answer gives the same choice."""
        request = self._pending.pop(handle)
        candidates = list(targets)
        if not candidates:
            return self._answer(request, 480)
        best = max(candidate.q for candidate in candidates)
        target = next(candidate for candidate in candidates if candidate.q == best)
        branch = stateless_branch(request)
        copy = forward_copy(request, target, branch, self.config, received_protocol(request))
        if next_hop_is_broadcast(copy):
            return self._answer(request, 403, "Forbidden (broadcast address)")
        return [SendStateless(copy)]

    def reject(
        self, handle: int, status_code: int, now: float, reason: str | None = None
    ) -> list[ProxyAction]:
        return self._answer(self._pending.pop(handle), status_code, reason)

    @staticmethod
    def _answer(request: Message, status_code: int, reason: str | None = None) -> list[ProxyAction]:
        if request.start_line[0] == Method.ACK:
            return []
        return [SendStateless(request.to_response(status_code, reason))]

    def receive_response(
        self, response: Message, key: ClientKey | None, now: float
    ) -> list[ProxyAction]:
        """§16.11 / §16.7 steps 3 and 9: our Via removed, the response sent to the next
        one. Dropped: a response whose top Via is not ours (§16.7 step 1, RFC 4475
        bcast), one with no Via left, one whose next Via is a broadcast address."""
        return [SendStateless(response)] if strip_own_via(response, self.config) else []

    def receive_error(self, reason: str, key: object, now: float) -> list[ProxyAction]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def handle_timers(self, now: float) -> list[ProxyAction]:
        return []


def strip_own_via(response: Message, config: ProxyConfig) -> bool:
    """Remove our Via from the top of ``response``; ``False`` when it must be dropped."""
    vias = response.headers.get("via") or []
    if len(vias) < 2:
        return False
    top = vias[0]
    default = TLS_PORT if str(top.protocol).upper() == "TLS" else DEFAULT_PORT
    if not config.is_own(top.sent_by.host, top.sent_by.port, default):
        return False
    following = vias[1]
    if is_broadcast(following.params.get("received") or following.sent_by.host):
        return False
    if is_broadcast(following.params.get("maddr")):
        return False
    response.headers["via"] = vias[1:]
    return True
