"""Names that stand for a connection: the ``.invalid`` hosts of clients reached only over it.

RFC 7118 §5 and Appendix B.1: a WebSocket client cannot learn its own address, so it names
itself with a random ``.invalid`` host (RFC 6761 §6.4: never resolves) in its Via sent-by
and Contact, and requests and responses for it must follow its connection. The transport
layer learns such a name from each request that arrives over a connection and, when a
message is addressed to that name (a Request-URI from a registered Contact, a Via), sends
it on the connection the name came from, for as long as that connection is open.

Pure bookkeeping, no I/O. Bounded: at most ``MAX_NAMES_PER_CONNECTION`` names per
connection (the newest kept), and every name leaves with its connection.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sippet.transports.invalid_names import is_invalid_host

__all__ = ["MAX_NAMES_PER_CONNECTION", "ConnectionNames", "is_invalid_host"]

MAX_NAMES_PER_CONNECTION = 8
"""A client uses one or two names (Via and Contact); a connection that claims more keeps
its newest, so that one peer cannot fill the table."""


ConnectionT = TypeVar("ConnectionT", bound=Hashable)


class ConnectionNames(Generic[ConnectionT]):
    """Which connection each ``.invalid`` name stands for.

    A connection is whatever the caller uses to find it again (the transport layer: a
    ``Peer``). A name held by one connection is not taken by another while ``is_open``
    says the first is open: a client cannot capture another client's requests.
    """

    def __init__(self, is_open: Callable[[ConnectionT], bool]) -> None:
        self._is_open = is_open
        self._connection_of: dict[str, ConnectionT] = {}
        self._names_of: dict[ConnectionT, list[str]] = {}

    def __len__(self) -> int:
        return len(self._connection_of)

    def learn(self, name: str, connection: ConnectionT) -> bool:
        """Let ``name`` stand for ``connection``; ``False`` (and nothing changes) when
        another connection that is still open holds it."""
        name = _key(name)
        holder = self._connection_of.get(name)
        if holder == connection:
            return True
        if holder is not None:
            if self._is_open(holder):
                return False
            self._drop(name, holder)
        names = self._names_of.setdefault(connection, [])
        if len(names) >= MAX_NAMES_PER_CONNECTION:
            del self._connection_of[names.pop(0)]
        names.append(name)
        self._connection_of[name] = connection
        return True

    def holder(self, name: str) -> ConnectionT | None:
        """The open connection ``name`` stands for, if any."""
        connection = self._connection_of.get(_key(name))
        if connection is None or not self._is_open(connection):
            return None
        return connection

    def forget(self, connection: ConnectionT) -> None:
        """``connection`` closed: its names stand for nothing any more."""
        for name in self._names_of.pop(connection, ()):
            del self._connection_of[name]

    def _drop(self, name: str, holder: ConnectionT) -> None:
        del self._connection_of[name]
        names = self._names_of.get(holder)
        if names is not None:
            names.remove(name)
            if not names:
                del self._names_of[holder]


def _key(name: str) -> str:
    # RFC 3261 §19.1.4: host names compare case-insensitively.
    return name.rstrip(".").lower()
