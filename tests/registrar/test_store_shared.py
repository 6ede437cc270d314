"""Two clients of one store, as two nodes share one location service: the same SQLite
file, or the same Redis server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from helpers.aio import async_test
from sippet.registrar import (
    Binding,
    Registrar,
    RegistrarPolicy,
    Registration,
    Source,
    StoreError,
)
from sippet.registrar.stores.redis import RedisStore
from sippet.uri import URI

from .conftest import FakeClock, StoreFactory
from .sip import ALICE, DOMAIN, register, status

PER_CLIENT = 15
"""Concurrent updates each client makes (bounded: the test ends in seconds)."""


@async_test
async def test_an_update_through_one_client_is_seen_through_the_other(
    make_shared_store: StoreFactory, clock: FakeClock
) -> None:
    written = Binding(URI.parse("sip:alice@192.0.2.1"), clock.now + 60, "c", 1)
    async with make_shared_store() as first, make_shared_store() as second:
        await first.update(ALICE, lambda current, now: ([written], None))
        assert await second.lookup(ALICE) == (written,)
        await second.update(ALICE, lambda current, now: ([], None))
        assert await first.lookup(ALICE) == ()


@async_test
async def test_concurrent_updates_through_both_clients_keep_every_binding(
    make_shared_store: StoreFactory, clock: FakeClock
) -> None:
    def adder(name: str):  # type: ignore[no-untyped-def]
        def compute(current: tuple[Binding, ...], now: float) -> tuple[list[Binding], None]:
            added = Binding(URI.parse(f"sip:{name}@192.0.2.1"), now + 600, name, 1)
            return [*current, added], None

        return compute

    async with make_shared_store() as first, make_shared_store() as second:
        updates = [
            client.update(ALICE, adder(f"{label}{index}"))
            for index in range(PER_CLIENT)
            for label, client in (("a", first), ("b", second))
        ]
        await asyncio.wait_for(asyncio.gather(*updates), 60)
        seen = {b.call_id for b in await second.lookup(ALICE)}
    expected = {f"{label}{index}" for index in range(PER_CLIENT) for label in "ab"}
    assert seen == expected


@async_test
async def test_concurrent_registers_through_two_registrars_keep_every_binding(
    make_shared_store: StoreFactory, clock: FakeClock
) -> None:
    """Each UA registers its own contact (its own Call-ID) through either node at once."""
    registrar = Registrar(RegistrarPolicy.for_domains(DOMAIN, max_bindings=2 * PER_CLIENT))

    async def send(store, index: int) -> int:  # type: ignore[no-untyped-def]
        request = register([f"<sip:ua{index}@192.0.2.{index}>"], call_id=f"ua{index}@h")
        outcome = registrar.receive(request, Source("UDP", f"192.0.2.{index}", 5060))
        assert isinstance(outcome, Registration)
        return status(outcome.respond(await store.update(outcome.aor, outcome.apply)))

    async with make_shared_store() as first, make_shared_store() as second:
        codes = await asyncio.wait_for(
            asyncio.gather(
                *(send(first if index % 2 else second, index) for index in range(2 * PER_CLIENT))
            ),
            60,
        )
        contacts = {str(b.contact) for b in await first.lookup(ALICE)}
    assert codes == [200] * (2 * PER_CLIENT)
    assert contacts == {f"sip:ua{index}@192.0.2.{index}" for index in range(2 * PER_CLIENT)}


@async_test
async def test_a_corrupt_record_is_a_store_error_not_a_crash(
    shared_kind: str, make_shared_store: StoreFactory, clock: FakeClock, tmp_path: Path
) -> None:
    """Data another program wrote badly reads as ``StoreError("corrupt")``, which the
    registrar answers with 500."""
    async with make_shared_store() as store:
        await store.update(ALICE, lambda current, now: ([], None))  # creates the schema
        if shared_kind == "sqlite":
            with sqlite3.connect(tmp_path / "location.sqlite") as db:
                db.execute(
                    "INSERT INTO bindings VALUES (?, 0, 'sip:x@y', ?, '{\"v\": 1}')",
                    (ALICE, clock.now + 60),
                )
        else:
            assert isinstance(store, RedisStore)
            await store._client.set(store.prefix + ALICE, b"[{not json")
        with pytest.raises(StoreError) as caught:
            await store.lookup(ALICE)
        assert caught.value.reason == "corrupt"
        registrar = Registrar(RegistrarPolicy.for_domains(DOMAIN))
        outcome = registrar.receive(register(["<sip:alice@192.0.2.1>"]))
        assert isinstance(outcome, Registration)
        with pytest.raises(StoreError):
            await store.update(outcome.aor, outcome.apply)
