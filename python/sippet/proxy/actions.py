"""What the proxy core asks of the layer below: the actions it returns.

The core decides; the binder (``sippet.proxy.service``) carries the actions out, in order,
on a ``sippet.Stack``. Every action is an immutable named tuple.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from sippet.message import Message
from sippet.transactions import TransactionKey


class SendRequest(NamedTuple):
    """Forward ``request`` through a new client transaction (RFC 3261 §16.6 step 10).

    The request's top Via carries the branch the core chose, so the client key is
    ``ClientKey(branch, method)``: the core finds the branch again from it. A CANCEL of a
    branch (§16.10) is such a request too, with the branch of the INVITE it cancels.
    """

    request: Message


class SendResponse(NamedTuple):
    """Send ``response`` through the server transaction of the request it answers."""

    response: Message


class SendStateless(NamedTuple):
    """Send ``message`` straight to the transport, without a transaction: stateless
    forwarding (§16.11) and the ACK of a 2xx, which has no transaction downstream
    (§13.2.2.4)."""

    message: Message


class EndTransaction(NamedTuple):
    """End the stack's transaction ``key`` at once. A stateless proxy ends the server
    transaction of each request it forwards: it keeps no state and must not send a 100
    (Trying) (§16.11). A stateful proxy ends a branch that outlived Timer C and the
    CANCEL that followed it (§16.8)."""

    key: TransactionKey


class Lookup(NamedTuple):
    """The core needs the target set of a request (RFC 3261 §16.5): the application answers
    with ``forward(handle, targets, now)`` or ``reject(handle, status, now)``.

    ``request`` is the request after validation and route preprocessing (§16.3, §16.4);
    its Request-URI is in one of the proxy's domains and no Route is left.
    """

    handle: int
    request: Message


ProxyAction: TypeAlias = SendRequest | SendResponse | SendStateless | EndTransaction | Lookup
