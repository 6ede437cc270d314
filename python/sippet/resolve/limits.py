"""The bounds of RFC 3263 resolution and of the DNS cache, in one place, all overridable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResolveLimits:
    """Every bound the resolver and its cache keep, so that hostile or broken DNS data
    costs a known amount of memory and queries.

    - ``max_records_per_answer``: records taken from one answer; the rest are ignored
      (a 64 KiB DNS message could carry thousands).
    - ``max_services``: NAPTR services (or SRV names when there is no NAPTR) followed for
      one resolution.
    - ``max_hosts``: SRV targets whose addresses are looked up for one resolution (in the
      RFC 2782 order; later ones are dropped).
    - ``max_destinations``: destinations one resolution returns.
    - ``max_cache_entries``: answers the cache holds; the least recently used goes first.
    - ``max_ttl``: no answer is kept longer, whatever its TTL (seconds).
    - ``negative_ttl``: how long an empty answer without an SOA record is kept (seconds).
    - ``max_negative_ttl``: cap on negative caching (RFC 2308 §5 suggests hours at most).
    - ``failure_ttl``: how long a failed query (timeout, SERVFAIL) is remembered so that a
      dead DNS server is not asked again for every request (RFC 2308 §7 allows up to five
      minutes); 0 turns it off.
    - ``max_concurrent_queries``: queries the adapter has in flight at once.
    - ``query_timeout``: seconds the adapter waits for one query, retries included.
    """

    max_records_per_answer: int = 32
    max_services: int = 8
    max_hosts: int = 8
    max_destinations: int = 32
    max_cache_entries: int = 4096
    max_ttl: float = 86_400.0
    negative_ttl: float = 60.0
    max_negative_ttl: float = 3_600.0
    failure_ttl: float = 5.0
    max_concurrent_queries: int = 16
    query_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in (
            "max_records_per_answer",
            "max_services",
            "max_hosts",
            "max_destinations",
            "max_cache_entries",
            "max_concurrent_queries",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("max_ttl", "negative_ttl", "max_negative_ttl", "failure_ttl"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.query_timeout <= 0:
            raise ValueError("query_timeout must be positive")
