"""The transport layer and its values: one default-port rule, reasons as an enum, the
§18.1.1 switch to TCP for large requests, peer choice that never downgrades TLS."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from sippet import URI, CSeq, Message, Method, NameAddr, RequestLine, SentBy, StatusLine, Via
from sippet.errors import TransportError
from sippet.reasons import Reason
from sippet.resolver import SystemResolver
from sippet.stack.routing import default_port, response_next_hop, uri_next_hop
from sippet.stack.transport_layer import UDP_MTU_THRESHOLD, Peer, TransportLayer
from sippet.transports import TCP, TLS, UDP, Transport


def response_via(protocol: str, params: dict[str, str | None]) -> Message:
    via = Via((2, 0), protocol, SentBy("client.example", None), {"branch": "z9hG4bK1", **params})
    return Message(StatusLine(200, "OK"), {"via": [via]})


@pytest.mark.parametrize(
    ("protocol", "port"), [("UDP", 5060), ("TCP", 5060), ("TLS", 5061), ("WS", 80), ("WSS", 443)]
)
def test_one_default_port_rule(protocol: str, port: int) -> None:
    assert default_port(protocol) == port
    # RFC 3261 §18.2.2: received without rport, no sent-by port: the transport's default.
    hop = response_next_hop(response_via(protocol, {"received": "192.0.2.7"}))
    assert (hop.host, hop.port) == ("192.0.2.7", port)
    assert response_next_hop(response_via(protocol, {})).port == port
    assert Message.parse(bytes(request_to("sip:x@h", protocol))).get_remote().port == port


def test_sips_uri_defaults_to_tls_5061() -> None:
    assert uri_next_hop(URI.parse("sips:bob@example.com")) == ("TLS", "example.com", 5061)


def test_reasons_compare_as_text() -> None:
    assert Reason.TIMEOUT == "timeout"
    assert isinstance(Reason.TLS_VERIFICATION_FAILED, str)
    assert f"{Reason.UNANSWERED}" == "unanswered"
    assert TransportError("x", reason=Reason.NXDOMAIN).reason == "nxdomain"


def request_to(target: str, protocol: str = "UDP", body: bytes = b"") -> Message:
    headers: dict[str, Any] = {
        "via": [Via((2, 0), protocol, SentBy("192.0.2.1", None), {"branch": "z9hG4bKx"})],
        "max_forwards": 70,
        "from": NameAddr("", URI.parse("sip:a@example.com"), {"tag": "1"}),
        "to": NameAddr("", URI.parse("sip:b@example.com"), {}),
        "call_id": "c",
        "cseq": CSeq(1, Method.MESSAGE),
    }
    return Message(RequestLine(Method.MESSAGE, URI.parse(target)), headers, body)


def layer_with(*transports: Transport) -> TransportLayer:
    layer = TransportLayer("t", SystemResolver(), lambda reason, key: None, lambda f: None)
    layer._transports.extend(transports)
    return layer


def test_large_request_goes_over_tcp_unless_udp_was_asked_for() -> None:
    udp, tcp = UDP("127.0.0.1", 0), TCP("127.0.0.1", 0)
    layer = layer_with(udp, tcp)
    big = b"x" * (UDP_MTU_THRESHOLD + 1)
    request = request_to("sip:b@192.0.2.9", body=big)
    hop = uri_next_hop(URI.parse("sip:b@192.0.2.9"))
    peer = layer.congestion_controlled(request, hop, Peer(udp, ("192.0.2.9", 5060)))
    assert peer.transport is tcp and peer.address == ("192.0.2.9", 5060)
    assert request.headers["via"][0].protocol == "TCP"  # §18.1.1: Via says TCP

    explicit = request_to("sip:b@192.0.2.9;transport=udp", body=big)
    hop = uri_next_hop(URI.parse("sip:b@192.0.2.9;transport=udp"))
    peer = layer.congestion_controlled(explicit, hop, Peer(udp, ("192.0.2.9", 5060)))
    assert peer.transport is udp and explicit.headers["via"][0].protocol == "UDP"

    small = request_to("sip:b@192.0.2.9", body=b"x" * 100)
    peer = layer.congestion_controlled(small, hop, Peer(udp, ("192.0.2.9", 5060)))
    assert peer.transport is udp


def test_tls_hop_never_takes_tcp() -> None:
    layer = layer_with(UDP("127.0.0.1", 0), TCP("127.0.0.1", 0))
    with pytest.raises(TransportError) as raised:
        layer.peer_for("TLS", (socket.AF_INET, "127.0.0.1", 5061))
    assert raised.value.reason == Reason.NO_TRANSPORT
    tls = TLS("127.0.0.1", 0, ssl_context=None)
    layer = layer_with(TCP("127.0.0.1", 0), tls)
    assert layer.peer_for("TLS", (socket.AF_INET, "127.0.0.1", 5061)).transport is tls
