"""The location store contract, one suite run against every store: in memory, SQLite on
a real file, and Redis (a real redis-server on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from helpers.aio import async_test
from sippet.headers import NameAddr
from sippet.registrar import Binding, Registrar, RegistrarPolicy, Registration, Source, StoreError
from sippet.registrar.store import LocationStore
from sippet.uri import URI

from .conftest import FakeClock, StoreFactory
from .sip import ALICE, DOMAIN, contact_expiries, register, status

BOB = "sip:bob@example.com"


def binding(contact: str, expires_at: float, *, cseq: int = 1, **fields: object) -> Binding:
    return Binding(URI.parse(contact), expires_at, "call-1", cseq, **fields)  # type: ignore[arg-type]


class Recorder:
    """A ``compute`` that writes ``new`` (``None``: nothing), returns ``result``, and
    records what the store gave it."""

    def __init__(self, new: Sequence[Binding] | None, result: object = None) -> None:
        self.new = new
        self.result = result
        self.seen: list[tuple[tuple[Binding, ...], float]] = []

    def __call__(
        self, current: tuple[Binding, ...], now: float
    ) -> tuple[Sequence[Binding] | None, object]:
        self.seen.append((current, now))
        return self.new, self.result


async def put(store: LocationStore, aor: str, *bindings: Binding) -> None:
    await store.update(aor, lambda current, now: (list(bindings), None))


@async_test
async def test_an_unknown_aor_has_no_bindings(make_store: StoreFactory) -> None:
    async with make_store() as store:
        assert await store.lookup(ALICE) == ()


@async_test
async def test_every_field_reads_back_as_written(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    full = Binding(
        contact=URI.parse("sip:user@example.com;transport=tcp?Route=%3Csip:sip.example.com%3E"),
        expires_at=clock.now + 3600.25,
        call_id="c@h",
        cseq=2**31,
        q=0.125,
        params={"+sip.instance": "<urn:uuid:1234>", "reg-id": "2", "unknownparam": None},
        display_name="Alice Smith",
        path=(
            NameAddr("", URI.parse("sip:p1.example.com;lr"), {}),
            NameAddr("Edge", URI.parse("sip:p2.example.net;lr"), {"ob": None}),
        ),
        source=Source("TLS", "2001:db8::7", 50123, "flow-9"),
        updated_at=clock.now,
    )
    bare = binding("sip:alice@192.0.2.1", clock.now + 60)
    other_scheme = binding("tel:+1-201-555-0123;ext=22", clock.now + 60)
    async with make_store() as store:
        await put(store, ALICE, full, bare, other_scheme)
        assert await store.lookup(ALICE) == (full, bare, other_scheme)


@async_test
async def test_compute_sees_the_live_bindings_and_the_store_clock(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    first = binding("sip:a@h1", clock.now + 10)
    second = binding("sip:a@h2", clock.now + 100)
    async with make_store() as store:
        await put(store, ALICE, first, second)
        clock.advance(10)
        compute = Recorder(None, "done")
        assert await store.update(ALICE, compute) == "done"
        assert compute.seen == [((second,), clock.now)]


@async_test
async def test_none_writes_nothing(make_store: StoreFactory, clock: FakeClock) -> None:
    kept = binding("sip:a@h1", clock.now + 10)
    async with make_store() as store:
        await put(store, ALICE, kept)
        await store.update(ALICE, Recorder(None))
        assert await store.lookup(ALICE) == (kept,)


@async_test
async def test_an_empty_set_removes_the_aor(make_store: StoreFactory, clock: FakeClock) -> None:
    async with make_store() as store:
        await put(store, ALICE, binding("sip:a@h1", clock.now + 10))
        await put(store, ALICE)
        assert await store.lookup(ALICE) == ()


@async_test
async def test_expired_bindings_are_never_returned_without_a_sweep(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    async with make_store() as store:
        await put(
            store, ALICE, binding("sip:a@h1", clock.now + 30), binding("sip:a@h2", clock.now + 60)
        )
        clock.advance(30)
        assert [str(b.contact) for b in await store.lookup(ALICE)] == ["sip:a@h2"]
        clock.advance(30)
        assert await store.lookup(ALICE) == ()


@async_test
async def test_sweep_deletes_only_expired_bindings(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    async with make_store() as store:
        await put(
            store, ALICE, binding("sip:a@h1", clock.now + 30), binding("sip:a@h2", clock.now + 90)
        )
        await put(store, BOB, binding("sip:b@h1", clock.now + 30))
        clock.advance(60)
        assert await store.sweep() == 2
        assert await store.sweep() == 0
        assert [str(b.contact) for b in await store.lookup(ALICE)] == ["sip:a@h2"]
        assert await store.lookup(BOB) == ()


@async_test
async def test_aors_are_independent(make_store: StoreFactory, clock: FakeClock) -> None:
    a = binding("sip:a@h1", clock.now + 30)
    b = binding("sip:b@h1", clock.now + 30)
    async with make_store() as store:
        await put(store, ALICE, a)
        await put(store, BOB, b)
        await put(store, ALICE)
        assert await store.lookup(BOB) == (b,)


@async_test
async def test_a_failing_compute_writes_nothing_and_its_error_surfaces(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    kept = binding("sip:a@h1", clock.now + 30)

    def broken(current: tuple[Binding, ...], now: float) -> tuple[list[Binding], None]:
        raise RuntimeError("boom")

    async with make_store() as store:
        await put(store, ALICE, kept)
        with pytest.raises(RuntimeError, match="boom"):
            await store.update(ALICE, broken)
        assert await store.lookup(ALICE) == (kept,)
        await put(store, BOB, kept)  # the store still works afterwards
        assert await store.lookup(BOB) == (kept,)


@async_test
async def test_a_closed_store_refuses_work(make_store: StoreFactory) -> None:
    store = make_store()
    await store.close()
    await store.close()
    with pytest.raises(StoreError) as caught:
        await store.lookup(ALICE)
    assert caught.value.reason == "closed"


@async_test
async def test_concurrent_updates_of_one_aor_keep_every_binding(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    count = 20

    def adder(index: int):  # type: ignore[no-untyped-def]
        def compute(current: tuple[Binding, ...], now: float) -> tuple[list[Binding], None]:
            return [*current, binding(f"sip:a@h{index}", now + 600)], None

        return compute

    async with make_store() as store:
        await asyncio.wait_for(
            asyncio.gather(*(store.update(ALICE, adder(i)) for i in range(count))), 20
        )
        contacts = {str(b.contact) for b in await store.lookup(ALICE)}
    assert contacts == {f"sip:a@h{i}" for i in range(count)}


@async_test
async def test_the_registrar_over_the_store(make_store: StoreFactory, clock: FakeClock) -> None:
    registrar = Registrar(RegistrarPolicy.for_domains(DOMAIN))

    async def send(request):  # type: ignore[no-untyped-def]
        outcome = registrar.receive(request, Source("UDP", "192.0.2.10", 5060))
        assert isinstance(outcome, Registration)
        return outcome.respond(await store.update(outcome.aor, outcome.apply))

    async with make_store() as store:
        response = await send(register(["<sip:alice@192.0.2.10>;expires=600"], cseq=1))
        assert contact_expiries(response) == {"sip:alice@192.0.2.10": 600}
        clock.advance(100)
        response = await send(register([], cseq=2))
        assert contact_expiries(response) == {"sip:alice@192.0.2.10": 500}
        # A fetch writes nothing, so the binding still holds CSeq 1.
        stale = await send(register(["<sip:alice@192.0.2.10>;expires=0"], cseq=1))
        assert status(stale) == 400
        response = await send(register(["*"], cseq=3, expires=0))
        assert status(response) == 200
        assert await store.lookup(ALICE) == ()
