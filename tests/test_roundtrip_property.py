"""Property tests: whatever is built in code serializes to bytes that parse back to it.

Values are generated within what RFC 3261 §25.1 can represent (a display name cannot hold a
CR or LF, a parameter name is lowercased by the parser, ...), and the serializer must do the
quoting and %-escaping. For messages: ``p1 = parse(bytes(m))`` equals ``m`` value for value
(plus the Content-Length the serializer adds), and ``parse(bytes(p1)) == p1`` with
identical bytes. For URIs: ``URI.parse(str(u)) == u``.
"""

from __future__ import annotations

import string
from typing import Any

from conftest import check_round_trip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sippet import (
    URI,
    CSeq,
    MediaType,
    Message,
    Method,
    NameAddr,
    RequestLine,
    SentBy,
    StatusLine,
    Via,
)
from sippet.headers import CANONICAL_ORDER, CANONICAL_ORDER_LAST

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ALNUM = string.ascii_letters + string.digits
TOKEN_CHARS = ALNUM + "-.!%*_+`'~"  # RFC 3261 §25.1 token
WORD_CHARS = TOKEN_CHARS + '()<>:\\"/[]?{}'  # RFC 3261 §25.1 word
LOWER_TOKEN_CHARS = string.ascii_lowercase + string.digits + "-.!%*_+`'~"

tokens = st.text(TOKEN_CHARS, min_size=1, max_size=10)

# Text that a quoted-string or a %-escaped URI part can carry. Control characters are left
# out here: NUL, BEL... in quoted-strings have their own tests (RFC 4475 intmeth).
visible_text = st.text(
    st.characters(
        min_codepoint=0x20,
        max_codepoint=0x2FFF,
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
    ),
    max_size=12,
)


def tidy(text: str) -> str:
    """No leading, trailing or doubled whitespace (LWS is folded to one SP, RFC 3261 §7.3.1)."""
    return " ".join(text.split())


display_names = visible_text.map(tidy)
any_uri_text = st.text(
    st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), min_size=1, max_size=10
)


def hostnames() -> st.SearchStrategy[str]:
    label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?\Z")
    top = st.from_regex(r"\A[a-z]([a-z0-9-]{0,6}[a-z0-9])?\Z")
    return st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(label, max_size=3), top)


hosts = st.one_of(
    hostnames(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
ports = st.none() | st.integers(1, 65535)

# Parameter names: the parser lowercases them; "x" keeps clear of names with a grammar of
# their own (transport, maddr, ttl, lr, branch, received, tag, q, expires...).
param_names = st.text(LOWER_TOKEN_CHARS, min_size=1, max_size=8).map(lambda s: "x" + s)


def sip_uris() -> st.SearchStrategy[URI]:
    @st.composite
    def build(draw: st.DrawFn) -> URI:
        user = draw(st.none() | any_uri_text)
        password = draw(st.none() | st.text(ALNUM + "&=+$,-_.!~*'()%é ", max_size=8))
        return URI(
            draw(st.sampled_from(["sip", "sips"])),
            user,
            password if user is not None else None,
            draw(hosts),
            draw(ports),
            draw(st.dictionaries(param_names, st.none() | any_uri_text, max_size=3)),
            draw(
                st.dictionaries(
                    st.text(ALNUM + "-", min_size=1, max_size=8), st.text(max_size=8), max_size=2
                )
            ),
        )

    return build()


def other_uris() -> st.SearchStrategy[URI]:
    scheme = st.from_regex(r"\A[a-z][a-z0-9+.-]{0,6}\Z").filter(
        lambda s: s not in ("sip", "sips", "tel")
    )
    opaque = st.from_regex(r"\A[a-zA-Z0-9][a-zA-Z0-9\-_.~:@/]{0,12}\Z")
    tel = st.from_regex(r"\A\+[0-9]{4,12}\Z").map(lambda number: URI("tel", number))
    return st.one_of(st.builds(lambda s, o: URI(s, opaque=o), scheme, opaque), tel)


uris = st.one_of(sip_uris(), sip_uris(), other_uris())

# Header parameter values: a token, or anything a quoted-string holds (the serializer quotes).
gen_values = st.none() | tokens | visible_text


def name_addrs(
    uri_strategy: st.SearchStrategy[URI] = uris, **fixed: str
) -> st.SearchStrategy[NameAddr]:
    params = st.dictionaries(param_names, gen_values, max_size=3).map(lambda p: {**fixed, **p})
    return st.builds(NameAddr, display_names, uri_strategy, params)


def vias() -> st.SearchStrategy[Via]:
    @st.composite
    def build(draw: st.DrawFn) -> Via:
        params: dict[str, str | None] = {"branch": "z9hG4bK" + draw(tokens)}
        if draw(st.booleans()):
            params["received"] = str(draw(st.ip_addresses()))
        if draw(st.booleans()):
            params["rport"] = draw(st.none() | st.integers(1, 65535).map(str))
        params.update(draw(st.dictionaries(param_names, gen_values, max_size=2)))
        protocol = draw(
            st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"])
            | st.from_regex(r"\A[A-Z][A-Z0-9-]{0,6}\Z")
        )
        return Via((2, 0), protocol, SentBy(draw(hosts), draw(ports)), params)

    return build()


methods = st.sampled_from(list(Method)) | tokens.filter(lambda t: t not in Method.__members__)
call_ids = st.builds(
    lambda a, b: a if b is None else f"{a}@{b}",
    st.text(WORD_CHARS, min_size=1, max_size=16),
    st.none() | st.text(WORD_CHARS, min_size=1, max_size=16),
)
# Reason-Phrase (RFC 3261 §25.1) without '%' (an escape there) and without edge spaces
reasons = st.text(ALNUM + ";/?:@&=+$,-_.!~*'() éü", max_size=20).map(tidy)
unknown_names = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10).map(
    lambda s: "X-" + s
)
# Unknown header values: anything printable, commas and semicolons included
unknown_values = st.text(
    st.characters(
        min_codepoint=0x20, max_codepoint=0x2FFF, blacklist_categories=("Cs", "Cc", "Zl", "Zp")
    ),
    max_size=30,
).map(tidy)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    headers: dict[str, Any] = {}
    # unknown headers first: a built message must still come out in canonical order
    for name in draw(st.lists(unknown_names, max_size=3, unique_by=str.lower)):
        headers[name] = draw(st.lists(unknown_values, min_size=1, max_size=3))
    method = draw(methods)
    headers["call_id"] = draw(call_ids)
    headers["cseq"] = CSeq(draw(st.integers(0, 2**31 - 1)), method)
    headers["to"] = draw(name_addrs())
    headers["from"] = draw(name_addrs(tag=draw(tokens)))
    headers["via"] = draw(st.lists(vias(), min_size=1, max_size=4))
    if draw(st.booleans()):
        headers["max_forwards"] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        headers["contact"] = draw(st.just("*") | st.lists(name_addrs(), min_size=1, max_size=3))
    if draw(st.booleans()):
        headers["route"] = draw(st.lists(name_addrs(sip_uris()), min_size=1, max_size=3))
    if draw(st.booleans()):
        headers["record_route"] = draw(st.lists(name_addrs(sip_uris()), min_size=1, max_size=2))
    if draw(st.booleans()):
        headers["subject"] = draw(unknown_values)
    if draw(st.booleans()):
        headers["supported"] = draw(st.lists(tokens, min_size=1, max_size=3))
    if draw(st.booleans()):
        headers["expires"] = draw(st.integers(0, 2**32 - 1))
    body = draw(st.binary(max_size=200))
    if body and draw(st.booleans()):
        subtype = draw(st.text(string.ascii_lowercase, min_size=1, max_size=8))
        headers["content_type"] = MediaType(
            ("application", subtype), draw(st.dictionaries(param_names, tokens, max_size=2))
        )
    if draw(st.booleans()):
        # no headers in a Request-URI (RFC 3261 §19.1.5 table; RFC 4475 §3.1.2.11)
        ruri = draw(uris)
        if ruri.headers:
            ruri = URI(*ruri[:6], {}, ruri.opaque)
        start_line: RequestLine | StatusLine = RequestLine(method, ruri)
    else:
        start_line = StatusLine(draw(st.integers(100, 699)), draw(reasons))
    return Message(start_line, headers, body)


def assert_canonical_order(keys: list[str]) -> None:
    """DESIGN.md: a message built in code is written in headers.CANONICAL_ORDER."""
    first = [key for key in keys if key in CANONICAL_ORDER]
    assert first == [key for key in CANONICAL_ORDER if key in keys]
    assert keys[: len(first)] == first
    last = [key for key in keys if key in CANONICAL_ORDER_LAST]
    assert keys[len(keys) - len(last) :] == last


@SETTINGS
@given(messages())
def test_built_message_round_trips(message: Message) -> None:
    assert message.wire_order is False
    p1 = check_round_trip(message)
    assert_canonical_order(list(p1.headers))
    p2 = check_round_trip(p1)
    assert p2 == p1
    assert bytes(p2) == bytes(p1)


@settings(max_examples=250, deadline=None)
@given(sip_uris())
def test_sip_uri_round_trips(uri: URI) -> None:
    text = str(uri)
    assert URI.parse(text) == uri
    assert str(URI.parse(text)) == text


@settings(max_examples=100, deadline=None)
@given(other_uris())
def test_other_uri_round_trips(uri: URI) -> None:
    assert URI.parse(str(uri)) == uri


@settings(max_examples=150, deadline=None)
@given(name_addrs())
def test_name_addr_in_a_header_round_trips(value: NameAddr) -> None:
    message = Message(
        RequestLine(Method.OPTIONS, URI("sip", host="example.com")),
        {
            "via": [Via((2, 0), "UDP", SentBy("192.0.2.1", None), {"branch": "z9hG4bK1"})],
            "to": value,
            "from": NameAddr("", URI("sip", "a", host="example.com"), {"tag": "1"}),
            "call_id": "1@example.com",
            "cseq": CSeq(1, Method.OPTIONS),
            "contact": [value, value],
        },
    )
    again = check_round_trip(message)
    assert again.headers["to"] == value
    assert again.headers["contact"] == [value, value]


def test_readme_message_built_from_plain_tuples() -> None:
    # The README's "build it as data" example: plain tuples in Sippet's shapes.
    message = Message(
        RequestLine(Method.OPTIONS, URI.parse("sip:sip.example.com")),
        {
            "via": [((2, 0), "UDP", ("localhost", 5060), {"branch": "z9hG4bK776asdhds"})],
            "from": ("", URI.parse("sip:localhost"), {"tag": "1928301774"}),
            "to": ("", URI.parse("sip:sip.example.com"), {}),
            "cseq": (1, Method.OPTIONS),
            "user_agent": "Sippet/1.0",
            "call_id": "a84b4c76e66710@localhost",
        },
    )
    wire = bytes(message)
    assert wire == (
        b"OPTIONS sip:sip.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP localhost:5060;branch=z9hG4bK776asdhds\r\n"
        b"From: <sip:localhost>;tag=1928301774\r\n"
        b"To: <sip:sip.example.com>\r\n"
        b"Call-ID: a84b4c76e66710@localhost\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"User-Agent: Sippet/1.0\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    again = check_round_trip(message)
    assert again.headers["via"][0] == Via(
        (2, 0), "UDP", SentBy("localhost", 5060), {"branch": "z9hG4bK776asdhds"}
    )
    assert again.headers["cseq"] == CSeq(1, Method.OPTIONS)


def test_built_message_is_written_in_canonical_order() -> None:
    # DESIGN.md: Via and routing first (RFC 3261 §7.3.1 recommends it for proxies),
    # Content-Type and Content-Length last, other headers in between in their dict order.
    uri = URI("sip", "bob", host="biloxi.example.com")
    headers: dict[str, Any] = {
        "content_type": MediaType(("text", "plain"), {}),
        "X-First": ["1"],
        "contact": [NameAddr("", uri, {})],
        "cseq": CSeq(1, Method.MESSAGE),
        "subject": "hi",
        "call_id": "c@d",
        "to": NameAddr("", uri, {}),
        "from": NameAddr("", uri, {"tag": "t"}),
        "max_forwards": 70,
        "record_route": [
            NameAddr("", URI("sip", host="p2.example.com", parameters={"lr": None}), {})
        ],
        "route": [NameAddr("", URI("sip", host="p1.example.com", parameters={"lr": None}), {})],
        "X-Last": ["2"],
        "via": [Via((2, 0), "UDP", SentBy("a.example.com", None), {"branch": "z9hG4bK1"})],
    }
    message = Message(RequestLine(Method.MESSAGE, uri), headers, b"hello")
    names = [
        line.split(b":", 1)[0] for line in bytes(message).split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    ]
    assert names == [
        b"Via",
        b"Route",
        b"Record-Route",
        b"Max-Forwards",
        b"From",
        b"To",
        b"Call-ID",
        b"CSeq",
        b"Contact",
        b"X-First",
        b"Subject",
        b"X-Last",
        b"Content-Type",
        b"Content-Length",
    ]
