"""``run``: ``asyncio.run`` on uvloop when it is installed (it is optional: ``sippet[fast]``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool = True) -> T:
    """Run ``main`` to completion in a new event loop, uvloop's when available."""
    if use_uvloop:
        try:
            import uvloop  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            pass
        else:
            return uvloop.run(main)  # type: ignore[no-any-return, unused-ignore]
    return asyncio.run(main)
