"""sippet's WS transport against Kamailio's websocket module (RFC 7118), on loopback.

Through the library (a ``Stack`` with a client-only ``WS`` transport): OPTIONS, REGISTER,
and a MESSAGE Kamailio relays back over the client's connection. ``sippet options`` over
WS and WSS to Kamailio is in ``test_tcp_tls_peers.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sippet import URI, CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.transports.ws import WS, invalid_host

from .sip_peers import HOST, KamailioWS

pytestmark = pytest.mark.interop

TIMEOUT = 10.0


@pytest.fixture
def kamailio_ws(kamailio_bin: str, tmp_path: Path) -> Iterator[KamailioWS]:
    server = KamailioWS(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class UserAgent(Core):
    """Records responses and requests; answers requests with 200."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.responses: asyncio.Queue[tuple[Message, ClientKey | None]] = asyncio.Queue()
        self.requests: asyncio.Queue[Message] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.put_nowait(request)
        if server_key is not None:
            self.stack.send_response(request.to_response(200, to_tag=create_tag()))

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        if response.start_line.status_code >= 200:  # type: ignore[union-attr]
            self.responses.put_nowait((response, client_key))

    def receive_error(self, reason: str, key: object) -> None:
        self.errors.put_nowait((reason, key))


def request(method: Method, request_uri: URI, client_host: str, user: str = "alice") -> Message:
    # RFC 7118 §5.2, §8.1: a WebSocket client's Via and Contact name a .invalid host.
    contact = URI("sip", user, None, client_host, None, {"transport": "ws"})
    aor = URI("sip", user, None, HOST, None)
    return Message(
        RequestLine(method, request_uri),
        {
            "via": [Via((2, 0), "WS", SentBy(client_host, None), {"branch": create_branch()})],
            "max_forwards": 70,
            "from": NameAddr("", aor, {"tag": create_tag()}),
            "to": NameAddr(
                "", URI("sip", "bob" if method == Method.MESSAGE else user, None, HOST, None), {}
            ),
            "call_id": create_call_id(),
            "cseq": CSeq(1, method),
            "contact": [NameAddr("", contact, {})],
            **({"expires": 600} if method == Method.REGISTER else {}),
        },
    )


async def exchange(kamailio: KamailioWS) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with Stack("ws-client") as stack:
        transport = WS(HOST, listen=False)
        await stack.add_transport(transport)
        agent = UserAgent(stack)
        stack.register_core(agent)
        host = invalid_host()
        server = URI("sip", None, None, HOST, kamailio.ws_port, {"transport": "ws"})
        for method in (Method.OPTIONS, Method.REGISTER):
            key = await stack.send(request(method, server, host))
            response, response_key = await asyncio.wait_for(agent.responses.get(), TIMEOUT)
            assert response_key == key
            seen[str(method)] = response
        # Kamailio relays a MESSAGE back to its sender: a request for the WebSocket client,
        # which Kamailio can only send over the client's own connection.
        message_uri = URI("sip", "bob", None, HOST, kamailio.ws_port, {"transport": "ws"})
        key = await stack.send(request(Method.MESSAGE, message_uri, host))
        seen["relayed"] = await asyncio.wait_for(agent.requests.get(), TIMEOUT)
        response, response_key = await asyncio.wait_for(agent.responses.get(), TIMEOUT)
        assert response_key == key
        seen["MESSAGE"] = response
        seen["connections"] = transport.connections
        seen["errors"] = agent.errors.qsize()
    return seen


def test_options_and_register_to_kamailio_over_ws(kamailio_ws: KamailioWS) -> None:
    seen = asyncio.run(asyncio.wait_for(exchange(kamailio_ws), 60))
    for method in ("OPTIONS", "REGISTER"):
        status = seen[method].start_line
        # Kamailio writes the transport it received on ($proto) into the reason phrase.
        assert (status.status_code, status.reason_phrase) == (200, "OK over ws"), method
    relayed = seen["relayed"]
    assert relayed.start_line.method == Method.MESSAGE
    # Kamailio's Via on top, ours below it: the request came through Kamailio.
    assert [via.protocol for via in relayed.headers["via"]] == ["WS", "WS"]
    assert seen["MESSAGE"].start_line.status_code == 200
    # Everything went over the one connection the client opened.
    assert seen["connections"] == [(HOST, kamailio_ws.ws_port)]
    assert seen["errors"] == 0
