"""Timer values (RFC 3261 Appendix A, RFC 6026 §8.11) and the deadline queue.

Nothing here reads a clock: deadlines are plain floats computed from the ``now`` the
stack passes in, and the stack asks ``next_deadline()`` when to call back.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

T = TypeVar("T")

_COMPACT_MIN = 1024
"""Cancelled entries are dropped in bulk once there are more than this many, and more
cancelled than live ones."""


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


class Timing:
    """``TimerSettings`` resolved for one kind of transport: the delays a transaction reads,
    the zero waits of reliable transports already applied (RFC 3261 §17.1.1.2 Timer D,
    §17.1.2.2 K, §17.2.1 I, §17.2.2 J). A layer makes one for unreliable and one for reliable
    transports; each transaction points to one, so it needs neither the settings nor a
    ``reliable`` flag of its own."""

    __slots__ = ("d", "i", "j", "k", "long", "reliable", "settings", "t1", "t2", "trying_delay")

    def __init__(self, settings: TimerSettings, reliable: bool) -> None:
        self.settings = settings
        self.reliable = reliable
        self.t1 = settings.t1
        self.t2 = settings.t2
        self.long = 64 * settings.t1
        """64*T1: Timers B, F, H, L and M; J over unreliable transports."""
        self.trying_delay = settings.trying_delay
        self.d = 0.0 if reliable else settings.timer_d
        self.i = 0.0 if reliable else settings.t4
        self.j = 0.0 if reliable else self.long
        self.k = 0.0 if reliable else settings.t4


class TimerOwner(Protocol):
    """What a timer entry belongs to: its ``entry`` is the one entry of it that is live."""

    entry: tuple[float, Any, float] | None


Entry: TypeAlias = tuple[float, Any, float]
"""``(deadline, owner, delay)``; live while ``owner.entry is`` it."""


class TimerQueue(Generic[T]):
    """Pending deadlines, each with an owner, popped earliest first; O(1) cancellation.

    Most timers are "now + a fixed delay" (B, F, H, J, L, M = 64*T1, K = T4...), and ``now``
    only grows, so the deadlines pushed with one delay arrive already sorted: each delay gets
    a FIFO, and a small heap orders the heads of the FIFOs (as many as distinct delays, about
    ten). Push and pop are then O(1) plus O(log #delays), with no comparison against the
    thousands of other pending timers; a large binary heap of entries spent most of its time
    in cache misses. A deadline that would break its FIFO's order (a retransmission
    rescheduled from a timer that fired late) goes to an ordinary heap instead.

    An entry is a plain tuple ``(deadline, owner, delay)``: one allocation, one cache line.
    The owner holds at most one live entry, in its ``entry`` attribute (``TimerOwner``);
    an entry its owner no longer points to is dead. Cancelling a FIFO's last entry (a
    response that soon follows its request stops the timer just started) removes it at
    once; other dead entries are dropped when they reach the front, or all at once when
    they outnumber the live ones, so a busy layer that ends most transactions early (a 2xx
    stops Timer B) does not carry them for 32 s.
    """

    __slots__ = ("_dead", "_fifos", "_heads", "_heap", "_sequence")

    def __init__(self) -> None:
        self._fifos: dict[float, deque[Entry]] = {}
        """Delay -> its entries in deadline order; only non-empty FIFOs are kept. The dict
        itself is never replaced: the layer keeps a reference for its inlined push."""
        self._heads: list[list[Any]] = []
        """Heap of ``[deadline of the FIFO's first entry, delay, FIFO]``, one per FIFO. A
        list, so that popping updates the head in place; the delays differ, so the FIFOs
        themselves are never compared."""
        self._heap: list[tuple[float, int, Entry]] = []
        """Entries that arrived out of their FIFO's order: (deadline, sequence, entry)."""
        self._sequence = itertools.count()
        self._dead = 0
        """Cancelled entries still held. The held entries are not counted as they come and
        go (``__len__`` adds up the FIFOs, about ten): the layer's hot paths push and pop
        without any bookkeeping but the FIFO itself."""

    def push(self, deadline: float, owner: T, delay: float = 0.0) -> Entry:
        """Add ``owner`` at ``deadline`` (``now + delay``) as its live entry (an entry it
        held before must have been cancelled or popped)."""
        entry = (deadline, owner, delay)
        owner.entry = entry  # type: ignore[attr-defined]
        self.push_entry(entry, delay)
        return entry

    def push_entry(self, entry: Entry, delay: float) -> None:
        """``push`` of a ready-made entry its owner already points to. The layer inlines the
        common case (the FIFO of ``delay`` exists and ``deadline`` is not before its last
        entry: append it) and calls this for the others."""
        deadline = entry[0]
        fifo = self._fifos.get(delay)
        if fifo is None:
            self._fifos[delay] = fifo = deque((entry,))
            heapq.heappush(self._heads, [deadline, delay, fifo])
        elif fifo[-1][0] <= deadline:
            fifo.append(entry)
        else:
            heapq.heappush(self._heap, (deadline, next(self._sequence), entry))

    def cancel(self, entry: Entry) -> None:
        """Make ``entry`` dead (its owner's ``entry`` becomes None); no-op if it is not live."""
        owner = entry[1]
        if owner.entry is not entry:
            return
        owner.entry = None
        # Not the FIFO's only entry: the head that orders that FIFO stays as it is.
        fifo = self._fifos.get(entry[2])
        if fifo is not None and len(fifo) > 1 and fifo[-1] is entry:
            fifo.pop()
            return
        self._dead = dead = self._dead + 1
        # Checked every 256 cancellations (len() adds up the FIFOs).
        if dead > _COMPACT_MIN and not dead & 255 and dead * 2 > len(self):
            self._compact()

    def pop_due(self, now: float) -> Entry | None:
        """Remove and return the earliest live entry due at ``now`` (its owner's ``entry``
        becomes None), else None."""
        heads = self._heads
        heap = self._heap
        entry: Entry
        while True:
            # The earliest entry: the first of the earliest FIFO, or of the fallback heap.
            if heads and (not heap or heads[0][0] <= heap[0][0]):
                head = heads[0]
                if head[0] > now:
                    return None
                fifo: deque[Entry] = head[2]
                entry = fifo.popleft()
                if fifo:
                    # The head moves to the FIFO's next entry; it only sinks in the heap
                    # when another FIFO is now earlier (rarely: most pops come in runs).
                    head[0] = deadline = fifo[0][0]
                    count = len(heads)
                    if (count > 1 and heads[1][0] < deadline) or (
                        count > 2 and heads[2][0] < deadline
                    ):
                        heapq.heapreplace(heads, head)
                else:
                    heapq.heappop(heads)
                    del self._fifos[head[1]]
            elif heap:
                if heap[0][0] > now:
                    return None
                entry = heapq.heappop(heap)[2]
            else:
                return None
            owner = entry[1]
            if owner.entry is entry:
                owner.entry = None
                return entry  # type: ignore[no-any-return]  # narrowed to owner.entry's Any
            self._dead -= 1

    def next_deadline(self) -> float | None:
        while True:
            entry = self._earliest()
            if entry is None:
                return None
            if entry[1].entry is entry:
                deadline: float = entry[0]
                return deadline
            self._remove_earliest()
            self._dead -= 1

    def __len__(self) -> int:
        """Entries held, live and cancelled (0 means nothing is left behind)."""
        return sum(map(len, self._fifos.values())) + len(self._heap)

    @property
    def live(self) -> int:
        return len(self) - self._dead

    def _earliest(self) -> Entry | None:
        heads = self._heads
        heap = self._heap
        if heads and (not heap or heads[0][0] <= heap[0][0]):
            return heads[0][2][0]  # type: ignore[no-any-return]
        return heap[0][2] if heap else None

    def _remove_earliest(self) -> None:
        heads = self._heads
        heap = self._heap
        if heads and (not heap or heads[0][0] <= heap[0][0]):
            head = heads[0]
            fifo = head[2]
            fifo.popleft()
            if fifo:
                head[0] = fifo[0][0]
                heapq.heapreplace(heads, head)
            else:
                heapq.heappop(heads)
                del self._fifos[head[1]]
        else:
            heapq.heappop(heap)

    def _compact(self) -> None:
        for delay, fifo in list(self._fifos.items()):
            live = deque(entry for entry in fifo if entry[1].entry is entry)
            if live:
                self._fifos[delay] = live
            else:
                del self._fifos[delay]
        self._heads = [[fifo[0][0], delay, fifo] for delay, fifo in self._fifos.items()]
        heapq.heapify(self._heads)
        self._heap = [item for item in self._heap if item[2][1].entry is item[2]]
        heapq.heapify(self._heap)
        self._dead = 0
