"""Interop: SIPp answers challenges built by sippet.auth.DigestServer (SIPp's
``[authentication]`` keyword with -au/-ap), over UDP on loopback through a real Stack."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers.aio import async_test_within
from interop.sip_peers import DATA, HOST, MissingTool, Sipp, find_tool, screen_row
from sippet import URI, Message, Method, NameAddr
from sippet.auth import Algorithm, AuthReason, DigestServer, Qop, Users, generate_key
from sippet.stack import Core, Stack
from sippet.transactions import ServerKey
from sippet.transports import UDP

SCENARIO = DATA / "sipp" / "register-auth.xml"
INVITE_SCENARIO = DATA / "sipp" / "uac-invite-auth.xml"
REALM = "sippet.test"
CALLS = 20


class Registrar(Core):
    """Challenges every REGISTER without valid credentials; 200 to the others."""

    def __init__(self, stack: Stack, server: DigestServer) -> None:
        self.stack = stack
        self.server = server
        self.verdicts: Counter[AuthReason | None] = Counter()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if server_key is None:
            return
        now = time.time()  # wall clock: the nonce timestamps must survive a restart
        verdict = self.server.verify(request, now)
        self.verdicts[verdict.reason] += 1
        if verdict.ok:
            self.stack.send_response(request.to_response(200))
        else:
            self.stack.send_response(self.server.refuse(request, verdict, now))


@pytest.fixture(scope="module")
def sipp() -> str:
    try:
        return find_tool("sipp")
    except MissingTool as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


async def run_sipp(
    tmp_path: Path, password: str, qop: Qop
) -> tuple[Sipp, Counter[AuthReason | None]]:
    users = Users()
    users.set_password("alice", REALM, "secret")
    # SIPp computes MD5 only: offer MD5 (a SHA-256 challenge first would not be understood).
    server = DigestServer(REALM, users, generate_key(), algorithms=[Algorithm.MD5], qop=[qop])
    async with Stack(name="auth-sipp") as stack:
        transport = await stack.add_transport(UDP(HOST, 0))
        registrar = Registrar(stack, server)
        stack.register_core(registrar)
        port = transport.local_address[1]
        caller = Sipp(
            tmp_path,
            f"register-{qop}-{password}",
            [
                *("-sf", str(SCENARIO), f"{HOST}:{port}", "-s", "alice"),
                *("-au", "alice", "-ap", password, "-r", "20"),
            ],
            calls=CALLS,
            timeout=30,
        ).start()
        assert caller.process is not None
        # Serve while SIPp runs; SIPp's -timeout bounds it, and so does the test's limit.
        while caller.process.poll() is None:
            await asyncio.sleep(0.05)
    return caller, registrar.verdicts


@pytest.mark.parametrize("qop", [Qop.AUTH, Qop.AUTH_INT])
@async_test_within(60)
async def test_sipp_register_passes_digest(sipp: str, tmp_path: Path, qop: Qop) -> None:
    caller, verdicts = await run_sipp(tmp_path, "secret", qop)
    run = caller.wait()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (run.report(), verdicts)
    # Every call: one unauthenticated REGISTER challenged, one verified.
    assert verdicts[None] == CALLS, verdicts
    assert verdicts[AuthReason.MISSING] >= CALLS, verdicts


@async_test_within(60)
async def test_sipp_with_a_wrong_password_is_refused(sipp: str, tmp_path: Path) -> None:
    caller, verdicts = await run_sipp(tmp_path, "wrong", Qop.AUTH)
    run = caller.wait()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (0, CALLS), (run.report(), verdicts)
    assert verdicts[None] == 0, verdicts
    assert verdicts[AuthReason.WRONG_RESPONSE] >= CALLS, verdicts


class ChallengingCallee(Core):
    """A minimal UAS: INVITEs are challenged until their credentials pass, then get 200
    (loopback: no loss, so no 2xx retransmission is needed); BYE gets 200."""

    def __init__(self, stack: Stack, server: DigestServer, contact: URI) -> None:
        self.stack = stack
        self.server = server
        self.contact = contact
        self.verdicts: Counter[AuthReason | None] = Counter()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        if server_key is None:  # the ACK of a 2xx
            return
        if request.start_line.method == Method.INVITE:  # type: ignore[union-attr]
            now = time.time()
            verdict = self.server.verify(request, now)
            self.verdicts[verdict.reason] += 1
            if not verdict.ok:
                self.stack.send_response(self.server.refuse(request, verdict, now))
                return
            answer = request.to_response(200)
            answer.headers["contact"] = [NameAddr("", self.contact, {})]
            self.stack.send_response(answer)
        else:
            self.stack.send_response(request.to_response(200))


@pytest.mark.parametrize("check_uri", [True, False])
@async_test_within(90)
async def test_sipp_invite_is_challenged_then_called_through(
    sipp: str, tmp_path: Path, check_uri: bool
) -> None:
    users = Users()
    users.set_password("alice", REALM, "secret")
    server = DigestServer(
        REALM, users, generate_key(), algorithms=[Algorithm.MD5], check_uri=check_uri
    )
    calls = 50
    async with Stack(name="auth-sipp-invite") as stack:
        transport = await stack.add_transport(UDP(HOST, 0))
        port = transport.local_address[1]
        callee = ChallengingCallee(stack, server, URI.parse(f"sip:uas@{HOST}:{port}"))
        stack.register_core(callee)
        # SIPp digests the uri "sip:REMOTE_IP:PORT", not the Request-URI, unless told
        # what follows "sip:"; DigestServer checks the uri (RFC 7616 §3.4.6) unless
        # check_uri=False (RFC 3261 §22.4 item 6), which accepts SIPp's default.
        auth_uri = ["-auth_uri", f"alice@{HOST}:{port}"] if check_uri else []
        caller = Sipp(
            tmp_path,
            f"invite-auth-{check_uri}",
            [
                *("-sf", str(INVITE_SCENARIO), f"{HOST}:{port}", "-s", "alice"),
                *("-au", "alice", "-ap", "secret", "-r", "25", *auth_uri),
            ],
            calls=calls,
            timeout=60,
        ).start()
        assert caller.process is not None
        while caller.process.poll() is None:
            await asyncio.sleep(0.05)
    run = caller.wait()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (calls, 0), (run.report(), callee.verdicts)
    assert callee.verdicts[None] == calls, callee.verdicts
    # The ACK of each 401 matched its INVITE transaction: no 401 was sent twice.
    received, retransmitted, *_ = screen_row(run.screen(), "401 <-")
    assert (received, retransmitted) == (calls, 0), run.report()
