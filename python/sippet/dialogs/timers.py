"""One deadline per record, in a heap with lazy deletion.

A record (a 2xx awaiting its ACK, an INVITE in progress) has at most one live deadline at
a time; ``schedule`` replaces it and ``cancel`` drops it. A replaced or cancelled entry
stays in the heap, dead, until it reaches the front; when dead entries outnumber live ones
the heap is rebuilt, so a busy layer whose INVITEs end long before their timeout does not
carry their dead entries for minutes.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Protocol


class Timed(Protocol):
    entry: list[object] | None


_COMPACT_FLOOR = 64


class Deadlines:
    __slots__ = ("_counter", "_dead", "_heap")

    def __init__(self) -> None:
        self._heap: list[list[object]] = []
        self._counter = itertools.count()
        self._dead = 0

    def __len__(self) -> int:
        """Live deadlines."""
        return len(self._heap) - self._dead

    def schedule(self, record: Timed, deadline: float) -> None:
        self.cancel(record)
        entry: list[object] = [deadline, next(self._counter), record]
        record.entry = entry
        heapq.heappush(self._heap, entry)

    def cancel(self, record: Timed) -> None:
        if record.entry is not None:
            record.entry = None
            self._dead += 1
            if self._dead > _COMPACT_FLOOR and self._dead > len(self._heap) // 2:
                self._compact()

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].entry is not heap[0]:  # type: ignore[attr-defined]
            heapq.heappop(heap)
            self._dead -= 1
        return heap[0][0] if heap else None  # type: ignore[return-value]

    def pop_due(self, now: float) -> tuple[float, Timed] | None:
        """The earliest record due at ``now`` with its deadline, its entry removed."""
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return None
        entry = heapq.heappop(self._heap)
        record: Timed = entry[2]  # type: ignore[assignment]
        record.entry = None
        return deadline, record

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if entry[2].entry is entry]  # type: ignore[attr-defined]
        heapq.heapify(self._heap)
        self._dead = 0
