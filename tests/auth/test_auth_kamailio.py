"""Interop: sippet.auth.DigestClient answers the digest challenges of a real Kamailio (auth
module: MD5 and SHA-256 with qop auth, nonce counts checked) through a real Stack over UDP
on loopback.

Not covered here: SHA-512-256 (Kamailio 5.6 does not offer it) and qop auth-int (Kamailio's
auth_check_response never computes H(entity-body), so no client can pass it; SIPp covers
auth-int in test_auth_sipp.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.aio import async_test_within
from interop.sip_peers import HOST, Kamailio, MissingTool, find_tool
from sippet import URI, CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.auth import AuthError, AuthReason, DigestClient, UserCredentials
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey
from sippet.transports import UDP

CONFIG = Path(__file__).parent / "data" / "kamailio-auth.cfg"
REALM = "kamailio.test"
TIMEOUT = 5.0
# www_challenge flags of Kamailio's auth module: 1 offers qop=auth.
QOP_FLAGS = {"auth": "1"}


class Responses(Core):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        if response.start_line.status_code >= 200:  # type: ignore[union-attr]
            self.queue.put_nowait(response)


@pytest.fixture
def kamailio_factory(tmp_path: Path) -> Iterator[Any]:
    try:
        find_tool("kamailio")
    except MissingTool as error:
        pytest.fail(str(error), pytrace=False)
    servers: list[Kamailio] = []

    def start(algorithm: str, qop: str) -> Kamailio:
        config = tmp_path / f"auth-{algorithm}-{qop}.cfg"
        text = CONFIG.read_text().replace("ALGORITHM", algorithm)
        config.write_text(text.replace("QOP_FLAGS", QOP_FLAGS[qop]))
        server = Kamailio(tmp_path, config=config)
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def options(port: int, local: tuple[str, int], body: str = "") -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy(*local), {"branch": create_branch(), "rport": None})],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse(f"sip:alice@{REALM}"), {"tag": create_tag()}),
        "to": NameAddr("", URI.parse(f"sip:alice@{REALM}"), {}),
        "call_id": create_call_id(),
        "cseq": CSeq(1, Method.OPTIONS),
    }
    message = Message(RequestLine(Method.OPTIONS, URI.parse(f"sip:{HOST}:{port}")), headers)
    if body:
        message.headers["content_type"] = (("text", "plain"), {})
        message.body = body.encode()
    return message


async def exchange(stack: Stack, core: Responses, request: Message) -> Message:
    await stack.send(request)
    return await asyncio.wait_for(core.queue.get(), TIMEOUT)


@pytest.mark.parametrize(
    ("algorithm", "qop"),
    [("MD5", "auth"), ("SHA-256", "auth")],
)
def test_digest_client_passes_kamailio(kamailio_factory: Any, algorithm: str, qop: str) -> None:
    kamailio = kamailio_factory(algorithm, qop)

    @async_test_within(30)
    async def scenario() -> None:
        client = DigestClient({REALM: UserCredentials("alice", "secret")})
        async with Stack(name="auth-kamailio") as stack:
            transport = await stack.add_transport(UDP(HOST, 0))
            core = Responses()
            stack.register_core(core)
            first = options(kamailio.port, transport.local_address, body="integrity\r\n")
            challenge = await exchange(stack, core, first)
            assert challenge.start_line.status_code == 401  # type: ignore[union-attr]
            offered = challenge.headers["www_authenticate"][0].params
            assert (offered["algorithm"], offered["qop"]) == (algorithm, qop)
            retry = client.authorize(first, challenge)
            answer = await exchange(stack, core, retry)
            assert answer.start_line.status_code == 200, answer  # type: ignore[union-attr]
            assert answer.headers["X-Authenticated"] == ["alice"]
            # The same nonce again, as a REGISTER refresh would: nc=2 is accepted...
            second = options(kamailio.port, transport.local_address)
            again = client.authorize(second, challenge)
            assert again.headers["authorization"][0].params["nc"] == "00000002"
            assert (await exchange(stack, core, again)).start_line.status_code == 200  # type: ignore[union-attr]
            # ...and a replay of the first retry (nc=1, a new transaction) is not.
            replay = retry.copy()
            replay.headers["via"][0] = replay.headers["via"][0]._replace(
                params={"branch": create_branch(), "rport": None}
            )
            refused = await exchange(stack, core, replay)
            assert refused.start_line.status_code == 401  # type: ignore[union-attr]

    scenario()


def test_wrong_password_is_rejected_by_kamailio_and_not_retried(kamailio_factory: Any) -> None:
    kamailio = kamailio_factory("MD5", "auth")

    @async_test_within(30)
    async def scenario() -> None:
        client = DigestClient(default=UserCredentials("alice", "wrong"))
        async with Stack(name="auth-kamailio") as stack:
            transport = await stack.add_transport(UDP(HOST, 0))
            core = Responses()
            stack.register_core(core)
            first = options(kamailio.port, transport.local_address)
            retry = client.authorize(first, await exchange(stack, core, first))
            second_challenge = await exchange(stack, core, retry)
            assert second_challenge.start_line.status_code == 401  # type: ignore[union-attr]
            with pytest.raises(AuthError) as caught:
                client.authorize(retry, second_challenge)
            assert caught.value.reason is AuthReason.REJECTED

    scenario()
