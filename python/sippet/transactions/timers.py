"""Timer values (RFC 3261 Appendix A, RFC 6026 §8.11) and the deadline queue.

Nothing here reads a clock: deadlines are plain floats computed from the ``now`` the
stack passes in, and the stack asks ``next_deadline()`` when to call back.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TimerSettings:
    """T1, T2, T4 and the derived timer values, in seconds.

    The defaults are RFC 3261's. T1 may be raised on high-latency links (§17.1.1.1);
    every derived value follows it.
    """

    t1: float = 0.5
    """RTT estimate (§17.1.1.1): first retransmission interval of Timers A, E, G."""

    t2: float = 4.0
    """Cap of the non-INVITE request and INVITE response retransmission interval (§17.1.2.2)."""

    t4: float = 5.0
    """Longest time a message stays in the network (§17.1.2.2): Timers I and K."""

    trying_delay: float | None = 0.2
    """§17.2.1: an INVITE server transaction sends 100 (Trying) unless the TU answers within
    200 ms. 0 sends it at once; None never sends it (the TU always answers in time)."""

    timer_d: float = 32.0
    """§17.1.1.2: "at least 32 seconds" over unreliable transports (it stands for the
    server's Timer H, whose T1 the client does not know)."""

    def __post_init__(self) -> None:
        if not (self.t1 > 0 and self.t2 >= self.t1 and self.t4 > 0 and self.timer_d >= 0):
            raise ValueError("timer settings need t1 > 0, t2 >= t1, t4 > 0, timer_d >= 0")
        if self.trying_delay is not None and self.trying_delay < 0:
            raise ValueError("trying_delay must be >= 0 or None")

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, J (unreliable), L and M."""
        return 64 * self.t1


class TimerQueue(Generic[T]):
    """A min-heap of (deadline, owner) with O(1) lazy cancellation.

    Cancelled entries stay in the heap until they reach the top or until they outnumber
    the live ones, when the heap is rebuilt without them: a busy layer that ends most
    transactions early (a 2xx ends Timer B's watch) must not hold a heap of dead entries.
    """

    __slots__ = ("_dead", "_heap", "_sequence")

    # An entry is a mutable list [deadline, sequence, owner]; cancelling sets the owner to
    # None (lazy deletion, as in the heapq documentation): O(1) instead of O(n) removal.
    # The sequence number breaks deadline ties in push order and keeps owners uncompared.

    _COMPACT_MIN = 1024

    def __init__(self) -> None:
        self._heap: list[list[object]] = []
        self._dead = 0
        self._sequence = itertools.count()

    def push(self, deadline: float, owner: T) -> list[object]:
        entry: list[object] = [deadline, next(self._sequence), owner]
        heapq.heappush(self._heap, entry)
        return entry

    def cancel(self, entry: list[object]) -> None:
        if entry[2] is not None:
            entry[2] = None
            self._dead += 1
            if self._dead > self._COMPACT_MIN and self._dead * 2 > len(self._heap):
                self._heap = [e for e in self._heap if e[2] is not None]
                heapq.heapify(self._heap)
                self._dead = 0

    def pop_due(self, now: float) -> tuple[float, T] | None:
        """Remove and return the earliest live (deadline, owner) due at ``now``, else None."""
        heap = self._heap
        while heap and heap[0][0] <= now:  # type: ignore[operator]
            entry = heapq.heappop(heap)
            owner = entry[2]
            if owner is None:
                self._dead -= 1
                continue
            entry[2] = None
            return entry[0], owner  # type: ignore[return-value]
        return None

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
            self._dead -= 1
        return heap[0][0] if heap else None  # type: ignore[return-value]

    def __len__(self) -> int:
        """Entries held, live and cancelled (0 means nothing is left behind)."""
        return len(self._heap)

    @property
    def live(self) -> int:
        return len(self._heap) - self._dead
