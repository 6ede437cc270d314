"""DigestClient against DigestServer through real wire bytes: every message is serialized
and parsed again between the two, as it would be on the network."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sippet import Auth, Message
from sippet.auth import (
    Algorithm,
    AuthError,
    AuthReason,
    Challenge,
    Credentials,
    DigestClient,
    DigestServer,
    Qop,
    UserCredentials,
    Users,
)

KEY = bytes(range(32))
REALM = "example.com"
T0 = 1_800_000_000.0


def wire(message: Message) -> Message:
    """Serialize and parse: what the peer would see."""
    return Message.parse(message.to_bytes())


def request(method: str = "REGISTER", body: str = "", cseq: int = 1) -> Message:
    content = "Content-Type: application/sdp\r\n" if body else ""
    return Message.parse(
        f"{method} sip:registrar.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\n"
        "To: <sip:alice@example.com>\r\n"
        "Call-ID: call-1@192.0.2.1\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"{content}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def users(password: str = "secret", username: str = "alice") -> Users:
    store = Users()
    store.set_password(username, REALM, password)
    return store


def server(**options: object) -> DigestServer:
    return DigestServer(REALM, users(), KEY, **options)  # type: ignore[arg-type]


def client(password: str = "secret", **options: object) -> DigestClient:
    return DigestClient({REALM: UserCredentials("alice", password)}, **options)  # type: ignore[arg-type]


def round_trip(
    srv: DigestServer, cli: DigestClient, req: Message, now: float = T0
) -> tuple[Message, Message]:
    """The server's challenge and the client's retry, both as received."""
    challenge = wire(srv.challenge(req, now))
    retry = wire(cli.authorize(req, challenge))
    return challenge, retry


# -- the whole exchange ------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize("qop", list(Qop))
@pytest.mark.parametrize("proxy", [False, True])
def test_client_and_server_agree(algorithm: Algorithm, qop: Qop, proxy: bool) -> None:
    srv = server(algorithms=[algorithm], qop=[qop], proxy=proxy)
    req = request("INVITE", body="v=0\r\n")
    challenge, retry = round_trip(srv, client(prefer_auth_int=True), req)
    assert challenge.start_line.status_code == (407 if proxy else 401)  # type: ignore[union-attr]
    sent = retry.headers["proxy_authorization" if proxy else "authorization"][0]
    assert sent.params["algorithm"] == algorithm.value
    assert sent.params["qop"] == qop.value
    verdict = srv.verify(retry, T0 + 1)
    assert verdict.ok and verdict.username == "alice", verdict
    # The same request again is a replay (same nc): refused, stale so no user prompt.
    again = srv.verify(retry, T0 + 2)
    assert (again.ok, again.reason, again.stale) == (False, AuthReason.REPLAYED, True)


def test_retry_is_a_new_transaction_with_the_next_cseq() -> None:
    req = request()
    _, retry = round_trip(server(), client(), req)
    assert retry.headers["cseq"].seq == 2
    assert retry.headers["via"][0].branch != req.headers["via"][0].branch
    assert retry.headers["via"][0].params["rport"] is None  # other Via params kept
    assert retry.headers["call_id"] == req.headers["call_id"]
    assert retry.headers["from"] == req.headers["from"]
    assert "tag" not in retry.headers["to"].params  # not the challenge's To tag
    assert "authorization" not in req.headers  # the original is left alone


def test_wrong_password_fails_and_the_client_does_not_retry_it() -> None:
    srv = server()
    req = request()
    _, retry = round_trip(srv, client(password="wrong"), req)
    verdict = srv.verify(retry, T0)
    assert (verdict.ok, verdict.reason, verdict.stale) == (False, AuthReason.WRONG_RESPONSE, False)
    second = wire(srv.refuse(retry, verdict, T0))
    assert second.start_line.status_code == 401  # type: ignore[union-attr]
    assert "stale" not in second.headers["www_authenticate"][0].params
    # RFC 3261 §22.2: the same credentials must not be sent again.
    with pytest.raises(AuthError) as caught:
        client(password="wrong").authorize(retry, second)
    assert caught.value.reason is AuthReason.REJECTED


def test_unknown_user_fails_like_a_wrong_password() -> None:
    srv = server()
    cli = DigestClient(default=UserCredentials("mallory", "secret"))
    _, retry = round_trip(srv, cli, request())
    verdict = srv.verify(retry, T0)
    assert (verdict.ok, verdict.reason) == (False, AuthReason.UNKNOWN_USER)


def test_expired_nonce_gets_stale_and_the_client_retries_silently() -> None:
    srv = server(nonce_lifetime=60.0)
    cli = client()
    _, retry = round_trip(srv, cli, request())
    late = srv.verify(retry, T0 + 61)
    assert (late.ok, late.reason, late.stale) == (False, AuthReason.STALE_NONCE, True)
    stale_challenge = wire(srv.refuse(retry, late, T0 + 61))
    assert stale_challenge.headers["www_authenticate"][0].params["stale"] == "true"
    # The client answers a stale challenge even though it already sent credentials.
    third = wire(cli.authorize(retry, stale_challenge))
    assert third.headers["cseq"].seq == 3
    assert len(third.headers["authorization"]) == 1  # replaced, not added
    assert srv.verify(third, T0 + 62).ok


def test_stale_is_only_said_when_the_digest_was_right() -> None:
    srv = server(nonce_lifetime=60.0)
    _, retry = round_trip(srv, client(password="wrong"), request())
    verdict = srv.verify(retry, T0 + 61)
    assert (verdict.reason, verdict.stale) == (AuthReason.WRONG_RESPONSE, False)


def test_nonce_counts_grow_when_a_nonce_is_reused() -> None:
    srv = server()
    cli = client()
    challenge = wire(srv.challenge(request(), T0))
    first = wire(cli.authorize(request(), challenge))
    second = wire(cli.authorize(request(cseq=5), challenge))
    assert first.headers["authorization"][0].params["nc"] == "00000001"
    assert second.headers["authorization"][0].params["nc"] == "00000002"
    assert (
        first.headers["authorization"][0].params["cnonce"]
        != (second.headers["authorization"][0].params["cnonce"])
    )
    # Out of order is fine (two transactions in flight), each count once.
    assert srv.verify(second, T0).ok
    assert srv.verify(first, T0).ok
    assert not srv.verify(first, T0).ok


def test_no_credentials_missing_and_no_challenge() -> None:
    srv = server()
    assert srv.verify(request(), T0).reason is AuthReason.MISSING
    challenge = wire(srv.challenge(request(), T0))
    with pytest.raises(AuthError) as caught:
        DigestClient({"other.realm": UserCredentials("a", "b")}).authorize(request(), challenge)
    assert caught.value.reason is AuthReason.NO_CREDENTIALS
    ok = request().to_response(200)
    with pytest.raises(AuthError) as caught:
        client().authorize(request(), ok)
    assert caught.value.reason is AuthReason.NOT_A_CHALLENGE
    basic = request().to_response(401)
    basic.headers["www_authenticate"] = [Auth("Basic", {"realm": REALM})]
    with pytest.raises(AuthError) as caught:
        client().authorize(request(), wire(basic))
    assert caught.value.reason is AuthReason.NO_USABLE_CHALLENGE
    with pytest.raises(AuthError) as caught:
        client().authorize(request("CANCEL"), challenge)
    assert caught.value.reason is AuthReason.NOT_A_CHALLENGE


# -- choosing among challenges ---------------------------------------------------------


def challenge_response(*challenges: Challenge, proxy: bool = False) -> Message:
    answer = request().to_response(407 if proxy else 401)
    answer.headers["proxy_authenticate" if proxy else "www_authenticate"] = [
        c.to_auth() for c in challenges
    ]
    return wire(answer)


def test_the_strongest_algorithm_wins_whatever_the_order() -> None:
    offered = [
        Challenge(REALM, "n", Algorithm.MD5),
        Challenge(REALM, "n", Algorithm.SHA_512_256),
        Challenge(REALM, "n", Algorithm.SHA_256),
    ]
    for order in (offered, offered[::-1]):
        retry = client().authorize(request(), challenge_response(*order))
        (only,) = retry.headers["authorization"]
        assert only.params["algorithm"] == "SHA-512-256"


def test_unknown_algorithms_and_qops_are_skipped() -> None:
    unknown = Auth("Digest", {"realm": REALM, "nonce": "n", "algorithm": "SHA-1", "qop": "auth"})
    odd_qop = Auth("Digest", {"realm": REALM, "nonce": "n", "algorithm": "SHA-256", "qop": "x"})
    md5 = Challenge(REALM, "n", Algorithm.MD5).to_auth()
    answer = request().to_response(401)
    answer.headers["www_authenticate"] = [unknown, odd_qop, md5]
    retry = client().authorize(request(), wire(answer))
    assert retry.headers["authorization"][0].params["algorithm"] == "MD5"


def test_both_headers_and_credentials_per_realm() -> None:
    # A forking proxy gathered a proxy challenge and a UAS challenge in one 407.
    answer = request().to_response(407)
    answer.headers["proxy_authenticate"] = [
        Challenge("proxy.net", "pn", Algorithm.SHA_256).to_auth()
    ]
    answer.headers["www_authenticate"] = [Challenge(REALM, "un", Algorithm.MD5).to_auth()]
    cli = DigestClient(
        {REALM: UserCredentials("alice", "a-pw"), "proxy.net": UserCredentials("al", "p-pw")}
    )
    retry = wire(cli.authorize(request(), wire(answer)))
    (www,) = retry.headers["authorization"]
    (proxy,) = retry.headers["proxy_authorization"]
    assert (www.params["realm"], www.params["username"]) == (REALM, "alice")
    assert (proxy.params["realm"], proxy.params["username"]) == ("proxy.net", "al")


def test_credentials_for_other_realms_are_kept() -> None:
    req = request()
    req.headers["proxy_authorization"] = [
        Auth(
            "Digest",
            {
                "username": "x",
                "realm": "first.net",
                "nonce": "a",
                "uri": "sip:x",
                "response": "0" * 32,
            },
        )
    ]
    second = challenge_response(Challenge("second.net", "b", Algorithm.MD5), proxy=True)
    cli = DigestClient(default=UserCredentials("alice", "pw"))
    retry = wire(cli.authorize(req, second))
    assert [a.params["realm"] for a in retry.headers["proxy_authorization"]] == [
        "first.net",
        "second.net",
    ]


def test_opaque_is_returned_and_rfc2069_challenges_are_answered_without_qop() -> None:
    legacy = Challenge(
        REALM, "n", Algorithm.MD5, qop_options=(), opaque="op", algorithm_named=False
    )
    retry = wire(client().authorize(request(), challenge_response(legacy)))
    params = retry.headers["authorization"][0].params
    assert params["opaque"] == "op"
    assert not {"qop", "nc", "cnonce", "algorithm"} & set(params)


def test_rfc2069_credentials_only_when_allowed_and_then_once() -> None:
    strict, lenient = server(), server(allow_rfc2069=True, algorithms=[Algorithm.MD5])
    for srv in (strict, lenient):
        nonce = wire(srv.challenge(request(), T0)).headers["www_authenticate"][0].params["nonce"]
        legacy = Challenge(REALM, nonce, Algorithm.MD5, qop_options=(), algorithm_named=False)
        retry = wire(client().authorize(request(), challenge_response(legacy)))
        verdict = srv.verify(retry, T0)
        if srv is strict:
            assert verdict.reason is AuthReason.UNSUPPORTED
        else:
            assert verdict.ok
            assert srv.verify(retry, T0).reason is AuthReason.REPLAYED


def test_server_challenges_in_configured_order_with_one_nonce() -> None:
    srv = server()
    values = wire(srv.challenge(request(), T0)).headers["www_authenticate"]
    assert [v.params["algorithm"] for v in values] == ["SHA-256", "MD5"]
    assert len({v.params["nonce"] for v in values}) == 1
    assert all(v.params["qop"] == "auth" and v.params["realm"] == REALM for v in values)
    text = srv.challenge(request(), T0).to_bytes().decode()
    # RFC 3261 §22.4 / RFC 7616 §3.3: realm, nonce, qop quoted; algorithm a token.
    assert 'qop="auth"' in text and "algorithm=SHA-256," in text and f'realm="{REALM}"' in text


def test_a_downgrade_to_an_algorithm_not_offered_is_refused() -> None:
    srv = server(algorithms=[Algorithm.SHA_256])
    nonce = wire(srv.challenge(request(), T0)).headers["www_authenticate"][0].params["nonce"]
    md5 = challenge_response(Challenge(REALM, nonce, Algorithm.MD5))
    retry = wire(client().authorize(request(), md5))
    assert srv.verify(retry, T0).reason is AuthReason.UNSUPPORTED


# -- tampering: any single changed field fails --------------------------------------------


def authorized(qop: Qop = Qop.AUTH) -> tuple[DigestServer, Message]:
    srv = server(qop=[qop])
    _, retry = round_trip(srv, client(prefer_auth_int=True), request("INVITE", body="v=0\r\n"))
    return srv, retry


def with_credentials(message: Message, **changes: str) -> Message:
    changed = message.copy()
    auth = changed.headers["authorization"][0]
    changed.headers["authorization"] = [Auth(auth.scheme, {**auth.params, **changes})]
    return wire(changed)


FIELDS = {
    "username": st.just("bob"),
    "nonce": st.just(""),
    "uri": st.just("sip:other.example.com"),
    "response": st.text("0123456789abcdef", min_size=64, max_size=64),
    "cnonce": st.text("abcdefgh", min_size=1, max_size=8),
    "nc": st.integers(2, 2**32 - 1).map(lambda n: f"{n:08x}"),
    "algorithm": st.sampled_from(["MD5", "SHA-512-256", "SHA-256-sess"]),
    "qop": st.just("auth-int"),
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FIELDS)), st.data())
def test_any_changed_credential_field_fails(name: str, data: st.DataObject) -> None:
    srv, retry = authorized()
    value = data.draw(FIELDS[name])
    if name == "nonce":
        value = srv.nonces.make(T0)  # a genuine nonce, but not the one digested
    tampered = with_credentials(retry, **{name: value})
    verdict = srv.verify(tampered, T0)
    assert not verdict.ok, (name, value)
    assert srv.verify(retry, T0).ok  # the untouched request still passes


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["method", "body", "request_uri"]))
def test_a_changed_request_fails(part: str) -> None:
    srv, retry = authorized(Qop.AUTH_INT)
    changed = retry.copy()
    if part == "method":
        changed = Message.parse(retry.to_bytes().replace(b"INVITE", b"UPDATE"))
    elif part == "body":
        changed.body = b"v=1\r\n"
    else:
        changed = Message.parse(
            retry.to_bytes().replace(b"INVITE sip:registrar", b"INVITE sip:elsewhere", 1)
        )
    assert not srv.verify(wire(changed), T0).ok


def test_uri_check_can_be_turned_off_for_forwarded_requests() -> None:
    srv = server(check_uri=False)
    _, retry = round_trip(srv, client(), request())
    moved = Message.parse(
        retry.to_bytes().replace(b"REGISTER sip:registrar", b"REGISTER sip:r2", 1)
    )
    assert srv.verify(moved, T0).ok
    strict = server()
    verdict = strict.verify(wire(moved), T0)
    assert verdict.reason is AuthReason.URI_MISMATCH
    assert strict.refuse(moved, verdict, T0).start_line.status_code == 400  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "params",
    [
        {"username": "alice", "realm": REALM},  # no nonce, uri, response
        {
            "username": "alice",
            "realm": REALM,
            "nonce": "n",
            "uri": "sip:x",
            "response": "0",
            "qop": "auth",
        },  # qop without nc and cnonce
        {
            "username": "alice",
            "realm": REALM,
            "nonce": "n",
            "uri": "sip:x",
            "response": "0",
            "qop": "auth",
            "nc": "1",
            "cnonce": "c",
        },  # nc not 8 hex digits
        {
            "username": "alice",
            "realm": REALM,
            "nonce": "n",
            "uri": "sip:x",
            "response": "0",
            "cnonce": "c",
        },  # cnonce without qop
        {
            "username": "alice",
            "realm": REALM,
            "nonce": "n",
            "uri": "sip:x",
            "response": "0",
            "algorithm": "ROT13",
        },
        {
            "username": "alice",
            "realm": REALM,
            "nonce": "n",
            "uri": "sip:x",
            "response": "0",
            "qop": "auth",
            "nc": "00000000",  # counts start at 1
            "cnonce": "c",
        },
    ],
)
def test_malformed_credentials_get_400(params: dict[str, str]) -> None:
    srv = server()
    req = request()
    req.headers["authorization"] = [Auth("Digest", params)]
    verdict = srv.verify(wire(req), T0)
    assert verdict.reason is AuthReason.MALFORMED
    assert srv.refuse(req, verdict, T0).start_line.status_code == 400  # type: ignore[union-attr]


def test_credentials_for_another_realm_are_ignored_and_bad_nonce_refused() -> None:
    srv = server()
    _, retry = round_trip(srv, client(), request())
    other = with_credentials(retry, realm="elsewhere")
    assert srv.verify(other, T0).reason is AuthReason.MISSING
    forged = with_credentials(retry, nonce="AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert srv.verify(forged, T0).reason is AuthReason.BAD_NONCE


def test_credentials_value_round_trips() -> None:
    creds = Credentials(
        "alice", REALM, "n", "sip:x", "ab", Algorithm.SHA_256, Qop.AUTH, "0000000a", "c", "o"
    )
    assert Credentials.from_auth(creds.to_auth()) == creds
    assert replace(creds, algorithm_named=False).to_auth().params.get("algorithm") is None


# Usernames and realms are quoted strings on the wire (RFC 3261 §25.1 qdtext and quoted-pair:
# any UTF-8 text but control characters); passwords never travel.
QUOTABLE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x7f"),
    min_size=1,
    max_size=20,
)


@settings(max_examples=80, deadline=None)
@given(
    username=QUOTABLE,
    realm=QUOTABLE,
    password=st.text(max_size=30),
    algorithm=st.sampled_from(list(Algorithm)),
    qop=st.sampled_from(list(Qop)),
    body=st.binary(max_size=64),
)
def test_any_user_realm_and_password_agree_across_the_wire(
    username: str, realm: str, password: str, algorithm: Algorithm, qop: Qop, body: bytes
) -> None:
    store = Users()
    store.set_password(username, realm, password)
    srv = DigestServer(realm, store, KEY, algorithms=[algorithm], qop=[qop])
    req = request("MESSAGE")
    req.headers["content_type"] = (("application", "octet-stream"), {})
    req.body = body
    req = wire(req)
    cli = DigestClient({realm: UserCredentials(username, password)}, prefer_auth_int=True)
    retry = wire(cli.authorize(req, wire(srv.challenge(req, T0))))
    verdict = srv.verify(retry, T0)
    assert verdict.ok and verdict.username == username, verdict
    wrong = DigestClient(default=UserCredentials(username, password + "x"))
    bad = wire(wrong.authorize(req, wire(srv.challenge(req, T0))))
    assert srv.verify(bad, T0).reason is AuthReason.WRONG_RESPONSE


def test_two_proxies_of_one_realm_are_both_answered_and_each_finds_its_own() -> None:
    # RFC 3261 §22.3: a fork reached two proxies of one domain; each challenged with a
    # nonce of its own key, and the UAC answers both in one request.
    first = DigestServer(REALM, users(), KEY, proxy=True)
    second = DigestServer(REALM, users(), bytes(range(1, 33)), proxy=True)
    answer = request().to_response(407)
    answer.headers["proxy_authenticate"] = first.challenges(T0) + second.challenges(T0)
    retry = wire(client().authorize(request(), wire(answer)))
    sent = retry.headers["proxy_authorization"]
    assert [a.params["algorithm"] for a in sent] == ["SHA-256", "SHA-256"]
    assert len({a.params["nonce"] for a in sent}) == 2
    # Each proxy verifies the credentials made with its nonce, wherever they are listed.
    assert first.verify(retry, T0).ok
    assert second.verify(retry, T0).ok


def test_one_server_with_a_nonce_per_algorithm_gets_the_strongest_first() -> None:
    answer = challenge_response(
        Challenge(REALM, "md5-nonce", Algorithm.MD5),
        Challenge(REALM, "sha-nonce", Algorithm.SHA_256),
    )
    retry = client().authorize(request(), answer)
    assert [a.params["nonce"] for a in retry.headers["authorization"]] == [
        "sha-nonce",
        "md5-nonce",
    ]


def test_preauthorize_reuses_the_call_s_challenge_with_the_next_count() -> None:
    # RFC 3261 §22.3: later requests of the call (a REGISTER refresh, a BYE through an
    # authenticating proxy) carry credentials for the realms that challenged it.
    srv = server(proxy=True)
    cli = client()
    invite = request("INVITE")
    retry = wire(cli.authorize(invite, wire(srv.challenge(invite, T0))))
    assert srv.verify(retry, T0).ok
    bye = request("BYE", cseq=3)
    ahead = wire(cli.preauthorize(bye))
    (sent,) = ahead.headers["proxy_authorization"]
    assert sent.params["nc"] == "00000002"
    assert ahead.headers["cseq"].seq == 3  # a new request: its own CSeq and branch stay
    assert ahead.headers["via"][0].branch == bye.headers["via"][0].branch
    verdict = srv.verify(ahead, T0 + 10)
    assert verdict.ok, verdict
    # Another call, an ACK or a forgotten call get nothing.
    other = request("BYE")
    other.headers["call_id"] = "another-call"
    assert "proxy_authorization" not in cli.preauthorize(other).headers
    assert "proxy_authorization" not in cli.preauthorize(request("ACK")).headers
    cli.forget_call(bye.headers["call_id"])
    assert "proxy_authorization" not in cli.preauthorize(bye).headers


def test_preauthorize_after_expiry_gets_stale_and_recovers() -> None:
    srv = server(nonce_lifetime=30.0)
    cli = client()
    first = request()
    cli.authorize(first, wire(srv.challenge(first, T0)))
    refresh = wire(cli.preauthorize(request(cseq=3)))
    verdict = srv.verify(refresh, T0 + 31)
    assert (verdict.reason, verdict.stale) == (AuthReason.STALE_NONCE, True)
    renewed = wire(cli.authorize(refresh, wire(srv.refuse(refresh, verdict, T0 + 31))))
    assert srv.verify(renewed, T0 + 32).ok
    # The fresh challenge replaced the old one for the next refresh.
    assert srv.verify(wire(cli.preauthorize(request(cseq=5))), T0 + 33).ok


def test_remembered_calls_are_bounded() -> None:
    srv = server()
    cli = client(max_calls=2)
    for n in range(3):
        req = request()
        req.headers["call_id"] = f"call-{n}"
        cli.authorize(req, wire(srv.challenge(req, T0)))
    remembered = []
    for n in range(3):
        req = request()
        req.headers["call_id"] = f"call-{n}"
        remembered.append("authorization" in cli.preauthorize(req).headers)
    assert remembered == [False, True, True]


def test_refusing_an_accepted_request_is_an_error() -> None:
    srv = server()
    _, retry = round_trip(srv, client(), request())
    verdict = srv.verify(retry, T0)
    assert verdict.ok
    with pytest.raises(ValueError):
        srv.refuse(retry, verdict, T0)
