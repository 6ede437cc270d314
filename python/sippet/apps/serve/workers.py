"""``--workers N``: N processes serving the same addresses (SO_REUSEPORT: the kernel spreads
UDP datagrams by source and TCP connections by 4-tuple over them) and the same location
store, so that one host's cores are used.

The parent forks the workers before any event loop exists, forwards SIGTERM and SIGINT to
them, and exits with the worst of their exit codes. Every worker holds the same digest key,
so a nonce one worker issued is honoured by the one the retried request reaches.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
from types import FrameType

from sippet.apps.serve.app import AUTH_KEY_BYTES, serve
from sippet.apps.serve.settings import ServeError, ServeSettings
from sippet.stack.runner import run as run_loop


def run_serve(settings: ServeSettings) -> int:
    """Serve with ``settings.workers`` processes (this one alone when 1)."""
    if settings.workers == 1:
        return run_loop(serve(settings))
    if any(port == 0 for _, (_, port) in settings.listen):
        raise ServeError("--workers needs fixed ports (port 0 would differ per worker)")
    key = secrets.token_bytes(AUTH_KEY_BYTES)
    sys.stdout.flush()
    children = [_fork(settings, number, key) for number in range(settings.workers)]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    worst = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        worst = max(worst, os.waitstatus_to_exitcode(status) & 0xFF)
    return worst


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
