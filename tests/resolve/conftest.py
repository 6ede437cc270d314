"""Fixtures for the resolver tests: a real DNS server (dnsmasq) with a SIP test domain.

dnsmasq is required: when it is missing the tests FAIL (CI installs it with apt), they are
never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from .dns_zone import DOMAIN, TTL, ZONE
from .dnsmasq_server import Dnsmasq, StartDnsmasq


@pytest.fixture(scope="session")
def dnsmasq() -> Iterator[Dnsmasq]:
    """dnsmasq serving ``ZONE`` on a free loopback port for the whole session."""
    server = Dnsmasq(ZONE, domain=DOMAIN, ttl=TTL).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_dnsmasq() -> Iterator[StartDnsmasq]:
    """Start dnsmasq instances with given records (``port=`` to reuse a stopped one's
    port); every one is stopped afterwards."""
    servers: list[Dnsmasq] = []

    def start(records: Sequence[str], *, ttl: int = TTL, port: int = 0) -> Dnsmasq:
        server = Dnsmasq(records, domain=DOMAIN, ttl=ttl, port=port)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
