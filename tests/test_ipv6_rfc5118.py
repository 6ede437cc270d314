"""IPv6 in SIP: the RFC 5118 §4 torture messages, plus invalid variants of our own.

The oracle is RFC 5118 §4 (verdicts) and RFC 3261 §25.1 (``IPv6reference = "[" IPv6address
"]"`` in ``host``; ``via-received`` takes a bare ``IPv6address``). sippet stores hosts
without brackets (DESIGN.md) and the serializers put them back.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers.messages import Load, RoundTrip
from sippet import (
    URI,
    CSeq,
    Message,
    Method,
    NameAddr,
    ParseError,
    RequestLine,
    SentBy,
    Via,
)


def sip(
    user: str | None,
    host: str,
    port: int | None = None,
    params: dict[str, str | None] | None = None,
) -> URI:
    return URI("sip", user, None, host, port, params or {}, {})


def via(protocol: str, host: str, port: int | None = None, **params: str | None) -> Via:
    return Via((2, 0), protocol, SentBy(host, port), dict(params))


VALID = [
    "ipv6-good",
    "port-ambiguous",
    "port-unambiguous",
    "via-received-param-with-delim",
    "via-received-param-no-delim",
    "ipv6-in-sdp",
    "mult-ip-in-header",
    "mult-ip-in-sdp",
    "ipv4-mapped-ipv6",
    "ipv6-bug-abnf-3-colons",
    "ipv6-correct-abnf-2-colons",
]


@pytest.mark.parametrize("name", VALID)
def test_valid_message_parses_and_round_trips(
    name: str, rfc5118: Load, round_trip: RoundTrip
) -> None:
    round_trip(Message.parse(rfc5118(name)))


def test_4_1_ipv6_good(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("ipv6-good"))
    assert message.start_line == RequestLine(Method.REGISTER, sip(None, "2001:db8::10"))
    expected: dict[str, Any] = {
        "to": NameAddr("", sip("user", "example.com"), {}),
        "from": NameAddr("", sip("user", "example.com"), {"tag": "81x2"}),
        "via": [via("UDP", "2001:db8::9:1", branch="z9hG4bKas3-111")],
        "call_id": "SSG9559905523997077@hlau_4100",
        "max_forwards": 70,
        "contact": [NameAddr("Caller", sip("caller", "2001:db8::1"), {})],
        "cseq": CSeq(98176, Method.REGISTER),
        "content_length": 0,
    }
    assert message.headers == expected


def test_4_1_serialization_puts_the_brackets_back(rfc5118: Load) -> None:
    wire = bytes(Message.parse(rfc5118("ipv6-good")))
    assert wire.startswith(b"REGISTER sip:[2001:db8::10] SIP/2.0\r\n")
    assert b"\r\nVia: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111\r\n" in wire
    assert b"<sip:caller@[2001:db8::1]>" in wire


def test_4_2_ipv6_without_brackets_in_request_uri_is_400(rfc5118: Load) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(rfc5118("ipv6-bad"))
    assert info.value.status_code == 400


def test_4_3_port_inside_the_brackets_is_part_of_the_address(rfc5118: Load) -> None:
    # Well-formed: the "port" is the last group of a compressed IPv6 address.
    uri = Message.parse(rfc5118("port-ambiguous")).start_line.request_uri  # type: ignore[union-attr]
    assert (uri.host, uri.port) == ("2001:db8::10:5070", None)


def test_4_4_port_outside_the_brackets(rfc5118: Load) -> None:
    uri = Message.parse(rfc5118("port-unambiguous")).start_line.request_uri  # type: ignore[union-attr]
    assert uri == sip(None, "2001:db8::10", 5070)
    assert str(uri) == "sip:[2001:db8::10]:5070"


def test_4_5_received_with_brackets_is_accepted(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("via-received-param-with-delim"))
    [top] = message.headers["via"]
    assert top.sent_by == SentBy("2001:db8::9:1", None)
    assert top.branch == "z9hG4bKas3-111"
    # Liberal acceptance (RFC 5118 §4.5); either stored form is the same address.
    assert top.params["received"] in ("2001:db8::9:255", "[2001:db8::9:255]")
    assert list(top.params) == ["received", "branch"]
    assert message.start_line == RequestLine(Method.BYE, sip(None, "2001:db8::10"))
    # via-received is an address, never a quoted-string (RFC 3261 §20.42)
    wire = bytes(message)
    assert b'received="' not in wire
    assert b";received=" + top.params["received"].encode() + b";branch=z9hG4bKas3-111" in wire


def test_4_5_received_without_brackets(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("via-received-param-no-delim"))
    assert message.headers["via"] == [
        via("UDP", "2001:db8::9:1", received="2001:db8::9:255", branch="z9hG4bKas3")
    ]
    assert message.headers["contact"] == [NameAddr("Caller", sip("caller", "2001:db8::9:1"), {})]
    assert (
        b"\r\nVia: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3\r\n"
        in (bytes(message))
    )


def test_4_6_ipv6_in_sdp(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("ipv6-in-sdp"))
    assert message.start_line == RequestLine(Method.INVITE, sip("user", "2001:db8::10"))
    assert message.headers["to"] == NameAddr("", sip("user", "2001:db8::10"), {})
    assert message.headers["via"] == [via("UDP", "2001:db8::20", branch="z9hG4bKas3-111")]
    assert message.headers["contact"] == [NameAddr("Caller", sip("caller", "2001:db8::20"), {})]
    assert len(message.body) == 251 == message.headers["content_length"]
    assert b"c=IN IP6 2001:db8::20\r\n" in message.body


def test_4_7_mixed_ipv4_and_ipv6_vias(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("mult-ip-in-header"))
    assert message.start_line == RequestLine(Method.BYE, sip("user", "host.example.net"))
    assert message.headers["via"] == [
        via("UDP", "2001:db8::9:1", 6050, branch="z9hG4bKas3-111"),
        via("UDP", "192.0.2.1", branch="z9hG4bKjhja8781hjuaij65144"),
        via("TCP", "2001:db8::9:255", branch="z9hG4bK451jj", received="192.0.2.200"),
    ]
    assert message.headers["to"] == NameAddr("", sip("user", "example.net"), {"tag": "9817--94"})
    wire = bytes(message)
    assert b"\r\nVia: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111" in wire
    assert b"SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200" in wire


def test_4_8_multiple_addresses_in_sdp(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("mult-ip-in-sdp"))
    assert message.headers["contact"] == [NameAddr("Caller", sip("caller", "2001:db8::9:1"), {})]
    assert message.headers["cseq"] == CSeq(8912, Method.INVITE)
    assert len(message.body) == 189


def test_4_9_ipv4_mapped_ipv6(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("ipv4-mapped-ipv6"))
    assert message.headers["via"] == [
        via("UDP", "::ffff:192.0.2.10", 19823, branch="z9hG4bKbh19"),
        via("UDP", "::ffff:192.0.2.2", branch="z9hG4bKas3-111"),
    ]
    assert message.headers["contact"] == [
        NameAddr("T. desk phone", sip("ted", "::ffff:192.0.2.2"), {})
    ]
    wire = bytes(message)
    assert b"SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19" in wire
    assert b"<sip:ted@[::ffff:192.0.2.2]>" in wire


def test_4_10_three_colons_are_tolerated(rfc5118: Load) -> None:
    # "an implementation must tolerate both of the above constructs"
    message = Message.parse(rfc5118("ipv6-bug-abnf-3-colons"))
    uri = message.start_line.request_uri  # type: ignore[union-attr]
    assert uri.user == "user"
    assert uri.host in ("2001:db8:::192.0.2.1", "2001:db8::192.0.2.1")
    assert message.headers["to"].uri.host == uri.host


def test_4_10_two_colons(rfc5118: Load) -> None:
    message = Message.parse(rfc5118("ipv6-correct-abnf-2-colons"))
    assert message.start_line == RequestLine(Method.OPTIONS, sip("user", "2001:db8::192.0.2.1"))
    assert message.headers["to"] == NameAddr("", sip("user", "2001:db8::192.0.2.1"), {})


# ---------------------------------------------------------------------------------------
# The RFC's own Appendix A archive: bare LF line ends, two wrong Content-Lengths.

ARCHIVE_SAME_AS_FIXED = [
    "ipv6-good",
    "port-ambiguous",
    "port-unambiguous",
    "via-received-param-with-delim",
    "via-received-param-no-delim",
    "mult-ip-in-header",
    "ipv6-bug-abnf-3-colons",  # no empty line after the headers, like the README example
    "ipv6-correct-abnf-2-colons",
]


@pytest.mark.parametrize("name", ARCHIVE_SAME_AS_FIXED)
def test_archive_with_bare_lf_parses_like_the_crlf_copy(name: str, rfc5118: Load) -> None:
    assert Message.parse(rfc5118(f"archive/{name}")) == Message.parse(rfc5118(name))


def test_archive_ipv4_mapped_has_a_right_content_length(rfc5118: Load) -> None:
    archived = Message.parse(rfc5118("archive/ipv4-mapped-ipv6"))
    fixed = Message.parse(rfc5118("ipv4-mapped-ipv6"))
    assert archived.body == fixed.body.replace(b"\r\n", b"\n")
    assert len(archived.body) == 236 == archived.headers["content_length"]
    assert archived.headers["via"] == fixed.headers["via"]


@pytest.mark.parametrize("name", ["ipv6-in-sdp", "mult-ip-in-sdp"])
def test_archive_content_length_larger_than_body_is_400(name: str, rfc5118: Load) -> None:
    # RFC 3261 §18.3 / RFC 4475 §3.1.2.2: over UDP, a short body is a 400.
    with pytest.raises(ParseError) as info:
        Message.parse(rfc5118(f"archive/{name}"))
    assert info.value.status_code == 400


# ---------------------------------------------------------------------------------------
# Malformed IPv6 references of our own (RFC 3261 §25.1 IPv6reference, hexpart, hex4).

GOOD_REQUEST = (
    "OPTIONS {ruri} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {via};branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: {to}\r\n"
    "From: <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 63104 OPTIONS\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)


def request(
    ruri: str = "sip:bob@[2001:db8::1]",
    via_host: str = "[2001:db8::9]:5060",
    to: str = "<sip:bob@[2001:db8::1]>",
) -> str:
    return GOOD_REQUEST.format(ruri=ruri, via=via_host, to=to)


def test_own_template_is_valid() -> None:
    message = Message.parse(request())
    assert message.headers["via"][0].sent_by == SentBy("2001:db8::9", 5060)
    assert message.start_line.request_uri == sip("bob", "2001:db8::1")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "ruri",
    [
        "sip:bob@[2001:db8::1",  # unclosed bracket
        "sip:bob@2001:db8::1]",  # no opening bracket
        "sip:bob@2001:db8::1",  # no brackets (RFC 5118 §4.2)
        "sip:bob@[2001:db8::1]5060",  # junk after ']'
        "sip:bob@[2001:db8::1]:",  # ':' without a port
        "sip:bob@[]",  # empty reference
        "sip:bob@[2001:db8::zz]",  # not hex
        "sip:bob@[2001:db8::12345]",  # hex4 is 1*4HEXDIG
        "sip:bob@[[2001:db8::1]]",  # doubled brackets
    ],
)
def test_malformed_ipv6_in_request_uri_is_400(ruri: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request(ruri=ruri))
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    "via_host",
    [
        "2001:db8::9",  # sent-by host is an IPv6reference: brackets mandatory
        "[2001:db8::9",  # unclosed
        "[2001:db8::9]:",  # ':' without a port
        "[2001:db8::9]:65536",  # port out of range
    ],
)
def test_malformed_ipv6_in_via_is_400(via_host: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request(via_host=via_host))
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    "to", ["<sip:bob@[2001:db8::1>", "sip:bob@[2001:db8::1", "<sip:bob@2001:db8::1]>"]
)
def test_malformed_ipv6_in_to_is_400(to: str) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(request(to=to))
    assert info.value.status_code == 400


# ---------------------------------------------------------------------------------------
# Serialization of values built in code: hosts are stored bare, brackets are added.


@pytest.mark.parametrize(
    ("uri", "text"),
    [
        (sip(None, "::1"), "sip:[::1]"),
        (sip("alice", "2001:db8::1", 5070), "sip:alice@[2001:db8::1]:5070"),
        (sip("bob", "::ffff:192.0.2.1"), "sip:bob@[::ffff:192.0.2.1]"),
        (
            sip("bob", "fe80::1", params={"transport": "tcp"}),
            None,
        ),
    ],
)
def test_uri_serializes_ipv6_with_brackets(uri: URI, text: str | None) -> None:
    if text is not None:
        assert str(uri) == text
    assert URI.parse(str(uri)) == uri
    assert str(uri).startswith(("sip:[", f"sip:{uri.user}@["))


def test_built_message_serializes_ipv6_via_and_uris(round_trip: RoundTrip) -> None:
    message = Message(
        RequestLine(Method.OPTIONS, sip("bob", "2001:db8::1", 5060)),
        {
            "via": [
                via("UDP", "::1", 5062, branch="z9hG4bK1", received="2001:db8::99", rport="5062")
            ],
            "max_forwards": 70,
            "from": NameAddr("", sip("alice", "::1"), {"tag": "x1"}),
            "to": NameAddr("", sip("bob", "2001:db8::1"), {}),
            "call_id": "ipv6@::1",
            "cseq": CSeq(1, Method.OPTIONS),
            "contact": [NameAddr("", sip("alice", "::1", 5062), {})],
        },
    )
    wire = bytes(message)
    assert wire.startswith(b"OPTIONS sip:bob@[2001:db8::1]:5060 SIP/2.0\r\n")
    assert (
        b"\r\nVia: SIP/2.0/UDP [::1]:5062;branch=z9hG4bK1;received=2001:db8::99;rport=5062\r\n"
        in wire
    )
    assert b"<sip:alice@[::1]>;tag=x1" in wire
    assert b"<sip:alice@[::1]:5062>" in wire
    again = round_trip(message)
    assert again.headers["via"][0].sent_by == SentBy("::1", 5062)
