"""`python -m sippet uas` over the wire: a subprocess, and a raw UDP socket on loopback that
plays the caller (and, for the BYE, the proxy that record-routed). What is asserted is RFC
3261 behaviour, so that these tests hold for any rebuild of the UAS:

- a re-INVITE within the dialog is answered in it, one for an unknown dialog gets 481
  (§12.2.2, §14.2);
- a CANCEL after the final response gets 200 and changes nothing: no 487 (§9.2);
- a BYE while the 2xx is still retransmitted ends the dialog and the retransmissions
  (§13.3.1.4, §15.1.2);
- the BYE the UAS sends when no ACK comes follows the Record-Route of the INVITE, in order,
  to the caller's Contact (§12.1.1, §12.2.1.1, §13.3.1.4);
- a UAS bound to 0.0.0.0 puts a reachable address in Contact and SDP (§8.1.1.8, RFC 3264);
- a transaction that fails at the transport (the 180 too large for UDP) is cleaned up: a
  later CANCEL finds no call to end with 487 (§17.2.4 as amended by RFC 6026 §8.8).

The UAS runs with its default timers (T1 = 500 ms), so the waits below are bounded by them.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator

import pytest
from sippet import CSeq, Message, Method
from test_cli import UAS

TIMEOUT = 10.0
T1 = 0.5  # the UAS's default (RFC 3261 §17.1.1.1)

OFFER = (
    "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
_numbers = itertools.count(1)


class Caller:
    """A raw UDP socket that writes requests by hand and reads what comes back."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(TIMEOUT)
        self.port: int = self.sock.getsockname()[1]
        self.call_id = f"wire-{next(_numbers)}@127.0.0.1"

    def request(
        self,
        method: str,
        *,
        cseq: int = 1,
        branch: str | None = None,
        to_tag: str | None = None,
        cseq_method: str | None = None,
        sent_by_port: int | None = None,
        extra: str = "",
        body: str = "",
    ) -> str:
        to = "<sip:uas@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        branch = branch or f"z9hG4bKwire{next(_numbers)}"
        port = sent_by_port or self.port
        return (
            f"{method} sip:uas@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@127.0.0.1>;tag=caller1\r\n"
            f"To: {to}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {cseq} {cseq_method or method}\r\n"
            f"Contact: <sip:caller@127.0.0.1:{self.port}>\r\n"
            f"{extra}"
            + ("Content-Type: application/sdp\r\n" if body else "")
            + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
        )

    def send(self, text: str, uas: UAS) -> None:
        self.sock.sendto(text.encode(), ("127.0.0.1", uas.port))

    def receive(self, timeout: float = TIMEOUT) -> Message:
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(70000)
        return Message.parse(data)

    def until(self, wanted: int, method: str) -> tuple[Message, list[Message]]:
        """Read until a response ``wanted`` to ``method`` arrives; also return what came
        before it."""
        before: list[Message] = []
        while True:
            message = self.receive()
            if status(message) == wanted and message.headers["cseq"].method == method:
                return message, before
            before.append(message)

    def nothing_within(self, seconds: float) -> list[Message]:
        """Whatever arrives within ``seconds`` (the test expects nothing)."""
        arrived = []
        try:
            while True:
                arrived.append(self.receive(seconds))
        except TimeoutError:
            return arrived

    def close(self) -> None:
        self.sock.close()


def status(message: Message) -> int | None:
    return getattr(message.start_line, "status_code", None)


def to_tag(message: Message) -> str:
    return str(message.headers["to"].params["tag"])


@pytest.fixture
def uas() -> Iterator[UAS]:
    server = UAS("127.0.0.1")
    try:
        yield server
    finally:
        assert server.stop() == 0


@pytest.fixture
def caller() -> Iterator[Caller]:
    peer = Caller()
    try:
        yield peer
    finally:
        peer.close()


def invite_answered(caller: Caller, uas: UAS, **options: str) -> Message:
    """INVITE, then read up to its 200; the 180 before it carries the same To tag."""
    caller.send(caller.request("INVITE", body=OFFER, **options), uas)
    ok, before = caller.until(200, "INVITE")
    assert [status(m) for m in before] == [180]
    assert to_tag(before[0]) == to_tag(ok)
    return ok


def ack(caller: Caller, uas: UAS, ok: Message, cseq: int = 1) -> None:
    caller.send(caller.request("ACK", cseq=cseq, to_tag=to_tag(ok)), uas)


def test_reinvite_within_the_dialog_is_answered_in_it(uas: UAS, caller: Caller) -> None:
    ok = invite_answered(caller, uas)
    ack(caller, uas, ok)
    tag = to_tag(ok)
    # RFC 3261 §14.2: a re-INVITE carries the dialog's To tag and a higher CSeq.
    caller.send(caller.request("INVITE", cseq=2, to_tag=tag, body=OFFER), uas)
    again = caller.receive()
    assert status(again) == 200  # within a dialog: no 180 first
    assert to_tag(again) == tag and again.headers["cseq"] == CSeq(2, Method.INVITE)
    assert again.headers["call_id"] == caller.call_id
    assert b"m=audio " in again.body
    ack(caller, uas, again, cseq=2)
    caller.send(caller.request("BYE", cseq=3, to_tag=tag), uas)
    bye_ok, retransmitted = caller.until(200, "BYE")
    assert retransmitted == []  # the ACKs stopped both 2xx retransmissions
    assert to_tag(bye_ok) == tag


def test_reinvite_for_an_unknown_dialog_gets_481(uas: UAS, caller: Caller) -> None:
    # §12.2.2: a request with a To tag that matches no dialog gets 481.
    caller.send(caller.request("INVITE", to_tag="nosuchdialog", body=OFFER), uas)
    answer = caller.receive()
    assert status(answer) == 481
    assert to_tag(answer) == "nosuchdialog"


def test_cancel_after_the_final_response_gets_200_and_no_487(uas: UAS, caller: Caller) -> None:
    branch = "z9hG4bKcancel-late"
    ok = invite_answered(caller, uas, branch=branch)
    # §9.2: the CANCEL matches the INVITE's transaction (same branch), which has already
    # answered: 200 for the CANCEL, and the INVITE is left as it is.
    caller.send(caller.request("CANCEL", branch=branch), uas)
    cancel_ok, before = caller.until(200, "CANCEL")
    assert all(status(m) == 200 for m in before)  # only 2xx retransmissions, no 487
    assert cancel_ok.headers["via"][0].branch == branch
    # A 487 would have left with the CANCEL's 200; the OPTIONS answer comes after it.
    caller.send(caller.request("OPTIONS", cseq=5), uas)
    _options_ok, between = caller.until(200, "OPTIONS")
    assert [m.headers["cseq"].method for m in between] == ["INVITE"] * len(between)
    assert all(status(m) == 200 for m in between)
    # The call is up: the ACK and a BYE end it.
    ack(caller, uas, ok)
    caller.send(caller.request("BYE", cseq=2, to_tag=to_tag(ok)), uas)
    caller.until(200, "BYE")


def test_bye_while_the_2xx_is_retransmitted_ends_the_retransmissions(
    uas: UAS, caller: Caller
) -> None:
    ok = invite_answered(caller, uas)
    tag = to_tag(ok)
    caller.send(caller.request("BYE", cseq=2, to_tag=tag), uas)  # no ACK first
    bye_ok, before = caller.until(200, "BYE")
    assert to_tag(bye_ok) == tag
    assert all(m.headers["cseq"].method == "INVITE" for m in before)
    # Retransmissions of the 2xx would come at T1, 3*T1, 7*T1 after it: none may come.
    assert caller.nothing_within(4 * T1) == []


def test_uas_bye_follows_the_record_route_to_the_callers_contact(caller: Caller) -> None:
    # The caller never ACKs: after 64*T1 the UAS ends the dialog with a BYE (§13.3.1.4),
    # built from the dialog's route set, the INVITE's Record-Route in order (§12.1.1),
    # sent to the first (loose) route: here a socket that plays the proxy.
    proxy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    proxy.bind(("127.0.0.1", 0))
    proxy.settimeout(64 * T1 + TIMEOUT)
    proxy_port = proxy.getsockname()[1]
    record_route = f"Record-Route: <sip:127.0.0.1:{proxy_port};lr>, <sip:p2.example.com;lr>\r\n"
    server = UAS("127.0.0.1")
    try:
        ok = invite_answered(caller, server, extra=record_route)
        # §12.1.1: the UAS copies the Record-Route into its 2xx, in order.
        assert [str(r.uri) for r in ok.headers["record_route"]] == [
            f"sip:127.0.0.1:{proxy_port};lr",
            "sip:p2.example.com;lr",
        ]
        data, _ = proxy.recvfrom(70000)
        bye = Message.parse(data)
        assert str(bye.start_line.method) == "BYE"  # type: ignore[union-attr]
        # §12.2.1.1: Request-URI the remote target (the caller's Contact), Route the set.
        assert str(bye.start_line.request_uri) == f"sip:caller@127.0.0.1:{caller.port}"  # type: ignore[union-attr]
        assert [str(r.uri) for r in bye.headers["route"]] == [
            f"sip:127.0.0.1:{proxy_port};lr",
            "sip:p2.example.com;lr",
        ]
        # From and To swap: the UAS's tag is now the From tag (§12.2.1.1).
        assert bye.headers["from"].params["tag"] == to_tag(ok)
        assert bye.headers["to"].params["tag"] == "caller1"
        assert bye.headers["call_id"] == caller.call_id
    finally:
        proxy.close()
        assert server.stop() == 0


def test_uas_bound_to_the_wildcard_address_gives_a_reachable_contact_and_sdp(
    caller: Caller,
) -> None:
    server = UAS("0.0.0.0")
    try:
        ok = invite_answered(caller, server)
        [contact] = ok.headers["contact"]
        # Never 0.0.0.0: the address the caller reaches the UAS at (§8.1.1.8).
        assert (contact.uri.host, contact.uri.port) == ("127.0.0.1", server.port)
        sdp = ok.body.decode()
        assert "\r\nc=IN IP4 127.0.0.1\r\n" in sdp
        assert " IN IP4 127.0.0.1\r\n" in sdp.split("\r\n", 2)[1] + "\r\n"  # o= line
        assert "0.0.0.0" not in sdp
        ack(caller, server, ok)
    finally:
        assert server.stop() == 0


def test_transaction_failed_at_the_transport_is_cleaned_up(caller: Caller) -> None:
    # The 180 copies the INVITE's Record-Route (§12.1.1), which the serializer writes one
    # byte longer per entry ("a<sip:...>" becomes "a <sip:...>"): the INVITE fits in a
    # datagram, its 180 does not. The send fails at once (EMSGSIZE) and the UAS hears of
    # it through receive_error: the ringing call must be forgotten then. The INVITE
    # transaction stays (RFC 6026 §8.8), so a CANCEL still matches it and gets 200; but no
    # 487 may follow for a forgotten call.
    entries = ", ".join(f"a<sip:p{n};lr>" for n in range(505))
    assert len(f"Record-Route: {entries}") < 8_192  # the parser's default line limit
    record_route = f"Record-Route: {entries}\r\n" * 8
    branch = "z9hG4bKtoolarge"
    invite = caller.request("INVITE", branch=branch, extra=record_route)
    assert len(invite) < 65_507  # one UDP datagram
    assert len(bytes(Message.parse(invite))) > 65_507 + 1_000  # what any response copying
    server = UAS("127.0.0.1", "--ring", "30")  # the Record-Route would write, and more
    try:
        caller.send(invite, server)
        # Handled in order: the INVITE (and its failed 180) before this OPTIONS.
        caller.send(caller.request("OPTIONS", cseq=7), server)
        _ok, before = caller.until(200, "OPTIONS")
        assert before == []
        caller.send(caller.request("CANCEL", branch=branch), server)
        cancel_ok, before = caller.until(200, "CANCEL")
        assert before == []
        assert cancel_ok.headers["via"][0].branch == branch
        # A 487 would leave with the CANCEL's 200, before this OPTIONS is read.
        caller.send(caller.request("OPTIONS", cseq=8), server)
        _ok, between = caller.until(200, "OPTIONS")
        assert [status(m) for m in between] == []
    finally:
        assert server.stop() == 0
