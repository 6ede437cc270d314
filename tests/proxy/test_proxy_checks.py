"""Request validation (RFC 3261 §16.3) and route preprocessing (§16.4), with the RFC 4475
proxy verdicts: zeromf 483, bext01 420 (Proxy-Require tags), unkscm 416."""

from __future__ import annotations

from dataclasses import replace

from helpers.messages import Load
from sippet import URI, Message, Method
from sippet.headers import SentBy
from sippet.message import RequestLine
from sippet.proxy import SendRequest, SendResponse, StatefulProxy
from sippet.proxy.checks import check_request
from sippet.proxy.routing import preprocess_routes
from sippet.transactions import ServerKey
from sippet.transactions.keys import server_key_of

from .messages import CONFIG, PROXY_HOST, code, request, ruri


def _key(message: Message) -> ServerKey | None:
    return server_key_of(message, str(message.start_line[0]))


def _answer(message: Message) -> Message:
    actions = StatefulProxy(CONFIG).receive_request(message, _key(message), 0.0)
    assert len(actions) == 1 and isinstance(actions[0], SendResponse), actions
    return actions[0].response


def test_zeromf_gets_483(rfc4475: Load) -> None:
    response = _answer(Message.parse(rfc4475("zeromf")))
    assert code(response) == 483


def test_options_for_the_proxy_itself_with_max_forwards_0_is_answered() -> None:
    options = request("OPTIONS", f"sip:{PROXY_HOST}", max_forwards=0)
    response = _answer(options)
    assert code(response) == 200
    assert "OPTIONS" in [str(m) for m in response.headers["allow"]]


def test_bext01_gets_420_listing_the_proxy_require_tags(rfc4475: Load) -> None:
    response = _answer(Message.parse(rfc4475("bext01")))
    assert code(response) == 420
    # Proxy role: the Proxy-Require tags, not the Require ones (those are the UAS's).
    assert response.headers["unsupported"] == ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]


def test_a_supported_proxy_require_tag_passes() -> None:
    config = replace(CONFIG, supported=frozenset({"sec-agree"}))
    message = request(extra="Proxy-Require: sec-agree")
    assert check_request(message, config) is None
    message = request(extra="Proxy-Require: sec-agree, other")
    error = check_request(message, config)
    assert error is not None and error.headers["unsupported"] == ["other"]


def test_unkscm_gets_416(rfc4475: Load) -> None:
    response = _answer(Message.parse(rfc4475("unkscm")))
    assert code(response) == 416


def test_a_tel_request_uri_gets_416() -> None:
    assert code(_answer(request(uri="tel:+15551234"))) == 416


def _forwarded(proxy: StatefulProxy, message: Message) -> Message:
    actions = proxy.receive_request(message, _key(message), 0.0)
    sends = [a for a in actions if isinstance(a, SendRequest)]
    assert len(sends) == 1, actions
    return sends[0].request


def _came_back(forwarded: Message, hop_branch: str) -> Message:
    """``forwarded`` as it reaches the proxy again through one more hop."""
    wire = bytes(forwarded).decode()
    wire = wire.replace("Via: ", f"Via: SIP/2.0/UDP 192.0.2.99;branch={hop_branch}\r\nVia: ", 1)
    return Message.parse(wire.encode())


def test_a_loop_gets_482() -> None:
    proxy = StatefulProxy(CONFIG)
    first = _forwarded(proxy, request(uri="sip:carol@elsewhere.net"))
    again = _came_back(first, "z9hG4bKhop2")
    response = _answer(again)
    assert code(response) == 482


def test_a_spiral_is_forwarded() -> None:
    # The request comes back with another Request-URI (retargeted downstream): a spiral.
    proxy = StatefulProxy(CONFIG)
    first = _forwarded(proxy, request(uri="sip:carol@elsewhere.net"))
    again = _came_back(first, "z9hG4bKhop2")
    again.start_line = RequestLine(Method.INVITE, URI.parse("sip:dave@other.net"))
    second = _forwarded(StatefulProxy(CONFIG), again)
    assert str(ruri(second)) == "sip:dave@other.net"
    # Our Via is there twice now, each with its own branch.
    ours = [v for v in second.headers["via"] if v.sent_by == SentBy(PROXY_HOST, 5060)]
    assert len(ours) == 2 and ours[0].branch != ours[1].branch


def test_our_route_entries_are_removed_from_the_top() -> None:
    message = request(
        uri="sip:bob@192.0.2.50",
        extra=f"Route: <sip:{PROXY_HOST};lr>, <sip:{PROXY_HOST}:5060;transport=tcp;lr>,"
        " <sip:next.example.net;lr>",
    )
    preprocess_routes(message, CONFIG)
    assert [str(r.uri) for r in message.headers["route"]] == ["sip:next.example.net;lr"]


def test_a_route_naming_us_by_alias_is_removed_and_the_header_goes_when_empty() -> None:
    message = request(uri="sip:bob@192.0.2.50", extra="Route: <sip:proxy.example.com;lr>")
    preprocess_routes(message, CONFIG)
    assert "route" not in message.headers


def test_a_strict_router_request_uri_is_restored() -> None:
    # The previous hop, a strict router, put our Record-Route URI in the Request-URI
    # and the real Request-URI at the end of Route (§16.4).
    message = request(
        uri=f"sip:{PROXY_HOST};lr",
        extra="Route: <sip:next.example.net;lr>, <sip:bob@192.0.2.50>",
    )
    preprocess_routes(message, CONFIG)
    assert str(ruri(message)) == "sip:bob@192.0.2.50"
    assert [str(r.uri) for r in message.headers["route"]] == ["sip:next.example.net;lr"]


def test_our_maddr_is_stripped_with_its_transport() -> None:
    message = request(uri=f"sip:bob@example.com;maddr={PROXY_HOST};transport=udp")
    preprocess_routes(message, CONFIG)
    assert str(ruri(message)) == "sip:bob@example.com"


def test_a_foreign_maddr_is_kept() -> None:
    message = request(uri="sip:bob@example.com;maddr=192.0.2.77")
    preprocess_routes(message, CONFIG)
    assert ruri(message).parameters["maddr"] == "192.0.2.77"
