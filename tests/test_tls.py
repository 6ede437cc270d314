"""TLS transport on loopback (RFC 3261 §18, §26.2): certificates made by trustme per test
session (never committed keys), verification by host name (SNI) or IP, mutual TLS, and
failures reported to the Core with the transaction's key."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import pytest
import trustme
from helpers.aio import async_test
from sippet.resolver import ResolvedAddress
from sippet.stack import Stack
from sippet.transports import TLS
from test_tcp import Recorder, bracket, get, options

HOSTS = [pytest.param("127.0.0.1", id="ipv4"), pytest.param("::1", id="ipv6")]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(
    cert: trustme.LeafCert, *, client_ca: trustme.CA | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS
        client_ca.configure_trust(context)
    return context


def client_context(ca: trustme.CA, cert: trustme.LeafCert | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if cert is not None:
        cert.configure_cert(context)
    return context


class MapResolver:
    """Resolves the names in ``table``, so that a test can use a certificate's host name."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def resolve(self, host: str, port: int, transport: str) -> list[ResolvedAddress]:
        address = self.table.get(host, host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, address, port)]


async def tls_stack(
    host: str, server: ssl.SSLContext, client: ssl.SSLContext, **options: Any
) -> tuple[Stack, Recorder, TLS]:
    stack = Stack(name=f"tls-{host}", **options)
    await stack.start()
    transport = TLS(host, 0, ssl_context=server, client_context=client)
    await stack.add_transport(transport)
    core = Recorder(stack)
    stack.register_core(core)
    return stack, core, transport


@pytest.mark.parametrize("host", HOSTS)
@async_test
async def test_options_over_tls_verified_by_ip(ca: trustme.CA, host: str) -> None:
    cert = ca.issue_cert("127.0.0.1", "::1")
    a, a_core, a_tls = await tls_stack(host, server_context(cert), client_context(ca))
    b, b_core, b_tls = await tls_stack(host, server_context(cert), client_context(ca))
    try:
        b_host, b_port = b_tls.local_address
        key = await a.send(
            options(f"sips:bob@{bracket(b_host)}:{b_port}", a_tls.local_address, "TLS")
        )
        request, _ = await get(b_core.requests)
        assert request.headers["via"][0].protocol == "TLS"
        response, client_key = await get(a_core.responses)
        assert response.start_line.status_code == 200 and client_key == key
        assert a_tls.connection_count == 1 and b_tls.connection_count == 1
    finally:
        await a.close()
        await b.close()


@async_test
async def test_server_name_is_verified_sni(ca: trustme.CA) -> None:
    """The certificate names sip.test, not the address: a sips: URI with the name works."""
    cert = ca.issue_cert("sip.test")
    resolver = MapResolver({"sip.test": "127.0.0.1"})
    a, a_core, a_tls = await tls_stack(
        "127.0.0.1", server_context(cert), client_context(ca), resolver=resolver
    )
    b, b_core, b_tls = await tls_stack("127.0.0.1", server_context(cert), client_context(ca))
    try:
        port = b_tls.local_address[1]
        await a.send(options(f"sips:bob@sip.test:{port}", a_tls.local_address, "TLS"))
        await get(b_core.requests)
        response, _ = await get(a_core.responses)
        assert response.start_line.status_code == 200
    finally:
        await a.close()
        await b.close()


@async_test
async def test_certificate_for_another_host_fails_verification(ca: trustme.CA) -> None:
    cert = ca.issue_cert("other.test")
    resolver = MapResolver({"sip.test": "127.0.0.1"})
    a, a_core, a_tls = await tls_stack(
        "127.0.0.1", server_context(cert), client_context(ca), resolver=resolver
    )
    b, b_core, b_tls = await tls_stack("127.0.0.1", server_context(cert), client_context(ca))
    try:
        port = b_tls.local_address[1]
        key = await a.send(options(f"sips:bob@sip.test:{port}", a_tls.local_address, "TLS"))
        reason, error_key = await get(a_core.errors)
        assert reason == "tls_verification_failed" and error_key == key
        assert b_core.requests.empty()
    finally:
        await a.close()
        await b.close()


@async_test
async def test_untrusted_ca_fails_verification(ca: trustme.CA) -> None:
    other_ca = trustme.CA()
    cert = other_ca.issue_cert("127.0.0.1")
    a, a_core, a_tls = await tls_stack("127.0.0.1", server_context(cert), client_context(ca))
    b, _b_core, b_tls = await tls_stack("127.0.0.1", server_context(cert), client_context(ca))
    try:
        port = b_tls.local_address[1]
        key = await a.send(options(f"sips:bob@127.0.0.1:{port}", a_tls.local_address, "TLS"))
        assert await get(a_core.errors) == ("tls_verification_failed", key)
    finally:
        await a.close()
        await b.close()


@async_test
async def test_mutual_tls(ca: trustme.CA) -> None:
    client_ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = client_ca.issue_cert("client.test")
    b, b_core, b_tls = await tls_stack(
        "127.0.0.1", server_context(server_cert, client_ca=client_ca), client_context(ca)
    )
    with_cert, wc_core, wc_tls = await tls_stack(
        "127.0.0.1", server_context(server_cert), client_context(ca, client_cert)
    )
    without, wo_core, wo_tls = await tls_stack(
        "127.0.0.1", server_context(server_cert), client_context(ca)
    )
    try:
        port = b_tls.local_address[1]
        await with_cert.send(options(f"sips:bob@127.0.0.1:{port}", wc_tls.local_address, "TLS"))
        response, _ = await get(wc_core.responses)
        assert response.start_line.status_code == 200
        key = await without.send(options(f"sips:bob@127.0.0.1:{port}", wo_tls.local_address, "TLS"))
        reason, error_key = await get(wo_core.errors)
        assert error_key == key
        assert reason in ("tls_handshake_failed", "connection_closed")
        # Only the request with a client certificate reached the server's core.
        request, _ = await get(b_core.requests)
        assert request.headers["via"][0].sent_by.port == wc_tls.local_address[1]
        assert b_core.requests.empty()
    finally:
        await b.close()
        await with_cert.close()
        await without.close()


@async_test
async def test_sips_is_never_sent_over_tcp(ca: trustme.CA) -> None:
    """RFC 3261 §26.2.2: no TLS transport, no sending: not a downgrade to TCP."""
    from sippet.transports import TCP

    stack = Stack(name="tcp-only")
    await stack.start()
    try:
        tcp = TCP("127.0.0.1", 0)
        await stack.add_transport(tcp)
        core = Recorder(stack)
        stack.register_core(core)
        key = await stack.send(options("sips:bob@127.0.0.1:5061", tcp.local_address, "TLS"))
        assert await get(core.errors) == ("no_transport", key)
        assert tcp.connection_count == 0
        key = await stack.send(
            options("sip:bob@127.0.0.1:5061;transport=tls", tcp.local_address, "TLS")
        )
        assert await get(core.errors) == ("no_transport", key)
    finally:
        await stack.close()


@async_test
async def test_handshake_that_never_comes_is_cut_off(ca: trustme.CA) -> None:
    """A TCP connection to the TLS port that never says hello is closed after
    handshake_timeout, and counted against the limits meanwhile."""
    from sippet.transports import StreamLimits
    from test_tcp import RawStream

    stack = Stack(name="tls-handshake")
    await stack.start()
    try:
        tls = TLS(
            "127.0.0.1",
            0,
            ssl_context=server_context(ca.issue_cert("127.0.0.1")),
            stream_limits=StreamLimits(handshake_timeout=0.3),
        )
        await stack.add_transport(tls)
        raw = await RawStream.connect(tls.local_address)
        while tls.connection_count == 0:
            await asyncio.sleep(0.01)
        assert await raw.closed_by_peer()
        assert tls.connection_count == 0
    finally:
        await stack.close()
