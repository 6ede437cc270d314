"""RFC 4475 (SIP torture test messages) against the parser and serializer.

The oracle is the RFC: the verdict table of RFC 4475 §3 (summarised in
``tests/data/rfc4475/README.md``) and the bytes of each Appendix A message. Expected field
values below are read off the messages by hand, following RFC 3261 §7 and §25 (unfolding,
quoted-pair and %HH decoding, header vs URI parameters), never copied from parser output.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import sippet
from helpers.messages import Load, RoundTrip
from sippet import (
    URI,
    Auth,
    CSeq,
    MediaType,
    Message,
    Method,
    NameAddr,
    ParseError,
    RequestLine,
    SentBy,
    StatusLine,
    ValidationError,
    Via,
)
from sippet._native import StreamFramer

SDP = MediaType(("application", "sdp"), {})


def sip(
    user: str | None,
    host: str,
    port: int | None = None,
    params: dict[str, str | None] | None = None,
    headers: dict[str, str] | None = None,
    password: str | None = None,
) -> URI:
    return URI("sip", user, password, host, port, params or {}, headers or {})


def via(protocol: str, host: str, port: int | None = None, **params: str | None) -> Via:
    return Via((2, 0), protocol, SentBy(host, port), dict(params))


def body_of(data: bytes) -> bytes:
    return data[data.index(b"\r\n\r\n") + 4 :]


# ---------------------------------------------------------------------------------------
# The verdict table, RFC 4475 §3 (and the project decisions for the liberal cases).

ACCEPTED = [
    # §3.1.1: valid messages
    "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq",
    "semiuri", "transports", "mpart01", "unreason", "noreason",
    # §3.2, §3.3, §3.4: valid syntax, the application decides
    "badbranch", "insuf", "unkscm", "novelsc", "unksm2", "bext01", "invut", "regaut01",
    "bcast", "zeromf", "cparam01", "cparam02", "regescrt", "sdp01", "inv2543",
    "mismatch01", "mismatch02",
]  # fmt: skip

# name -> (status_code or None for a response, fixed reason or None)
REJECTED: dict[str, tuple[int | None, str | None]] = {
    "badinv01": (400, None),  # §3.1.2.1 empty Via and Contact params
    "clerr": (400, None),  # §3.1.2.2 Content-Length 9999 > 154 octets (UDP)
    "ncl": (400, None),  # §3.1.2.3 Content-Length -999
    "scalar02": (400, None),  # §3.1.2.4 CSeq > 2**32-1
    "scalarlg": (None, None),  # §3.1.2.5 a response: just dropped
    "quotbal": (400, None),  # §3.1.2.6 unterminated quoted string
    "ltgtruri": (400, None),  # §3.1.2.7 <> around the Request-URI
    "lwsruri": (400, None),  # §3.1.2.8 LWS inside the Request-URI
    "lwsstart": (400, None),  # §3.1.2.9 two SPs between Request-Line elements
    "trws": (400, None),  # §3.1.2.10 SPs after SIP/2.0
    "escruri": (400, None),  # §3.1.2.11 escaped headers in the Request-URI
    "baddate": (400, None),  # §3.1.2.12 Date in EST
    "regbadct": (400, None),  # §3.1.2.13 URI with headers not in <>
    "badaspec": (400, None),  # §3.1.2.14 spaces inside <>
    "baddn": (400, None),  # §3.1.2.15 unquoted display name with a comma
    "badvers": (505, "unsupported_version"),  # §3.1.2.16 SIP/7.0
    "bigcode": (None, "invalid_status_code"),  # §3.1.2.19 4294967301
    "multi01": (400, "multiple_definition"),  # §3.3.8 two Call-ID, To, From, CSeq...
    "mcl01": (400, "multiple_definition"),  # §3.3.9 two Content-Length
}


def test_the_table_covers_every_file(rfc4475_dir: Path) -> None:
    names = {p.stem for p in rfc4475_dir.glob("*.dat")}
    assert len(names) == 50
    assert names == set(ACCEPTED) | set(REJECTED) | {"test"}
    assert not set(ACCEPTED) & set(REJECTED)


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_message_parses_and_round_trips(
    name: str, rfc4475: Load, round_trip: RoundTrip
) -> None:
    message = Message.parse(rfc4475(name))
    assert isinstance(message, Message)
    assert message.wire_order is True
    round_trip(message)


@pytest.mark.parametrize("name", [name for name in ACCEPTED if name != "mpart01"])
def test_accepted_message_parses_from_str_too(name: str, rfc4475: Load) -> None:
    # (mpart01 has a binary body: it is not UTF-8 text)
    data = rfc4475(name)
    assert Message.parse(data.decode("utf-8")) == Message.parse(data)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_message_raises_parse_error(name: str, rfc4475: Load) -> None:
    status_code, reason = REJECTED[name]
    with pytest.raises(ParseError) as info:
        Message.parse(rfc4475(name))
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error.reason, str) and error.reason
    assert isinstance(error.status_code, int)
    if status_code is not None:
        assert error.status_code == status_code
    if reason is not None:
        assert error.reason == reason


def test_test_dat_has_no_verdict_but_never_crashes(rfc4475: Load, round_trip: RoundTrip) -> None:
    # Not described in RFC 4475 §3: no SIP-Version, a header line without a colon.
    try:
        message = Message.parse(rfc4475("test"))
    except ParseError as error:
        assert isinstance(error.status_code, int)
        assert isinstance(error.reason, str)
    else:
        round_trip(message)


# ---------------------------------------------------------------------------------------
# §3.3.1, §3.1.2.17, §3.1.2.18: well-formed syntax, wrong semantics -> validate() rejects.


@pytest.mark.parametrize(
    ("name", "status_code"), [("mismatch01", 400), ("insuf", 400), ("mismatch02", 501)]
)
def test_semantic_errors_are_left_to_validate(name: str, status_code: int, rfc4475: Load) -> None:
    message = Message.parse(rfc4475(name))
    assert message.is_valid() is False  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as info:
        message.validate()  # type: ignore[attr-defined]
    assert isinstance(info.value, ValueError)
    assert info.value.status_code == status_code


@pytest.mark.parametrize(
    "name",
    [
        "wsinv", "esc01", "escnull", "lwsdisp", "longreq", "dblreq", "semiuri",
        "transports", "mpart01", "unreason", "noreason", "zeromf", "cparam01",
        "cparam02", "regescrt", "bcast",
    ],
)  # fmt: skip
def test_valid_messages_validate(name: str, rfc4475: Load) -> None:
    message = Message.parse(rfc4475(name))
    message.validate()  # type: ignore[attr-defined]
    assert message.is_valid() is True  # type: ignore[attr-defined]


def test_mismatch_messages_parse_with_their_cseq(rfc4475: Load) -> None:
    mismatch01 = Message.parse(rfc4475("mismatch01"))
    assert mismatch01.start_line.method == Method.OPTIONS  # type: ignore[union-attr]
    assert mismatch01.headers["cseq"] == CSeq(8, Method.INVITE)
    mismatch02 = Message.parse(rfc4475("mismatch02"))
    assert mismatch02.start_line.method == "NEWMETHOD"  # type: ignore[union-attr]
    assert not isinstance(mismatch02.start_line.method, Method)  # type: ignore[union-attr]
    assert mismatch02.headers["cseq"] == CSeq(8, Method.INVITE)
    assert len(mismatch02.body) == 138


def test_insuf_lacks_call_id_from_and_to(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("insuf"))
    assert list(message.headers) == ["cseq", "via", "content_type", "content_length"]
    assert message.headers["content_length"] == 152 == len(message.body)


# ---------------------------------------------------------------------------------------
# §3.1.1: the valid messages, field by field.


def test_wsinv(rfc4475: Load) -> None:
    data = rfc4475("wsinv")
    message = Message.parse(data)
    assert message.start_line == RequestLine(
        Method.INVITE, sip("vivekg", "chair-dnrc.example.com", params={"unknownparam": None})
    )
    assert message.start_line.version == (2, 0)
    expected: dict[str, Any] = {
        # "TO :" + folded value, LWS around ';' and '='
        "to": NameAddr("", sip("vivekg", "chair-dnrc.example.com"), {"tag": "1918181833n"}),
        # "J Rosenberg \\\"" : quoted-pairs \\ and \" resolved
        "from": NameAddr('J Rosenberg \\"', sip("jdrosen", "example.com"), {"tag": "98asjd8"}),
        "max_forwards": 68,  # 0068
        "call_id": "wsinv.ndaksdj@192.0.2.1",
        "content_length": 150,
        "cseq": CSeq(9, Method.INVITE),  # 0009, method folded onto the next line
        # one Via line with LWS around '/', then v: with two comma-separated values
        "via": [
            via("UDP", "192.0.2.2", branch="390skdjuw"),
            via("TCP", "spindle.example.com", branch="z9hG4bK9ikj8"),
            via("UDP", "192.168.255.111", branch="z9hG4bK30239"),
        ],
        "subject": "",  # "s :" empty
        "NewFangledHeader": ["newfangled value continued newfangled value"],
        "UnknownHeaderWithUnusualValue": [";;,,;;,;"],
        "content_type": SDP,
        "route": [
            NameAddr(
                "",
                sip(
                    None,
                    "services.example.com",
                    params={"lr": None, "unknownwith": "value", "unknown-no-value": None},
                ),
                {},
            )
        ],
        "contact": [
            NameAddr(
                'Quoted string ""',
                sip("jdrosen", "example.com"),
                {"newparam": "newvalue", "secondparam": None, "q": "0.33"},
            )
        ],
    }
    assert message.headers == expected
    # A parsed message keeps wire order (first appearance; Via merged at its first line).
    assert list(message.headers) == list(expected)
    assert message.headers["cseq"].method is Method.INVITE
    assert message.headers["via"][0].branch == "390skdjuw"
    assert message.body == body_of(data)
    assert len(message.body) == 150


def test_wsinv_serialization_keeps_unknown_values_verbatim(rfc4475: Load) -> None:
    wire = bytes(Message.parse(rfc4475("wsinv")))
    assert b"\r\nUnknownHeaderWithUnusualValue: ;;,,;;,;\r\n" in wire
    assert b"\r\nNewFangledHeader: newfangled value continued newfangled value\r\n" in wire
    # Canonical names on output (RFC 3261 §7.3.1 names are case-insensitive on input).
    assert wire.startswith(b"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n")
    assert b"\r\nMax-Forwards: 68\r\n" in wire
    assert b"\r\nCSeq: 9 INVITE\r\n" in wire


def test_intmeth(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("intmeth"))
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    user = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert message.start_line == RequestLine(
        method,
        sip(user, "example.com", password="&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"),
    )
    assert not isinstance(message.start_line.method, Method)  # type: ignore[union-attr]
    assert message.headers == {
        "via": [via("TCP", "host1.example.com", branch="z9hG4bK-.!%66*_+`'~")],
        # quoted-pairs of NUL, BEL and DEL are the raw characters
        "to": NameAddr("BEL:\x07 NUL:\x00 DEL:\x7f", sip(user, "example.com"), {}),
        # a display name of several tokens; a param whose name has odd token chars
        # (lowercased) and a UTF-8 quoted value
        "from": NameAddr(
            "token1~` token2'+_ token3*%!.-",
            sip("mundane", "example.com"),
            {"fromparam''~+*_!.-%": "работающий", "tag": "_token~1'+`*%!-."},
        ),
        "call_id": "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        "cseq": CSeq(139122385, method),
        "max_forwards": 255,
        "extensionHeader-!.%*+_`'~": ["\ufeff大停電"],
        "content_length": 0,
    }
    assert message.body == b""


def test_intmeth_serializes_control_chars_as_quoted_pairs(rfc4475: Load) -> None:
    # RFC 3261 §25.1: NUL, BEL, DEL are not qdtext; only a quoted-pair can carry them.
    wire = bytes(Message.parse(rfc4475("intmeth")))
    to_line = next(line for line in wire.split(b"\r\n") if line.startswith(b"To:"))
    assert b'"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"' in to_line


def test_esc01(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("esc01"))
    # %3A and %40 decode to ':' and '@' inside the user part
    assert message.start_line == RequestLine(
        Method.INVITE, sip("sips:user@example.com", "example.net")
    )
    assert message.headers == {
        "to": NameAddr("", sip("user", "example.com"), {}),  # %75se%72
        "from": NameAddr("", sip("I have spaces", "example.net"), {"tag": "938"}),
        "max_forwards": 87,
        "call_id": "esc01.239409asdfakjkn23onasd0-3234",
        "cseq": CSeq(234234, Method.INVITE),
        "via": [via("UDP", "host5.example.net", branch="z9hG4bKkdjuw")],
        "content_type": SDP,  # "C:" compact form, upper case
        "contact": [
            NameAddr(
                "",
                # cal%6Cer, %6C%72 (lr), n%61me=v%61lue%25%34%31 (name=value%41)
                sip("caller", "host5.example.net", params={"lr": None, "name": "value%41"}),
                {},
            )
        ],
        "content_length": 150,
    }
    assert len(message.body) == 150


def test_esc01_serialization_re_escapes(rfc4475: Load) -> None:
    wire = bytes(Message.parse(rfc4475("esc01")))
    request_line = wire.split(b"\r\n", 1)[0].decode()
    # ':' and '@' are not allowed unescaped in the user part (RFC 3261 §25.1 "user")
    assert request_line.lower() == "invite sip:sips%3auser%40example.com@example.net sip/2.0"


def test_escnull(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("escnull"))
    assert message.start_line == RequestLine(Method.REGISTER, sip(None, "example.com"))
    assert message.headers == {
        "to": NameAddr("", sip("null-\x00-null", "example.com"), {}),
        "from": NameAddr("", sip("null-\x00-null", "example.com"), {"tag": "839923423"}),
        "max_forwards": 70,
        "call_id": "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
        "cseq": CSeq(14398234, Method.REGISTER),
        "via": [via("UDP", "host5.example.com", branch="z9hG4bKkdjuw")],
        # two distinct contacts: unescaping must not stop at %00
        "contact": [
            NameAddr("", sip("\x00", "host5.example.com"), {}),
            NameAddr("", sip("\x00\x00", "host5.example.com"), {}),
        ],
        "content_length": 0,  # "L:0"
    }
    first, second = message.headers["contact"]
    assert first != second


def test_esc02(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("esc02"))
    # % is no escape in a method: RE%47IST%45R is an unknown method, not REGISTER
    assert message.start_line == RequestLine("RE%47IST%45R", sip(None, "registrar.example.com"))
    assert message.start_line.method != Method.REGISTER  # type: ignore[union-attr]
    expected: dict[str, Any] = {
        "to": NameAddr("%Z%45", sip("resource", "example.com"), {}),
        "from": NameAddr("%Z%45", sip("resource", "example.com"), {"tag": "f232jadfj23"}),
        "call_id": "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
        "via": [via("TCP", "host.example.com", branch="z9hG4bK209%fzsnel234")],
        "cseq": CSeq(29344, "RE%47IST%45R"),
        "max_forwards": 70,
        # C%6Fntact is an unknown header: two Contact values, not three
        "contact": [
            NameAddr("", sip("alias1", "host1.example.com"), {}),
            NameAddr("", sip("alias3", "host3.example.com"), {}),
        ],
        "C%6Fntact": ["<sip:alias2@host2.example.com>"],
        "content_length": 0,
    }
    assert message.headers == expected
    assert list(message.headers) == list(expected)


def test_lwsdisp(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("lwsdisp"))
    # §3.1.1.6: no LWS between the display name and '<' is accepted
    assert message.headers["from"] == NameAddr(
        "caller", sip("caller", "example.com"), {"tag": "323"}
    )
    assert message.headers["to"] == NameAddr("", sip("user", "example.com"), {})
    assert message.headers["cseq"] == CSeq(60, Method.OPTIONS)
    assert message.headers["call_id"] == "lwsdisp.1234abcd@funky.example.com"


def test_longreq(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("longreq"))
    long_user = "amazinglylongcallername" * 5
    display = "I have a user name of " + "extreme" * 10 + " proportion"
    to_params = {
        "unknownparam1": "very" + "long" * 20 + "value",
        "longparam" + "name" * 25: "shortvalue",
        ("very" + "long" * 25 + "ParameterNameWithNoValue").lower(): None,
    }
    from_params = {
        "tag": "1" + "298" * 50 + "2424",
        "unknownheaderparam" + "name" * 20: "unknowheaderparam" + "value" * 15,
        ("unknownValueless" + "paramname" * 10).lower(): None,
    }
    unknown_name = "Unknown-" + "Long" * 20 + "-Name"
    unknown_value = (
        "unknown-" + "long" * 20 + "-value; unknown-" + "long" * 20 + "-parameter-name = "
        "unknown-" + "long" * 20 + "-parameter-value"
    )
    vias = [via("TCP", f"sip{n}.example.com") for n in range(33, 0, -1)]
    vias.append(
        via(
            "TCP",
            "host.example.com",
            received="192.0.2.5",
            branch="very" + "long" * 50 + "branchvalue",
        )
    )
    assert message.start_line == RequestLine(Method.INVITE, sip("user", "example.com"))
    assert message.headers == {
        "to": NameAddr(display, sip("user", "example.com", 6000, params=to_params), {}),
        "from": NameAddr("", sip(long_user, "example.net"), from_params),
        "call_id": "longreq.one" + "really" * 20 + "longcallid",
        "cseq": CSeq(3882340, Method.INVITE),
        unknown_name: [unknown_value],
        "via": vias,
        "max_forwards": 70,
        "contact": [NameAddr("", sip(long_user, "host5.example.net"), {})],
        "content_type": SDP,
        "content_length": 150,
    }
    headers = message.headers
    assert len(headers["via"]) == 34
    assert len(headers["to"].display_name) == 103
    assert len(headers["from"].uri.user) == 115
    assert len(headers["from"].params["tag"]) == 155
    assert len(headers["call_id"]) == 141
    assert len(headers["via"][-1].branch) == 215
    assert len(unknown_name) == 93
    assert len(headers[unknown_name][0]) == 306
    assert len(message.body) == 150


def test_dblreq_is_the_register_only(rfc4475: Load, round_trip: RoundTrip) -> None:
    data = rfc4475("dblreq")
    message = Message.parse(data)
    assert message.start_line == RequestLine(Method.REGISTER, sip(None, "example.com"))
    assert message.headers == {
        "to": NameAddr("", sip("j.user", "example.com"), {}),
        "from": NameAddr("", sip("j.user", "example.com"), {"tag": "43251j3j324"}),
        "max_forwards": 8,
        "call_id": "dblreq.0ha0isndaksdj99sdfafnl3lk233412",  # "I:" compact, upper case
        "contact": [NameAddr("", sip("j.user", "host.example.com"), {})],
        "cseq": CSeq(8, Method.REGISTER),
        "via": [via("UDP", "192.0.2.125", branch="z9hG4bKkdjuw23492")],
        "content_length": 0,
    }
    # RFC 3261 §18.3: octets past Content-Length are discarded; not a second message.
    assert message.body == b""
    wire = bytes(round_trip(message))
    assert b"INVITE" not in wire


def test_semiuri(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("semiuri"))
    # the ';' belongs to the user part (before '@'): no uri-parameters
    assert message.start_line == RequestLine(
        Method.OPTIONS, sip("user;par=u@example.net", "example.com")
    )
    assert message.start_line.request_uri.parameters == {}  # type: ignore[union-attr]
    assert message.headers["accept"] == [
        MediaType(("application", "sdp"), {}),
        MediaType(("application", "pkcs7-mime"), {}),
        MediaType(("multipart", "mixed"), {}),
        MediaType(("multipart", "signed"), {}),
        MediaType(("message", "sip"), {}),
        MediaType(("message", "sipfrag"), {}),
    ]
    assert message.headers["via"] == [via("UDP", "192.0.2.1", branch="z9hG4bKkdjuw")]
    assert message.headers["max_forwards"] == 3


def test_transports(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("transports"))
    assert message.headers["via"] == [
        via("UDP", "t1.example.com", branch="z9hG4bKkdjuw"),
        via("SCTP", "t2.example.com", branch="z9hG4bKklasjdhf"),
        via("TLS", "t3.example.com", branch="z9hG4bK2980unddj"),
        via("UNKNOWN", "t4.example.com", branch="z9hG4bKasd0f3en"),
        via("TCP", "t5.example.com", branch="z9hG4bK0a9idfnee"),
    ]
    assert message.headers["call_id"] == "transports.kijh4akdnaqjkwendsasfdj"
    assert message.headers["accept"] == [SDP]


def test_mpart01(rfc4475: Load) -> None:
    data = rfc4475("mpart01")
    message = Message.parse(data)
    assert message.start_line == RequestLine(Method.MESSAGE, sip("kumiko", "example.org"))
    identity = (
        "r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYj"
        "cBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkM"
        "WYUA="
    )
    assert message.headers == {
        "via": [
            via(
                "UDP",
                "127.0.0.1",
                5070,
                branch="z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-",
                rport=None,
            )
        ],
        "max_forwards": 70,
        "route": [NameAddr("", sip(None, "127.0.0.1", 5080), {})],
        "Identity": [identity],
        "contact": [NameAddr("", sip("fluffy", "127.0.0.1", 5070), {})],
        "to": NameAddr("", sip("kumiko", "example.org"), {}),
        "from": NameAddr("", sip("fluffy", "example.com"), {"tag": "2fb0dcc9"}),
        "call_id": "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
        "cseq": CSeq(1, Method.MESSAGE),
        "Content-Transfer-Encoding": ["binary"],
        "content_type": MediaType(("multipart", "mixed"), {"boundary": "7a9cbec02ceef655"}),
        "date": datetime.datetime(2005, 10, 15, 4, 44, 56, tzinfo=datetime.UTC),
        "user_agent": "SIPimp.org/0.2.5 (curses)",
        "content_length": 553,
    }
    # framed by Content-Length, binary octets (NULs, bare LFs) kept exactly
    assert len(message.body) == 553
    assert message.body == body_of(data)
    assert b"\x00" in message.body
    assert message.body.count(b"\n") - message.body.count(b"\r\n") == 3
    assert message.body.startswith(b"--7a9cbec02ceef655\r\nContent-Type: text/plain\r\n")
    assert message.body.endswith(b"--7a9cbec02ceef655--\r\n")


def test_unreason(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("unreason"))
    reason = "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert message.start_line == StatusLine(200, reason)
    assert message.start_line.version == (2, 0)
    assert message.headers == {
        "via": [via("UDP", "192.0.2.198", branch="z9hG4bK1324923")],
        "call_id": "unreason.1234ksdfak3j2erwedfsASdf",
        "cseq": CSeq(35, Method.INVITE),
        "from": NameAddr("", sip("user", "example.com"), {"tag": "11141343"}),
        "to": NameAddr("", sip("user", "example.edu"), {"tag": "2229"}),
        "content_length": 154,
        "content_type": SDP,
        "contact": [NameAddr("", sip("user", "host198.example.com"), {})],
    }
    assert len(message.body) == 154
    assert bytes(message).startswith(b"SIP/2.0 200 " + reason.encode() + b"\r\n")


def test_noreason(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("noreason"))
    assert message.start_line == StatusLine(100, "")
    assert message.headers["to"] == NameAddr("", sip("user", "example.edu"), {"tag": "902jndnke3"})
    assert message.headers["cseq"] == CSeq(35, Method.INVITE)
    assert message.body == b""
    # the SP before the empty reason stays (RFC 3261 §7.2 Status-Line)
    assert bytes(message).startswith(b"SIP/2.0 100 \r\n")


def test_unkscm(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("unkscm"))
    uri = message.start_line.request_uri  # type: ignore[union-attr]
    assert uri == URI("nobodyknowsthisscheme", opaque="totallyopaquecontent")
    assert uri.scheme == "nobodyknowsthisscheme"
    assert (uri.user, uri.host, uri.port) == (None, None, None)
    assert message.headers["to"] == NameAddr("", sip("user", "example.com"), {})


def test_novelsc(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("novelsc"))
    uri = message.start_line.request_uri  # type: ignore[union-attr]
    assert uri == URI("soap.beep", opaque="//192.0.2.103:3002")
    assert str(uri) == "soap.beep://192.0.2.103:3002"


def test_unksm2(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("unksm2"))
    assert message.headers["to"] == NameAddr("", URI("isbn", opaque="2983792873"), {})
    assert message.headers["from"] == NameAddr(
        "", URI("http", opaque="//www.example.com"), {"tag": "3234233"}
    )
    assert message.headers["contact"] == [NameAddr("", URI("name", opaque="John_Smith"), {})]
    assert message.headers["via"] == [via("UDP", "192.0.2.21", 5060, branch="z9hG4bKkdjuw")]


def test_cparam01_param_belongs_to_the_contact(rfc4475: Load) -> None:
    # RFC 3261 §20: without <>, parameters after the URI are header parameters.
    contact = Message.parse(rfc4475("cparam01")).headers["contact"]
    assert contact == [NameAddr("", sip("+19725552222", "gw1.example.net"), {"unknownparam": None})]
    assert contact[0].uri.parameters == {}


def test_cparam02_param_belongs_to_the_uri(rfc4475: Load) -> None:
    contact = Message.parse(rfc4475("cparam02")).headers["contact"]
    assert contact == [
        NameAddr("", sip("+19725552222", "gw1.example.net", params={"unknownparam": None}), {})
    ]
    assert contact[0].params == {}


def test_cparam_serialization_keeps_the_distinction(rfc4475: Load) -> None:
    one = bytes(Message.parse(rfc4475("cparam01")))
    two = bytes(Message.parse(rfc4475("cparam02")))
    assert b"<sip:+19725552222@gw1.example.net>;unknownparam\r\n" in one
    assert b"<sip:+19725552222@gw1.example.net;unknownparam>\r\n" in two


def test_regescrt(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("regescrt"))
    assert message.headers["contact"] == [  # "M:" compact
        NameAddr("", sip("user", "example.com", headers={"Route": "<sip:sip.example.com>"}), {})
    ]
    assert message.headers["content_length"] == 0  # "L:0"
    again = Message.parse(bytes(message))
    assert again.headers["contact"][0].uri.headers == {"Route": "<sip:sip.example.com>"}
    assert "route" not in again.headers


def test_inv2543(rfc4475: Load, round_trip: RoundTrip) -> None:
    data = rfc4475("inv2543")
    message = Message.parse(data)
    assert message.start_line == RequestLine(Method.INVITE, sip("UserB", "example.com"))
    assert message.headers == {
        "via": [via("UDP", "iftgw.example.com")],
        "from": NameAddr(
            "", sip("+13035551111", "ift.client.example.net", params={"user": "phone"}), {}
        ),
        "record_route": [
            NameAddr("", sip("UserB", "example.com", params={"maddr": "ss1.example.com"}), {})
        ],
        # no <>: ";user=phone" is a To parameter here, not a URI parameter
        "to": NameAddr("", sip("+16505552222", "ss1.example.net"), {"user": "phone"}),
        "call_id": "inv2543.1717@ift.client.example.com",
        "cseq": CSeq(56, Method.INVITE),
        "content_type": SDP,
    }
    assert message.headers["via"][0].branch is None
    # no Content-Length over UDP: the body is the rest of the datagram
    assert message.body == body_of(data)
    assert len(message.body) == 105
    again = round_trip(message)
    assert again.headers["content_length"] == 105


def test_zeromf(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("zeromf"))
    assert message.headers["max_forwards"] == 0
    assert b"\r\nMax-Forwards: 0\r\n" in bytes(message)


def test_bcast(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("bcast"))
    assert message.start_line == StatusLine(200, "OK")
    assert message.headers["via"] == [
        via("UDP", "192.0.2.198", branch="z9hG4bK1324923"),
        via("UDP", "255.255.255.255", branch="z9hG4bK1saber23"),
    ]


def test_badbranch(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("badbranch"))
    assert message.headers["via"] == [via("UDP", "192.0.2.1", branch="z9hG4bK")]
    assert message.headers["via"][0].branch == "z9hG4bK"


def test_bext01(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("bext01"))
    assert message.headers["require"] == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert message.headers["proxy_require"] == [
        "noProxiesSupportThis",
        "norDoAnyProxiesSupportThis",
    ]
    assert message.headers["via"] == [
        via("TLS", "fold-and-staple.example.com", branch="z9hG4bKkdjuw")
    ]


def test_invut(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("invut"))
    content_type = message.headers["content_type"]
    assert isinstance(content_type, MediaType)
    assert content_type.media == ("application", "unknownformat")
    assert message.body == b'<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n'
    assert len(message.body) == 40


def test_regaut01(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("regaut01"))
    [credentials] = message.headers["authorization"]
    assert isinstance(credentials, Auth)
    assert credentials.scheme.lower() == "nooneknowsthisscheme"
    assert credentials.params == {"opaque-data": "here"}
    assert message.headers["content_length"] == 0  # "Content-Length:0"


def test_sdp01(rfc4475: Load) -> None:
    message = Message.parse(rfc4475("sdp01"))
    [accept] = message.headers["accept"]
    assert tuple(part.lower() for part in accept.media) == ("text", "nobodyknowsthis")
    assert accept.params == {}
    assert message.headers["content_type"] == SDP


# ---------------------------------------------------------------------------------------
# The rejected ones: what a stateless 400 still needs (RFC 3261 §8.2.6), where it parsed.


REPLY_HEADERS = {
    # name: (Call-ID, CSeq, top Via sent-by) as written in the message
    "badvers": ("badvers.31417@c.example.com", CSeq(1, Method.OPTIONS), "c.example.com"),
    "baddate": (
        "baddate.239423mnsadf3j23lj42--sedfnm234",
        CSeq(1392934, Method.INVITE),
        "host.example.com",
    ),
    "escruri": (
        "escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
        CSeq(149209342, Method.INVITE),
        "host-of-the-hour.example.com",
    ),
    "lwsruri": (
        "lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423",
        CSeq(2130706432, Method.INVITE),
        "192.0.2.1",
    ),
    "lwsstart": (
        "lwsstart.dfknq234oi243099adsdfnawe3@example.com",
        CSeq(1893884, Method.INVITE),
        "host1.example.com",
    ),
    "trws": ("trws.oicu34958239neffasdhr2345r", CSeq(238923, Method.OPTIONS), "host1.examle.com"),
    "ltgtruri": ("ltgtruri.1@192.0.2.5", CSeq(1, Method.INVITE), "192.0.2.5"),
    "regbadct": ("regbadct.k345asrl3fdbv@10.0.0.1", CSeq(1, Method.REGISTER), "135.180.130.133"),
    "clerr": ("clerr.0ha0isndaksdjweiafasdk3", CSeq(8, Method.INVITE), "host5.example.com"),
    "ncl": ("ncl.0ha0isndaksdj2193423r542w35", CSeq(0, Method.INVITE), "192.0.2.53"),
    "mcl01": (
        "mcl01.fhn2323orihawfdoa3o4r52o3irsdf",
        CSeq(15932, Method.OPTIONS),
        "host5.example.net",
    ),
}


@pytest.mark.parametrize("name", sorted(REPLY_HEADERS))
def test_parse_error_of_a_request_carries_reply_headers(name: str, rfc4475: Load) -> None:
    # Only the start line, or a header other than these five, is bad: a server can still
    # answer 400/505 statelessly, copying Via, From, To, Call-ID, CSeq (RFC 3261 §8.2.6).
    call_id, cseq, top_via_host = REPLY_HEADERS[name]
    with pytest.raises(ParseError) as info:
        Message.parse(rfc4475(name))
    reply = info.value.reply_headers
    assert reply is not None
    assert set(reply) >= {"via", "from", "to", "call_id", "cseq"}
    assert reply["call_id"] == call_id
    assert reply["cseq"] == cseq
    assert reply["via"][0].sent_by.host == top_via_host
    assert isinstance(reply["from"], NameAddr) and reply["from"].params.get("tag")
    assert isinstance(reply["to"], NameAddr)


def test_parse_error_is_picklable(rfc4475: Load) -> None:
    import pickle

    with pytest.raises(ParseError) as info:
        Message.parse(rfc4475("bigcode"))
    copy = pickle.loads(pickle.dumps(info.value))
    assert isinstance(copy, sippet.ParseError)
    assert (copy.reason, copy.status_code) == (info.value.reason, info.value.status_code)


# ---------------------------------------------------------------------------------------
# Over a stream (TCP): what RFC 4475 says for clerr, ncl and mcl01, and plain framing.

STREAM_WHOLE = [
    name
    for name in sorted(set(ACCEPTED) | set(REJECTED) | {"test"})
    if name not in ("clerr", "ncl", "mcl01", "inv2543", "dblreq", "baddn")
]


@pytest.mark.parametrize("name", STREAM_WHOLE)
def test_stream_framer_cuts_each_message_by_its_content_length(name: str, rfc4475: Load) -> None:
    # RFC 3261 §18.3: on a stream, Content-Length delimits the message. Every file except
    # those below has a Content-Length equal to its body, so it is one frame, byte-exact
    # (syntax is the parser's business, not the framer's).
    data = rfc4475(name)
    assert StreamFramer(sippet.DEFAULT_LIMITS).feed(data) == [data]


@pytest.mark.parametrize("name", ["wsinv", "mpart01", "esc01"])
def test_stream_framer_byte_by_byte(name: str, rfc4475: Load) -> None:
    data = rfc4475(name)
    framer = StreamFramer(sippet.DEFAULT_LIMITS)
    frames = [frame for i in range(len(data)) for frame in framer.feed(data[i : i + 1])]
    assert frames == [data]


def test_clerr_over_a_stream_waits_for_more_data(rfc4475: Load) -> None:
    # §3.1.2.2: over TCP, Content-Length 9999 means: keep reading.
    framer = StreamFramer(sippet.DEFAULT_LIMITS)
    assert framer.feed(rfc4475("clerr")) == []


@pytest.mark.parametrize("name", ["ncl", "mcl01", "inv2543"])
def test_unrecoverable_stream_framing_is_a_parse_error(name: str, rfc4475: Load) -> None:
    # §3.1.2.3 (negative), §3.3.9 (two values): the framing cannot be recovered, close the
    # connection. inv2543: Content-Length is mandatory on a stream (RFC 3261 §20.14).
    with pytest.raises(ParseError) as info:
        StreamFramer(sippet.DEFAULT_LIMITS).feed(rfc4475(name))
    assert info.value.status_code == 400


def test_baddn_without_end_of_headers_waits_on_a_stream(rfc4475: Load) -> None:
    # The archive's baddn has no empty line after the headers (README): not a frame yet.
    assert StreamFramer(sippet.DEFAULT_LIMITS).feed(rfc4475("baddn")) == []
