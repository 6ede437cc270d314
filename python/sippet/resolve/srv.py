"""RFC 2782 "Usage rules": the order in which SRV targets are tried."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sippet.resolve.records import SrvRecord


class RandomSource(Protocol):
    """What the ordering needs from a random generator (``random.Random`` fits; pass a
    seeded one in tests)."""

    def randint(self, a: int, b: int) -> int: ...


def is_unavailable(records: Iterable[SrvRecord]) -> bool:
    """RFC 2782: a lone SRV record whose target is ``.`` says the service is decidedly not
    available at this domain (the answer then means "do not fall back to A records")."""
    records = tuple(records)
    return len(records) == 1 and _is_root(records[0].target)


def order_srv(records: Iterable[SrvRecord], rng: RandomSource) -> list[SrvRecord]:
    """The records in the order to try them (RFC 2782, "Usage rules").

    Lowest priority first. Within one priority, repeatedly: put the remaining records of
    weight 0 first, sum the weights, draw a uniform integer between 0 and that sum
    (inclusive), and take the first record whose running sum reaches it. A weight-0 record
    so keeps a small chance of coming first. Records with target ``.`` are left out.
    """
    by_priority: dict[int, list[SrvRecord]] = {}
    for record in records:
        if not _is_root(record.target):
            by_priority.setdefault(record.priority, []).append(record)
    ordered: list[SrvRecord] = []
    for priority in sorted(by_priority):
        remaining = by_priority[priority]
        while remaining:
            remaining.sort(key=lambda record: record.weight != 0)  # stable: zeros first
            chosen = _weighted_pick(remaining, rng)
            ordered.append(remaining.pop(chosen))
    return ordered


def _is_root(target: str) -> bool:
    return target in ("", ".")


def _weighted_pick(records: list[SrvRecord], rng: RandomSource) -> int:
    total = sum(record.weight for record in records)
    drawn = rng.randint(0, total)
    running = 0
    for index, record in enumerate(records):
        running += record.weight
        if running >= drawn:
            return index
    raise AssertionError("the running sum reaches the total")  # pragma: no cover
