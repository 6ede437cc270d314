"""What the transaction layer asks the stack to do: the outputs of every input.

Each input to ``TransactionLayer`` returns a list of these, in the order they must be
carried out. They are immutable named tuples; the stack pattern-matches on them
(``case Send(message, destination, key): ...``) or dispatches on ``type(action)``.

Named tuples rather than frozen dataclasses because the layer makes three to five of them
per transaction: the layer builds them with ``tuple.__new__`` (one C call, see ``new``),
about 40% cheaper than a frozen dataclass. Equality stays the equality of values *of one
class*: ``DeliverRequest(m, k) != DeliverResponse(m, k)``, unlike plain tuples.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from sippet.message import Message
from sippet.transactions.keys import ClientKey, ServerKey, TransactionKey

new = tuple.__new__
"""``new(Send, (message, destination, key))`` builds an action without the Python-level
``__new__`` that ``NamedTuple`` writes (same instance as ``Send(message, destination, key)``).
"""


def _same_class_eq(self: tuple[object, ...], other: object) -> bool:
    return self.__class__ is other.__class__ and tuple.__eq__(self, other)


def _same_class_ne(self: tuple[object, ...], other: object) -> bool:
    return not _same_class_eq(self, other)


def _hash(self: tuple[object, ...]) -> int:
    return hash((self.__class__.__name__, tuple(self)))


class Send(NamedTuple):
    """Pass ``message`` to the transport for ``destination``.

    ``destination`` is the opaque object the stack gave: the ``destination`` of
    ``send_request`` for a client transaction, the ``source`` of ``receive_request`` for a
    server transaction (RFC 3261 §17.1.1.2: the ACK goes where the INVITE went).
    """

    message: Message
    destination: object
    key: TransactionKey


class DeliverRequest(NamedTuple):
    """Hand a request to the TU. ``key`` is None when no server transaction holds it: the
    ACK of a 2xx (RFC 3261 §17.2.3, RFC 6026 §7.1), or a request that collides with an
    RFC 2543 transaction without being its retransmission (a merged request, §8.2.2.2)."""

    request: Message
    key: ServerKey | None


class DeliverResponse(NamedTuple):
    """Hand a response to the TU. ``key`` is None for a stray response: one whose top Via
    branch and CSeq method match no client transaction (RFC 3261 §17.1.3), such as a 2xx
    retransmission arriving after Timer M ended the INVITE transaction."""

    response: Message
    key: ClientKey | None


class DeliverError(NamedTuple):
    """Tell the TU a transaction failed: ``reason`` is ``"timeout"`` (Timers B, F; H: no
    ACK came) or the transport's reason string given to ``transport_error``."""

    reason: str
    key: TransactionKey


class Terminated(NamedTuple):
    """The transaction ended and was removed from the layer (RFC 3261 §17: "destroyed
    immediately"). Always the last action about that key."""

    key: TransactionKey


for _class in (Send, DeliverRequest, DeliverResponse, DeliverError, Terminated):
    # Set after the class statement: in a NamedTuple body, mypy would take them for fields.
    setattr(_class, "__eq__", _same_class_eq)  # noqa: B010
    setattr(_class, "__ne__", _same_class_ne)  # noqa: B010
    setattr(_class, "__hash__", _hash)  # noqa: B010

Action: TypeAlias = Send | DeliverRequest | DeliverResponse | DeliverError | Terminated
"""Any output of the transaction layer."""
