"""Location store backends and ``open_store(url)``.

- ``memory:``: ``MemoryStore``, one process.
- ``sqlite:PATH``: ``SqliteStore`` on the file PATH (created when missing).
- ``redis://HOST:PORT/DB`` (also ``rediss://``, ``unix://``): ``RedisStore``; needs
  redis-py, imported only then.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sippet.registrar.store import LocationStore
from sippet.registrar.stores.memory import MemoryStore
from sippet.registrar.stores.sqlite import SqliteStore

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_store(url: str, *, clock: Callable[[], float] = time.time) -> LocationStore:
    """The store a URL names (see the module docstring); ``ValueError`` for any other."""
    if url == "memory:":
        return MemoryStore(clock)
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:")
        if not path:
            raise ValueError("sqlite: needs a path (sqlite:PATH)")
        return SqliteStore(path, clock=clock)
    if url.startswith(_REDIS_SCHEMES):
        from sippet.registrar.stores.redis import RedisStore

        return RedisStore(url, clock=clock)
    raise ValueError(f"unknown location store URL {url!r} (memory:, sqlite:PATH, redis://...)")


__all__ = ["MemoryStore", "SqliteStore", "open_store"]
