"""RFC 3263 resolution over the network: the asyncio adapter of ``Resolution`` on
dnspython's async resolver.

The adapter only does I/O: it asks the queries a ``Resolution`` names (those of one step
in parallel, at most ``ResolveLimits.max_concurrent_queries`` at a time across the
resolver), turns dnspython's answers into ``Answer`` values, and keeps them in a
``DnsCache`` on its clock. Two lookups that need the same query at the same time share
one request on the wire.

``DnsResolver`` serves the stack's ``sippet.resolver.Resolver`` interface (``resolve``:
A/AAAA for a host, port and transport already chosen) and the full RFC 3263 resolution
(``resolve_uri``, ``resolve_lookup``: NAPTR, SRV, then A/AAAA, as ordered ``Destination``
values for fail-over).
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import time
from collections.abc import Callable, Iterable

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
from dns.rdtypes.IN.NAPTR import NAPTR
from dns.rdtypes.IN.SRV import SRV

from sippet.errors import TransportError
from sippet.resolve.cache import DnsCache
from sippet.resolve.destination import Destination, IPFamily
from sippet.resolve.limits import ResolveLimits
from sippet.resolve.lookup import Lookup, ip_family
from sippet.resolve.records import (
    AddressRecord,
    Answer,
    NaptrRecord,
    Query,
    Record,
    RecordType,
    SrvRecord,
    normalize_name,
)
from sippet.resolve.resolution import Resolution
from sippet.resolve.srv import RandomSource
from sippet.resolve.transports import DEFAULT_TRANSPORTS, TRANSPORTS
from sippet.uri import URI

DNS_PORT = 53

_SOCKET_FAMILY: dict[IPFamily, int] = {
    IPFamily.IPV4: socket.AF_INET,
    IPFamily.IPV6: socket.AF_INET6,
}


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5353"``, ``"[::1]:5353"``, ``"192.0.2.53"`` -> ``(address, port)``.

    ``ValueError`` unless the host is an IP address (a name server named by a name would
    need a resolver to find it) and the port is in range."""
    host, port_text = text, ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad name server {text!r}: expected [ADDRESS]:PORT")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"bad name server {text!r}: not an IP address") from None
    if not port_text:
        return host, DNS_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad name server {text!r}: bad port")
    return host, int(port_text)


class DnsResolver:
    """Resolves SIP URIs and hosts through DNS (RFC 3263), with a cache.

    - ``nameserver``: ``"HOST:PORT"`` of the DNS server to ask; by default the system's
      (``/etc/resolv.conf``). ``TransportError`` (reason ``"no_nameserver"``) when there is
      no system configuration.
    - ``transports``: the transports this client has, in preference order (they decide
      which NAPTR and SRV services are followed).
    - ``families``: the address families to look up, in preference order; AAAA is asked
      only when ``IPFamily.IPV6`` is listed (a stack with an IPv6 transport lists it).
    - ``rng``: the random source of the RFC 2782 weighted order (seed it in tests).
    - ``clock``: seconds, for the cache (``time.monotonic`` by default; a fake in tests).

    Use one resolver per event loop: its query bound and shared queries belong to the loop
    that first uses them.
    """

    def __init__(
        self,
        nameserver: str | None = None,
        *,
        transports: Iterable[str] = DEFAULT_TRANSPORTS,
        families: Iterable[IPFamily] = (IPFamily.IPV4,),
        limits: ResolveLimits | None = None,
        rng: RandomSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits if limits is not None else ResolveLimits()
        self.transports = tuple(name.upper() for name in transports)
        self.families = tuple(families)
        self.cache = DnsCache(self.limits)
        self._rng: RandomSource = rng if rng is not None else random.Random()
        self._clock = clock
        self._dns = _dnspython_resolver(nameserver, self.limits.query_timeout)
        self._slots = asyncio.Semaphore(self.limits.max_concurrent_queries)
        self._in_flight: dict[Query, asyncio.Task[Answer]] = {}
        self.queries_sent = 0
        """Queries that went to the name server (cache misses), for statistics."""

    # -- the stack's Resolver interface ------------------------------------------------------

    async def resolve(self, host: str, port: int, transport: str) -> list[tuple[int, str, int]]:
        """``sippet.resolver.Resolver``: the addresses of ``host`` for a port and transport
        the caller chose already (RFC 3263 §4.2, explicit port: A/AAAA only), as
        ``(socket family, address, port)``. ``TransportError`` when there are none."""
        name = transport.upper()
        secure = name in TRANSPORTS and TRANSPORTS[name].secure
        lookup = Lookup(_host_of(host), port, name, secure)
        destinations = await self.resolve_lookup(lookup, transports=(name,))
        return [
            (_SOCKET_FAMILY[destination.family], destination.address, destination.port)
            for destination in destinations
        ]

    # -- RFC 3263 ------------------------------------------------------------------------------

    async def resolve_uri(self, uri: URI) -> list[Destination]:
        """RFC 3263 §4: the destinations of a SIP or SIPS URI, best first (try them in
        order on failure, §4.3). ``TransportError`` when there are none; its reason is a
        ``FailureReason`` code, or the ``Lookup.from_uri`` reason for a URI that cannot be
        resolved at all."""
        return await self.resolve_lookup(Lookup.from_uri(uri))

    async def resolve_lookup(
        self,
        lookup: Lookup,
        *,
        transports: Iterable[str] | None = None,
        families: Iterable[IPFamily] | None = None,
    ) -> list[Destination]:
        """The destinations of ``lookup`` (``Lookup.from_sent_by`` gives RFC 3263 §5's),
        with this resolver's transports and families unless the caller names others (the
        stack passes the transports it has, and IPv6 only when it has an IPv6 transport)."""
        resolution = Resolution(
            lookup,
            rng=self._rng,
            transports=self.transports if transports is None else transports,
            families=self.families if families is None else families,
            limits=self.limits,
        )
        while not resolution.finished:
            queries = resolution.queries
            answers = await asyncio.gather(*(self.query(query) for query in queries))
            for query, answer in zip(queries, answers, strict=True):
                resolution.give(query, answer)
        destinations = resolution.destinations
        if not destinations:
            reason = resolution.failure_reason or "nxdomain"
            raise TransportError(f"cannot resolve {lookup.host}: {reason}", reason=reason)
        return destinations

    async def query(self, query: Query) -> Answer:
        """The answer to one query: from the cache, or shared with the same query in
        flight, or asked of the name server. Never raises for DNS trouble: failures are
        ``Answer.failed()``."""
        cached = self.cache.get(query, self._clock())
        if cached is not None:
            return cached
        task = self._in_flight.get(query)
        if task is None:
            task = asyncio.ensure_future(self._ask(query))
            self._in_flight[query] = task
            task.add_done_callback(lambda _: self._in_flight.pop(query, None))
        # shield: one caller giving up does not cancel the query others wait for.
        return await asyncio.shield(task)

    async def _ask(self, query: Query) -> Answer:
        try:
            name = dns.name.from_text(query.name)
        except dns.exception.DNSException:
            return Answer.empty(0.0)  # not a name DNS can hold (empty or too long label)
        async with self._slots:
            self.queries_sent += 1
            answer = await self._ask_name_server(name, query.rtype)
        self.cache.put(query, answer, self._clock())
        return answer

    async def _ask_name_server(self, name: dns.name.Name, rtype: RecordType) -> Answer:
        try:
            result = await self._dns.resolve(
                name, rtype.value, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN as exc:
            responses = exc.kwargs.get("responses") or {}
            response = next(iter(responses.values()), None)
            return Answer.empty(negative_ttl(response, self.limits.negative_ttl))
        except (dns.exception.DNSException, OSError):
            # Timeout, SERVFAIL or REFUSED from every server, malformed replies, a socket
            # error (ICMP unreachable).
            return Answer.failed()
        if result.rrset is None:
            return Answer.empty(negative_ttl(result.response, self.limits.negative_ttl))
        records = _records(result.rrset, rtype)[: self.limits.max_records_per_answer]
        return Answer.found(records, float(result.chaining_result.minimum_ttl))


def negative_ttl(response: dns.message.Message | None, default: float) -> float:
    """RFC 2308 §5: a negative answer lives for the SOA record's TTL, at most the SOA
    minimum field; ``default`` when the response carries no SOA."""
    if response is not None:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                return float(min(rrset.ttl, rrset[0].minimum))
    return default


def _dnspython_resolver(nameserver: str | None, timeout: float) -> dns.asyncresolver.Resolver:
    if nameserver is None:
        try:
            resolver = dns.asyncresolver.Resolver(configure=True)
        except dns.resolver.NoResolverConfiguration as exc:
            raise TransportError(
                f"no system DNS configuration: {exc}", reason="no_nameserver"
            ) from exc
    else:
        address, port = parse_nameserver(nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = timeout
    resolver.cache = None  # the DnsCache above keeps answers, with its bounds
    return resolver


def _host_of(host: str) -> str:
    return host if ip_family(host) is not None else normalize_name(host)


def _records(rrset: Iterable[object], rtype: RecordType) -> tuple[Record, ...]:
    """dnspython rdata -> the pure resolver's record values."""
    records: list[Record] = []
    for rdata in rrset:
        if isinstance(rdata, NAPTR):
            records.append(
                NaptrRecord(
                    rdata.order,
                    rdata.preference,
                    rdata.flags.decode("ascii", "replace"),
                    rdata.service.decode("ascii", "replace"),
                    rdata.regexp.decode("ascii", "replace"),
                    normalize_name(rdata.replacement.to_text()),
                )
            )
        elif isinstance(rdata, SRV):
            target = normalize_name(rdata.target.to_text())
            records.append(SrvRecord(rdata.priority, rdata.weight, rdata.port, target))
        elif rtype in (RecordType.A, RecordType.AAAA):
            address = getattr(rdata, "address", None)
            if isinstance(address, str):
                records.append(AddressRecord(address))
    return tuple(records)
