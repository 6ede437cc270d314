"""`sippet call` as a user runs it: a subprocess calling `sippet uas` (plain, challenged
with digest, redirected with 302, refused with 486), and a raw UDP socket that plays a
forking proxy or a UAS whose 2xx is retransmitted (RFC 3261 §13.2.2.4)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sippet import Message, NameAddr
from sippet.uri import URI
from test_cli import TIMEOUT, UAS, sippet

ANSWER = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def call(*args: str) -> subprocess.CompletedProcess[str]:
    return sippet("call", *args)


@pytest.fixture
def uas() -> Iterator[UAS]:
    server = UAS("127.0.0.1")
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_call_set_up_and_ended(uas: UAS) -> None:
    result = call(f"sip:bob@127.0.0.1:{uas.port}", "--duration", "0.1")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split(" (")[0] for line in result.stdout.splitlines()]
    assert lines == ["INVITE 180 Ringing", "INVITE 200 OK", "BYE 200 OK"]


def test_call_refused_exits_1() -> None:
    server = UAS("127.0.0.1", "--answer", "486", "--ring", "0")
    try:
        result = call(server.uri)
    finally:
        assert server.stop() == 0
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("INVITE 486 Busy Here (")


def passwd(tmp_path: Path) -> Path:
    path = tmp_path / "users"
    result = sippet("passwd", str(path), "alice", "--password", "secret")
    assert result.returncode == 0, result.stderr
    return path


def test_call_answers_the_digest_challenge(tmp_path: Path) -> None:
    server = UAS("127.0.0.1", "--users", str(passwd(tmp_path)), "--ring", "0")
    try:
        good = call(server.uri, "--user", "alice", "--password", "secret")
        bad = call(server.uri, "--user", "alice", "--password", "wrong")
        anonymous = call(server.uri)
    finally:
        assert server.stop() == 0
    assert good.returncode == 0, good.stdout + good.stderr
    assert [line.split(" (")[0] for line in good.stdout.splitlines()] == [
        "INVITE 401 Unauthorized",
        "INVITE 200 OK",
        "BYE 200 OK",
    ]
    # A wrong password is challenged again, and not tried a third time (§22.2).
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout.count("INVITE 401 Unauthorized") == 2
    assert anonymous.returncode == 1
    assert anonymous.stdout.count("INVITE 401 Unauthorized") == 1


def test_call_follows_a_redirect(uas: UAS) -> None:
    target = f"sip:bob@127.0.0.1:{uas.port}"
    redirector = UAS("127.0.0.1", "--answer", "302", "--redirect", target, "--ring", "0")
    try:
        result = call(f"sip:bob@127.0.0.1:{redirector.port}")
    finally:
        assert redirector.stop() == 0
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split(" (")[0] for line in result.stdout.splitlines()]
    assert lines == [
        "INVITE 302 Moved Temporarily",
        f"  -> {target}",
        "INVITE 180 Ringing",
        "INVITE 200 OK",
        "BYE 200 OK",
    ]


class Callee:
    """A raw UDP socket that answers the INVITE of `sippet call` by hand."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.source: tuple[str, int] = ("127.0.0.1", 0)

    def receive(self) -> Message:
        data, self.source = self.sock.recvfrom(70000)
        return Message.parse(data)

    def send(self, message: Message) -> None:
        self.sock.sendto(bytes(message), self.source)

    def ok(self, invite: Message, tag: str) -> Message:
        response = invite.to_response(200, to_tag=tag)
        contact = URI("sip", "bob", None, "127.0.0.1", self.port)
        response.headers["contact"] = [NameAddr("", contact, {})]
        response.headers["content_type"] = invite.headers["content_type"]
        response.body = ANSWER.encode()
        return response

    def start_call(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sippet", "call", f"sip:bob@127.0.0.1:{self.port}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def callee() -> Iterator[Callee]:
    peer = Callee()
    try:
        yield peer
    finally:
        peer.close()


def method(message: Message) -> str:
    return str(message.start_line.method)  # type: ignore[union-attr]


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out + err


def test_each_retransmitted_2xx_gets_the_same_ack(callee: Callee) -> None:
    process = callee.start_call("--duration", "0.2")
    invite = callee.receive()
    ok = callee.ok(invite, "uas1")
    acks = []
    for _ in range(3):  # the 2xx, then two retransmissions (our ACKs "were lost")
        callee.send(ok)
        ack = callee.receive()
        assert method(ack) == "ACK"
        acks.append(ack)
    # §13.2.2.4: the ACK is built once and sent again, unchanged, for each 2xx.
    assert len({bytes(ack) for ack in acks}) == 1
    ack = acks[0]
    assert ack.headers["cseq"].seq == invite.headers["cseq"].seq
    assert ack.headers["via"][0].branch != invite.headers["via"][0].branch  # its own
    assert str(ack.start_line.request_uri) == f"sip:bob@127.0.0.1:{callee.port}"  # type: ignore[union-attr]
    bye = callee.receive()
    assert method(bye) == "BYE" and bye.headers["to"].params["tag"] == "uas1"
    callee.send(bye.to_response(200))
    code, output = finish(process)
    assert code == 0, output


def test_forked_invite_both_2xx_acked_the_second_ended(callee: Callee) -> None:
    # A forking proxy passes on a 2xx from each of two UASs (tags fork1, fork2).
    process = callee.start_call("--duration", "0.5")
    invite = callee.receive()
    callee.send(callee.ok(invite, "fork1"))
    callee.send(callee.ok(invite, "fork2"))
    seen: list[tuple[str, str]] = []
    while ("BYE", "fork1") not in seen:
        message = callee.receive()
        tag = str(message.headers["to"].params["tag"])
        seen.append((method(message), tag))
        if method(message) == "BYE":
            callee.send(message.to_response(200))
    # §13.2.2.4: every 2xx is ACKed; the call keeps the first, the second gets a BYE at
    # once, the first its BYE after --duration.
    assert seen.index(("ACK", "fork1")) < seen.index(("BYE", "fork1"))
    assert ("ACK", "fork2") in seen
    assert seen.index(("BYE", "fork2")) < seen.index(("BYE", "fork1"))
    assert seen.count(("BYE", "fork2")) == 1
    code, output = finish(process)
    assert code == 0, output
    assert output.count("INVITE 200 OK") == 1


def test_requests_in_a_dialog_through_a_strict_router(callee: Callee) -> None:
    # The 2xx was record-routed by a strict router (no ;lr, RFC 2543): §12.2.1.1 sends the
    # ACK and the BYE to it with its URI as Request-URI and the remote target as the last
    # Route. The request leaves in that form once: the stack must not rewrite it again.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as router:
        router.bind(("127.0.0.1", 0))
        router.settimeout(TIMEOUT)
        router_uri = f"sip:127.0.0.1:{router.getsockname()[1]}"
        process = callee.start_call("--duration", "0.1")
        invite = callee.receive()
        ok = callee.ok(invite, "strict")
        ok.headers["record_route"] = [NameAddr("", URI.parse(router_uri), {})]
        callee.send(ok)
        for expected_method in ("ACK", "BYE"):
            data, source = router.recvfrom(70000)
            request = Message.parse(data)
            assert method(request) == expected_method
            assert str(request.start_line.request_uri) == router_uri  # type: ignore[union-attr]
            assert [str(r.uri) for r in request.headers["route"]] == [
                f"sip:bob@127.0.0.1:{callee.port}"
            ]
            if expected_method == "BYE":
                router.sendto(bytes(request.to_response(200)), source)
        code, output = finish(process)
    assert code == 0, output
