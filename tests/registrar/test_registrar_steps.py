"""RFC 3261 §10.3, step by step, on the pure registrar core and a fake clock."""

from __future__ import annotations

import datetime

import pytest
from sippet import Auth, Message
from sippet.registrar import (
    Authenticated,
    Forward,
    NotOurDomain,
    PathPolicy,
    Registrar,
    RegistrarPolicy,
    Source,
    aor_key,
)
from sippet.uri import URI

from .conftest import FakeClock
from .sip import ALICE, DOMAIN, Desk, contact_expiries, register, status

UA = "<sip:alice@192.0.2.10:5060>"


def desk(clock: FakeClock, **options: object) -> Desk:
    return Desk(RegistrarPolicy.for_domains(DOMAIN, **options), clock)


# -- step 1: the domain ------------------------------------------------------------------


def test_step1_request_uri_scheme_it_cannot_serve_is_416(clock: FakeClock) -> None:
    response = desk(clock).send(register([UA], request_uri="tel:+15551234"))
    assert status(response) == 416


def test_step1_other_domain_is_404(clock: FakeClock) -> None:
    d = desk(clock)
    response = d.send(register([UA], request_uri="sip:elsewhere.net"))
    assert status(response) == 404
    assert d.bindings == {}


def test_step1_other_domain_forwarded_when_the_policy_says_so(clock: FakeClock) -> None:
    policy = RegistrarPolicy.for_domains(DOMAIN, not_our_domain=NotOurDomain.FORWARD)
    request = register([UA], request_uri="sip:elsewhere.net")
    outcome = Registrar(policy).receive(request)
    assert outcome == Forward(request)


def test_step1_domain_compares_case_insensitively(clock: FakeClock) -> None:
    response = desk(clock).send(register([UA], request_uri="sip:EXAMPLE.com"))
    assert status(response) == 200


# -- step 2: Require, and Path consent -----------------------------------------------------


def test_step2_unknown_require_is_420_listing_only_the_unsupported_tags(
    clock: FakeClock,
) -> None:
    d = desk(clock)
    response = d.send(register([UA], extra=["Require: path, foo, bar", "Supported: path"]))
    assert status(response) == 420
    assert response.headers["unsupported"] == ["foo", "bar"]
    assert d.bindings == {}


def test_step2_path_without_ua_support_is_420_unsupported_path(clock: FakeClock) -> None:
    d = desk(clock)
    response = d.send(register([UA], extra=["Path: <sip:edge.example.com;lr>"]))
    assert status(response) == 420
    assert response.headers["unsupported"] == ["path"]
    assert d.bindings == {}


def test_step2_path_without_ua_support_accepted_by_policy_is_stored_not_echoed(
    clock: FakeClock,
) -> None:
    d = desk(clock, path_policy=PathPolicy.ACCEPT)
    response = d.send(register([UA], extra=["Path: <sip:edge.example.com;lr>"]))
    assert status(response) == 200
    assert "path" not in response.headers
    (binding,) = d.live()
    assert [str(value.uri) for value in binding.path] == ["sip:edge.example.com;lr"]


def test_step2_path_with_support_is_stored_in_order_and_echoed(clock: FakeClock) -> None:
    d = desk(clock)
    path = ["Path: <sip:p1.example.com;lr>", "Path: <sip:p2.example.net;lr>"]
    response = d.send(register([UA], extra=[*path, "Supported: path"]))
    assert status(response) == 200
    expected = ["sip:p1.example.com;lr", "sip:p2.example.net;lr"]
    assert [str(value.uri) for value in response.headers["path"]] == expected
    assert b"Path: <sip:p1.example.com;lr>, <sip:p2.example.net;lr>\r\n" in bytes(response)
    (binding,) = d.live()
    assert [str(value.uri) for value in binding.path] == expected


# -- steps 3 and 4: the hooks ------------------------------------------------------------------


def _challenge(request: Message) -> Message:
    response = request.to_response(401)
    response.headers["www_authenticate"] = [
        Auth("Digest", {"realm": DOMAIN, "nonce": "abc", "algorithm": "SHA-256"})
    ]
    return response


def test_step3_authentication_hook_challenge_is_sent_and_nothing_stored(
    clock: FakeClock,
) -> None:
    seen: list[Message] = []

    def authenticate(request: Message) -> Message:
        seen.append(request)
        return _challenge(request)

    d = desk(clock, authenticate=authenticate)
    request = register([UA])
    response = d.send(request)
    assert seen == [request]
    assert status(response) == 401
    assert response.headers["www_authenticate"][0].scheme == "Digest"
    assert d.bindings == {}


def test_step3_hook_acceptance_lets_the_registration_through(clock: FakeClock) -> None:
    d = desk(clock, authenticate=lambda request: Authenticated("alice"))
    assert status(d.send(register([UA]))) == 200
    assert len(d.live()) == 1


def test_step3_a_hook_returning_a_request_is_the_applications_mistake(clock: FakeClock) -> None:
    d = desk(clock, authenticate=lambda request: request)
    with pytest.raises(TypeError):
        d.send(register([UA]))


def test_step4_authorization_refused_is_403_and_sees_identity_and_aor(clock: FakeClock) -> None:
    asked: list[tuple[str | None, str]] = []

    def authorize(identity: str | None, aor: URI) -> bool:
        asked.append((identity, str(aor)))
        return identity == "alice"

    d = desk(clock, authenticate=lambda request: Authenticated("mallory"), authorize=authorize)
    response = d.send(register([UA]))
    assert status(response) == 403
    assert asked == [("mallory", ALICE)]
    assert d.bindings == {}


# -- step 5: the AOR -----------------------------------------------------------------------


def test_step5_to_not_sip_is_400(clock: FakeClock) -> None:
    response = desk(clock).send(register([UA], to="tel:+15551234"))
    assert status(response) == 400


def test_step5_aor_of_another_domain_is_404(clock: FakeClock) -> None:
    response = desk(clock).send(register([UA], to="sip:alice@elsewhere.net"))
    assert status(response) == 404


def test_step5_aor_is_indexed_in_canonical_form(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA], to="sip:alice@EXAMPLE.COM;user=ip"))
    assert list(d.bindings) == [ALICE]
    assert aor_key(URI.parse("sips:%61lice@Example.com;transport=tcp?x=y")) == (
        "sips:alice@example.com"
    )


# -- step 6: Contact: * ----------------------------------------------------------------------


def test_step6_star_needs_expires_zero(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA], cseq=1))
    assert status(d.send(register(["*"], cseq=2))) == 400
    assert status(d.send(register(["*"], cseq=3, expires=5))) == 400
    assert len(d.live()) == 1


def test_step6_star_removes_every_binding(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA, "<sip:alice@198.51.100.7>"], cseq=1))
    assert len(d.live()) == 2
    response = d.send(register(["*"], cseq=2, expires=0))
    assert status(response) == 200
    assert "contact" not in response.headers
    assert d.live() == ()


def test_step6_star_with_a_stale_cseq_of_the_same_call_id_fails_and_keeps_all(
    clock: FakeClock,
) -> None:
    d = desk(clock)
    d.send(register([UA], cseq=5))
    response = d.send(register(["*"], cseq=5, expires=0))
    assert status(response) == 400
    assert len(d.live()) == 1


def test_step6_star_from_another_call_id_removes_whatever_its_cseq(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA], cseq=50))
    response = d.send(register(["*"], call_id="other@host", cseq=1, expires=0))
    assert status(response) == 200
    assert d.live() == ()


# -- step 7: each contact ----------------------------------------------------------------------


def test_step7_expiry_from_parameter_else_header_else_default(clock: FakeClock) -> None:
    d = desk(clock, default_expires=1800)
    response = d.send(register(["<sip:a@h1>;expires=120", "<sip:a@h2>"], expires=600))
    assert contact_expiries(response) == {"sip:a@h1": 120, "sip:a@h2": 600}
    response = d.send(register(["<sip:a@h3>"], cseq=2))
    assert contact_expiries(response)["sip:a@h3"] == 1800


def test_step7_too_brief_is_423_with_min_expires(clock: FakeClock) -> None:
    d = desk(clock, min_expires=60)
    response = d.send(register(["<sip:a@h1>;expires=3600", "<sip:a@h2>;expires=59"]))
    assert status(response) == 423
    assert response.headers["min_expires"] == 60
    assert d.bindings == {}


def test_step7_zero_is_a_removal_not_a_423(clock: FakeClock) -> None:
    d = desk(clock, min_expires=60)
    d.send(register([UA], cseq=1))
    response = d.send(register([UA + ";expires=0"], cseq=2))
    assert status(response) == 200
    assert d.live() == ()


def test_step7_long_requests_are_shortened_to_the_maximum(clock: FakeClock) -> None:
    d = desk(clock, max_expires=7200)
    response = d.send(register(["<sip:a@h1>;expires=99999999999999999999999"]))
    assert contact_expiries(response) == {"sip:a@h1": 7200}


@pytest.mark.parametrize("param", ["expires=soon", "expires", "q=2", "q=0.1234", "q"])
def test_step7_malformed_expires_or_q_is_400(clock: FakeClock, param: str) -> None:
    d = desk(clock)
    assert status(d.send(register([f"{UA};{param}"]))) == 400
    assert d.bindings == {}


def test_step7_refresh_with_a_higher_cseq_updates_the_binding(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA + ";expires=600"], cseq=1))
    clock.advance(500)
    response = d.send(register([UA + ";expires=600"], cseq=2))
    assert contact_expiries(response) == {"sip:alice@192.0.2.10:5060": 600}
    (binding,) = d.live()
    assert binding.cseq == 2


@pytest.mark.parametrize("cseq", [3, 2])
def test_step7_same_call_id_with_a_cseq_not_higher_fails_and_changes_nothing(
    clock: FakeClock, cseq: int
) -> None:
    d = desk(clock)
    d.send(register([UA + ";expires=600"], cseq=3))
    before = d.live()
    response = d.send(register([UA + ";expires=0", "<sip:new@h>"], cseq=cseq))
    assert status(response) == 400
    assert d.live() == before


def test_step7_another_call_id_updates_whatever_its_cseq(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA], cseq=40))
    response = d.send(register([UA + ";expires=300"], call_id="rebooted@h", cseq=1))
    assert contact_expiries(response) == {"sip:alice@192.0.2.10:5060": 300}
    assert d.live()[0].call_id == "rebooted@h"


def test_step7_bindings_match_by_uri_equivalence(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register(["<sip:bob@HOST.example:5060>"], cseq=1))
    d.send(register(["<sip:bob@host.example:5060>;expires=100"], cseq=2))
    assert [b.expires_at - clock.now for b in d.live()] == [100]
    # RFC 3261 §19.1.4: an absent port is not 5060, so this one is a second binding.
    d.send(register(["<sip:bob@host.example>"], cseq=3))
    assert len(d.live()) == 2


def test_step7_q_values_are_kept_and_listed(clock: FakeClock) -> None:
    d = desk(clock)
    response = d.send(register(["<sip:a@h1>;q=0.5", "<sip:a@h2>;q=1.0", "<sip:a@h3>"]))
    qs = {str(value.uri): value.params.get("q") for value in response.headers["contact"]}
    assert qs == {"sip:a@h1": "0.5", "sip:a@h2": "1", "sip:a@h3": None}
    assert [b.q for b in d.live()] == [0.5, 1.0, None]


def test_step7_too_many_bindings_is_403_and_nothing_written(clock: FakeClock) -> None:
    d = desk(clock, max_bindings=2)
    d.send(register(["<sip:a@h1>", "<sip:a@h2>"], cseq=1))
    response = d.send(register(["<sip:a@h3>"], cseq=2))
    assert status(response) == 403
    assert [str(b.contact) for b in d.live()] == ["sip:a@h1", "sip:a@h2"]
    assert status(d.send(register([f"<sip:a@h{i}>" for i in range(5)], cseq=3))) == 403


def test_step7_a_contact_listed_twice_takes_its_last_value(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register([UA + ";expires=100", UA + ";expires=200"]))
    (binding,) = d.live()
    assert binding.expires_at == clock.now + 200


# -- step 8: the 200 --------------------------------------------------------------------------


def test_step8_lists_every_binding_with_its_remaining_expiry_and_a_date(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register(["<sip:a@h1>;expires=3600"], cseq=1))
    clock.advance(1000)
    response = d.send(register(["<sip:a@h2>;expires=600"], cseq=2))
    assert contact_expiries(response) == {"sip:a@h1": 2600, "sip:a@h2": 600}
    assert response.headers["date"] == datetime.datetime.fromtimestamp(
        int(clock.now), tz=datetime.UTC
    )
    assert "tag" in response.headers["to"].params


def test_step8_a_fetch_lists_without_changing(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register(["<sip:a@h1>;expires=100"], cseq=1))
    before = d.live()
    clock.advance(40)
    response = d.send(register([], cseq=2))
    assert contact_expiries(response) == {"sip:a@h1": 60}
    assert d.live() == before


def test_expired_bindings_are_gone_without_any_sweep(clock: FakeClock) -> None:
    d = desk(clock)
    d.send(register(["<sip:a@h1>;expires=100", "<sip:a@h2>;expires=200"]))
    clock.advance(100)
    response = d.send(register([], cseq=2))
    assert contact_expiries(response) == {"sip:a@h2": 100}


def test_record_route_of_a_register_is_ignored(clock: FakeClock) -> None:
    response = desk(clock).send(register([UA], extra=["Record-Route: <sip:rr.example.com;lr>"]))
    assert status(response) == 200
    assert "record_route" not in response.headers


def test_source_instance_and_reg_id_are_kept(clock: FakeClock) -> None:
    d = desk(clock)
    source = Source("TCP", "203.0.113.5", 40123, "conn-7")
    contact = UA + ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1'
    response = d.send(register([contact]), source=source)
    (binding,) = d.live()
    assert binding.source == source
    assert binding.instance_id == "urn:uuid:00000000-0000-1000-8000-000A95A0E128"
    assert binding.reg_id == 1
    assert b'+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"' in bytes(response)


def test_only_register_is_taken(clock: FakeClock) -> None:
    options = Message.parse(bytes(register([UA])).replace(b"REGISTER", b"OPTIONS"))
    with pytest.raises(ValueError):
        Registrar(RegistrarPolicy.for_domains(DOMAIN)).receive(options)


@pytest.mark.parametrize(
    "options",
    [
        {"min_expires": 3601},
        {"max_expires": 30, "min_expires": 60},
        {"default_expires": 10},
        {"max_bindings": 0},
    ],
)
def test_policy_refuses_inconsistent_bounds(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        RegistrarPolicy.for_domains(DOMAIN, **options)
