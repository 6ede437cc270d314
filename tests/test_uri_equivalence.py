"""URI.equivalent (RFC 3261 §19.1.4, RFC 3966 §4), lazy_equivalent, replace, pickling.

The URIs are built in code the way the parser stores them (userinfo and values decoded,
parameter names lowercased); ``test_uri_equivalence_parsed`` below repeats the RFC examples
from their wire text once the native parser is available.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import URI
from sippet.uri import default_port


def sip(
    user: str | None,
    host: str,
    port: int | None = None,
    params: dict[str, str | None] | None = None,
    headers: dict[str, str] | None = None,
    *,
    scheme: str = "sip",
    password: str | None = None,
) -> URI:
    return URI(
        scheme,
        user=user,
        password=password,
        host=host,
        port=port,
        parameters=params,
        headers=headers,
    )


def tel(number: str, **params: str | None) -> URI:
    return URI("tel", user=number, parameters={k.replace("_", "-"): v for k, v in params.items()})


def assert_equivalent(a: URI, b: URI) -> None:
    assert a.equivalent(b)
    assert b.equivalent(a)


def assert_not_equivalent(a: URI, b: URI) -> None:
    assert not a.equivalent(b)
    assert not b.equivalent(a)


# -- the RFC 3261 §19.1.4 example sets -------------------------------------------------


def test_rfc_equivalent_escaped_user_and_case_of_host_and_transport() -> None:
    # sip:%61lice@atlanta.com;transport=TCP / sip:alice@AtLanTa.CoM;Transport=tcp
    assert_equivalent(
        sip("alice", "atlanta.com", params={"transport": "TCP"}),
        sip("alice", "AtLanTa.CoM", params={"transport": "tcp"}),
    )


def test_rfc_equivalent_unknown_parameters_in_one_uri_are_ignored() -> None:
    base = sip("carol", "chicago.com")
    assert_equivalent(base, sip("carol", "chicago.com", params={"newparam": "5"}))
    assert_equivalent(base, sip("carol", "chicago.com", params={"security": "on"}))


def test_rfc_equivalent_parameter_order_does_not_matter() -> None:
    # sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com
    headers = {"to": "sip:bob@biloxi.com"}
    assert_equivalent(
        sip(None, "biloxi.com", params={"transport": "tcp", "method": "REGISTER"}, headers=headers),
        sip(None, "biloxi.com", params={"method": "REGISTER", "transport": "tcp"}, headers=headers),
    )


def test_rfc_equivalent_header_order_does_not_matter() -> None:
    assert_equivalent(
        sip("alice", "atlanta.com", headers={"subject": "project x", "priority": "urgent"}),
        sip("alice", "atlanta.com", headers={"priority": "urgent", "subject": "project x"}),
    )


def test_rfc_not_equivalent_different_usernames() -> None:
    # SIP:ALICE@AtLanTa.CoM;Transport=udp / sip:alice@AtLanTa.CoM;Transport=UDP
    assert_not_equivalent(
        sip("ALICE", "AtLanTa.CoM", params={"transport": "udp"}),
        sip("alice", "AtLanTa.CoM", params={"transport": "UDP"}),
    )


def test_rfc_not_equivalent_explicit_default_port() -> None:
    assert_not_equivalent(sip("bob", "biloxi.com"), sip("bob", "biloxi.com", 5060))


def test_rfc_not_equivalent_explicit_transport() -> None:
    assert_not_equivalent(
        sip("bob", "biloxi.com"), sip("bob", "biloxi.com", params={"transport": "udp"})
    )


def test_rfc_not_equivalent_port_and_transport() -> None:
    assert_not_equivalent(
        sip("bob", "biloxi.com"), sip("bob", "biloxi.com", 6000, params={"transport": "tcp"})
    )


def test_rfc_not_equivalent_header_in_one_uri_only() -> None:
    assert_not_equivalent(
        sip("carol", "chicago.com"),
        sip("carol", "chicago.com", headers={"Subject": "next meeting"}),
    )


def test_rfc_not_equivalent_host_name_and_its_address() -> None:
    assert_not_equivalent(sip("bob", "phone21.boxesbybob.com"), sip("bob", "192.0.2.4"))


def test_rfc_equivalence_is_not_transitive() -> None:
    plain = sip("carol", "chicago.com")
    on = sip("carol", "chicago.com", params={"security": "on"})
    off = sip("carol", "chicago.com", params={"security": "off"})
    assert_equivalent(plain, on)
    assert_equivalent(plain, off)
    assert_not_equivalent(on, off)


# -- each rule on its own --------------------------------------------------------------


def test_sip_and_sips_are_never_equivalent() -> None:
    assert_not_equivalent(sip("a", "b.com"), sip("a", "b.com", scheme="sips"))


def test_sips_uris_compare_like_sip() -> None:
    assert_equivalent(sip("a", "B.com", scheme="sips"), sip("a", "b.COM", scheme="sips"))


def test_userinfo_is_case_sensitive_including_telephone_subscribers() -> None:
    assert_not_equivalent(sip("Bob", "b.com"), sip("bob", "b.com"))
    assert_not_equivalent(
        sip("+1-212-555-0101", "b.com", params={"user": "phone"}),
        sip("+1-212-555-0101a", "b.com", params={"user": "phone"}),
    )


def test_user_absent_in_one_uri() -> None:
    assert_not_equivalent(sip(None, "b.com"), sip("bob", "b.com"))


def test_password_must_match_and_cannot_be_omitted() -> None:
    assert_equivalent(sip("a", "b.com", password="x"), sip("a", "b.com", password="x"))
    assert_not_equivalent(sip("a", "b.com", password="x"), sip("a", "b.com", password="X"))
    assert_not_equivalent(sip("a", "b.com", password="x"), sip("a", "b.com"))


def test_ports_must_match() -> None:
    assert_equivalent(sip("a", "b.com", 5070), sip("a", "b.com", 5070))
    assert_not_equivalent(sip("a", "b.com", 5070), sip("a", "b.com", 5071))


def test_ip_addresses_compare_as_addresses() -> None:
    assert_equivalent(sip("a", "2001:db8::1"), sip("a", "2001:DB8:0:0::1"))
    assert_not_equivalent(sip("a", "2001:db8::1"), sip("a", "2001:db8::2"))
    assert_equivalent(sip("a", "192.0.2.4"), sip("a", "192.0.2.4"))


@pytest.mark.parametrize(
    ("name", "value"),
    [("user", "phone"), ("ttl", "1"), ("method", "INVITE"), ("maddr", "239.255.255.1")],
)
def test_parameters_that_never_match_when_in_one_uri_only(name: str, value: str) -> None:
    assert_not_equivalent(sip("a", "b.com"), sip("a", "b.com", params={name: value}))


@pytest.mark.parametrize(
    ("name", "value_a", "value_b", "equal"),
    [
        ("transport", "tcp", "TCP", True),
        ("transport", "tcp", "udp", False),
        ("user", "phone", "ip", False),
        ("ttl", "1", "15", False),
        ("method", "INVITE", "invite", True),
        ("maddr", "MCAST.example.com", "mcast.example.com", True),
        ("maddr", "239.255.255.1", "239.255.255.2", False),
        ("security", "on", "ON", True),
        ("security", "on", "off", False),
        ("lr", None, None, True),
        ("lr", None, "on", False),
    ],
)
def test_parameters_present_in_both_must_match(
    name: str, value_a: str | None, value_b: str | None, equal: bool
) -> None:
    a = sip("a", "b.com", params={name: value_a})
    b = sip("a", "b.com", params={name: value_b})
    assert a.equivalent(b) is equal
    assert b.equivalent(a) is equal


def test_parameter_names_are_case_insensitive() -> None:
    assert_equivalent(
        sip("a", "b.com", params={"Transport": "tcp"}),
        sip("a", "b.com", params={"transport": "tcp"}),
    )


def test_headers_never_ignored_names_case_insensitive_values_exact() -> None:
    assert_equivalent(
        sip("a", "b.com", headers={"Subject": "hi"}), sip("a", "b.com", headers={"subject": "hi"})
    )
    assert_not_equivalent(
        sip("a", "b.com", headers={"subject": "hi"}), sip("a", "b.com", headers={"subject": "HI"})
    )
    assert_not_equivalent(
        sip("a", "b.com", headers={"subject": "hi"}),
        sip("a", "b.com", headers={"subject": "hi", "priority": "urgent"}),
    )


# -- tel URIs (RFC 3966 §4) ---------------------------------------------------------------


def test_tel_visual_separators_are_ignored() -> None:
    assert_equivalent(tel("+1-201-555-0123"), tel("+1.201.555.0123"))
    assert_equivalent(tel("+1-201-555-0123"), tel("+1(201)5550123"))
    assert_not_equivalent(tel("+1-201-555-0123"), tel("+1-201-555-0124"))


def test_tel_global_and_local_never_match() -> None:
    assert_not_equivalent(tel("12015550123", phone_context="+1"), tel("+12015550123"))


def test_tel_parameters_must_all_be_present_in_both() -> None:
    assert_not_equivalent(tel("+12015550123", ext="1234"), tel("+12015550123"))
    assert_not_equivalent(tel("+12015550123", foo=None), tel("+12015550123"))


def test_tel_phone_context_domain_and_digits() -> None:
    assert_equivalent(
        tel("7042", phone_context="Example.COM"), tel("7042", phone_context="example.com")
    )
    assert_equivalent(tel("7042", phone_context="+1-201"), tel("7042", phone_context="+1.201"))
    assert_not_equivalent(tel("7042", phone_context="+1-201"), tel("7042", phone_context="+1-202"))
    assert_not_equivalent(
        tel("7042", phone_context="example.com"), tel("7042", phone_context="example.net")
    )


def test_tel_comparison_is_case_insensitive() -> None:
    assert_equivalent(
        tel("*123#abc", phone_context="x.com"), tel("*123#ABC", phone_context="x.com")
    )
    assert_equivalent(tel("+12015550123", ext="12-34"), tel("+12015550123", ext="1234"))
    assert_equivalent(tel("+12015550123", isub="ABC"), tel("+12015550123", isub="abc"))
    assert_equivalent(tel("+12015550123", Foo="Bar"), tel("+12015550123", foo="bar"))


def test_other_schemes_compare_scheme_and_opaque_text() -> None:
    a = URI("urn", opaque="service:sos")
    assert_equivalent(a, URI("URN", opaque="service:sos"))
    assert_not_equivalent(a, URI("urn", opaque="service:sos.police"))
    assert_not_equivalent(a, URI("tel", user="service:sos"))


# -- lazy_equivalent ---------------------------------------------------------------------


def test_lazy_fills_in_default_port_and_transport() -> None:
    # Sippet's own example: sip:atlanta.com;transport=UDP ~ sip:atlanta.com:5060
    a = sip(None, "atlanta.com", params={"transport": "UDP"})
    b = sip(None, "atlanta.com", 5060)
    assert not a.equivalent(b)
    assert a.lazy_equivalent(b)
    assert b.lazy_equivalent(a)


def test_lazy_sips_defaults() -> None:
    a = sip("a", "b.com", scheme="sips")
    assert a.lazy_equivalent(sip("a", "b.com", 5061, scheme="sips"))
    assert a.lazy_equivalent(sip("a", "b.com", params={"transport": "tls"}, scheme="sips"))
    assert a.lazy_equivalent(sip("a", "b.com", params={"transport": "tcp"}, scheme="sips"))
    assert not a.lazy_equivalent(sip("a", "b.com", 5060, scheme="sips"))


def test_lazy_keeps_the_other_rules() -> None:
    a = sip("a", "b.com")
    assert not a.lazy_equivalent(sip("a", "b.com", 5070))
    assert not a.lazy_equivalent(sip("a", "b.com", params={"transport": "tcp"}))
    assert not a.lazy_equivalent(sip("a", "b.com", params={"maddr": "239.1.1.1"}))
    assert not a.lazy_equivalent(sip("A", "b.com"))
    assert not a.lazy_equivalent(sip("a", "b.com", scheme="sips"))
    assert a.lazy_equivalent(sip("a", "B.COM", params={"security": "on"}))
    assert tel("+1-201").lazy_equivalent(tel("+1201"))


# -- helpers -----------------------------------------------------------------------------


def test_default_port() -> None:
    assert default_port("sip") == 5060
    assert default_port("SIPS") == 5061
    assert default_port("tel") is None
    assert default_port("ponzi") is None


def test_is_sip_and_is_secure() -> None:
    assert sip("a", "b").is_sip and not sip("a", "b").is_secure
    assert sip("a", "b", scheme="sips").is_sip and sip("a", "b", scheme="sips").is_secure
    assert not tel("+1").is_sip and not tel("+1").is_secure


def test_replace_changes_fields_and_copies_dicts() -> None:
    uri = sip("alice", "atlanta.com", params={"transport": "tcp"}, headers={"subject": "x"})
    moved = uri.replace(host="biloxi.com", port=5070)
    assert moved == sip("alice", "biloxi.com", 5070, {"transport": "tcp"}, {"subject": "x"})
    assert uri.host == "atlanta.com" and uri.port is None
    moved.parameters["lr"] = None
    moved.headers["priority"] = "urgent"
    assert uri.parameters == {"transport": "tcp"}
    assert uri.headers == {"subject": "x"}
    assert type(moved) is URI
    with pytest.raises(TypeError):
        uri.replace(hostname="x")


def test_pickle_and_copy_round_trip() -> None:
    uri = sip("alice", "atlanta.com", 5070, {"lr": None}, {"subject": "x"}, password="pw")
    for clone in (pickle.loads(pickle.dumps(uri)), copy.copy(uri), copy.deepcopy(uri)):
        assert type(clone) is URI
        assert clone == uri
        assert clone.scheme == "sip" and clone.password == "pw" and clone.port == 5070
    deep = copy.deepcopy(uri)
    deep.parameters["x"] = "1"
    assert "x" not in uri.parameters


# -- properties --------------------------------------------------------------------------

_names = st.sampled_from(["transport", "user", "ttl", "method", "maddr", "lr", "security", "x"])
_values = st.one_of(st.none(), st.sampled_from(["tcp", "TCP", "udp", "phone", "1", "on", "a.b"]))
_uris = st.builds(
    URI,
    scheme=st.sampled_from(["sip", "sips"]),
    user=st.one_of(st.none(), st.sampled_from(["alice", "Alice", "bob"])),
    password=st.none(),
    host=st.sampled_from(["atlanta.com", "AtLanTa.CoM", "192.0.2.4", "2001:db8::1"]),
    port=st.sampled_from([None, 5060, 5061, 5070]),
    parameters=st.dictionaries(_names, _values, max_size=4),
    headers=st.dictionaries(
        st.sampled_from(["subject", "Subject", "priority"]), st.sampled_from(["x", "X"]), max_size=2
    ),
)


@settings(max_examples=300, deadline=None)
@given(_uris, _uris)
def test_equivalence_is_reflexive_and_symmetric(a: URI, b: URI) -> None:
    assert a.equivalent(a) and a.lazy_equivalent(a)
    assert a.equivalent(b) == b.equivalent(a)
    assert a.lazy_equivalent(b) == b.lazy_equivalent(a)


@settings(max_examples=300, deadline=None)
@given(_uris, _uris)
def test_equivalent_implies_lazy_equivalent(a: URI, b: URI) -> None:
    if a.equivalent(b):
        assert a.lazy_equivalent(b)


@settings(max_examples=100, deadline=None)
@given(_uris)
def test_a_copy_is_equivalent_and_equal(a: URI) -> None:
    assert copy.deepcopy(a) == a
    assert a.replace().equivalent(a)


# -- the same RFC 3261 §19.1.4 examples, from their wire text ------------------------------

RFC_EQUIVALENT_SETS = [
    ["sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"],
    [
        "sip:carol@chicago.com",
        "sip:carol@chicago.com;newparam=5",
        "sip:carol@chicago.com;security=on",
    ],
    [
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ],
    [
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ],
]

RFC_NOT_EQUIVALENT_PAIRS = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
]


@pytest.mark.parametrize("texts", RFC_EQUIVALENT_SETS)
def test_parsed_rfc_equivalent_sets(texts: list[str]) -> None:
    uris = [URI.parse(text) for text in texts]
    for a in uris:
        for b in uris:
            assert a.equivalent(b), (str(a), str(b))


@pytest.mark.parametrize(("text_a", "text_b"), RFC_NOT_EQUIVALENT_PAIRS)
def test_parsed_rfc_not_equivalent_pairs(text_a: str, text_b: str) -> None:
    assert_not_equivalent(URI.parse(text_a), URI.parse(text_b))


def test_parsed_non_transitivity() -> None:
    plain, on, off = (
        URI.parse("sip:carol@chicago.com"),
        URI.parse("sip:carol@chicago.com;security=on"),
        URI.parse("sip:carol@chicago.com;security=off"),
    )
    assert_equivalent(plain, on)
    assert_equivalent(plain, off)
    assert_not_equivalent(on, off)


def test_parsed_escaped_and_unescaped_are_equivalent() -> None:
    assert_equivalent(URI.parse("sip:%75se%72@example.com"), URI.parse("sip:user@example.com"))
    assert_equivalent(URI.parse("sip:a@b.com;name=v%61lue"), URI.parse("sip:a@b.com;name=value"))
    assert_equivalent(URI.parse("sip:a@[2001:db8::1]"), URI.parse("sip:a@[2001:DB8:0::1]"))


def test_parsed_tel_uris() -> None:
    assert_equivalent(URI.parse("tel:+1-201-555-0123"), URI.parse("tel:+1.201.555.0123"))
    assert_equivalent(
        URI.parse("tel:7042;phone-context=Example.com"),
        URI.parse("tel:7042;PHONE-CONTEXT=example.com"),
    )
    assert_not_equivalent(URI.parse("tel:+12015550123;ext=1"), URI.parse("tel:+12015550123"))


def test_parsed_lazy_example() -> None:
    a = URI.parse("sip:atlanta.com;transport=UDP")
    b = URI.parse("sip:atlanta.com:5060")
    assert a.lazy_equivalent(b) and not a.equivalent(b)


def test_parsed_replace_serializes() -> None:
    uri = URI.parse("sip:alice@atlanta.com;transport=tcp")
    assert str(uri.replace(port=5070)) == "sip:alice@atlanta.com:5070;transport=tcp"
    assert pickle.loads(pickle.dumps(uri)) == uri
