"""Hostile input gets a defined answer: whatever parameters a peer puts in its challenge or
credentials, the server returns a Verdict and the client an answer or an AuthError."""

from __future__ import annotations

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from sippet import Auth, Message
from sippet.auth import (
    AuthError,
    AuthReason,
    DigestClient,
    DigestServer,
    UserCredentials,
    Users,
    Verdict,
)

REALM = "example.com"
KEY = bytes(range(32))
T0 = 1_800_000_000.0

NAMES = st.sampled_from(
    [
        "username",
        "realm",
        "nonce",
        "uri",
        "response",
        "algorithm",
        "qop",
        "nc",
        "cnonce",
        "opaque",
        "stale",
        "userhash",
        "domain",
        "x-other",
    ]
)
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "MD5",
            "sha-256-SESS",
            "auth",
            "auth-int",
            "true",
            "00000001",
            REALM,
            "sip:registrar.example.com",
            "ffffffff",
            "00000000",
            "auth,auth-int",
        ]
    ),
)
PARAMS = st.dictionaries(NAMES, VALUES, max_size=12)
# Challenges that have what a usable one needs, and anything else besides.
NEAR_VALID_CHALLENGE = st.builds(
    lambda realm, nonce, extra: {"realm": realm, "nonce": nonce, **extra},
    VALUES,
    VALUES,
    st.dictionaries(
        st.sampled_from(["algorithm", "qop", "opaque", "stale", "domain", "x-other"]),
        VALUES,
        max_size=4,
    ),
)


def base_request() -> Message:
    return Message.parse(
        "REGISTER sip:registrar.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKhostile\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\n"
        "To: <sip:alice@example.com>\r\n"
        "Call-ID: hostile@192.0.2.1\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Content-Length: 0\r\n\r\n"
    )


def server() -> DigestServer:
    users = Users()
    users.set_password("alice", REALM, "secret")
    return DigestServer(REALM, users, KEY, allow_rfc2069=True)


@settings(max_examples=300, deadline=None)
@given(PARAMS, st.sampled_from(["Digest", "digest", "Basic", "Bearer"]), st.booleans())
def test_any_credentials_get_a_verdict(
    params: dict[str, str], scheme: str, own_realm: bool
) -> None:
    if own_realm:
        params = {**params, "realm": REALM}
    request = base_request()
    request.headers["authorization"] = [Auth(scheme, dict(params))]
    srv = server()
    verdict = srv.verify(request, T0)
    assert isinstance(verdict, Verdict)
    assert not verdict.ok  # nobody guesses a valid nonce and digest
    refusal = srv.refuse(request, verdict, T0)
    assert refusal.start_line.status_code in (400, 401)  # type: ignore[union-attr]
    Message.parse(refusal.to_bytes())  # and the answer reads back


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Digest", "Basic", "NTLM"]), st.one_of(PARAMS, NEAR_VALID_CHALLENGE)
        ),
        max_size=4,
    )
)
def test_any_challenge_gets_an_answer_or_an_auth_error(
    challenges: list[tuple[str, dict[str, str]]],
) -> None:
    answer = base_request().to_response(401)
    answer.headers["www_authenticate"] = [Auth(s, dict(p)) for s, p in challenges]
    try:
        data = answer.to_bytes()
    except ValueError:
        assume(False)  # a peer can only send what goes on the wire
    client = DigestClient(default=UserCredentials("alice", "secret"))
    try:
        retry = client.authorize(base_request(), Message.parse(data))
    except AuthError as error:
        assert error.reason in (AuthReason.NO_USABLE_CHALLENGE, AuthReason.NO_CREDENTIALS)
        event("refused")
        return
    event("answered")
    assert retry.headers["cseq"].seq == 2
    # Whatever the challenge held, the answer goes on the wire and reads back.
    assert Message.parse(retry.to_bytes()).headers["authorization"]


@pytest.mark.parametrize("count", ["00000000", "0000000g", "1", "000000001", "-0000001"])
def test_bad_nonce_counts_are_malformed(count: str) -> None:
    srv = server()
    nonce = srv.challenges(T0)[0].params["nonce"]
    request = base_request()
    request.headers["authorization"] = [
        Auth(
            "Digest",
            {
                "username": "alice",
                "realm": REALM,
                "nonce": nonce,
                "uri": "sip:x",
                "response": "0" * 64,
                "qop": "auth",
                "nc": count,
                "cnonce": "c",
            },
        )
    ]
    assert srv.verify(request, T0).reason is AuthReason.MALFORMED
