"""Properties of the pure resolution over arbitrary DNS data (Hypothesis): whatever the
records, it finishes in at most three steps, within its bounds, and a sips: lookup only
ever yields secure transports."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from sippet.resolve import (
    TRANSPORTS,
    AddressRecord,
    Answer,
    IPFamily,
    Lookup,
    NaptrRecord,
    Query,
    RecordType,
    Resolution,
    ResolveLimits,
    SrvRecord,
)

from .resolve_zone import Zone

NAMES = ["example.com", "a.example.com", "b.example.com", "_sip._udp.example.com"]
NAMES += [f"{info.srv_label}.example.com" for info in TRANSPORTS.values()]
SERVICES = [info.naptr_service for info in TRANSPORTS.values()] + ["SIPS+D2U", "E2U+sip", ""]

names = st.sampled_from([*NAMES, ".", "192.0.2.1"])
naptr = st.builds(
    NaptrRecord,
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.sampled_from(["s", "S", "a", "", "u"]),
    st.sampled_from(SERVICES),
    st.sampled_from(["", "!^.*$!sip:x@y!"]),
    names,
)
srv = st.builds(
    SrvRecord, st.integers(0, 3), st.integers(0, 65535), st.sampled_from([0, 1, 5060]), names
)
address = st.builds(
    AddressRecord, st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::1", "junk", ""])
)
RECORDS = {
    RecordType.NAPTR: naptr,
    RecordType.SRV: srv,
    RecordType.A: address,
    RecordType.AAAA: address,
}


def answers(rtype: RecordType) -> st.SearchStrategy[Answer]:
    """Mostly records of the asked type; sometimes a failure, nothing, or any records."""
    found = st.lists(RECORDS[rtype], max_size=8) | st.lists(st.one_of(naptr, srv, address))
    return st.one_of(
        st.just(Answer.failed()),
        st.just(Answer.empty(30)),
        found.map(lambda records: Answer.found(tuple(records), 60)),
    )


# Every name of the zone gets an answer for every type: dense zones reach the A step.
zones = st.fixed_dictionaries(
    {(name, rtype): answers(rtype) for name in NAMES for rtype in RecordType}
)
LIMITS = ResolveLimits(max_hosts=4, max_destinations=6, max_records_per_answer=8)


@settings(max_examples=200, deadline=None)
@given(
    zone=zones,
    scheme=st.sampled_from(["sip", "sips"]),
    port=st.sampled_from([None, 5070]),
    transport=st.sampled_from([None, "UDP", "TCP", "TLS", "WS", "WSS"]),
    seed=st.integers(0, 2**32),
)
def test_any_records_give_a_bounded_ordered_answer(
    zone: dict[tuple[str, RecordType], Answer],
    scheme: str,
    port: int | None,
    transport: str | None,
    seed: int,
) -> None:
    secure = scheme == "sips"
    if secure and transport is not None and not TRANSPORTS[transport].secure:
        transport = None
    lookup = Lookup("example.com", port, transport, secure)
    memory = Zone()
    memory.answers = {Query.of(name, rtype): answer for (name, rtype), answer in zone.items()}
    resolution = Resolution(
        lookup,
        rng=random.Random(seed),
        transports=("UDP", "TCP", "TLS", "WS", "WSS"),
        families=(IPFamily.IPV6, IPFamily.IPV4),
        limits=LIMITS,
    )
    steps = 0
    while not resolution.finished:
        steps += 1
        assert steps <= 3
        for query in resolution.queries:
            resolution.give(query, memory.answer(query))
    destinations = resolution.destinations
    assert len(destinations) <= LIMITS.max_destinations
    assert len({(d.transport, d.address, d.port) for d in destinations}) == len(destinations)
    assert (resolution.failure_reason is None) == bool(destinations)
    for destination in destinations:
        assert destination.domain == "example.com"
        assert 0 < destination.port <= 65535
        if secure:
            assert TRANSPORTS[destination.transport].secure
        if transport is not None:
            assert destination.transport == transport
        if port is not None:
            assert destination.port == port
