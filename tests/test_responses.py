"""sippet.responses: the one RFC 3261 §8.2.6 response builder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sippet import (
    URI,
    CSeq,
    Message,
    Method,
    NameAddr,
    ParseError,
    RequestLine,
    SentBy,
    Timestamp,
    Via,
)
from sippet.errors import ValidationError
from sippet.headers import Unparsed
from sippet.message import response_from_headers as message_response_from_headers
from sippet.responses import (
    error_response,
    response_from_headers,
    response_to,
    response_to_unparsable,
    trying,
)
from sippet.transactions.build import build_trying

DATA = Path(__file__).parent / "data" / "rfc4475"


def read_back(message: Message) -> Message:
    """``message`` serialized and parsed again, less the Content-Length the wire adds."""
    parsed = Message.parse(bytes(message))
    assert parsed.headers.pop("content_length") == len(message.body)
    return parsed


def torture(name: str) -> bytes:
    return (DATA / f"{name}.dat").read_bytes()


def request(method: Method | str = Method.INVITE, **extra: Any) -> Message:
    headers: dict[str, Any] = {
        "via": [
            Via((2, 0), "UDP", SentBy("proxy.example.com", None), {"branch": "z9hG4bKp1"}),
            Via((2, 0), "TCP", SentBy("uac.example.com", 5070), {"branch": "z9hG4bKu1"}),
        ],
        "max_forwards": 69,
        "from": NameAddr("Alice", URI("sip", user="alice", host="a.example"), {"tag": "f1"}),
        "to": NameAddr("", URI("sip", user="bob", host="b.example"), {}),
        "call_id": "call-1@a.example",
        "cseq": CSeq(7, method),
        "contact": [NameAddr("", URI("sip", user="alice", host="10.0.0.1"), {})],
        "record_route": [
            NameAddr("", URI("sip", host="p1.example", parameters={"lr": None}), {}),
            NameAddr("", URI("sip", host="p2.example", parameters={"lr": None}), {}),
        ],
        **extra,
    }
    return Message(RequestLine(method, URI("sip", user="bob", host="b.example")), headers)


# -- the §8.2.6.2 copies ---------------------------------------------------------------------


def test_copies_via_from_call_id_cseq_and_tags_to() -> None:
    invite = request()
    response = response_to(invite, 486)
    assert response.start_line == (486, "Busy Here", (2, 0))
    assert list(response.headers) == ["via", "from", "to", "call_id", "cseq"]
    for key in ("via", "from", "call_id", "cseq"):
        assert response.headers[key] == invite.headers[key]
    to = response.headers["to"]
    assert to.uri == invite.headers["to"].uri
    assert len(to.params["tag"]) >= 8
    # Nothing else is copied: Contact, Max-Forwards and Record-Route stay behind.
    assert "contact" not in response.headers and "max_forwards" not in response.headers


def test_copies_are_independent_unless_shared() -> None:
    invite = request()
    response = response_to(invite, 200)
    response.headers["via"][0].params["received"] = "192.0.2.1"
    assert "received" not in invite.headers["via"][0].params
    shared = response_to(invite, 200, share=True)
    assert shared.headers["via"] is not invite.headers["via"]  # the list is new
    assert shared.headers["via"][0] is invite.headers["via"][0]  # its values are not
    assert shared.headers["from"] is invite.headers["from"]


def test_one_to_tag_for_every_response_and_none_for_100() -> None:
    invite = request(timestamp=Timestamp(54.5, None))
    ringing = response_to(invite, 180, to_tag="t1")
    ok = response_to(invite, 200, to_tag="t1")
    assert ringing.headers["to"].params == ok.headers["to"].params == {"tag": "t1"}
    hundred = response_to(invite, 100)
    assert "tag" not in hundred.headers["to"].params
    # §8.2.6.1: Timestamp only into a 100.
    assert hundred.headers["timestamp"] == Timestamp(54.5, None)
    assert "timestamp" not in ok.headers
    # A To that already has a tag (a request within a dialog) keeps it.
    in_dialog = request()
    in_dialog.headers["to"] = in_dialog.headers["to"]._replace(params={"tag": "old"})
    assert response_to(in_dialog, 200, to_tag="new").headers["to"].params == {"tag": "old"}


@pytest.mark.parametrize("method", ["INVITE", "SUBSCRIBE", "NOTIFY", "REFER"])
def test_record_route_in_responses_that_can_create_a_dialog(method: str) -> None:
    # RFC 3261 §12.1.1; RFC 6665 §4.1.2.4, §4.2.1; RFC 3515 §2.4.4.
    req = request(Method(method))
    for status in (101, 180, 200, 202, 299):
        rr = response_to(req, status).headers["record_route"]
        assert rr == req.headers["record_route"]  # in order
    for status in (100, 300, 486, 603):
        assert "record_route" not in response_to(req, status).headers


@pytest.mark.parametrize("method", ["OPTIONS", "BYE", "REGISTER", "MESSAGE", "UPDATE", "FOO"])
def test_no_record_route_for_methods_that_create_no_dialog(method: str) -> None:
    req = request(Method(method) if method != "FOO" else "FOO")
    assert "record_route" not in response_to(req, 200).headers


def test_extra_headers_are_added_and_win() -> None:
    req = request(Method.OPTIONS)
    allow = [Method.INVITE, Method.ACK]
    response = response_to(req, 405, extra={"allow": allow, "server": "x/1"})
    assert response.headers["allow"] == allow
    assert response.headers["server"] == "x/1"
    tagged = req.headers["to"]._replace(params={"tag": "mine"})
    assert response_to(req, 200, extra={"to": tagged}).headers["to"] is tagged


def test_refusals() -> None:
    req = request()
    ok = response_to(req, 200)
    with pytest.raises(ValueError, match="answers a request"):
        response_to(ok, 200)
    ack = request(Method.ACK)
    with pytest.raises(ValueError, match="never answered"):
        response_to(ack, 200)
    for bad in (99, 700, 0):
        with pytest.raises(ValueError):
            response_to(req, bad)


def test_message_api_uses_the_builder() -> None:
    req = request(timestamp=Timestamp(1.0, 0.5))
    assert req.to_response(183, to_tag="x") == response_to(req, 183, to_tag="x")
    assert req.to_response(100) == response_to(req, 100)
    assert message_response_from_headers(req.headers, 200, to_tag="y", method="INVITE") == (
        response_from_headers(req.headers, 200, to_tag="y", method="INVITE")
    )
    # Without method, the CSeq method decides about Record-Route.
    assert "record_route" in response_from_headers(req.headers, 200).headers


def test_trying_is_the_builders_100_sharing_the_request_values() -> None:
    req = request(timestamp=Timestamp(3.25, None))
    hundred = trying(req)
    assert hundred == response_to(req, 100)
    assert build_trying(req) == hundred
    assert hundred.start_line.reason_phrase == "Trying"
    assert hundred.headers["from"] is req.headers["from"]
    assert "record_route" not in hundred.headers


def test_response_to_an_rfc2543_request_validates_and_round_trips() -> None:
    # RFC 4475 §3.4.1 inv2543: no From tag. Its responses must go out (validation allows
    # the untagged From they copy) and carry a To tag.
    invite = Message.parse(torture("inv2543"))
    for status in (100, 180, 200, 486):
        response = response_to(invite, status, to_tag="t")
        response.validate()
        assert read_back(response) == response
    assert (
        response_to(invite, 200, to_tag="t").headers["record_route"]
        == (invite.headers["record_route"])
    )


# -- requests that did not parse (RFC 4475 §3.1.2) ----------------------------------------

ABC_CSEQ = (
    b"OPTIONS sip:uas@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKabc\r\n"
    b"From: <sip:a@example.com>;tag=9\r\nTo: <sip:uas@example.com>\r\n"
    b"Call-ID: abc-cseq\r\nCSeq: abc OPTIONS\r\nContent-Length: 0\r\n\r\n"
)

MALFORMED = {
    # name: (bytes, reason, {header key: raw text copied})
    "scalar02": (
        torture("scalar02"),
        "value_out_of_range",
        {"cseq": "36893488147419103232 REGISTER"},
    ),
    "quotbal": (
        torture("quotbal"),
        "unclosed_qstring",
        {"to": '"Mr. J. User <sip:j.user@example.com>'},
    ),
    "badaspec": (
        torture("badaspec"),
        "invalid_uri",
        {"to": '"Watson, Thomas" < sip:t.watson@example.org >'},
    ),
    "baddn": (
        torture("baddn"),
        "invalid_uri",
        {
            "from": "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "to": "Watson, Thomas <sip:t.watson@example.org>",
        },
    ),
    "abc-cseq": (ABC_CSEQ, "invalid_header", {"cseq": "abc OPTIONS"}),
}

WIRE_NAMES = {"from": "From", "to": "To", "call_id": "Call-ID", "cseq": "CSeq"}


def parse_error(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        Message.parse(data)
    return info.value


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_request_gets_400_with_the_raw_fields_copied(name: str) -> None:
    data, reason, raw = MALFORMED[name]
    error = parse_error(data)
    assert error.reason == reason
    assert error.reply_raw == raw
    response = response_to_unparsable(error)
    assert response is not None
    assert response.start_line.status_code == 400
    assert response.start_line.reason_phrase == f"Bad Request ({reason})"
    # §8.2.6.2: all five header fields are there, the unparsed ones as they came.
    assert set(response.headers) == {"via", "from", "to", "call_id", "cseq"}
    for key, text in raw.items():
        assert response.headers[key] == Unparsed(text)
    wire = bytes(response)
    lines = wire.split(b"\r\n")
    for key, text in raw.items():
        assert f"{WIRE_NAMES[key]}: {text}".encode() in lines
    # The response reads back: what parsed as the typed values it holds, and the raw
    # lines make the parser stop exactly where the request's own text did.
    with pytest.raises(ParseError) as again:
        Message.parse(wire)
    assert again.value.header in raw
    typed_only = b"\r\n".join(
        line
        for line in lines
        if not any(line == f"{WIRE_NAMES[k]}: {t}".encode() for k, t in raw.items())
    )
    parsed = Message.parse(typed_only)
    assert parsed.start_line == response.start_line
    for key, value in response.headers.items():
        if key not in raw:
            assert parsed.headers[key] == value


def test_malformed_request_keeps_its_to_tag_rule() -> None:
    # A To that parsed gets the tag (§8.2.6.2); a raw one is left as it came.
    error = parse_error(torture("scalar02"))
    response = response_to_unparsable(error, to_tag="t2")
    assert response is not None
    assert response.headers["to"].params == {"tag": "t2"}
    quotbal = response_to_unparsable(parse_error(torture("quotbal")), to_tag="t2")
    assert quotbal is not None and "tag" not in quotbal.headers["to"].text


def test_other_statuses_and_the_phrase() -> None:
    too_large = ParseError(
        "too large",
        reason="message_too_large",
        status_code=513,
        reply_headers=Message.parse(ABC_CSEQ.replace(b"abc", b"1")).headers,
    )
    response = response_to_unparsable(too_large, phrase_reason=False)
    assert response is not None and response.start_line[:2] == (513, "Message Too Large")
    badvers = response_to_unparsable(parse_error(torture("badvers")))
    assert badvers is not None and badvers.start_line.status_code == 505


def test_no_answer_without_a_top_via_or_to_an_ack() -> None:
    no_via = parse_error(ABC_CSEQ.replace(b"Via: SIP/2.0/UDP 192.0.2.7:5060", b"Via: junk junk"))
    assert no_via.reply_raw == {"cseq": "abc OPTIONS"}
    assert response_to_unparsable(no_via) is None
    # The core keeps nothing for an ACK (RFC 3261 §17: never answered).
    ack = ABC_CSEQ.replace(b"OPTIONS sip", b"ACK sip").replace(b"abc OPTIONS", b"abc ACK")
    error = parse_error(ack)
    assert error.reply_headers is None and error.reply_raw is None
    assert response_to_unparsable(error) is None
    # A CSeq saying ACK, typed or raw, is not answered either.
    via = Message.parse(ABC_CSEQ.replace(b"abc", b"1")).headers["via"]
    assert (
        response_to_unparsable(
            ParseError(
                "x", reason="invalid_uri", reply_headers={"via": via, "cseq": CSeq(1, "ACK")}
            )
        )
        is None
    )
    assert (
        response_to_unparsable(
            ParseError(
                "x", reason="invalid_uri", reply_headers={"via": via}, reply_raw={"cseq": "x ACK"}
            )
        )
        is None
    )


def test_error_response_for_a_request_that_failed_validation() -> None:
    # RFC 4475 §3.3.1 insuf: no Call-ID, From or To: still answered 400, with what is there.
    insuf = Message.parse(torture("insuf"))
    with pytest.raises(ValidationError) as info:
        insuf.validate("UDP")
    response = error_response(insuf.headers, info.value.status_code, info.value.reason)
    assert response is not None
    assert response.start_line[:2] == (400, "Bad Request (missing_header)")
    assert set(response.headers) == {"via", "cseq"}
    assert read_back(response) == response
    # mismatch02: 501.
    mismatch = Message.parse(torture("mismatch02"))
    with pytest.raises(ValidationError) as info:
        mismatch.validate("UDP")
    response = error_response(mismatch.headers, info.value.status_code, "")
    assert response is not None and response.start_line[:2] == (501, "Not Implemented")
    # Not answered: an ACK, or no Via.
    ack = Message.parse(
        ABC_CSEQ.replace(b"abc OPTIONS", b"1 ACK").replace(b"OPTIONS sip", b"ACK sip")
    )
    assert error_response(ack.headers, 400, "x") is None
    assert error_response({"cseq": CSeq(1, Method.OPTIONS)}, 400, "x") is None


def test_unparsed_values_are_written_as_one_clean_line() -> None:
    response = Message.build_response(400)
    response.headers["call_id"] = Unparsed("not a call id")
    assert b"\r\nCall-ID: not a call id\r\n" in bytes(response)
    for bad in ("a\r\nVia: SIP/2.0/UDP evil", "a\nb", " padded", "padded\t"):
        response.headers["call_id"] = Unparsed(bad)
        with pytest.raises(ValueError):
            bytes(response)


# -- the rules for any request ---------------------------------------------------------------

METHODS = ["INVITE", "SUBSCRIBE", "NOTIFY", "REFER", "OPTIONS", "BYE", "UPDATE", "NEWMETHOD"]


@given(
    method=st.sampled_from(METHODS),
    status=st.integers(100, 699),
    present=st.sets(
        st.sampled_from(["via", "from", "to", "call_id", "cseq", "record_route", "timestamp"])
    ),
    to_tagged=st.booleans(),
    to_tag=st.none() | st.sampled_from(["t1", "x"]),
    share=st.booleans(),
)
def test_builder_rules_hold_for_any_request(
    method: str,
    status: int,
    present: set[str],
    to_tagged: bool,
    to_tag: str | None,
    share: bool,
) -> None:
    req = request(
        Method(method) if method != "NEWMETHOD" else method, timestamp=Timestamp(2.5, None)
    )
    if to_tagged:
        req.headers["to"] = req.headers["to"]._replace(params={"tag": "old"})
    for key in {"via", "from", "to", "call_id", "cseq", "record_route", "timestamp"} - present:
        del req.headers[key]
    before = req.copy()
    response = response_to(req, status, to_tag=to_tag, share=share)
    headers = response.headers
    for key in ("via", "from", "call_id", "cseq"):
        assert headers.get(key) == req.headers.get(key)
    if "to" not in present:
        assert "to" not in headers
    else:
        to = headers["to"]
        assert to.uri == req.headers["to"].uri
        if to_tagged:
            assert to.params["tag"] == "old"
        elif status == 100:
            assert "tag" not in to.params
        else:
            assert to.params["tag"] == (to_tag or to.params["tag"]) and to.params["tag"]
    dialog = 100 < status < 300 and method in ("INVITE", "SUBSCRIBE", "NOTIFY", "REFER")
    assert ("record_route" in headers) == (dialog and "record_route" in present)
    assert ("timestamp" in headers) == (status == 100 and "timestamp" in present)
    assert set(headers) <= {"via", "from", "to", "call_id", "cseq", "record_route", "timestamp"}
    assert read_back(response) == response
    # Editing the response never reaches the request.
    for value in headers.values():
        if isinstance(value, list):
            value.clear()
    assert req == before
