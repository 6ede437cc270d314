"""``CachingStore``: a location store that keeps answering lookups from what it last read
when its backend (a shared Redis) drops for a while.

Every successful ``lookup`` (and every committed ``update``, through the bindings it
wrote) refreshes the cached copy of that AOR. When the backend fails with
``unavailable``, a lookup answers from the cache, still filtered by expiry, so calls to
users already seen keep connecting; REGISTERs still fail (500: a registration that was not
stored must not be confirmed, RFC 3261 §10.3 step 7). The outage and the recovery are
logged once each. The cache holds at most ``max_aors`` AORs (least recently used dropped).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from sippet.registrar.binding import Binding
from sippet.registrar.store import Compute, LocationStore, StoreError, T, live

logger = logging.getLogger("sippet.serve")

MAX_CACHED_AORS = 100_000
"""AORs whose bindings are kept for an outage (memory bound: a few hundred bytes each)."""


class CachingStore(LocationStore):
    def __init__(
        self,
        backend: LocationStore,
        *,
        max_aors: int = MAX_CACHED_AORS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.max_aors = max_aors
        self.clock = clock
        self.degraded = False
        self._cache: OrderedDict[str, tuple[Binding, ...]] = OrderedDict()

    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        try:
            bindings = await self.backend.lookup(aor)
        except StoreError as exc:
            if exc.reason != "unavailable":
                raise
            self._went_down(exc)
            cached = self._cache.get(aor)
            return live(cached, self.clock()) if cached is not None else ()
        self._came_back()
        self._remember(aor, bindings)
        return bindings

    async def update(self, aor: str, compute: Compute[T]) -> T:
        written: list[tuple[Binding, ...] | None] = []

        def recording(
            bindings: tuple[Binding, ...], now: float
        ) -> tuple[Sequence[Binding] | None, T]:
            new, result = compute(bindings, now)
            written[:] = [tuple(new) if new is not None else None]
            return new, result

        try:
            result = await self.backend.update(aor, recording)
        except StoreError as exc:
            if exc.reason == "unavailable":
                self._went_down(exc)
            raise
        self._came_back()
        if written and written[0] is not None:
            self._remember(aor, written[0])
        return result

    async def sweep(self) -> int:
        return await self.backend.sweep()

    async def close(self) -> None:
        await self.backend.close()

    def _remember(self, aor: str, bindings: tuple[Binding, ...]) -> None:
        self._cache[aor] = bindings
        self._cache.move_to_end(aor)
        if len(self._cache) > self.max_aors:
            self._cache.popitem(last=False)

    def _went_down(self, exc: StoreError) -> None:
        if not self.degraded:
            self.degraded = True
            logger.warning("location store unavailable (%s): serving lookups from cache", exc)

    def _came_back(self) -> None:
        if self.degraded:
            self.degraded = False
            logger.warning("location store available again")
