"""Running ``sippet serve``: resources opened and checked up front, then serving until
SIGTERM or SIGINT, then a bounded drain.

At start: the users file is read, the TLS files loaded, the location store opened and
probed (one lookup), the transports bound. Any failure is a ``ServeError`` with one line
saying what and why (the CLI prints it, exit 2), before anything is served.

Stopping (SIGTERM, SIGINT): new requests get 503 with Retry-After (RFC 3261 §21.5.4: this
node is going away, another may take them), requests inside a dialog and the transactions
already open continue; once no transaction is open, or after ``DRAIN_TIMEOUT`` seconds,
the transports close and ``serve`` returns 0.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sippet.apps.serve.cache import CachingStore
from sippet.apps.serve.core import ServeCore
from sippet.apps.serve.observe import LinePrinter, ObservedStack, Observer, Transactions
from sippet.apps.serve.settings import ServeError, ServeSettings, default_store_url
from sippet.auth import Users, UsersFileError
from sippet.auth.users import MAX_USERS_FILE_BYTES
from sippet.errors import TransportError
from sippet.registrar.service import sweep_periodically
from sippet.registrar.store import LocationStore, StoreError
from sippet.registrar.stores import open_store
from sippet.stack.runner import install_stop_signals
from sippet.transports import UDP, Transport, format_address
from sippet.transports.listen import client_ssl_context, make_transport, server_ssl_context
from sippet.transports.stream import StreamTransport

if TYPE_CHECKING:
    from sippet.resolve.dns_resolver import DnsResolver

logger = logging.getLogger("sippet.serve")

DRAIN_TIMEOUT = 10.0
"""Seconds open transactions get to finish after SIGTERM (a non-INVITE transaction is
answered well within this; a ringing INVITE past it is cut)."""

SWEEP_INTERVAL = 300.0
"""Seconds between two clean-ups of expired bindings (space only: never needed for
correctness)."""

AUTH_KEY_BYTES = 32


def load_users(path: Path) -> Users:
    try:
        if path.stat().st_size > MAX_USERS_FILE_BYTES:
            raise ServeError(f"users file {path} is larger than {MAX_USERS_FILE_BYTES} bytes")
        return Users.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServeError(f"cannot read the users file {path}: {exc.strerror}") from None
    except (UsersFileError, UnicodeDecodeError) as exc:
        raise ServeError(f"users file {path}: {exc}") from None


async def open_checked_store(url: str) -> LocationStore:
    """The store of ``url``, probed with one lookup (``ServeError`` when it cannot be
    opened or reached)."""
    if url == default_store_url():
        path = Path(url.removeprefix("sqlite:"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServeError(f"cannot create {path.parent}: {exc.strerror}") from None
    try:
        store = open_store(url)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    try:
        await store.lookup("sip:probe@sippet.invalid")
    except StoreError as exc:
        await store.close()
        raise ServeError(f"cannot use the location store {url}: {exc}") from None
    return store


async def bind_transports(
    stack: ObservedStack, settings: ServeSettings, reuse_port: bool
) -> list[Transport]:
    try:
        server_context = None
        if settings.cert is not None:
            server_context = server_ssl_context(str(settings.cert), _text(settings.key))
        client_context = client_ssl_context(_text(settings.ca))
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ServeError(f"cannot load the TLS certificate or CA: {exc}") from None
    transports: list[Transport] = []
    if reuse_port:
        # A worker sends its UDP requests from a port of its own, named in its Via and
        # Record-Route: the kernel spreads datagrams to a shared port by their source, so
        # a response (or an in-dialog request) sent there could reach another worker,
        # which has no transaction for it. The stack sends from the first transport of a
        # protocol, so these go first.
        for host in dict.fromkeys(
            host for protocol, (host, _) in settings.listen if protocol == "UDP"
        ):
            transports.append(await stack.add_transport(UDP(host, 0)))
    for protocol, address in settings.listen:
        transport = make_transport(
            protocol, address, server_context=server_context, client_context=client_context
        )
        if reuse_port and isinstance(transport, UDP | StreamTransport):
            transport.reuse_port = True
        try:
            transports.append(await stack.add_transport(transport))
        except TransportError as exc:
            raise ServeError(f"{exc}") from None
        except ImportError as exc:
            raise ServeError(f"{protocol.lower()}: {exc}") from None
    return transports


def make_resolver(settings: ServeSettings, transports: list[Transport]) -> DnsResolver | None:
    """The stack's RFC 3263 resolver (NAPTR, SRV, A/AAAA, with §4.3 fail-over) over the
    protocols this node listens on; ``None`` (A/AAAA through ``getaddrinfo``) when
    dnspython is missing or the system has no name server configured."""
    protocols = tuple(dict.fromkeys(transport.protocol for transport in transports))
    try:
        from sippet.resolve.dns_resolver import DnsResolver  # dnspython: only to relay
    except ImportError as exc:
        logger.warning("no dnspython (%s): relaying by A/AAAA only", exc)
        return None
    try:
        return DnsResolver(settings.resolver, transports=protocols)
    except TransportError as exc:
        if settings.resolver is not None:
            raise ServeError(f"--resolver {settings.resolver}: {exc}") from None
        logger.warning("no DNS configuration (%s): relaying by A/AAAA only", exc)
        return None
    except ValueError as exc:
        raise ServeError(f"--resolver {settings.resolver}: {exc}") from None


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


async def serve(
    settings: ServeSettings,
    *,
    out: TextIO = sys.stdout,
    worker: int | None = None,
    auth_key: bytes | None = None,
) -> int:
    """Run ``sippet serve`` until SIGTERM/SIGINT (``ServeError`` for a start-up failure)."""
    settings = settings.checked()
    users = load_users(settings.users) if settings.users is not None else None
    backend = await open_checked_store(settings.store_url)
    store = CachingStore(backend)
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        stack = ObservedStack("serve", trace=settings.trace)
        async with stack:
            transports = await bind_transports(stack, settings, reuse_port=worker is not None)
            resolver = make_resolver(settings, transports)
            if resolver is not None:
                stack.resolver = resolver
            core = ServeCore(
                stack,
                store,
                domains=settings.domains,
                users=users,
                realm=settings.auth_realm,
                algorithms=settings.algorithms,
                auth_key=auth_key or secrets.token_bytes(AUTH_KEY_BYTES),
                relay=settings.relay,
                resolver=resolver if settings.relay else None,
            )
            watchers: list[Observer] = [] if settings.quiet else [LinePrinter(out, worker)]
            if settings.metrics is not None:
                # prometheus-client is needed only with --metrics.
                from sippet.apps.serve.metrics import Metrics

                metrics = Metrics(lambda: len(stack.layer))
                host, port = settings.metrics
                metrics.serve(host, port + (worker or 0))
                watchers.append(metrics)
            stack.transactions = core.transactions = Transactions(watchers)
            stack.register_core(core)
            sweeper = asyncio.create_task(sweep_periodically(store, SWEEP_INTERVAL))
            if worker is None or worker == 0:
                print(f"location store: {settings.store_url}", file=out, flush=True)
                for transport in transports[-len(settings.listen) :]:
                    where = format_address(transport.protocol, *transport.local_address[:2])
                    print(f"listening on {where}", file=out, flush=True)
            await stop.wait()
            core.draining = True
            print(
                f"stopping: new requests refused, {core.transactions.pending} open",
                file=out,
                flush=True,
            )
            await _drain(core.transactions)
            sweeper.cancel()
            core.close()
    finally:
        await store.close()
    return 0


async def _drain(transactions: Transactions) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_TIMEOUT
    while transactions.pending and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if transactions.pending:
        logger.warning("stopping with %d transactions still open", transactions.pending)
