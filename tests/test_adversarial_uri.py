"""Adversarial properties of ``sippet.URI`` (issue 2 §2; RFC 3261 §19.1, RFC 3966).

- ``URI.parse(str(u)) == u`` for every URI the parser accepts, and ``str`` is stable.
- ``u.equivalent(u)``; ``equivalent`` is symmetric (RFC 3261 §19.1.4 defines a relation
  between two URIs, not an ordered test); it ignores the case of the scheme, the host and
  parameter names and values, and the %-escaping of unreserved characters.
- ``URI.parse`` on any text: a ``URI`` or a ``ParseError``.
- A URI built in code: ``str(u)`` raises ``ValueError``/``TypeError`` or reads back equal.
"""

from __future__ import annotations

import random
import string
from typing import Any

import pytest
from helpers.sipgen import uri_texts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sippet import URI, Message, Method, ParseError, RequestLine, SentBy, Via

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The share of examples that reach the read-back branch is a property of the generator:
# measured on a fixed seed and without the example database (which replays earlier
# runs' examples), so that it is the same on every machine and every run.
SHARE_SETTINGS = settings(SETTINGS, derandomize=True, database=None)


# DESIGN.md: invalid_uri; a parameter or URI header named twice is multiple_definition
# (RFC 3261 §19.1.1); text with no UTF-8 form is invalid_utf8.
URI_REASONS = {"invalid_uri", "multiple_definition", "invalid_utf8"}


def parse_or_none(text: str) -> URI | None:
    try:
        return URI.parse(text)
    except ParseError as error:
        assert error.reason in URI_REASONS, error
        assert error.status_code == 400
        return None


# --- round trip of parsed URIs ------------------------------------------------------------


def test_parsed_uri_round_trips() -> None:
    parsed: list[bool] = []

    @SHARE_SETTINGS
    @given(uri_texts())
    @example("sip:%00%00@host5.example.com")  # RFC 4475 escnull
    @example("sip:sips%3Auser%40example.com@example.net")  # RFC 4475 esc01
    @example("sip:user;par=u%40example.net@example.com")  # RFC 4475 semiuri
    @example("SIP:%61@[2001:DB8::1]:05060;MADDR=[::1];Lr?x=%0D%0A&y=")
    @example("tel:+1-201-555-0123;ext=1;phone-context=+1")
    @example("nobodyKnowsThisScheme:totallyopaquecontent")  # RFC 4475 unkscm
    @example("soap.beep://192.0.2.103:3002")  # RFC 4475 novelsc
    def check(text: str) -> None:
        uri = parse_or_none(text)
        parsed.append(uri is not None)
        if uri is None:
            return
        written = str(uri)
        again = URI.parse(written)
        assert again == uri
        assert str(again) == written
        assert uri.equivalent(uri)
        assert uri.equivalent(again) and again.equivalent(uri)
        assert uri.lazy_equivalent(uri)

    check()
    # The generator aims at valid URIs: the round trip must carry the property.
    assert sum(parsed) >= 0.6 * len(parsed), (sum(parsed), len(parsed))


@SETTINGS
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=200))
@example("sip:")
@example("sip:@")
@example("sip:[")
@example("sip:a@[::1")
@example("sip:a@h:99999999999999999999")
@example("tel:+")
@example("x:")
@example(":x")
def test_parse_any_text_gives_uri_or_parse_error(text: str) -> None:
    uri = parse_or_none(text)
    if uri is not None:
        assert URI.parse(str(uri)) == uri


_sip_noise = st.text('sip:@;=?&%[]:.-+0123456789abcAB<>" \t', min_size=1, max_size=6)


@st.composite
def sip_alphabet_texts(draw: st.DrawFn) -> str:
    """A SIP URI assembled from valid pieces; one in four has a run of SIP-alphabet noise
    spliced in at a random place (which may or may not leave it valid)."""
    user = draw(st.sampled_from(["", "a@", "a.b-c+1@", "%41@", "a:b@", "a;b=c@"]))
    host = draw(st.sampled_from(["h", "a.example", "192.0.2.1", "[::1]", "[2001:db8::1]"]))
    port = draw(st.sampled_from(["", ":5060", ":0", ":65535"]))
    params = draw(
        st.lists(
            st.sampled_from([";lr", ";x=1", ";maddr=192.0.2.2", ";a-b=c.d", ";transport=tcp"]),
            max_size=3,
            unique=True,
        )
    )
    headers = draw(st.sampled_from(["", "?h=v", "?h=v&k=%20"]))
    text = f"sip:{user}{host}{port}{''.join(params)}{headers}"
    if draw(st.sampled_from([False, False, False, True])):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_sip_noise) + text[at:]
    return text


def test_parse_sip_alphabet_gives_uri_or_parse_error() -> None:
    parsed: list[bool] = []

    @SHARE_SETTINGS
    @given(sip_alphabet_texts())
    def check(text: str) -> None:
        uri = parse_or_none(text)
        parsed.append(uri is not None)
        if uri is not None:
            assert URI.parse(str(uri)) == uri
            assert str(URI.parse(str(uri))) == str(uri)

    check()
    assert sum(parsed) >= 0.6 * len(parsed), (sum(parsed), len(parsed))


def test_uri_parse_lone_surrogate_is_a_parse_error() -> None:
    # A str with no UTF-8 form is not a URI (was a UnicodeEncodeError escaping the binding).
    with pytest.raises(ParseError) as info:
        URI.parse("sip:\ud800@example.com")
    assert info.value.reason in URI_REASONS


# --- equivalence ----------------------------------------------------------------------------

# A small space of wire texts, so that pairs are often equivalent, and differ in the places
# RFC 3261 §19.1.4 has rules for: scheme, user case, host case and form, port present or
# default, the strict parameters (user, ttl, method, maddr, transport), other parameters
# present on one side only, headers.
_users = ["", "alice@", "Alice@", "%61lice@", "alice:secret@", "+1-2;isub=x@"]
_hosts = ["atlanta.com", "AtLanTa.CoM", "192.0.2.1", "[2001:db8::1]", "[2001:DB8:0::1]"]
_ports = ["", ":5060", ":5070"]
_params = [
    ";transport=tcp", ";Transport=TCP", ";transport=udp", ";user=phone", ";ttl=1",
    ";method=INVITE", ";maddr=239.255.255.1", ";maddr=[::1]", ";maddr=[0::1]", ";lr",
    ";security=on", ";security=off", ";SECURITY=ON", ";x", ";x=",
]  # fmt: skip
_headers = ["", "?subject=project%20x", "?Subject=project%20x", "?subject=Project%20X"]

small_sip_texts = st.builds(
    lambda scheme, user, host, port, params, headers: (
        f"{scheme}:{user}{host}{port}{''.join(params)}{headers}"
    ),
    st.sampled_from(["sip", "sips", "SIP"]),
    st.sampled_from(_users),
    st.sampled_from(_hosts),
    st.sampled_from(_ports),
    st.lists(st.sampled_from(_params), max_size=3, unique_by=lambda p: p.lower().split("=")[0]),
    st.sampled_from(_headers),
)
small_tel_texts = st.builds(
    lambda number, params: f"tel:{number}{''.join(params)}",
    st.sampled_from(["+1-201-555-0123", "+12015550123", "+1(201)5550123", "7042", "7-0-4-2"]),
    st.lists(
        st.sampled_from([";ext=1", ";ext=0-1", ";phone-context=+1", ";phone-context=Example.COM",
                         ";phone-context=example.com", ";isub=A", ";isub=a"]),
        max_size=2,
        unique_by=lambda p: p.split("=")[0],
    ),
)  # fmt: skip
small_texts = st.one_of(
    small_sip_texts, small_sip_texts, small_tel_texts, st.sampled_from(["x:a", "X:a", "x:A"])
)


@settings(max_examples=300, deadline=None)
@given(small_texts, small_texts)
@example("sip:carol@chicago.com", "sip:carol@chicago.com;security=on")
@example("sip:carol@chicago.com;security=on", "sip:carol@chicago.com")
@example("sip:alice@atlanta.com;maddr=[::1]", "sip:alice@atlanta.com;maddr=[0::1]")
def test_equivalent_is_symmetric(a_text: str, b_text: str) -> None:
    a, b = parse_or_none(a_text), parse_or_none(b_text)
    if a is None or b is None:
        return
    assert a.equivalent(b) == b.equivalent(a)
    assert a.lazy_equivalent(b) == b.lazy_equivalent(a)
    if a.equivalent(b):
        # equivalence is a coarsening of lazy equivalence (defaults only add matches)
        assert a.lazy_equivalent(b)


def _recase(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _escape_some(text: str, rng: random.Random) -> str:
    # RFC 3261 §19.1.4: characters outside the reserved set equal their %HH encoding.
    return "".join(
        f"%{ord(c):02X}" if c in string.ascii_letters + string.digits and rng.random() < 0.3 else c
        for c in text
    )


@st.composite
def sip_with_variant(draw: st.DrawFn) -> tuple[str, str]:
    """Two spellings of one SIP URI: scheme, host, parameter names and values in other case
    (RFC 3261 §19.1.4: all but userinfo compare case-insensitively), unreserved characters
    of user and parameter values %-escaped."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    scheme = draw(st.sampled_from(["sip", "sips"]))
    user = draw(
        st.none()
        | st.text(string.ascii_letters + string.digits + "-_.!~*'", min_size=1, max_size=8)
    )
    host = draw(st.sampled_from(_hosts) | st.from_regex(r"\A[a-z]{1,8}(\.[a-z]{1,5}){0,2}\Z"))
    port = draw(st.sampled_from(_ports))
    params = draw(
        st.dictionaries(
            st.sampled_from(["transport", "user", "ttl", "method", "lr", "xa", "security"]),
            st.none()
            | st.text(string.ascii_letters + string.digits + "-.", min_size=1, max_size=6),
            max_size=4,
        )
    )
    headers = draw(st.sampled_from(_headers))

    def spell(variant: bool) -> str:
        s = _recase(scheme, rng) if variant else scheme
        u = "" if user is None else (_escape_some(user, rng) if variant else user) + "@"
        h = _recase(host, rng) if variant else host
        p = ""
        for name, value in params.items():
            n = _recase(name, rng) if variant else name
            if value is None:
                p += f";{n}"
            else:
                v = _escape_some(_recase(value, rng), rng) if variant else value
                p += f";{n}={v}"
        return f"{s}:{u}{h}{port}{p}{headers}"

    return spell(False), spell(True)


@SETTINGS
@given(sip_with_variant())
def test_equivalence_ignores_case_and_unreserved_escapes(pair: tuple[str, str]) -> None:
    original, variant = pair
    a, b = URI.parse(original), URI.parse(variant)
    assert a.equivalent(b), (original, variant)
    assert b.equivalent(a), (original, variant)
    assert a.lazy_equivalent(b) and b.lazy_equivalent(a)


@settings(max_examples=200, deadline=None)
@given(small_tel_texts, st.randoms(use_true_random=False))
def test_tel_equivalence_ignores_case_of_scheme_and_parameters(
    text: str, rng: random.Random
) -> None:
    # RFC 3966 §4: parameter names and values compare case-insensitively (phone-context
    # domain names too); the scheme is case-insensitive (RFC 3986 §3.1).
    a = URI.parse(text)
    scheme, rest = text.split(":", 1)
    number, *params = rest.split(";")
    variant = _recase(scheme, rng) + ":" + ";".join([number, *(_recase(p, rng) for p in params)])
    b = URI.parse(variant)
    assert a.equivalent(b) and b.equivalent(a), (text, variant)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:a;b@example.com", "sip:a%3Bb@example.com"),
        ("sip:u@example.com;p=a/b", "sip:u@example.com;p=a%2Fb"),
    ],
)
def test_reserved_escapes_compare_equal_as_documented(a: str, b: str) -> None:
    # RFC 3261 §19.1.4 keeps a reserved character (; / ? : @ & = + $ ,) and its %HH escape
    # apart; sippet stores URI parts decoded and says so in DESIGN.md "Decisions" ("URI
    # parts are stored decoded"), so they compare equal and are written alike. Found by
    # this file; this test pins the documented decision.
    first, second = URI.parse(a), URI.parse(b)
    assert first.equivalent(second) and second.equivalent(first)
    assert str(first) == str(second)


# Found by these tests: a host given with IPv6 brackets was written as is and read back
# without them. Hosts are stored without brackets (DESIGN.md), so the form is refused.
@pytest.mark.parametrize("host", ["[::1]", "[2001:db8::1]"])
def test_bracketed_ipv6_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="invalid host"):
        str(URI("sip", "alice", host=host))
    bare = URI("sip", "alice", host=host[1:-1])
    assert str(bare) == f"sip:alice@{host}"
    assert URI.parse(str(bare)) == bare


def test_bracketed_ipv6_via_host_is_refused() -> None:
    def request(host: str) -> Message:
        via = Via((2, 0), "UDP", SentBy(host, None), {"branch": "z9hG4bK1"})
        return Message(RequestLine(Method.OPTIONS, URI("sip", host="h")), {"via": [via]})

    with pytest.raises(ValueError, match="invalid host"):
        bytes(request("[::1]"))
    bare = request("::1")
    assert Message.parse(bytes(bare)).headers["via"] == bare.headers["via"]


def test_ipv6_hosts_compare_as_addresses() -> None:
    # URI.equivalent's contract: "IP addresses compare as addresses".
    a, b = URI.parse("sip:alice@[2001:db8::1]"), URI.parse("sip:alice@[2001:DB8:0::1]")
    assert a.equivalent(b) and b.equivalent(a)


def test_ipv6_maddr_compares_as_an_address() -> None:
    a = URI.parse("sip:alice@atlanta.com;maddr=[::1]")
    b = URI.parse("sip:alice@atlanta.com;maddr=[0::1]")
    assert a.equivalent(b) and b.equivalent(a)


def test_uri_headers_are_never_ignored() -> None:
    # RFC 3261 §19.1.4: "URI header components are never ignored. Any present header
    # component MUST be present in both URIs and match for the URIs to match."
    a = parse_or_none("sip:carol@chicago.com?Subject=1&subject=2")
    if a is None:
        return  # a header named twice (names are case-insensitive) may be refused too
    b = URI.parse("sip:carol@chicago.com?subject=2")
    assert not a.equivalent(b) and not b.equivalent(a)


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.com;maddr=[::1];maddr=192.0.2.1",
        "sip:alice@atlanta.com;transport=tcp;TRANSPORT=udp",
        "sip:alice@atlanta.com;lr;lr=on",
    ],
)
def test_duplicate_uri_parameters_are_rejected(text: str) -> None:
    # RFC 3261 §19.1.1: "any given parameter-name MUST NOT appear more than once".
    # Accepting them would silently change the URI a proxy forwards (a value disappears).
    with pytest.raises(ParseError) as info:
        URI.parse(text)
    assert info.value.reason in URI_REASONS and info.value.status_code == 400


# --- URIs built in code ---------------------------------------------------------------------

any_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
lower_param_names = st.text(
    string.ascii_lowercase + string.digits + "-.!~*'_", min_size=1, max_size=8
)


@SETTINGS
@given(
    scheme=st.sampled_from(["sip", "sips"]),
    user=st.none() | any_text,
    password=st.none() | st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    host=st.one_of(
        st.ip_addresses().map(str),
        st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?(\.[a-z]{1,6}){0,2}\Z"),
    ),
    port=st.none() | st.integers(0, 65535),
    params=st.dictionaries(lower_param_names, st.none() | any_text, max_size=3),
    headers=st.dictionaries(
        any_text, st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), max_size=2
    ),
)
def test_built_sip_uri_with_any_text_round_trips(
    scheme: str,
    user: str | None,
    password: str | None,
    host: str,
    port: int | None,
    params: dict[str, str | None],
    headers: dict[str, str],
) -> None:
    # Userinfo, parameter values and header names/values hold any text: the serializer
    # %-escapes what §25.1 does not allow bare, the parser decodes it back (including
    # CR, LF and NUL: RFC 4475 escnull), so nothing raw can end the header line.
    uri = URI(scheme, user, password if user is not None else None, host, port, params, headers)
    written = str(uri)
    assert "\r" not in written and "\n" not in written and " " not in written
    assert URI.parse(written) == uri


_any_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
_label = st.from_regex(r"[a-z]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
_writable_hosts = st.one_of(
    st.lists(_label, min_size=1, max_size=3).map(".".join),
    st.ip_addresses().map(str),
)
_param_names = st.text(string.ascii_lowercase + string.digits + "-.!~*'_", min_size=1, max_size=6)


@st.composite
def writable_uris(draw: st.DrawFn) -> URI:
    """A URI that RFC 3261 §25.1 / RFC 3966 §3 can express, with any text where the
    grammar escapes it (userinfo, parameter values, headers); names lowercase (the
    parser lowercases them: DESIGN.md "Decisions")."""
    scheme = draw(st.sampled_from(["sip", "sips", "sip", "tel", "urn"]))
    params = draw(st.dictionaries(_param_names, st.none() | _any_text, max_size=2))
    if scheme == "tel":
        number = draw(st.from_regex(r"\+[0-9]{1,15}", fullmatch=True))
        return URI(
            "tel",
            number,
            parameters=draw(st.dictionaries(_param_names, st.none() | _param_names, max_size=2)),
        )
    if scheme == "urn":
        opaque = draw(
            st.text(string.ascii_lowercase + string.digits + ":.-", min_size=1, max_size=20)
        )
        return URI("urn", opaque=opaque)
    user = draw(st.none() | _any_text)
    return URI(
        scheme,
        user,
        draw(st.none() | _any_text) if user is not None else None,
        draw(_writable_hosts),
        draw(st.none() | st.integers(0, 65535)),
        params,
        draw(st.dictionaries(_any_text, _any_text, max_size=2)),
    )


# One defect each, on top of a writable sip URI, with the refusal it must get.
_FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("negative port", {"port": -1}, "URI port must not be negative"),
    ("port too large", {"port": 65536}, "URI port 65536 is larger than 65535"),
    ("password without user", {"user": None, "password": "pw"}, "a URI password needs a user"),
    ("empty user", {"user": ""}, "an empty URI user"),
    ("no host", {"host": None}, "a sip URI needs a host"),
    ("host with a space", {"host": "a b"}, 'invalid host "a b"'),
    ("empty parameter value", {"parameters": {"p": ""}}, 'URI parameter "p": empty value'),
    ("empty parameter name", {"parameters": {"": "x"}}, "an empty URI parameter name"),
    ("empty header name", {"headers": {"": "x"}}, "an empty URI header name"),
    ("opaque part on sip", {"opaque": "x"}, "a sip URI has no opaque part"),
]


@st.composite
def faulty_uris(draw: st.DrawFn) -> tuple[URI, str]:
    base = draw(writable_uris().filter(lambda u: u.scheme == "sip"))
    _name, change, refusal = draw(st.sampled_from(_FAULTS))
    fields = ("user", "password", "host", "port", "parameters", "headers", "opaque")
    values = {field: getattr(base, field) for field in fields} | change
    return URI("sip", **values), refusal


@st.composite
def built_uris(draw: st.DrawFn) -> tuple[URI, str | None]:
    """Mostly writable URIs (refusal None), one in four with a single known defect."""
    if draw(st.sampled_from([True, False, False, False])):
        return draw(faulty_uris())
    return draw(writable_uris()), None


def test_built_uri_is_refused_exactly_or_reads_back() -> None:
    outcomes: list[bool] = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(built_uris())
    def check(sample: tuple[URI, str | None]) -> None:
        uri, refusal = sample
        if refusal is not None:
            with pytest.raises(ValueError) as info:
                str(uri)
            assert refusal in str(info.value)
            outcomes.append(False)
            return
        written = str(uri)  # writable: never refused
        assert URI.parse(written) == uri
        assert str(URI.parse(written)) == written
        outcomes.append(True)

    check()
    # The read-back branch must carry the property: most examples get there.
    assert sum(outcomes) >= 0.6 * len(outcomes), (sum(outcomes), len(outcomes))


@pytest.mark.parametrize(
    "uri",
    [
        URI("sip", "a", host="h", port=-1),
        URI("sip", "a", host="h", port=65536),
        URI("sip", "a", host=""),
        URI("sip", "a", host="a b"),
        URI("sip", "a", host="h>"),
        URI("sip", "a", host="h\r\nVia: x"),
        URI("x", opaque="a\r\nb"),
        URI("x", opaque="a>b"),
        URI("1x", opaque="y"),
        URI("sip", "a"),
        # Found by these tests (written, then rejected by the parser or read back as
        # another URI); fixed in 7b068f2:
        URI("sip", "a", host="h", parameters={"p": ""}),
        URI("tel", "+1", parameters={"p": ""}),
        URI("sip", "a", host="h", parameters={"": "x"}),
        URI("sip", "a", host="h", headers={"": "x"}),
        URI("sip", "", host="h"),
        URI("sip", None, "secret", host="h"),
        URI("sip", "a", host="é.example"),
        URI("sip", "a", host="fe80::1%eth0"),
        URI("sip", "a", host="h:5060"),
        URI("sip", "a", host="a=b"),
        URI("tel", "+1 555"),
        URI("tel", "+1%"),
        URI("tel", ""),
        URI("tel", "+1", host="h"),
        URI("tel", "+1", headers={"a": "b"}),
        URI("x", opaque=""),
        URI("x", opaque="é"),
        URI("x", "u", host="h", opaque="a"),
        URI("sip", host="h", opaque="zzz"),
    ],
)
def test_built_uri_refuses_what_cannot_be_written(uri: URI) -> None:
    with pytest.raises((ValueError, TypeError)):
        str(uri)
