"""The native serializer: ``bytes(Message)`` and ``str(URI)``.

Rules under test (RFC 3261 §7, §20, §25; serializer contract in docs/DESIGN.md):
canonical header names; Content-Length always written, last, equal to the body's length in
octets; dict order for parsed messages, canonical order for built ones; list headers on one
line except the authentication headers; quoting of parameters, display names and digest
parameters; IPv6 brackets; URI %-escaping; plain tuples accepted like named tuples; wrong
shapes rejected with an error that names the header.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import (
    URI,
    Auth,
    CSeq,
    MediaType,
    Message,
    Method,
    NameAddr,
    RequestLine,
    RetryAfter,
    SentBy,
    StatusLine,
    Timestamp,
    Via,
    Warning,
)
from sippet.headers import CANONICAL_NAMES

BOB = URI("sip", user="bob", host="biloxi.example.com")
ALICE = URI("sip", user="alice", host="atlanta.example.com")


def built(headers: dict[str, Any], body: bytes | str = b"") -> Message:
    """An OPTIONS request built in code (``wire_order`` False)."""
    return Message(RequestLine(Method.OPTIONS, BOB), headers, body)


def head_lines(msg: Message) -> list[str]:
    """The header lines of the wire form (start line excluded), decoded."""
    head = bytes(msg).split(b"\r\n\r\n", 1)[0].decode()
    return head.split("\r\n")[1:]


def line(msg: Message, name: str) -> str:
    """The value of the single header line called ``name``."""
    values = [ln.split(": ", 1)[1] for ln in head_lines(msg) if ln.split(": ", 1)[0] == name]
    assert len(values) == 1, f"{name}: {values}"
    return values[0]


def minimal() -> dict[str, Any]:
    return {
        "via": [
            Via((2, 0), "UDP", SentBy("pc33.atlanta.example.com", 5060), {"branch": "z9hG4bKx"})
        ],
        "max_forwards": 70,
        "from": NameAddr("Alice", ALICE, {"tag": "1928301774"}),
        "to": NameAddr("Bob", BOB, {}),
        "call_id": "a84b4c76e66710",
        "cseq": CSeq(1, Method.OPTIONS),
    }


# --- start line, names, Content-Length ---------------------------------------------------


def test_start_lines() -> None:
    assert bytes(built({})).startswith(b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n")
    response = Message(StatusLine(486, "Busy Here"), {})
    assert bytes(response) == b"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    ("key", "value", "wire"),
    [
        ("call_id", "abc", "Call-ID"),
        ("cseq", CSeq(7, Method.INVITE), "CSeq"),
        ("www_authenticate", [Auth("Digest", {"realm": "a"})], "WWW-Authenticate"),
        ("mime_version", (1, 0), "MIME-Version"),
        ("rack", (1, 2, Method.INVITE), "RAck"),
        ("min_se", (90, {}), "Min-SE"),
        ("p_asserted_identity", [NameAddr("", ALICE, {})], "P-Asserted-Identity"),
    ],
)
def test_canonical_names(key: str, value: object, wire: str) -> None:
    assert CANONICAL_NAMES[key] == wire
    names = [ln.split(":", 1)[0] for ln in head_lines(built({key: value}))]
    assert names == [wire, "Content-Length"]


def test_content_length_counts_octets_not_characters() -> None:
    body = "héllo wörld ✓"
    msg = built(minimal(), body)
    assert len(body) == 13 and len(body.encode()) == 17
    assert line(msg, "Content-Length") == "17"
    assert bytes(msg).endswith(b"\r\n\r\n" + body.encode())


def test_content_length_ignores_the_dict_and_goes_last() -> None:
    headers = minimal()
    headers["content_length"] = 999
    headers["Content-Length"] = ["5"]  # a raw duplicate is dropped too
    headers["subject"] = "after"
    msg = built(headers, b"abc")
    lines = head_lines(msg)
    assert lines[-1] == "Content-Length: 3"
    assert sum(ln.lower().startswith("content-length") for ln in lines) == 1


def test_content_length_always_present() -> None:
    assert head_lines(built({})) == ["Content-Length: 0"]


def test_str_and_bytearray_bodies() -> None:
    msg = built({}, "ü")
    assert bytes(msg).endswith(b"Content-Length: 2\r\n\r\n\xc3\xbc")
    msg.body = bytearray(b"xyz")  # type: ignore[assignment]
    assert bytes(msg).endswith(b"Content-Length: 3\r\n\r\nxyz")


# --- order -------------------------------------------------------------------------------


def test_built_message_canonical_order() -> None:
    headers: dict[str, Any] = {
        "content_type": MediaType(("application", "sdp"), {}),
        "X-Zeta": ["z"],
        "cseq": CSeq(1, Method.OPTIONS),
        "subject": "s",
        "call_id": "c",
        "to": NameAddr("", BOB, {}),
        "from": NameAddr("", ALICE, {"tag": "t"}),
        "max_forwards": 70,
        "contact": [NameAddr("", ALICE, {})],
        "route": [NameAddr("", URI("sip", host="p.example.com", parameters={"lr": None}), {})],
        "via": minimal()["via"],
        "X-Alpha": ["a"],
        "content_length": 0,
    }
    names = [ln.split(":", 1)[0] for ln in head_lines(built(headers, b"v=0"))]
    assert names == [
        "Via", "Route", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Contact",
        "X-Zeta", "Subject", "X-Alpha", "Content-Type", "Content-Length",
    ]  # fmt: skip


def test_parsed_message_keeps_wire_order() -> None:
    wire = (
        b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\nCall-ID: c\r\n"
        b"X-Odd: 1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"
    )
    msg = Message.parse(wire)
    assert msg.wire_order
    names = [ln.split(":", 1)[0] for ln in head_lines(msg)]
    assert names == ["CSeq", "Call-ID", "X-Odd", "From", "To", "Via", "Content-Length"]
    msg.wire_order = False
    names = [ln.split(":", 1)[0] for ln in head_lines(msg)]
    assert names == ["Via", "From", "To", "Call-ID", "CSeq", "X-Odd", "Content-Length"]


# --- list headers --------------------------------------------------------------------------


def test_lists_joined_on_one_line() -> None:
    vias = [
        Via((2, 0), "UDP", SentBy("a.example.com", None), {"branch": "z9hG4bK1"}),
        Via((2, 0), "tcp", SentBy("b.example.com", 5070), {"branch": "z9hG4bK2", "rport": None}),
    ]
    msg = built({"via": vias, "supported": ["100rel", "timer"], "allow": [Method.INVITE, "FOO"]})
    assert line(msg, "Via") == (
        "SIP/2.0/UDP a.example.com;branch=z9hG4bK1, "
        "SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2;rport"
    )
    assert line(msg, "Supported") == "100rel, timer"
    assert line(msg, "Allow") == "INVITE, FOO"


def test_empty_lists() -> None:
    msg = built({"route": [], "supported": [], "allow": [], "X-None": []})
    assert head_lines(msg) == ["Supported: ", "Allow: ", "Content-Length: 0"]


def test_raw_headers_one_line_per_value() -> None:
    msg = built({"X-Thing": ["a, b", "c"], "X-Single": "lone"})
    assert head_lines(msg)[:3] == ["X-Thing: a, b", "X-Thing: c", "X-Single: lone"]


def test_auth_headers_one_line_per_value() -> None:
    challenges = [
        Auth(
            "Digest",
            {
                "realm": "atlanta.com",
                "nonce": "84a4",
                "qop": "auth",
                "stale": "FALSE",
                "algorithm": "MD5",
            },
        ),
        Auth("Digest", {"realm": "biloxi.com", "nonce": "x y", "opaque": ""}),
    ]
    msg = Message(StatusLine(401, "Unauthorized"), {"www_authenticate": challenges})
    lines = [ln for ln in head_lines(msg) if ln.startswith("WWW-Authenticate")]
    assert lines == [
        'WWW-Authenticate: Digest realm="atlanta.com", nonce="84a4", qop="auth", stale=FALSE, '
        "algorithm=MD5",
        'WWW-Authenticate: Digest realm="biloxi.com", nonce="x y", opaque=""',
    ]


def test_credentials_quote_what_the_grammar_requires() -> None:
    cred = Auth(
        "Digest",
        {"username": "bob", "realm": "biloxi.com", "nonce": "dcd98b", "uri": "sip:bob@biloxi.com",
         "response": "245f", "algorithm": "MD5", "cnonce": "0a4f", "qop": "auth",
         "nc": "00000001"},
    )  # fmt: skip
    msg = built({"authorization": [cred], "proxy_authorization": [cred, cred]})
    assert line(msg, "Authorization") == (
        'Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", '
        'response="245f", algorithm=MD5, cnonce="0a4f", qop=auth, nc=00000001'
    )
    assert sum(ln.startswith("Proxy-Authorization: ") for ln in head_lines(msg)) == 2


def test_authentication_info() -> None:
    msg = built({"authentication_info": {"nextnonce": "abc", "qop": "auth", "nc": "00000001"}})
    assert line(msg, "Authentication-Info") == 'nextnonce="abc", qop=auth, nc=00000001'


# --- quoting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("z9hG4bK-1.x", ";p=z9hG4bK-1.x"),
        ("two words", ';p="two words"'),
        ("", ';p=""'),
        ('say "hi"', r';p="say \"hi\""'),
        ("back\\slash", r';p="back\\slash"'),
        ("a;b", ';p="a;b"'),
        (None, ";p"),
    ],
)
def test_header_param_quoting(value: str | None, wire: str) -> None:
    msg = built({"to": NameAddr("", BOB, {"p": value})})
    assert line(msg, "To") == f"<sip:bob@biloxi.example.com>{wire}"
    assert Message.parse(bytes(msg)).headers["to"].params == {"p": value}


def test_received_and_maddr_hosts_unquoted() -> None:
    params = {"branch": "z9hG4bK1", "received": "2001:db8::2", "maddr": "[2001:db8::3]"}
    via = Via((2, 0), "UDP", SentBy("2001:db8::1", 5060), dict[str, str | None](params))
    msg = built({"via": [via]})
    assert line(msg, "Via") == (
        "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2;maddr=[2001:db8::3]"
    )
    assert Message.parse(bytes(msg)).headers["via"] == [via]


@pytest.mark.parametrize(
    ("display", "wire"),
    [
        ("", "<sip:alice@atlanta.example.com>"),
        ("Alice", "Alice <sip:alice@atlanta.example.com>"),
        ("Alice Smith", "Alice Smith <sip:alice@atlanta.example.com>"),
        ("Smith, Alice", '"Smith, Alice" <sip:alice@atlanta.example.com>'),
        ("Al  ice", '"Al  ice" <sip:alice@atlanta.example.com>'),
        ('The "Boss"', r'"The \"Boss\"" <sip:alice@atlanta.example.com>'),
        ("Zoë", '"Zoë" <sip:alice@atlanta.example.com>'),
    ],
)
def test_display_names(display: str, wire: str) -> None:
    msg = built({"from": NameAddr(display, ALICE, {})})
    assert line(msg, "From") == wire
    assert Message.parse(bytes(msg)).headers["from"].display_name == display


def test_control_characters_in_quoted_strings_are_quoted_pairs() -> None:
    msg = built({"to": NameAddr("a\x00b\x7f", BOB, {})})
    assert b'To: "a\\\x00b\\\x7f" <' in bytes(msg)
    assert Message.parse(bytes(msg)).headers["to"].display_name == "a\x00b\x7f"


def test_name_addr_always_in_angle_brackets() -> None:
    uri = URI("sip", user="bob", host="b.example.com", parameters={"transport": "tcp"})
    msg = built({"contact": [NameAddr("", uri, {"expires": "60"})]})
    assert line(msg, "Contact") == "<sip:bob@b.example.com;transport=tcp>;expires=60"


# --- other header kinds --------------------------------------------------------------------


def test_date_rfc1123_gmt() -> None:
    utc = datetime.datetime(2010, 11, 13, 23, 29, 0, tzinfo=datetime.UTC)
    assert line(built({"date": utc}), "Date") == "Sat, 13 Nov 2010 23:29:00 GMT"
    plus2 = datetime.datetime(
        2010, 11, 14, 1, 29, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    assert line(built({"date": plus2}), "Date") == "Sat, 13 Nov 2010 23:29:00 GMT"
    naive = datetime.datetime(2000, 2, 29, 0, 0, 5)
    assert line(built({"date": naive}), "Date") == "Tue, 29 Feb 2000 00:00:05 GMT"


def test_retry_after_warning_timestamp_mime() -> None:
    msg = built({
        "retry_after": RetryAfter(120, "lunch (back soon)", {"duration": "60"}),
        "warning": [Warning(370, "devnull", 'Choose a "bigger" pipe'), (307, "isi.edu", "x")],
        "timestamp": Timestamp(54.5, 0.25),
        "mime_version": (1, 0),
    })  # fmt: skip
    assert line(msg, "Retry-After") == "120 (lunch (back soon));duration=60"
    assert line(msg, "Warning") == r'370 devnull "Choose a \"bigger\" pipe", 307 isi.edu "x"'
    assert line(msg, "Timestamp") == "54.5 0.25"
    assert line(msg, "MIME-Version") == "1.0"
    assert line(built({"retry_after": (5, "a ) b", {})}), "Retry-After") == r"5 (a \) b)"
    assert line(built({"timestamp": (3.0, None)}), "Timestamp") == "3"


def test_media_types_and_token_params() -> None:
    msg = built({
        "accept": [MediaType(("application", "sdp"), {"level": "1"}), (("text", "*"), {})],
        "content_type": (("multipart", "mixed"), {"boundary": "b 1"}),
        "event": ("presence", {"id": "7"}),
        "session_expires": (1800, {"refresher": "uac"}),
        "rack": (776656, 1, "INVITE"),
        "contact": "*",
    })  # fmt: skip
    assert line(msg, "Accept") == "application/sdp;level=1, text/*"
    assert line(msg, "Content-Type") == 'multipart/mixed;boundary="b 1"'
    assert line(msg, "Event") == "presence;id=7"
    assert line(msg, "Session-Expires") == "1800;refresher=uac"
    assert line(msg, "RAck") == "776656 1 INVITE"
    assert line(msg, "Contact") == "*"


# --- URIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "text"),
    [
        (URI("sip", host="example.com"), "sip:example.com"),
        (URI("sips", user="alice", password="secret", host="a.com", port=5061),
         "sips:alice:secret@a.com:5061"),
        (URI("sip", user="a b@c", host="h.com"), "sip:a%20b%40c@h.com"),
        (URI("sip", user="+1-212;phone-context=x?&=$,/", host="h.com"),
         "sip:+1-212;phone-context=x?&=$,/@h.com"),
        (URI("sip", user="u", password="p:w@", host="h.com"), "sip:u:p%3Aw%40@h.com"),
        (URI("sip", host="::1", port=5060), "sip:[::1]:5060"),
        (URI("sip", host="h.com", parameters={"transport": "tcp", "lr": None, "x": "a;b=c"}),
         "sip:h.com;transport=tcp;lr;x=a%3Bb%3Dc"),
        (URI("sip", host="h.com", headers={"Subject": "hi there", "To": "a&b"}),
         "sip:h.com?Subject=hi%20there&To=a%26b"),
        (URI("tel", user="+1-201-555-0123", parameters={"phone-context": "example.com"}),
         "tel:+1-201-555-0123;phone-context=example.com"),
        (URI("mailto", opaque="watson@bell-telephone.com"), "mailto:watson@bell-telephone.com"),
        (URI("sip", user="é", host="h.com"), "sip:%C3%A9@h.com"),
    ],
)  # fmt: skip
def test_uri_text(uri: URI, text: str) -> None:
    assert str(uri) == text
    assert URI.parse(text) == uri


def test_uri_in_request_line_and_via_ipv6() -> None:
    msg = Message(
        RequestLine("INVITE", URI("sip", user="bob", host="2001:db8::5")),
        {"via": [((2, 0), "UDP", ("2001:db8::9", None), {"branch": "z9hG4bK1"})]},
    )
    wire = bytes(msg)
    assert wire.startswith(b"INVITE sip:bob@[2001:db8::5] SIP/2.0\r\n")
    assert b"Via: SIP/2.0/UDP [2001:db8::9];branch=z9hG4bK1\r\n" in wire


# --- plain tuples (Sippet style) ---------------------------------------------------------


def test_sippet_readme_options_example() -> None:
    # Sippet README: the OPTIONS request built as a map of plain tuples.
    request = Message(
        RequestLine(Method.OPTIONS, URI.parse("sip:sip.example.com")),
        {
            "via": [((2, 0), "UDP", ("localhost", 5060), {"branch": "z9hG4bKabc123"})],
            "from": ("", URI.parse("sip:localhost"), {"tag": "8f3a"}),
            "to": ("", URI.parse("sip:sip.example.com"), {}),
            "cseq": (1, Method.OPTIONS),
            "user_agent": "Sippet/1.0",
            "call_id": "3848276298220188511@localhost",
        },
    )
    assert bytes(request) == (
        b"OPTIONS sip:sip.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP localhost:5060;branch=z9hG4bKabc123\r\n"
        b"From: <sip:localhost>;tag=8f3a\r\n"
        b"To: <sip:sip.example.com>\r\n"
        b"Call-ID: 3848276298220188511@localhost\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"User-Agent: Sippet/1.0\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    parsed = Message.parse(bytes(request))
    assert parsed.headers["via"][0] == (
        (2, 0),
        "UDP",
        ("localhost", 5060),
        {"branch": "z9hG4bKabc123"},
    )
    assert parsed.headers["cseq"] == (1, Method.OPTIONS)


def test_plain_tuple_start_lines_and_str_methods() -> None:
    msg = Message(("OPTIONS", BOB, (2, 0)), {"cseq": (1, "OPTIONS")})  # type: ignore[arg-type]
    assert bytes(msg).startswith(
        b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n"
    )
    response = Message((200, "OK", (2, 0)), {})  # type: ignore[arg-type]
    assert bytes(response).startswith(b"SIP/2.0 200 OK\r\n")


def test_int_param_values_accepted() -> None:
    msg = built({"contact": [("", ALICE, {"expires": 3600})]})
    assert line(msg, "Contact") == "<sip:alice@atlanta.example.com>;expires=3600"


# --- round trips ---------------------------------------------------------------------------

MESSAGES = [
    b"INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n"
    b'Contact: <sip:alice@pc33.atlanta.example.com>;+sip.instance="<urn:uuid:1>"\r\n'
    b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\nRetry-After: 18000 (in a meeting);duration=3600\r\n"
    b'Timestamp: 54.5 0.25\r\nWarning: 370 devnull "Choose a bigger pipe"\r\n'
    b"X-Custom: one, two\r\nX-Custom: three\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n\r\nv=0\n",
    b"SIP/2.0 401 Unauthorized\r\n"
    b"Via: SIP/2.0/UDP h;branch=z9hG4bK1;rport=5060\r\nTo: <sip:b@b>;tag=2\r\n"
    b"From: <sip:a@a>;tag=1\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
    b'WWW-Authenticate: Digest realm="a", nonce="n", qop="auth,auth-int", algorithm=MD5\r\n'
    b'WWW-Authenticate: Digest realm="b", nonce="m", stale=TRUE\r\nContent-Length: 0\r\n\r\n',
    b"SUBSCRIBE sip:u@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nMax-Forwards: 1\r\n"
    b"To: <sip:u@h>\r\nFrom: <sip:v@h>;tag=3\r\nCall-ID: d\r\nCSeq: 2 SUBSCRIBE\r\n"
    b"Event: presence;id=1\r\nAccept: application/pidf+xml;q=1, */*;q=0.1\r\n"
    b"Allow: INVITE, FOO\r\nSupported: \r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
]


@pytest.mark.parametrize("wire", MESSAGES)
def test_parse_serialize_parse(wire: bytes) -> None:
    msg = Message.parse(wire)
    again = Message.parse(bytes(msg))
    assert again == msg
    assert bytes(again) == bytes(msg)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "error", "mentions"),
    [
        ({"via": "SIP/2.0/UDP h"}, TypeError, "Via"),
        ({"via": [("UDP", "h")]}, TypeError, "Via"),
        ({"cseq": 1}, TypeError, "CSeq"),
        ({"cseq": (-1, "INVITE")}, ValueError, "CSeq"),
        ({"cseq": (1, "IN VITE")}, ValueError, "CSeq"),
        ({"max_forwards": "70"}, TypeError, "Max-Forwards"),
        ({"from": NameAddr("", "sip:a@b", {})}, TypeError, "From"),  # type: ignore[arg-type]
        ({"to": NameAddr("", BOB, [])}, TypeError, "To"),  # type: ignore[arg-type]
        ({"date": "yesterday"}, TypeError, "Date"),
        ({"subject": "a\r\nVia: injected"}, ValueError, "Subject"),
        ({"X-Raw": ["a\nb"]}, ValueError, "X-Raw"),
        ({"to": NameAddr("a\rb", BOB, {})}, ValueError, "To"),
        ({"to": NameAddr("", URI("sip", host="h>"), {})}, ValueError, "To"),
        ({"contact": "all"}, ValueError, "Contact"),
        ({"Bad Name": ["x"]}, ValueError, "Bad Name"),
        ({"via": [((2, 0), "UDP", ("h", 70000), {})]}, ValueError, "Via"),
        ({1: "x"}, TypeError, "headers"),
    ],
)
def test_wrong_shapes_name_the_header(headers: dict[Any, Any], error: type, mentions: str) -> None:
    with pytest.raises(error, match=mentions):
        bytes(built(headers))


def test_bad_start_line_and_body() -> None:
    with pytest.raises(TypeError, match="start line"):
        bytes(Message("OPTIONS sip:a@b SIP/2.0", {}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status code"):
        bytes(Message(StatusLine(42, "Odd"), {}))
    msg = built({})
    msg.body = 12  # type: ignore[assignment]
    with pytest.raises(TypeError, match="body"):
        bytes(msg)


def test_bad_uris() -> None:
    with pytest.raises(ValueError, match="host"):
        str(URI("sip", user="a"))
    with pytest.raises(TypeError, match="URI"):
        _ = str(URI("sip", host="h", port="5060"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scheme"):
        str(URI("1x", opaque="y"))


def test_grammar_mandated_quotes_and_separators() -> None:
    msg = built({
        "contact": [NameAddr("", ALICE, {"audio": None, "+sip.instance": "urn", "methods": "INVITE",
                                         "q": "0.5", "expires": "60"})],
        "reason": [("SIP", {"cause": "200", "text": "Bye"})],
        "privacy": ["header", "session"],
        "cseq": (4294967295, Method.INVITE),
    })  # fmt: skip
    # RFC 3840 §9 feature tags always quoted; q and expires are not feature tags.
    assert line(msg, "Contact") == (
        '<sip:alice@atlanta.example.com>;audio;+sip.instance="urn";methods="INVITE";q=0.5;expires=60'
    )
    assert line(msg, "Reason") == 'SIP;cause=200;text="Bye"'  # RFC 3326 §2
    assert line(msg, "Privacy") == "header;session"  # RFC 3323 §4.2
    assert line(msg, "CSeq") == "4294967295 INVITE"  # RFC 3261 §20.16: 32-bit unsigned
    with pytest.raises(ValueError, match="CSeq"):
        bytes(built({"cseq": (4294967296, Method.INVITE)}))


def test_token68_credentials_written_verbatim() -> None:
    # RFC 7235 §2.1: a token68 credential is kept as a parameter without value.
    msg = built({"authorization": [Auth("Bearer", {"mF_9.B5f-4.1JqM/a+b~c=": None})]})
    assert line(msg, "Authorization") == "Bearer mF_9.B5f-4.1JqM/a+b~c="


# --- robustness: any shape in, bytes or a documented error out ----------------------------

_leaf = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4).map(tuple)
        | st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from([*CANONICAL_NAMES, "X-Raw", "content_length"]),
    value=_values,
)
def test_any_value_serializes_or_raises_type_or_value_error(key: str, value: object) -> None:
    msg = built({key: value})
    try:
        wire = bytes(msg)
    except (TypeError, ValueError) as error:
        assert str(error)  # names what was wrong
        return
    assert wire.endswith(b"Content-Length: 0\r\n\r\n")
    # No value can end a line early: every line is one "Name: value" header.
    for header_line in wire[: -len(b"\r\n\r\n")].split(b"\r\n")[1:]:
        assert b"\r" not in header_line and b"\n" not in header_line
        assert b": " in header_line
