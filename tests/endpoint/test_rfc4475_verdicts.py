"""Every RFC 4475 message through the endpoint pipeline of these blocks: parse (a
``ParseError`` is answered by ``response_to_unparsable``), validate (a
``ValidationError`` by ``error_response``), then the §8.2 checks. The status must be
what RFC 4475 prescribes for an endpoint (tests/data/rfc4475/README.md); ``None`` means
the request is accepted, or (for a response, or a request without a usable Via) that
nothing is sent.

Each message is validated for the transport its own top Via names, as if it had arrived
on it (RFC 4475 uses TCP and TLS Vias in messages meant for UDP tests).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sippet import Message, Method, ParseError, ValidationError
from sippet.endpoint.uas import UASPolicy, check_request
from sippet.responses import error_response, response_to_unparsable

# A UA that is not a registrar: INVITE, ACK, CANCEL, BYE, OPTIONS; SDP only.
ENDPOINT = UASPolicy()

VERDICTS: dict[str, int | None] = {
    # §3.1.1: valid; an endpoint that does not do REGISTER answers 405 (RFC 4475 §3.3.7
    # says so of regaut01), an unknown method 501 with Allow.
    "wsinv": None,
    "intmeth": 501,
    "esc01": None,
    "escnull": 405,
    "esc02": 501,
    "lwsdisp": None,
    "longreq": None,
    "dblreq": 405,
    "semiuri": None,
    "transports": None,
    "mpart01": 405,  # a MESSAGE (multipart/mixed); the policy test below takes it
    "unreason": None,  # responses: nothing to answer
    "noreason": None,
    # §3.1.2: malformed.
    "badinv01": None,  # its only Via does not parse: no usable Via, nowhere to answer
    "clerr": 400,
    "ncl": 400,
    "scalar02": 400,
    "scalarlg": None,  # a response: discarded
    "quotbal": 400,
    "ltgtruri": 400,
    "lwsruri": 400,
    "lwsstart": 400,
    "trws": 400,
    "escruri": 400,
    "baddate": 400,
    "regbadct": 400,
    "badaspec": 400,
    "baddn": 400,
    "badvers": 505,
    "mismatch01": 400,
    "mismatch02": 501,
    "bigcode": None,  # a response: dropped
    # §3.2, §3.3, §3.4.
    "badbranch": 400,
    "insuf": 400,
    "unkscm": 416,
    "novelsc": 416,
    "unksm2": 405,  # a REGISTER: not a registrar
    "bext01": 420,
    "invut": 415,
    "regaut01": 405,
    "multi01": 400,
    "mcl01": 400,
    "bcast": None,  # a response
    "zeromf": None,  # an endpoint ignores Max-Forwards 0
    "cparam01": 405,
    "cparam02": 405,
    "regescrt": 405,
    "sdp01": 406,
    "inv2543": None,
}


def endpoint_answer(data: bytes, policy: UASPolicy) -> int | None:
    """The status the endpoint sends for ``data``, or ``None`` (accepted / nothing sent)."""
    try:
        message = Message.parse(data)
    except ParseError as error:
        response = response_to_unparsable(error)
        return None if response is None else response.start_line[0]
    if message.is_response:
        return None
    transport = str(message.headers["via"][0].protocol) if message.headers.get("via") else None
    try:
        message.validate(transport)
    except ValidationError as error:
        response = error_response(message.headers, error.status_code, error.reason)
        return None if response is None else response.start_line[0]
    refusal = check_request(message, policy)
    return None if refusal is None else refusal.start_line[0]


def test_every_message_has_a_verdict(rfc4475_dir: Path) -> None:
    # test.dat has no section in RFC 4475, so no verdict.
    names = {path.stem for path in rfc4475_dir.glob("*.dat")} - {"test"}
    assert names == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_endpoint_verdict(rfc4475: Callable[[str], bytes], name: str) -> None:
    assert endpoint_answer(rfc4475(name), ENDPOINT) == VERDICTS[name]


def test_a_registrar_and_messaging_ua_accepts_what_it_supports(
    rfc4475: Callable[[str], bytes],
) -> None:
    policy = UASPolicy(
        methods=(Method.REGISTER, Method.MESSAGE, Method.OPTIONS, Method.ACK),
        content_types={"multipart/mixed", "text/plain", "application/sdp"},
    )
    for name in ("escnull", "dblreq", "cparam01", "cparam02", "regescrt", "unksm2", "mpart01"):
        assert endpoint_answer(rfc4475(name), policy) is None, name
    # regaut01's unknown Authorization scheme is the auth layer's business (401 with a
    # scheme it knows); the §8.2 checks let it through.
    assert endpoint_answer(rfc4475("regaut01"), policy) is None
