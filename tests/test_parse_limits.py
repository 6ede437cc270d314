"""``sippet.Limits`` and hostile input: every bound enforced, nothing but ``ParseError`` or a
``Message`` ever comes out of the parser.

RFC 3261 §18.3 leaves message size bounds to the implementation; the defaults are those
documented in ``sippet/limits.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from helpers.messages import RoundTrip
from sippet import DEFAULT_LIMITS, Limits, Message, ParseError
from sippet._native import StreamFramer

HEAD = [
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8",
    "To: <sip:bob@biloxi.example.com>",
    "From: <sip:alice@atlanta.example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
    "CSeq: 314159 OPTIONS",
]


def message(*extra: str, head: list[str] = HEAD, body: bytes = b"") -> bytes:
    lines = [*head, *extra]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def assert_parse_error(error: ParseError) -> None:
    assert isinstance(error, ValueError)
    assert isinstance(error.reason, str) and error.reason
    assert isinstance(error.status_code, int)
    assert 400 <= error.status_code <= 599


def parse_or_error(data: bytes, round_trip: RoundTrip, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Parse; a ParseError is fine, a Message must survive a round trip (under the default
    limits, which the round trip parses with). True if it parsed."""
    try:
        parsed = Message.parse(data, limits)
    except ParseError as error:
        assert_parse_error(error)
        return False
    assert isinstance(parsed, Message)
    if limits == DEFAULT_LIMITS:
        round_trip(parsed)
    else:
        assert isinstance(bytes(parsed), bytes)
    return True


def rejects(data: bytes, limits: Limits) -> ParseError:
    with pytest.raises(ParseError) as info:
        Message.parse(data, limits)
    assert_parse_error(info.value)
    # a bound, not a syntax error: 513 Message Too Large (RFC 3261 §21.5.14) or 400
    assert info.value.status_code in (400, 513)
    return info.value


# ---------------------------------------------------------------------------------------
# The defaults


def test_defaults_are_the_documented_ones() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert (
        DEFAULT_LIMITS.max_message_size,
        DEFAULT_LIMITS.max_header_count,
        DEFAULT_LIMITS.max_line_length,
        DEFAULT_LIMITS.max_via_count,
        DEFAULT_LIMITS.max_stream_buffer,
    ) == (65_535, 256, 8_192, 70, 131_072)
    assert Limits(max_via_count=3) == Limits(max_via_count=3)
    assert Limits(max_via_count=3) != DEFAULT_LIMITS


def test_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_header_count = 10_000  # type: ignore[misc]


def test_default_limits_accept_the_longest_torture_message(
    rfc4475: Callable[[str], bytes],
) -> None:
    # RFC 4475 longreq: 34 Via values, lines of several hundred octets.
    assert len(Message.parse(rfc4475("longreq"), DEFAULT_LIMITS).headers["via"]) == 34


# ---------------------------------------------------------------------------------------
# max_message_size


def padded_to(size: int) -> bytes:
    base = message("X-Pad: ")
    data = message("X-Pad: " + "p" * (size - len(base)))
    assert len(data) == size
    return data


def test_max_message_size_small() -> None:
    limits = Limits(max_message_size=600)
    assert Message.parse(padded_to(600), limits).headers["X-Pad"][0].startswith("ppp")
    rejects(padded_to(601), limits)


def test_max_message_size_counts_the_body() -> None:
    limits = Limits(max_message_size=600)
    sizes = [n for n in range(600) if len(message(body=b"b" * n)) == 600]
    assert sizes, "no body size makes a 600-octet message"
    fits = message(body=b"b" * sizes[0])
    assert Message.parse(fits, limits).body == b"b" * sizes[0]
    too_big = message(body=b"b" * (sizes[0] + 1))
    assert len(too_big) == 601
    rejects(too_big, limits)


def test_max_message_size_default() -> None:
    # a header line may be 8,192 octets: spread the padding over several X-Pad lines
    def padded(size: int) -> bytes:
        lines = [f"X-Pad{i}: " + "p" * 8000 for i in range(8)]
        base = message(*lines, "X-Last: ")
        data = message(*lines, "X-Last: " + "q" * (size - len(base)))
        assert len(data) == size
        return data

    assert len(Message.parse(padded(65_535)).headers) == 14
    rejects(padded(65_536), DEFAULT_LIMITS)


def test_a_megabyte_of_garbage_is_rejected() -> None:
    rejects(b"A" * 1_000_000, DEFAULT_LIMITS)
    rejects(message("X-Big: " + "a" * 1_000_000), DEFAULT_LIMITS)
    rejects(message(body=b"\x00" * 1_000_000), DEFAULT_LIMITS)


# ---------------------------------------------------------------------------------------
# max_header_count


def test_max_header_count() -> None:
    limits = Limits(max_header_count=5)
    five = message(head=HEAD[:6])  # 5 header lines
    assert len(Message.parse(five, limits).headers) == 5
    rejects(message("Max-Forwards: 70", head=HEAD[:6]), limits)
    # a repeated list header counts once per line
    rejects(message("X-A: 1", "X-A: 2", head=HEAD[:5]), limits)


def test_ten_thousand_headers_are_rejected() -> None:
    rejects(message(*(f"X-H{i}: v" for i in range(10_000))), DEFAULT_LIMITS)
    # also when each line is tiny and the total stays under max_message_size
    rejects(message(*("a:" for _ in range(10_000))), Limits(max_message_size=10**6))


def test_header_count_at_the_default() -> None:
    at_limit = message(*(f"X-H{i}: v" for i in range(256 - 5)))
    assert len(Message.parse(at_limit).headers) == 256
    rejects(message(*(f"X-H{i}: v" for i in range(256 - 4))), DEFAULT_LIMITS)


# ---------------------------------------------------------------------------------------
# max_line_length


def test_max_line_length() -> None:
    limits = Limits(max_line_length=100)
    # "X-Long: " is 8 octets; 90 + 8 = 98 fits with or without the CRLF counted
    assert Message.parse(message("X-Long: " + "a" * 90), limits).headers["X-Long"] == ["a" * 90]
    rejects(message("X-Long: " + "a" * 95), limits)  # 103 octets
    rejects(message("Subject: " + "s" * 200), limits)


def test_max_line_length_applies_after_unfolding() -> None:
    limits = Limits(max_line_length=100)
    folded = [f"X-Folded: {'a' * 40}", f" {'b' * 40}", f" {'c' * 40}"]  # 10+40+41+41
    rejects(message(*folded), limits)
    short = [f"X-Folded: {'a' * 20}", f" {'b' * 20}", f" {'c' * 20}"]
    parsed = Message.parse(message(*short), limits)
    assert parsed.headers["X-Folded"] == [f"{'a' * 20} {'b' * 20} {'c' * 20}"]


def test_max_line_length_default() -> None:
    assert Message.parse(message("X-Long: " + "a" * 8_000)).headers["X-Long"] == ["a" * 8_000]
    rejects(message("X-Long: " + "a" * 8_200), DEFAULT_LIMITS)


# ---------------------------------------------------------------------------------------
# max_via_count


def vias(count: int, per_line: int) -> list[str]:
    values = [f"SIP/2.0/UDP h{i}.example.com;branch=z9hG4bK{i}" for i in range(count)]
    return ["Via: " + ", ".join(values[i : i + per_line]) for i in range(0, count, per_line)]


@pytest.mark.parametrize("per_line", [1, 2, 4])
def test_max_via_count(per_line: int) -> None:
    limits = Limits(max_via_count=3)
    head = [HEAD[0], *HEAD[2:]]
    parsed = Message.parse(message(*vias(3, per_line), head=head), limits)
    assert len(parsed.headers["via"]) == 3
    rejects(message(*vias(4, per_line), head=head), limits)


def test_max_via_count_default() -> None:
    head = [HEAD[0], *HEAD[2:]]
    assert len(Message.parse(message(*vias(70, 10), head=head)).headers["via"]) == 70
    rejects(message(*vias(71, 10), head=head), DEFAULT_LIMITS)


# ---------------------------------------------------------------------------------------
# max_stream_buffer (the stream framer, RFC 3261 §18.3 over TCP)


def test_max_stream_buffer() -> None:
    limits = Limits(max_stream_buffer=1_000)
    framer = StreamFramer(limits)
    partial = message("X-Pad: " + "p" * 500)[:-4]  # no end of headers yet
    assert len(partial) < 1_000
    assert framer.feed(partial) == []
    with pytest.raises(ParseError) as info:
        framer.feed(b"\r\nX-More: " + b"m" * 600)
    assert_parse_error(info.value)


def test_stream_framer_accepts_what_fits() -> None:
    framer = StreamFramer(Limits(max_stream_buffer=1_000))
    whole = message(body=b"hello")
    assert framer.feed(whole[:50]) == []
    assert framer.feed(whole[50:] + whole) == [whole, whole]


# ---------------------------------------------------------------------------------------
# Garbage: ParseError or a Message, never another exception, never a crash


@pytest.mark.parametrize("value", range(256))
def test_every_single_byte_is_a_parse_error(value: int) -> None:
    with pytest.raises(ParseError) as info:
        Message.parse(bytes([value]))
    assert_parse_error(info.value)


BASE = message()

# (where, the text of BASE to change, its replacement with {} where the byte goes)
POSITIONS = [
    ("method", b"OPTIONS sip:", b"OP{}TIONS sip:"),
    ("request-uri user", b"sip:bob@biloxi.example.com SIP", b"sip:b{}b@biloxi.example.com SIP"),
    ("uri-parameter", b".example.com SIP/2.0", b".example.com;p={} SIP/2.0"),
    ("version", b"SIP/2.0\r\n", b"SIP/2.{}\r\n"),
    ("header name", b"Call-ID:", b"Call-{}ID:"),
    ("call-id", b"Call-ID: a84b", b"Call-ID: a8{}4b"),
    ("via branch", b"branch=z9hG4bKnashds8", b"branch=z9hG4bKna{}shds8"),
    ("quoted-string", b"To: <sip:bob", b'To: "Dis{}play" <sip:bob'),
    ("header parameter", b"tag=1928301774", b"tag=19283{}01774"),
    ("cseq method", b"CSeq: 314159 OPTIONS", b"CSeq: 314159 OP{}TIONS"),
    ("TEXT value", b"\r\n\r\n", b"\r\nSubject: a{}b\r\n\r\n"),
]


@pytest.mark.parametrize(("where", "old", "new"), POSITIONS, ids=[p[0] for p in POSITIONS])
def test_every_byte_in_every_position(
    where: str, old: bytes, new: bytes, round_trip: RoundTrip
) -> None:
    assert BASE.count(old) == 1
    parsed = 0
    for value in range(256):
        data = BASE.replace(old, new.replace(b"{}", bytes([value])))
        parsed += parse_or_error(data, round_trip)
    assert parsed > 0  # some bytes (letters, digits) are fine anywhere


NESTED = [
    # each line fits the default max_line_length (8,192), so the grammar is exercised
    b"To: " + b"<" * 3_000 + b"sip:a@b.example" + b">" * 3_000,
    b'To: "' + b'\\"' * 3_000 + b'" <sip:a@b.example>',
    b'To: "' + b"\\" * 6_001 + b'" <sip:a@b.example>',
    b"User-Agent: " + b"(" * 3_000 + b")" * 3_000,
    b"User-Agent: x " + b"(" * 7_000,
    b"Retry-After: 5 " + b"(" * 3_000 + b"c" + b")" * 3_000,
    b"Contact: " + b"<sip:a@b.example>," * 400 + b"<sip:a@b.example>",
    b"Via: " + b"SIP/2.0/UDP a.example.com," * 300 + b"SIP/2.0/UDP a.example.com",
    b"To: <sip:a@b.example>" + b";p" * 3_000,
    b"To: <sip:a@b.example" + b";p" * 3_000 + b">",
    b'To: "' + b"a" * 7_000,
    b"X-Odd: " + b"\\" * 7_000,
    b"Route: " + b'"' * 7_000,
    b"Route: " + b"<" * 7_000,
    b"Route: " + b">" * 7_000,
    b"Route: " + b"," * 7_000,
    b"Via: SIP/2.0/UDP [" + b":" * 7_000 + b"]",
    b"To: <sip:" + b"%" * 7_000 + b"@b.example>",
    b"To: <sip:a@b.example?" + b"h=v&" * 1_500 + b"h=v>",
]


@pytest.mark.parametrize("line", NESTED, ids=lambda line: line[:24].decode("latin-1"))
def test_deep_or_unbalanced_nesting(line: bytes, round_trip: RoundTrip) -> None:
    data = (
        b"\r\n".join(
            [HEAD[0].encode()]
            + [h.encode() for h in HEAD[1:] if not line.startswith(h[:3].encode())]
            + [line]
        )
        + b"\r\n\r\n"
    )
    parse_or_error(data, round_trip, Limits(max_line_length=65_535))
    parse_or_error(data, round_trip)


INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    b"Max-Forwards: 70\r\n"
    b'To: "Bob" <sip:bob@biloxi.example.com>\r\n'
    b'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 162\r\n"
    b"\r\n"
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 pc33.atlanta.example.com\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)


def test_invite_truncated_at_every_length(round_trip: RoundTrip) -> None:
    head_end = INVITE.index(b"\r\n\r\n") + 4
    assert len(INVITE) - head_end == 162
    full = Message.parse(INVITE)
    for n in range(len(INVITE)):
        truncated = INVITE[:n]
        if n >= head_end:
            # RFC 3261 §18.3: fewer octets than Content-Length over UDP: a 400
            with pytest.raises(ParseError) as info:
                Message.parse(truncated)
            assert info.value.status_code == 400
        elif parse_or_error(truncated, round_trip):
            # a prefix that parsed is a prefix: never a value the full message lacks
            prefix = Message.parse(truncated)
            assert prefix.start_line == full.start_line
            for key, value in prefix.headers.items():
                assert key in full.headers
                if key not in ("content_length",) and value != full.headers[key]:
                    # only the last, cut-short header may differ
                    assert key == list(prefix.headers)[-1]
    assert Message.parse(INVITE) == full


def test_bytes_past_the_body_do_not_count_as_truncation() -> None:
    assert Message.parse(INVITE + b"garbage").body == Message.parse(INVITE).body


def test_max_message_size_counts_octets_of_str_input() -> None:
    # A str is parsed as its UTF-8 octets: 'é' is two of them.
    text = message("Subject: " + "é" * 300).decode()
    limits = Limits(max_message_size=len(text) + 100)
    assert len(text.encode()) > limits.max_message_size
    rejects(text.encode(), limits)
    with pytest.raises(ParseError):
        Message.parse(text, limits)
    assert (
        Message.parse(text, Limits(max_message_size=len(text.encode()))).headers["subject"]
        == "é" * 300
    )
