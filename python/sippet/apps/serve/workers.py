"""``--workers N``: N processes serving the same addresses (SO_REUSEPORT: the kernel spreads
UDP datagrams by source and TCP connections by 4-tuple over them) and the same location
store, so that one host's cores are used.

The parent opens the store once (creating it), then forks the workers (no event loop is
running then), forwards SIGTERM and SIGINT to them, stops them all when one fails, and
exits with the worst of their exit codes. Every worker holds the same digest key,
so a nonce one worker issued is honoured by the one the retried request reaches.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from types import FrameType

from sippet.apps.serve.app import AUTH_KEY_BYTES, open_checked_store, serve
from sippet.apps.serve.settings import ServeError, ServeSettings
from sippet.stack.runner import run as run_loop


def run_serve(settings: ServeSettings) -> int:
    """Serve with ``settings.workers`` processes (this one alone when 1)."""
    if settings.workers == 1:
        return run_loop(serve(settings))
    if any(port == 0 for _, (_, port) in settings.listen):
        raise ServeError("--workers needs fixed ports (port 0 would differ per worker)")
    # The store is created once, here: N processes creating one SQLite file at the same
    # moment race for its schema and journal mode ("database is locked").
    run_loop(_prepare_store(settings.store_url))
    key = secrets.token_bytes(AUTH_KEY_BYTES)
    sys.stdout.flush()
    children = [_fork(settings, number, key) for number in range(settings.workers)]
    running = set(children)

    def forward(signum: int, _frame: FrameType | None) -> None:
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    worst = 0
    while running:
        pid, status = os.wait()
        if pid not in running:
            continue
        running.discard(pid)
        code = os.waitstatus_to_exitcode(status) & 0xFF
        if code and not worst:
            forward(signal.SIGTERM, None)  # one worker failed: the node stops as a whole
        worst = max(worst, code)
    return worst


async def _prepare_store(url: str) -> None:
    store = await open_checked_store(url)
    await store.close()


def _fork(settings: ServeSettings, number: int, key: bytes) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = run_loop(serve(settings, worker=number, auth_key=key))
    except ServeError as exc:
        print(f"error: worker {number}: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
