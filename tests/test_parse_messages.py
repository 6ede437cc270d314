"""``Message.parse`` on hand-written messages: RFC 3261 §7 (message format), §7.3 (header
fields: folding, lists, compact forms), §7.5 (framing), §18.3 (datagram framing), §20.

Every expected value is written from the RFC text; see DESIGN.md for sippet's value shapes.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest
from helpers.messages import RoundTrip
from sippet import (
    URI,
    Auth,
    CSeq,
    DeltaParams,
    MediaType,
    Message,
    Method,
    MimeVersion,
    NameAddr,
    ParseError,
    RAck,
    RequestLine,
    RetryAfter,
    SentBy,
    StatusLine,
    Timestamp,
    TokenParams,
    UriParams,
    Via,
    Warning,
)
from sippet.headers import CANONICAL_NAMES, COMPACT_FORMS, SINGLE_VALUED

# RFC 3261 §24.2 style OPTIONS, body-less, every line CRLF-terminated.
OPTIONS_LINES = [
    "OPTIONS sip:carol@chicago.com SIP/2.0",
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877",
    "Max-Forwards: 70",
    "To: <sip:carol@chicago.com>",
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710",
    "CSeq: 63104 OPTIONS",
    "Contact: <sip:alice@pc33.atlanta.com>",
    "Accept: application/sdp",
    "Content-Length: 0",
]
OPTIONS = ("\r\n".join(OPTIONS_LINES) + "\r\n\r\n").encode()

OPTIONS_HEADERS: dict[str, Any] = {
    "via": [Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), {"branch": "z9hG4bKhjhs8ass877"})],
    "max_forwards": 70,
    "to": NameAddr("", URI("sip", "carol", None, "chicago.com"), {}),
    "from": NameAddr("Alice", URI("sip", "alice", None, "atlanta.com"), {"tag": "1928301774"}),
    "call_id": "a84b4c76e66710",
    "cseq": CSeq(63104, Method.OPTIONS),
    "contact": [NameAddr("", URI("sip", "alice", None, "pc33.atlanta.com"), {})],
    "accept": [MediaType(("application", "sdp"), {})],
    "content_length": 0,
}


def with_headers(*lines: str, body: bytes = b"", start: str = OPTIONS_LINES[0]) -> bytes:
    """The OPTIONS above with its headers replaced by ``lines``."""
    return (start + "\r\n" + "".join(line + "\r\n" for line in lines) + "\r\n").encode() + body


BASE = [
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877",
    "Max-Forwards: 70",
    "To: <sip:carol@chicago.com>",
    "From: <sip:alice@atlanta.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710",
    "CSeq: 63104 OPTIONS",
]


def test_reference_options_message() -> None:
    message = Message.parse(OPTIONS)
    assert message.start_line == RequestLine(
        Method.OPTIONS, URI("sip", "carol", None, "chicago.com")
    )
    assert message.is_request and not message.is_response
    assert message.headers == OPTIONS_HEADERS
    assert list(message.headers) == list(OPTIONS_HEADERS)
    assert message.body == b""
    assert message.wire_order is True


# ---------------------------------------------------------------------------------------
# Input forms


def test_bare_lf_line_ends_are_tolerated() -> None:
    assert Message.parse(OPTIONS.replace(b"\r\n", b"\n")) == Message.parse(OPTIONS)


def test_mixed_line_ends_are_tolerated() -> None:
    mixed = OPTIONS.replace(b"\r\n", b"\n", 3)
    assert Message.parse(mixed) == Message.parse(OPTIONS)


def test_bare_lf_folding_and_body_separator() -> None:
    head = "OPTIONS sip:a@b.example SIP/2.0\nCall-ID: x@y\nCSeq: 1 OPTIONS\n"
    folded = Message.parse(head + "Subject: a\n b\r\n\tc\n\n")
    assert folded.headers["subject"] == "a b c"
    framed = Message.parse(head + "Content-Length: 3\n\nabcdef")
    assert framed.body == b"abc"
    # the body itself is octets: its LFs are not line ends to rewrite
    assert Message.parse(head + "Content-Length: 4\n\na\nb\n").body == b"a\nb\n"


def test_str_input_is_utf8() -> None:
    # non-ASCII is not a token char: a UTF-8 display name is a quoted-string (RFC 3261 §25.1)
    text = OPTIONS.decode().replace("Alice", '"Alïce"')
    message = Message.parse(text)
    assert message.headers["from"].display_name == "Alïce"
    assert message == Message.parse(text.encode("utf-8"))


def test_leading_crlfs_are_skipped() -> None:
    # RFC 3261 §7.5: CRLFs before the start-line are ignored.
    assert Message.parse(b"\r\n\r\n\r\n" + OPTIONS) == Message.parse(OPTIONS)
    assert Message.parse(b"\n\n" + OPTIONS) == Message.parse(OPTIONS)


def test_sippet_readme_wire_format_example() -> None:
    # The README's example, as Sippet's own README has it: bare LF, no Content-Length,
    # and no empty line after the last header.
    message = Message.parse(
        "OPTIONS sip:sip.example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP localhost:5060;branch=z9hG4bK5b0b5a8e1d\n"
        "From: sip:localhost;tag=9fxced76sl\n"
        "To: sip:sip.example.com\n"
        "CSeq: 1 OPTIONS\n"
        "User-Agent: Sippet/1.0\n"
        "Call-ID: 3848276298220188511@localhost\n"
    )
    assert message.start_line == RequestLine(Method.OPTIONS, URI("sip", host="sip.example.com"))
    assert message.headers == {
        "via": [Via((2, 0), "UDP", SentBy("localhost", 5060), {"branch": "z9hG4bK5b0b5a8e1d"})],
        "from": NameAddr("", URI("sip", host="localhost"), {"tag": "9fxced76sl"}),
        "to": NameAddr("", URI("sip", host="sip.example.com"), {}),
        "cseq": CSeq(1, Method.OPTIONS),
        "user_agent": "Sippet/1.0",
        "call_id": "3848276298220188511@localhost",
    }
    assert message.headers["cseq"].method is Method.OPTIONS
    seq, method = message.headers["cseq"]
    assert (seq, method) == (1, "OPTIONS")
    assert message.body == b""
    wire = bytes(message)
    assert wire.endswith(b"\r\nContent-Length: 0\r\n\r\n")


def test_readme_example_with_empty_line_is_the_same() -> None:
    text = "OPTIONS sip:sip.example.com SIP/2.0\nCall-ID: x@y\nCSeq: 1 OPTIONS\n"
    assert Message.parse(text) == Message.parse(text + "\n")


# ---------------------------------------------------------------------------------------
# Framing: body and Content-Length (RFC 3261 §7.4, §18.3, §20.14)


def test_body_without_content_length_is_the_rest_of_the_datagram() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
    message = Message.parse(with_headers(*BASE, "Content-Type: application/sdp", body=body))
    assert message.body == body
    assert "content_length" not in message.headers


def test_octets_past_content_length_are_ignored() -> None:
    message = Message.parse(with_headers(*BASE, "Content-Length: 4", body=b"abcdEXTRA"))
    assert message.body == b"abcd"
    assert message.headers["content_length"] == 4


def test_content_length_larger_than_body_is_400() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, "Content-Length: 10", body=b"abcd"))
    assert (info.value.reason, info.value.status_code) == ("content_length_mismatch", 400)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "invalid_content_length"),
        ("five", "invalid_content_length"),
        ("1.5", "invalid_content_length"),
        ("0x10", "invalid_content_length"),
        ("", "invalid_content_length"),
        ("99999999999999999999999", "value_out_of_range"),
    ],
)
def test_bad_content_length_is_400(value: str, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, f"Content-Length: {value}"))
    assert (info.value.reason, info.value.status_code) == (reason, 400)


def test_body_is_binary_and_counted_in_octets() -> None:
    body = bytes(range(256))
    message = Message.parse(with_headers(*BASE, f"Content-Length: {len(body)}", body=body))
    assert message.body == body
    utf8 = "é€𝄞".encode()
    message = Message.parse(with_headers(*BASE, f"l: {len(utf8)}", body=utf8))
    assert message.body == utf8


# ---------------------------------------------------------------------------------------
# Header fields (RFC 3261 §7.3)


def test_folding_is_one_space() -> None:
    # The example of RFC 3261 §7.3.1.
    message = Message.parse(
        with_headers(
            *BASE,
            "Subject:            I know you're there,",
            "                    pick up the phone",
            "\t\t\t\t\t\t\t\t\t\tand talk to me!",
        )
    )
    assert message.headers["subject"] == "I know you're there, pick up the phone and talk to me!"


def test_folding_in_typed_and_unknown_headers() -> None:
    message = Message.parse(
        with_headers(
            *BASE[:-1],
            "CSeq:",
            " 63104",
            "  OPTIONS",
            "X-Folded: a",
            "\tb",
            " c",
        )
    )
    assert message.headers["cseq"] == CSeq(63104, Method.OPTIONS)
    assert message.headers["X-Folded"] == ["a b c"]


def test_whitespace_around_colon_and_value() -> None:
    message = Message.parse(
        with_headers(*BASE[:4], "Call-ID:a84b4c76e66710", "CSeq   :   63104 OPTIONS   ")
    )
    assert message.headers["call_id"] == "a84b4c76e66710"
    assert message.headers["cseq"] == CSeq(63104, Method.OPTIONS)


def test_header_names_are_case_insensitive() -> None:
    message = Message.parse(
        with_headers(
            "vIA: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877",
            "MAX-FORWARDS: 70",
            "to: <sip:carol@chicago.com>",
            "FROM: <sip:alice@atlanta.com>;tag=1928301774",
            "call-id: a84b4c76e66710",
            "CSEQ: 63104 OPTIONS",
        )
    )
    assert set(message.headers) == {"via", "max_forwards", "to", "from", "call_id", "cseq"}


def test_list_header_lines_are_merged_in_order() -> None:
    # RFC 3261 §7.3.1: several lines of a list header equal one comma-separated line;
    # the merged value takes the place of the first line.
    message = Message.parse(
        with_headers(
            "Route: <sip:p1.example.com;lr>",
            *BASE[:2],
            "Route: <sip:p2.example.com;lr>, <sip:p3.example.com;lr>",
            *BASE[2:],
            "route: <sip:p4.example.com;lr>",
        )
    )
    hosts = [value.uri.host for value in message.headers["route"]]
    assert hosts == ["p1.example.com", "p2.example.com", "p3.example.com", "p4.example.com"]
    assert next(iter(message.headers)) == "route"


def test_via_values_on_lines_and_commas() -> None:
    message = Message.parse(
        with_headers(
            "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070",
            *BASE[1:],
            "Via: SIP/2.0/TLS c.example.com;branch=z9hG4bK3",
        )
    )
    assert [(v.protocol, v.sent_by) for v in message.headers["via"]] == [
        ("UDP", SentBy("a.example.com", None)),
        ("TCP", SentBy("b.example.com", 5070)),
        ("TLS", SentBy("c.example.com", None)),
    ]


def test_unknown_header_lines_are_kept_raw_one_per_line() -> None:
    message = Message.parse(
        with_headers(
            'X-Custom: a, b;c=d, "e,f"',
            *BASE,
            "x-custom: second line",
            "X-Empty:",
        )
    )
    # key: the wire name first seen; never split on commas (RFC 4475 §3.1.1.1)
    assert message.headers["X-Custom"] == ['a, b;c=d, "e,f"', "second line"]
    assert "x-custom" not in message.headers
    assert message.headers["X-Empty"] == [""]
    assert next(iter(message.headers)) == "X-Custom"


def test_comma_splitting_respects_quotes_and_angle_brackets() -> None:
    message = Message.parse(
        with_headers(
            *BASE,
            'Contact: "Doe, John" <sip:a,b@x.example.com>;p="1,2", <sip:c@y.example.com>,'
            ' "Say \\"hi\\", ok" <sip:d@z.example.com>',
        )
    )
    assert message.headers["contact"] == [
        # ',' is a user-unreserved character (RFC 3261 §25.1)
        NameAddr("Doe, John", URI("sip", "a,b", None, "x.example.com"), {"p": "1,2"}),
        NameAddr("", URI("sip", "c", None, "y.example.com"), {}),
        NameAddr('Say "hi", ok', URI("sip", "d", None, "z.example.com"), {}),
    ]


def test_addr_spec_without_brackets_takes_header_params() -> None:
    # RFC 3261 §20.10: without <>, ';' parameters belong to the header, not the URI.
    message = Message.parse(with_headers(*BASE, "Contact: sip:a@b.example;expires=60;q=0.5"))
    assert message.headers["contact"] == [
        NameAddr("", URI("sip", "a", None, "b.example"), {"expires": "60", "q": "0.5"})
    ]


def test_contact_star() -> None:
    message = Message.parse(with_headers(*BASE, "Contact: *", "Expires: 0"))
    assert message.headers["contact"] == "*"
    assert message.headers["expires"] == 0


def test_parameter_names_lowercased_values_unquoted() -> None:
    message = Message.parse(
        with_headers(
            "Via: SIP/2.0/udp pc33.atlanta.com;BRANCH=z9hG4bKAbC;RPort;Received=192.0.2.1",
            *BASE[1:3],
            'From: "A" <sip:a@b.example>;TAG=XyZ;Foo="quoted \\"value\\"";empty=""',
            *BASE[4:],
        )
    )
    assert message.headers["via"] == [
        Via(
            (2, 0),
            "UDP",  # transport uppercased
            SentBy("pc33.atlanta.com", None),
            {"branch": "z9hG4bKAbC", "rport": None, "received": "192.0.2.1"},
        )
    ]
    assert message.headers["from"].params == {
        "tag": "XyZ",
        "foo": 'quoted "value"',
        "empty": "",
    }


@pytest.mark.parametrize(
    ("letter", "value", "key", "expected"),
    [
        ("a", "*;audio", "Accept-Contact", ["*;audio"]),
        (
            "b",
            "<sip:referrer@atlanta.example.com>",
            "referred_by",
            NameAddr("", URI("sip", "referrer", None, "atlanta.example.com"), {}),
        ),
        (
            "c",
            "text/plain;charset=utf-8",
            "content_type",
            MediaType(("text", "plain"), {"charset": "utf-8"}),
        ),
        ("d", "proxy, recurse", "Request-Disposition", ["proxy, recurse"]),
        ("e", "gzip", "content_encoding", ["gzip"]),
        (
            "f",
            "<sip:alice@atlanta.com>;tag=88",
            "from",
            NameAddr("", URI("sip", "alice", None, "atlanta.com"), {"tag": "88"}),
        ),
        (
            "i",
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com",
            "call_id",
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com",
        ),
        ("j", "*;video", "Reject-Contact", ["*;video"]),
        ("k", "100rel, timer", "supported", ["100rel", "timer"]),
        ("l", "0", "content_length", 0),
        (
            "m",
            "<sip:alice@pc33.atlanta.com>",
            "contact",
            [NameAddr("", URI("sip", "alice", None, "pc33.atlanta.com"), {})],
        ),
        ("o", "presence;id=7", "event", TokenParams("presence", {"id": "7"})),
        (
            "r",
            "<sip:carol@chicago.com>",
            "refer_to",
            NameAddr("", URI("sip", "carol", None, "chicago.com"), {}),
        ),
        ("s", "Need more boxes", "subject", "Need more boxes"),
        (
            "t",
            "<sip:carol@chicago.com>;tag=5",
            "to",
            NameAddr("", URI("sip", "carol", None, "chicago.com"), {"tag": "5"}),
        ),
        ("u", "presence, dialog", "allow_events", ["presence", "dialog"]),
        (
            "v",
            "SIP/2.0/UDP h.example.com:5062;branch=z9hG4bKx",
            "via",
            [Via((2, 0), "UDP", SentBy("h.example.com", 5062), {"branch": "z9hG4bKx"})],
        ),
        ("x", "1800;refresher=uac", "session_expires", DeltaParams(1800, {"refresher": "uac"})),
        (
            "y",
            "ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa",
            "Identity",
            ["ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa"],
        ),
    ],
)
def test_compact_forms(
    letter: str, value: str, key: str, expected: Any, round_trip: RoundTrip
) -> None:
    assert COMPACT_FORMS[letter] == key
    others = [line for line in BASE if not line.lower().startswith(_long_name(key).lower() + ":")]
    for name in (letter, letter.upper()):
        message = Message.parse(with_headers(*others, f"{name}: {value}"))
        assert message.headers[key] == expected
        assert letter not in message.headers and letter.upper() not in message.headers
    again = round_trip(message)
    # the serializer writes the full name (RFC 3261 §7.3.3 allows either)
    assert f"\r\n{_long_name(key)}: ".encode() in bytes(again)


def test_all_19_compact_forms_are_listed() -> None:
    assert sorted(COMPACT_FORMS) == list("abcdefijklmorstuvxy")


def _long_name(key: str) -> str:
    return CANONICAL_NAMES.get(key, key)


# ---------------------------------------------------------------------------------------
# Single-valued headers (RFC 3261 §7.3.1; RFC 4475 §3.3.8, §3.3.9)

SECOND_LINES = {
    "call_id": "Call-ID: other@example.com",
    "cseq": "CSeq: 2 OPTIONS",
    "from": "From: <sip:eve@example.com>;tag=2",
    "to": "To: <sip:eve@example.com>",
    "max_forwards": "Max-Forwards: 69",
    "content_length": "Content-Length: 0",
    "content_type": "Content-Type: text/plain",
    "expires": "Expires: 60",
    "user_agent": "User-Agent: other/1.0",
    "subject": "s: again",
}


@pytest.mark.parametrize("key", sorted(SECOND_LINES))
def test_a_second_single_valued_header_is_rejected(key: str) -> None:
    assert key in SINGLE_VALUED
    first = {
        "content_length": "Content-Length: 0",
        "content_type": "Content-Type: text/plain",
        "expires": "Expires: 30",
        "user_agent": "User-Agent: sippet-test/1.0",
        "subject": "Subject: hello",
    }
    lines = list(BASE)
    if key in first:
        lines.append(first[key])
    lines.append(SECOND_LINES[key])
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*lines))
    assert info.value.reason == "multiple_definition"
    assert info.value.status_code == 400


def test_two_values_on_one_line_of_a_single_valued_header_are_rejected() -> None:
    lines = [*BASE[:3], "From: <sip:a@b.example>;tag=1, <sip:c@d.example>;tag=2", *BASE[4:]]
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*lines))
    assert (info.value.reason, info.value.status_code) == ("multiple_definition", 400)


# ---------------------------------------------------------------------------------------
# Start lines (RFC 3261 §7.1, §7.2) and typed values


def test_methods_are_case_sensitive() -> None:
    message = Message.parse(
        with_headers(*BASE[:5], "CSeq: 1 invite", start="invite sip:a@b.example SIP/2.0")
    )
    assert message.start_line.method == "invite"  # type: ignore[union-attr]
    assert not isinstance(message.start_line.method, Method)  # type: ignore[union-attr]
    assert message.headers["cseq"] == CSeq(1, "invite")
    assert not isinstance(message.headers["cseq"].method, Method)


def test_known_methods_are_method_members() -> None:
    for method in Method:
        start = f"{method.value} sip:a@b.example SIP/2.0"
        message = Message.parse(with_headers(*BASE[:5], f"CSeq: 1 {method.value}", start=start))
        assert message.start_line.method is method  # type: ignore[union-attr]
        assert message.headers["cseq"].method is method


def test_sip_version_is_case_insensitive() -> None:
    # RFC 3261 §7.1: "The SIP-Version string is case-insensitive"
    message = Message.parse(with_headers(*BASE, start="OPTIONS sip:carol@chicago.com sip/2.0"))
    assert message.start_line.version == (2, 0)
    assert bytes(message).startswith(b"OPTIONS sip:carol@chicago.com SIP/2.0\r\n")


@pytest.mark.parametrize("version", ["SIP/3.0", "SIP/1.0", "SIP/2.1"])
def test_other_versions_are_505(version: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, start=f"OPTIONS sip:carol@chicago.com {version}"))
    assert info.value.status_code == 505
    assert info.value.reason == "unsupported_version"


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("OPTIONS sip:carol@chicago.com", "malformed_start_line"),  # no version
        ("OPTIONS SIP/2.0", "malformed_start_line"),  # no URI
        ("sip:carol@chicago.com SIP/2.0", "malformed_start_line"),
        ("OPTIONS sip:carol@chicago.com HTTP/1.1", "malformed_version"),
        ("OPTIONS sip:carol@chicago.com SIP/2.0 extra", "malformed_start_line"),
        ("OPT(IONS sip:carol@chicago.com SIP/2.0", "invalid_method"),  # '(' is not a token char
        ("OPTIONS\tsip:carol@chicago.com\tSIP/2.0", "malformed_start_line"),  # SP only
    ],
)
def test_malformed_request_lines_are_400(start: str, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, start=start))
    assert (info.value.reason, info.value.status_code) == (reason, 400)


RESPONSE_BASE = [
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877;received=192.0.2.1",
    "To: <sip:carol@chicago.com>;tag=93810874",
    "From: <sip:alice@atlanta.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710",
    "CSeq: 63104 OPTIONS",
    "Content-Length: 0",
]


@pytest.mark.parametrize(
    ("start", "code", "reason"),
    [
        ("SIP/2.0 180 Ringing", 180, "Ringing"),
        ("SIP/2.0 200 OK", 200, "OK"),
        ("SIP/2.0 486 Busy Here", 486, "Busy Here"),
        ("SIP/2.0 699 Whatever you say", 699, "Whatever you say"),
        ("SIP/2.0 100 ", 100, ""),
        ("SIP/2.0 603 Déclin", 603, "Déclin"),
    ],
)
def test_status_lines(start: str, code: int, reason: str) -> None:
    message = Message.parse(with_headers(*RESPONSE_BASE, start=start))
    assert message.start_line == StatusLine(code, reason)
    assert message.is_response
    assert message.headers["via"][0].params["received"] == "192.0.2.1"


@pytest.mark.parametrize("code", ["99", "700", "1000", "2000", "4294967301"])
def test_status_code_outside_100_699_is_rejected(code: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*RESPONSE_BASE, start=f"SIP/2.0 {code} Odd"))
    assert info.value.reason == "invalid_status_code"


@pytest.mark.parametrize("code", ["20", "abc", "-200", "2OO", ""])
def test_status_code_not_three_digits_is_rejected(code: str) -> None:
    # Status-Code = 3DIGIT (RFC 3261 §25.1)
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*RESPONSE_BASE, start=f"SIP/2.0 {code} Odd"))
    assert (info.value.reason, info.value.status_code) == ("invalid_status_code", 400)


def test_typed_values() -> None:
    message = Message.parse(
        with_headers(
            *BASE,
            "Date: Sat, 13 Nov 2010 23:29:00 GMT",
            "Expires: 3600",
            "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, FOO",
            "Require: 100rel",
            "Content-Type: Application/SDP",
        )
    )
    assert message.headers["date"] == datetime.datetime(
        2010, 11, 13, 23, 29, 0, tzinfo=datetime.UTC
    )
    assert message.headers["expires"] == 3600
    assert message.headers["allow"] == ["INVITE", "ACK", "OPTIONS", "CANCEL", "BYE", "FOO"]
    assert message.headers["allow"][0] is Method.INVITE
    assert message.headers["require"] == ["100rel"]
    media = message.headers["content_type"].media
    assert tuple(part.lower() for part in media) == ("application", "sdp")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Max-Forwards: seventy", "invalid_header"),
        ("Max-Forwards: -1", "invalid_header"),
        # CSeq < 2**31 (RFC 3261 §8.1.1.5), > 2**32-1 is invalid
        ("CSeq: 4294967296 OPTIONS", "value_out_of_range"),
        ("CSeq: OPTIONS", "invalid_header"),
        ("CSeq: 1", "invalid_header"),
        ("Expires: soon", "invalid_header"),
        ("Date: Sat, 13 Nov 2010 23:29:00 EST", "invalid_date"),  # only GMT (RFC 4475 §3.1.2.12)
        ("Via: SIP/2.0/UDP", "invalid_header"),  # no sent-by
        ("Via: SIP/2.0 pc33.atlanta.com", "invalid_header"),  # no transport
        ("Via: SIP/2.0/UDP pc33.atlanta.com:port", "invalid_header"),
        ('To: "unterminated <sip:a@b.example>', "unclosed_qstring"),
        ("To: <sip:a@b.example", "invalid_header"),  # unclosed <
        ("To: sip:a@b.example>", "invalid_uri"),
    ],
)
def test_malformed_typed_values_are_400(line: str, reason: str) -> None:
    name = line.split(":", 1)[0].lower().replace("-", "_")
    lines = [
        existing for existing in BASE if existing.split(":", 1)[0].lower().replace("-", "_") != name
    ]
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*lines, line))
    assert (info.value.reason, info.value.status_code) == (reason, 400)


def test_header_line_without_colon_is_400() -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, "Foobar roobar"))
    assert (info.value.reason, info.value.status_code) == ("invalid_header", 400)


def test_empty_input_is_a_parse_error() -> None:
    for data in (b"", b"\r\n", b"\r\n\r\n", "", "   "):
        with pytest.raises(ParseError):
            Message.parse(data)


# ---------------------------------------------------------------------------------------
# Typed headers: the examples of RFC 3261 §20 and of the extensions, value by value


def sip_uri(user: str | None, host: str, **params: str | None) -> URI:
    return URI("sip", user, None, host, None, dict(params))


DIGEST_CHALLENGE = {
    "realm": "atlanta.com",
    "domain": "sip:ss1.carrier.com",
    "qop": "auth",
    "nonce": "f84f1cec41e6cbe5aea9c8e88d359",
    "opaque": "",
    "stale": "FALSE",
    "algorithm": "MD5",
}

RFC_EXAMPLES: list[tuple[str, str, Any]] = [
    (
        "Accept: application/sdp;level=1, application/x-private, text/html",
        "accept",
        [
            MediaType(("application", "sdp"), {"level": "1"}),
            MediaType(("application", "x-private"), {}),
            MediaType(("text", "html"), {}),
        ],
    ),
    ("Accept-Encoding: gzip", "accept_encoding", [TokenParams("gzip", {})]),
    (
        "Accept-Language: da, en-gb;q=0.8, en;q=0.7",
        "accept_language",
        [
            TokenParams("da", {}),
            TokenParams("en-gb", {"q": "0.8"}),
            TokenParams("en", {"q": "0.7"}),
        ],
    ),
    (
        "Alert-Info: <http://www.example.com/sounds/moo.wav>",
        "alert_info",
        [UriParams(URI("http", opaque="//www.example.com/sounds/moo.wav"), {})],
    ),
    (
        "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE",
        "allow",
        [Method.INVITE, Method.ACK, Method.OPTIONS, Method.CANCEL, Method.BYE],
    ),
    (
        'Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c"',
        "authentication_info",
        {"nextnonce": "47364c23432d2e131a5fb210812c"},
    ),
    (
        'Authorization: Digest username="Alice", realm="atlanta.com",'
        ' nonce="84a4cc6f3082121f32b42a2187831a9e", response="7587245234b3434cc3412213e5f113a5432"',
        "authorization",
        [
            Auth(
                "Digest",
                {
                    "username": "Alice",
                    "realm": "atlanta.com",
                    "nonce": "84a4cc6f3082121f32b42a2187831a9e",
                    "response": "7587245234b3434cc3412213e5f113a5432",
                },
            )
        ],
    ),
    (
        "Call-Info: <http://wwww.example.com/alice/photo.jpg> ;purpose=icon,"
        " <http://www.example.com/alice/> ;purpose=info",
        "call_info",
        [
            UriParams(
                URI("http", opaque="//wwww.example.com/alice/photo.jpg"), {"purpose": "icon"}
            ),
            UriParams(URI("http", opaque="//www.example.com/alice/"), {"purpose": "info"}),
        ],
    ),
    ("Content-Disposition: session", "content_disposition", TokenParams("session", {})),
    (
        "Content-Disposition: session;handling=optional",
        "content_disposition",
        TokenParams("session", {"handling": "optional"}),
    ),
    ("Content-Encoding: gzip", "content_encoding", ["gzip"]),
    ("Content-Language: fr", "content_language", ["fr"]),
    (
        'Content-Type: multipart/signed;protocol="application/pkcs7-signature";micalg=sha1;'
        "boundary=boundary42",
        "content_type",
        MediaType(
            ("multipart", "signed"),
            {"protocol": "application/pkcs7-signature", "micalg": "sha1", "boundary": "boundary42"},
        ),
    ),
    (
        "Date: Sat, 13 Nov 2010 23:29:00 GMT",
        "date",
        datetime.datetime(2010, 11, 13, 23, 29, 0, tzinfo=datetime.UTC),
    ),
    (
        "Error-Info: <sip:not-in-service-recording@atlanta.com>",
        "error_info",
        [UriParams(sip_uri("not-in-service-recording", "atlanta.com"), {})],
    ),
    ("Expires: 5", "expires", 5),
    (
        "In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com",
        "in_reply_to",
        ["70710@saturn.bell-tel.com", "17320@saturn.bell-tel.com"],
    ),
    ("Max-Forwards: 6", "max_forwards", 6),
    ("Min-Expires: 60", "min_expires", 60),
    ("MIME-Version: 1.0", "mime_version", MimeVersion(1, 0)),
    ("Organization: Boxes by Bob", "organization", "Boxes by Bob"),
    ("Priority: emergency", "priority", "emergency"),
    (
        'Proxy-Authenticate: Digest realm="atlanta.com", domain="sip:ss1.carrier.com",'
        ' qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE,'
        " algorithm=MD5",
        "proxy_authenticate",
        [Auth("Digest", DIGEST_CHALLENGE)],
    ),
    (
        'Proxy-Authorization: Digest username="Alice", realm="atlanta.com",'
        ' nonce="c60f3082ee1212b402a21831ae", response="245f23415f11432b3434341c022"',
        "proxy_authorization",
        [
            Auth(
                "Digest",
                {
                    "username": "Alice",
                    "realm": "atlanta.com",
                    "nonce": "c60f3082ee1212b402a21831ae",
                    "response": "245f23415f11432b3434341c022",
                },
            )
        ],
    ),
    ("Proxy-Require: foo", "proxy_require", ["foo"]),
    (
        "Record-Route: <sip:server10.biloxi.com;lr>, <sip:bigbox3.site3.atlanta.com;lr>",
        "record_route",
        [
            NameAddr("", sip_uri(None, "server10.biloxi.com", lr=None), {}),
            NameAddr("", sip_uri(None, "bigbox3.site3.atlanta.com", lr=None), {}),
        ],
    ),
    (
        "Reply-To: Bob <sip:bob@biloxi.com>",
        "reply_to",
        NameAddr("Bob", sip_uri("bob", "biloxi.com"), {}),
    ),
    ("Require: 100rel", "require", ["100rel"]),
    (
        "Retry-After: 18000;duration=3600",
        "retry_after",
        RetryAfter(18000, None, {"duration": "3600"}),
    ),
    ("Retry-After: 120 (I'm in a meeting)", "retry_after", RetryAfter(120, "I'm in a meeting", {})),
    ("Server: HomeServer v2", "server", "HomeServer v2"),
    ("Subject: Need more boxes", "subject", "Need more boxes"),
    ("s: Tech Support", "subject", "Tech Support"),
    ("Supported: 100rel", "supported", ["100rel"]),
    ("Timestamp: 54", "timestamp", Timestamp(54.0, None)),
    ("Timestamp: 54.3 0.5", "timestamp", Timestamp(54.3, 0.5)),
    ("Unsupported: foo", "unsupported", ["foo"]),
    ("User-Agent: Softphone Beta1.5", "user_agent", "Softphone Beta1.5"),
    (
        # RFC 3261 §20.42: LWS around '/' and ':' is allowed
        "Via: SIP / 2.0 / UDP first.example.com: 4000;ttl=16\r\n"
        "  ;maddr=224.2.0.1 ;branch=z9hG4bKa7c6a8dlze.1",
        "via",
        [
            Via(
                (2, 0),
                "UDP",
                SentBy("first.example.com", 4000),
                {"ttl": "16", "maddr": "224.2.0.1", "branch": "z9hG4bKa7c6a8dlze.1"},
            )
        ],
    ),
    (
        "Warning: 307 isi.edu \"Session parameter 'foo' not understood\","
        " 301 isi.edu \"Incompatible network address type 'E.164'\"",
        "warning",
        [
            Warning(307, "isi.edu", "Session parameter 'foo' not understood"),
            Warning(301, "isi.edu", "Incompatible network address type 'E.164'"),
        ],
    ),
    (
        'WWW-Authenticate: Digest realm="atlanta.com", domain="sip:ss1.carrier.com",'
        ' qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE,'
        " algorithm=MD5",
        "www_authenticate",
        [Auth("Digest", DIGEST_CHALLENGE)],
    ),
    # RFC 3261 §20.8, §20.10, §20.14, §20.15, §20.20, §20.39, §20.42: the core headers
    (
        "Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com",
        "call_id",
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com",
    ),
    (
        "i:f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.4",
        "call_id",
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.4",
    ),
    (
        'Contact: "Mr. Watson" <sip:watson@worcester.bell-telephone.com>\r\n'
        "   ;q=0.7; expires=3600,\r\n"
        '   "Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1',
        "contact",
        [
            NameAddr(
                "Mr. Watson",
                sip_uri("watson", "worcester.bell-telephone.com"),
                {"q": "0.7", "expires": "3600"},
            ),
            NameAddr("Mr. Watson", URI("mailto", opaque="watson@bell-telephone.com"), {"q": "0.1"}),
        ],
    ),
    (
        "m: <sips:bob@192.0.2.4>;expires=60",
        "contact",
        [NameAddr("", URI("sips", "bob", None, "192.0.2.4"), {"expires": "60"})],
    ),
    ("Content-Length: 0", "content_length", 0),
    ("l: 0000", "content_length", 0),
    ("Content-Type: application/sdp", "content_type", MediaType(("application", "sdp"), {})),
    (
        "c: text/html; charset=ISO-8859-4",
        "content_type",
        MediaType(("text", "html"), {"charset": "ISO-8859-4"}),
    ),
    (
        'From: "A. G. Bell" <sip:agb@bell-telephone.com> ;tag=a48s',
        "from",
        NameAddr("A. G. Bell", sip_uri("agb", "bell-telephone.com"), {"tag": "a48s"}),
    ),
    (
        "From: sip:+12125551212@server.phone2net.com;tag=887s",
        "from",
        NameAddr("", sip_uri("+12125551212", "server.phone2net.com"), {"tag": "887s"}),
    ),
    (
        "f: Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8",
        "from",
        NameAddr("Anonymous", sip_uri("c8oqz84zk7z", "privacy.org"), {"tag": "hyh8"}),
    ),
    (
        "To: The Operator <sip:operator@cs.columbia.edu>;tag=287447",
        "to",
        NameAddr("The Operator", sip_uri("operator", "cs.columbia.edu"), {"tag": "287447"}),
    ),
    (
        "t: sip:+12125551212@server.phone2net.com",
        "to",
        NameAddr("", sip_uri("+12125551212", "server.phone2net.com"), {}),
    ),
    (
        "Via: SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060 ;received=192.0.2.207\r\n"
        "     ;branch=z9hG4bK77asjd",
        "via",
        [
            Via(
                (2, 0),
                "UDP",
                SentBy("erlang.bell-telephone.com", 5060),
                {"branch": "z9hG4bK87asdks7"},
            ),
            Via(
                (2, 0),
                "UDP",
                SentBy("192.0.2.1", 5060),
                {"received": "192.0.2.207", "branch": "z9hG4bK77asjd"},
            ),
        ],
    ),
    # RFC 3262 §7.1, §7.2
    ("RSeq: 988789", "rseq", 988789),
    ("RAck: 776656 1 INVITE", "rack", RAck(776656, 1, Method.INVITE)),
    # RFC 4028 §4, §5
    (
        "Session-Expires: 4000;refresher=uac",
        "session_expires",
        DeltaParams(4000, {"refresher": "uac"}),
    ),
    ("Min-SE: 3600", "min_se", DeltaParams(3600, {})),
    # RFC 6665 §8.2
    ("Event: foo; id=1234", "event", TokenParams("foo", {"id": "1234"})),
    ("Allow-Events: presence, dialog", "allow_events", ["presence", "dialog"]),
    (
        "Subscription-State: active;expires=600",
        "subscription_state",
        TokenParams("active", {"expires": "600"}),
    ),
    # RFC 3327 §4
    (
        "Path: <sip:p3.examplehome.com;lr>,<sip:p1.examplevisited.com;lr>",
        "path",
        [
            NameAddr("", sip_uri(None, "p3.examplehome.com", lr=None), {}),
            NameAddr("", sip_uri(None, "p1.examplevisited.com", lr=None), {}),
        ],
    ),
    # RFC 3515 §2.1
    (
        "Refer-To: sip:alice@atlanta.example.com",
        "refer_to",
        NameAddr("", sip_uri("alice", "atlanta.example.com"), {}),
    ),
    (
        "Refer-To: <sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3B"
        "to-tag%3D12345%3Bfrom-tag%3D5FFE-3994>",
        "refer_to",
        NameAddr(
            "",
            URI(
                "sip",
                "dave",
                None,
                "denver.example.org",
                headers={"Replaces": "12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994"},
            ),
            {},
        ),
    ),
    (
        "Refer-To: <sip:carol@cleveland.example.org;method=SUBSCRIBE>",
        "refer_to",
        NameAddr("", sip_uri("carol", "cleveland.example.org", method="SUBSCRIBE"), {}),
    ),
    (
        "Refer-To: http://www.ietf.org",
        "refer_to",
        NameAddr("", URI("http", opaque="//www.ietf.org"), {}),
    ),
    # RFC 3891 §6.1
    (
        "Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472",
        "replaces",
        TokenParams("425928@bobster.example.org", {"to-tag": "7743", "from-tag": "6472"}),
    ),
    # RFC 3326 §2
    (
        'Reason: SIP ;cause=200 ;text="Call completed elsewhere"',
        "reason",
        [TokenParams("SIP", {"cause": "200", "text": "Call completed elsewhere"})],
    ),
    # RFC 3325 §9.1
    (
        'P-Asserted-Identity: "Cullen Jennings" <sip:fluffy@cisco.com>, <tel:+14085264000>',
        "p_asserted_identity",
        [
            NameAddr("Cullen Jennings", sip_uri("fluffy", "cisco.com"), {}),
            NameAddr("", URI("tel", "+14085264000"), {}),
        ],
    ),
    # RFC 3323 §4.2
    ("Privacy: id", "privacy", ["id"]),
    ("Privacy: header;session", "privacy", ["header", "session"]),
]


@pytest.mark.parametrize(
    ("line", "key", "expected"), RFC_EXAMPLES, ids=[e[0][:40] for e in RFC_EXAMPLES]
)
def test_rfc_header_examples(line: str, key: str, expected: Any, round_trip: RoundTrip) -> None:
    name = line.split(":", 1)[0].strip().lower()
    if name in COMPACT_FORMS:
        name = _long_name(COMPACT_FORMS[name]).lower()
    lines = [existing for existing in BASE if existing.split(":", 1)[0].lower() != name]
    message = Message.parse(with_headers(*lines, line))
    assert message.headers[key] == expected
    round_trip(message)


def test_authorization_lines_are_never_combined() -> None:
    # RFC 3261 §20.7, §20.28, §20.27, §20.44: not a comma-separated list; each value
    # keeps its own header line.
    credentials = [
        'Authorization: Digest username="bob", realm="biloxi.com",'
        ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",'
        ' uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b",'
        ' response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
        'Authorization: Digest username="Alice", realm="atlanta.com",'
        ' nonce="84a4cc6f3082121f32b42a2187831a9e",'
        ' response="7587245234b3434cc3412213e5f113a5432"',
    ]
    message = Message.parse(with_headers(*BASE, *credentials))
    assert [auth.params["username"] for auth in message.headers["authorization"]] == [
        "bob",
        "Alice",
    ]
    assert message.headers["authorization"][0].params["nc"] == "00000001"
    wire = bytes(message)
    assert wire.count(b"\r\nAuthorization: Digest ") == 2


def test_digest_parameters_keep_their_quoting() -> None:
    # RFC 3261 §25.1: realm, nonce, opaque, domain, username, uri, cnonce, response are
    # quoted-strings even when they look like tokens; stale, algorithm, nc and the qop of
    # credentials are not quoted; qop-options of a challenge are.
    challenge = RFC_EXAMPLES[[e[1] for e in RFC_EXAMPLES].index("www_authenticate")][0]
    message = Message.parse(
        with_headers(
            *BASE,
            challenge,
            'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b71",'
            ' uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b",'
            ' response="6629fae4", opaque="5ccc069c", algorithm=MD5',
        )
    )
    wire = bytes(message).decode()
    www = next(line for line in wire.split("\r\n") if line.startswith("WWW-Authenticate:"))
    for part in (
        'realm="atlanta.com"',
        'domain="sip:ss1.carrier.com"',
        'qop="auth"',
        'opaque=""',
        'nonce="f84f1cec41e6cbe5aea9c8e88d359"',
        "stale=FALSE",
        "algorithm=MD5",
    ):
        assert part in www
    auth = next(line for line in wire.split("\r\n") if line.startswith("Authorization:"))
    for part in (
        'username="bob"',
        'realm="biloxi.com"',
        'nonce="dcd98b71"',
        'uri="sip:bob@biloxi.com"',
        "qop=auth",
        "nc=00000001",
        'cnonce="0a4f113b"',
        'response="6629fae4"',
        'opaque="5ccc069c"',
        "algorithm=MD5",
    ):
        assert part in auth


def test_privacy_values_are_separated_by_semicolons() -> None:
    # RFC 3323 §4.2: Privacy-hdr = "Privacy" HCOLON priv-value *(";" priv-value)
    message = Message.parse(with_headers(*BASE, "Privacy: header;session;critical"))
    assert message.headers["privacy"] == ["header", "session", "critical"]
    assert b"\r\nPrivacy: header;session;critical\r\n" in bytes(message)


def test_lone_cr_inside_a_value_is_rejected() -> None:
    # RFC 3261 §7.3.1, §25.1: CR appears only in CRLF; neither TEXT-UTF8char, qdtext nor
    # quoted-pair can hold it. Accepting it would yield a value that cannot be written.
    for line in ("Subject: a\rb", 'To: "a\rb" <sip:carol@chicago.com>'):
        lines = [existing for existing in BASE if not existing.startswith(line[:3])]
        with pytest.raises(ParseError) as info:
            Message.parse(with_headers(*lines, line))
        assert (info.value.reason, info.value.status_code) == ("invalid_header", 400)


@pytest.mark.parametrize(
    "name", ["Supported", "Allow", "Accept", "Accept-Encoding", "Accept-Language"]
)
def test_headers_whose_grammar_allows_an_empty_list(name: str, round_trip: RoundTrip) -> None:
    # RFC 3261 §25.1: e.g. Supported = ( "Supported" / "k" ) HCOLON [option-tag ...]
    message = Message.parse(with_headers(*BASE, f"{name}:"))
    key = name.lower().replace("-", "_")
    assert message.headers[key] == []
    again = round_trip(message)
    assert again.headers[key] == []


@pytest.mark.parametrize(
    "name",
    [
        "Require",  # RFC 3261 §25.1: Require = "Require" HCOLON option-tag *(COMMA option-tag)
        "Proxy-Require",
        "Unsupported",
        "Content-Encoding",
        "Content-Language",
        "In-Reply-To",
        "Allow-Events",  # RFC 6665 §8.4: event-type *(COMMA event-type)
    ],
)
def test_headers_whose_grammar_needs_one_element(name: str) -> None:
    # An empty value is malformed: refused (were it kept, it could not be written back,
    # and the header would vanish between parse and serialize).
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, f"{name}:"))
    assert (info.value.reason, info.value.status_code) == ("invalid_header", 400)


def test_cseq_up_to_2_pow_32_minus_1(round_trip: RoundTrip) -> None:
    # RFC 3261 §20.16: the sequence number is a 32-bit unsigned integer (the "< 2**31"
    # rule of §8.1.1.5 is for the UAC choosing the first one). A proxy forwards any.
    lines = [*BASE[:5], "CSeq: 4294967295 OPTIONS"]
    message = Message.parse(with_headers(*lines))
    assert message.headers["cseq"] == CSeq(4294967295, Method.OPTIONS)
    round_trip(message)


def test_reason_text_stays_a_quoted_string() -> None:
    # RFC 3326 §2: reason-text = "text" EQUAL quoted-string, even for a one-word text.
    message = Message.parse(with_headers(*BASE, 'Reason: SIP;cause=200;text="Terminated"'))
    assert message.headers["reason"] == [TokenParams("SIP", {"cause": "200", "text": "Terminated"})]
    assert b'text="Terminated"' in bytes(message)


def test_feature_tag_values_stay_quoted_strings() -> None:
    # RFC 3840 §9: feature-param = enc-feature-tag [EQUAL LDQUOT (tag-value-list /
    # string-value) RDQUOT]: the value of a feature tag is always inside quotes.
    line = 'Contact: <sip:a@pc33.atlanta.com>;audio;+sip.message="TRUE";methods="INVITE"'
    message = Message.parse(with_headers(*BASE, line))
    assert message.headers["contact"][0].params == {
        "audio": None,
        "+sip.message": "TRUE",
        "methods": "INVITE",
    }
    wire = bytes(message)
    assert b';+sip.message="TRUE"' in wire
    assert b';methods="INVITE"' in wire


BOUNDARY_NUMBERS = [
    "0", "1", "255", "256", "999", "1000", "65535", "65536", "2147483647", "2147483648",
    "4294967295", "4294967296", "18446744073709551616", "9" * 400,
]  # fmt: skip
# (field, smallest and largest value accepted, reason below, reason above)
U32 = 2**32 - 1
NUMERIC_FIELDS = [
    ("CSeq: {} OPTIONS", 0, U32, None, "value_out_of_range"),  # RFC 3261 §20.16: 32 bits
    ("Expires: {}", 0, U32, None, "value_out_of_range"),  # §20.19
    ("Max-Forwards: {}", 0, 255, None, "value_out_of_range"),  # §20.22
    ("Min-Expires: {}", 0, U32, None, "value_out_of_range"),
    ("RSeq: {}", 0, U32, None, "value_out_of_range"),  # RFC 3262 §7.1: 1 to 2**32-1
    ("RAck: {} 1 INVITE", 0, U32, None, "value_out_of_range"),
    ("RAck: 1 {} INVITE", 0, U32, None, "value_out_of_range"),
    ("Retry-After: {}", 0, U32, None, "value_out_of_range"),
    ("Session-Expires: {}", 0, U32, None, "value_out_of_range"),
    ("Min-SE: {}", 0, U32, None, "value_out_of_range"),
    # A float: anything up to the largest double (RFC 3261 §20.38 allows a fraction).
    ("Timestamp: {} {}", 0, int(sys.float_info.max), None, "value_out_of_range"),
    ("Via: SIP/2.0/UDP pc33.atlanta.com:{};branch=z9hG4bK1", 0, 65535, None, "invalid_header"),
    ("Via: SIP/{}.0/UDP pc33.atlanta.com;branch=z9hG4bK1", 0, 999, None, "value_out_of_range"),
    ("Via: SIP/2.{}/UDP pc33.atlanta.com;branch=z9hG4bK1", 0, 999, None, "value_out_of_range"),
    ("Contact: <sip:a@pc33.atlanta.com:{}>", 0, 65535, None, "invalid_uri"),
    ("MIME-Version: {}.0", 0, U32, None, "value_out_of_range"),
    # warn-code = 3DIGIT (§20.43): one or two digits do not match the grammar.
    ('Warning: {} pc33.atlanta.com "x"', 100, 999, "invalid_header", "value_out_of_range"),
]


@pytest.mark.parametrize(
    ("field", "lowest", "highest", "below", "above"), NUMERIC_FIELDS, ids=lambda v: str(v)[:24]
)
def test_numbers_in_range_are_written_back_and_others_refused(
    field: str, lowest: int, highest: int, below: str | None, above: str, round_trip: RoundTrip
) -> None:
    # A value the parser accepts must survive serialization: a proxy forwards what it
    # parsed (RFC 3261 §16.6); one outside the field's range gets the named 400.
    name = field.split(":", 1)[0].lower()
    lines = [line for line in BASE if line.split(":", 1)[0].lower() != name]
    for number in BOUNDARY_NUMBERS:
        data = with_headers(*lines, field.replace("{}", number))
        if lowest <= int(number) <= highest:
            round_trip(Message.parse(data))
            continue
        with pytest.raises(ParseError) as info:
            Message.parse(data)
        expected = below if int(number) < lowest else above
        assert (info.value.reason, info.value.status_code) == (expected, 400), number


@pytest.mark.parametrize(
    "credentials",
    ["Basic dXNlcjpwYXNz", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Bearer mF_9.B5f-4.1JqM/a+b~c="],
)
def test_token68_credentials_are_kept_verbatim(credentials: str, round_trip: RoundTrip) -> None:
    # RFC 7235 §2.1: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ],
    # token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    message = Message.parse(with_headers(*BASE, f"Authorization: {credentials}"))
    [auth] = message.headers["authorization"]
    assert auth.scheme == credentials.split()[0]
    round_trip(message)
    assert f"\r\nAuthorization: {credentials}\r\n".encode() in bytes(message)


@pytest.mark.parametrize(
    "line",
    [b"Subject: caf\xe9", b'To: "\xff\xfe" <sip:carol@chicago.com>', b"X-Raw: \xc3"],
)
def test_invalid_utf8_is_rejected(line: bytes) -> None:
    # RFC 3261 §25.1: UTF8-NONASCII is well-formed UTF-8. A message with other octets is
    # malformed: rejected (400), never read with U+FFFD, which would forward different
    # bytes than were received.
    name = line.split(b":", 1)[0].decode().lower()
    lines = [existing for existing in BASE if existing.split(":", 1)[0].lower() != name]
    data = with_headers(*lines, "X-Marker: 1").replace(b"X-Marker: 1", line)
    with pytest.raises(ParseError) as info:
        Message.parse(data)
    assert (info.value.reason, info.value.status_code) == ("invalid_utf8", 400)


@pytest.mark.parametrize(
    "date",
    [
        "Sat, 31 Dec 2016 23:59:60 GMT",  # a leap second: beyond 23:59:59 (RFC 2616 §3.3.1)
        "Sat, 00 Jan 2016 00:00:00 GMT",
        "Mon, 30 Feb 2015 00:00:00 GMT",
        "Mon, 01 Jan 0000 00:00:00 GMT",  # no year 0 in datetime
        "Mon, 01 Jan 2010 24:00:00 GMT",
        "Mon, 01 Jan 2010 00:60:00 GMT",
        "Mon, 01 Foo 2010 00:00:00 GMT",
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 2010 00:00 GMT",
    ],
)
def test_impossible_dates_are_400(date: str) -> None:
    # Never a ValueError from datetime: a ParseError the server can answer with a 400.
    with pytest.raises(ParseError) as info:
        Message.parse(with_headers(*BASE, f"Date: {date}"))
    assert (info.value.reason, info.value.status_code) == ("invalid_date", 400)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 29 Feb 2016 00:00:00 GMT", datetime.datetime(2016, 2, 29, tzinfo=datetime.UTC)),
        (
            "Fri, 31 Dec 9999 23:59:59 GMT",
            datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
        ),
        ("Mon, 01 Jan 0001 00:00:00 GMT", datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)),
    ],
)
def test_edge_dates(date: str, expected: datetime.datetime, round_trip: RoundTrip) -> None:
    message = Message.parse(with_headers(*BASE, f"Date: {date}"))
    assert message.headers["date"] == expected
    round_trip(message)
    assert f"\r\nDate: {date}\r\n".encode() in bytes(message)


@pytest.mark.parametrize(
    ("comment", "text"),
    [
        ("(I'm in a meeting)", "I'm in a meeting"),
        ("(nested (comment) here)", "nested (comment) here"),
        # comment = LPAREN *(ctext / quoted-pair / comment) RPAREN (RFC 3261 §25.1): a
        # quoted-pair stands for its character, as in a quoted-string
        ("(a \\) b)", "a ) b"),
        ('(say \\"hi\\")', 'say "hi"'),
        ("(back\\\\slash)", "back\\slash"),
    ],
)
def test_retry_after_comments(comment: str, text: str, round_trip: RoundTrip) -> None:
    message = Message.parse(with_headers(*BASE, f"Retry-After: 300 {comment};duration=60"))
    assert message.headers["retry_after"] == RetryAfter(300, text, {"duration": "60"})
    round_trip(message)
