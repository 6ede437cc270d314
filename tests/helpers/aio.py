"""asyncio helpers for the loopback socket tests: a portable ``recvfrom`` and a bounded
runner for async test functions."""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import Callable, Coroutine
from typing import Any

AsyncTest = Callable[..., Coroutine[Any, Any, None]]


async def recvfrom(sock: socket.socket, size: int) -> tuple[bytes, Any]:
    """``loop.sock_recvfrom`` for any event loop (uvloop lacks it): wait until readable."""
    while True:
        try:
            return sock.recvfrom(size)
        except BlockingIOError:
            await readable(sock)


async def readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


def async_test_within(seconds: float) -> Callable[[AsyncTest], Callable[..., None]]:
    """Decorator: run an async test in a fresh event loop, bounded by ``seconds``."""

    def decorate(function: AsyncTest) -> Callable[..., None]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            asyncio.run(asyncio.wait_for(function(*args, **kwargs), seconds))

        return wrapper

    return decorate


async_test = async_test_within(30)
