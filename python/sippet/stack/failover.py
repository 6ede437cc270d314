"""RFC 3263 §4.3 fail-over: the targets a request has left, and which key the Core knows.

A request whose next hop resolved to several targets is sent to the first one. When that
attempt fails before any response came back (a transport error, an ICMP error, a refused
connection, a TLS failure, Timer B or F), the stack sends a new request, "identical to the
previous, but [with] a different value of the Via branch ID" (§4.3), to the next target:
a new client transaction. The Core never sees the retries' keys: every response and the
one final error reach it under the key of its first request (the *original* key).

This module is the bookkeeping only (no I/O, no clock): ``Attempts`` maps each attempt's
key to its request's record, and builds the retry. The transaction layer is unchanged:
each attempt is an ordinary client transaction.

Bounds: ``max_targets`` targets per request (the others are dropped when it starts), and
``max_retryable`` requests kept after a 503 for ``Stack.retry_next_target`` (oldest
forgotten first). A record otherwise lives exactly as long as its current attempt.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from sippet.headers import SentBy
from sippet.ids import create_branch
from sippet.message import Message
from sippet.stack.routing import NextHop
from sippet.stack.transport_layer import Peer
from sippet.transactions import ClientKey

DEFAULT_MAX_TARGETS = 8
"""Targets tried per request (the first included): a name with many SRV records must not
turn one request into dozens of transactions."""

DEFAULT_MAX_RETRYABLE = 1024
"""Requests whose 503 the Core may still answer with ``retry_next_target``."""


@dataclass(slots=True)
class Request:
    """One request the Core sent, with the targets it has left."""

    original: ClientKey
    """The key ``Stack.send`` returned: the one the Core knows."""
    message: Message
    """The request as the first attempt sent it (after strict-route rewriting)."""
    hop: NextHop
    current: ClientKey
    """The key of the attempt in flight (``original`` for the first one)."""
    peer: Peer
    """Where the attempt in flight went: retransmissions, the ACK of a non-2xx response
    and a CANCEL go there too (RFC 3263 §4)."""
    remaining: list[Peer] = field(default_factory=list)
    answered: bool = False
    """A response came back for the current attempt: that server was reached, so a later
    timeout is its answer, not a reason to try another (§4.3 fails over on no response)."""


class Attempts:
    """The requests that may fail over, by the key of each attempt."""

    def __init__(
        self,
        max_targets: int = DEFAULT_MAX_TARGETS,
        max_retryable: int = DEFAULT_MAX_RETRYABLE,
    ) -> None:
        if max_targets < 1 or max_retryable < 0:
            raise ValueError("max_targets must be at least 1, max_retryable at least 0")
        self.max_targets = max_targets
        self.max_retryable = max_retryable
        self._by_attempt: dict[ClientKey, Request] = {}
        self._by_original: dict[ClientKey, Request] = {}
        # A CANCEL sent with the branch of a retried INVITE, to the key the Core knows
        # (the branch of its first INVITE); removed when that CANCEL's transaction ends.
        self._cancels: dict[ClientKey, ClientKey] = {}
        # Requests whose last attempt ended in a 503, by original key (§4.3 leaves the
        # retry to the TU): bounded, oldest first out.
        self._retryable: OrderedDict[ClientKey, Request] = OrderedDict()

    def __len__(self) -> int:
        """Requests held (in flight or waiting for a retry after 503) and CANCEL aliases."""
        return len(self._by_original) + len(self._retryable) + len(self._cancels)

    def start(
        self, key: ClientKey, message: Message, hop: NextHop, peer: Peer, others: list[Peer]
    ) -> None:
        """A request sent to ``peer`` with ``others`` left to try (nothing is kept when
        there are none: such a request has nothing to fail over to)."""
        remaining = others[: self.max_targets - 1]
        if remaining:
            request = Request(key, message, hop, key, peer, remaining)
            self._by_attempt[key] = request
            self._by_original[key] = request

    def get(self, key: ClientKey) -> Request | None:
        """The request of the attempt ``key``, while that attempt is in flight."""
        return self._by_attempt.get(key)

    def current(self, original: ClientKey) -> ClientKey:
        """The key of the attempt in flight for the request the Core knows as ``original``
        (itself when the request never failed over)."""
        request = self._by_original.get(original)
        return request.current if request is not None else original

    def original(self, key: ClientKey) -> ClientKey:
        """The key the Core knows for ``key`` (itself when it is not a retry)."""
        request = self._by_attempt.get(key)
        if request is not None:
            return request.original
        return self._cancels.get(key, key)

    def alias_cancel(self, sent: ClientKey, original: ClientKey) -> None:
        """The CANCEL ``sent`` (branch of the INVITE's current attempt) is the Core's
        ``original`` CANCEL."""
        if sent != original:
            self._cancels[sent] = original

    def answered(self, key: ClientKey) -> None:
        request = self._by_attempt.get(key)
        if request is not None:
            request.answered = True

    def next_attempt(self, key: ClientKey) -> tuple[Request, Message, Peer] | None:
        """After the attempt ``key`` failed without an answer: the request to send to the
        next target (new branch) and that target; ``None`` when there is none left (the
        record is then dropped: the Core gets the error)."""
        request = self._by_attempt.pop(key, None)
        if request is None:
            return None
        if request.answered or not request.remaining:
            self._by_original.pop(request.original, None)
            return None
        return self._advance(request)

    def final(self, key: ClientKey, status: int) -> None:
        """A final response ended attempt ``key``: the record goes, or waits for
        ``retry_after_503`` after a 503 when targets are left."""
        request = self._by_attempt.pop(key, None)
        if request is None:
            return
        self._by_original.pop(request.original, None)
        if status != 503 or not request.remaining:
            return
        self._retryable[request.original] = request
        self._retryable.move_to_end(request.original)
        while len(self._retryable) > self.max_retryable:
            self._retryable.popitem(last=False)

    def retry_after_503(self, original: ClientKey) -> tuple[Request, Message, Peer] | None:
        """The next attempt of a request answered 503 (``None``: not known, or no target
        left)."""
        request = self._retryable.pop(original, None)
        if request is None:
            return None
        self._by_original[original] = request
        return self._advance(request)

    def ended(self, key: ClientKey) -> None:
        """The transaction ``key`` is over (``Terminated``): its CANCEL alias, or its
        request if it still was the attempt in flight, is forgotten. An attempt that failed
        over or got its final response was let go already."""
        self._cancels.pop(key, None)
        request = self._by_attempt.pop(key, None)
        if request is not None:
            self._by_original.pop(request.original, None)

    def clear(self) -> None:
        self._by_attempt.clear()
        self._by_original.clear()
        self._retryable.clear()
        self._cancels.clear()

    def _advance(self, request: Request) -> tuple[Request, Message, Peer]:
        previous = request.peer
        peer = request.remaining.pop(0)
        retry = retry_request(request.message, previous, peer)
        branch = retry.headers["via"][0].params["branch"]
        request.current = ClientKey(branch, request.original.method)
        request.peer = peer
        request.answered = False
        self._by_attempt[request.current] = request
        return request, retry, peer


def retry_request(message: Message, previous: Peer, peer: Peer) -> Message:
    """RFC 3263 §4.3: the same request with a new Via branch, for ``peer``. The top Via
    names ``peer``'s transport, and its sent-by port follows when it was the previous
    transport's own port (a request failing over from UDP to TCP gets answered on TCP's)."""
    retry = message.copy()
    vias = retry.headers["via"]
    via = vias[0]
    params = dict(via.params)
    params["branch"] = create_branch()
    sent_by = via.sent_by
    old_port = previous.transport.local_address[1]
    new_port = peer.transport.local_address[1]
    if peer.transport is not previous.transport and sent_by.port == old_port and new_port:
        sent_by = SentBy(sent_by.host, new_port)
    vias[0] = via._replace(protocol=peer.transport.protocol, sent_by=sent_by, params=params)
    return retry
