"""Fixtures for the registrar tests: a fake clock, the three stores, a real Redis.

redis-server is required: when it is missing the Redis tests FAIL (CI installs it with
apt), they are never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sippet.registrar.store import LocationStore
from sippet.registrar.stores import MemoryStore, SqliteStore
from sippet.registrar.stores.redis import RedisStore

from .redis_server import RedisServer

START = 1_800_000_000.0
"""The fake clock's first reading: a realistic wall-clock time (2027-01-15)."""


class FakeClock:
    """A clock the test moves by hand: ``clock()`` reads it, ``clock.advance(s)`` moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """redis-server on a free loopback port for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


StoreFactory = Callable[[], LocationStore]
"""``make()``: one more client of the same backing data (same file, same Redis)."""


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sqlite", "redis"])
def shared_kind(request: pytest.FixtureRequest) -> str:
    """The stores several clients (nodes) can share."""
    return str(request.param)


def _factory(
    kind: str, clock: FakeClock, tmp_path: Path, request: pytest.FixtureRequest
) -> StoreFactory:
    if kind == "memory":
        return lambda: MemoryStore(clock)
    if kind == "sqlite":
        path = tmp_path / "location.sqlite"
        return lambda: SqliteStore(path, clock=clock)
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStore(url, clock=clock)


@pytest.fixture
def make_store(
    store_kind: str, clock: FakeClock, tmp_path: Path, request: pytest.FixtureRequest
) -> StoreFactory:
    """A new client of a fresh store of each kind, on the fake clock. Open it with
    ``async with make_store() as store`` inside the test's event loop."""
    return _factory(store_kind, clock, tmp_path, request)


@pytest.fixture
def make_shared_store(
    shared_kind: str, clock: FakeClock, tmp_path: Path, request: pytest.FixtureRequest
) -> StoreFactory:
    """Each call: one more client of the same SQLite file or the same Redis."""
    return _factory(shared_kind, clock, tmp_path, request)
