"""``DnsResolver`` plugged into today's ``Stack`` (its ``Resolver`` interface): an OPTIONS to
a name served by dnsmasq reaches the address DNS gave and the answer comes back."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from helpers.aio import async_test, recvfrom
from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, StatusLine, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.resolve.dns_resolver import DnsResolver
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey
from sippet.transports import UDP
from sippet.uri import URI

from .dns_zone import DOMAIN
from .dnsmasq_server import Dnsmasq

PLAIN_ADDRESS = "127.0.0.4"  # plain.sippet.test's A record in the test zone
TIMEOUT = 5.0


class Responses(Core):
    def __init__(self) -> None:
        self.responses: asyncio.Queue[Message] = asyncio.Queue()

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        self.responses.put_nowait(response)


def options(uri: str, local: tuple[str, int]) -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy(*local), {"branch": create_branch()})],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse("sip:alice@example.com"), {"tag": create_tag()}),
        "to": NameAddr("", URI.parse(uri), {}),
        "call_id": create_call_id(),
        "cseq": CSeq(1, Method.OPTIONS),
    }
    return Message(RequestLine(Method.OPTIONS, URI.parse(uri)), headers)


@async_test
async def test_stack_sends_to_the_address_dns_gave(dnsmasq: Dnsmasq) -> None:
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind((PLAIN_ADDRESS, 0))
    peer.setblocking(False)
    port = peer.getsockname()[1]
    resolver = DnsResolver(dnsmasq.address)
    stack = Stack(name="resolve-test", resolver=resolver)
    core = Responses()
    try:
        await stack.start()
        udp = await stack.add_transport(UDP("127.0.0.1", 0))
        stack.register_core(core)
        await stack.send(options(f"sip:ping@plain.{DOMAIN}:{port}", udp.local_address))
        data, source = await asyncio.wait_for(recvfrom(peer, 70000), TIMEOUT)
        request = Message.parse(data)
        assert isinstance(request.start_line, RequestLine)
        assert request.start_line.request_uri.host == f"plain.{DOMAIN}"
        peer.sendto(bytes(request.to_response(200)), source)
        response = await asyncio.wait_for(core.responses.get(), TIMEOUT)
        assert isinstance(response.start_line, StatusLine)
        assert response.start_line.status_code == 200
        assert resolver.queries_sent == 1  # A only: the stack gave an explicit port
    finally:
        await stack.close()
        peer.close()
