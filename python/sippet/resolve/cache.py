"""A DNS answer cache driven by the caller's clock (pure: ``now`` is an argument).

Positive answers live for their TTL, negative ones (NXDOMAIN, NODATA) for their SOA minimum
or ``ResolveLimits.negative_ttl`` (RFC 2308 §5), failures for ``failure_ttl`` (RFC 2308 §7);
every lifetime is capped. At most ``max_cache_entries`` answers are held: the least
recently used is dropped first.
"""

from __future__ import annotations

from collections import OrderedDict

from sippet.resolve.limits import ResolveLimits
from sippet.resolve.records import Answer, Outcome, Query


class DnsCache:
    def __init__(self, limits: ResolveLimits | None = None) -> None:
        self.limits = limits if limits is not None else ResolveLimits()
        self._entries: OrderedDict[Query, tuple[float, Answer]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: Query, now: float) -> Answer | None:
        """The cached answer to ``query`` if it has not expired at ``now``."""
        entry = self._entries.get(query)
        if entry is None:
            return None
        expires, answer = entry
        if now >= expires:
            del self._entries[query]
            return None
        self._entries.move_to_end(query)
        return answer

    def put(self, query: Query, answer: Answer, now: float) -> None:
        """Remember ``answer`` from ``now`` for its lifetime; one of lifetime 0 is not kept."""
        lifetime = self.lifetime(answer)
        if lifetime <= 0:
            self._entries.pop(query, None)
            return
        self._entries[query] = (now + lifetime, answer)
        self._entries.move_to_end(query)
        while len(self._entries) > self.limits.max_cache_entries:
            self._entries.popitem(last=False)

    def lifetime(self, answer: Answer) -> float:
        """Seconds ``answer`` may be kept, after the limits are applied."""
        limits = self.limits
        if answer.outcome is Outcome.FOUND:
            return min(answer.ttl, limits.max_ttl)
        if answer.outcome is Outcome.EMPTY:
            return min(answer.ttl, limits.max_negative_ttl)
        return limits.failure_ttl
