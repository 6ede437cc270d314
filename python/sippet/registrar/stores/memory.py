"""The in-memory location store: one process, one event loop, nothing shared.

``update`` reads, computes and writes without awaiting in between, so on one event loop no
other update of the AOR can run in the middle: atomic without a lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sippet.registrar.binding import Binding
from sippet.registrar.store import Compute, LocationStore, StoreError, live

T = TypeVar("T")


class MemoryStore(LocationStore):
    """Bindings in a dict, per AOR. ``clock`` gives ``now`` (wall clock by default)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._aors: dict[str, tuple[Binding, ...]] = {}
        self._closed = False

    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        self._check_open()
        return live(self._aors.get(aor, ()), self.clock())

    async def update(self, aor: str, compute: Compute[T]) -> T:
        self._check_open()
        now = self.clock()
        bindings, result = compute(live(self._aors.get(aor, ()), now), now)
        if bindings is not None:
            kept = live(bindings, now)
            if kept:
                self._aors[aor] = kept
            else:
                self._aors.pop(aor, None)
        return result

    async def sweep(self) -> int:
        self._check_open()
        now = self.clock()
        removed = 0
        for aor, bindings in list(self._aors.items()):
            kept = live(bindings, now)
            removed += len(bindings) - len(kept)
            if kept:
                self._aors[aor] = kept
            else:
                del self._aors[aor]
        return removed

    async def close(self) -> None:
        self._closed = True
        self._aors.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", reason="closed")
