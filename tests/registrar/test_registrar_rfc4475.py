"""The RFC 4475 torture messages that a registrar must judge (tests/data/rfc4475/README.md):
unksm2 (400), regescrt, cparam01, cparam02 (200, the Contact kept as registered), regaut01
(200 without authentication; the hook's 401 with it)."""

from __future__ import annotations

from collections.abc import Callable

from sippet import Auth, Message
from sippet.registrar import Authenticated, RegistrarPolicy

from .conftest import FakeClock
from .sip import Desk, register, status

Torture = Callable[[str], bytes]
WATSON = "sip:watson@example.com"


def desk(clock: FakeClock, **options: object) -> Desk:
    return Desk(RegistrarPolicy.for_domains("example.com", **options), clock)


def fetch(d: Desk, aor: str) -> Message:
    return d.send(register([], to=aor, call_id="fetch@tester", cseq=1))


def test_unksm2_to_with_an_unknown_scheme_is_400(clock: FakeClock, rfc4475: Torture) -> None:
    d = desk(clock)
    response = d.send(Message.parse(rfc4475("unksm2")))
    assert status(response) == 400
    assert d.bindings == {}


def test_regescrt_keeps_the_escaped_route_header_of_the_contact(
    clock: FakeClock, rfc4475: Torture
) -> None:
    d = desk(clock)
    response = d.send(Message.parse(rfc4475("regescrt")))
    assert status(response) == 200
    (binding,) = d.live("sip:user@example.com")
    assert binding.contact.headers == {"Route": "<sip:sip.example.com>"}
    wire = bytes(fetch(d, "sip:user@example.com"))
    assert b"Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=" in wire


def test_cparam01_unknownparam_is_a_contact_parameter(clock: FakeClock, rfc4475: Torture) -> None:
    d = desk(clock)
    assert status(d.send(Message.parse(rfc4475("cparam01")))) == 200
    (binding,) = d.live(WATSON)
    assert binding.contact.parameters == {}
    assert binding.params == {"unknownparam": None}
    wire = bytes(fetch(d, WATSON))
    assert b"Contact: <sip:+19725552222@gw1.example.net>;unknownparam;expires=3600" in wire


def test_cparam02_unknownparam_is_a_uri_parameter(clock: FakeClock, rfc4475: Torture) -> None:
    d = desk(clock)
    assert status(d.send(Message.parse(rfc4475("cparam02")))) == 200
    (binding,) = d.live(WATSON)
    assert binding.contact.parameters == {"unknownparam": None}
    assert binding.params == {}
    wire = bytes(fetch(d, WATSON))
    assert b"Contact: <sip:+19725552222@gw1.example.net;unknownparam>;expires=3600" in wire


def test_regaut01_without_authentication_the_unknown_scheme_is_ignored(
    clock: FakeClock, rfc4475: Torture
) -> None:
    d = desk(clock)
    response = d.send(Message.parse(rfc4475("regaut01")))
    assert status(response) == 200


def test_regaut01_with_authentication_is_challenged_with_a_known_scheme(
    clock: FakeClock, rfc4475: Torture
) -> None:
    def digest_only(request: Message) -> Authenticated | Message:
        credentials = request.headers.get("authorization", [])
        if any(value.scheme.lower() == "digest" for value in credentials):
            return Authenticated("j.user")  # a real hook checks the response here
        challenge = request.to_response(401)
        challenge.headers["www_authenticate"] = [
            Auth("Digest", {"realm": "example.com", "nonce": "n1", "qop": "auth"})
        ]
        return challenge

    d = desk(clock, authenticate=digest_only)
    response = d.send(Message.parse(rfc4475("regaut01")))
    assert status(response) == 401
    assert [value.scheme for value in response.headers["www_authenticate"]] == ["Digest"]
    assert d.bindings == {}


def test_unksm2_with_authentication_is_challenged_first(clock: FakeClock, rfc4475: Torture) -> None:
    """§10.3 puts authentication (step 3) before the To check (step 5)."""
    d = desk(clock, authenticate=lambda request: request.to_response(401))
    assert status(d.send(Message.parse(rfc4475("unksm2")))) == 401
