"""What the transaction layer asks the stack to do: the outputs of every input.

Each input to ``TransactionLayer`` returns a list of these, in the order they must be
carried out. They are plain frozen values; the stack pattern-matches on them
(``case Send(message, destination, key): ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from sippet.message import Message
from sippet.transactions.keys import ClientKey, ServerKey, TransactionKey


@dataclass(frozen=True, slots=True)
class Send:
    """Pass ``message`` to the transport for ``destination``.

    ``destination`` is the opaque object the stack gave: the ``destination`` of
    ``send_request`` for a client transaction, the ``source`` of ``receive_request`` for a
    server transaction (RFC 3261 §17.1.1.2: the ACK goes where the INVITE went).
    """

    message: Message
    destination: object
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class DeliverRequest:
    """Hand a request to the TU. ``key`` is None when no server transaction holds it: the
    ACK of a 2xx (RFC 3261 §17.2.3, RFC 6026 §7.1), or a request that collides with an
    RFC 2543 transaction without being its retransmission (a merged request, §8.2.2.2)."""

    request: Message
    key: ServerKey | None


@dataclass(frozen=True, slots=True)
class DeliverResponse:
    """Hand a response to the TU. ``key`` is None for a stray response: one whose top Via
    branch and CSeq method match no client transaction (RFC 3261 §17.1.3), such as a 2xx
    retransmission arriving after Timer M ended the INVITE transaction."""

    response: Message
    key: ClientKey | None


@dataclass(frozen=True, slots=True)
class DeliverError:
    """Tell the TU a transaction failed: ``reason`` is ``"timeout"`` (Timers B, F; H: no
    ACK came) or the transport's reason string given to ``transport_error``."""

    reason: str
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class Terminated:
    """The transaction ended and was removed from the layer (RFC 3261 §17: "destroyed
    immediately"). Always the last action about that key."""

    key: TransactionKey


Action: TypeAlias = Send | DeliverRequest | DeliverResponse | DeliverError | Terminated
"""Any output of the transaction layer."""
