"""Stacks on loopback for the proxy tests: phones (a UAC or UAS core that records what it
gets and answers as told) and a proxy stack running ``ProxyService``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sippet import URI, CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.proxy import ProxyConfig, ProxyTarget, StatefulProxy, StatelessProxy
from sippet.proxy.service import ProxyService, interfaces_of
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import UDP

TIMEOUT = 5.0
FAST = TimerSettings(t1=0.05, t2=0.2, t4=0.25, timer_d=0.5)
HOST = "127.0.0.1"


async def get(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), TIMEOUT)


class Phone(Core):
    """Records requests and responses. As a UAS, answers each INVITE with ``answers``
    (status codes, in order; a 2xx carries a Contact) and every BYE, OPTIONS or MESSAGE
    with 200; a CANCEL of a ringing INVITE gets 200, and the INVITE 487 (RFC 3261 §9.2)."""

    def __init__(self, stack: Stack, answers: Sequence[int] = ()) -> None:
        self.stack = stack
        self.answers = list(answers)
        self.requests: asyncio.Queue[tuple[Message, ServerKey | None]] = asyncio.Queue()
        self.responses: asyncio.Queue[Message] = asyncio.Queue()
        self.ringing: dict[ServerKey, Message] = {}
        self.tag = create_tag()

    @property
    def uri(self) -> URI:
        host, port = self.stack.transports[0].local_address[:2]
        return URI("sip", "phone", None, host, port)

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.put_nowait((request, server_key))
        if server_key is None:
            return
        start = request.start_line
        assert isinstance(start, RequestLine)
        if start.method == Method.INVITE:
            self._answer_invite(request, server_key)
        elif start.method == Method.CANCEL:
            self.stack.send_response(request.to_response(200, to_tag=self.tag))
            key = self.stack.layer.find_invite_for_cancel(request)
            invite = self.ringing.pop(key, None) if key is not None else None
            if invite is not None:
                self.stack.send_response(invite.to_response(487, to_tag=self.tag))
        else:
            self.stack.send_response(request.to_response(200, to_tag=self.tag))

    def _answer_invite(self, invite: Message, key: ServerKey) -> None:
        final = False
        for status in self.answers:
            response = invite.to_response(status, to_tag=self.tag)
            if status < 300:
                response.headers["contact"] = [NameAddr("", self.uri, {})]
            self.stack.send_response(response)
            final = final or status >= 200
        if not final:
            self.ringing[key] = invite

    async def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.responses.put_nowait(response)

    def new_request(self, method: Method, uri: URI | str, *, routes: Sequence[URI] = ()) -> Message:
        host, port = self.stack.transports[0].local_address[:2]
        headers: dict[str, Any] = {
            "via": [Via((2, 0), "UDP", SentBy(host, port), {"branch": create_branch()})],
            "max_forwards": 70,
            "from": NameAddr("", URI.parse("sip:alice@example.com"), {"tag": self.tag}),
            "to": NameAddr("", URI.parse("sip:bob@example.com"), {}),
            "call_id": create_call_id(),
            "cseq": CSeq(1, method),
            "contact": [NameAddr("", self.uri, {})],
        }
        if routes:
            headers["route"] = [NameAddr("", r, {}) for r in routes]
        request_uri = uri if isinstance(uri, URI) else URI.parse(uri)
        return Message(RequestLine(method, request_uri), headers)


async def phone(answers: Sequence[int] = ()) -> Phone:
    stack = Stack(name="phone", timers=FAST)
    await stack.start()
    await stack.add_transport(UDP(HOST, 0))
    core = Phone(stack, answers)
    stack.register_core(core)
    return core


@dataclass
class ProxyStack:
    stack: Stack
    service: ProxyService
    locations: dict[str, list[ProxyTarget]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.stack.transports[0].local_address[1])

    def locate(self, request: Message) -> list[ProxyTarget] | int:
        start = request.start_line
        assert isinstance(start, RequestLine)
        return self.locations.get(start.request_uri.user or "", 404)

    async def close(self) -> None:
        self.service.close()
        await self.stack.close()


async def proxy_stack(
    locations: Mapping[str, list[ProxyTarget]] | None = None,
    *,
    stateless: bool = False,
    **config: Any,
) -> ProxyStack:
    stack = Stack(name="proxy", timers=FAST)
    await stack.start()
    await stack.add_transport(UDP(HOST, 0))
    settings = ProxyConfig(
        interfaces=interfaces_of(stack), domains=frozenset({"example.com"}), **config
    )
    core = StatelessProxy(settings) if stateless else StatefulProxy(settings)
    result = ProxyStack(stack, ProxyService(stack, core), dict(locations or {}))
    result.service.locate = result.locate
    stack.register_core(result.service)
    return result
