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


# Faster constructors. The layer makes about four actions per transaction, and the
# ``__init__`` that dataclasses writes for a frozen class looks up ``object.__setattr__``
# for every field; storing through the slot descriptors directly is about a third cheaper.
# Same signatures, same frozen instances (assignment still raises FrozenInstanceError).
def _install_fast_inits() -> None:
    send_message = Send.__dict__["message"].__set__
    send_destination = Send.__dict__["destination"].__set__
    send_key = Send.__dict__["key"].__set__
    request_request = DeliverRequest.__dict__["request"].__set__
    request_key = DeliverRequest.__dict__["key"].__set__
    response_response = DeliverResponse.__dict__["response"].__set__
    response_key = DeliverResponse.__dict__["key"].__set__
    error_reason = DeliverError.__dict__["reason"].__set__
    error_key = DeliverError.__dict__["key"].__set__
    terminated_key = Terminated.__dict__["key"].__set__

    def send_init(self: Send, message: Message, destination: object, key: TransactionKey) -> None:
        send_message(self, message)
        send_destination(self, destination)
        send_key(self, key)

    def request_init(self: DeliverRequest, request: Message, key: ServerKey | None) -> None:
        request_request(self, request)
        request_key(self, key)

    def response_init(self: DeliverResponse, response: Message, key: ClientKey | None) -> None:
        response_response(self, response)
        response_key(self, key)

    def error_init(self: DeliverError, reason: str, key: TransactionKey) -> None:
        error_reason(self, reason)
        error_key(self, key)

    def terminated_init(self: Terminated, key: TransactionKey) -> None:
        terminated_key(self, key)

    setattr(Send, "__init__", send_init)  # noqa: B010 - mypy keeps the generated signature
    setattr(DeliverRequest, "__init__", request_init)  # noqa: B010
    setattr(DeliverResponse, "__init__", response_init)  # noqa: B010
    setattr(DeliverError, "__init__", error_init)  # noqa: B010
    setattr(Terminated, "__init__", terminated_init)  # noqa: B010


_install_fast_inits()
