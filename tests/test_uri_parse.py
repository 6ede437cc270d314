"""``URI.parse`` and ``str(URI)``: RFC 3261 §19.1 (sip, sips), RFC 3966 (tel), RFC 3986 (others).

Expected values come from the RFC grammar (RFC 3261 §25.1) and the examples of §19.1.3;
conventions from DESIGN.md: scheme and parameter names lowercased, escapes decoded, hosts
without IPv6 brackets, ports ``None`` when absent.
"""

from __future__ import annotations

import pytest
from sippet import URI, ParseError


def sip(
    user: str | None,
    host: str,
    port: int | None = None,
    params: dict[str, str | None] | None = None,
    headers: dict[str, str] | None = None,
    password: str | None = None,
    scheme: str = "sip",
) -> URI:
    return URI(scheme, user, password, host, port, params or {}, headers or {})


# RFC 3261 §19.1.3, every example, and what it means.
RFC3261_EXAMPLES = [
    ("sip:alice@atlanta.com", sip("alice", "atlanta.com")),
    (
        "sip:alice:secretword@atlanta.com;transport=tcp",
        sip("alice", "atlanta.com", password="secretword", params={"transport": "tcp"}),
    ),
    (
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        sip(
            "alice",
            "atlanta.com",
            headers={"subject": "project x", "priority": "urgent"},
            scheme="sips",
        ),
    ),
    (
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        sip("+1-212-555-1212", "gateway.com", password="1234", params={"user": "phone"}),
    ),
    ("sips:1212@gateway.com", sip("1212", "gateway.com", scheme="sips")),
    ("sip:alice@192.0.2.4", sip("alice", "192.0.2.4")),
    (
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        sip(
            None, "atlanta.com", params={"method": "REGISTER"}, headers={"to": "alice@atlanta.com"}
        ),
    ),
    ("sip:alice;day=tuesday@atlanta.com", sip("alice;day=tuesday", "atlanta.com")),
]


@pytest.mark.parametrize(("text", "expected"), RFC3261_EXAMPLES)
def test_rfc3261_examples(text: str, expected: URI) -> None:
    uri = URI.parse(text)
    assert uri == expected
    assert isinstance(uri, URI)
    assert URI.parse(str(uri)) == uri


def test_fields_by_name() -> None:
    uri = URI.parse("sips:bob:pw@biloxi.example.com:5061;transport=tls;lr?subject=hi")
    assert uri.scheme == "sips"
    assert uri.user == "bob"
    assert uri.password == "pw"
    assert uri.host == "biloxi.example.com"
    assert uri.port == 5061
    assert uri.parameters == {"transport": "tls", "lr": None}
    assert uri.headers == {"subject": "hi"}
    assert uri.opaque is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # scheme is case-insensitive (RFC 3261 §19.1.4); stored lowercased
        ("SIP:alice@atlanta.com", sip("alice", "atlanta.com")),
        ("SiPs:alice@atlanta.com", sip("alice", "atlanta.com", scheme="sips")),
        # parameter names lowercased, values kept
        ("sip:a@b.example;Transport=TCP", sip("a", "b.example", params={"transport": "TCP"})),
        # a parameter without a value is None; order is kept
        (
            "sip:p.example;lr;maddr=192.0.2.1;x-y=z",
            sip(None, "p.example", params={"lr": None, "maddr": "192.0.2.1", "x-y": "z"}),
        ),
        # header names keep their case
        (
            "sip:a@b.example?Route=x&Call-ID=y",
            sip("a", "b.example", headers={"Route": "x", "Call-ID": "y"}),
        ),
        # an empty header value is allowed (hvalue = *(...))
        ("sip:a@b.example?body=", sip("a", "b.example", headers={"body": ""})),
        # ports: none, explicit default (not dropped: §19.1.4), maximum
        ("sip:a@b.example", sip("a", "b.example")),
        ("sip:a@b.example:5060", sip("a", "b.example", 5060)),
        ("sip:a@192.0.2.1:65535", sip("a", "192.0.2.1", 65535)),
        # user and password are optional; a host alone
        ("sip:b.example", sip(None, "b.example")),
        ("sip:a:@b.example", sip("a", "b.example", password="")),
        # IPv6 references: host stored without brackets
        ("sip:[::1]", sip(None, "::1")),
        (
            "sip:a@[2001:db8::1]:5070;transport=udp",
            sip("a", "2001:db8::1", 5070, params={"transport": "udp"}),
        ),
        # hostname forms: a trailing dot, digits and hyphens in labels
        ("sip:a@b-1.example.", sip("a", "b-1.example.")),
        ("sip:a@1.example.com", sip("a", "1.example.com")),
    ],
)
def test_sip_uris(text: str, expected: URI) -> None:
    uri = URI.parse(text)
    assert uri == expected
    assert URI.parse(str(uri)) == uri


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # %HH in user, password, params and headers is decoded (RFC 3261 §19.1.2, §25.1)
        ("sip:%61lice@atlanta.com", sip("alice", "atlanta.com")),
        ("sip:a%20b@atlanta.com", sip("a b", "atlanta.com")),
        ("sip:a:p%40ss@atlanta.com", sip("a", "atlanta.com", password="p@ss")),
        ("sip:a@b.example;x=%41%62", sip("a", "b.example", params={"x": "Ab"})),
        ("sip:a@b.example;%6C%72", sip("a", "b.example", params={"lr": None})),
        ("sip:a@b.example?h=%3Csip:c%3E", sip("a", "b.example", headers={"h": "<sip:c>"})),
        # UTF-8 octets decode to characters
        ("sip:%C3%A9t%C3%A9@b.example", sip("été", "b.example")),
        # %25 is a literal '%', not the start of another escape
        ("sip:100%25@b.example", sip("100%", "b.example")),
        ("sip:%2541@b.example", sip("%41", "b.example")),
        # lower-case hex digits are escapes too
        ("sip:%3a%40@b.example", sip(":@", "b.example")),
        # escaped NUL is kept, not a terminator (RFC 4475 §3.1.1.4)
        ("sip:a%00b@b.example", sip("a\x00b", "b.example")),
    ],
)
def test_escapes_are_decoded(text: str, expected: URI) -> None:
    uri = URI.parse(text)
    assert uri == expected
    assert URI.parse(str(uri)) == uri


@pytest.mark.parametrize(
    ("uri", "text"),
    [
        (sip("alice", "atlanta.com"), "sip:alice@atlanta.com"),
        (sip(None, "atlanta.com"), "sip:atlanta.com"),
        (sip("bob", "biloxi.com", 5061, scheme="sips"), "sips:bob@biloxi.com:5061"),
        (sip("a", "b.example", params={"lr": None}), "sip:a@b.example;lr"),
        (
            sip("a", "b.example", params={"transport": "tcp", "lr": None}),
            "sip:a@b.example;transport=tcp;lr",
        ),
        (sip("a", "b.example", password="pw"), "sip:a:pw@b.example"),
        # characters outside "user" must be escaped (RFC 3261 §25.1)
        (sip("a b", "b.example"), "sip:a%20b@b.example"),
        (sip("sips:user@example.com", "example.net"), "sip:sips%3Auser%40example.com@example.net"),
        (sip("\x00", "b.example"), "sip:%00@b.example"),
        (sip("100%", "b.example"), "sip:100%25@b.example"),
        # '@' is not allowed in an hvalue; ' ' neither
        (
            sip(None, "atlanta.com", headers={"to": "alice@atlanta.com"}),
            "sip:atlanta.com?to=alice%40atlanta.com",
        ),
        (
            sip("a", "b.example", headers={"subject": "project x"}),
            "sip:a@b.example?subject=project%20x",
        ),
    ],
)
def test_serialization(uri: URI, text: str) -> None:
    # Hex digits of escapes are compared case-insensitively (RFC 3261 §19.1.4)
    assert str(uri).lower() == text.lower()
    assert URI.parse(str(uri)) == uri


def test_repr_shows_the_wire_form() -> None:
    assert repr(URI.parse("sip:alice@atlanta.com")) == "URI('sip:alice@atlanta.com')"


@pytest.mark.parametrize(
    ("text", "user", "params"),
    [
        # RFC 3966 global and local numbers
        ("tel:+1-201-555-0123", "+1-201-555-0123", {}),
        ("tel:7042;phone-context=example.com", "7042", {"phone-context": "example.com"}),
        ("tel:863-1234;phone-context=+1-914-555", "863-1234", {"phone-context": "+1-914-555"}),
        ("tel:+1-201-555-0123;ext=1234", "+1-201-555-0123", {"ext": "1234"}),
        ("TEL:+1-201-555-0123", "+1-201-555-0123", {}),
    ],
)
def test_tel_uris(text: str, user: str, params: dict[str, str | None]) -> None:
    uri = URI.parse(text)
    assert uri.scheme == "tel"
    assert uri.user == user
    assert uri.parameters == params
    assert (uri.host, uri.port, uri.password) == (None, None, None)
    assert URI.parse(str(uri)) == uri


@pytest.mark.parametrize(
    ("text", "scheme", "opaque"),
    [
        ("http://www.example.com", "http", "//www.example.com"),
        ("http://www.example.com/a/b?c=d", "http", "//www.example.com/a/b?c=d"),
        ("mailto:alice@example.com", "mailto", "alice@example.com"),
        ("urn:service:sos", "urn", "service:sos"),
        ("isbn:2983792873", "isbn", "2983792873"),
        ("HTTPS://Example.COM/X", "https", "//Example.COM/X"),
        ("soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"),
        ("a+b-c.d:x", "a+b-c.d", "x"),
    ],
)
def test_other_schemes_are_opaque(text: str, scheme: str, opaque: str) -> None:
    uri = URI.parse(text)
    assert uri == URI(scheme, opaque=opaque)
    assert (uri.user, uri.host, uri.port, uri.parameters, uri.headers) == (
        None,
        None,
        None,
        {},
        {},
    )
    assert str(uri) == f"{scheme}:{opaque}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        "sip",
        "sip:",  # no host
        "sip:alice@",  # empty host
        "alice@atlanta.com",  # no scheme
        "1sip:a@b.example",  # a scheme starts with a letter (RFC 3986 §3.1)
        "s p:a@b.example",
        "sip:alice@atlanta.com:port",
        "sip:alice@atlanta.com:",  # ':' without a port
        "sip:alice@atlanta.com:65536",  # beyond a 16-bit port
        "sip:alice@atlanta.com:99999999999999999999",
        "sip:al ice@atlanta.com",  # SP is not allowed unescaped
        "sip:alice@atl anta.com",
        "sip:alice@atlanta.com ",
        "sip:%zz@atlanta.com",  # bad escape
        "sip:a%4@atlanta.com",  # truncated escape
        "sip:a@b.example;x=%G1",
        "sip:a@b.example;",  # empty uri-parameter
        "sip:a@b.example;=v",  # empty parameter name
        "sip:a@b.example?",  # '?' without a header
        "sip:a@b.example?=v",  # empty header name
        "sip:a@b.example>",
        "<sip:a@b.example>",  # name-addr brackets are not part of a URI
        "sip:a@b@c.example",
        "sip:a\r\n@b.example",
        "sip:a@b.example\x00",
    ],
)
def test_invalid_uris_raise_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as info:
        URI.parse(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.reason, str) and info.value.reason


def test_uri_is_a_value() -> None:
    a = URI.parse("sip:alice@atlanta.com;transport=tcp")
    b = URI.parse("sip:alice@atlanta.com;transport=tcp")
    assert a == b
    assert a is not b
    assert a != URI.parse("sip:alice@atlanta.com:5060;transport=tcp")
    assert a != URI.parse("sips:alice@atlanta.com;transport=tcp")
    assert a == sip("alice", "atlanta.com", params={"transport": "tcp"})


@pytest.mark.parametrize(
    "text",
    [
        *(example for example, _ in RFC3261_EXAMPLES),
        # RFC 4475 §3.1.1.2: every user, password and user-unreserved character unescaped
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com",
        "sip:p.example;lr;maddr=192.0.2.1",
        "sips:[2001:db8::1]:5061;transport=tls",
        "tel:+1-201-555-0123;ext=1234",
    ],
)
def test_minimally_escaped_text_is_written_back_unchanged(text: str) -> None:
    # RFC 3261 §19.1.2: escape only what the grammar requires; a URI already in that
    # form comes back byte for byte (a proxy re-writing a Request-URI keeps it).
    assert str(URI.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("tel:*67;phone-context=example.com", "*67"),
        ("tel:#31#;phone-context=example.com", "#31#"),
        ("tel:1A2B;phone-context=x.example.com", "1A2B"),
        ("tel:+1(201)555.0123", "+1(201)555.0123"),
    ],
)
def test_tel_numbers_with_dtmf_and_separators(text: str, number: str) -> None:
    # RFC 3966 §3: local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") ...,
    # visual-separator = "-" / "." / "(" / ")"; §5.1.3: '*' and '#' are not prohibited.
    uri = URI.parse(text)
    assert uri.user == number
    assert str(uri) == text
    assert URI.parse(str(uri)) == uri


@pytest.mark.parametrize(
    "text",
    [
        "sip:%FF@h.example.com",  # escaped = "%" HEXDIG HEXDIG: any octet, UTF-8 or not
        "sip:a%C3@h.example.com",  # a truncated UTF-8 sequence
        "sip:a@h.example.com;x=%80",
        "sip:a@h.example.com?h=%FE%FF",
    ],
)
def test_escaped_octets_that_are_not_utf8_are_refused_not_altered(text: str) -> None:
    # RFC 3261 §25.1 allows any escaped octet, but sippet's URI holds text: such a URI is
    # refused with a 400 (the documented strictness) rather than read with U+FFFD, which
    # would write back %EF%BF%BD and change the URI a proxy forwards.
    with pytest.raises(ParseError) as info:
        URI.parse(text)
    assert (info.value.reason, info.value.status_code) == ("invalid_uri", 400)
    assert "not UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("sip:%C3%A9@h.example.com", "\u00e9"),
        ("sip:a@h.example.com;x=%C3%A9", "a"),
        ("sip:a@h.example.com?h=%E2%82%AC", "a"),
    ],
)
def test_escaped_utf8_octets_read_back_unaltered(text: str, user: str) -> None:
    uri = URI.parse(text)
    assert uri.user == user
    assert str(uri) == text


def test_port_with_leading_zeros() -> None:
    # port = 1*DIGIT (RFC 3261 §25.1)
    assert URI.parse("sip:a@h.example.com:05060").port == 5060
    assert URI.parse("sip:a@h.example.com:00005060").port == 5060
