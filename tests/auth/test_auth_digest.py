"""Digest computations against the RFCs' worked examples (RFC 2617 §3.5, RFC 7616 §3.9.1)
and the FIPS 180-4 SHA-512/256 test vector; algorithm names and strength."""

from __future__ import annotations

import pytest
from sippet.auth import (
    Algorithm,
    Qop,
    parse_algorithm,
    parse_algorithm_list,
    password_ha1,
    response,
)
from sippet.auth.digest import format_nonce_count, ha2

# RFC 7616 §3.9.1: one nonce, two algorithms.
RFC7616_REALM = "http-auth@example.org"
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def test_rfc2617_section_3_5_example() -> None:
    ha1 = password_ha1(Algorithm.MD5, "Mufasa", "testrealm@host.com", "Circle Of Life")
    digest = response(
        Algorithm.MD5,
        ha1,
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method="GET",
        uri="/dir/index.html",
        qop=Qop.AUTH,
        nonce_count="00000001",
        cnonce="0a4f113b",
    )
    assert digest == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (Algorithm.MD5, "8ca523f5e9506fed4657c9700eebdbec"),
        (
            Algorithm.SHA_256,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: Algorithm, expected: str) -> None:
    ha1 = password_ha1(algorithm, "Mufasa", RFC7616_REALM, "Circle of Life")
    digest = response(
        algorithm,
        ha1,
        nonce=RFC7616_NONCE,
        method="GET",
        uri="/dir/index.html",
        qop=Qop.AUTH,
        nonce_count="00000001",
        cnonce=RFC7616_CNONCE,
    )
    assert digest == expected


def test_sha512_256_is_the_fips_180_4_function_not_a_truncated_sha512() -> None:
    # FIPS 180-4 / NIST example: SHA-512/256("abc").
    assert (
        Algorithm.SHA_512_256.hash(b"abc")
        == "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
    )


def test_session_variant_hashes_nonce_and_cnonce_into_ha1() -> None:
    # RFC 7616 §3.4.2: HA1-sess = H(H(user:realm:password):nonce:cnonce).
    base = password_ha1(Algorithm.SHA_256, "alice", "r", "pw")
    expected_key = Algorithm.SHA_256.hash(f"{base}:n:c".encode())
    expected_ha2 = Algorithm.SHA_256.hash(b"REGISTER:sip:r")
    expected = Algorithm.SHA_256.hash(f"{expected_key}:n:00000001:c:auth:{expected_ha2}".encode())
    assert (
        response(
            Algorithm.SHA_256_SESS,
            base,
            nonce="n",
            method="REGISTER",
            uri="sip:r",
            qop=Qop.AUTH,
            nonce_count="00000001",
            cnonce="c",
        )
        == expected
    )


def test_rfc2069_form_without_qop() -> None:
    ha1 = password_ha1(Algorithm.MD5, "alice", "r", "pw")
    expected = Algorithm.MD5.hash(f"{ha1}:n:{Algorithm.MD5.hash(b'INVITE:sip:bob@b')}".encode())
    assert response(Algorithm.MD5, ha1, nonce="n", method="INVITE", uri="sip:bob@b") == expected
    with pytest.raises(ValueError, match="cnonce"):
        response(Algorithm.MD5_SESS, ha1, nonce="n", method="INVITE", uri="sip:bob@b")
    with pytest.raises(ValueError, match="nc and cnonce"):
        response(Algorithm.MD5, ha1, nonce="n", method="INVITE", uri="u", qop=Qop.AUTH)


def test_auth_int_covers_the_body_and_an_empty_body_hashes_as_empty() -> None:
    # RFC 3261 §22.4 item 7: H(entity-body) of an empty body is MD5("").
    empty = ha2(Algorithm.MD5, "INVITE", "sip:b", Qop.AUTH_INT, b"")
    d41d = "d41d8cd98f00b204e9800998ecf8427e"
    assert empty == Algorithm.MD5.hash(f"INVITE:sip:b:{d41d}".encode())
    assert ha2(Algorithm.MD5, "INVITE", "sip:b", Qop.AUTH_INT, b"v=0") != empty
    assert ha2(Algorithm.MD5, "INVITE", "sip:b", Qop.AUTH, b"v=0") == ha2(
        Algorithm.MD5, "INVITE", "sip:b", Qop.AUTH, b""
    )


def test_algorithm_names_and_strength() -> None:
    assert parse_algorithm(None) is Algorithm.MD5  # RFC 2617 §3.2.1: absent means MD5
    assert parse_algorithm("sha-256-SESS") is Algorithm.SHA_256_SESS
    assert parse_algorithm("SHA-1") is None
    assert Algorithm.SHA_512_256_SESS.base is Algorithm.SHA_512_256
    assert Algorithm.MD5_SESS.is_session and not Algorithm.MD5.is_session
    ranked = sorted(Algorithm, key=lambda a: a.strength)
    assert [a.base for a in ranked][::2] == [
        Algorithm.MD5,
        Algorithm.SHA_256,
        Algorithm.SHA_512_256,
    ]
    assert str(Algorithm.SHA_512_256) == "SHA-512-256"


def test_nonce_count_format() -> None:
    assert format_nonce_count(1) == "00000001"
    assert format_nonce_count(0xABCDEF12) == "abcdef12"
    for bad in (0, 2**32):
        with pytest.raises(ValueError):
            format_nonce_count(bad)


def test_algorithm_lists_keep_order_and_refuse_unknown_names() -> None:
    assert parse_algorithm_list("sha-256, MD5,sha-256") == (Algorithm.SHA_256, Algorithm.MD5)
    assert parse_algorithm_list("SHA-512-256-sess") == (Algorithm.SHA_512_256_SESS,)
    for bad in ("", "md5,", "sha-1", "md5;sha-256"):
        with pytest.raises(ValueError):
            parse_algorithm_list(bad)
