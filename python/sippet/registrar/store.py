"""The location store: the asynchronous interface every backend implements.

A store keeps the bindings of each AOR (``sippet.registrar.Binding``), indexed by
``aor_key``. Its contract:

- ``update(aor, compute)`` is atomic for one AOR: ``compute`` gets the AOR's live bindings
  and the store's ``now`` and returns ``(new_bindings, result)``; the new set replaces the
  old one as a whole, or nothing is written when ``new_bindings`` is ``None``. Two updates
  of one AOR never interleave, whichever node or task runs them (RFC 3261 §10.3: each
  REGISTER "processed completely or not at all", "independently of any other"). ``compute``
  may run more than once (optimistic backends retry it on a conflict), so it must be a pure
  function of its arguments.
- Expiry needs no sweeper to be correct: ``lookup`` and ``update`` never show a binding
  whose ``expires_at`` is not after the store's ``now``. ``sweep`` only reclaims space.
- Failures are ``StoreError`` (a backend that cannot be reached, or an update that kept
  conflicting); the registrar answers them with 500 (§10.3 step 7: a failed commit).

The stores are the I/O side of the registrar; the registrar core (``core.py``) is pure and
reaches them only through ``update``'s ``compute`` function.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Self, TypeVar

from sippet.errors import SippetError
from sippet.registrar.binding import Binding

T = TypeVar("T")

Compute = Callable[[tuple[Binding, ...], float], tuple[Sequence[Binding] | None, T]]
"""``compute(live_bindings, now) -> (new_bindings or None, result)``."""


class StoreError(SippetError):
    """The location store failed; ``reason``: ``"unavailable"`` (the backend could not be
    reached or answered an error), ``"conflict"`` (an update lost every retry to
    concurrent writers), ``"closed"`` (the store was used after ``close``)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class LocationStore(abc.ABC):
    """Bindings per AOR, shared by a registrar (which writes) and proxies (which read).

    Use as ``async with store:`` or call ``close`` when done.
    """

    @abc.abstractmethod
    async def lookup(self, aor: str) -> tuple[Binding, ...]:
        """The live bindings of ``aor`` (an ``aor_key``), in the order they were stored."""

    @abc.abstractmethod
    async def update(self, aor: str, compute: Compute[T]) -> T:
        """Replace the bindings of ``aor`` atomically with what ``compute`` returns, and
        return its result (see the module docstring)."""

    @abc.abstractmethod
    async def sweep(self) -> int:
        """Delete expired bindings to reclaim space; returns how many were deleted (a
        backend that expires data itself may return 0)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the backend's resources; calling it twice is harmless."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def live(bindings: Sequence[Binding], now: float) -> tuple[Binding, ...]:
    """The bindings still live at ``now``: what every store hands out."""
    return tuple(binding for binding in bindings if binding.expires_at > now)
