"""Adversarial properties of the serializer for messages built in code (issue 2 §5).

- CR or LF in any text field never reaches the wire as a line break: ``bytes(m)`` raises
  ``ValueError``/``TypeError``, or (URI parts, which %-escape) writes exactly the header
  lines the message has and reads back equal. No header can be injected.
- Any other text in a field whose grammar can carry it (display names and parameter values
  as quoted-strings, URI parts %-escaped, reason phrases, warning texts, comments...) must
  come back equal from ``Message.parse(bytes(m))``: quoting and escaping are right.
- A field whose grammar cannot carry some text (tokens, Call-ID words, hosts) must make the
  serializer refuse it (``ValueError``/``TypeError``), never write what the parser rejects
  or reads as something else.
"""

from __future__ import annotations

import datetime
import re
import string
from collections.abc import Callable
from typing import Any

import pytest
from conftest import check_round_trip
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
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
from sippet.headers import CANONICAL_NAMES, COMPACT_FORMS, HEADER_SHAPES

BOB = URI("sip", "bob", host="biloxi.example.com")


def base_headers() -> dict[str, Any]:
    return {
        "via": [Via((2, 0), "UDP", SentBy("pc33.example.com", None), {"branch": "z9hG4bK1"})],
        "from": NameAddr("", URI("sip", "alice", host="atlanta.example.com"), {"tag": "1"}),
        "to": NameAddr("", BOB, {}),
        "call_id": "a84b4c76e66710",
        "cseq": CSeq(1, Method.OPTIONS),
    }


def msg(headers: dict[str, Any] | None = None, start: Any = None) -> Message:
    built = base_headers()
    built.update(headers or {})
    return Message(start or RequestLine(Method.OPTIONS, BOB), built)


def via(host: str = "pc33.example.com", protocol: str = "UDP", **params: str | None) -> Via:
    return Via((2, 0), protocol, SentBy(host, None), {"branch": "z9hG4bK1", **params})


Slot = Callable[[str], Message]

# Fields whose grammar carries any text but CR/LF: quoted-string (RFC 3261 §25.1, with
# quoted-pairs for controls), %-escaped URI parts (§19.1.2), Reason-Phrase, warn-text,
# comment.
ANY_TEXT_SLOTS: dict[str, Slot] = {
    "display_name": lambda t: msg({"to": NameAddr(t, BOB, {})}),
    "contact_display_name": lambda t: msg(
        {"contact": [NameAddr(t, BOB, {}), NameAddr("", BOB, {})]}
    ),
    "route_display_name": lambda t: msg({"route": [NameAddr(t, BOB, {"xr": None})]}),
    "header_param_value": lambda t: msg({"to": NameAddr("", BOB, {"xp": t})}),
    "via_param_value": lambda t: msg({"via": [via(xp=t)]}),
    "contact_feature_value": lambda t: msg({"contact": [NameAddr("", BOB, {"+sip.instance": t})]}),
    "reason_text": lambda t: msg({"reason": [TokenParams("SIP", {"cause": "200", "text": t})]}),
    "content_type_param": lambda t: msg({"content_type": MediaType(("text", "plain"), {"xc": t})}),
    "uri_user": lambda t: msg({"to": NameAddr("", URI("sip", t, host="h.example"), {})}),
    "uri_password": lambda t: msg({"to": NameAddr("", URI("sip", "u", t, "h.example"), {})}),
    "uri_param_value": lambda t: msg(
        {"to": NameAddr("", URI("sip", "u", host="h", parameters={"xu": t}), {})}
    ),
    "uri_header_name": lambda t: msg(
        {"contact": [NameAddr("", URI("sip", "u", host="h", headers={t: "v"}), {})]}
    ),
    "uri_header_value": lambda t: msg(
        {"contact": [NameAddr("", URI("sip", "u", host="h", headers={"h": t}), {})]}
    ),
    "request_uri_user": lambda t: msg(start=RequestLine(Method.OPTIONS, URI("sip", t, host="h"))),
    "request_uri_param": lambda t: msg(
        start=RequestLine(Method.OPTIONS, URI("sip", "u", host="h", parameters={"xq": t}))
    ),
    "reason_phrase": lambda t: msg(start=StatusLine(486, t)),
    "warning_text": lambda t: msg({"warning": [Warning(399, "agent.example", t)]}),
    "retry_after_comment": lambda t: msg({"retry_after": RetryAfter(60, t, {})}),
    "auth_param_value": lambda t: msg({"authorization": [Auth("Digest", {"realm": t, "xa": t})]}),
    "auth_info_value": lambda t: msg({"authentication_info": {"nextnonce": t}}),
}

# TEXT-UTF8-TRIM fields (RFC 3261 §25.1): any text without CR/LF, not starting or ending
# with LWS, which the parser strips (§7.3.1).
TRIMMED_TEXT_SLOTS: dict[str, Slot] = {
    "subject": lambda t: msg({"subject": t}),
    "organization": lambda t: msg({"organization": t}),
    "server": lambda t: msg({"server": t}),
    "user_agent": lambda t: msg({"user_agent": t}),
    "raw_header_value": lambda t: msg({"X-Raw": [t, "second"]}),
}

# Fields with a narrower grammar: text outside it must be refused.
NARROW_SLOTS: dict[str, Slot] = {
    "method": lambda t: msg({"cseq": CSeq(1, t)}, RequestLine(t, BOB)),
    "via_protocol": lambda t: msg({"via": [via(protocol=t)]}),
    "via_host": lambda t: msg({"via": [via(host=t)]}),
    "uri_host": lambda t: msg({"to": NameAddr("", URI("sip", "u", host=t), {})}),
    "tel_number": lambda t: msg({"to": NameAddr("", URI("tel", t), {})}),
    "opaque_uri": lambda t: msg({"to": NameAddr("", URI("urn", opaque=t), {})}),
    "header_param_name": lambda t: msg({"to": NameAddr("", BOB, {t: "1"})}),
    "uri_param_name": lambda t: msg(
        {"to": NameAddr("", URI("sip", "u", host="h", parameters={t: "1"}), {})}
    ),
    "raw_header_name": lambda t: msg({t: ["1"]}),
    "call_id": lambda t: msg({"call_id": t}),
    "priority": lambda t: msg({"priority": t}),
    "option_tag": lambda t: msg({"supported": [t, "100rel"]}),
    "event_type": lambda t: msg({"event": TokenParams(t, {"id": "1"})}),
    "warning_agent": lambda t: msg({"warning": [Warning(399, t, "text")]}),
    "media_subtype": lambda t: msg({"content_type": MediaType(("text", t), {})}),
    "auth_scheme": lambda t: msg({"authorization": [Auth(t, {"realm": "r"})]}),
}

ALL_SLOTS: dict[str, Slot] = {**ANY_TEXT_SLOTS, **TRIMMED_TEXT_SLOTS, **NARROW_SLOTS}
# URI parts, where CR and LF are %-escaped (RFC 3261 §19.1.2); a host (§25.1 hostname,
# IP address) and a telephone number (RFC 3966 §3) have no escapes, so they refuse them.
ESCAPED_SLOTS = {slot for slot in ALL_SLOTS if slot.startswith(("uri_", "request_uri_"))} - {
    "uri_host"
}

no_line_breaks = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
any_text = st.text(no_line_breaks, max_size=16)
trimmed_text = any_text.map(lambda s: s.strip(" \t"))
# A refusal names the header (or the start line / header dict) it refused, then why.
REFUSAL = re.compile(r"^(start line|Message\.headers|[A-Z][A-Za-z-]*): \S")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The share of examples that reach the read-back branch is a property of the generator:
# measured on a fixed seed and without the example database (which replays earlier
# runs' examples), so that it is the same on every machine and every run.
SHARE_SETTINGS = settings(SETTINGS, derandomize=True, database=None)


def header_names(wire: bytes) -> list[bytes]:
    head = wire.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0] for line in head.split(b"\r\n")[1:]]


# --- CR / LF: refused, never a line break ------------------------------------------------


@st.composite
def texts_with_line_break(draw: st.DrawFn) -> str:
    brk = draw(
        st.sampled_from(["\r", "\n", "\r\n", "\r\n ", "\r\nVia: SIP/2.0/UDP evil;branch=z9hG4bKx"])
    )
    return draw(any_text) + brk + draw(any_text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(ALL_SLOTS)), texts_with_line_break())
@example("raw_header_value", "x\r\nVia: SIP/2.0/UDP evil;branch=z9hG4bKx")
@example("display_name", "\r\n")
@example("reason_phrase", "OK\r\nContact: <sip:evil@example.com>")
def test_cr_or_lf_in_any_text_field_never_injects_a_line(slot: str, text: str) -> None:
    message = ALL_SLOTS[slot](text)
    harmless = ALL_SLOTS[slot]("x")
    try:
        wire = bytes(message)
    except ValueError as error:
        assert REFUSAL.match(str(error)), str(error)
        assert slot not in ESCAPED_SLOTS, f"{slot}: {text!r} refused although escapable"
        return
    # Only %-escaping URI parts may accept it: the text must then be invisible as a line.
    # (Whether such a URI reads back equal is checked by the other tests.)
    assert slot in ESCAPED_SLOTS, f"{slot}: {text!r} accepted"
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")
    assert header_names(wire) == header_names(bytes(harmless))


@pytest.mark.parametrize("slot", sorted(ALL_SLOTS))
@pytest.mark.parametrize("brk", ["\r", "\n", "\r\n"])
def test_cr_or_lf_refused_or_escaped_in_every_field(slot: str, brk: str) -> None:
    message = ALL_SLOTS[slot](f"a{brk}b")
    if slot not in ESCAPED_SLOTS:
        with pytest.raises(ValueError):
            bytes(message)
        return
    wire = bytes(message)  # URI parts %-escape it (RFC 3261 §19.1.2)
    assert header_names(wire) == header_names(bytes(ALL_SLOTS[slot]("x")))
    assert f"a%0{'D' if brk[0] == chr(13) else 'A'}".encode() in wire


# --- any other text: quoted / escaped so that it reads back ---------------------------------


@pytest.mark.parametrize("slot", sorted(ANY_TEXT_SLOTS))
@SETTINGS
@given(text=any_text.filter(bool))  # "" where the grammar allows it: the corner cases below
def test_any_text_field_round_trips(slot: str, text: str) -> None:
    message = ANY_TEXT_SLOTS[slot](text)
    again = check_round_trip(message)  # raises if the serializer refuses: it must not here
    assert again == Message.parse(bytes(again))


@pytest.mark.parametrize(
    ("slot", "text"),
    [
        ("display_name", ""),
        ("display_name", '"\\'),
        ("display_name", "\x00\x07\x7f\t"),
        ("display_name", " a  b "),
        ("header_param_value", ""),
        ("header_param_value", " a  b "),
        ("uri_user", "%00"),
        ("uri_param_value", "[::1]"),
        ("retry_after_comment", ")(\\"),
        ("reason_phrase", "%41 100%"),
        ("reason_phrase", ""),
        ("warning_text", '"'),
        ("auth_param_value", '\\"'),
    ],
)
def test_any_text_field_corner_cases(slot: str, text: str) -> None:
    check_round_trip(ANY_TEXT_SLOTS[slot](text))


@pytest.mark.parametrize("slot", sorted(TRIMMED_TEXT_SLOTS))
@SETTINGS
@given(text=trimmed_text)
@example(text="")
@example(text='a,b;c="d')
@example(text="\x00\x1b")
def test_trimmed_text_field_round_trips(slot: str, text: str) -> None:
    check_round_trip(TRIMMED_TEXT_SLOTS[slot](text))


def refused_or_round_trips(message: Message) -> bool:
    """True when the serializer refused (a ValueError that names what it refused: text is
    of the right type, so never a TypeError); otherwise the wire must read back equal."""
    try:
        wire = bytes(message)
    except ValueError as error:
        assert REFUSAL.match(str(error)), str(error)
        return True
    try:
        Message.parse(wire)
    except ParseError as error:
        pytest.fail(f"serializer wrote what the parser rejects ({error.reason}): {wire!r}")
    check_round_trip(message)
    return False


# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = string.ascii_letters + string.digits + "-.!%*_+`'~"
TOKEN = re.compile(f"[{re.escape(TOKEN_CHARS)}]+")
# Narrow fields whose grammar is exactly a token: refused if and only if not a token.
TOKEN_SLOTS = {
    "method",
    "via_protocol",
    "header_param_name",
    "priority",
    "option_tag",
    "media_subtype",
    "auth_scheme",
}
_token_text = st.text(TOKEN_CHARS, min_size=1, max_size=12)
_host_text = st.lists(
    st.from_regex(r"[a-z]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3
).map(".".join)
# Text each narrow field's grammar accepts, so that most examples reach the read-back.
NARROW_VALID: dict[str, st.SearchStrategy[str]] = {
    "via_host": _host_text,
    "uri_host": _host_text,
    "warning_agent": _host_text,
    "tel_number": st.from_regex(r"\+[0-9]{1,15}", fullmatch=True),
    "opaque_uri": st.text(string.ascii_lowercase + string.digits + ":.-", min_size=1, max_size=16),
    "call_id": st.tuples(_token_text, _token_text).map("@".join),
    "event_type": st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12),
    "uri_param_name": _token_text,
    "raw_header_name": _token_text.map(lambda t: "X-" + t),
}


def narrow_texts(slot: str) -> st.SearchStrategy[str]:
    """Three in four from the field's grammar, the rest any text (refused or not)."""
    valid = NARROW_VALID.get(slot, _token_text)
    # sampled_from, not one_of: one_of would fold the repeated strategy into one branch.
    return st.sampled_from([valid, valid, valid, any_text]).flatmap(lambda texts: texts)


@pytest.mark.parametrize("slot", sorted(NARROW_SLOTS))
def test_narrow_fields_refuse_or_round_trip(slot: str) -> None:
    outcomes: list[bool] = []

    @SHARE_SETTINGS
    @given(text=narrow_texts(slot))
    @example(text="Content-Length")  # the serializer writes its own
    @example(text="l")
    @example(text="a b")
    @example(text="a=b")
    @example(text="é")
    def check(text: str) -> None:
        # Lowercase: the parser lowercases parameter names (DESIGN.md "Decisions") and
        # media types (case-insensitive, RFC 2045 §5.1; not in DESIGN.md).
        if slot.endswith("param_name") or slot == "media_subtype":
            text = text.lower()
        if slot == "via_protocol":
            text = text.upper()  # the serializer and the parser uppercase transports
        message = NARROW_SLOTS[slot](text)
        if slot == "raw_header_name" and text.lower() in ("content-length", "l"):
            # DESIGN.md: Content-Length is always the serializer's own, whatever the dict says
            assert bytes(message).count(b"Content-Length: 0\r\n") == 1
            return
        if slot == "raw_header_name" and text.lower() in _REGISTERED_RAW_SPELLINGS:
            return  # refused: test_raw_header_spelling_of_a_registered_header_is_refused
        if slot == "raw_header_name" and text in HEADER_SHAPES:
            # A dict key spelled exactly as a typed key ("expires", "content_length") is that
            # typed header, not a raw one: its value must have the typed shape (a list is a
            # TypeError there), which test_any_typed_value_is_refused_or_reads_back covers.
            return
        refused = refused_or_round_trips(message)
        if slot in TOKEN_SLOTS:
            assert refused == (TOKEN.fullmatch(text) is None), (slot, text)
        outcomes.append(not refused)

    check()
    assert sum(outcomes) >= 0.5 * len(outcomes), (slot, sum(outcomes), len(outcomes))


# Registered headers sippet keeps raw (Accept-Contact, Identity...), in the spellings the
# parser maps to their canonical name: compact forms and other letter cases.
_REGISTERED_RAW_SPELLINGS = {
    spelling
    for compact, name in COMPACT_FORMS.items()
    if name not in CANONICAL_NAMES
    for spelling in (compact, name.lower())
}


# Found by these tests (written as given, read back under the canonical name): now refused.
@pytest.mark.parametrize("name", ["j", "A", "reject-contact", "IDENTITY"])
def test_raw_header_spelling_of_a_registered_header_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="use that key"):
        bytes(msg({name: ["1"]}))
    canonical = msg({"Reject-Contact": ["1"]})  # the canonical spelling round-trips
    assert Message.parse(bytes(canonical)).headers["Reject-Contact"] == ["1"]


# Found by the tests above (the serializer wrote them, the parser rejected them or read
# something else); fixed in 7b068f2. Each must now be refused with ValueError.
@pytest.mark.parametrize(
    ("slot", "text"),
    [
        pytest.param("call_id", "a b", id="call_id-space"),
        pytest.param("call_id", "", id="call_id-empty"),
        pytest.param("call_id", "é", id="call_id-non-ascii"),
        pytest.param("call_id", " a", id="call_id-leading-space"),
        pytest.param("priority", "a b", id="priority-space"),
        pytest.param("priority", "a,b", id="priority-comma"),
        pytest.param("option_tag", "a=b", id="option_tag-equals"),
        pytest.param("option_tag", "é", id="option_tag-non-ascii"),
        pytest.param("event_type", "a=b", id="event-equals"),
        pytest.param("warning_agent", "a<b", id="warning_agent-angle"),
        pytest.param("via_host", "a=b", id="via_host-equals"),
        pytest.param("via_host", "é", id="via_host-non-ascii"),
        pytest.param("via_host", "h:5060", id="via_host-with-colon"),
        pytest.param("uri_host", "é.example", id="uri_host-non-ascii"),
        pytest.param("tel_number", "+1 2", id="tel-space"),
        *(pytest.param(slot, " a\t", id=f"{slot}-edge-whitespace") for slot in TRIMMED_TEXT_SLOTS),
    ],
)
def test_unwritable_text_is_refused(slot: str, text: str) -> None:
    # Edge whitespace of TEXT-UTF8-TRIM values would be stripped by the parser: refused
    # (DESIGN.md "The serializer writes only what reads back").
    with pytest.raises(ValueError):
        bytes(ALL_SLOTS[slot](text))


# --- other shapes the parser would reject or read as something else ------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("expires", 2**32), ("max_forwards", 256), ("min_expires", 2**32), ("rseq", 2**32)],
)
def test_out_of_range_integers_are_refused(key: str, value: int) -> None:
    # The parser's bounds (RFC 3261 §20.19, §20.22; RFC 4475 scalar02): written, they
    # would not read back (value_out_of_range).
    with pytest.raises(ValueError):
        bytes(msg({key: value}))


@pytest.mark.parametrize(("key", "value"), [("expires", 2**32 - 1), ("max_forwards", 255)])
def test_integers_at_the_top_of_their_range_round_trip(key: str, value: int) -> None:
    assert check_round_trip(msg({key: value})).headers[key] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Via", "SIP/2.0/UDP evil.example.com;branch=z9hG4bKx"),
        ("v", "SIP/2.0/UDP evil.example.com;branch=z9hG4bKx"),
        ("Contact", "<sip:evil@example.com>"),
        ("i", "other-call-id"),
        ("Call-ID", "other-call-id"),
        ("t", "<sip:evil@example.com>"),
    ],
)
def test_raw_header_named_like_a_known_header_is_refused(name: str, value: str) -> None:
    # Written as is, the line would be read back as that header: a Via or Contact added,
    # or a second Call-ID/To (DESIGN.md: use the key).
    with pytest.raises(ValueError):
        bytes(msg({name: [value]}))


def test_request_uri_with_headers_is_refused() -> None:
    # RFC 3261 §19.1.5: no headers in a Request-URI; the parser rejects them
    # (request_uri_headers, RFC 4475 escruri).
    uri = URI("sip", "bob", host="biloxi.example.com", headers={"subject": "x"})
    with pytest.raises(ValueError):
        bytes(msg(start=RequestLine(Method.OPTIONS, uri)))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("authorization", [Auth("Digest", {"x": None, "y": None})]),
        ("authentication_info", {}),
        ("authentication_info", {"qop": "auth", "x": None}),
    ],
)
def test_unwritable_auth_params_are_refused(key: str, value: object) -> None:
    # auth-param = token EQUAL ( token / quoted-string ): only a first token68 (RFC 7235
    # §2.1) goes without a value, and Authentication-Info needs one ainfo at least.
    with pytest.raises(ValueError):
        bytes(msg({key: value}))


def test_token68_credentials_round_trip() -> None:
    # RFC 7235 §2.1 token68, kept as a parameter without value; the one valueless form
    # the auth grammar allows.
    check_round_trip(msg({"authorization": [Auth("Bearer", {"mF_9.B5f-4.1JqM/a+b~c==": None})]}))


def test_lone_surrogate_text_is_refused() -> None:
    # A str with no UTF-8 form cannot be written: UnicodeEncodeError is a ValueError.
    for slot in ("display_name", "reason_phrase", "raw_header_value", "uri_user"):
        with pytest.raises(ValueError):
            bytes(ALL_SLOTS[slot]("a\ud800"))


# --- every typed header, values of its shape with adversarial leaves ------------------------

_adversarial_leaf = st.one_of(
    st.text(no_line_breaks, max_size=8),
    st.sampled_from(["a", "INVITE", "x.y", "100rel", "*", "a@b", "a b", "é", "", "1"]),
)
# Valid as a token, a host and a quoted string alike, so that most values are writable.
_valid_leaf = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True) | st.sampled_from(
    ["a", "x.y", "INVITE", "h.example"]
)
# Nine leaves in ten valid: a value has several leaves, and most values must read back.
_leaf_text = st.sampled_from([_valid_leaf] * 9 + [_adversarial_leaf]).flatmap(lambda t: t)
_names = st.one_of(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~", min_size=1, max_size=6),
    st.sampled_from(["q", "tag", "expires", "received", "maddr", "+sip.instance", "text", "lr"]),
)
_params = st.dictionaries(_names, st.none() | _leaf_text, max_size=3)
_uris = st.one_of(
    st.builds(
        lambda u, h, p: URI("sip", u, host=h, parameters=p),
        st.none() | _leaf_text,
        st.sampled_from(["h.example", "192.0.2.1", "::1"]) | _leaf_text,
        st.dictionaries(_names, st.none() | _leaf_text, max_size=2),
    ),
    st.builds(lambda n: URI("tel", n), st.sampled_from(["+1-201", "7042"]) | _leaf_text),
)
_name_addrs = st.builds(NameAddr, _leaf_text, _uris, _params)
_token_params = st.builds(TokenParams, _leaf_text, _params)
_media = st.builds(
    MediaType,
    st.tuples(
        st.sampled_from(["text", "application", "*"]) | _leaf_text.map(str.lower),
        st.sampled_from(["plain", "sdp", "*"]) | _leaf_text.map(str.lower),
    ),
    _params,
)
_u32 = st.sampled_from([st.integers(0, 2**32 - 1)] * 9 + [st.just(2**32)]).flatmap(lambda i: i)
SHAPE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "list[MediaType]": st.lists(_media, max_size=2),
    "list[TokenParams]": st.lists(_token_params, max_size=2),
    "list[UriParams]": st.lists(st.builds(UriParams, _uris, _params), max_size=2),
    "list[Method | str]": st.lists(st.sampled_from(list(Method)) | _leaf_text, max_size=3),
    "list[str]": st.lists(_leaf_text, max_size=3),
    "Params": _params,
    "list[Auth]": st.lists(
        st.builds(Auth, st.sampled_from(["Digest", "Bearer"]) | _leaf_text, _params), max_size=2
    ),
    "str": _leaf_text,
    "'*' | list[NameAddr]": st.just("*") | st.lists(_name_addrs, max_size=2),
    "TokenParams": _token_params,
    "int": st.integers(0, 300) | _u32,
    "MediaType": _media,
    "CSeq": st.builds(CSeq, _u32, st.sampled_from(list(Method)) | _leaf_text),
    "datetime (UTC)": st.datetimes(
        min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)
    ).map(lambda d: d.replace(microsecond=0, tzinfo=datetime.UTC)),
    "NameAddr": _name_addrs,
    "MimeVersion": st.builds(MimeVersion, _u32, _u32),
    "list[NameAddr]": st.lists(_name_addrs, max_size=2),
    "RAck": st.builds(RAck, _u32, _u32, st.sampled_from(list(Method)) | _leaf_text),
    "RetryAfter": st.builds(RetryAfter, _u32, st.none() | _leaf_text, _params),
    "Timestamp": st.builds(
        Timestamp,
        st.floats(0, 1e30) | st.integers(0, 10**6).map(float),
        st.none() | st.floats(0, 1e6),
    ),
    "list[Via]": st.lists(
        st.builds(
            lambda proto, host, port, params: Via((2, 0), proto, SentBy(host, port), params),
            st.sampled_from(["UDP", "TCP", "X-NEW"]) | _leaf_text.map(str.upper),
            st.sampled_from(["h.example", "192.0.2.1", "2001:db8::1"]) | _leaf_text,
            st.none() | st.integers(0, 65535),
            _params,
        ),
        min_size=1,
        max_size=2,
    ),
    "list[Warning]": st.lists(
        st.builds(Warning, st.integers(0, 999), _leaf_text, _leaf_text), max_size=2
    ),
    "DeltaParams": st.builds(DeltaParams, _u32, _params),
}


# Headers whose grammar is narrower than their shape: RFC 7615 §3 auth-params have values.
KEY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "authentication_info": st.dictionaries(_names, _leaf_text, min_size=1, max_size=3),
}


# Content-Length is the serializer's own (DESIGN.md): not a value one can set.
@pytest.mark.parametrize("key", sorted(set(HEADER_SHAPES) - {"content_length"}))
def test_any_typed_value_is_refused_or_reads_back(key: str) -> None:
    # DESIGN.md: "The serializer writes only what reads back".
    outcomes: list[bool] = []

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
        database=None,
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        value = data.draw(KEY_VALUES.get(key, SHAPE_VALUES[HEADER_SHAPES[key]]), label=key)
        message = msg({key: value})
        try:
            wire = bytes(message)
        except ValueError as error:
            # Refused by name: a value of the right type is never a TypeError.
            assert str(error).startswith(f"{CANONICAL_NAMES[key]}: "), str(error)
            outcomes.append(False)
            return
        again = Message.parse(wire)
        outcomes.append(True)
        if isinstance(value, list) and not value and key not in again.headers:
            return  # an empty list writes nothing where the grammar needs a value (serialize.rs)
        assert again.headers.get(key) == value
        assert bytes(again) == wire

    check()
    assert sum(outcomes) >= 0.4 * len(outcomes), (key, sum(outcomes), len(outcomes))


@pytest.mark.xfail(
    strict=True,
    reason="BUG: an int beyond 64 bits in a u32 field raises TypeError ('expected sequence "
    "number, got int') where one beyond 32 bits raises ValueError ('is larger than')",
)
@pytest.mark.parametrize(
    "value",
    [
        CSeq(2**64, Method.INVITE),
        RAck(2**64, 1, Method.INVITE),
        MimeVersion(2**64, 0),
        RetryAfter(2**64, None, {}),
        DeltaParams(2**64, {}),
    ],
    ids=["cseq", "rack", "mime_version", "retry_after", "session_expires"],
)
def test_integers_beyond_64_bits_are_refused_as_out_of_range(value: Any) -> None:
    key = {CSeq: "cseq", RAck: "rack", MimeVersion: "mime_version", RetryAfter: "retry_after"}
    with pytest.raises(ValueError, match="is larger than"):
        bytes(msg({key.get(type(value), "session_expires"): value}))
