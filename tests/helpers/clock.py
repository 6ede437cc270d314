"""An asyncio event loop whose clock the test moves forward, so that a test of timers
(RFC 3261 §17 timers, the stack's answer timeouts) depends on the order of deadlines, not
on how fast the machine runs.

``SteppedClockLoop.time()`` is the real monotonic clock plus an offset that only
``advance()`` changes: sockets, callbacks and the stack run for real, and a deadline set
``d`` seconds ahead is reached when the test advances past it (or, never in practice, when
``d`` real seconds go by)."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any

REAL_TIME_BOUND = 60.0
"""Seconds of real time a stepped-clock test may run before it is cancelled."""


class SteppedClockLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0

    def time(self) -> float:
        return super().time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward; timers now due run at the next loop turn."""
        self.offset += seconds


def stepped_clock() -> SteppedClockLoop:
    """The running loop, inside a test run by ``async_test_on_stepped_clock``."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, SteppedClockLoop), "run the test with async_test_on_stepped_clock"
    return loop


def async_test_on_stepped_clock(
    function: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., None]:
    """Decorator: run an async test on a fresh ``SteppedClockLoop``, bounded in real time
    (a bound in loop time would move with the clock)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        loop = SteppedClockLoop()
        task = loop.create_task(function(*args, **kwargs))
        watchdog = threading.Timer(REAL_TIME_BOUND, loop.call_soon_threadsafe, (task.cancel,))
        watchdog.start()
        try:
            loop.run_until_complete(task)
        finally:
            watchdog.cancel()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return wrapper
