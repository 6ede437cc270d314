"""The behaviour of `sippet uas` (sippet.apps.uas.UASCore) against a raw UDP or TCP peer,
in process, with short timers: what each method gets, 2xx retransmission until the ACK
and never early (RFC 3261 §13.3.1.4), BYE after 64*T1 without ACK, CANCEL (§9.2),
405/501/420 (§8.2.1, §8.2.2.3), --answer codes with the header fields they require,
--ring 0 without 180, RFC 3264 answers (direction, o= session kept across a re-INVITE),
a Contact naming the transport the request came by."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

from helpers.aio import async_test, recvfrom
from sippet import Message
from sippet.apps.report import TransactionReport
from sippet.apps.sdp import SdpSession
from sippet.apps.uas import UASCore
from sippet.stack import Stack
from sippet.transactions import TimerSettings
from sippet.transports import TCP, UDP
from sippet.uri import URI

RFC4475 = Path(__file__).parent / "data" / "rfc4475"
TIMEOUT = 5.0
FAST = TimerSettings(t1=0.02, t2=0.08, t4=0.1, timer_d=0.2)


class Peer:
    """A raw UDP socket that sends requests by template and parses what comes back."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.count = 0

    def request(
        self,
        method: str,
        *,
        branch: str | None = None,
        call_id: str = "call-1",
        to_tag: str | None = None,
        cseq: int = 1,
        cseq_method: str | None = None,
        extra: str = "",
        body: str = "",
    ) -> str:
        self.count += 1
        to = "<sip:uas@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        return (
            f"{method} sip:uas@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch or f'z9hG4bKp{self.count}'}"
            ";rport\r\n"
            "From: <sip:peer@127.0.0.1>;tag=peer1\r\n"
            f"To: {to}\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {cseq} {cseq_method or method}\r\n"
            f"Contact: <sip:peer@127.0.0.1:{self.port}>\r\n"
            "Max-Forwards: 70\r\n"
            f"{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def send(self, text: str, destination: tuple[str, int]) -> None:
        self.sock.sendto(text.encode(), destination)

    async def receive(self, timeout: float = TIMEOUT) -> Message:
        data, _ = await asyncio.wait_for(recvfrom(self.sock, 70000), timeout)
        return Message.parse(data)

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.receive(seconds)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


async def start_uas(**options: Any) -> tuple[Stack, UASCore, tuple[str, int]]:
    stack = Stack(name="uas-test", timers=FAST)
    await stack.start()
    transport = await stack.add_transport(UDP("127.0.0.1", 0))
    core = UASCore(stack, transport, **options)
    stack.register_core(core)
    return stack, core, transport.local_address


def code(message: Message) -> int:
    return message.start_line.status_code  # type: ignore[union-attr]


OFFER = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5004 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
)


@async_test
async def test_options_gets_200_with_allow_and_accept() -> None:
    stack, core, where = await start_uas()
    peer = Peer()
    try:
        peer.send(peer.request("OPTIONS"), where)
        answer = await peer.receive()
        assert code(answer) == 200
        assert [str(m) for m in answer.headers["allow"]] == [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "OPTIONS",
        ]
        assert answer.headers["accept"][0].media == ("application", "sdp")
        assert "supported" not in answer.headers  # no extension: no empty Supported
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_invite_180_then_200_retransmitted_until_ack_then_bye() -> None:
    stack, core, where = await start_uas(ring=0.05)
    peer = Peer()
    try:
        peer.send(
            peer.request("INVITE", body=OFFER, extra="Content-Type: application/sdp\r\n"), where
        )
        ringing = await peer.receive()
        assert code(ringing) == 180
        tag = ringing.headers["to"].params["tag"]
        ok = await peer.receive()
        assert code(ok) == 200 and ok.headers["to"].params["tag"] == tag
        assert ok.headers["content_type"].media == ("application", "sdp")
        assert b"m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" in ok.body
        again = await peer.receive()  # no ACK yet: the UAS core retransmits the 200
        assert code(again) == 200 and again.body == ok.body
        peer.send(peer.request("ACK", to_tag=tag, cseq=1), where)
        # Drain what was in flight, then nothing more (ACK stops the retransmissions).
        while not await peer.nothing_within(FAST.t2 * 3):
            pass
        peer.send(peer.request("BYE", to_tag=tag, cseq=2), where)
        bye_answer = await peer.receive()
        assert code(bye_answer) == 200
        peer.send(peer.request("BYE", branch="z9hG4bKbye2", to_tag=tag, cseq=3), where)
        assert code(await peer.receive()) == 481  # the dialog is gone
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_no_ack_gives_up_after_64_t1_and_sends_bye() -> None:
    stack, core, where = await start_uas()
    peer = Peer()
    try:
        peer.send(
            peer.request("INVITE", body=OFFER, extra="Content-Type: application/sdp\r\n"), where
        )
        oks = 0
        while True:
            message = await peer.receive()
            if message.is_request:
                break
            oks += code(message) == 200
        # 64*T1 = 1.28 s with T1 = 20 ms, doubling up to T2 = 80 ms: many retransmissions.
        assert oks >= 5
        assert str(message.start_line.method) == "BYE"  # type: ignore[union-attr]
        assert message.headers["call_id"] == "call-1"
        assert message.headers["to"].params["tag"] == "peer1"
        assert str(message.start_line.request_uri) == f"sip:peer@127.0.0.1:{peer.port}"  # type: ignore[union-attr]
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_cancel_of_a_ringing_invite_gets_200_and_487() -> None:
    stack, core, where = await start_uas(ring=10.0)
    peer = Peer()
    try:
        peer.send(peer.request("INVITE", branch="z9hG4bKinv1"), where)
        assert code(await peer.receive()) == 180
        peer.send(peer.request("CANCEL", branch="z9hG4bKinv1"), where)
        answers = {
            str(m.headers["cseq"].method): code(m)
            for m in [await peer.receive(), await peer.receive()]
        }
        assert answers == {"CANCEL": 200, "INVITE": 487}
        peer.send(peer.request("CANCEL", branch="z9hG4bKnone"), where)
        assert code(await peer.receive()) == 481  # nothing to cancel
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_answer_code_option() -> None:
    stack, core, where = await start_uas(answer=486)
    peer = Peer()
    try:
        peer.send(peer.request("INVITE"), where)
        assert [code(await peer.receive()), code(await peer.receive())] == [180, 486]
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_ring_0_sends_no_180() -> None:
    stack, core, where = await start_uas(answer=486, ring=0)
    peer = Peer()
    try:
        peer.send(peer.request("INVITE"), where)
        assert code(await peer.receive()) == 486
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_unsupported_and_unknown_methods() -> None:
    stack, core, where = await start_uas()
    peer = Peer()
    try:
        peer.send(peer.request("REGISTER"), where)
        answer = await peer.receive()
        assert code(answer) == 405 and "allow" in answer.headers
        peer.send(peer.request("FROBNICATE"), where)
        answer = await peer.receive()
        assert code(answer) == 501 and "allow" in answer.headers
        peer.send(peer.request("BYE", to_tag="unknown"), where)
        assert code(await peer.receive()) == 481
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_unknown_require_gets_420_with_unsupported_rfc4475_bext01() -> None:
    stack, core, where = await start_uas()
    peer = Peer()
    try:
        wire = (
            (RFC4475 / "bext01.dat")
            .read_bytes()
            .replace(
                b"SIP/2.0/TLS fold-and-staple.example.com",
                f"SIP/2.0/UDP 127.0.0.1:{peer.port}".encode(),
            )
        )
        peer.sock.sendto(wire, where)
        answer = await peer.receive()
        assert code(answer) == 420
        assert answer.headers["unsupported"] == ["nothingSupportsThis", "nothingSupportsThisEither"]
    finally:
        peer.close()
        core.close()
        await stack.close()


def test_sdp_answer_without_offer_is_an_offer() -> None:
    sdp = SdpSession("::1").answer(b"").decode()
    assert "c=IN IP6 ::1\r\n" in sdp
    assert "m=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n" in sdp


def test_sdp_answer_mirrors_the_direction_rfc3264_6_1() -> None:
    session = SdpSession("127.0.0.1")
    for offered, answered in [
        ("sendonly", "recvonly"),
        ("recvonly", "sendonly"),
        ("inactive", "inactive"),
        ("sendrecv", "sendrecv"),
    ]:
        sdp = session.answer(f"{OFFER}a={offered}\r\n".encode()).decode()
        assert f"m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na={answered}\r\n" in sdp
    # A session-level direction applies to every stream that has none of its own.
    held = OFFER.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    assert "a=recvonly\r\n" in session.answer(held.encode()).decode()


def test_sdp_origin_keeps_its_session_id_and_grows_its_version_rfc3264_8() -> None:
    session = SdpSession("127.0.0.1")
    origins = [session.answer(OFFER.encode()).decode().split("\r\n")[1] for _ in range(3)]
    ids = {line.split()[1] for line in origins}
    assert len(ids) == 1
    assert [int(line.split()[2]) for line in origins] == [1, 2, 3]


def test_sdp_refused_stream_stays_refused() -> None:
    offer = OFFER + "m=video 0 RTP/AVP 31\r\n"
    sdp = SdpSession("127.0.0.1").answer(offer.encode()).decode()
    assert sdp.endswith("m=video 0 RTP/AVP 31\r\n")


@async_test
async def test_answer_codes_carry_the_header_fields_they_require() -> None:
    wanted = {
        401: "www_authenticate",
        407: "proxy_authenticate",
        302: "contact",
        405: "allow",
        415: "accept",
        420: "unsupported",
        421: "require",
        423: "min_expires",
    }
    redirect = [URI.parse("sip:elsewhere@127.0.0.1:5099")]
    for answer, header in wanted.items():
        stack, core, where = await start_uas(answer=answer, ring=0, redirect=redirect)
        peer = Peer()
        try:
            peer.send(peer.request("INVITE", branch=f"z9hG4bKanswer{answer}"), where)
            response = await peer.receive()
            assert code(response) == answer
            assert response.headers.get(header), (answer, response.headers)
            assert response.headers["server"].startswith("sippet/")
            if answer == 302:
                assert [str(c.uri) for c in response.headers["contact"]] == [str(redirect[0])]
            if answer in (401, 407):
                [*challenges] = response.headers[header]
                assert [c.params["algorithm"] for c in challenges] == ["SHA-256", "MD5"]
        finally:
            peer.close()
            core.close()
            await stack.close()


@async_test
async def test_180_carries_server_and_reinvite_keeps_the_sdp_session() -> None:
    stack, core, where = await start_uas()
    peer = Peer()
    try:
        sdp = "Content-Type: application/sdp\r\n"
        peer.send(peer.request("INVITE", body=OFFER, extra=sdp), where)
        ringing = await peer.receive()
        assert code(ringing) == 180 and ringing.headers["server"].startswith("sippet/")
        ok = await peer.receive()
        tag = ok.headers["to"].params["tag"]
        peer.send(peer.request("ACK", to_tag=tag), where)
        held = OFFER + "a=sendonly\r\n"
        peer.send(peer.request("INVITE", to_tag=tag, cseq=2, body=held, extra=sdp), where)
        again = await peer.receive()
        while code(again) != 200 or again.headers["cseq"].seq != 2:
            again = await peer.receive()
        first, second = (m.body.decode().split("\r\n")[1].split() for m in (ok, again))
        # RFC 3264 §8: same session id, version one higher; §6.1: hold is answered recvonly.
        assert second[1] == first[1] and int(second[2]) == int(first[2]) + 1
        assert "a=recvonly\r\n" in again.body.decode()
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_2xx_retransmissions_never_come_before_their_time() -> None:
    # RFC 3261 §13.3.1.4: the 2xx again after T1, 2*T1, 4*T1... capped at T2, until the
    # ACK; after 64*T1 without it, a BYE. Timers never fire early, so the arrival of the
    # n-th copy is at least the sum of the intervals before it (a lower bound only: a
    # loaded machine may be late, never early).
    stack, core, where = await start_uas(ring=0)
    peer = Peer()
    loop = asyncio.get_running_loop()
    try:
        peer.send(
            peer.request("INVITE", body=OFFER, extra="Content-Type: application/sdp\r\n"), where
        )
        arrivals: list[float] = []
        while True:
            message = await peer.receive()
            if message.is_request:
                bye_at = loop.time()
                break
            arrivals.append(loop.time())
        assert str(message.start_line.method) == "BYE"  # type: ignore[union-attr]
        due, interval = 0.0, FAST.t1
        for arrival in arrivals[1:]:
            due += interval
            interval = min(2 * interval, FAST.t2)
            assert arrival - arrivals[0] >= due - 0.002
        assert bye_at - arrivals[0] >= 64 * FAST.t1 - 0.002
    finally:
        peer.close()
        core.close()
        await stack.close()


@async_test
async def test_contact_names_the_transport_the_request_came_by() -> None:
    stack = Stack(name="uas-tcp", timers=FAST)
    await stack.start()
    transport = await stack.add_transport(TCP("127.0.0.1", 0))
    core = UASCore(stack, transport, ring=0)
    stack.register_core(core)
    reader, writer = await asyncio.open_connection(*transport.local_address[:2])
    try:
        port = writer.get_extra_info("sockname")[1]
        invite = (
            "INVITE sip:uas@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bKtcp1\r\n"
            "From: <sip:peer@127.0.0.1>;tag=t1\r\nTo: <sip:uas@127.0.0.1>\r\n"
            "Call-ID: tcp-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
            f"Contact: <sip:peer@127.0.0.1:{port};transport=tcp>\r\nContent-Length: 0\r\n\r\n"
        )
        writer.write(invite.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        length = re.search(rb"Content-Length: (\d+)", head)
        assert length is not None
        body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), TIMEOUT)
        response = Message.parse(head + body)
        assert code(response) == 200
        [contact] = response.headers["contact"]
        assert contact.uri.parameters == {"transport": "tcp"}
        assert contact.uri.port == transport.local_address[1]
    finally:
        writer.close()
        core.close()
        await stack.close()


def test_report_counts_unknown_methods_together() -> None:
    # The network chooses method names: one counter for all the unknown ones.
    report = TransactionReport(None)
    peer = Peer()
    try:
        for method in ("FOO", "BAR", "OPTIONS"):
            report.received(Message.parse(peer.request(method).encode()))
    finally:
        peer.close()
    assert report.summary() == "requests: OPTIONS 1, other 2; responses: none"
