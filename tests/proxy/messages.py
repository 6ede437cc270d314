"""Requests and responses for the proxy tests, and a proxy configured for them."""

from __future__ import annotations

from sippet import URI, Message
from sippet.headers import SentBy
from sippet.message import RequestLine, StatusLine
from sippet.proxy import ProxyConfig

PROXY_HOST = "192.0.2.10"
PROXY_PORT = 5060
CONFIG = ProxyConfig(
    interfaces={"UDP": SentBy(PROXY_HOST, PROXY_PORT), "TCP": SentBy(PROXY_HOST, PROXY_PORT)},
    aliases=frozenset({"proxy.example.com"}),
    domains=frozenset({"example.com"}),
)


def request(
    method: str = "INVITE",
    uri: str = "sip:bob@example.com",
    *,
    branch: str = "z9hG4bKclient1",
    extra: str = "",
    max_forwards: int | None = 70,
    cseq: int = 1,
    via: str = "SIP/2.0/UDP 192.0.2.1:5060",
) -> Message:
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: {via};branch={branch}",
        "From: <sip:alice@example.org>;tag=a1",
        "To: <sip:bob@example.com>",
        "Call-ID: call-1@192.0.2.1",
        f"CSeq: {cseq} {method}",
        "Contact: <sip:alice@192.0.2.1>",
    ]
    if max_forwards is not None:
        lines.append(f"Max-Forwards: {max_forwards}")
    if extra:
        lines += extra.strip("\n").split("\n")
    return Message.parse(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())


def response_to(
    forwarded: Message, status_code: int, *, to_tag: str = "b1", extra: str = ""
) -> Message:
    """What the next hop answers to ``forwarded`` (a copy the proxy sent)."""
    response = forwarded.to_response(status_code, to_tag=to_tag)
    if extra:
        wire = bytes(response).decode()
        head, _, _ = wire.partition("\r\n\r\n")
        head = head.replace("\r\nContent-Length: 0", "")
        return Message.parse(
            (
                head
                + "\r\n"
                + extra.strip("\n").replace("\n", "\r\n")
                + "\r\nContent-Length: 0\r\n\r\n"
            ).encode()
        )
    return Message.parse(bytes(response))


def code(response: Message) -> int:
    start = response.start_line
    assert isinstance(start, StatusLine)
    return start.status_code


def ruri(message: Message) -> URI:
    start = message.start_line
    assert isinstance(start, RequestLine)
    return start.request_uri


def method(message: Message) -> str:
    start = message.start_line
    assert isinstance(start, RequestLine)
    return str(start.method)
