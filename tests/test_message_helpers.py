"""Message helpers: building messages, to_response (RFC 3261 §8.2.6), header editing,
get_remote (RFC 3261 §18.2.2, RFC 3581)."""

from __future__ import annotations

from typing import Any

import pytest
from sippet import (
    URI,
    CSeq,
    Message,
    Method,
    NameAddr,
    RequestLine,
    SentBy,
    StatusLine,
    Timestamp,
    Via,
)
from sippet.message import build_request, build_response, response_from_headers


def sip(user: str | None, host: str, port: int | None = None, **params: str | None) -> URI:
    return URI("sip", user=user, host=host, port=port, parameters=dict(params))


def make_request(method: Method | str = Method.INVITE, **extra: Any) -> Message:
    headers: dict[str, Any] = {
        "via": [
            Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), {"branch": "z9hG4bK776asdhds"}),
            Via((2, 0), "UDP", SentBy("proxy.atlanta.com", 5070), {"branch": "z9hG4bKnashds8"}),
        ],
        "max_forwards": 70,
        "to": NameAddr("Bob", sip("bob", "biloxi.com"), {}),
        "from": NameAddr("Alice", sip("alice", "atlanta.com"), {"tag": "1928301774"}),
        "call_id": "a84b4c76e66710@pc33.atlanta.com",
        "cseq": CSeq(314159, method),
        "contact": [NameAddr("", sip("alice", "pc33.atlanta.com"), {})],
    }
    headers.update(extra)
    return Message(RequestLine(method, sip("bob", "biloxi.com")), headers)


# -- building ---------------------------------------------------------------------------


def test_build_request_keeps_method_and_uri() -> None:
    uri = sip("bob", "biloxi.com")
    request = Message.build_request("INVITE", uri)
    assert request.start_line == RequestLine(Method.INVITE, uri, (2, 0))
    assert request.start_line.method is Method.INVITE
    assert request.headers == {}
    assert request.body == b""
    assert request.is_request


def test_build_request_unknown_method_stays_case_sensitive_text() -> None:
    request = build_request("invite", sip("bob", "biloxi.com"))
    assert request.start_line.method == "invite"
    assert not isinstance(request.start_line.method, Method)


def test_build_response_default_and_custom_reason() -> None:
    assert build_response(486).start_line == StatusLine(486, "Busy Here", (2, 0))
    assert Message.build_response(400, "Bad Lorem Ipsum").start_line.reason_phrase == (
        "Bad Lorem Ipsum"
    )
    assert build_response(499).start_line.reason_phrase == "Request Failure"
    with pytest.raises(ValueError):
        build_response(700)


# -- to_response --------------------------------------------------------------------------


def test_to_response_copies_the_section_8_2_6_headers() -> None:
    request = make_request()
    response = request.to_response(180)
    assert response.is_response
    assert response.start_line == StatusLine(180, "Ringing", (2, 0))
    assert response.headers["via"] == request.headers["via"]  # all values, same order
    assert response.headers["from"] == request.headers["from"]
    assert response.headers["call_id"] == request.headers["call_id"]
    assert response.headers["cseq"] == request.headers["cseq"]
    # Not copied: Max-Forwards, Contact (the UAS supplies its own).
    assert "max_forwards" not in response.headers
    assert "contact" not in response.headers


def test_to_response_adds_a_to_tag_above_100() -> None:
    request = make_request()
    response = request.to_response(200)
    to = response.headers["to"]
    assert isinstance(to, NameAddr)
    assert to.display_name == "Bob"
    assert to.uri == request.headers["to"].uri
    assert len(to.params["tag"]) >= 16
    # The request is unchanged.
    assert request.headers["to"].params == {}


def test_to_response_100_trying_has_no_tag() -> None:
    response = make_request().to_response(100)
    assert "tag" not in response.headers["to"].params


def test_to_response_keeps_an_existing_to_tag() -> None:
    request = make_request(to=NameAddr("", sip("bob", "biloxi.com"), {"tag": "314159"}))
    response = request.to_response(200)
    assert response.headers["to"].params == {"tag": "314159"}


def test_to_response_uses_the_given_to_tag() -> None:
    request = make_request()
    ringing = request.to_response(180, to_tag="a6c85cf")
    ok = request.to_response(200, to_tag="a6c85cf")
    assert ringing.headers["to"].params["tag"] == ok.headers["to"].params["tag"] == "a6c85cf"


def test_to_response_random_tags_differ() -> None:
    request = make_request()
    assert (
        request.to_response(200).headers["to"].params["tag"]
        != request.to_response(200).headers["to"].params["tag"]
    )


def test_to_response_custom_reason_phrase() -> None:
    response = make_request().to_response(404, "Nobody Home")
    assert response.start_line == StatusLine(404, "Nobody Home", (2, 0))


def test_to_response_values_are_independent_copies() -> None:
    request = make_request()
    response = request.to_response(200)
    response.headers["via"][0].params["received"] = "192.0.2.1"
    response.headers["from"].params["tag"] = "changed"
    response.headers["from"].uri.parameters["lr"] = None
    assert "received" not in request.headers["via"][0].params
    assert request.headers["from"].params["tag"] == "1928301774"
    assert request.headers["from"].uri.parameters == {}
    response.headers["via"].pop()
    assert len(request.headers["via"]) == 2


def test_to_response_timestamp_only_in_100() -> None:
    request = make_request(timestamp=Timestamp(54.0, None))
    assert request.to_response(100).headers["timestamp"] == Timestamp(54.0, None)
    assert "timestamp" not in request.to_response(180).headers


RECORD_ROUTE = [
    NameAddr("", sip(None, "p2.example.com", lr=None), {}),
    NameAddr("", sip(None, "p1.example.com", lr=None), {"x": "1"}),
]


@pytest.mark.parametrize(
    ("method", "code", "copied"),
    [
        (Method.INVITE, 180, True),
        (Method.INVITE, 200, True),
        (Method.INVITE, 100, False),
        (Method.INVITE, 486, False),
        (Method.SUBSCRIBE, 202, True),
        (Method.NOTIFY, 200, True),
        (Method.REFER, 202, True),
        (Method.OPTIONS, 200, False),
        (Method.REGISTER, 200, False),
    ],
)
def test_to_response_record_route_for_dialog_creating_responses(
    method: Method, code: int, copied: bool
) -> None:
    request = make_request(method, record_route=RECORD_ROUTE)
    response = request.to_response(code)
    if copied:
        assert response.headers["record_route"] == RECORD_ROUTE  # same values, same order
        assert response.headers["record_route"] is not request.headers["record_route"]
    else:
        assert "record_route" not in response.headers


def test_to_response_skips_missing_headers() -> None:
    request = make_request()
    del request.headers["to"]
    del request.headers["call_id"]
    response = request.to_response(400)
    assert "to" not in response.headers
    assert "call_id" not in response.headers
    assert response.headers["cseq"] == CSeq(314159, Method.INVITE)


def test_to_response_refuses_responses_and_acks() -> None:
    with pytest.raises(ValueError):
        build_response(200).to_response(200)
    with pytest.raises(ValueError):
        make_request(Method.ACK).to_response(200)
    with pytest.raises(ValueError):
        make_request().to_response(99)


def test_response_from_headers_uses_cseq_method_for_record_route() -> None:
    headers = make_request(Method.INVITE, record_route=RECORD_ROUTE).headers
    response = response_from_headers(headers, 200, to_tag="t1")
    assert response.headers["record_route"] == RECORD_ROUTE
    assert response.headers["to"].params == {"tag": "t1"}
