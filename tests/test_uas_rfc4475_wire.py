"""Every RFC 4475 message sent to `sippet uas` over UDP gets the answer RFC 4475 prescribes
for an endpoint (the verdicts of tests/endpoint/test_rfc4475_verdicts.py, from
tests/data/rfc4475/README.md): the refusal's status, a 2xx for a request it accepts, and
nothing at all for a response or a request without a usable Via.

The top Via of each message is rewritten to this test's socket, ``SIP/2.0/UDP
127.0.0.1:PORT``: the response must come back here (RFC 3261 §18.2.2 sends it to the
sent-by port, and the messages name hosts of example.com), and the transport it names must
be the one the message came by. RFC 3261 §18.1.1 and §18.2.1: the Via records the transport
the request was sent over; a Via saying TCP or TLS on a datagram is a request that did not
travel as it says, and ``validate`` refuses it (``via_protocol_mismatch``). The torture
messages are about their other fields; the rewrite keeps the Via's version (badvers), its
parameters (badinv01's stay broken, badbranch's bare cookie stays) and everything after it.

"Nothing is sent" is checked without waiting for a silence: an OPTIONS follows on the same
socket, and the UAS handles the datagrams of one peer in order, so its 200 must be the first
thing that comes back.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from endpoint.test_rfc4475_verdicts import VERDICTS
from sippet import Message
from test_cli import UAS

RFC4475 = Path(__file__).parent / "data" / "rfc4475"
TIMEOUT = 10.0
FOLD = rb"(?:\r\n[ \t]+)?[ \t]*"
TOP_VIA = re.compile(
    rb"(?im)^(?:via|v)[ \t]*:[ \t]*SIP"
    + FOLD
    + rb"/"
    + FOLD
    + rb"(\d\.\d)"
    + FOLD
    + rb"/"
    + FOLD
    + rb"[A-Za-z]+"
    + FOLD
    + rb"[^;,\s]+"
)
COPIED_RAW = {"badaspec", "baddn", "quotbal", "scalar02"}
"""Their 400 copies the To, From or CSeq that did not parse as it came: it does not parse."""
ACCEPTED = 200  # with --ring 0 an INVITE gets its 200 at once, as an OPTIONS does


@pytest.fixture(scope="module")
def uas() -> Iterator[UAS]:
    server = UAS("127.0.0.1", "--ring", "0", "--quiet")
    try:
        yield server
    finally:
        assert server.stop() == 0


def via_to(data: bytes, port: int) -> bytes:
    rewritten, count = TOP_VIA.subn(
        lambda match: b"Via: SIP/" + match.group(1) + b"/UDP 127.0.0.1:%d" % port, data, 1
    )
    assert count == 1
    return rewritten


def probe(port: int) -> bytes:
    return (
        "OPTIONS sip:uas@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKprobe\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:uas@127.0.0.1>\r\n"
        "Call-ID: probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def first_answer(uas: UAS, data: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(TIMEOUT)
        port = peer.getsockname()[1]
        peer.sendto(via_to(data, port), ("127.0.0.1", uas.port))
        peer.sendto(probe(port), ("127.0.0.1", uas.port))
        while True:
            answer = peer.recvfrom(70000)[0]
            if status_of(answer) != 100:
                return answer


def status_of(response: bytes) -> int:
    """From the status line alone: a response to a malformed request copies its broken
    To, From or CSeq as they came (RFC 3261 §8.2.6.2), which would not parse here."""
    return int(response.split(b" ", 2)[1])


def call_id_of(response: bytes) -> bytes | None:
    match = re.search(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)", response)
    return match.group(1) if match else None


def expected(name: str, data: bytes) -> int | None:
    """The verdict's status; for an accepted request, the 2xx it gets."""
    verdict = VERDICTS[name]
    if name == "wsinv":
        return 481  # accepted, and it carries a To tag for no dialog of ours (§12.2.2)
    if verdict is None and not data.startswith(b"SIP/") and name != "badinv01":
        return ACCEPTED
    return verdict


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_rfc4475_message_gets_the_endpoint_answer(uas: UAS, name: str) -> None:
    data = (RFC4475 / f"{name}.dat").read_bytes()
    answer = first_answer(uas, data)
    status = status_of(answer)
    wanted = expected(name, data)
    if wanted is None:
        # Nothing for this message: the probe's 200 comes first.
        assert (status, call_id_of(answer)) == (200, b"probe@127.0.0.1"), name
        return
    assert status == wanted, f"{name}: {answer[:60]!r}"
    assert call_id_of(answer) != b"probe@127.0.0.1"  # the answer to the message itself
    if name in COPIED_RAW:
        return
    headers = Message.parse(answer).headers
    if wanted == 415:
        assert [m.media for m in headers["accept"]] == [("application", "sdp")]  # §21.4.13
    if wanted == 405 or name in ("intmeth", "esc02"):
        assert "INVITE" in [str(m) for m in headers["allow"]]  # §21.4.6, RFC 4475 §3.1.1.2
    if wanted == 420:
        assert headers["unsupported"] == ["nothingSupportsThis", "nothingSupportsThisEither"]
