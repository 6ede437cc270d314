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
    Target,
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
    start_line = build_request("invite", sip("bob", "biloxi.com")).start_line
    assert isinstance(start_line, RequestLine)
    assert start_line.method == "invite"
    assert not isinstance(start_line.method, Method)


def test_build_response_default_and_custom_reason() -> None:
    assert build_response(486).start_line == StatusLine(486, "Busy Here", (2, 0))
    assert Message.build_response(400, "Bad Lorem Ipsum").start_line == StatusLine(
        400, "Bad Lorem Ipsum", (2, 0)
    )
    assert build_response(499).start_line == StatusLine(499, "Request Failure", (2, 0))
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
    tag = to.params["tag"]
    assert tag is not None and len(tag) >= 16
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


# -- header editing ------------------------------------------------------------------------


def via(host: str, branch: str, **params: str | None) -> Via:
    return Via((2, 0), "UDP", SentBy(host, None), {"branch": branch, **params})


@pytest.mark.parametrize("name", ["call_id", "Call-ID", "call-id", "CALL-ID", "i", "I"])
def test_header_names_in_any_spelling(name: str) -> None:
    request = make_request()
    assert request.has_header(name)
    assert request.get_header(name) == "a84b4c76e66710@pc33.atlanta.com"
    assert request.fetch_header(name) == "a84b4c76e66710@pc33.atlanta.com"


def test_compact_and_canonical_names_of_other_headers() -> None:
    request = make_request()
    assert request.get_header("v") is request.headers["via"]
    assert request.get_header("CSeq") == CSeq(314159, Method.INVITE)
    assert request.get_header("Max-Forwards") == 70
    request.put_header("l", 0)
    assert request.headers["content_length"] == 0
    request.put_header("WWW-Authenticate", [])
    assert "www_authenticate" in request.headers


def test_unknown_headers_keep_their_name_and_match_case_insensitively() -> None:
    request = make_request()
    request.put_header("X-Custom", ["1"])
    assert request.headers["X-Custom"] == ["1"]
    assert request.get_header("x-custom") == ["1"]
    request.put_header("X-CUSTOM", ["2"])  # replaces, no second key
    assert request.headers["X-Custom"] == ["2"]
    assert "X-CUSTOM" not in request.headers
    request.delete_header("x-custom")
    assert not request.has_header("X-Custom")


def test_get_header_default_and_fetch_header_raises() -> None:
    request = make_request()
    assert request.get_header("subject") is None
    assert request.get_header("subject", "none") == "none"
    with pytest.raises(KeyError):
        request.fetch_header("subject")


def test_put_header_replaces_put_new_header_does_not() -> None:
    request = make_request()
    request.put_header("Max-Forwards", 10)
    assert request.headers["max_forwards"] == 10
    request.put_new_header("max_forwards", 70)
    assert request.headers["max_forwards"] == 10
    request.put_new_header("subject", "hello")
    assert request.headers["subject"] == "hello"


def test_put_new_lazy_header_calls_the_factory_only_when_absent() -> None:
    request = make_request()
    calls: list[int] = []

    def factory() -> str:
        calls.append(1)
        return "lazy"

    request.put_new_lazy_header("call_id", factory)
    assert calls == []
    assert request.headers["call_id"] == "a84b4c76e66710@pc33.atlanta.com"
    request.put_new_lazy_header("subject", factory)
    assert calls == [1]
    assert request.headers["subject"] == "lazy"


def test_front_and_back_of_a_list_header() -> None:
    request = make_request()
    top, bottom = request.headers["via"]
    assert request.get_header_front("via") is top
    assert request.get_header_back("Via") is bottom
    assert request.fetch_header_front("v") is top
    assert request.fetch_header_back("via") is bottom
    assert request.get_header_front("route") is None
    assert request.get_header_back("route", "x") == "x"
    with pytest.raises(KeyError):
        request.fetch_header_front("route")
    with pytest.raises(KeyError):
        request.fetch_header_back("route")


def test_put_header_front_and_back() -> None:
    request = make_request()
    original = list(request.headers["via"])
    new_top = via("proxy.biloxi.com", "z9hG4bKnew")
    request.put_header_front("via", new_top)
    assert request.headers["via"] == [new_top, *original]
    last = via("last.example.com", "z9hG4bKlast")
    request.put_header_back("Via", last)
    assert request.headers["via"] == [new_top, *original, last]
    route = NameAddr("", sip(None, "p1.example.com", lr=None), {})
    request.put_header_front("route", route)
    assert request.headers["route"] == [route]
    request.put_header_back("Record-Route", route)
    assert request.headers["record_route"] == [route]


def test_put_header_front_does_not_mutate_a_shared_list() -> None:
    request = make_request()
    shared = request.headers["via"]
    request.put_header_front("via", via("x.example.com", "z9hG4bKx"))
    assert len(shared) == 2
    assert len(request.headers["via"]) == 3


def test_delete_and_pop_front_and_back() -> None:
    request = make_request()
    top, bottom = request.headers["via"]
    assert request.pop_header_front("via") is top
    assert request.headers["via"] == [bottom]
    assert request.pop_header_back("via") is bottom
    assert "via" not in request.headers  # the header goes with its last value
    assert request.pop_header_front("via") is None
    assert request.pop_header_back("via", "gone") == "gone"

    request = make_request()
    request.delete_header_front("via")
    assert request.headers["via"] == [bottom]
    request.delete_header_back("via")
    assert "via" not in request.headers
    request.delete_header_back("via")  # absent: no error
    assert "via" not in request.headers


def test_delete_pop_and_drop_headers() -> None:
    request = make_request()
    assert request.pop_header("Call-ID") == "a84b4c76e66710@pc33.atlanta.com"
    assert "call_id" not in request.headers
    assert request.pop_header("call_id") is None
    assert request.pop_header("call_id", "dflt") == "dflt"
    request.delete_header("subject")  # absent: no error
    request.drop_headers("Max-Forwards", "contact", "X-Absent")
    assert "max_forwards" not in request.headers
    assert "contact" not in request.headers
    assert set(request.headers) == {"via", "to", "from", "cseq"}


def test_update_header() -> None:
    request = make_request()
    request.update_header("max-forwards", lambda value: value - 1)
    assert request.headers["max_forwards"] == 69
    request.update_header("expires", lambda value: value + 1)
    assert "expires" not in request.headers
    request.update_header("expires", lambda value: value + 1, 3600)
    assert request.headers["expires"] == 3600  # initial is not passed through the function
    request.update_header("expires", lambda value: value + 1, 0)
    assert request.headers["expires"] == 3601


def test_update_header_front_and_back() -> None:
    request = make_request()
    request.update_header_front(
        "via", lambda v: v._replace(params={**v.params, "received": "192.0.2.1"})
    )
    assert request.headers["via"][0].params["received"] == "192.0.2.1"
    assert "received" not in request.headers["via"][1].params
    request.update_header_back("via", lambda v: v._replace(protocol="TCP"))
    assert request.headers["via"][1].protocol == "TCP"
    assert request.headers["via"][0].protocol == "UDP"
    request.update_header_front("route", lambda v: v)
    assert "route" not in request.headers
    route = NameAddr("", sip(None, "p1.example.com", lr=None), {})
    request.update_header_back("route", lambda v: v, route)
    assert request.headers["route"] == [route]


def test_front_and_back_need_a_list_header() -> None:
    request = make_request()
    with pytest.raises(TypeError):
        request.get_header_front("call_id")
    with pytest.raises(TypeError):
        request.put_header_front("cseq", CSeq(1, Method.INVITE))


def test_copy_is_deep() -> None:
    request = make_request(record_route=RECORD_ROUTE)
    duplicate = request.copy()
    assert duplicate == request
    duplicate.headers["via"][0].params["received"] = "192.0.2.1"
    assert isinstance(duplicate.start_line, RequestLine)
    assert isinstance(request.start_line, RequestLine)
    duplicate.start_line.request_uri.parameters["lr"] = None
    duplicate.headers["record_route"][0].uri.parameters["x"] = "1"
    assert "received" not in request.headers["via"][0].params
    assert request.start_line.request_uri.parameters == {}
    assert "x" not in request.headers["record_route"][0].uri.parameters


# -- get_remote -------------------------------------------------------------------------------


def request_with_top_via(
    protocol: str, host: str, port: int | None, **params: str | None
) -> Message:
    request = make_request()
    request.headers["via"][0] = Via(
        (2, 0), protocol, SentBy(host, port), {"branch": "z9hG4bK1", **params}
    )
    return request


@pytest.mark.parametrize(
    ("protocol", "host", "port", "params", "expected"),
    [
        ("UDP", "pc33.atlanta.com", None, {}, ("UDP", "pc33.atlanta.com", 5060)),
        ("UDP", "pc33.atlanta.com", 5070, {}, ("UDP", "pc33.atlanta.com", 5070)),
        ("TCP", "pc33.atlanta.com", None, {}, ("TCP", "pc33.atlanta.com", 5060)),
        ("TLS", "pc33.atlanta.com", None, {}, ("TLS", "pc33.atlanta.com", 5061)),
        ("tls", "pc33.atlanta.com", 5071, {}, ("TLS", "pc33.atlanta.com", 5071)),
        # RFC 3261 §18.2.2: received replaces the host; the sent-by port stays.
        ("UDP", "pc33.atlanta.com", 5070, {"received": "192.0.2.1"}, ("UDP", "192.0.2.1", 5070)),
        # RFC 3581 §4: an rport with a value replaces the port.
        (
            "UDP",
            "10.0.0.1",
            5060,
            {"received": "192.0.2.1", "rport": "9988"},
            ("UDP", "192.0.2.1", 9988),
        ),
        # An rport without a value (the client's request, unfilled) changes nothing.
        ("UDP", "10.0.0.1", None, {"rport": None}, ("UDP", "10.0.0.1", 5060)),
        ("UDP", "::1", None, {"received": "2001:db8::9"}, ("UDP", "2001:db8::9", 5060)),
        # RFC 3261 §18.2.2: maddr wins over received, with the sent-by port.
        (
            "UDP",
            "pc33.atlanta.com",
            5070,
            {"maddr": "239.255.255.1", "received": "192.0.2.1", "rport": "9988"},
            ("UDP", "239.255.255.1", 5070),
        ),
    ],
)
def test_get_remote(
    protocol: str,
    host: str,
    port: int | None,
    params: dict[str, str | None],
    expected: tuple[str, str, int],
) -> None:
    remote = request_with_top_via(protocol, host, port, **params).get_remote()
    assert isinstance(remote, Target)
    assert remote == expected


def test_get_remote_uses_the_top_via_only() -> None:
    request = make_request()
    request.headers["via"][1].params["received"] = "203.0.113.7"
    assert request.get_remote() == ("UDP", "pc33.atlanta.com", 5060)


def test_get_remote_needs_a_request_with_via() -> None:
    with pytest.raises(ValueError):
        build_response(200).get_remote()
    request = make_request()
    del request.headers["via"]
    with pytest.raises(ValueError):
        request.get_remote()


def test_to_response_accepts_plain_tuples_built_by_hand() -> None:
    request = make_request(to=("", sip("bob", "biloxi.com"), {}))
    to = request.to_response(200, to_tag="x").headers["to"]
    assert to == NameAddr("", sip("bob", "biloxi.com"), {"tag": "x"})
    assert request.headers["to"][2] == {}


# -- with the native parser ---------------------------------------------------------------

INVITE = (
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;rport;received=192.0.2.101\r\n"
    "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1\r\n"
    "Record-Route: <sip:bigbox3.site3.atlanta.com;lr>, <sip:server10.biloxi.com;lr>\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Timestamp: 54\r\n"
    "Contact: <sip:alice@pc33.atlanta.com>\r\n"
    "Content-Length: 0\r\n"
    "\r\n"
)


def test_parsed_request_to_response_serializes() -> None:
    request = Message.parse(INVITE)
    response = request.to_response(180, to_tag="a6c85cf")
    again = Message.parse(bytes(response))
    assert again.start_line == StatusLine(180, "Ringing", (2, 0))
    assert again.headers["via"] == request.headers["via"]
    assert again.headers["record_route"] == request.headers["record_route"]
    assert again.headers["from"] == request.headers["from"]
    assert again.headers["to"].params == {"tag": "a6c85cf"}
    assert again.headers["call_id"] == "a84b4c76e66710"
    assert again.headers["cseq"] == CSeq(314159, Method.INVITE)
    assert "timestamp" not in again.headers
    assert "contact" not in again.headers
    trying = Message.parse(bytes(request.to_response(100)))
    assert trying.headers["timestamp"] == request.headers["timestamp"]
    assert "record_route" not in trying.headers


def test_parsed_request_get_remote() -> None:
    request = Message.parse(INVITE)
    # rport without a value: the sent-by port (default 5060); received replaces the host.
    assert request.get_remote() == ("UDP", "192.0.2.101", 5060)
    request.update_header_front("via", lambda v: v._replace(params={**v.params, "rport": "40123"}))
    assert request.get_remote() == ("UDP", "192.0.2.101", 40123)


def test_parsed_header_helpers_edit_what_gets_serialized() -> None:
    request = Message.parse(INVITE)
    request.put_header_front(
        "Via", Via((2, 0), "UDP", SentBy("proxy.example.com", 5070), {"branch": "z9hG4bKp1"})
    )
    request.update_header("Max-Forwards", lambda hops: hops - 1)
    request.delete_header_front("record-route")
    request.put_header("Subject", "lunch")
    again = Message.parse(bytes(request))
    assert [v.sent_by.host for v in again.headers["via"]] == [
        "proxy.example.com",
        "pc33.atlanta.com",
        "bigbox3.site3.atlanta.com",
    ]
    assert again.headers["max_forwards"] == 69
    assert [r.uri.host for r in again.headers["record_route"]] == ["server10.biloxi.com"]
    assert again.get_header("subject") == "lunch"


def test_build_request_parses_a_text_uri() -> None:
    start_line = build_request("OPTIONS", "sip:bob@biloxi.com;transport=tcp").start_line
    assert isinstance(start_line, RequestLine)
    assert start_line.request_uri == URI.parse("sip:bob@biloxi.com;transport=tcp")


def test_copy_value_rebuilds_every_mutable_part() -> None:
    from sippet import Auth, UriParams
    from sippet.header_ops import copy_value

    original: dict[str, Any] = {
        "call_info": [UriParams(sip(None, "i.example.com"), {"purpose": "icon"})],
        "authorization": [Auth("Digest", {"realm": "atlanta.com"})],
        "X-Raw": ["a", "b"],
        "cseq": CSeq(1, Method.INVITE),
        "plain": ("x", {"k": "v"}),
    }
    duplicate = copy_value(original)
    assert duplicate == original
    assert type(duplicate["call_info"][0]) is UriParams
    assert type(duplicate["call_info"][0].uri) is URI
    duplicate["call_info"][0].params["purpose"] = "info"
    duplicate["call_info"][0].uri.parameters["lr"] = None
    duplicate["authorization"][0].params["nonce"] = "n"
    duplicate["X-Raw"].append("c")
    duplicate["plain"][1]["k"] = "w"
    assert original["call_info"][0].params == {"purpose": "icon"}
    assert original["call_info"][0].uri.parameters == {}
    assert original["authorization"][0].params == {"realm": "atlanta.com"}
    assert original["X-Raw"] == ["a", "b"]
    assert original["plain"][1] == {"k": "v"}
    assert duplicate["cseq"] is original["cseq"]  # immutable: shared
