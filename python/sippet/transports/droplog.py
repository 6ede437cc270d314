"""A rate-limited warning log for dropped or rejected messages.

Every message the stack drops or rejects is logged with its source and reason, but a flood
of garbage must not turn into a flood of log lines (and the CPU spent formatting them): past
``per_second`` lines of one kind in a second, lines are counted instead and the count is
logged once the second is over. The budget is per kind (per message template), so that a
flood of one rejection (say, connections refused past a bound) never hides the first lines
of another (connections cut off by a timeout) in the same second. The kinds are the
templates written in the code, so the table of counts is bounded by them.
"""

from __future__ import annotations

import logging
import time
from typing import Any


class DropLog:
    """``warning(...)`` like a logger's, at most ``per_second`` lines of each kind a second."""

    __slots__ = ("_counts", "_logger", "_per_second", "_suppressed", "_window")

    def __init__(self, logger: logging.Logger, per_second: int = 20) -> None:
        self._logger = logger
        self._per_second = per_second
        self._window = 0.0
        self._counts: dict[str, int] = {}
        self._suppressed = 0

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._window >= 1.0:
            if self._suppressed:
                self._logger.warning(
                    "%d more dropped or rejected messages were not logged", self._suppressed
                )
            self._window = now
            self._counts.clear()
            self._suppressed = 0
        count = self._counts.get(message, 0)
        if count < self._per_second:
            self._counts[message] = count + 1
            self._logger.warning(message, *args)
        else:
            self._suppressed += 1
