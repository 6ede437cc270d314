"""DNS questions and answers as plain values: what the pure resolver asks and is given.

The adapter turns its DNS library's answers into these; the resolution logic and the cache
see nothing else. Names are kept as text, lower case, without the trailing dot.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class RecordType(enum.StrEnum):
    NAPTR = "NAPTR"
    SRV = "SRV"
    A = "A"
    AAAA = "AAAA"


def normalize_name(name: str) -> str:
    """``Example.COM.`` -> ``example.com``: DNS names compare without case (RFC 4343) and
    the resolver works with fully qualified names only."""
    return name.rstrip(".").lower()


class Query(NamedTuple):
    """One DNS question: a name (normalized) and a record type."""

    name: str
    rtype: RecordType

    @classmethod
    def of(cls, name: str, rtype: RecordType) -> Query:
        return cls(normalize_name(name), rtype)


class NaptrRecord(NamedTuple):
    """RFC 3403 §4.1 NAPTR RDATA (``flags`` and ``service`` as written, compared without
    case by the reader)."""

    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


class SrvRecord(NamedTuple):
    """RFC 2782 SRV RDATA. A ``target`` of ``"."`` (``""`` once normalized) means the
    service is decidedly not available at this domain."""

    priority: int
    weight: int
    port: int
    target: str


class AddressRecord(NamedTuple):
    """An A or AAAA record's address, as text."""

    address: str


Record = NaptrRecord | SrvRecord | AddressRecord


class Outcome(enum.StrEnum):
    """How a query ended."""

    FOUND = "found"
    """Records came back."""
    EMPTY = "empty"
    """The name does not exist or has no record of this type (NXDOMAIN, NODATA)."""
    FAILED = "failed"
    """No usable answer: timeout, SERVFAIL, REFUSED, a network error."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one ``Query``: the records (empty unless ``FOUND``) and how long it may
    be cached, in seconds (the smallest TTL of the records; for a negative answer the SOA
    minimum, RFC 2308 §5)."""

    outcome: Outcome
    records: tuple[Record, ...] = ()
    ttl: float = 0.0

    @classmethod
    def found(cls, records: tuple[Record, ...], ttl: float) -> Answer:
        if not records:
            return cls(Outcome.EMPTY, (), ttl)
        return cls(Outcome.FOUND, records, ttl)

    @classmethod
    def empty(cls, ttl: float) -> Answer:
        return cls(Outcome.EMPTY, (), ttl)

    @classmethod
    def failed(cls) -> Answer:
        return cls(Outcome.FAILED)
