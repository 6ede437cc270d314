"""REGISTER requests written as text, and a pure driver of the registrar on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sippet import Message
from sippet.registrar import Binding, Registrar, RegistrarPolicy, Registration, Reply, Source
from sippet.registrar.store import live

DOMAIN = "example.com"
ALICE = "sip:alice@example.com"
SOURCE = Source("UDP", "192.0.2.10", 5060)


def register(
    contacts: Sequence[str] = (),
    *,
    to: str = ALICE,
    request_uri: str = f"sip:{DOMAIN}",
    call_id: str = "call-1@192.0.2.10",
    cseq: int = 1,
    expires: int | None = None,
    extra: Sequence[str] = (),
) -> Message:
    """A REGISTER for ``to`` with one Contact line per item of ``contacts`` (written as
    given: ``"<sip:a@h>;expires=60"`` or ``"*"``), and any ``extra`` header lines."""
    lines = [
        f"REGISTER {request_uri} SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-reg-" + str(cseq),
        "Max-Forwards: 70",
        f"To: <{to}>",
        f"From: <{to}>;tag=f1",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        *(f"Contact: {contact}" for contact in contacts),
        *([f"Expires: {expires}"] if expires is not None else []),
        *extra,
        "Content-Length: 0",
    ]
    return Message.parse("\r\n".join(lines) + "\r\n\r\n")


class Desk:
    """The registrar core with bindings in a dict, driven by hand on a fake clock: what a
    store does, without one, so that the §10.3 rules are tested alone."""

    def __init__(self, policy: RegistrarPolicy, clock: Callable[[], float]) -> None:
        self.registrar = Registrar(policy)
        self.clock = clock
        self.bindings: dict[str, tuple[Binding, ...]] = {}

    def send(self, request: Message, source: Source | None = SOURCE) -> Message:
        outcome = self.registrar.receive(request, source)
        if isinstance(outcome, Reply):
            return outcome.response
        assert isinstance(outcome, Registration), outcome
        now = self.clock()
        new, result = outcome.apply(live(self.bindings.get(outcome.aor, ()), now), now)
        if new is not None:
            self.bindings[outcome.aor] = tuple(new)
        return outcome.respond(result)

    def live(self, aor: str = ALICE) -> tuple[Binding, ...]:
        return live(self.bindings.get(aor, ()), self.clock())


def status(response: Message) -> int:
    start = response.start_line
    assert not isinstance(start, str)
    code = getattr(start, "status_code", None)
    assert isinstance(code, int), start
    return code


def contact_expiries(response: Message) -> dict[str, int]:
    """Contact URI text -> its ``expires`` in a 200."""
    return {
        str(value.uri): int(value.params["expires"])
        for value in response.headers.get("contact", [])
    }
