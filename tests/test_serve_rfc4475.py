"""RFC 4475 through ``sippet serve`` (``--domain example.com --no-relay``, memory store): the
verdicts of tests/data/rfc4475/README.md for a proxy, and for the registrar on the
REGISTER messages. Each message goes over UDP from a socket whose address replaces the
message's top Via, so that the answer comes back to it."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from interop.serve_node import ServeNode
from interop.sip_peers import HOST
from sippet import Message

TIMEOUT = 10.0
SERVE = ["--domain", "example.com", "--no-relay", "--store", "memory:"]

PROXY_VERDICTS = {
    # §3.3: semantics a proxy must act on.
    "zeromf": 483,  # Max-Forwards 0: not forwarded
    "bext01": 420,  # Proxy-Require with unknown tags
    "unkscm": 416,  # unknown Request-URI scheme
    "novelsc": 416,  # soap.beep: never accepted
    # §3.1.2, §3.3: invalid messages answered, never forwarded.
    "badinv01": 400,
    "clerr": 400,
    "ncl": 400,
    "scalar02": 400,
    "quotbal": 400,
    "ltgtruri": 400,
    "lwsruri": 400,
    "lwsstart": 400,
    "trws": 400,
    "escruri": 400,
    "baddate": 400,
    "regbadct": 400,
    "badaspec": 400,
    "baddn": 400,
    "badvers": 505,
    "mismatch01": 400,
    "mismatch02": 501,
    "insuf": 400,
    "multi01": 400,
    "mcl01": 400,
    # §3.1.1, §3.3: valid requests for a user of the domain with no binding: accepted and
    # routed, and the target set is empty (480; "forward, or 404" in the verdicts).
    "intmeth": 480,
    "lwsdisp": 480,
    "semiuri": 480,
    "longreq": 480,
    "transports": 480,
    "invut": 480,  # a proxy forwards any body type
    "sdp01": 480,  # Accept is the callee's business
    "badbranch": 480,  # RFC 2543-style matching: still a request to route
    # A user of another domain with relaying off.
    "esc01": 403,
}

REGISTRAR_VERDICTS = {
    "cparam01": 200,
    "cparam02": 200,
    "regescrt": 200,
    "regaut01": 200,  # no users file: the unknown Authorization scheme is ignored
    "dblreq": 200,  # the trailing octets of the datagram are not a second message
    "escnull": 200,
    "unksm2": 400,  # To is not a SIP AOR
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeNode]:
    with ServeNode(tmp_path_factory.mktemp("serve"), SERVE) as started:
        yield started


def exchange(port: int, data: bytes) -> tuple[int, bytes]:
    """The final status code and the raw response (a 400 echoes the malformed headers,
    which need not parse)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(TIMEOUT)
        via = f"Via: SIP/2.0/UDP {HOST}:{sock.getsockname()[1]};branch=z9hG4bK{uuid.uuid4().hex}"
        sock.sendto(re.sub(rb"Via: [^\r\n]*", via.encode(), data, count=1), (HOST, port))
        while True:
            raw = sock.recv(65535)
            match = re.match(rb"SIP/2\.0 (\d{3}) ", raw)
            assert match, raw
            if int(match.group(1)) >= 200:
                return int(match.group(1)), raw


@pytest.mark.parametrize(("name", "status"), sorted(PROXY_VERDICTS.items()))
def test_proxy_verdict(
    node: ServeNode, rfc4475: Callable[[str], bytes], name: str, status: int
) -> None:
    code, raw = exchange(node.port, rfc4475(name))
    assert code == status, raw
    if name == "bext01":  # the Proxy-Require tags, not Require's (proxy role)
        assert Message.parse(raw).headers["unsupported"] == [
            "noProxiesSupportThis",
            "norDoAnyProxiesSupportThis",
        ]


@pytest.mark.parametrize(("name", "status"), sorted(REGISTRAR_VERDICTS.items()))
def test_registrar_verdict(
    tmp_path: Path, rfc4475: Callable[[str], bytes], name: str, status: int
) -> None:
    with ServeNode(tmp_path, SERVE) as registrar:
        code, raw = exchange(registrar.port, rfc4475(name))
    assert code == status, raw
    answer = Message.parse(raw)
    if name == "cparam02":  # the url-parameter stays in the contact URI
        assert "unknownparam" in answer.headers["contact"][0].uri.parameters
    if name == "cparam01":  # a header parameter, not a url-parameter
        contact = answer.headers["contact"][0]
        assert "unknownparam" in contact.params
        assert "unknownparam" not in contact.uri.parameters
