"""``Stack``: the asyncio side of sippet. Transports, the transaction layer, a core.

The stack is the only scheduler of the sans-I/O transaction layer (aioquic style): every
input (a datagram, a send, a timer, a transport error) goes to the layer with the loop's
clock, the returned actions are carried out in order, and one ``loop.call_at`` is kept for
``layer.next_deadline()``. Everything that arrives is parsed, checked and stamped here
(RFC 3261 §18.2.1); everything that leaves is routed here (§8.1.2, §18.2.2).

Nothing received may crash the stack: parse and validation failures are answered
statelessly (requests) or dropped (responses) and logged with their source; exceptions in
the core's callbacks are logged.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal, NamedTuple

from sippet.errors import ParseError, SippetError, TransportError, ValidationError
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.resolver import Resolver, SystemResolver, literal_address
from sippet.stack.core import Core
from sippet.stack.droplog import DropLog
from sippet.stack.routing import (
    NextHop,
    apply_strict_route,
    is_strict_route,
    request_next_hop,
    response_next_hop,
    stamp_received,
    stamp_via,
)
from sippet.stack.stateless import error_response
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
trace_logger = logging.getLogger("sippet.trace")

TraceMode = Literal["line", "full"] | None


class Peer(NamedTuple):
    """A transport and a remote address: where a request goes, or where one came from.

    The transaction layer holds these as its opaque destinations and sources.
    """

    transport: Transport
    address: Address

    def __str__(self) -> str:
        return format_address(self.transport.protocol, *self.address)


# RFC 3261 §16.6 step 11: Timer C, how long a proxy waits for a final response to an
# INVITE, MUST be larger than 3 minutes; a UAS core that has not answered by then will not.
UNANSWERED_INVITE_TIMEOUT = 181.0


class AnswerTimeouts(NamedTuple):
    """How long a server transaction waits for its core's final response before the stack
    ends it and reports ``receive_error("unanswered", key)``. RFC 3261 sets no such timer
    (§17.2.1, §17.2.2); without one, a core that drops requests would leave transactions
    behind without bound. ``math.inf`` disables one."""

    non_invite: float
    invite: float


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
        self.resolver: Resolver = resolver if resolver is not None else SystemResolver()
        self.trace: TraceMode = trace
        self.timers = timers if timers is not None else TimerSettings()
        self.layer = TransactionLayer(self.timers)
        self.answer_timeouts = answer_timeouts or AnswerTimeouts(
            64 * self.timers.t1, UNANSWERED_INVITE_TIMEOUT
        )
        # (deadline, key) of every server transaction given to the core, in order; one
        # queue per timeout, so that each is sorted by deadline.
        self._awaiting_answer: tuple[deque[tuple[float, ServerKey]], ...] = (deque(), deque())
        self._core: Core | None = None
        self._transports: list[Transport] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        # Where each live transaction last sent, so that an ICMP error for an address
        # reaches the transactions that sent there. Entries leave with Terminated.
        self._sent_to: dict[TransactionKey, Peer] = {}
        self._keys_at: dict[Peer, set[TransactionKey]] = {}
        self._closed = False
        self._drops = DropLog(logger)
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
        for transport in self._transports:
            await transport.stop()
        self._transports.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    @property
    def transports(self) -> list[Transport]:
        return list(self._transports)

    async def add_transport(self, transport: Transport) -> Transport:
        """Start ``transport`` and use it for its protocol (and address family)."""
        self._running_loop()
        await transport.start(self)
        self._transports.append(transport)
        logger.info("%s: listening on %s", self.name, transport)
        return transport

    def register_core(self, core: Core) -> None:
        self._core = core

    # -- sending --------------------------------------------------------------------------

    async def send(self, message: Message) -> ClientKey | None:
        """Send a request or a response; returns the client key of a new request.

        The message is validated first (``sippet.ValidationError``). A request other than
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
        if method == Method.ACK:
            self._transmit(request, await self._resolve(hop), None)
            return None
        try:
            peer = await self._resolve(hop)
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
            self._transmit(message, await self._resolve(hop), None)
        else:
            self._transmit(message, await self._resolve(response_next_hop(message)), None)

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
        keys = list(self._keys_at.get(Peer(transport, destination), ()))
        if not keys:
            logger.info(
                "%s: %s for %s (no transaction)",
                self.name,
                reason,
                format_address(transport.protocol, *destination),
            )
        for key in keys:
            # One report per datagram sent: the next send to that address indexes the key
            # again, so a later ICMP error is not taken for this one.
            self._forget(key)
            self._report_error(reason, key)

    # -- receiving ----------------------------------------------------------------------

    def _receive(self, transport: Transport, data: bytes, source: Address) -> None:
        if self._closed or self._loop is None:
            return
        try:
            message = Message.parse(data, self.limits)
        except ParseError as exc:
            self._reject_unparsable(transport, data, source, exc)
            return
        if self.trace is not None:
            self._trace("<-", transport, source, message, data)
        start_line = message.start_line
        if isinstance(start_line, RequestLine):
            vias = message.headers.get("via")
            if vias and transport.reliable:
                # RFC 7118 §5: a client on a connection is reached only over it; received
                # and rport (RFC 3581 §4) on its top Via tell the core which connection.
                vias[0].params.setdefault("rport", None)
            stamp_received(message, source[0], source[1])
            try:
                validate(message, transport.protocol)
            except ValidationError as exc:
                self._reject_invalid(transport, source, message, exc)
                return
            actions = self.layer.receive_request(
                message, Peer(transport, source), transport.reliable, self._loop.time()
            )
        else:
            try:
                validate(message)
            except ValidationError as exc:
                self._drops.warning(
                    "%s: dropped an invalid response from %s: %s (%s)",
                    self.name,
                    format_address(transport.protocol, *source),
                    exc,
                    exc.reason,
                )
                return
            actions = self.layer.receive_response(message, self._loop.time())
        self._run(actions)

    def _reject_unparsable(
        self, transport: Transport, data: bytes, source: Address, exc: ParseError
    ) -> None:
        where = format_address(transport.protocol, *source)
        headers = exc.reply_headers
        if headers is None:
            self._drops.warning(
                "%s: dropped a malformed message from %s: %s (%s)",
                self.name,
                where,
                exc,
                exc.reason,
            )
            return
        response = error_response(headers, exc.status_code, exc.reason)
        if response is None:
            self._drops.warning(
                "%s: dropped a malformed request from %s: %s (%s)",
                self.name,
                where,
                exc,
                exc.reason,
            )
            return
        self._drops.warning(
            "%s: answered a malformed request from %s with %d: %s (%s)",
            self.name,
            where,
            exc.status_code,
            exc,
            exc.reason,
        )
        self._send_stateless(transport, source, response)

    def _reject_invalid(
        self, transport: Transport, source: Address, request: Message, exc: ValidationError
    ) -> None:
        where = format_address(transport.protocol, *source)
        method = request.start_line.method if isinstance(request.start_line, RequestLine) else ""
        response = (
            None
            if method == Method.ACK
            else error_response(request.headers, exc.status_code, exc.reason)
        )
        if response is None:
            self._drops.warning(
                "%s: dropped an invalid request from %s: %s (%s)", self.name, where, exc, exc.reason
            )
            return
        self._drops.warning(
            "%s: answered an invalid request from %s with %d: %s (%s)",
            self.name,
            where,
            exc.status_code,
            exc,
            exc.reason,
        )
        self._send_stateless(transport, source, response)

    def _send_stateless(self, transport: Transport, source: Address, response: Message) -> None:
        # §18.2.2 routing from the top Via; the request's received/rport point back at the
        # source when it asked for them, otherwise the sent-by decides.
        stamp_via(response.headers["via"], source[0], source[1])
        params = response.headers["via"][0].params
        if "received" not in params:
            params["received"] = source[0]
        self._transmit_response(response, Peer(transport, source), None)

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
            self._transmit(message, destination, action.key)
        else:
            self._transmit_response(
                message, destination if isinstance(destination, Peer) else None, action.key
            )

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
            is_invite = key.method == "INVITE"
            timeout = self.answer_timeouts[is_invite]
            if timeout != math.inf:
                self._awaiting_answer[is_invite].append((self._loop.time() + timeout, key))
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
        self._forget(action.key)

    def _remember(self, key: TransactionKey, peer: Peer) -> None:
        """Index ``key`` by where it sends, for ICMP errors (RFC 3261 §17.1.4, §18.4)."""
        previous = self._sent_to.get(key)
        if previous == peer:
            return
        if previous is not None:
            self._forget(key)
        self._sent_to[key] = peer
        keys = self._keys_at.get(peer)
        if keys is None:
            self._keys_at[peer] = {key}
        else:
            keys.add(key)

    def _forget(self, key: TransactionKey) -> None:
        peer = self._sent_to.pop(key, None)
        if peer is None:
            return
        keys = self._keys_at.get(peer)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_at[peer]

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
        for queue in self._awaiting_answer:
            if queue and (deadline is None or queue[0][0] < deadline):
                deadline = queue[0][0]
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
        for queue in self._awaiting_answer:
            while queue and queue[0][0] <= now:
                _, key = queue.popleft()
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
                    self._call(self._core.receive_error, "unanswered", key)
        return actions

    # -- transport side -------------------------------------------------------------------

    def _transmit(self, message: Message, peer: Peer, key: TransactionKey | None) -> None:
        try:
            data = bytes(message)
        except ValueError as exc:  # e.g. a CR or LF in a header value built by the core
            logger.error("%s: cannot serialize %s: %s", self.name, message.start_line, exc)
            if key is not None and self._loop is not None:
                self._loop.call_soon(self._report_error, "invalid_message", key)
            return
        if self.trace is not None:
            self._trace("->", peer.transport, peer.address, message, data)
        if key is not None:
            self._remember(key, peer)
        peer.transport.send(data, peer.address)

    def _transmit_response(
        self, response: Message, source: Peer | None, key: TransactionKey | None
    ) -> None:
        if source is not None and source.transport.reliable and response.target is None:
            # RFC 3261 §18.2.2: over the connection the request came on (for WebSocket the
            # only way back, RFC 7118 §5); the transport finds it by the source address.
            self._transmit(response, source, key)
            return
        try:
            hop = response_next_hop(response)
        except TransportError as exc:
            logger.warning("%s: cannot route %s: %s", self.name, response.start_line, exc)
            return
        literal = literal_address(hop.host, hop.port)
        if literal is None:
            self._spawn(self._resolve_and_respond(response, hop, source, key))
            return
        try:
            peer = self._peer_for(hop.protocol, literal, source)
        except TransportError as exc:
            self._transport_failed(exc, key)
            return
        self._transmit(response, peer, key)

    async def _resolve_and_respond(
        self, response: Message, hop: NextHop, source: Peer | None, key: TransactionKey | None
    ) -> None:
        try:
            peer = await self._resolve(hop, source)
        except TransportError as exc:
            self._transport_failed(exc, key)
            return
        self._transmit(response, peer, key)

    def _transport_failed(self, exc: TransportError, key: TransactionKey | None) -> None:
        logger.info("%s: %s", self.name, exc)
        if key is not None and self._loop is not None:
            self._loop.call_soon(self._report_error, exc.reason, key)

    async def _resolve(self, hop: NextHop, prefer: Peer | None = None) -> Peer:
        addresses = await self.resolver.resolve(hop.host, hop.port, hop.protocol)
        last: TransportError | None = None
        for address in addresses:
            try:
                return self._peer_for(hop.protocol, address, prefer)
            except TransportError as exc:
                last = exc
        raise last or TransportError(f"no address for {hop.host}", reason="nxdomain")

    def _peer_for(self, protocol: str, address: tuple[int, str, int], prefer: Peer | None) -> Peer:
        """The transport for ``protocol`` that reaches ``address`` (``(family, host, port)``):
        ``prefer``'s (the one a request came in on) when it fits, else the first that does.
        An IPv6 transport bound to ``::`` reaches IPv4 hosts through mapped addresses."""
        family, host, port = address
        if prefer is not None:
            transport = prefer.transport
            if transport.protocol == protocol and transport.family == family:
                return Peer(transport, (host, port))
        mapped: Transport | None = None
        for transport in self._transports:
            if transport.protocol != protocol:
                continue
            if transport.family == family:
                return Peer(transport, (host, port))
            if (
                mapped is None
                and family == socket.AF_INET
                and transport.family == socket.AF_INET6
                and transport.local_address[0] == "::"
            ):
                mapped = transport
        if mapped is not None:
            return Peer(mapped, ("::ffff:" + host, port))
        raise TransportError(f"no {protocol} transport reaches {host}", reason="no_transport")

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._closed:
            raise SippetError(f"stack {self.name!r} is not running (use 'async with Stack()')")
        return self._loop

    # -- trace ----------------------------------------------------------------------------

    def _trace(
        self, arrow: str, transport: Transport, address: Address, message: Message, data: bytes
    ) -> None:
        where = format_address(transport.protocol, *address)
        start = message.start_line
        if isinstance(start, RequestLine):
            first = f"{start.method} {start.request_uri}"
        else:
            first = f"{start.status_code} {start.reason_phrase}"
        if self.trace == "full":
            text = data.decode("utf-8", errors="replace")
            trace_logger.info(
                "%s %s %s %s (%d bytes)\n%s", self.name, arrow, where, first, len(data), text
            )
        else:
            trace_logger.info("%s %s %s %s (%d bytes)", self.name, arrow, where, first, len(data))
