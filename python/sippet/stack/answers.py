"""Answer timeouts: server transactions whose core never sends a final response.

RFC 3261 sets no timer for a TU that does not answer (§17.2.1, §17.2.2); without one, a core
that drops requests would leave server transactions behind without bound. ``AnswerWatch``
is sans-I/O: the driver tells it when a request went to the core and asks it, with ``now``,
which are overdue and when the next one will be.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

from sippet.transactions import ServerKey

UNANSWERED_INVITE_TIMEOUT = 181.0
"""RFC 3261 §16.6 step 11: Timer C, how long a proxy waits for a final response to an
INVITE, MUST be larger than 3 minutes; a UAS core that has not answered by then will not."""


class AnswerTimeouts(NamedTuple):
    """How long a server transaction waits for its core's final response before the stack
    ends it and reports ``receive_error("unanswered", key)``. ``math.inf`` disables one."""

    non_invite: float
    invite: float


class AnswerWatch:
    """The server transactions given to the core, by the deadline of their answer."""

    __slots__ = ("_queues", "timeouts")

    def __init__(self, timeouts: AnswerTimeouts) -> None:
        self.timeouts = timeouts
        # One queue per timeout: each is then sorted by deadline.
        self._queues: tuple[deque[tuple[float, ServerKey]], ...] = (deque(), deque())

    def track(self, key: ServerKey, now: float) -> None:
        is_invite = key.method == "INVITE"
        timeout = self.timeouts[is_invite]
        if timeout != math.inf:
            self._queues[is_invite].append((now + timeout, key))

    def next_deadline(self) -> float | None:
        deadlines = [queue[0][0] for queue in self._queues if queue]
        return min(deadlines) if deadlines else None

    def due(self, now: float) -> list[ServerKey]:
        """The keys whose answer deadline has passed (answered or not: the caller checks)."""
        keys: list[ServerKey] = []
        for queue in self._queues:
            while queue and queue[0][0] <= now:
                keys.append(queue.popleft()[1])
        return keys
