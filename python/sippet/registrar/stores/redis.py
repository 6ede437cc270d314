"""The Redis location store (redis-py's ``redis.asyncio``): one location service shared
by several nodes.

Layout: one string key per AOR, ``<prefix><aor>``, holding the JSON list of its bindings
(``codec.py``). The key expires by itself (``PX``) a little after its longest-lived binding,
so Redis reclaims the space of abandoned AORs without a sweeper.

Atomicity: optimistic transactions, ``WATCH`` the key, ``GET``, compute, ``MULTI`` /
``SET`` or ``DEL`` / ``EXEC``. ``EXEC`` fails when another client wrote the key after the
``WATCH``; the update then runs again on the new bindings, with a short random backoff, up
to ``max_attempts`` times (then ``StoreError`` ``"conflict"``, which the registrar answers
with 500). Why not a Lua script: the update is the registrar's RFC 3261 §10.3 logic in
Python (URI equivalence, Call-ID/CSeq rules), which a script would have to duplicate in
Lua; WATCH/MULTI runs that very code and still never loses a concurrent write.

Time: ``expires_at`` is on the store's clock (the wall clock by default), so the nodes
sharing a Redis need synchronized clocks (NTP); the key's own expiry is relative (``PX``),
so it does not depend on the Redis server's clock.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from sippet.registrar import codec
from sippet.registrar.binding import Binding
from sippet.registrar.store import Compute, LocationStore, StoreError, live

T = TypeVar("T")

_Step = Callable[[list[Binding], float], tuple[Sequence[Binding] | None, T]]

KEY_PREFIX = "sippet:location:"
MAX_ATTEMPTS = 64
"""Optimistic attempts of one update before it fails with ``"conflict"``."""
MAX_BACKOFF = 0.05
"""Upper bound of the random pause between two attempts (seconds)."""
KEY_GRACE = 1.0
"""Seconds an AOR's key outlives its longest binding (the store filters by time anyway)."""
SWEEP_BATCH = 100
"""Keys asked for per SCAN call in ``sweep``."""
MAX_CONNECTIONS = 32
"""Connections one store opens at most; more concurrent operations wait for one."""
TIMEOUT = 5.0
"""Seconds to connect, to wait for a reply, or to wait for a free connection: a Redis that
stops answering fails the operation (``StoreError``) instead of hanging it."""


class RedisStore(LocationStore):
    """Bindings in the Redis server at ``url`` (``redis://HOST:PORT/DB``; any URL
    ``redis.asyncio.from_url`` takes), with at most ``MAX_CONNECTIONS`` connections and
    ``TIMEOUT`` on every wait; or through an existing ``client``, configured by the caller."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        clock: Callable[[], float] = time.time,
        prefix: str = KEY_PREFIX,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("give exactly one of url and client")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if client is None:
            assert url is not None
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=TIMEOUT,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
            )
            client = aioredis.Redis(connection_pool=pool)
        self._client: aioredis.Redis = client
        self._owns_client = url is not None
        self.clock = clock
        self.prefix = prefix
        self.max_attempts = max_attempts
        self._closed = False

    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        self._check_open()
        try:
            raw = await self._client.get(self.prefix + aor)
        except RedisError as exc:
            raise StoreError(f"redis: {exc}", reason="unavailable") from exc
        return live(codec.loads(raw), self.clock()) if raw is not None else ()

    async def update(self, aor: str, compute: Compute[T]) -> T:
        self._check_open()

        def step(stored: list[Binding], now: float) -> tuple[Sequence[Binding] | None, T]:
            return compute(live(stored, now), now)

        return await self._transact(self.prefix + aor, step)

    async def sweep(self) -> int:
        """Rewrite every AOR key without its expired bindings (each one atomically)."""
        self._check_open()
        removed = 0
        try:
            keys = [
                key
                async for key in self._client.scan_iter(
                    match=_glob_escape(self.prefix) + "*", count=SWEEP_BATCH
                )
            ]
        except RedisError as exc:
            raise StoreError(f"redis: {exc}", reason="unavailable") from exc
        for key in keys:
            removed += await self._transact(key, _drop_expired)
        return removed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self._client.aclose(close_connection_pool=True)

    async def _transact(self, key: str | bytes, step: _Step[T]) -> T:
        """Run ``step(stored_bindings, now)`` on the key's bindings (expired ones
        included) and write what it returns, in one optimistic transaction."""
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for attempt in range(self.max_attempts):
                    try:
                        return await self._attempt(pipe, key, step)
                    except WatchError:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        # Full jitter: concurrent writers of one AOR spread out.
                        await asyncio.sleep(random.uniform(0, min(MAX_BACKOFF, 0.001 * 2**attempt)))
        except RedisError as exc:
            raise StoreError(f"redis: {exc}", reason="unavailable") from exc
        raise StoreError(
            f"update of {key!r} lost {self.max_attempts} attempts to concurrent writers",
            reason="conflict",
        )

    async def _attempt(self, pipe: Any, key: str | bytes, step: _Step[T]) -> T:
        await pipe.watch(key)
        raw = await pipe.get(key)
        now = self.clock()
        bindings, result = step(codec.loads(raw) if raw is not None else [], now)
        if bindings is None:
            await pipe.unwatch()
            return result
        kept = live(bindings, now)
        pipe.multi()
        if kept:
            longest = max(binding.expires_at for binding in kept) - now
            pipe.set(key, codec.dumps(kept), px=math.ceil((longest + KEY_GRACE) * 1000))
        else:
            pipe.delete(key)
        await pipe.execute()
        return result

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", reason="closed")


def _drop_expired(stored: list[Binding], now: float) -> tuple[list[Binding] | None, int]:
    kept = live(stored, now)
    expired = len(stored) - len(kept)
    return (list(kept) if expired else None), expired


def _glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis MATCH pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
