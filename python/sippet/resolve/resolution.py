"""RFC 3263 §4.1-§4.2 as a sans-I/O exchange: the resolution asks for DNS queries, the
caller answers them, and the resolution ends with the ordered list of destinations.

    resolution = Resolution(Lookup.from_uri(uri), rng=random.Random())
    while not resolution.finished:
        for query in resolution.queries:
            resolution.give(query, answer_from_somewhere(query))
    resolution.destinations   # best first; empty: see resolution.failure_reason

The queries of one step are independent and may be asked in parallel: the NAPTR query;
then the SRV queries of every usable service; then the A (and AAAA) queries of every SRV
target. Numeric hosts ask nothing, explicit ports skip NAPTR and SRV (§4.2).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TypeVar

from sippet.resolve.destination import Destination, IPFamily
from sippet.resolve.limits import ResolveLimits
from sippet.resolve.lookup import Lookup, ip_family
from sippet.resolve.naptr import Service, naptr_services
from sippet.resolve.records import (
    AddressRecord,
    Answer,
    NaptrRecord,
    Outcome,
    Query,
    RecordType,
    SrvRecord,
    normalize_name,
)
from sippet.resolve.srv import RandomSource, is_unavailable, order_srv
from sippet.resolve.transports import DEFAULT_TRANSPORTS, TRANSPORTS, default_port

_R = TypeVar("_R", NaptrRecord, SrvRecord, AddressRecord)

Step = Generator[tuple[Query, ...], dict[Query, Answer], list[Destination]]

_ADDRESS_TYPES: dict[IPFamily, RecordType] = {
    IPFamily.IPV4: RecordType.A,
    IPFamily.IPV6: RecordType.AAAA,
}


class FailureReason:
    """Why a resolution found no destination (``TransportError.reason`` codes)."""

    NXDOMAIN = "nxdomain"
    """DNS said the names have no usable records."""
    DNS_FAILURE = "dns_failure"
    """At least one query got no answer (timeout, SERVFAIL), and nothing was found."""
    SERVICE_UNAVAILABLE = "service_unavailable"
    """SRV said the service is decidedly not available (RFC 2782 target ``.``)."""
    UNSUPPORTED_TRANSPORT = "unsupported_transport"
    """The URI asks for a transport this client does not have."""


class Resolution:
    """One RFC 3263 resolution of a ``Lookup``.

    ``transports``: the transports this client can use, in preference order (a ``sips:``
    lookup only ever uses the secure ones). ``families``: the address families to look up,
    in preference order (AAAA is asked only when ``IPFamily.IPV6`` is listed). ``rng``
    orders SRV records of equal priority (RFC 2782); pass a seeded ``random.Random`` for
    reproducible orders.
    """

    def __init__(
        self,
        lookup: Lookup,
        *,
        rng: RandomSource,
        transports: Iterable[str] = DEFAULT_TRANSPORTS,
        families: Iterable[IPFamily] = (IPFamily.IPV4,),
        limits: ResolveLimits | None = None,
    ) -> None:
        self.lookup = lookup
        self.transports = tuple(name.upper() for name in transports)
        self.families = tuple(families)
        if not self.families:
            raise ValueError("families must name at least one address family")
        self.limits = limits if limits is not None else ResolveLimits()
        self._rng = rng
        self._answers: dict[Query, Answer] = {}
        self._asked: tuple[Query, ...] = ()
        self._destinations: list[Destination] | None = None
        self._saw_failure = False
        self._saw_unavailable = False
        self._unsupported = False
        self._steps = self._resolve()
        self._advance(None)

    # -- the exchange ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._destinations is not None

    @property
    def queries(self) -> tuple[Query, ...]:
        """The queries of the current step not answered yet (empty once finished)."""
        return tuple(query for query in self._asked if query not in self._answers)

    def give(self, query: Query, answer: Answer) -> None:
        """The answer to one of ``queries``; the next step starts when all are answered.

        ``ValueError`` for a query that was not asked (or was answered already)."""
        if query not in self._asked or query in self._answers:
            raise ValueError(f"{query} is not awaiting an answer")
        self._answers[query] = answer
        if answer.outcome is Outcome.FAILED:
            self._saw_failure = True
        if not self.queries:
            answers = {asked: self._answers[asked] for asked in self._asked}
            self._advance(answers)

    @property
    def destinations(self) -> list[Destination]:
        """The destinations, best first (``RuntimeError`` before ``finished``)."""
        if self._destinations is None:
            raise RuntimeError("the resolution has not finished; answer its queries")
        return list(self._destinations)

    @property
    def failure_reason(self) -> str | None:
        """Why ``destinations`` is empty (a ``FailureReason`` code), or ``None``."""
        if self._destinations is None or self._destinations:
            return None
        if self._unsupported:
            return FailureReason.UNSUPPORTED_TRANSPORT
        if self._saw_failure:
            return FailureReason.DNS_FAILURE
        if self._saw_unavailable:
            return FailureReason.SERVICE_UNAVAILABLE
        return FailureReason.NXDOMAIN

    def _advance(self, answers: dict[Query, Answer] | None) -> None:
        while True:
            try:
                asked = next(self._steps) if answers is None else self._steps.send(answers)
            except StopIteration as done:
                self._asked = ()
                self._destinations = done.value[: self.limits.max_destinations]
                return
            # The same question may come back in a later step: it was answered already.
            answers = {query: self._answers[query] for query in asked if query in self._answers}
            if len(answers) < len(asked):
                self._asked = asked
                return

    # -- RFC 3263 ---------------------------------------------------------------------------

    def _resolve(self) -> Step:
        lookup = self.lookup
        allowed = self._allowed_transports()
        if not allowed or (lookup.transport is not None and lookup.transport not in allowed):
            self._unsupported = True
            return []
        family = ip_family(lookup.host)
        if family is not None:
            # §4.1, §4.2: a numeric TARGET needs no DNS.
            transport = lookup.transport or self._default_transport(allowed)
            port = lookup.port if lookup.port is not None else default_port(transport)
            address = lookup.host
            return [Destination(transport, family, address, port, address, address)]
        if lookup.port is not None:
            # §4.2: a name with an explicit port: A/AAAA only, at that port.
            transport = lookup.transport or self._default_transport(allowed)
            return (yield from self._addresses([(transport, lookup.host, lookup.port)]))
        services, fallback = yield from self._services(allowed)
        return (yield from self._servers(services, fallback))

    def _services(
        self, allowed: tuple[str, ...]
    ) -> Generator[tuple[Query, ...], dict[Query, Answer], tuple[list[Service], list[str]]]:
        """The SRV names to query and the transports to fall back on, in order (§4.1)."""
        lookup = self.lookup
        host = lookup.host
        if lookup.transport is not None:
            label = TRANSPORTS[lookup.transport].srv_label
            return [Service(lookup.transport, f"{label}.{host}")], [lookup.transport]
        naptr_query = Query.of(host, RecordType.NAPTR)
        answers = yield (naptr_query,)
        records = self._records(answers[naptr_query], NaptrRecord)
        services = naptr_services(records, secure_only=lookup.secure, transports=allowed)
        if services:
            services = services[: self.limits.max_services]
            return services, [service.transport for service in services]
        # §4.1: no NAPTR: an SRV query per supported transport; without SRV records, UDP
        # for sip: and TLS (TCP under TLS) for sips:.
        services = [
            Service(transport, f"{TRANSPORTS[transport].srv_label}.{host}")
            for transport in allowed[: self.limits.max_services]
        ]
        default = self._default_transport(allowed)
        return services, [default] + [name for name in allowed if name != default]

    def _servers(self, services: list[Service], fallback: list[str]) -> Step:
        """§4.2: the SRV records of each service in RFC 2782 order, then their addresses;
        without any SRV record, the host's A/AAAA at the default port."""
        queries = {
            service.srv_name: Query.of(service.srv_name, RecordType.SRV) for service in services
        }
        answers = yield tuple(dict.fromkeys(queries.values()))
        hosts: list[tuple[str, str, int]] = []
        unavailable: set[str] = set()
        for service in services:
            records = self._records(answers[queries[service.srv_name]], SrvRecord)
            if is_unavailable(records):
                unavailable.add(service.transport)
                self._saw_unavailable = True
                continue
            hosts.extend(
                (service.transport, normalize_name(record.target), record.port)
                for record in order_srv(records, self._rng)
                if record.port != 0  # nothing can be sent to port 0
            )
        if hosts:
            return (yield from self._addresses(hosts))
        transport = next((name for name in fallback if name not in unavailable), None)
        if transport is None:
            return []
        host = self.lookup.host
        return (yield from self._addresses([(transport, host, default_port(transport))]))

    def _addresses(self, hosts: list[tuple[str, str, int]]) -> Step:
        """The addresses of each ``(transport, name, port)``, in order, duplicates dropped."""
        hosts = hosts[: self.limits.max_hosts]
        queries = {
            (name, family): Query.of(name, _ADDRESS_TYPES[family])
            for _, name, _ in hosts
            if ip_family(name) is None
            for family in self.families
        }
        answers: dict[Query, Answer] = {}
        if queries:
            answers = yield tuple(dict.fromkeys(queries.values()))
        domain = self.lookup.host
        destinations: list[Destination] = []
        seen: set[tuple[str, str, int]] = set()
        for transport, name, port in hosts:
            for family, address in self._host_addresses(name, queries, answers):
                if (transport, address, port) in seen:
                    continue
                seen.add((transport, address, port))
                destinations.append(Destination(transport, family, address, port, name, domain))
        return destinations

    def _host_addresses(
        self,
        name: str,
        queries: dict[tuple[str, IPFamily], Query],
        answers: dict[Query, Answer],
    ) -> list[tuple[IPFamily, str]]:
        literal = ip_family(name)
        if literal is not None:
            return [(literal, name)]  # an SRV target written as an address: used as is
        found: list[tuple[IPFamily, str]] = []
        for family in self.families:
            for record in self._records(answers[queries[name, family]], AddressRecord):
                # A record of the wrong family or not an address at all is ignored.
                if ip_family(record.address) is family:
                    found.append((family, record.address))
        return found

    # -- helpers ----------------------------------------------------------------------------

    def _allowed_transports(self) -> tuple[str, ...]:
        """The client's transports a lookup may use: only secure ones for ``sips:``."""
        names = [name for name in self.transports if name in TRANSPORTS]
        if self.lookup.secure:
            names = [name for name in names if TRANSPORTS[name].secure]
        return tuple(names)

    def _default_transport(self, allowed: tuple[str, ...]) -> str:
        """§4.1: UDP for sip:, TLS (RFC 3263 says TCP: TCP under TLS) for sips:, when the
        client has it; else its most preferred transport (``allowed`` is not empty)."""
        preferred = "TLS" if self.lookup.secure else "UDP"
        return preferred if preferred in allowed else allowed[0]

    def _records(self, answer: Answer, kind: type[_R]) -> list[_R]:
        """The records of ``kind`` in ``answer``, at most ``max_records_per_answer``."""
        chosen = [record for record in answer.records if isinstance(record, kind)]
        return chosen[: self.limits.max_records_per_answer]
