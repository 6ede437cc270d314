"""``Stack``: the asyncio driver of sippet. Transports, the transaction layer, a core.

The stack is the only scheduler of the sans-I/O transaction layer (aioquic style): every
input (a message, a send, a timer, a transport error) goes to the layer with the loop's
clock, the returned actions are carried out in order, and one ``loop.call_at`` is kept for
``layer.next_deadline()``. What arrives goes through ``Ingress`` (parse, check, stamp,
stateless rejection); what leaves goes through the ``TransportLayer`` (peer choice, name
resolution, connections, transport errors). A request whose next hop resolved to several
targets fails over along them (RFC 3263 §4.3, ``stack/failover.py``) under the key the
core was given.

Nothing received may crash the stack: exceptions in the core's callbacks are logged.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sippet.errors import ParseError, SippetError, TransactionError, TransportError
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method
from sippet.reasons import Reason
from sippet.resolver import Resolver, SystemResolver
from sippet.stack.answers import UNANSWERED_INVITE_TIMEOUT, AnswerTimeouts, AnswerWatch
from sippet.stack.core import Core
from sippet.stack.failover import DEFAULT_MAX_TARGETS, Attempts, Request
from sippet.stack.ingress import Ingress
from sippet.stack.routing import (
    apply_strict_route,
    is_strict_route,
    request_next_hop,
    response_next_hop,
)
from sippet.stack.trace import TraceMode
from sippet.stack.transport_layer import Peer, TransportLayer
from sippet.transactions import (
    ClientKey,
    DeliverError,
    DeliverRequest,
    DeliverResponse,
    Send,
    ServerKey,
    State,
    Terminated,
    TimerSettings,
    TransactionKey,
    TransactionLayer,
)
from sippet.transports.base import Address, Transport, format_address
from sippet.validation import validate

logger = logging.getLogger("sippet.stack")

__all__ = ["AnswerTimeouts", "Peer", "Stack", "TraceMode"]


class Stack:
    """A SIP stack: ``async with Stack(name=...) as stack`` starts it, leaving closes it.

    ``timers`` sets T1/T2/T4 for this stack's transactions; ``limits`` bounds what is
    accepted from the wire; ``resolver`` turns host names into addresses (default: A/AAAA
    through the OS); ``trace`` logs every message on logger ``sippet.trace`` at INFO, one
    line each (``"line"``) or with the full text (``"full"``).

    ``resolver``: a ``sippet.resolve.dns_resolver.DnsResolver`` makes the stack locate
    servers the RFC 3263 way (NAPTR, SRV, A/AAAA) for the transports it has, and fail
    over: a request whose target fails without answering (transport error, ICMP, refused
    connection, TLS failure, Timer B/F) is sent again, with a new branch, to the next
    target, at most ``max_targets`` targets per request; the core sees one error, under
    the key ``send`` returned, only when every target failed (§4.3). After a 503, the core
    may call ``retry_next_target(key)``.

    ``answer_timeouts``: a server transaction whose core has sent no final response after
    ``non_invite`` (default 64*T1: the client's Timer F has fired, so an answer could no
    longer arrive) or ``invite`` seconds (default 181 s, past RFC 3261 §16.6 Timer C) is
    ended, and the core gets ``receive_error("unanswered", key)``.
    """

    def __init__(
        self,
        name: str = "sippet",
        *,
        timers: TimerSettings | None = None,
        limits: Limits = DEFAULT_LIMITS,
        resolver: Resolver | None = None,
        trace: TraceMode = None,
        answer_timeouts: AnswerTimeouts | None = None,
        max_targets: int = DEFAULT_MAX_TARGETS,
    ) -> None:
        self.name = name
        self.limits = limits
        self.timers = timers if timers is not None else TimerSettings()
        self.layer = TransactionLayer(self.timers)
        self.answer_timeouts = answer_timeouts or AnswerTimeouts(
            64 * self.timers.t1, UNANSWERED_INVITE_TIMEOUT
        )
        self._answers = AnswerWatch(self.answer_timeouts)
        self._attempts = Attempts(max_targets)
        self._core: Core | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closed = False
        self.transport_layer = TransportLayer(
            name,
            resolver if resolver is not None else SystemResolver(),
            self._report_error,
            self._schedule,
        )
        self.transport_layer.trace_mode = trace
        self._ingress = Ingress(name, limits, self.transport_layer, self._spawn)
        self._drops = self._ingress.drops
        self._handlers: dict[type, Callable[[Any], None]] = {
            Send: self._do_send,
            DeliverRequest: self._do_deliver_request,
            DeliverResponse: self._do_deliver_response,
            DeliverError: self._do_deliver_error,
            Terminated: self._do_terminated,
        }

    # -- life cycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closed = False

    async def close(self) -> None:
        """Stop the transports, cancel the timer and the core's pending tasks."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._deadline = None
        await self.transport_layer.stop()
        self._attempts.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    @property
    def transports(self) -> list[Transport]:
        return self.transport_layer.transports

    @property
    def resolver(self) -> Resolver:
        """Turns host names into addresses (the transport layer's)."""
        return self.transport_layer.resolver

    @resolver.setter
    def resolver(self, resolver: Resolver) -> None:
        self.transport_layer.resolver = resolver

    @property
    def trace(self) -> TraceMode:
        """``"line"``, ``"full"`` or ``None``: how messages are logged on ``sippet.trace``."""
        return self.transport_layer.trace_mode

    @trace.setter
    def trace(self, mode: TraceMode) -> None:
        self.transport_layer.trace_mode = mode

    async def add_transport(self, transport: Transport) -> Transport:
        """Start ``transport`` and use it for its protocol (and address family)."""
        self._running_loop()
        await self.transport_layer.add(transport, self)
        logger.info("%s: listening on %s", self.name, transport)
        return transport

    def register_core(self, core: Core) -> None:
        self._core = core

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: Message) -> ClientKey | None:
        """Send a request or a response; returns the client key of a new request.

        The message is validated first (``sippet.ValidationError``). RFC 3261 §18.1.1: a
        request for a UDP hop larger than 1300 bytes goes over TCP when the stack has a TCP
        transport and the URI did not ask for UDP; its top Via then says TCP. A request other than
        ACK starts a client transaction (``TransactionError`` ``already_started`` for a
        duplicate); its resolution or transport failure reaches ``Core.receive_error`` with
        the key. An ACK goes straight to the transport (``TransportError`` when it cannot
        be routed). A response goes to its server transaction (``TransactionError``
        ``no_transaction`` when there is none).
        """
        loop = self._running_loop()
        validate(message)
        if not isinstance(message.start_line, RequestLine):
            self._send_response(message, loop)
            return None
        hop = request_next_hop(message)
        request = message
        if request.target is None and is_strict_route(request):
            request = apply_strict_route(request)
        method = message.start_line.method
        layer = self.transport_layer
        if method in (Method.ACK, Method.CANCEL):
            pinned = self._invite_peer(request)
            if pinned is not None:
                request, peer = pinned
                if method == Method.ACK:
                    layer.transmit(request, peer, None)
                    return None
                return self._send_cancel(message, request, peer, loop.time())
        if method == Method.ACK:
            # The ACK of a 2xx is a transaction of its own (RFC 3263 §4): resolved anew.
            layer.transmit(request, (await layer.resolve_request(message, hop))[0], None)
            return None
        try:
            peers = await layer.resolve_request(message, hop)  # before strict-route rewriting
            peer = layer.congestion_controlled(request, hop, peers[0])
        except TransportError as exc:
            key = ClientKey(request.headers["via"][0].params.get("branch", ""), str(method))
            logger.info("%s: cannot send %s: %s", self.name, method, exc)
            # No transaction was started, so the layer cannot report it: tell the core.
            loop.call_soon(self._tell_core_error, exc.reason, key)
            return key
        key, actions = self.layer.send_request(request, peer, peer.transport.reliable, loop.time())
        self._attempts.start(key, request, hop, peer, peers[1:])
        self._run(actions)
        return key

    def retry_next_target(self, key: ClientKey) -> bool:
        """RFC 3263 §4.3: after a 503 to the request ``send`` returned ``key`` for, send it
        (new branch) to the next target its hop resolved to. Its responses, or its one
        error, reach the core under ``key`` again. ``False`` when there is no target left
        (or the request is not known: it had one target, its final response was not a 503,
        or it was too long ago: the stack keeps the last 1,024 such 503s,
        ``failover.DEFAULT_MAX_RETRYABLE``)."""
        loop = self._running_loop()
        attempt = self._attempts.retry_after_503(key)
        if attempt is None:
            return False
        self._send_attempt(*attempt, loop.time())
        return True

    def _invite_peer(self, request: Message) -> tuple[Message, Peer] | None:
        """RFC 3263 §4: a CANCEL, or an ACK the core sends for a non-2xx response, goes to
        the server the INVITE with its branch reached (same transport, address and port);
        after a fail-over, with the branch of the INVITE that went there (a copy of
        ``request`` then carries it). ``None`` when no such INVITE is live: the request is
        then routed as any other."""
        via = request.headers["via"][0]
        invite = ClientKey(via.params.get("branch", ""), "INVITE")
        current = self._attempts.current(invite)
        peer = self.transport_layer.peer_of(current)
        if peer is None:
            return None
        if current != invite:
            request = request.copy()
            request.headers["via"][0] = via._replace(
                protocol=peer.transport.protocol,
                params={**via.params, "branch": current.branch},
            )
        return request, peer

    def _send_cancel(self, message: Message, cancel: Message, peer: Peer, now: float) -> ClientKey:
        """Start the CANCEL's client transaction towards ``peer``; its responses reach the
        core under the key of the CANCEL it gave (``message``)."""
        original = ClientKey(message.headers["via"][0].params.get("branch", ""), "CANCEL")
        key, actions = self.layer.send_request(cancel, peer, peer.transport.reliable, now)
        self._attempts.alias_cancel(key, original)
        self._run(actions)
        return original

    def _send_attempt(self, attempt: Request, retry: Message, peer: Peer, now: float) -> None:
        """Send ``retry`` to ``peer``: the next attempt of ``attempt`` (§4.3)."""
        logger.info(
            "%s: %s %s: trying the next target %s",
            self.name,
            attempt.original.method,
            attempt.original.branch,
            peer,
        )
        peer = self.transport_layer.congestion_controlled(retry, attempt.hop, peer)
        attempt.peer = peer
        try:
            _key, actions = self.layer.send_request(retry, peer, peer.transport.reliable, now)
        except TransactionError:
            logger.exception("%s: cannot start the retry of %s", self.name, attempt.original)
            self._attempts.ended(attempt.current)
            self._tell_core_error(Reason.TRANSPORT_ERROR, attempt.original)
            return
        self._run(actions)

    async def send_stateless(self, message: Message) -> None:
        """Send ``message`` straight to the transport, without a transaction.

        For stateless forwarding (RFC 3261 §16.11) and for 2xx responses whose server
        transaction is gone. Routed like ``send`` (§8.1.2, §18.2.2); ``TransportError`` when
        it cannot be routed or resolved.
        """
        self._running_loop()
        validate(message)
        if isinstance(message.start_line, RequestLine):
            hop = request_next_hop(message)
            peers = await self.transport_layer.resolve_request(message, hop)
            if message.target is None and is_strict_route(message):
                message = apply_strict_route(message)
            self.transport_layer.transmit(message, peers[0], None)
        else:
            hop = response_next_hop(message)
            self.transport_layer.transmit(message, await self.transport_layer.resolve(hop), None)

    def send_response(self, response: Message) -> None:
        """``send`` for a response, without awaiting: for cores with plain callbacks."""
        loop = self._running_loop()
        validate(response)
        self._send_response(response, loop)

    def terminate(self, key: TransactionKey) -> None:
        """End a transaction at once (its timers stop; nothing more is delivered for it)."""
        loop = self._running_loop()
        if isinstance(key, ClientKey):
            key = self._attempts.current(key)  # the attempt in flight (§4.3 fail-over)
        self._run(self.layer.terminate(key, loop.time()))

    def _send_response(self, response: Message, loop: asyncio.AbstractEventLoop) -> None:
        self._run(self.layer.send_response(response, loop.time()))

    # -- TransportReceiver ------------------------------------------------------------------

    def message_received(self, transport: Transport, data: bytes, source: Address) -> None:
        try:
            self._receive(transport, data, source)
        except Exception:
            logger.exception(
                "%s: failure handling a message from %s",
                self.name,
                format_address(transport.protocol, *source),
            )

    def error_received(self, transport: Transport, reason: str, destination: Address) -> None:
        if self._closed or self._loop is None:
            return
        keys = self.transport_layer.keys_at(transport, destination)
        if not keys:
            logger.info(
                "%s: %s for %s (no transaction)",
                self.name,
                reason,
                format_address(transport.protocol, *destination),
            )
        for key in keys:
            if isinstance(key, ServerKey) and self.transport_layer.retry_response(key):
                continue  # RFC 3263 §5: the response goes to the sent-by's next target
            self._report_error(reason, key)

    def connection_closed(self, transport: Transport, address: Address) -> None:
        """A stream transport's connection from or to ``address`` ended (see
        ``TransportLayer.connection_closed``)."""
        self.transport_layer.connection_closed(transport, address)

    def framing_error(
        self, transport: Transport, source: Address, error: ParseError, head: bytes
    ) -> None:
        """A stream transport could not cut a message out of the bytes from ``source``
        (``head``: the start of the message that failed); it closes the connection after
        this returns and the answer, if any, is written."""
        if self._closed or self._loop is None:
            return
        try:
            self._ingress.framing_error(transport, source, error, head)
        except Exception:
            logger.exception("%s: failure answering a framing error", self.name)

    # -- receiving ----------------------------------------------------------------------

    def _receive(self, transport: Transport, data: bytes, source: Address) -> None:
        if self._closed or self._loop is None:
            return
        message = self._ingress.accept(transport, data, source)
        if message is None:
            return
        if isinstance(message.start_line, RequestLine):
            actions = self.layer.receive_request(
                message, Peer(transport, source), transport.reliable, self._loop.time()
            )
        else:
            actions = self.layer.receive_response(message, self._loop.time())
        self._run(actions)

    # -- actions --------------------------------------------------------------------------

    def _run(self, actions: list[Any]) -> None:
        handlers = self._handlers
        for action in actions:
            try:
                handlers[type(action)](action)
            except Exception:
                logger.exception("%s: failure carrying out %r", self.name, action)
        self._rearm()

    def _do_send(self, action: Send) -> None:
        message = action.message
        destination = action.destination
        if isinstance(message.start_line, RequestLine):
            assert isinstance(destination, Peer)
            self.transport_layer.transmit(message, destination, action.key)
        else:
            pending = self.transport_layer.transmit_response(
                message, destination if isinstance(destination, Peer) else None, action.key
            )
            if pending is not None:
                self._spawn(pending)

    def _do_deliver_request(self, action: DeliverRequest) -> None:
        core = self._core
        if core is None:
            self._drops.warning(
                "%s: no core registered, dropped %s", self.name, action.request.start_line
            )
            if action.key is not None and self._loop is not None:
                # Nobody will answer: end the server transaction instead of keeping it.
                self._run(self.layer.terminate(action.key, self._loop.time()))
            return
        key = action.key
        if key is not None and self._loop is not None:
            self._answers.track(key, self._loop.time())
        self._call(core.receive_request, action.request, key)

    def _do_deliver_response(self, action: DeliverResponse) -> None:
        key = action.key
        if key is not None:
            attempts = self._attempts
            original = attempts.original(key)
            status = action.response.start_line
            code = status.status_code if isinstance(status, StatusLine) else 0
            if code >= 200:
                attempts.final(key, code)
            else:
                attempts.answered(key)
            key = original
        core = self._core
        if core is None:
            return
        self._call(core.receive_response, action.response, key)

    def _do_deliver_error(self, action: DeliverError) -> None:
        key = action.key
        if isinstance(key, ClientKey):
            original = self._attempts.original(key)
            if action.reason == Reason.INVALID_MESSAGE:
                # Our own message cannot be written: no other server would take it.
                self._attempts.ended(key)
                attempt = None
            else:
                attempt = self._attempts.next_attempt(key)
            if attempt is not None and self._loop is not None:
                # RFC 3263 §4.3: no answer from this target; the core hears of it only
                # when every target has failed.
                logger.info("%s: %s failed: %s", self.name, key, action.reason)
                self._send_attempt(*attempt, self._loop.time())
                return
            key = original
        logger.info("%s: transaction %s failed: %s", self.name, key, action.reason)
        core = self._core
        if core is None:
            return
        self._call(core.receive_error, action.reason, key)

    def _do_terminated(self, action: Terminated) -> None:
        self.transport_layer.forget(action.key)
        if isinstance(action.key, ClientKey):
            self._attempts.ended(action.key)

    def _call(self, callback: Callable[..., Awaitable[None] | None], *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception:
            logger.exception("%s: core callback %s failed", self.name, callback.__name__)
            return
        if result is not None and inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: core callback failed", self.name, exc_info=task.exception())

    def _report_error(self, reason: str, key: TransactionKey) -> None:
        """A transport error for a live transaction (the layer ignores an ended one)."""
        if self._closed or self._loop is None:
            return
        self._run(self.layer.transport_error(key, reason, self._loop.time()))

    def _tell_core_error(self, reason: str, key: TransactionKey) -> None:
        core = self._core
        if core is not None and not self._closed:
            self._call(core.receive_error, reason, key)

    # -- timers ---------------------------------------------------------------------------

    def _rearm(self) -> None:
        deadline = self.layer.next_deadline()
        answer_deadline = self._answers.next_deadline()
        if answer_deadline is not None and (deadline is None or answer_deadline < deadline):
            deadline = answer_deadline
        if deadline == self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = deadline
        if deadline is not None and self._loop is not None and not self._closed:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        assert self._loop is not None
        deadline = self._deadline
        self._timer = None
        self._deadline = None
        now = self._loop.time()
        if deadline is not None and now < deadline:
            now = deadline  # call_at may fire a clock tick early
        try:
            actions = self.layer.handle_timers(now)
        except Exception:
            logger.exception("%s: timer handling failed", self.name)
            actions = []
        self._run(actions + self._end_unanswered(now))

    def _end_unanswered(self, now: float) -> list[Any]:
        """Ends the server transactions still waiting for a final response past their
        answer timeout (see ``AnswerTimeouts``), and tells the core."""
        actions: list[Any] = []
        for key in self._answers.due(now):
            # Trying/Proceeding: no final response yet. Any later state (or none: the
            # transaction is over) means the core answered.
            if self.layer.state_of(key) not in (State.TRYING, State.PROCEEDING):
                continue
            self._drops.warning(
                "%s: no final response from the core to %s %s: transaction ended",
                self.name,
                key.method,
                key.branch,
            )
            actions += self.layer.terminate(key, now)
            if self._core is not None:
                self._call(self._core.receive_error, Reason.UNANSWERED, key)
        return actions

    # -- helpers --------------------------------------------------------------------------

    def _spawn(self, coroutine_function: Callable[[], object]) -> None:
        result = coroutine_function()
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _schedule(self, callback: Callable[[], None]) -> None:
        if self._loop is not None and not self._closed:
            self._loop.call_soon(callback)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._closed:
            raise SippetError(f"stack {self.name!r} is not running (use 'async with Stack()')")
        return self._loop
