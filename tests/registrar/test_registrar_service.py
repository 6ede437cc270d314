"""``RegistrarService`` on a real ``Stack`` over UDP loopback: REGISTER, re-REGISTER,
fetch, ``Contact: *``, 423, other methods, a failing store; and two stacks sharing one
Redis, as two nodes of one location service."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
from helpers.aio import async_test, recvfrom
from sippet import Message
from sippet.registrar import Binding, NotOurDomain, Registrar, RegistrarPolicy, Source
from sippet.registrar.service import RegistrarService, sweep_periodically
from sippet.registrar.store import LocationStore
from sippet.registrar.stores import MemoryStore
from sippet.registrar.stores.redis import RedisStore
from sippet.stack import Stack
from sippet.transactions import ServerKey
from sippet.transports import UDP
from sippet.uri import URI

from .conftest import FakeClock
from .sip import ALICE, DOMAIN, contact_expiries, status

HOST = "127.0.0.1"
TIMEOUT = 5.0


class Phone:
    """A UA on a plain UDP socket: sends REGISTERs as text, returns the final response."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]

    async def request(
        self,
        registrar: tuple[str, int],
        contacts: Sequence[str] = (),
        *,
        method: str = "REGISTER",
        call_id: str = "phone-1",
        cseq: int = 1,
        expires: int | None = None,
        to: str = ALICE,
        domain: str = DOMAIN,
    ) -> Message:
        branch = "z9hG4bK" + uuid.uuid4().hex
        lines = [
            f"{method} sip:{domain} SIP/2.0",
            f"Via: SIP/2.0/UDP {HOST}:{self.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"To: <{to}>",
            f"From: <{to}>;tag=ph1",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            *(f"Contact: {contact}" for contact in contacts),
            *([f"Expires: {expires}"] if expires is not None else []),
            "Content-Length: 0",
        ]
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), registrar)
        while True:
            data, _ = await asyncio.wait_for(recvfrom(self.sock, 65535), TIMEOUT)
            response = Message.parse(data)
            if branch == response.headers["via"][0].branch and status(response) >= 200:
                return response

    def close(self) -> None:
        self.sock.close()


@contextlib.asynccontextmanager
async def registrar_node(store: LocationStore, **options: object) -> AsyncIterator[tuple[str, int]]:
    """A stack on a free UDP port with a RegistrarService over ``store``."""
    stack = Stack(name="registrar")
    await stack.start()
    try:
        udp = await stack.add_transport(UDP(HOST, 0))
        registrar = Registrar(RegistrarPolicy.for_domains(DOMAIN, **options))
        stack.register_core(RegistrarService(stack, registrar, store))
        yield udp.local_address
    finally:
        await stack.close()


@async_test
async def test_register_refresh_fetch_and_remove_over_udp(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    phone = Phone()
    contact = f"<sip:alice@{HOST}:{phone.port}>"
    try:
        async with registrar_node(store) as address:
            response = await phone.request(address, [contact + ";expires=600"], cseq=1)
            assert status(response) == 200
            assert contact_expiries(response) == {f"sip:alice@{HOST}:{phone.port}": 600}
            (binding,) = await store.lookup(ALICE)
            # The source is where the REGISTER came from (received/rport stamped on Via).
            assert binding.source == Source("UDP", HOST, phone.port)

            clock.advance(200)
            response = await phone.request(address, [contact + ";expires=300"], cseq=2)
            assert contact_expiries(response) == {f"sip:alice@{HOST}:{phone.port}": 300}

            clock.advance(100)
            response = await phone.request(address, [], cseq=3)
            assert contact_expiries(response) == {f"sip:alice@{HOST}:{phone.port}": 200}

            response = await phone.request(address, ["*"], cseq=4, expires=0)
            assert status(response) == 200
            assert "contact" not in response.headers
            assert await store.lookup(ALICE) == ()
    finally:
        phone.close()


@async_test
async def test_too_brief_is_423_with_min_expires_over_udp(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    phone = Phone()
    try:
        async with registrar_node(store, min_expires=120) as address:
            response = await phone.request(address, ["<sip:alice@192.0.2.1>"], expires=60)
            assert status(response) == 423
            assert response.headers["min_expires"] == 120
            assert await store.lookup(ALICE) == ()
    finally:
        phone.close()


@async_test
async def test_other_methods_get_options_200_and_405(clock: FakeClock) -> None:
    phone = Phone()
    try:
        async with registrar_node(MemoryStore(clock)) as address:
            options = await phone.request(address, method="OPTIONS")
            assert status(options) == 200
            assert "REGISTER" in [str(method) for method in options.headers["allow"]]
            message = await phone.request(address, method="MESSAGE")
            assert status(message) == 405
    finally:
        phone.close()


@async_test
async def test_a_failing_store_is_answered_500(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    await store.close()
    phone = Phone()
    try:
        async with registrar_node(store) as address:
            response = await phone.request(address, ["<sip:alice@192.0.2.1>"])
            assert status(response) == 500
    finally:
        phone.close()


@async_test
async def test_two_stacks_sharing_one_redis(redis_url: str, clock: FakeClock) -> None:
    count = 10
    phones = [Phone() for _ in range(2 * count)]
    async with (
        RedisStore(redis_url, clock=clock) as first_store,
        RedisStore(redis_url, clock=clock) as second_store,
        registrar_node(first_store, max_bindings=4 * count) as first,
        registrar_node(second_store, max_bindings=4 * count) as second,
    ):
        try:
            response = await phones[0].request(first, ["<sip:alice@192.0.2.1>"], call_id="p0")
            assert status(response) == 200
            seen = await phones[1].request(second, [], call_id="other")
            assert contact_expiries(seen) == {"sip:alice@192.0.2.1": 3600}

            # Every phone registers its own contact at once, half through each node.
            responses = await asyncio.gather(
                *(
                    phone.request(
                        first if index % 2 else second,
                        [f"<sip:alice@198.51.100.{index}>"],
                        call_id=f"phone-{index}",
                    )
                    for index, phone in enumerate(phones)
                )
            )
            assert [status(response) for response in responses] == [200] * (2 * count)
            final = await phones[0].request(first, [], call_id="fetch")
        finally:
            for phone in phones:
                phone.close()
    expected = {"sip:alice@192.0.2.1"} | {f"sip:alice@198.51.100.{i}" for i in range(2 * count)}
    assert set(contact_expiries(final)) == expected


class CountingStore(MemoryStore):
    """A memory store that reports each sweep's count."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.swept: asyncio.Queue[int] = asyncio.Queue()

    async def sweep(self) -> int:
        removed = await super().sweep()
        self.swept.put_nowait(removed)
        return removed


@async_test
async def test_the_periodic_sweep_reclaims_expired_bindings(clock: FakeClock) -> None:
    store = CountingStore(clock)
    gone = Binding(URI.parse("sip:alice@192.0.2.1"), clock.now + 10, "c", 1)
    kept = Binding(URI.parse("sip:alice@192.0.2.2"), clock.now + 100, "c", 1)
    await store.update(ALICE, lambda current, now: ([gone, kept], None))
    clock.advance(10)
    task = asyncio.create_task(sweep_periodically(store, 0.01))
    try:
        assert await asyncio.wait_for(store.swept.get(), TIMEOUT) == 1
        assert await asyncio.wait_for(store.swept.get(), TIMEOUT) == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert await store.lookup(ALICE) == (kept,)


@async_test
async def test_forwarding_and_fallback_hand_requests_to_the_application(clock: FakeClock) -> None:
    policy = RegistrarPolicy.for_domains(DOMAIN, not_our_domain=NotOurDomain.FORWARD)
    stack = Stack(name="registrar")
    with pytest.raises(ValueError):
        RegistrarService(stack, Registrar(policy), MemoryStore(clock))
    handed: list[tuple[str, str]] = []

    async def handler(kind: str, request: Message, key: ServerKey | None) -> None:
        handed.append((kind, str(request.start_line.method)))  # type: ignore[union-attr]
        await stack.send(request.to_response(480))

    await stack.start()
    phone = Phone()
    try:
        udp = await stack.add_transport(UDP(HOST, 0))
        service = RegistrarService(
            stack,
            Registrar(policy),
            MemoryStore(clock),
            on_forward=lambda request, key: handler("forward", request, key),
            fallback=lambda request, key: handler("fallback", request, key),
        )
        stack.register_core(service)
        other = await phone.request(
            udp.local_address, ["<sip:a@h>"], to="sip:a@elsewhere.net", domain="elsewhere.net"
        )
        message = await phone.request(udp.local_address, method="MESSAGE")
    finally:
        phone.close()
        await stack.close()
    assert status(other) == 480
    assert status(message) == 480
    assert handed == [("forward", "REGISTER"), ("fallback", "MESSAGE")]
