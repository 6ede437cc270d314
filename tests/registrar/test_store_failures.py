"""A backend that cannot be reached is a ``StoreError("unavailable")``, never a hang."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers.aio import async_test
from sippet.registrar import StoreError
from sippet.registrar.stores import open_store

from .sip import ALICE


def closed_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@async_test
async def test_redis_that_is_not_there(tmp_path: Path) -> None:
    async with open_store(f"redis://127.0.0.1:{closed_tcp_port()}/0") as store:
        for operation in (
            store.lookup(ALICE),
            store.update(ALICE, lambda current, now: ([], None)),
            store.sweep(),
        ):
            with pytest.raises(StoreError) as caught:
                await operation
            assert caught.value.reason == "unavailable"


@async_test
async def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    async with open_store(f"sqlite:{tmp_path / 'missing-dir' / 'location.sqlite'}") as store:
        with pytest.raises(StoreError) as caught:
            await store.lookup(ALICE)
        assert caught.value.reason == "unavailable"


@pytest.mark.parametrize("url", ["", "memory", "sqlite:", "postgres://h/db", "redis:/x"])
def test_open_store_refuses_urls_it_does_not_know(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)
