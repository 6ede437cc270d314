"""The transaction layer on parsed messages: RFC 4475 torture requests and the RFC 3261
§17.1.1.3 ACK example, through the native parser and serializer."""

from __future__ import annotations

from collections.abc import Callable

from sippet import Message, SentBy
from sippet.transactions import (
    DeliverRequest,
    DeliverResponse,
    Send,
    ServerKey,
    State,
    TransactionLayer,
)

SRC = ("192.0.2.5", 5060)

# RFC 3261 §17.1.1.3, the INVITE of the example and the ACK the section shows for a non-2xx.
EXAMPLE_INVITE = (
    b"INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKkjshdyff\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=88sja8x\r\n"
    b"Max-Forwards: 70\r\n"
    b"Call-ID: 987asjd97y7atg\r\n"
    b"CSeq: 986759 INVITE\r\n"
    b"\r\n"
)
EXAMPLE_ACK = (
    b"ACK sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKkjshdyff\r\n"
    b"To: Bob <sip:bob@biloxi.com>;tag=99sa0xk\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=88sja8x\r\n"
    b"Max-Forwards: 70\r\n"
    b"Call-ID: 987asjd97y7atg\r\n"
    b"CSeq: 986759 ACK\r\n"
    b"\r\n"
)


def test_ack_of_non_2xx_matches_the_rfc_example() -> None:
    layer = TransactionLayer()
    invite = Message.parse(EXAMPLE_INVITE)
    layer.send_request(invite, "dest", False, 0.0)
    busy = invite.to_response(486, to_tag="99sa0xk")
    # Through the wire and back, as a response would arrive.
    actions = layer.receive_response(Message.parse(bytes(busy)), 0.1)
    assert isinstance(actions[0], DeliverResponse) and isinstance(actions[1], Send)
    ack = Message.parse(bytes(actions[1].message))
    expected = Message.parse(EXAMPLE_ACK)
    assert ack.start_line == expected.start_line
    assert ack.headers.pop("content_length") == 0  # the serializer always writes it
    assert ack.headers == expected.headers
    assert ack.body == b""


def test_100_trying_on_the_wire() -> None:
    layer = TransactionLayer()
    invite = Message.parse(EXAMPLE_INVITE)
    layer.receive_request(invite, SRC, False, 0.0)
    trying = layer.handle_timers(0.2)[0]
    assert isinstance(trying, Send)
    wire = bytes(trying.message)
    assert wire.startswith(b"SIP/2.0 100 Trying\r\n")
    parsed = Message.parse(wire)
    assert parsed.headers["to"] == invite.headers["to"]  # no tag added
    for name in ("via", "from", "call_id", "cseq"):
        assert parsed.headers[name] == invite.headers[name]


def test_rfc4475_inv2543(rfc4475: Callable[[str], bytes]) -> None:
    layer = TransactionLayer()
    invite = Message.parse(rfc4475("inv2543"))
    actions = layer.receive_request(invite, SRC, False, 0.0)
    key = ServerKey(
        "rfc2543 inv2543.1717@ift.client.example.com  56 UDP ",
        "INVITE",
        SentBy("iftgw.example.com", 5060),
    )
    assert actions == [DeliverRequest(invite, key)]
    # The same datagram again is a retransmission.
    assert layer.receive_request(Message.parse(rfc4475("inv2543")), SRC, False, 0.1) == []
    busy = invite.to_response(486, to_tag="t2543")
    assert layer.send_response(busy, 0.3) == [Send(busy, SRC, key)]
    # An RFC 2543 ACK: no branch either, To tag of the 486, same CSeq number.
    ack_text = (
        b"ACK sip:UserB@example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP iftgw.example.com\r\n"
        b"From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n"
        b"To: sip:+16505552222@ss1.example.net;user=phone;tag=t2543\r\n"
        b"Call-ID: inv2543.1717@ift.client.example.com\r\n"
        b"CSeq: 56 ACK\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    assert layer.receive_request(Message.parse(ack_text), SRC, False, 0.4) == []
    assert layer.state_of(key) is State.CONFIRMED


def test_rfc4475_badbranch(rfc4475: Callable[[str], bytes]) -> None:
    layer = TransactionLayer()
    request = Message.parse(rfc4475("badbranch"))
    actions = layer.receive_request(request, SRC, False, 0.0)
    assert isinstance(actions[0], DeliverRequest) and actions[0].key is not None
    assert actions[0].key.branch == (
        "rfc2543 badbranch.sadonfo23i420jv0as0derf3j3n 33242 8 UDP z9hG4bK"
    )
    ok = request.to_response(200)
    assert layer.send_response(ok, 0.1) == [Send(ok, SRC, actions[0].key)]
