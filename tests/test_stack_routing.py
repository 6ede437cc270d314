"""sippet.stack.routing: next hops of requests (RFC 3261 §8.1.2, §16.12, §12.2.1.1) and of
responses (§18.2.2, RFC 3581 §4), Via stamping on receipt (§18.2.1), stateless answers."""

from __future__ import annotations

import pytest
from sippet import URI, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.errors import TransportError
from sippet.headers import CSeq
from sippet.message import StatusLine
from sippet.responses import error_response
from sippet.stack.routing import (
    NextHop,
    apply_strict_route,
    is_strict_route,
    request_next_hop,
    response_next_hop,
    stamp_received,
    uri_next_hop,
)


def uri(text: str) -> URI:
    """A URI built by hand (no native parser needed): ``sip:user@host:port;p=v;flag``."""
    scheme, rest = text.split(":", 1)
    rest, *raw_params = rest.split(";")
    params: dict[str, str | None] = {}
    for raw in raw_params:
        name, sep, value = raw.partition("=")
        params[name] = value if sep else None
    user = None
    if "@" in rest:
        user, rest = rest.split("@", 1)
    port = None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail.startswith(":"):
            port = int(tail[1:])
    elif ":" in rest:
        host, port_text = rest.rsplit(":", 1)
        port = int(port_text)
    else:
        host = rest
    return URI(scheme, user, None, host, port, params)


def request(
    request_uri: str, routes: list[str] | None = None, target: tuple[str, str, int] | None = None
) -> Message:
    headers: dict[str, object] = {
        "via": [Via((2, 0), "UDP", SentBy("192.0.2.1", 5060), {"branch": "z9hG4bKabc"})],
        "from": NameAddr("", uri("sip:a@example.com"), {"tag": "1"}),
        "to": NameAddr("", uri("sip:b@example.org"), {}),
        "call_id": "call-1",
        "cseq": CSeq(1, Method.INVITE),
        "max_forwards": 70,
    }
    if routes is not None:
        headers["route"] = [NameAddr("", uri(r), {}) for r in routes]
    return Message(RequestLine(Method.INVITE, uri(request_uri)), headers, target=target)


def response(via_params: dict[str, str | None], sent_by: SentBy) -> Message:
    return Message(
        StatusLine(200, "OK"),
        {"via": [Via((2, 0), "UDP", sent_by, {"branch": "z9hG4bKabc", **via_params})]},
    )


# -- URIs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hop"),
    [
        ("sip:bob@example.org", NextHop("UDP", "example.org", 5060)),
        ("sip:bob@example.org:5070", NextHop("UDP", "example.org", 5070)),
        ("sips:bob@example.org", NextHop("TLS", "example.org", 5061)),
        ("sip:bob@example.org;transport=tcp", NextHop("TCP", "example.org", 5060)),
        ("sips:bob@example.org;transport=tcp", NextHop("TLS", "example.org", 5061)),
        ("sip:bob@example.org;maddr=192.0.2.9", NextHop("UDP", "192.0.2.9", 5060)),
        ("sip:bob@example.org:5080;maddr=192.0.2.9", NextHop("UDP", "192.0.2.9", 5080)),
        ("sip:[2001:db8::1]:5062", NextHop("UDP", "2001:db8::1", 5062)),
    ],
)
def test_uri_next_hop(text: str, hop: NextHop) -> None:
    assert uri_next_hop(uri(text)) == hop


def test_uri_next_hop_refuses_tel() -> None:
    with pytest.raises(TransportError) as info:
        uri_next_hop(URI("tel", "+15551234"))
    assert info.value.reason == "unsupported_uri_scheme"


# -- requests ----------------------------------------------------------------------------------


def test_request_goes_to_request_uri_without_route() -> None:
    assert request_next_hop(request("sip:b@example.org:5099")) == NextHop(
        "UDP", "example.org", 5099
    )


def test_target_overrides_route_and_request_uri() -> None:
    msg = request("sip:b@example.org", ["sip:proxy.example.com;lr"], target=("udp", "::1", 5999))
    assert request_next_hop(msg) == NextHop("UDP", "::1", 5999)


def test_loose_route_is_the_next_hop_and_request_is_unchanged() -> None:
    msg = request("sip:b@example.org", ["sip:p1.example.com:5070;lr", "sip:p2.example.com;lr"])
    assert not is_strict_route(msg)
    assert request_next_hop(msg) == NextHop("UDP", "p1.example.com", 5070)
    assert msg.start_line.request_uri == uri("sip:b@example.org")  # type: ignore[union-attr]
    assert len(msg.headers["route"]) == 2


def test_strict_route_rewrites_request_uri_and_route_set() -> None:
    # RFC 3261 §12.2.1.1: the first Route (no lr) becomes the Request-URI; the old
    # Request-URI goes to the end of the route set.
    msg = request("sip:b@example.org", ["sip:strict.example.com:5080", "sip:p2.example.com;lr"])
    assert is_strict_route(msg)
    assert request_next_hop(msg) == NextHop("UDP", "strict.example.com", 5080)
    rewritten = apply_strict_route(msg)
    assert rewritten.start_line.request_uri == uri("sip:strict.example.com:5080")  # type: ignore[union-attr]
    assert [r.uri for r in rewritten.headers["route"]] == [
        uri("sip:p2.example.com;lr"),
        uri("sip:b@example.org"),
    ]
    # The caller's message is left alone.
    assert msg.start_line.request_uri == uri("sip:b@example.org")  # type: ignore[union-attr]
    assert len(msg.headers["route"]) == 2


def test_strict_route_request_uri_drops_what_a_request_uri_may_not_carry() -> None:
    # RFC 3261 §12.2.1.1 and the table of §19.1.1: no method parameter and no URI headers
    # in a Request-URI; other parameters (transport, maddr) stay.
    msg = request("sip:b@example.org", ["sip:strict.example.com"])
    msg.headers["route"] = [
        NameAddr("", URI.parse("sip:strict.example.com;method=INVITE;transport=tcp?x=1"), {})
    ]
    rewritten = apply_strict_route(msg)
    assert rewritten.start_line.request_uri == URI.parse(  # type: ignore[union-attr]
        "sip:strict.example.com;transport=tcp"
    )


# -- responses ---------------------------------------------------------------------------------


def test_response_to_received_and_rport() -> None:
    msg = response({"received": "198.51.100.7", "rport": "40123"}, SentBy("host.example", 5060))
    assert response_next_hop(msg) == NextHop("UDP", "198.51.100.7", 40123)


def test_response_to_received_with_sent_by_port() -> None:
    msg = response({"received": "198.51.100.7"}, SentBy("host.example", 5070))
    assert response_next_hop(msg) == NextHop("UDP", "198.51.100.7", 5070)


def test_response_to_received_defaults_to_5060() -> None:
    msg = response({"received": "198.51.100.7"}, SentBy("host.example", None))
    assert response_next_hop(msg) == NextHop("UDP", "198.51.100.7", 5060)


def test_response_to_maddr_wins_over_received() -> None:
    msg = response(
        {"maddr": "239.1.1.1", "received": "198.51.100.7", "rport": "4"}, SentBy("h", 5062)
    )
    assert response_next_hop(msg) == NextHop("UDP", "239.1.1.1", 5062)


def test_response_to_sent_by() -> None:
    assert response_next_hop(response({}, SentBy("host.example", None))) == NextHop(
        "UDP", "host.example", 5060
    )


# -- Via stamping ------------------------------------------------------------------------------


def test_stamp_adds_received_when_sent_by_differs() -> None:
    msg = request("sip:b@example.org")
    stamp_received(msg, "203.0.113.5", 6000)
    assert msg.headers["via"][0].params == {"branch": "z9hG4bKabc", "received": "203.0.113.5"}


def test_stamp_leaves_matching_sent_by_alone() -> None:
    msg = request("sip:b@example.org")
    stamp_received(msg, "192.0.2.1", 5060)
    assert msg.headers["via"][0].params == {"branch": "z9hG4bKabc"}


def test_stamp_fills_rport_on_the_top_via_only() -> None:
    msg = request("sip:b@example.org")
    msg.headers["via"] = [
        Via((2, 0), "UDP", SentBy("192.0.2.1", 5060), {"branch": "z9hG4bKtop", "rport": None}),
        Via((2, 0), "UDP", SentBy("192.0.2.2", 5060), {"branch": "z9hG4bKlow", "rport": None}),
    ]
    stamp_received(msg, "192.0.2.1", 41000)
    # RFC 3581 §4: received is added even when equal to the sent-by host.
    assert msg.headers["via"][0].params == {
        "branch": "z9hG4bKtop",
        "rport": "41000",
        "received": "192.0.2.1",
    }
    assert msg.headers["via"][1].params == {"branch": "z9hG4bKlow", "rport": None}


def test_stamp_compares_ipv6_addresses_by_value() -> None:
    msg = request("sip:b@example.org")
    msg.headers["via"] = [
        Via((2, 0), "UDP", SentBy("2001:db8:0::1", 5060), {"branch": "z9hG4bKv6"})
    ]
    stamp_received(msg, "2001:db8::1", 5060)
    assert "received" not in msg.headers["via"][0].params


# -- stateless answers -------------------------------------------------------------------------


def test_error_response_copies_headers_and_tags_to() -> None:
    msg = request("sip:b@example.org")
    answer = error_response(msg.headers, 400, "multiple_definition")
    assert answer is not None
    assert answer.start_line == StatusLine(400, "Bad Request (multiple_definition)")
    assert answer.headers["via"] == msg.headers["via"]
    assert answer.headers["call_id"] == "call-1"
    assert answer.headers["to"].params["tag"]


def test_error_response_never_answers_ack_and_needs_only_a_via() -> None:
    msg = request("sip:b@example.org")
    msg.headers["cseq"] = CSeq(1, Method.ACK)
    assert error_response(msg.headers, 400, "x") is None
    # RFC 4475 insuf: a request missing Call-ID is still answered 400, copying what it has.
    msg = request("sip:b@example.org")
    del msg.headers["call_id"]
    answer = error_response(msg.headers, 400, "x")
    assert answer is not None
    assert answer.start_line == StatusLine(400, "Bad Request (x)")
    assert "call_id" not in answer.headers
    assert answer.headers["via"] == msg.headers["via"]
    # Without a top Via there is nowhere to send a response (RFC 3261 §18.2.2).
    del msg.headers["via"]
    assert error_response(msg.headers, 400, "x") is None
