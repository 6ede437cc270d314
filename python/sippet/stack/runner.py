"""``run``: ``asyncio.run`` on uvloop when it is installed (it is optional: ``sippet[fast]``);
``install_stop_signals``: SIGINT and SIGTERM end a server cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool = True) -> T:
    """Run ``main`` to completion in a new event loop, uvloop's when available."""
    if use_uvloop:
        try:
            import uvloop  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            pass
        else:
            return uvloop.run(main)  # type: ignore[no-any-return, unused-ignore]
    return asyncio.run(main)


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop`` (a clean exit instead of a traceback)."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread, or on Windows: Ctrl-C still interrupts.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
