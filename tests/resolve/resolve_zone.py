"""A DNS zone in memory for the pure resolver tests: answers by (name, type), and a driver
that runs a ``Resolution`` to its end, recording the queries of each step."""

from __future__ import annotations

from sippet.resolve import (
    AddressRecord,
    Answer,
    NaptrRecord,
    Query,
    RecordType,
    Resolution,
    SrvRecord,
)


class Zone:
    def __init__(self) -> None:
        self.answers: dict[Query, Answer] = {}

    def naptr(
        self, name: str, *records: tuple[int, int, str, str, str, str], ttl: int = 300
    ) -> Zone:
        return self._add(name, RecordType.NAPTR, tuple(NaptrRecord(*r) for r in records), ttl)

    def srv(self, name: str, *records: tuple[int, int, int, str], ttl: int = 300) -> Zone:
        return self._add(name, RecordType.SRV, tuple(SrvRecord(*r) for r in records), ttl)

    def a(self, name: str, *addresses: str, ttl: int = 300) -> Zone:
        return self._add(name, RecordType.A, tuple(AddressRecord(a) for a in addresses), ttl)

    def aaaa(self, name: str, *addresses: str, ttl: int = 300) -> Zone:
        return self._add(name, RecordType.AAAA, tuple(AddressRecord(a) for a in addresses), ttl)

    def fail(self, name: str, rtype: RecordType) -> Zone:
        self.answers[Query.of(name, rtype)] = Answer.failed()
        return self

    def _add(self, name: str, rtype: RecordType, records: tuple, ttl: int) -> Zone:  # type: ignore[type-arg]
        self.answers[Query.of(name, rtype)] = Answer.found(records, ttl)
        return self

    def answer(self, query: Query) -> Answer:
        return self.answers.get(query, Answer.empty(60))


def drive(resolution: Resolution, zone: Zone) -> list[tuple[Query, ...]]:
    """Answer every query from ``zone`` until the resolution ends; returns the steps."""
    steps: list[tuple[Query, ...]] = []
    for _ in range(10):  # a resolution has at most three steps
        if resolution.finished:
            return steps
        step = resolution.queries
        steps.append(step)
        for query in step:
            resolution.give(query, zone.answer(query))
    raise AssertionError("resolution did not finish")
