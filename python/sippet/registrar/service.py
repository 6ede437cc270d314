"""The registrar on a ``sippet.Stack``: the thin asyncio binding of ``Registrar`` and a
``LocationStore``.

``RegistrarService`` is a ``sippet.Core``. A REGISTER goes through ``Registrar.receive``;
an accepted one through ``store.update`` and back to the registrar for the 200; the
response goes to the stack. Other requests: OPTIONS gets 200 with Allow (§11.2), CANCEL 481
(a REGISTER is answered at once, so there is nothing left to cancel, §9.2), ACK is absorbed,
anything else 405 with Allow (§8.2.1), unless a ``fallback`` takes them (a proxy composed
with the registrar).

Where the REGISTER came from (``Source``) is read from its top Via, which the stack stamps
with ``received`` and ``rport`` (RFC 3261 §18.2.1, RFC 3581 §4): exact when the UA asks for
``rport``, the sent-by port otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sippet.errors import SippetError
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.registrar.binding import Source
from sippet.registrar.core import Forward, Registrar, Registration, Reply
from sippet.registrar.policy import NotOurDomain
from sippet.registrar.store import LocationStore, StoreError
from sippet.stack import Core, Stack
from sippet.stack.routing import default_port
from sippet.transactions import ServerKey

logger = logging.getLogger("sippet.registrar")

ALLOW = [Method.REGISTER, Method.OPTIONS, Method.ACK, Method.CANCEL]

Handler = Callable[[Message, ServerKey | None], Awaitable[None]]
"""An async callback taking a request and its server transaction key (``None`` for an ACK
of a 2xx, which has no transaction: RFC 3261 §17.2.3)."""


def source_of(request: Message) -> Source | None:
    """Where ``request`` came from, as its top Via says after the stack stamped it."""
    vias = request.headers.get("via")
    if not vias:
        return None
    via = vias[0]
    protocol = via.protocol.upper()
    params = via.params
    host = params.get("received") or via.sent_by.host
    rport = params.get("rport")
    if rport and rport.isascii() and rport.isdigit():
        port = int(rport)
    elif via.sent_by.port is not None:
        port = via.sent_by.port
    else:
        port = default_port(protocol)
    return Source(protocol, host, port)


class RegistrarService(Core):
    """Answers REGISTER with ``registrar`` over ``store`` on ``stack``.

    ``on_forward`` receives the REGISTERs ``Registrar`` says to forward (required when the
    policy forwards); ``fallback`` receives every request that is not a REGISTER.
    """

    def __init__(
        self,
        stack: Stack,
        registrar: Registrar,
        store: LocationStore,
        *,
        on_forward: Handler | None = None,
        fallback: Handler | None = None,
    ) -> None:
        if registrar.policy.not_our_domain is NotOurDomain.FORWARD and on_forward is None:
            raise ValueError("the policy forwards REGISTERs for other domains: give on_forward")
        self.stack = stack
        self.registrar = registrar
        self.store = store
        self.on_forward = on_forward
        self.fallback = fallback

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        start = request.start_line
        assert isinstance(start, RequestLine)
        method = start.method
        if method == Method.REGISTER and server_key is not None:
            await self.register(request, server_key)
        elif self.fallback is not None:
            await self.fallback(request, server_key)
        elif server_key is None:
            return  # an ACK of a 2xx (a registrar sends none), or a merged request
        elif method == Method.OPTIONS:
            response = request.to_response(200)
            response.headers["allow"] = list(ALLOW)
            await self._send(response)
        elif method == Method.CANCEL:
            await self._send(request.to_response(481))
        else:
            response = request.to_response(405)
            response.headers["allow"] = list(ALLOW)
            await self._send(response)

    async def register(self, request: Message, server_key: ServerKey) -> None:
        """RFC 3261 §10.3 for one REGISTER, answered on the stack. Never raises: an
        unexpected failure is logged and answered 500."""
        try:
            outcome = self.registrar.receive(request, source_of(request))
            if isinstance(outcome, Forward):
                assert self.on_forward is not None
                await self.on_forward(request, server_key)
                return
            if isinstance(outcome, Reply):
                response = outcome.response
            else:
                response = await self._commit(outcome)
        except Exception:
            logger.exception("REGISTER %s failed", request.headers.get("call_id"))
            response = request.to_response(500)
        await self._send(response)

    async def _commit(self, registration: Registration) -> Message:
        try:
            result = await self.store.update(registration.aor, registration.apply)
        except StoreError as exc:
            logger.warning("location store failed for %s: %s", registration.aor, exc)
            return registration.server_error()
        return registration.respond(result)

    async def _send(self, response: Message) -> None:
        try:
            await self.stack.send(response)
        except SippetError as exc:
            logger.info("cannot send %s: %s", response.start_line, exc)


async def sweep_periodically(store: LocationStore, interval: float) -> None:
    """Reclaim the space of expired bindings every ``interval`` seconds, until cancelled.
    Not needed for correctness (stores never return an expired binding)."""
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await store.sweep()
        except StoreError as exc:
            logger.warning("sweep failed: %s", exc)
        else:
            logger.debug("swept %d expired bindings", removed)
