"""``Stack``: the asyncio driver of sippet. Transports, the transaction layer, a core.

The stack is the only scheduler of the sans-I/O transaction layer (aioquic style): every
input (a message, a send, a timer, a transport error) goes to the layer with the loop's
clock, the returned actions are carried out in order, and one ``loop.call_at`` is kept for
``layer.next_deadline()``. What arrives goes through ``Ingress`` (parse, check, stamp,
stateless rejection); what leaves goes through the ``TransportLayer`` (peer choice, name
resolution, connections, transport errors).

Nothing received may crash the stack: exceptions in the core's callbacks are logged.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sippet.errors import ParseError, SippetError, TransportError
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.reasons import Reason
from sippet.resolver import Resolver, SystemResolver
from sippet.stack.answers import UNANSWERED_INVITE_TIMEOUT, AnswerTimeouts, AnswerWatch
from sippet.stack.core import Core
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
    ) -> None:
        self.name = name
        self.limits = limits
        self.timers = timers if timers is not None else TimerSettings()
        self.layer = TransactionLayer(self.timers)
        self.answer_timeouts = answer_timeouts or AnswerTimeouts(
            64 * self.timers.t1, UNANSWERED_INVITE_TIMEOUT
        )
        self._answers = AnswerWatch(self.answer_timeouts)
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
        if method == Method.ACK:
            layer.transmit(request, await layer.resolve(hop), None)
            return None
        try:
            peer = layer.congestion_controlled(request, hop, await layer.resolve(hop))
        except TransportError as exc:
            key = ClientKey(request.headers["via"][0].params.get("branch", ""), str(method))
            logger.info("%s: cannot send %s: %s", self.name, method, exc)
            # No transaction was started, so the layer cannot report it: tell the core.
            loop.call_soon(self._tell_core_error, exc.reason, key)
            return key
        key, actions = self.layer.send_request(request, peer, peer.transport.reliable, loop.time())
        self._run(actions)
        return key

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
            if message.target is None and is_strict_route(message):
                message = apply_strict_route(message)
            self.transport_layer.transmit(message, await self.transport_layer.resolve(hop), None)
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
        core = self._core
        if core is None:
            return
        self._call(core.receive_response, action.response, action.key)

    def _do_deliver_error(self, action: DeliverError) -> None:
        logger.info("%s: transaction %s failed: %s", self.name, action.key, action.reason)
        core = self._core
        if core is None:
            return
        self._call(core.receive_error, action.reason, action.key)

    def _do_terminated(self, action: Terminated) -> None:
        self.transport_layer.forget(action.key)

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
