"""SIP over WebSocket (RFC 7118): the ``WS`` and ``WSS`` transports, on ``websockets``.

One transport is both a WebSocket server (``listen=True``: it accepts connections that
negotiate the ``sip`` subprotocol, RFC 7118 §4.1) and a client (``connect_send`` to an
address with no open connection opens one, ``ws://`` or ``wss://``). It is a stream
transport (``stream = True``): every open connection is known by its remote
``(address, port)``, the ``source`` of what arrives on it and the ``destination`` that sends
on it, and the stack's transport layer sends responses and requests for a WebSocket client
over the client's own connection (RFC 7118 §5: it cannot be reached any other way), through
``has_connection``, ``connect_send`` and ``add_alias`` as for TCP and TLS.

One SIP message is one WebSocket message (RFC 7118 §5), text or binary on receipt (§4.2);
on sending, a message that is valid UTF-8 goes as text, any other as binary (§4.2).

Bounds, all constructor parameters: connections in total and per remote address (counted
from the TCP accept, so idle sockets that never finish a handshake count), the size of a
message (the library's ``max_size``: a larger one closes the connection with 1009), the
handshake time, the idle time (no SIP message either way), the bytes queued for a peer that
does not read, and the messages waiting for a connection being opened. Every cut-off is
logged (rate-limited) and reported to the receiver as ``error_received`` with a
``sippet.reasons.Reason``; every connection's end also goes to the receiver's optional
``connection_closed`` (the transport layer forgets the names that stood for it).

This module imports ``websockets``; ``import sippet`` does not import this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Coroutine, Sequence
from typing import Any, ClassVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import CloseCode
from websockets.protocol import State
from websockets.typing import Origin, Subprotocol

from sippet.errors import TransportError
from sippet.limits import DEFAULT_LIMITS
from sippet.reasons import Reason
from sippet.transports.base import Address, Transport, TransportReceiver, format_address
from sippet.transports.droplog import DropLog
from sippet.transports.invalid_names import invalid_host
from sippet.transports.udp import errno_reason

__all__ = ["SIP_SUBPROTOCOL", "WS", "WSS", "invalid_host"]

logger = logging.getLogger("sippet.transports.ws")

SIP_SUBPROTOCOL = Subprotocol("sip")
"""RFC 7118 §4.1: both sides MUST name it in Sec-WebSocket-Protocol."""

DEFAULT_MAX_CONNECTIONS = 4096
"""Open connections (inbound, being handshaken, and outbound) in total."""

DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64
"""Inbound connections from one remote IP address: one host cannot take them all."""

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
"""Seconds from the TCP accept (or connect) to the end of the WebSocket handshake, the TLS
handshake included for WSS."""

DEFAULT_IDLE_TIMEOUT = 900.0
"""Seconds without a SIP message in either direction before a connection is closed: longer
than the 600 s registration refresh that browser clients use by default, so a registered
client keeps its connection (and stays reachable) by refreshing."""

DEFAULT_PING_INTERVAL = 20.0
"""RFC 7118 §6: WebSocket pings keep NAT bindings open and find dead peers; a peer that
does not answer one within this time again is closed."""

DEFAULT_MAX_WRITE_BUFFER = 1024 * 1024
"""Bytes queued for one peer that does not read before its connection is closed."""

DEFAULT_MAX_PENDING_MESSAGES = 64
"""Messages held for a connection still being opened; more are refused."""

_CLOSE_TIMEOUT = 5.0
"""How long a closing handshake may take before the TCP connection is aborted."""


class _Connection:
    """One open WebSocket connection and its bookkeeping."""

    __slots__ = ("aliases", "closed_by_us", "idle_timer", "last_activity", "remote", "websocket")

    def __init__(self, websocket: ServerConnection | ClientConnection, remote: Address) -> None:
        self.websocket = websocket
        self.remote = remote
        self.aliases: list[Address] = []
        self.last_activity = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None
        self.closed_by_us: Reason | None = None


class WS(Transport):
    """SIP over plain WebSocket (``ws://``), server and client.

    ``host``/``port``: where to listen (``port=0``: any free port, see ``local_address``).
    ``listen=False`` makes a client-only transport: nothing is bound, ``local_address`` is
    ``(host, 0)``, and ``host`` only chooses the address family. ``path`` is the resource a
    client asks for (``/``); a server accepts any path. ``origins``: the ``Origin`` values
    a server accepts (RFC 6455 §10.2; ``None``: any). ``compression``: permessage-deflate
    (off by default: it costs tens of kilobytes per connection, and SIP messages are small).

    Bounds (see the module's constants for the defaults and why), named as
    ``StreamLimits`` names them for TCP and TLS: ``max_message_size``
    (``Limits.max_message_size``), ``max_connections``, ``max_connections_per_address``,
    ``handshake_timeout``, ``idle_timeout`` (``None``: never), ``max_write_buffer``,
    ``max_pending_messages``; and ``ping_interval`` (``None``: no pings).
    """

    protocol: ClassVar[str] = "WS"
    reliable: ClassVar[bool] = True
    stream: ClassVar[bool] = True
    scheme: ClassVar[str] = "ws"

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = 80,
        *,
        listen: bool = True,
        path: str = "/",
        origins: Sequence[str | None] | None = None,
        compression: bool = False,
        max_message_size: int = DEFAULT_LIMITS.max_message_size,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_connections_per_address: int = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        ping_interval: float | None = DEFAULT_PING_INTERVAL,
        max_write_buffer: int = DEFAULT_MAX_WRITE_BUFFER,
        max_pending_messages: int = DEFAULT_MAX_PENDING_MESSAGES,
    ) -> None:
        self.host = host
        self.port = port
        self.listen = listen
        self.path = path
        self.origins = origins
        self.compression = compression
        self.max_message_size = max_message_size
        self.max_connections = max_connections
        self.max_connections_per_address = max_connections_per_address
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.ping_interval = ping_interval
        self.max_write_buffer = max_write_buffer
        self.max_pending_messages = max_pending_messages
        self._loop: asyncio.AbstractEventLoop | None = None
        self._receiver: TransportReceiver | None = None
        self._server: Server | None = None
        self._local: Address | None = None
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._running = False
        # Open connections by remote address (and alias); those being opened, with what
        # waits for them.
        self._connections: dict[Address, _Connection] = {}
        self._pending: dict[Address, list[bytes]] = {}
        # TCP connections per remote IP (inbound, counted from the accept) and in total.
        self._per_address: dict[str, int] = {}
        self._total = 0
        self._accepted: set[ServerConnection] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._drops = DropLog(logger)

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
    def connections(self) -> list[Address]:
        """The remote addresses of the open connections (aliases not included)."""
        return [address for address, c in self._connections.items() if address == c.remote]

    async def start(self, receiver: TransportReceiver) -> None:
        if self._running:
            raise TransportError("transport already started", reason="already_started")
        self._loop = asyncio.get_running_loop()
        self._receiver = receiver
        if not self.listen:
            self._local = (self.host, 0)
            self._running = True
            return
        try:
            self._server = await serve(
                self._serve,
                self.host or None,
                self.port,
                subprotocols=[SIP_SUBPROTOCOL],  # a handshake without it gets 400
                origins=[Origin(o) if o else None for o in self.origins]
                if self.origins is not None
                else None,
                compression="deflate" if self.compression else None,
                max_size=self.max_message_size,
                open_timeout=self.handshake_timeout,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
                close_timeout=_CLOSE_TIMEOUT,
                server_header=None,
                create_connection=_counted_server_connection(self),
                **self._server_ssl(),
            )
        except OSError as exc:
            raise TransportError(
                f"cannot listen on {self.scheme} {self.host}:{self.port}: {exc.strerror}",
                reason=errno_reason(exc.errno),
            ) from exc
        name = self._server.sockets[0].getsockname()
        self._family = self._server.sockets[0].family
        self._local = (name[0], name[1])
        self._running = True
        logger.debug("listening on %s", format_address(self.protocol, *self._local))

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        server, self._server = self._server, None
        connections = set(self._connections.values())
        websockets = [connection.websocket for connection in connections]
        for connection in connections:
            if connection.idle_timer is not None:
                connection.idle_timer.cancel()
        if server is not None:
            server.close(close_connections=False)
        closing = [self._spawn(websocket.close(CloseCode.GOING_AWAY)) for websocket in websockets]
        if closing:
            # Bounded: the library aborts each after its close timeout.
            await asyncio.wait(closing, timeout=_CLOSE_TIMEOUT + 1)
        # What is left (peers that did not close, handshakes under way) is cut.
        for websocket in websockets:
            websocket.transport.abort()
        for accepted in list(self._accepted):
            accepted.transport.abort()
        if server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await server.wait_closed()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._connections.clear()
        self._pending.clear()

    def send(self, data: bytes, destination: Address) -> None:
        """Send on the open connection to ``destination``; when there is none, open one."""
        self.connect_send(data, destination, None)

    def connect_send(self, data: bytes, destination: Address, server_name: str | None) -> None:
        """Send on the open connection to (or aliased to) ``destination``, or open one; a
        new WSS connection verifies the server's certificate for ``server_name`` (``None``:
        the IP address)."""
        if not self._running:
            self._report(destination, Reason.NOT_STARTED)
            return
        connection = self._connections.get(destination)
        if connection is not None:
            self._write(connection, data)
            return
        waiting = self._pending.get(destination)
        if waiting is not None:
            if len(waiting) >= self.max_pending_messages:
                self._drops.warning("ws: too many messages wait for %s", destination)
                self._report(destination, Reason.CONNECTION_LIMIT)
            else:
                waiting.append(data)
            return
        self._pending[destination] = [data]
        self._spawn(self._open_and_flush(destination, server_name))

    def has_connection(self, destination: Address) -> bool:
        return destination in self._connections

    def add_alias(self, source: Address, alias: Address) -> None:
        """RFC 5923 §5: the connection from ``source`` also carries messages to ``alias``
        (while both are open; an address with a connection of its own keeps it)."""
        connection = self._connections.get(source)
        if connection is None or alias in self._connections:
            return
        self._connections[alias] = connection
        connection.aliases.append(alias)

    # -- client side ------------------------------------------------------------------------

    async def connect(self, host: str, port: int, *, server_name: str | None = None) -> Address:
        """Open a connection to ``host:port`` (an IP address or a name), or find the open one.

        Returns the remote address the connection is known by: pass it to ``send``, or set
        it as a message's ``Target`` (``Target(transport.protocol, *address)``). For WSS,
        the server's certificate is checked against ``server_name`` (default: ``host``).
        Raises ``TransportError`` with a ``Reason`` when the connection cannot be opened.
        """
        if not self._running:
            raise TransportError("transport not started", reason=Reason.NOT_STARTED)
        existing = self._connections.get((host, port))
        if existing is not None:
            return existing.remote
        connection = await self._open(host, port, server_name)
        return connection.remote

    async def _open_and_flush(self, destination: Address, server_name: str | None) -> None:
        try:
            connection = await self._open(*destination, server_name)
        except TransportError as exc:
            self._pending.pop(destination, None)
            logger.info("ws: cannot connect to %s: %s", destination, exc)
            self._report(destination, exc.reason)
            return
        waiting = self._pending.pop(destination, [])
        if connection.remote != destination:
            # The same peer under another spelling (an IPv6 address written differently).
            self.add_alias(connection.remote, destination)
        for data in waiting:
            self._write(connection, data)

    async def _open(self, host: str, port: int, server_name: str | None) -> _Connection:
        if self._total >= self.max_connections:
            raise TransportError(
                f"{self.max_connections} connections open", reason=Reason.CONNECTION_LIMIT
            )
        name = server_name or host
        shown = f"[{name}]" if ":" in name else name
        uri = f"{self.scheme}://{shown}:{port}{self.path}"
        self._total += 1  # counted while it opens, so parallel opens respect the bound
        try:
            websocket = await connect(
                uri,
                host=host,
                port=port,
                subprotocols=[SIP_SUBPROTOCOL],
                compression="deflate" if self.compression else None,
                max_size=self.max_message_size,
                open_timeout=self.handshake_timeout,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
                close_timeout=_CLOSE_TIMEOUT,
                proxy=None,  # loopback and SIP servers: never an HTTP proxy from the environment
                **self._client_ssl(name),
            )
        except BaseException as exc:
            self._total -= 1
            if isinstance(exc, Exception):
                raise _connect_error(exc, uri) from exc
            raise
        if websocket.subprotocol != SIP_SUBPROTOCOL:
            # RFC 7118 §4.1: the 101 MUST name "sip"; anything else speaks another protocol.
            self._spawn(websocket.close(CloseCode.POLICY_VIOLATION, "sip subprotocol required"))
            self._total -= 1
            raise TransportError(
                f"{uri} accepted the upgrade without the sip subprotocol",
                reason=Reason.SUBPROTOCOL_REFUSED,
            )
        remote = _address_of(websocket.remote_address) or (host, port)
        connection = self._admit(websocket, remote)
        self._spawn(self._read_until_closed(connection, outbound=True))
        logger.debug("ws: connected to %s", uri)
        return connection

    def _client_ssl(self, server_name: str) -> dict[str, Any]:
        return {}

    def _server_ssl(self) -> dict[str, Any]:
        return {}

    # -- server side ------------------------------------------------------------------------

    def _accept_tcp(self, websocket: ServerConnection, remote_ip: str) -> bool:
        """Counts an accepted TCP connection; ``False`` when a bound is reached."""
        count = self._per_address.get(remote_ip, 0)
        if self._total >= self.max_connections:
            self._drops.warning(
                "ws: refused a connection from %s: %d connections open",
                remote_ip,
                self.max_connections,
            )
            return False
        if count >= self.max_connections_per_address:
            self._drops.warning(
                "ws: refused a connection from %s: %d connections from that address",
                remote_ip,
                self.max_connections_per_address,
            )
            return False
        self._per_address[remote_ip] = count + 1
        self._total += 1
        self._accepted.add(websocket)
        return True

    def _release_tcp(self, websocket: ServerConnection, remote_ip: str) -> None:
        count = self._per_address.get(remote_ip, 0) - 1
        if count > 0:
            self._per_address[remote_ip] = count
        else:
            self._per_address.pop(remote_ip, None)
        self._total -= 1
        self._accepted.discard(websocket)
        if websocket.protocol.state is State.CONNECTING and self._running:
            # Timed out (handshake_timeout), refused (no "sip" subprotocol, a bad Origin),
            # or not WebSocket at all. Nothing was received, so no transaction to tell.
            self._drops.warning(
                "ws: connection from %s closed without a WebSocket handshake "
                "(timeout %g s, or refused)",
                remote_ip,
                self.handshake_timeout,
            )

    async def _serve(self, websocket: ServerConnection) -> None:
        remote = _address_of(websocket.remote_address)
        if remote is None or not self._running:
            return
        connection = self._admit(websocket, remote)
        logger.debug("ws: accepted %s", format_address(self.protocol, *remote))
        await self._read_until_closed(connection, outbound=False)

    # -- both sides -------------------------------------------------------------------------

    def _admit(
        self, websocket: ServerConnection | ClientConnection, remote: Address
    ) -> _Connection:
        connection = _Connection(websocket, remote)
        previous = self._connections.get(remote)
        if previous is not None:
            if previous.remote == remote:  # a port reused after a close we have not seen yet
                previous.websocket.transport.abort()
            else:  # an alias of another connection: this one is the address itself
                previous.aliases.remove(remote)
        self._connections[remote] = connection
        self._touch(connection)
        return connection

    async def _read_until_closed(self, connection: _Connection, *, outbound: bool) -> None:
        websocket = connection.websocket
        remote = connection.remote
        try:
            while True:
                try:
                    data = await websocket.recv(decode=False)
                except ConnectionClosed:
                    break
                # RFC 7118 §5: one SIP message per WebSocket message, text or binary. A text
                # message is passed on undecoded (a peer that put non-UTF-8 octets in one
                # broke RFC 7118 §4.2; the SIP parser answers it like any bad message).
                self._touch(connection)
                receiver = self._receiver
                if receiver is None:
                    break
                try:
                    receiver.message_received(self, data, remote)
                except Exception:
                    logger.exception("receiver failed on a message from %s", remote)
        finally:
            self._forget(connection)
            if outbound:
                self._total -= 1
        if self._running:
            reason = connection.closed_by_us or _close_reason(websocket)
            if reason in (Reason.MESSAGE_TOO_LARGE, Reason.PROTOCOL_ERROR):
                self._drops.warning(
                    "ws: closed %s: %s", format_address(self.protocol, *remote), reason
                )
            else:
                logger.info("ws: %s ended: %s", format_address(self.protocol, *remote), reason)
            self._report(remote, reason)
            self._closed(remote)

    def _forget(self, connection: _Connection) -> None:
        if connection.idle_timer is not None:
            connection.idle_timer.cancel()
            connection.idle_timer = None
        for address in (connection.remote, *connection.aliases):
            if self._connections.get(address) is connection:
                del self._connections[address]

    def _closed(self, remote: Address) -> None:
        hook = getattr(self._receiver, "connection_closed", None)
        if hook is None:
            return
        try:
            hook(self, remote)
        except Exception:
            logger.exception("receiver failed on the close of %s", remote)

    def _write(self, connection: _Connection, data: bytes) -> None:
        websocket = connection.websocket
        buffered = websocket.transport.get_write_buffer_size()
        if buffered + len(data) > self.max_write_buffer:
            self._drops.warning(
                "ws: %s does not read (%d bytes waiting): closing",
                format_address(self.protocol, *connection.remote),
                buffered,
            )
            self._close(connection, Reason.WRITE_BUFFER_FULL)
            return
        self._touch(connection)
        # RFC 7118 §4.2: a message with any non-UTF-8 octet goes in a binary message.
        task = self._spawn(websocket.send(data, text=_is_utf8(data)))
        task.add_done_callback(lambda done: self._sent(done, connection))

    def _sent(self, task: asyncio.Future[Any], connection: _Connection) -> None:
        if task.cancelled() or task.exception() is None:
            return
        # The reader sees the close too and reports it; log the lost message here.
        logger.info("ws: send to %s failed: %s", connection.remote, task.exception())

    def _close(self, connection: _Connection, reason: Reason) -> None:
        connection.closed_by_us = reason
        if reason is Reason.WRITE_BUFFER_FULL:
            # A close frame would wait behind the bytes the peer does not read.
            connection.websocket.transport.abort()
        else:
            self._spawn(connection.websocket.close(CloseCode.GOING_AWAY, str(reason)))

    def _touch(self, connection: _Connection) -> None:
        if self._loop is None or self.idle_timeout is None:
            return
        connection.last_activity = self._loop.time()
        if connection.idle_timer is None:
            connection.idle_timer = self._loop.call_at(
                connection.last_activity + self.idle_timeout, self._check_idle, connection
            )

    def _check_idle(self, connection: _Connection) -> None:
        # One timer per connection, moved forward lazily rather than on every message.
        connection.idle_timer = None
        if self._loop is None or self.idle_timeout is None or not self._running:
            return
        due = connection.last_activity + self.idle_timeout
        if self._loop.time() < due:
            connection.idle_timer = self._loop.call_at(due, self._check_idle, connection)
            return
        logger.info(
            "ws: closing %s: idle for %g s",
            format_address(self.protocol, *connection.remote),
            self.idle_timeout,
        )
        self._close(connection, Reason.IDLE_TIMEOUT)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _report(self, destination: Address, reason: str) -> None:
        # Always asynchronously: the caller may be in the middle of executing actions.
        receiver = self._receiver
        if receiver is None or self._loop is None:
            return
        self._loop.call_soon(receiver.error_received, self, str(reason), destination)


class WSS(WS):
    """SIP over secure WebSocket (``wss://``, RFC 7118 §9.1), server and client, with the
    same ``ssl.SSLContext`` handling as ``TLS``.

    ``ssl_context``: the server side's context (its certificate and key); ``None``: no
    listener, the transport only opens connections (a client). ``client_context``: for
    connections this transport opens (default ``ssl.create_default_context()``: the
    system's CAs, host names checked). A new connection verifies the server's certificate
    for the name the transport layer passes (the hop's host name; for an IP literal, the
    address itself), or the ``server_name`` given to ``connect``.
    """

    protocol: ClassVar[str] = "WSS"
    scheme: ClassVar[str] = "wss"

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = 443,
        *,
        ssl_context: ssl.SSLContext | None,
        client_context: ssl.SSLContext | None = None,
        **options: Any,
    ) -> None:
        super().__init__(host, port, **options)
        self.listen = self.listen and ssl_context is not None
        self.ssl_context = ssl_context
        self.client_context = (
            client_context if client_context is not None else ssl.create_default_context()
        )

    def _client_ssl(self, server_name: str) -> dict[str, Any]:
        return {"ssl": self.client_context, "server_hostname": server_name}

    def _server_ssl(self) -> dict[str, Any]:
        return {"ssl": self.ssl_context}


def _counted_server_connection(owner: WS) -> type[ServerConnection]:
    """A ``ServerConnection`` that counts itself against ``owner``'s connection bounds from
    the moment TCP (or TLS) is up, and is aborted at once when a bound is reached."""

    class CountedServerConnection(ServerConnection):
        counted_ip: str | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            ip = str(peer[0]) if peer else ""
            if owner._accept_tcp(self, ip):
                self.counted_ip = ip
            else:
                assert isinstance(transport, asyncio.Transport)
                transport.abort()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.counted_ip is not None:
                owner._release_tcp(self, self.counted_ip)
                self.counted_ip = None
            super().connection_lost(exc)

    return CountedServerConnection


def _close_reason(websocket: ServerConnection | ClientConnection) -> Reason:
    sent = websocket.protocol.close_sent
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        return Reason.MESSAGE_TOO_LARGE
    if sent is not None and sent.code == CloseCode.PROTOCOL_ERROR:
        return Reason.PROTOCOL_ERROR
    return Reason.CONNECTION_CLOSED


def _connect_error(exc: Exception, uri: str) -> TransportError:
    reason: str
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = Reason.TLS_VERIFICATION_FAILED
    elif isinstance(exc, ssl.SSLError):
        reason = Reason.TLS_HANDSHAKE_FAILED
    elif isinstance(exc, InvalidStatus):
        reason = Reason.HANDSHAKE_REFUSED
    elif isinstance(exc, InvalidHandshake):
        reason = Reason.HANDSHAKE_FAILED
    elif isinstance(exc, TimeoutError):
        reason = Reason.CONNECT_TIMEOUT
    elif isinstance(exc, ConnectionRefusedError):
        reason = Reason.UNREACHABLE
    elif isinstance(exc, OSError):
        reason = errno_reason(exc.errno)
    else:
        reason = Reason.HANDSHAKE_FAILED
    return TransportError(f"cannot open {uri}: {exc}", reason=reason)


def _address_of(sockname: Any) -> Address | None:
    if not sockname:
        return None
    return (str(sockname[0]), int(sockname[1]))


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
