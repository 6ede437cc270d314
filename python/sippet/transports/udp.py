"""UDP transport (RFC 3261 §18), IPv4 or IPv6, on a plain non-blocking socket.

The socket is driven with ``loop.add_reader`` rather than an asyncio datagram endpoint so
that one wake-up drains a batch of datagrams, oversized datagrams are detected (the receive
buffer is one byte larger than the limit), and on Linux the ICMP errors that the kernel
queues with ``IP_RECVERR`` are read back with the address they concern, so that a transaction
learns its destination is unreachable instead of waiting for its timeout.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import logging
import socket
import struct
import sys

from sippet.errors import TransportError
from sippet.limits import DEFAULT_LIMITS
from sippet.transports.base import Address, Transport, TransportReceiver, format_address

logger = logging.getLogger("sippet.transports.udp")

# Linux socket options (not exported by the socket module of every Python version).
_IP_RECVERR = 11
_IPV6_RECVERR = 25

_RECEIVE_BATCH = 64
"""Datagrams read per wake-up, so that a flood cannot starve timers and other sockets."""

_SEND_QUEUE_LIMIT = 4096
"""Datagrams held while the socket's send buffer is full; beyond this they are dropped
(UDP may lose them anyway, and the transaction layer retransmits requests)."""

_SOCKET_BUFFER = 4 * 1024 * 1024
"""Requested SO_RCVBUF/SO_SNDBUF: a burst of requests waits in the kernel instead of being
dropped while the loop is busy (Linux caps the request at net.core.rmem_max/wmem_max)."""

_ERRNO_REASONS: dict[int, str] = {
    errno.ECONNREFUSED: "unreachable",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.EHOSTDOWN: "unreachable",
    errno.EMSGSIZE: "message_too_large",
    errno.EACCES: "forbidden",
    errno.EPERM: "forbidden",
    errno.EADDRNOTAVAIL: "unreachable",
    errno.EAFNOSUPPORT: "unreachable",
}


_ICMP_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
)
"""Errors an ICMP message leaves pending on a socket (and a later send may return)."""


def errno_reason(number: int | None) -> str:
    """The stack's machine-readable reason for a socket errno."""
    if number is None:
        return "transport_error"
    return _ERRNO_REASONS.get(number, errno.errorcode.get(number, "transport_error").lower())


class UDP(Transport):
    """A UDP socket bound to ``host:port`` (``port=0``: any free port; see ``local_address``).

    ``host`` may be an IPv4 or IPv6 address (or a name that resolves to one); one socket
    serves one family. ``max_message_size`` (default ``Limits.max_message_size``) bounds
    what is accepted: larger datagrams are dropped and logged. ``buffer_size`` is the
    socket buffer size asked of the kernel (``None``: the system default).
    """

    protocol = "UDP"
    reliable = False

    def __init__(
        self,
        host: str = "0.0.0.0",
        port: int = 5060,
        *,
        max_message_size: int = DEFAULT_LIMITS.max_message_size,
        buffer_size: int | None = _SOCKET_BUFFER,
        reuse_port: bool = False,
    ) -> None:
        self.host = host
        self.reuse_port = reuse_port
        """SO_REUSEPORT: several processes bind the same address and the kernel spreads
        the datagrams over them (by source address and port)."""
        self.port = port
        self.max_message_size = max_message_size
        self.buffer_size = buffer_size
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._receiver: TransportReceiver | None = None
        self._local: Address | None = None
        self._family = socket.AF_INET
        self._recverr = False
        self._queue: collections.deque[tuple[bytes, Address]] = collections.deque()
        # Send failures scheduled for the receiver and not yet told: while there are any,
        # no further datagram is delivered, so that the receiver learns of a failure
        # before it handles input that arrived after it.
        self._reports_pending = 0

    @property
    def local_address(self) -> Address:
        if self._local is None:
            raise TransportError("transport not started", reason="not_started")
        return self._local

    @property
    def family(self) -> int:
        return self._family

    async def start(self, receiver: TransportReceiver) -> None:
        if self._sock is not None:
            raise TransportError("transport already started", reason="already_started")
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                self.host or None, self.port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
            )
        except socket.gaierror as exc:
            raise TransportError(f"cannot resolve {self.host!r}: {exc}", reason="nxdomain") from exc
        family, _, _, _, sockaddr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if self.buffer_size:
                _set_buffers(sock, self.buffer_size)
            if self.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(sockaddr)
        except OSError as exc:
            sock.close()
            raise TransportError(
                f"cannot bind udp {self.host}:{self.port}: {exc.strerror}",
                reason=errno_reason(exc.errno),
            ) from exc
        self._recverr = _enable_recverr(sock, family)
        self._sock = sock
        self._family = family
        self._loop = loop
        self._receiver = receiver
        name = sock.getsockname()
        self._local = (name[0], name[1])
        loop.add_reader(sock.fileno(), self._on_readable)
        logger.debug("listening on %s", format_address("udp", *self._local))

    async def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None or self._loop is None:
            return
        self._loop.remove_reader(sock.fileno())
        if self._queue:
            self._loop.remove_writer(sock.fileno())
            self._queue.clear()
        sock.close()

    def send(self, data: bytes, destination: Address) -> None:
        sock = self._sock
        if sock is None:
            self._report(destination, "not_started")
            return
        if self._queue:
            self._enqueue(data, destination)
            return
        try:
            sock.sendto(data, destination)
        except (BlockingIOError, InterruptedError):
            self._enqueue(data, destination)
        except OSError as exc:
            self._send_failed(exc, data, destination)

    # -- sending ------------------------------------------------------------------------

    def _send_failed(self, exc: OSError, data: bytes, destination: Address) -> None:
        if self._recverr and exc.errno in _ICMP_ERRNOS:
            # Linux hands a pending ICMP error (for any earlier destination) to the next
            # send; the error queue says which destination it was. Then try again once.
            self._drain_error_queue()
            assert self._sock is not None
            try:
                self._sock.sendto(data, destination)
                return
            except (BlockingIOError, InterruptedError):
                self._enqueue(data, destination)
                return
            except OSError as again:
                exc = again
        logger.info("udp send to %s failed: %s", destination, exc)
        self._report(destination, errno_reason(exc.errno))

    def _enqueue(self, data: bytes, destination: Address) -> None:
        if len(self._queue) >= _SEND_QUEUE_LIMIT:
            logger.warning("udp send queue full, dropping a datagram to %s", destination)
            return
        if not self._queue and self._loop is not None and self._sock is not None:
            self._loop.add_writer(self._sock.fileno(), self._on_writable)
        self._queue.append((data, destination))

    def _on_writable(self) -> None:
        sock = self._sock
        assert sock is not None and self._loop is not None
        while self._queue:
            data, destination = self._queue[0]
            try:
                sock.sendto(data, destination)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._queue.popleft()
                logger.info("udp send to %s failed: %s", destination, exc)
                self._report(destination, errno_reason(exc.errno))
                continue
            self._queue.popleft()
        self._loop.remove_writer(sock.fileno())

    # -- receiving ----------------------------------------------------------------------

    def _on_readable(self) -> None:
        sock = self._sock
        receiver = self._receiver
        if sock is None or receiver is None:
            return
        limit = self.max_message_size
        size = limit + 1  # a datagram that fills the buffer is too large (or truncated)
        for count in range(_RECEIVE_BATCH):
            if self._reports_pending:
                return  # the rest is read on the next wake-up, after the reports
            try:
                data, address = sock.recvfrom(size)
            except (BlockingIOError, InterruptedError):
                if count == 0 and self._recverr:
                    # Woken with nothing to read: an ICMP error may be queued (EPOLLERR).
                    self._drain_error_queue()
                return
            except OSError:
                # A pending ICMP error; the error queue names its destination.
                if self._recverr:
                    self._drain_error_queue()
                continue
            if len(data) > limit:
                logger.warning(
                    "dropped a datagram from %s:%s: larger than %d bytes",
                    address[0],
                    address[1],
                    limit,
                )
                continue
            try:
                receiver.message_received(self, data, (address[0], address[1]))
            except Exception:
                # The stack handles its own errors; this guards the socket loop regardless.
                logger.exception("receiver failed on a datagram from %s", address)
            if self._sock is None:  # stopped by the callback
                return

    def _drain_error_queue(self) -> None:
        sock = self._sock
        if sock is None:
            return
        for _ in range(_RECEIVE_BATCH):
            try:
                _data, ancdata, _flags, address = sock.recvmsg(1, 1024, socket.MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            number: int | None = None
            for _level, _type, cdata in ancdata:
                # struct sock_extended_err starts with the u32 ee_errno.
                if len(cdata) >= 4:
                    number = struct.unpack_from("=I", cdata)[0]
            if not address:
                continue
            logger.info("udp: %s reported for %s", errno_reason(number), address)
            self._report((address[0], address[1]), errno_reason(number))

    def _report(self, destination: Address, reason: str) -> None:
        # Always asynchronously: the caller may be in the middle of executing actions.
        receiver = self._receiver
        if receiver is None or self._loop is None:
            return
        self._reports_pending += 1
        self._loop.call_soon(self._tell_receiver, receiver, reason, destination)

    def _tell_receiver(
        self, receiver: TransportReceiver, reason: str, destination: Address
    ) -> None:
        self._reports_pending -= 1
        receiver.error_received(self, reason, destination)


def _set_buffers(sock: socket.socket, size: int) -> None:
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):  # best effort: the default buffers still work
            sock.setsockopt(socket.SOL_SOCKET, option, size)


def _enable_recverr(sock: socket.socket, family: int) -> bool:
    """Ask Linux to report ICMP errors on this unconnected socket (ip(7) IP_RECVERR)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
    except OSError:
        return False
    return True
