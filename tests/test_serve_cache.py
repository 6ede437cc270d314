"""``CachingStore``: lookups answered from cache while the backend is unavailable,
registrations never confirmed without the backend, outage and recovery logged once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sippet import URI
from sippet.apps.serve.cache import CachingStore
from sippet.registrar import Binding, StoreError
from sippet.registrar.store import Compute, T
from sippet.registrar.stores import MemoryStore

AOR = "sip:bob@example.com"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class Flaky(MemoryStore):
    """A memory store that can be switched off (``unavailable``, as Redis reports)."""

    down = False

    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        self._check()
        return await super().lookup(aor)

    async def update(self, aor: str, compute: Compute[T]) -> T:
        self._check()
        return await super().update(aor, compute)

    def _check(self) -> None:
        if self.down:
            raise StoreError("connection refused", reason="unavailable")


def bind(expires_at: float) -> Compute[str]:
    binding = Binding(URI.parse("sip:bob@192.0.2.7"), expires_at, "c1", 1)
    return lambda _bindings, _now: ((binding,), "ok")


def test_lookups_fall_back_to_what_was_read_or_written_and_expiry_still_applies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        clock = Clock()
        backend = Flaky(clock)
        store = CachingStore(backend, clock=clock)
        assert await store.update(AOR, bind(1100.0)) == "ok"
        backend.down = True
        assert [b.contact.host for b in await store.lookup(AOR)] == ["192.0.2.7"]
        assert await store.lookup("sip:nobody@example.com") == ()
        with pytest.raises(StoreError):
            await store.update(AOR, bind(1200.0))
        clock.now = 1100.0  # the cached binding expires on time, outage or not
        assert await store.lookup(AOR) == ()
        backend.down = False
        assert await store.lookup(AOR) == ()

    with caplog.at_level(logging.WARNING, "sippet.serve"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "unavailable" in m]) == 1
    assert messages[-1] == "location store available again"


def test_other_failures_are_not_hidden() -> None:
    class Corrupt(MemoryStore):
        async def lookup(self, aor: str) -> tuple[Binding, ...]:
            raise StoreError("bad record", reason="corrupt")

    async def scenario() -> None:
        with pytest.raises(StoreError):
            await CachingStore(Corrupt()).lookup(AOR)

    asyncio.run(scenario())


def test_the_cache_is_bounded() -> None:
    async def scenario() -> None:
        clock = Clock()
        backend = Flaky(clock)
        store = CachingStore(backend, max_aors=2, clock=clock)
        for user in ("a", "b", "c"):
            await store.update(f"sip:{user}@example.com", bind(2000.0))
        backend.down = True
        assert await store.lookup("sip:a@example.com") == ()  # the oldest was dropped
        assert len(await store.lookup("sip:c@example.com")) == 1

    asyncio.run(scenario())
