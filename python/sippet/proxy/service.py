"""The asyncio binder: a ``sippet.Core`` that runs a proxy core over a ``sippet.Stack``.

It feeds the core what the stack delivers, with the loop's clock, carries out the actions
in order (``SendRequest`` → ``stack.send``, ``SendResponse`` → ``stack.send_response``,
``SendStateless`` → ``stack.send_stateless``, ``EndTransaction`` → ``stack.terminate``,
``Lookup`` → the application's ``locate``), and keeps one ``loop.call_at`` for the core's
``next_deadline()``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Sequence

from sippet.errors import SippetError
from sippet.headers import SentBy
from sippet.message import Message
from sippet.proxy.actions import (
    EndTransaction,
    Lookup,
    ProxyAction,
    SendRequest,
    SendResponse,
    SendStateless,
)
from sippet.proxy.forward import ProxyTarget
from sippet.proxy.stateful import StatefulProxy
from sippet.proxy.stateless import StatelessProxy
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey

logger = logging.getLogger("sippet.proxy")

LookupResult = Sequence[ProxyTarget] | int
"""The target set of a request, or the status code to answer it with (e.g. 404)."""

Locator = Callable[[Message], Awaitable[LookupResult] | LookupResult]
"""The application's target determination (RFC 3261 §16.5): may be ``async``."""

LOOKUP_TIMEOUT = 10.0
"""Seconds a ``locate`` may take; past it (or when it raises) the request gets 500."""


def interfaces_of(stack: Stack) -> dict[str, SentBy]:
    """The address of each of the stack's transports, by protocol (the first one of each
    protocol), for ``ProxyConfig.interfaces``. A transport bound to a wildcard address
    (``0.0.0.0``, ``::``) cannot name itself: give the interfaces by hand then."""
    interfaces: dict[str, SentBy] = {}
    for transport in stack.transports:
        host, port = transport.local_address[:2]
        if host in ("0.0.0.0", "::"):
            raise ValueError(f"{transport} is bound to a wildcard address: name its interface")
        interfaces.setdefault(transport.protocol, SentBy(host, port))
    return interfaces


class ProxyService(Core):
    """Runs ``proxy`` on ``stack`` (register it with ``stack.register_core``).

    ``locate`` gives the target set of a request for one of the proxy's domains; without
    one such requests get 404 (Not Found). ``lookup_timeout`` bounds each call of it.

    The stack's answer timeout for INVITE server transactions is lifted: the proxy core
    answers every INVITE itself (Timer C, reset by each provisional response, may keep a
    ringing call longer than the stack's default 181 s).
    """

    def __init__(
        self,
        stack: Stack,
        proxy: StatefulProxy | StatelessProxy,
        locate: Locator | None = None,
        *,
        lookup_timeout: float = LOOKUP_TIMEOUT,
    ) -> None:
        self.stack = stack
        self.proxy = proxy
        self.locate = locate
        self.lookup_timeout = lookup_timeout
        stack.answer_timeouts = stack.answer_timeouts._replace(invite=math.inf)
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # -- what the stack delivers ---------------------------------------------------------

    async def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        await self.run(self.proxy.receive_request(request, server_key, self._now()))

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        await self.run(self.proxy.receive_response(response, client_key, self._now()))

    async def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        await self.run(self.proxy.receive_error(reason, key, self._now()))

    # -- carrying out --------------------------------------------------------------------

    async def run(self, actions: list[ProxyAction]) -> None:
        """Carry out ``actions`` in order, then rearm the timer."""
        for action in actions:
            try:
                await self._carry_out(action)
            except Exception:
                logger.exception("proxy: failure carrying out %r", action)
        self._rearm()

    async def _carry_out(self, action: ProxyAction) -> None:
        match action:
            case SendRequest(request):
                try:
                    await self.stack.send(request)
                except SippetError as exc:
                    key = ClientKey(
                        request.headers["via"][0].params["branch"], str(request.start_line[0])
                    )
                    reason = getattr(exc, "reason", "unreachable")
                    await self.run(self.proxy.receive_error(reason, key, self._now()))
            case SendResponse(response):
                try:
                    self.stack.send_response(response)
                except SippetError as exc:  # the transaction is gone (e.g. it timed out)
                    logger.info("proxy: response not sent: %s", exc)
            case SendStateless(message):
                try:
                    await self.stack.send_stateless(message)
                except SippetError as exc:
                    logger.info("proxy: %s not sent: %s", message.start_line, exc)
            case EndTransaction(key):
                self.stack.terminate(key)
            case Lookup(handle, request):
                await self._lookup(handle, request)

    async def _lookup(self, handle: int, request: Message) -> None:
        result: LookupResult = 404
        if self.locate is not None:
            try:
                result = await asyncio.wait_for(self._located(request), self.lookup_timeout)
            except Exception:
                logger.exception("proxy: target lookup failed for %s", request.start_line)
                result = 500
        now = self._now()
        try:
            if isinstance(result, int):
                actions = self.proxy.reject(handle, result, now)
            else:
                actions = self.proxy.forward(handle, result, now)
        except KeyError:
            return  # cancelled or ended while the lookup ran: already answered
        await self.run(actions)

    async def _located(self, request: Message) -> LookupResult:
        assert self.locate is not None
        answer = self.locate(request)
        return await answer if inspect.isawaitable(answer) else answer

    # -- the core's timer ----------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _rearm(self) -> None:
        deadline = self.proxy.next_deadline()
        if deadline == self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deadline = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        deadline = self._deadline
        self._timer = None
        self._deadline = None
        now = max(self._now(), deadline or 0.0)  # call_at may fire a tick early
        actions = self.proxy.handle_timers(now)
        task = asyncio.ensure_future(self.run(actions))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Cancel the timer (the stack cancels the callbacks it runs)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in self._tasks:
            task.cancel()
