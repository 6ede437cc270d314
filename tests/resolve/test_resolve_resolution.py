"""RFC 3263 §4.1-§4.2 resolution on records alone (no DNS, seeded randomness)."""

from __future__ import annotations

import random

import pytest
from sippet.errors import TransportError
from sippet.resolve import (
    Answer,
    Destination,
    IPFamily,
    Lookup,
    Query,
    RecordType,
    Resolution,
    ResolveLimits,
)
from sippet.uri import URI

from .resolve_zone import Zone, drive

V4 = IPFamily.IPV4
V6 = IPFamily.IPV6


def resolve(
    uri: str,
    zone: Zone,
    *,
    transports: tuple[str, ...] = ("UDP", "TCP", "TLS"),
    families: tuple[IPFamily, ...] = (V4,),
    limits: ResolveLimits | None = None,
    seed: int = 1,
) -> tuple[Resolution, list[tuple[Query, ...]]]:
    resolution = Resolution(
        Lookup.from_uri(URI.parse(uri)),
        rng=random.Random(seed),
        transports=transports,
        families=families,
        limits=limits,
    )
    return resolution, drive(resolution, zone)


def triples(resolution: Resolution) -> list[tuple[str, str, int]]:
    return [(d.transport, d.address, d.port) for d in resolution.destinations]


def q(name: str, rtype: str) -> Query:
    return Query(name, RecordType(rtype))


# -- numeric hosts and explicit ports (§4.1, §4.2) ----------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:alice@192.0.2.1", ("UDP", V4, "192.0.2.1", 5060)),
        ("sips:alice@192.0.2.1", ("TLS", V4, "192.0.2.1", 5061)),
        ("sip:alice@[2001:db8::1]:5070;transport=tcp", ("TCP", V6, "2001:db8::1", 5070)),
        ("sips:alice@192.0.2.1;transport=tcp", ("TLS", V4, "192.0.2.1", 5061)),
        ("sip:alice@192.0.2.1;transport=tls", ("TLS", V4, "192.0.2.1", 5061)),
    ],
)
def test_numeric_host_needs_no_dns(uri: str, expected: tuple[str, IPFamily, str, int]) -> None:
    resolution, steps = resolve(uri, Zone())
    assert steps == []
    transport, family, address, port = expected
    assert resolution.destinations == [
        Destination(transport, family, address, port, address, address)
    ]


def test_ws_numeric_host_default_ports_follow_rfc_7118() -> None:
    ws, _ = resolve("sip:a@192.0.2.1;transport=ws", Zone(), transports=("WS",))
    wss, _ = resolve("sips:a@192.0.2.1;transport=ws", Zone(), transports=("WSS",))
    assert triples(ws) == [("WS", "192.0.2.1", 80)]
    assert triples(wss) == [("WSS", "192.0.2.1", 443)]


def test_explicit_port_skips_naptr_and_srv() -> None:
    zone = (
        Zone()
        .a("example.com", "192.0.2.7", "192.0.2.8")
        .srv("_sip._udp.example.com", (0, 0, 5080, "other.example.com"))
    )
    resolution, steps = resolve("sip:alice@Example.COM:5099", zone)
    assert steps == [(q("example.com", "A"),)]
    assert triples(resolution) == [("UDP", "192.0.2.7", 5099), ("UDP", "192.0.2.8", 5099)]
    first = resolution.destinations[0]
    assert (first.host, first.domain) == ("example.com", "example.com")


def test_explicit_port_on_sips_uses_tls() -> None:
    resolution, _ = resolve("sips:alice@example.com:5999", Zone().a("example.com", "192.0.2.7"))
    assert triples(resolution) == [("TLS", "192.0.2.7", 5999)]


def test_explicit_transport_queries_only_its_srv() -> None:
    zone = (
        Zone()
        .srv("_sip._tcp.example.com", (0, 0, 5070, "tcp.example.com"))
        .a("tcp.example.com", "192.0.2.20")
    )
    resolution, steps = resolve("sip:alice@example.com;transport=tcp", zone)
    assert steps == [(q("_sip._tcp.example.com", "SRV"),), (q("tcp.example.com", "A"),)]
    assert triples(resolution) == [("TCP", "192.0.2.20", 5070)]
    assert resolution.destinations[0].host == "tcp.example.com"
    assert resolution.destinations[0].domain == "example.com"


def test_sips_transport_tcp_looks_up_sips_srv() -> None:
    zone = (
        Zone()
        .srv("_sips._tcp.example.com", (0, 0, 5061, "tls.example.com"))
        .a("tls.example.com", "192.0.2.30")
    )
    resolution, steps = resolve("sips:alice@example.com;transport=tcp", zone)
    assert steps[0] == (q("_sips._tcp.example.com", "SRV"),)
    assert triples(resolution) == [("TLS", "192.0.2.30", 5061)]


def test_explicit_transport_without_srv_falls_back_to_a_at_default_port() -> None:
    resolution, steps = resolve(
        "sip:alice@example.com;transport=tcp", Zone().a("example.com", "192.0.2.5")
    )
    assert steps == [(q("_sip._tcp.example.com", "SRV"),), (q("example.com", "A"),)]
    assert triples(resolution) == [("TCP", "192.0.2.5", 5060)]


def test_maddr_is_the_target() -> None:
    zone = Zone().a("proxy.example.net", "192.0.2.40").a("example.com", "192.0.2.99")
    resolution, steps = resolve("sip:alice@example.com:5070;maddr=proxy.example.net", zone)
    assert steps == [(q("proxy.example.net", "A"),)]
    assert triples(resolution) == [("UDP", "192.0.2.40", 5070)]
    numeric, steps = resolve("sip:alice@example.com;maddr=[2001:db8::9]", zone)
    assert steps == []
    assert triples(numeric) == [("UDP", "2001:db8::9", 5060)]


# -- NAPTR (§4.1) ---------------------------------------------------------------------------


def rfc3263_example() -> Zone:
    """The records of RFC 3263 §4.1's example, with addresses added."""
    return (
        Zone()
        .naptr(
            "example.com",
            (50, 50, "s", "SIPS+D2T", "", "_sips._tcp.example.com"),
            (90, 50, "s", "SIP+D2T", "", "_sip._tcp.example.com"),
            (100, 50, "s", "SIP+D2U", "", "_sip._udp.example.com"),
        )
        .srv("_sips._tcp.example.com", (0, 1, 5061, "server1.example.com"))
        .srv("_sip._tcp.example.com", (0, 1, 5060, "server1.example.com"))
        .srv("_sip._udp.example.com", (0, 1, 5060, "server2.example.com"))
        .a("server1.example.com", "192.0.2.1")
        .a("server2.example.com", "192.0.2.2")
    )


def test_naptr_then_srv_then_a_in_order_of_the_naptr_records() -> None:
    resolution, steps = resolve("sip:user@example.com", rfc3263_example())
    assert steps[0] == (q("example.com", "NAPTR"),)
    assert set(steps[1]) == {
        q("_sips._tcp.example.com", "SRV"),
        q("_sip._tcp.example.com", "SRV"),
        q("_sip._udp.example.com", "SRV"),
    }
    assert set(steps[2]) == {q("server1.example.com", "A"), q("server2.example.com", "A")}
    assert triples(resolution) == [
        ("TLS", "192.0.2.1", 5061),
        ("TCP", "192.0.2.1", 5060),
        ("UDP", "192.0.2.2", 5060),
    ]


def test_naptr_services_the_client_lacks_are_discarded() -> None:
    # §4.1's own example: a client with TCP and UDP only uses TCP, then UDP.
    resolution, steps = resolve(
        "sip:user@example.com", rfc3263_example(), transports=("UDP", "TCP")
    )
    assert q("_sips._tcp.example.com", "SRV") not in steps[1]
    assert triples(resolution) == [("TCP", "192.0.2.1", 5060), ("UDP", "192.0.2.2", 5060)]


def test_sips_keeps_only_sips_naptr_services() -> None:
    resolution, steps = resolve("sips:user@example.com", rfc3263_example())
    assert steps[1] == (q("_sips._tcp.example.com", "SRV"),)
    assert triples(resolution) == [("TLS", "192.0.2.1", 5061)]
    assert resolution.destinations[0].domain == "example.com"


def test_naptr_preference_orders_records_of_equal_order() -> None:
    zone = (
        Zone()
        .naptr(
            "example.com",
            (10, 20, "S", "sip+d2u", "", "_sip._udp.example.com"),
            (10, 10, "s", "SIP+D2T", "", "_sip._tcp.example.com"),
        )
        .srv("_sip._udp.example.com", (0, 0, 5060, "h.example.com"))
        .srv("_sip._tcp.example.com", (0, 0, 5060, "h.example.com"))
        .a("h.example.com", "192.0.2.3")
    )
    resolution, _ = resolve("sip:user@example.com", zone)
    assert [d.transport for d in resolution.destinations] == ["TCP", "UDP"]


def test_unusable_naptr_records_are_discarded() -> None:
    zone = (
        Zone()
        .naptr(
            "example.com",
            (1, 1, "", "SIP+D2T", "", "_sip._tcp.other.example.com"),  # non-terminal
            (2, 1, "a", "SIP+D2T", "", "h.example.com"),  # flag a
            (3, 1, "s", "SIP+D2T", "!^.*$!x!", "_sip._tcp.example.com"),  # regexp
            (4, 1, "s", "SIPS+D2U", "", "_sips._udp.example.com"),  # TLS over UDP: nothing
            (5, 1, "s", "E2U+sip", "", "_sip._udp.example.com"),  # not a SIP service
            (6, 1, "s", "SIP+D2U", "", "_sip._udp.example.com"),  # the one usable record
        )
        .srv("_sip._udp.example.com", (0, 0, 5062, "h.example.com"))
        .a("h.example.com", "192.0.2.3")
    )
    resolution, steps = resolve("sip:user@example.com", zone)
    assert steps[1] == (q("_sip._udp.example.com", "SRV"),)
    assert triples(resolution) == [("UDP", "192.0.2.3", 5062)]


def test_naptr_websocket_services_rfc_7118() -> None:
    zone = (
        Zone()
        .naptr(
            "example.com",
            (10, 10, "s", "SIPS+D2W", "", "_sips._ws.example.com"),
            (20, 10, "s", "SIP+D2W", "", "_sip._ws.example.com"),
        )
        .srv("_sips._ws.example.com", (0, 0, 443, "ws.example.com"))
        .srv("_sip._ws.example.com", (0, 0, 80, "ws.example.com"))
        .a("ws.example.com", "192.0.2.50")
    )
    plain, _ = resolve("sip:user@example.com", zone, transports=("WS", "WSS"))
    secure, _ = resolve("sips:user@example.com", zone, transports=("WS", "WSS"))
    assert triples(plain) == [("WSS", "192.0.2.50", 443), ("WS", "192.0.2.50", 80)]
    assert triples(secure) == [("WSS", "192.0.2.50", 443)]


# -- SRV without NAPTR, and A only (§4.1, §4.2) --------------------------------------------


def test_without_naptr_srv_is_queried_per_supported_transport() -> None:
    zone = (
        Zone()
        .srv("_sip._tcp.example.com", (0, 0, 5070, "tcp.example.com"))
        .a("tcp.example.com", "192.0.2.20")
    )
    resolution, steps = resolve("sip:user@example.com", zone)
    assert steps[1] == (
        q("_sip._udp.example.com", "SRV"),
        q("_sip._tcp.example.com", "SRV"),
        q("_sips._tcp.example.com", "SRV"),
    )
    assert triples(resolution) == [("TCP", "192.0.2.20", 5070)]


def test_without_naptr_sips_queries_only_secure_srv() -> None:
    zone = (
        Zone()
        .srv("_sips._tcp.example.com", (0, 0, 5071, "t.example.com"))
        .a("t.example.com", "192.0.2.21")
    )
    resolution, steps = resolve("sips:user@example.com", zone)
    assert steps[1] == (q("_sips._tcp.example.com", "SRV"),)
    assert triples(resolution) == [("TLS", "192.0.2.21", 5071)]


def test_srv_priority_orders_targets() -> None:
    zone = (
        Zone()
        .srv(
            "_sip._udp.example.com",
            (20, 0, 5060, "backup.example.com"),
            (10, 0, 5060, "primary.example.com"),
            (30, 0, 5060, "last.example.com"),
        )
        .a("primary.example.com", "192.0.2.1")
        .a("backup.example.com", "192.0.2.2")
        .a("last.example.com", "192.0.2.3")
    )
    resolution, _ = resolve("sip:user@example.com;transport=udp", zone)
    assert [d.host for d in resolution.destinations] == [
        "primary.example.com",
        "backup.example.com",
        "last.example.com",
    ]


@pytest.mark.parametrize(("scheme", "expected"), [("sip", ("UDP", 5060)), ("sips", ("TLS", 5061))])
def test_no_naptr_no_srv_uses_a_records(scheme: str, expected: tuple[str, int]) -> None:
    resolution, steps = resolve(f"{scheme}:user@example.com", Zone().a("example.com", "192.0.2.9"))
    assert steps[-1] == (q("example.com", "A"),)
    assert triples(resolution) == [(expected[0], "192.0.2.9", expected[1])]


def test_srv_dot_target_means_not_available_and_stops_the_a_fallback() -> None:
    zone = Zone().srv("_sip._tcp.example.com", (0, 0, 0, ".")).a("example.com", "192.0.2.9")
    resolution, steps = resolve("sip:user@example.com;transport=tcp", zone)
    assert len(steps) == 1
    assert resolution.destinations == []
    assert resolution.failure_reason == "service_unavailable"


def test_aaaa_is_asked_only_when_ipv6_is_wanted() -> None:
    zone = Zone().a("example.com", "192.0.2.9").aaaa("example.com", "2001:db8::9")
    v4, steps = resolve("sip:user@example.com:5060", zone)
    assert steps == [(q("example.com", "A"),)]
    assert triples(v4) == [("UDP", "192.0.2.9", 5060)]
    both, steps = resolve("sip:user@example.com:5060", zone, families=(V6, V4))
    assert steps == [(q("example.com", "AAAA"), q("example.com", "A"))]
    assert [(d.family, d.address) for d in both.destinations] == [
        (V6, "2001:db8::9"),
        (V4, "192.0.2.9"),
    ]


def test_address_records_of_the_wrong_family_are_ignored() -> None:
    zone = Zone().a("example.com", "2001:db8::1", "not-an-address", "192.0.2.4")
    resolution, _ = resolve("sip:user@example.com:5060", zone)
    assert triples(resolution) == [("UDP", "192.0.2.4", 5060)]


def test_duplicate_destinations_are_dropped() -> None:
    zone = (
        Zone()
        .srv("_sip._udp.example.com", (0, 0, 5060, "a.example.com"), (1, 0, 5060, "b.example.com"))
        .a("a.example.com", "192.0.2.1")
        .a("b.example.com", "192.0.2.1", "192.0.2.2")
    )
    resolution, _ = resolve("sip:user@example.com;transport=udp", zone)
    assert triples(resolution) == [("UDP", "192.0.2.1", 5060), ("UDP", "192.0.2.2", 5060)]


# -- failures and bounds --------------------------------------------------------------------


def test_nothing_found_is_nxdomain() -> None:
    resolution, _ = resolve("sip:user@nowhere.example", Zone())
    assert resolution.destinations == []
    assert resolution.failure_reason == "nxdomain"


def test_a_failed_query_is_reported_when_nothing_is_found() -> None:
    zone = Zone().fail("nowhere.example", RecordType.A)
    resolution, _ = resolve("sip:user@nowhere.example:5060", zone)
    assert resolution.failure_reason == "dns_failure"


def test_a_failed_naptr_query_still_lets_srv_answer() -> None:
    zone = (
        Zone()
        .fail("example.com", RecordType.NAPTR)
        .srv("_sip._udp.example.com", (0, 0, 5060, "h.example.com"))
        .a("h.example.com", "192.0.2.1")
    )
    resolution, _ = resolve("sip:user@example.com", zone)
    assert triples(resolution) == [("UDP", "192.0.2.1", 5060)]
    assert resolution.failure_reason is None


def test_transport_the_client_lacks_is_unsupported() -> None:
    resolution, steps = resolve("sip:user@example.com;transport=sctp", Zone())
    assert steps == []
    assert resolution.failure_reason == "unsupported_transport"
    secure, steps = resolve("sips:user@example.com", Zone(), transports=("UDP", "TCP"))
    assert steps == []
    assert secure.failure_reason == "unsupported_transport"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("sips:user@example.com;transport=udp", "insecure_transport"),
        ("sip:user@example.com;transport=carrier-pigeon", "unsupported_transport"),
        ("tel:+15551234", "unsupported_uri_scheme"),
    ],
)
def test_lookups_that_cannot_be_made_raise_transport_error(uri: str, reason: str) -> None:
    with pytest.raises(TransportError) as caught:
        Lookup.from_uri(URI.parse(uri))
    assert caught.value.reason == reason


def test_bounds_on_hosts_and_destinations() -> None:
    zone = Zone().srv(
        "_sip._udp.example.com", *[(0, 0, 5060 + i, f"h{i}.example.com") for i in range(20)]
    )
    for i in range(20):
        zone.a(f"h{i}.example.com", f"192.0.2.{i}", f"198.51.100.{i}")
    limits = ResolveLimits(max_hosts=3, max_destinations=4)
    resolution, steps = resolve("sip:user@example.com;transport=udp", zone, limits=limits)
    assert len(steps[-1]) == 3
    assert len(resolution.destinations) == 4


def test_bound_on_records_per_answer() -> None:
    zone = Zone().a("example.com", *[f"192.0.2.{i}" for i in range(100)])
    limits = ResolveLimits(max_records_per_answer=5)
    resolution, _ = resolve("sip:user@example.com:5060", zone, limits=limits)
    assert [d.address for d in resolution.destinations] == [f"192.0.2.{i}" for i in range(5)]


def test_give_refuses_a_query_not_asked() -> None:
    resolution = Resolution(Lookup("example.com", 5060), rng=random.Random(0))
    with pytest.raises(ValueError):
        resolution.give(q("other.example.com", "A"), Answer.empty(1))
    with pytest.raises(RuntimeError):
        _ = resolution.destinations
    resolution.give(q("example.com", "A"), Answer.empty(1))
    assert resolution.finished
    with pytest.raises(ValueError):
        resolution.give(q("example.com", "A"), Answer.empty(1))


# -- §5: responses to a Via sent-by ----------------------------------------------------------


def test_sent_by_name_without_port_uses_srv_of_the_via_transport() -> None:
    zone = (
        Zone()
        .srv("_sips._tcp.client.example.com", (0, 0, 5063, "c.example.com"))
        .a("c.example.com", "192.0.2.60")
    )
    lookup = Lookup.from_sent_by("TLS", "client.example.com", None)
    resolution = Resolution(lookup, rng=random.Random(0))
    steps = drive(resolution, zone)
    assert steps[0] == (q("_sips._tcp.client.example.com", "SRV"),)
    assert triples(resolution) == [("TLS", "192.0.2.60", 5063)]


def test_sent_by_name_with_port_uses_a_records() -> None:
    zone = Zone().a("client.example.com", "192.0.2.61")
    resolution = Resolution(
        Lookup.from_sent_by("udp", "client.example.com", 5090), rng=random.Random(0)
    )
    steps = drive(resolution, zone)
    assert steps == [(q("client.example.com", "A"),)]
    assert triples(resolution) == [("UDP", "192.0.2.61", 5090)]
