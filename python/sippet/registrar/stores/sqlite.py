"""The SQLite location store (stdlib ``sqlite3``): the embedded default.

Never blocks the event loop: every database call runs on one worker thread owned by the
store (a ``ThreadPoolExecutor`` with a single thread), which opens the one connection and is
the only thread that ever touches it (``sqlite3`` connections must stay on their thread).
One thread also keeps this store's operations in the order they were asked for.

The database runs in WAL mode: readers in other processes are not blocked by a write.
``update`` is ``BEGIN IMMEDIATE`` (the write lock is taken before the bindings are read),
read, compute, replace, ``COMMIT``: two stores on one file, in one process or several,
serialize their updates of an AOR and never lose a binding. A writer waits up to
``busy_timeout`` seconds for the lock, then the update fails with ``StoreError``.

One row per binding: ``(aor, position, contact, expires_at, record)``, the record being
the JSON of ``codec.py``; ``expires_at`` is indexed so that ``sweep`` is one range delete.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sippet.registrar import codec
from sippet.registrar.binding import Binding
from sippet.registrar.store import Compute, LocationStore, StoreError, live

T = TypeVar("T")

BUSY_TIMEOUT = 5.0
"""Seconds a write waits for another writer's lock before the update fails."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS bindings (
        aor TEXT NOT NULL,
        position INTEGER NOT NULL,
        contact TEXT NOT NULL,
        expires_at REAL NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (aor, position)
    )""",
    "CREATE INDEX IF NOT EXISTS bindings_expires_at ON bindings (expires_at)",
)
_SELECT = "SELECT record FROM bindings WHERE aor = ? AND expires_at > ? ORDER BY position"


class SqliteStore(LocationStore):
    """Bindings in the SQLite database at ``path`` (created when missing)."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sippet-sqlite")
        self._connection: sqlite3.Connection | None = None  # used on the worker thread only
        self._closed = False

    # -- the interface (event loop side) ------------------------------------------------

    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        return await self._run(self._lookup, aor)

    async def update(self, aor: str, compute: Compute[T]) -> T:
        return await self._run(self._update, aor, compute)

    async def sweep(self) -> int:
        return await self._run(self._sweep)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise StoreError("the store is closed", reason="closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {exc}", reason="unavailable") from exc

    # -- the worker thread ----------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        connection = self._connection
        if connection is None:
            # Autocommit mode (isolation_level=None): transactions are the explicit BEGINs.
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL is durable up to the last checkpoint-free commit
            # on power loss only; bindings are refreshed by the UAs, so that trade is fine.
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                connection.execute(statement)
            self._connection = connection
        return connection

    def _lookup(self, aor: str) -> tuple[Binding, ...]:
        rows = self._db().execute(_SELECT, (aor, self.clock())).fetchall()
        return tuple(codec.load_one(record) for (record,) in rows)

    def _update(self, aor: str, compute: Compute[T]) -> T:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self.clock()
            current = tuple(codec.load_one(record) for (record,) in db.execute(_SELECT, (aor, now)))
            bindings, result = compute(current, now)
            if bindings is not None:
                db.execute("DELETE FROM bindings WHERE aor = ?", (aor,))
                db.executemany(
                    "INSERT INTO bindings (aor, position, contact, expires_at, record)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (aor, position, str(b.contact), b.expires_at, codec.dump_one(b))
                        for position, b in enumerate(live(bindings, now))
                    ],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return result

    def _sweep(self) -> int:
        cursor = self._db().execute("DELETE FROM bindings WHERE expires_at <= ?", (self.clock(),))
        return cursor.rowcount

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
