"""The DNS answer cache on a fake clock: TTLs, negative caching, failures, the entry bound."""

from __future__ import annotations

import pytest
from sippet.resolve import AddressRecord, Answer, DnsCache, Query, RecordType, ResolveLimits

A = Query.of("example.com", RecordType.A)
FOUND = Answer.found((AddressRecord("192.0.2.1"),), ttl=30)


def test_answer_lives_for_its_ttl() -> None:
    cache = DnsCache()
    cache.put(A, FOUND, now=100.0)
    assert cache.get(A, now=129.9) == FOUND
    assert cache.get(A, now=130.0) is None
    assert len(cache) == 0  # the expired entry went on the way


def test_negative_answer_is_cached_for_its_ttl_capped() -> None:
    cache = DnsCache(ResolveLimits(max_negative_ttl=50))
    cache.put(A, Answer.empty(ttl=3600), now=0.0)
    assert cache.get(A, now=49.0) == Answer.empty(ttl=3600)
    assert cache.get(A, now=50.0) is None


def test_positive_ttl_is_capped_by_max_ttl() -> None:
    cache = DnsCache(ResolveLimits(max_ttl=10))
    cache.put(A, Answer.found((AddressRecord("192.0.2.1"),), ttl=10**6), now=0.0)
    assert cache.get(A, now=9.5) is not None
    assert cache.get(A, now=10.0) is None


def test_failures_are_remembered_for_failure_ttl_only() -> None:
    cache = DnsCache(ResolveLimits(failure_ttl=2))
    cache.put(A, Answer.failed(), now=0.0)
    assert cache.get(A, now=1.0) == Answer.failed()
    assert cache.get(A, now=2.0) is None
    off = DnsCache(ResolveLimits(failure_ttl=0))
    off.put(A, Answer.failed(), now=0.0)
    assert off.get(A, now=0.0) is None


def test_zero_ttl_is_not_cached_and_replaces_an_older_entry() -> None:
    cache = DnsCache()
    cache.put(A, FOUND, now=0.0)
    cache.put(A, Answer.found((AddressRecord("192.0.2.2"),), ttl=0), now=1.0)
    assert cache.get(A, now=1.0) is None


def test_least_recently_used_entry_goes_when_full() -> None:
    cache = DnsCache(ResolveLimits(max_cache_entries=3))
    names = [Query.of(f"h{i}.example.com", RecordType.A) for i in range(4)]
    for query in names[:3]:
        cache.put(query, FOUND, now=0.0)
    assert cache.get(names[0], now=1.0) is not None  # h0 is now the most recent
    cache.put(names[3], FOUND, now=1.0)
    assert len(cache) == 3
    assert cache.get(names[1], now=1.0) is None
    assert all(cache.get(q, now=1.0) is not None for q in (names[0], names[2], names[3]))


def test_names_compare_without_case_or_trailing_dot() -> None:
    cache = DnsCache()
    cache.put(Query.of("Example.COM.", RecordType.A), FOUND, now=0.0)
    assert cache.get(A, now=1.0) == FOUND


@pytest.mark.parametrize(
    "bad", [{"max_cache_entries": 0}, {"negative_ttl": -1.0}, {"query_timeout": 0.0}]
)
def test_limits_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ResolveLimits(**bad)  # type: ignore[arg-type]
