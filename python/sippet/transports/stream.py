"""Stream transports (RFC 3261 §18): a listener, its connections, framing and their limits.

``StreamTransport`` is the shared part of TCP and TLS: it listens, opens connections on
demand, cuts each connection's bytes into messages with ``sippet._native.StreamFramer``
(Content-Length is mandatory on a stream, §18.3), answers RFC 5626 §4.4.1 keep-alive pings
and bounds everything a peer could make it hold (``StreamLimits``). It does not decide which
connection a message takes: the stack's transport layer does, through ``send`` (the open
connection to an address), ``connect_send`` (that, or a new one), ``has_connection`` and
``add_alias``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import ClassVar

from sippet import _native
from sippet.errors import ParseError, TransportError
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.reasons import Reason
from sippet.transports.base import Address, Transport, TransportReceiver, format_address
from sippet.transports.tls_session import TLSSession

logger = logging.getLogger("sippet.transports.stream")

_PING = b"\r\n\r\n"
_PONG = b"\r\n"

_HEAD_KEPT = 16_384
"""Bytes kept of a message being received, so that a framing error can still be answered
from its headers (RFC 4475 §3.1.2.3); longer header sections are closed without an answer."""


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Bounds on a stream transport's connections; each one cut off is logged."""

    max_connections: int = 4096
    """Open connections, both directions. Each costs a socket, a framer and its buffer."""

    max_connections_per_address: int = 512
    """Open connections to or from one remote IP address, so that one host cannot take them
    all (SIPp ``-t tn`` opens one per call)."""

    idle_timeout: float = 120.0
    """Seconds without a byte either way before a connection is closed (the peer opens a
    new one when it needs it; RFC 5626 clients keep theirs up with CRLF pings)."""

    message_timeout: float = 10.0
    """Seconds to receive the rest of a message once its first byte arrived: a sender too
    slow (or a Content-Length larger than the body, RFC 4475 §3.1.2.2 ``clerr``) is cut off."""

    handshake_timeout: float = 10.0
    """Seconds for a TLS handshake, accepted or initiated, from the TCP connection's start."""

    connect_timeout: float = 10.0
    """Seconds to open an outgoing TCP connection."""

    max_write_buffer: int = 1_048_576
    """Bytes queued to a peer that does not read; past it the connection is closed."""

    max_pending_messages: int = 64
    """Messages queued for a connection still being opened; more are refused."""

    keepalive_interval: float | None = None
    """When set, connections this side opened send an RFC 5626 §4.4.1 CRLF ping this often."""


DEFAULT_STREAM_LIMITS = StreamLimits()


class StreamTransport(Transport):
    """A listener on ``host:port`` and the connections to and from it.

    ``limits`` bounds each message (``Limits.max_message_size``, ``max_stream_buffer``...);
    ``stream_limits`` the connections. Subclasses set ``protocol`` and, for TLS, return the
    ``ssl.SSLContext`` objects from ``_server_ssl`` and ``_client_ssl``: each connection then
    runs a ``TLSSession`` on its bytes.
    """

    reliable: ClassVar[bool] = True
    stream: ClassVar[bool] = True

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = 5060,
        *,
        limits: Limits = DEFAULT_LIMITS,
        stream_limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    ) -> None:
        self.host = host
        self.port = port
        self.limits = limits
        self.stream_limits = stream_limits
        self.reuse_port = False
        """SO_REUSEPORT on the listening socket: several processes accept on one address."""
        self.listening = True
        """False for a transport that only connects out (a TLS client without a certificate):
        its ``local_address`` then has port 0."""
        self._server: asyncio.Server | None = None
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._receiver: TransportReceiver | None = None
        self._local: Address | None = None
        self._family = socket.AF_INET
        self._connections: dict[Address, _Connection] = {}
        self._per_host: dict[str, int] = {}
        self._all: set[_Connection] = set()
        self._connecting: dict[Address, list[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    # -- Transport ------------------------------------------------------------------------

    @property
    def local_address(self) -> Address:
        if self._local is None:
            raise TransportError("transport not started", reason=Reason.NOT_STARTED)
        return self._local

    @property
    def family(self) -> int:
        return self._family

    @property
    def connection_count(self) -> int:
        return len(self._all)

    async def start(self, receiver: TransportReceiver) -> None:
        if self._started:
            raise TransportError("transport already started", reason="already_started")
        loop = asyncio.get_running_loop()
        if self.listening:
            await self._listen(loop)
        else:
            self._family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._local = (self.host, 0)
        self._started = True
        self._loop = loop
        self._receiver = receiver
        self._schedule_sweep()

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            server = await loop.create_server(
                lambda: _Connection(self, None, None),
                self.host or None,
                self.port,
                reuse_address=True,
                reuse_port=self.reuse_port or None,
                backlog=1024,
            )
        except OSError as exc:
            raise TransportError(
                f"cannot listen on {self.protocol.lower()} {self.host}:{self.port}: {exc}",
                reason=_errno_reason(exc),
            ) from exc
        sock = server.sockets[0]
        name = sock.getsockname()
        self._family = sock.family
        self._local = (name[0], name[1])
        self._server = server
        logger.debug("listening on %s", format_address(self.protocol, *self._local))

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        server, self._server = self._server, None
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for connection in list(self._all):
            connection.abort()
        self._connections.clear()
        self._connecting.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def send(self, data: bytes, destination: Address) -> None:
        """Send on the open connection to ``destination``; when there is none, open one
        (for a response whose connection closed, RFC 3261 §18.2.2)."""
        self.connect_send(data, destination, None)

    def connect_send(self, data: bytes, destination: Address, server_name: str | None) -> None:
        connection = self._connections.get(destination)
        if connection is not None:
            connection.write(data)
            return
        if not self._started or self._loop is None:
            self._report(destination, Reason.NOT_STARTED)
            return
        pending = self._connecting.get(destination)
        if pending is not None:
            if len(pending) >= self.stream_limits.max_pending_messages:
                logger.warning("%s: too many messages waiting for a connection", self)
                self._report(destination, Reason.CONNECTION_LIMIT)
                return
            pending.append(data)
            return
        if not self._may_open(destination[0]):
            self._report(destination, Reason.CONNECTION_LIMIT)
            return
        self._connecting[destination] = [data]
        task = self._loop.create_task(self._connect(destination, server_name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def has_connection(self, destination: Address) -> bool:
        return destination in self._connections

    def add_alias(self, source: Address, alias: Address) -> None:
        connection = self._connections.get(source)
        if connection is None or alias == source:
            return
        if alias not in self._connections:
            self._connections[alias] = connection
            connection.aliases.append(alias)

    # -- TLS hooks --------------------------------------------------------------------------

    def _server_ssl(self) -> ssl.SSLContext | None:
        return None

    def _client_ssl(self) -> ssl.SSLContext | None:
        return None

    # -- connections ------------------------------------------------------------------------

    async def _connect(self, destination: Address, server_name: str | None) -> None:
        assert self._loop is not None
        limits = self.stream_limits
        try:
            _transport, connection = await asyncio.wait_for(
                self._loop.create_connection(
                    lambda: _Connection(self, destination, server_name),
                    destination[0],
                    destination[1],
                ),
                limits.connect_timeout,
            )
        except asyncio.CancelledError:
            self._connecting.pop(destination, None)
            raise
        except Exception as exc:  # OSError, ssl.SSLError, TimeoutError
            self._connecting.pop(destination, None)
            reason = _connect_reason(exc)
            logger.info(
                "%s: cannot connect to %s: %s (%s)",
                self,
                format_address(self.protocol, *destination),
                exc,
                reason,
            )
            self._report(destination, reason)
            return
        pending = self._connecting.pop(destination, [])
        if not connection.open:
            if connection.outbound is not None and not connection.closed_here:
                self._report(destination, Reason.CONNECTION_CLOSED)
            return
        for data in pending:
            connection.write(data)

    def _may_open(self, host: str) -> bool:
        limits = self.stream_limits
        if len(self._all) + len(self._connecting) >= limits.max_connections:
            logger.warning("%s: connection limit (%d) reached", self, limits.max_connections)
            return False
        if self._per_host.get(host, 0) >= limits.max_connections_per_address:
            logger.warning(
                "%s: connection limit per address (%d) reached for %s",
                self,
                limits.max_connections_per_address,
                host,
            )
            return False
        return True

    def _opened(self, connection: _Connection) -> bool:
        """Admit a new connection (``False``: over a limit, the caller closes it)."""
        if connection.outbound is None and (
            not self._started or not self._may_open(connection.remote[0])
        ):
            return False
        self._all.add(connection)
        host = connection.remote[0]
        self._per_host[host] = self._per_host.get(host, 0) + 1
        key = connection.outbound or connection.remote
        self._connections[key] = connection
        return True

    def _closed(self, connection: _Connection) -> None:
        if connection not in self._all:
            return
        self._all.discard(connection)
        host = connection.remote[0]
        left = self._per_host.get(host, 1) - 1
        if left:
            self._per_host[host] = left
        else:
            self._per_host.pop(host, None)
        for key in (connection.outbound or connection.remote, *connection.aliases):
            if self._connections.get(key) is connection:
                del self._connections[key]
        hook = getattr(self._receiver, "connection_closed", None)
        if hook is not None:
            try:
                hook(self, connection.source)
            except Exception:
                logger.exception("receiver failed on the close of %s", connection.source)

    def _deliver(self, connection: _Connection, frame: bytes) -> None:
        receiver = self._receiver
        if receiver is None:
            return
        try:
            receiver.message_received(self, frame, connection.source)
        except Exception:
            logger.exception("receiver failed on a message from %s", connection.source)

    def _framing_error(self, connection: _Connection, error: ParseError, head: bytes) -> None:
        logger.warning(
            "%s: framing error from %s: %s (%s); closing",
            self,
            format_address(self.protocol, *connection.remote),
            error,
            error.reason,
        )
        handler = getattr(self._receiver, "framing_error", None)
        if handler is not None:
            try:
                handler(self, connection.source, error, head)
            except Exception:
                logger.exception("receiver failed on a framing error")

    def _report(self, destination: Address, reason: str) -> None:
        # Always asynchronously: the caller may be in the middle of executing actions.
        receiver = self._receiver
        if receiver is None or self._loop is None:
            return
        self._loop.call_soon(receiver.error_received, self, reason, destination)

    # -- timers -----------------------------------------------------------------------------

    def _schedule_sweep(self) -> None:
        assert self._loop is not None
        limits = self.stream_limits
        interval = min(1.0, limits.message_timeout / 4, limits.idle_timeout / 4)
        if limits.keepalive_interval is not None:
            interval = min(interval, limits.keepalive_interval / 2)
        self._sweeper = self._loop.call_later(max(interval, 0.01), self._sweep)

    def _sweep(self) -> None:
        """Close idle and stalled connections; send keep-alive pings (one pass a tick)."""
        if self._loop is None or not self._started:
            return
        now = self._loop.time()
        limits = self.stream_limits
        for connection in list(self._all):
            tls = connection.tls
            if (
                tls is not None
                and not tls.established
                and now - connection.opened_at > limits.handshake_timeout
            ):
                logger.warning(
                    "%s: no TLS handshake with %s within %g s; closing",
                    self,
                    format_address(self.protocol, *connection.remote),
                    limits.handshake_timeout,
                )
                connection.fail(Reason.CONNECT_TIMEOUT)
            elif (
                connection.partial_since is not None
                and now - connection.partial_since > limits.message_timeout
            ):
                logger.warning(
                    "%s: %s sent part of a message and not the rest within %g s; closing",
                    self,
                    format_address(self.protocol, *connection.remote),
                    limits.message_timeout,
                )
                connection.abort()
            elif now - connection.last_activity > limits.idle_timeout:
                logger.info(
                    "%s: closing %s, idle for %g s",
                    self,
                    format_address(self.protocol, *connection.remote),
                    limits.idle_timeout,
                )
                connection.close()
            elif (
                limits.keepalive_interval is not None
                and connection.outbound is not None
                and now - connection.last_sent >= limits.keepalive_interval
            ):
                connection.write(_PING)  # RFC 5626 §4.4.1
        self._schedule_sweep()


class _Connection(asyncio.Protocol):
    """One connection: its framer, its timestamps and the addresses it stands for."""

    __slots__ = (
        "aliases",
        "closed_here",
        "framer",
        "head",
        "last_activity",
        "last_sent",
        "open",
        "opened_at",
        "outbound",
        "owner",
        "partial_since",
        "remote",
        "server_name",
        "source",
        "tls",
        "transport",
        "unsent",
    )

    def __init__(
        self, owner: StreamTransport, outbound: Address | None, server_name: str | None
    ) -> None:
        self.owner = owner
        self.outbound = outbound  # the destination it was opened to; None when accepted
        self.server_name = server_name
        self.tls: TLSSession | None = None
        self.unsent: list[bytes] = []  # plaintext written before the TLS handshake ended
        self.opened_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.framer = _native.StreamFramer(owner.limits)
        self.head = bytearray()  # the bytes of the message being received, for a 400
        self.remote: Address = outbound or ("", 0)
        self.source: Address = self.remote
        self.aliases: list[Address] = []
        self.partial_since: float | None = None
        self.last_activity = 0.0
        self.last_sent = 0.0
        self.open = False
        self.closed_here = False

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if self.outbound is None and peer:
            self.remote = (str(peer[0]), int(peer[1]))
        self.source = self.outbound or self.remote
        now = asyncio.get_running_loop().time()
        self.last_activity = self.last_sent = self.opened_at = now
        if not self.owner._opened(self):
            transport.abort()
            return
        self.open = True
        transport.set_write_buffer_limits(high=self.owner.stream_limits.max_write_buffer)
        context = self.owner._client_ssl() if self.outbound else self.owner._server_ssl()
        if context is not None:
            # RFC 5922 §4 / RFC 6125: verify the host name of the hop, else its address.
            name = self.server_name or self.remote[0]
            self.tls = TLSSession(context, server_side=self.outbound is None, server_hostname=name)
            try:
                first_flight = self.tls.start()
            except ssl.SSLError as exc:
                self._tls_failed(exc)
                return
            if first_flight:
                transport.write(first_flight)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.owner._closed(self)
        if self.outbound is not None and not self.closed_here and self.transport is not None:
            # The peer closed (or reset) a connection this side opened for its requests,
            # TLS 1.3 even to refuse a client certificate: the transactions waiting on it
            # fail now rather than at their timeout (RFC 3261 §18.4).
            self.owner._report(
                self.source, Reason.CONNECTION_CLOSED if exc is None else _connect_reason(exc)
            )

    def data_received(self, data: bytes) -> None:
        if not self.open:
            return
        loop = asyncio.get_running_loop()
        self.last_activity = loop.time()
        tls = self.tls
        if tls is not None:
            was_established = tls.established
            try:
                data, reply = tls.receive(data)
            except ssl.SSLError as exc:
                self._tls_failed(exc)
                return
            if reply and self.transport is not None:
                self.transport.write(reply)
            if tls.established and not was_established:
                self._flush_unsent()
            if tls.closed:
                self.close()
            if not data:
                return
        self._frame(data)

    def _frame(self, data: bytes) -> None:
        framer = self.framer
        had_partial = framer.buffered > 0
        try:
            frames = framer.feed(data)
        except ParseError as exc:
            self._fail(exc, bytes(self.head) + data if had_partial else data, [])
            return
        error = framer.error
        if error is not None:
            self._fail(error, bytes(self.head) + data if had_partial else data, frames)
            return
        self._handle(frames)
        if not self.open:
            return
        buffered = framer.buffered
        if buffered:
            # Keep the start of the message for a framing error's answer (its headers).
            if frames or not had_partial:
                # A new message started in this chunk: all it has so far is its tail.
                self.partial_since = self.last_activity
                self.head = bytearray(data[-buffered:][:_HEAD_KEPT])
            elif len(self.head) < _HEAD_KEPT:
                self.head += data[: _HEAD_KEPT - len(self.head)]
        else:
            self.partial_since = None
            self.head.clear()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def pause_writing(self) -> None:
        # The peer does not read: past max_write_buffer it is cut off, not waited for.
        logger.warning(
            "%s: %s does not read what is sent to it; closing",
            self.owner,
            format_address(self.owner.protocol, *self.remote),
        )
        self.abort()

    # -- used by the transport --------------------------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or not self.open or transport.is_closing():
            self.owner._report(self.source, Reason.CONNECTION_CLOSED)
            return
        tls = self.tls
        if tls is not None:
            if not tls.established:
                if len(self.unsent) >= self.owner.stream_limits.max_pending_messages:
                    self.owner._report(self.source, Reason.CONNECTION_LIMIT)
                    return
                self.unsent.append(data)
                return
            data = tls.send(data)
        transport.write(data)
        self.last_sent = self.last_activity = asyncio.get_running_loop().time()

    def fail(self, reason: str) -> None:
        """Close at once; the transactions that sent on this connection fail with
        ``reason`` (a connection this side opened: its requests are waiting)."""
        if self.outbound is not None:
            self.owner._report(self.source, reason)
        self.abort()

    def _flush_unsent(self) -> None:
        unsent, self.unsent = self.unsent, []
        for data in unsent:
            self.write(data)

    def _tls_failed(self, exc: ssl.SSLError) -> None:
        logger.info(
            "%s: TLS with %s failed: %s",
            self.owner,
            format_address(self.owner.protocol, *self.remote),
            exc,
        )
        self.fail(_connect_reason(exc))

    def close(self) -> None:
        self.closed_here = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.open = False
        self.closed_here = True
        if self.transport is not None:
            self.transport.abort()
        self.owner._closed(self)

    def _handle(self, frames: list[bytes]) -> None:
        for frame in frames:
            if frame == _PING:
                self.write(_PONG)  # RFC 5626 §4.4.1
            elif frame == _PONG:
                continue
            else:
                self.owner._deliver(self, frame)
            if not self.open:
                return

    def _fail(self, error: ParseError, chunk: bytes, frames: list[bytes]) -> None:
        """RFC 4475 §3.1.2.3: deliver what framed, answer the broken request if its
        headers allow, then close: the stream cannot be resynchronized."""
        self._handle(frames)
        done = sum(len(frame) for frame in frames)
        head = chunk[done:].lstrip(b"\r\n") if done < len(chunk) else b""
        if self.open:
            self.owner._framing_error(self, error, head[: self.owner.limits.max_message_size])
        self.open = False
        self.closed_here = True
        if self.transport is not None:
            self.transport.close()  # after what the answer wrote is flushed
        self.owner._closed(self)


def _errno_reason(exc: OSError) -> str:
    if exc.errno is None:
        return Reason.TRANSPORT_ERROR
    return errno.errorcode.get(exc.errno, "transport_error").lower()


def _connect_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Reason.TLS_VERIFICATION_FAILED
    if isinstance(exc, ssl.SSLError):
        return Reason.TLS_HANDSHAKE_FAILED
    if isinstance(exc, TimeoutError):
        return Reason.CONNECT_TIMEOUT
    if isinstance(exc, ConnectionRefusedError):
        return Reason.UNREACHABLE
    if isinstance(exc, OSError) and exc.errno in (
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EADDRNOTAVAIL,
    ):
        return Reason.UNREACHABLE
    if isinstance(exc, OSError):
        return _errno_reason(exc)
    return Reason.TRANSPORT_ERROR
