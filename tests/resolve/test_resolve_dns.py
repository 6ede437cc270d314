"""The dnspython adapter against a real DNS server (dnsmasq on loopback)."""

from __future__ import annotations

import asyncio
import math
import random
import socket
from collections import Counter

import dns.message
import dns.rrset
import pytest
from helpers.aio import async_test
from sippet.errors import TransportError
from sippet.resolve import IPFamily, Lookup, ResolveLimits
from sippet.resolve.dns_resolver import DnsResolver, negative_ttl, parse_nameserver
from sippet.uri import URI

from .dns_zone import DOMAIN, HOSTS
from .dnsmasq_server import Dnsmasq, StartDnsmasq, free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resolver_for(server: Dnsmasq, **options: object) -> DnsResolver:
    options.setdefault("rng", random.Random(3263))
    return DnsResolver(server.address, **options)  # type: ignore[arg-type]


async def targets(resolver: DnsResolver, uri: str) -> list[tuple[str, str, int, str]]:
    found = await resolver.resolve_uri(URI.parse(uri))
    return [(d.transport, d.address, d.port, d.host) for d in found]


@async_test
async def test_naptr_then_srv_then_a(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    assert await targets(resolver, f"sip:ping@naptr.{DOMAIN}") == [
        ("TLS", "127.0.0.1", 5061, f"h1.{DOMAIN}"),
        ("TCP", "127.0.0.1", 5060, f"h1.{DOMAIN}"),
        ("UDP", "127.0.0.2", 5062, f"h2.{DOMAIN}"),
    ]
    # NAPTR, three SRV, two A: each asked once.
    assert resolver.queries_sent == 6


@async_test
async def test_naptr_transport_choice_follows_the_client_transports(dnsmasq: Dnsmasq) -> None:
    udp_only = resolver_for(dnsmasq, transports=("UDP",))
    assert await targets(udp_only, f"sip:ping@naptr.{DOMAIN}") == [
        ("UDP", "127.0.0.2", 5062, f"h2.{DOMAIN}")
    ]
    tcp_udp = resolver_for(dnsmasq, transports=("UDP", "TCP"))
    found = await targets(tcp_udp, f"sip:ping@naptr.{DOMAIN}")
    assert [t[0] for t in found] == ["TCP", "UDP"]


@async_test
async def test_sips_yields_tls_only(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    found = await resolver.resolve_uri(URI.parse(f"sips:ping@naptr.{DOMAIN}"))
    assert [(d.transport, d.address, d.port) for d in found] == [("TLS", "127.0.0.1", 5061)]
    assert found[0].domain == f"naptr.{DOMAIN}"  # the name TLS verifies (RFC 5922 §4.1)
    assert await targets(resolver, f"sips:ping@srv.{DOMAIN}") == [
        ("TLS", "127.0.0.3", 5074, f"h3.{DOMAIN}")
    ]


@async_test
async def test_srv_only_priority_order(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq, transports=("UDP",))
    assert await targets(resolver, f"sip:ping@srv.{DOMAIN}") == [
        ("UDP", "127.0.0.1", 5070, f"h1.{DOMAIN}"),
        ("UDP", "127.0.0.2", 5071, f"h2.{DOMAIN}"),
        ("UDP", "127.0.0.3", 5072, f"h3.{DOMAIN}"),
    ]


@async_test
async def test_srv_only_all_client_transports_in_preference_order(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq, transports=("TCP", "UDP"))
    found = await targets(resolver, f"sip:ping@srv.{DOMAIN}")
    assert found[0] == ("TCP", "127.0.0.3", 5073, f"h3.{DOMAIN}")
    assert [t[0] for t in found[1:]] == ["UDP", "UDP", "UDP"]


@async_test
async def test_explicit_transport_picks_its_srv(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    assert await targets(resolver, f"sip:ping@srv.{DOMAIN};transport=tcp") == [
        ("TCP", "127.0.0.3", 5073, f"h3.{DOMAIN}")
    ]


@async_test
async def test_a_only_domain(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    assert await targets(resolver, f"sip:ping@plain.{DOMAIN}") == [
        ("UDP", "127.0.0.4", 5060, f"plain.{DOMAIN}")
    ]
    assert await targets(resolver, f"sips:ping@plain.{DOMAIN}") == [
        ("TLS", "127.0.0.4", 5061, f"plain.{DOMAIN}")
    ]


@async_test
async def test_aaaa_only_when_ipv6_is_asked(dnsmasq: Dnsmasq) -> None:
    v4 = resolver_for(dnsmasq)
    assert [t[1] for t in await targets(v4, f"sip:ping@plain.{DOMAIN}:5999")] == ["127.0.0.4"]
    both = resolver_for(dnsmasq, families=(IPFamily.IPV6, IPFamily.IPV4))
    found = await both.resolve_uri(URI.parse(f"sip:ping@plain.{DOMAIN}:5999"))
    assert [(d.family, d.address, d.port) for d in found] == [
        (IPFamily.IPV6, "::1", 5999),
        (IPFamily.IPV4, "127.0.0.4", 5999),
    ]


@async_test
async def test_dot_srv_target_is_service_unavailable(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    with pytest.raises(TransportError) as caught:
        await resolver.resolve_uri(URI.parse(f"sip:ping@closed.{DOMAIN};transport=tcp"))
    assert caught.value.reason == "service_unavailable"
    # UDP is not closed: no SRV, so A at the default port.
    assert await targets(resolver, f"sip:ping@closed.{DOMAIN};transport=udp") == [
        ("UDP", "127.0.0.9", 5060, f"closed.{DOMAIN}")
    ]


@async_test
async def test_unknown_name_is_nxdomain(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    with pytest.raises(TransportError) as caught:
        await resolver.resolve_uri(URI.parse(f"sip:ping@nowhere.{DOMAIN}"))
    assert caught.value.reason == "nxdomain"


@async_test
async def test_weighted_distribution_within_a_priority(dnsmasq: Dnsmasq) -> None:
    # RFC 2782 draw: weights 0, 10, 30 (zeros first; 41 equally likely draws 0..40):
    # weight 0 comes first on draw 0, weight 10 on 10 draws, weight 30 on 30.
    runs = 2000
    clock = FakeClock()  # frozen: every run after the first is answered from the cache
    resolver = resolver_for(dnsmasq, rng=random.Random(2782), clock=clock)
    firsts: Counter[int] = Counter()
    for _ in range(runs):
        found = await resolver.resolve_uri(URI.parse(f"sip:ping@weighted.{DOMAIN}"))
        assert sorted(d.port for d in found) == [5080, 5081, 5082]
        firsts[found[0].port] += 1
    # NAPTR, SRV for UDP, TCP and TLS, three A: the cache answered all the other runs.
    assert resolver.queries_sent == 7
    for port, probability in ((5082, 1 / 41), (5080, 10 / 41), (5081, 30 / 41)):
        sigma = math.sqrt(runs * probability * (1 - probability))
        assert abs(firsts[port] - runs * probability) <= 5 * sigma, (port, firsts)


@async_test
async def test_concurrent_lookups_share_queries(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq, limits=ResolveLimits(max_concurrent_queries=2))
    results = await asyncio.gather(
        *(targets(resolver, f"sip:ping@naptr.{DOMAIN}") for _ in range(20))
    )
    assert all(result == results[0] for result in results)
    assert resolver.queries_sent == 6


@async_test
async def test_a_cancelled_lookup_does_not_cancel_the_shared_query(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    uri = URI.parse(f"sip:ping@naptr.{DOMAIN}")
    abandoned = asyncio.ensure_future(resolver.resolve_uri(uri))
    kept = asyncio.ensure_future(resolver.resolve_uri(uri))
    await asyncio.sleep(0)  # both are now waiting on the same NAPTR query
    abandoned.cancel()
    found = await kept
    assert [str(d) for d in found] == [
        f"tls:127.0.0.1:5061 (h1.{DOMAIN})",
        f"tcp:127.0.0.1:5060 (h1.{DOMAIN})",
        f"udp:127.0.0.2:5062 (h2.{DOMAIN})",
    ]
    assert abandoned.cancelled()
    assert resolver.queries_sent == 6


@async_test
async def test_answers_expire_with_their_ttl(start_dnsmasq: StartDnsmasq) -> None:
    first = start_dnsmasq([f"--host-record=moving.{DOMAIN},127.0.0.5"], ttl=30)
    clock = FakeClock()
    resolver = resolver_for(first, clock=clock)
    uri = f"sip:ping@moving.{DOMAIN}:5060"
    assert [t[1] for t in await targets(resolver, uri)] == ["127.0.0.5"]
    first.stop()
    start_dnsmasq([f"--host-record=moving.{DOMAIN},127.0.0.6"], ttl=30, port=first.port)
    clock.now += 29
    assert [t[1] for t in await targets(resolver, uri)] == ["127.0.0.5"]  # cached
    clock.now += 1
    assert [t[1] for t in await targets(resolver, uri)] == ["127.0.0.6"]  # TTL over


@async_test
async def test_negative_answers_are_cached(start_dnsmasq: StartDnsmasq) -> None:
    first = start_dnsmasq(HOSTS)
    clock = FakeClock()
    resolver = resolver_for(first, clock=clock, limits=ResolveLimits(negative_ttl=20))
    uri = f"sip:ping@late.{DOMAIN}:5060"
    with pytest.raises(TransportError):
        await resolver.resolve_uri(URI.parse(uri))
    first.stop()
    start_dnsmasq([*HOSTS, f"--host-record=late.{DOMAIN},127.0.0.7"], port=first.port)
    clock.now += 19
    with pytest.raises(TransportError) as caught:
        await resolver.resolve_uri(URI.parse(uri))  # still the cached NXDOMAIN
    assert caught.value.reason == "nxdomain"
    clock.now += 1
    assert [t[1] for t in await targets(resolver, uri)] == ["127.0.0.7"]


@async_test
async def test_names_dns_cannot_hold_are_not_found(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    for host in ("bad..name.sippet.test", "x" * 64 + ".sippet.test"):
        with pytest.raises(TransportError) as caught:
            await resolver.resolve(host, 5060, "UDP")
        assert caught.value.reason == "nxdomain"
    assert resolver.queries_sent == 0
    assert len(resolver.cache) == 0


@async_test
async def test_dead_name_server_is_a_dns_failure() -> None:
    resolver = DnsResolver(
        f"127.0.0.1:{free_port()}", limits=ResolveLimits(query_timeout=1.0, failure_ttl=0)
    )
    with pytest.raises(TransportError) as caught:
        await resolver.resolve_uri(URI.parse(f"sip:ping@plain.{DOMAIN}:5060"))
    assert caught.value.reason == "dns_failure"


# -- the stack's Resolver interface -----------------------------------------------------------


@async_test
async def test_resolver_interface_gives_socket_families(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq, families=(IPFamily.IPV4, IPFamily.IPV6))
    assert await resolver.resolve(f"plain.{DOMAIN}", 5070, "UDP") == [
        (socket.AF_INET, "127.0.0.4", 5070),
        (socket.AF_INET6, "::1", 5070),
    ]
    assert await resolver.resolve("127.0.0.1", 5070, "udp") == [(socket.AF_INET, "127.0.0.1", 5070)]
    assert resolver.queries_sent == 2
    with pytest.raises(TransportError) as caught:
        await resolver.resolve(f"nowhere.{DOMAIN}", 5060, "UDP")
    assert caught.value.reason == "nxdomain"


@async_test
async def test_sent_by_lookup_rfc_3263_section_5(dnsmasq: Dnsmasq) -> None:
    resolver = resolver_for(dnsmasq)
    found = await resolver.resolve_lookup(Lookup.from_sent_by("TCP", f"srv.{DOMAIN}", None))
    assert [(d.transport, d.address, d.port) for d in found] == [("TCP", "127.0.0.3", 5073)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example.com:53", "127.0.0.1:0", "127.0.0.1:x", "[::1"])
def test_parse_nameserver_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nameserver(text)


def test_negative_ttl_is_the_soa_ttl_capped_by_its_minimum() -> None:
    response = dns.message.make_response(dns.message.make_query("x.sippet.test", "A"))
    assert negative_ttl(response, 60.0) == 60.0  # no SOA: the default
    soa = "ns.sippet.test. admin.sippet.test. 1 3600 600 86400 {minimum}"
    response.authority.append(
        dns.rrset.from_text("sippet.test", 900, "IN", "SOA", soa.format(minimum=300))
    )
    assert negative_ttl(response, 60.0) == 300.0
    response.authority[0] = dns.rrset.from_text(
        "sippet.test", 120, "IN", "SOA", soa.format(minimum=300)
    )
    assert negative_ttl(response, 60.0) == 120.0
