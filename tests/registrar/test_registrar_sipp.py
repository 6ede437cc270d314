"""SIPp as the UAs: tests/data/sipp/register.xml (register, refresh, fetch, 423,
``Contact: *``) against ``RegistrarService`` on UDP loopback, with each store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers.aio import async_test_within
from interop.sip_peers import DATA, HOST, Sipp, find_tool
from sippet.registrar import Registrar, RegistrarPolicy
from sippet.registrar.service import RegistrarService
from sippet.registrar.store import LocationStore
from sippet.registrar.stores import open_store
from sippet.stack import Stack
from sippet.transports import UDP

SCENARIO = DATA / "sipp" / "register.xml"
CALLS = 30
"""Registration life cycles (five transactions each), 15 per second."""


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return f"sqlite:{tmp_path / 'location.sqlite'}"
    return str(request.getfixturevalue("redis_url"))


@async_test_within(90)
async def test_sipp_register_scenario_has_no_failed_call(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    find_tool("sipp")
    store: LocationStore = open_store(store_url(store_kind, tmp_path, request))
    stack = Stack(name="registrar")
    await stack.start()
    try:
        udp = await stack.add_transport(UDP(HOST, 0))
        registrar = Registrar(RegistrarPolicy.for_domains("example.com", min_expires=60))
        stack.register_core(RegistrarService(stack, registrar, store))
        sipp = Sipp(
            tmp_path,
            f"register-{store_kind}",
            ["-sf", str(SCENARIO), f"{HOST}:{udp.local_address[1]}", "-r", "15"],
            calls=CALLS,
            timeout=60,
        )
        run = await asyncio.to_thread(sipp.run)
        remaining = [await store.lookup(f"sip:user{n}@example.com") for n in range(1, CALLS + 1)]
    finally:
        await stack.close()
        await store.close()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), run.report()
    assert run.returncode == 0, run.report()
    # Every call ended with Contact: *, so no binding is left.
    assert remaining == [()] * CALLS
