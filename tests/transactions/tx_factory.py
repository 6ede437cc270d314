"""Messages for the transaction tests, built in code (no parser needed).

``invite()``/``request()`` make a request as a UAC would send it; ``response_to()`` answers
a request the way a UAS does (§8.2.6: Via, From, To, Call-ID, CSeq copied, To tag added for
codes above 100).
"""

from __future__ import annotations

from typing import Any

from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, StatusLine, Via
from sippet.transactions import TransactionLayer
from sippet.uri import URI

BRANCH = "z9hG4bK776asdhds"


def via(
    branch: str | None = BRANCH,
    host: str = "pc33.atlanta.com",
    port: int | None = None,
    protocol: str = "UDP",
) -> Via:
    params: dict[str, str | None] = {} if branch is None else {"branch": branch}
    return Via((2, 0), protocol, SentBy(host, port), params)


def request(
    method: Method | str = Method.OPTIONS,
    *,
    branch: str | None = BRANCH,
    host: str = "pc33.atlanta.com",
    port: int | None = None,
    protocol: str = "UDP",
    seq: int = 314159,
    call_id: str = "a84b4c76e66710@pc33.atlanta.com",
    from_tag: str | None = "1928301774",
    to_tag: str | None = None,
    uri: URI | None = None,
    routes: list[NameAddr] | None = None,
    extra: dict[str, Any] | None = None,
) -> Message:
    cseq_method = method
    headers: dict[str, Any] = {
        "via": [via(branch, host, port, protocol), via("z9hG4bKproxy", "proxy.example.com")],
        "max_forwards": 70,
        "from": NameAddr(
            "Alice",
            URI("sip", "alice", host="atlanta.com"),
            {} if from_tag is None else {"tag": from_tag},
        ),
        "to": NameAddr(
            "Bob", URI("sip", "bob", host="biloxi.com"), {} if to_tag is None else {"tag": to_tag}
        ),
        "call_id": call_id,
        "cseq": CSeq(seq, cseq_method),
        "contact": [NameAddr("", URI("sip", "alice", host="pc33.atlanta.com"), {})],
    }
    if routes:
        headers["route"] = routes
    if extra:
        headers.update(extra)
    request_uri = uri if uri is not None else URI("sip", "bob", host="biloxi.com")
    return Message(RequestLine(method, request_uri), headers)


def invite(**kwargs: Any) -> Message:
    return request(Method.INVITE, **kwargs)


def response_to(
    req: Message, status: int, reason: str = "", *, to_tag: str | None = "a6c85cf"
) -> Message:
    h = req.headers
    to = h["to"]
    if status > 100 and to_tag is not None and "tag" not in to.params:
        to = NameAddr(to.display_name, to.uri, {**to.params, "tag": to_tag})
    headers: dict[str, Any] = {
        "via": list(h["via"]),
        "from": h["from"],
        "to": to,
        "call_id": h["call_id"],
        "cseq": h["cseq"],
    }
    return Message(StatusLine(status, reason or "Reason"), headers)


def ack_for(inv: Message, resp: Message, *, branch: str | None = None) -> Message:
    """An ACK as the peer's client transaction builds it for a non-2xx (§17.1.1.3); with
    ``branch`` a new one, as a UAC does for the ACK of a 2xx (§13.2.2.4)."""
    top = inv.headers["via"][0]
    if branch is not None:
        top = Via(top.version, top.protocol, top.sent_by, {**top.params, "branch": branch})
    headers: dict[str, Any] = {
        "via": [top],
        "max_forwards": 70,
        "from": inv.headers["from"],
        "to": resp.headers["to"],
        "call_id": inv.headers["call_id"],
        "cseq": CSeq(inv.headers["cseq"].seq, Method.ACK),
    }
    line = inv.start_line
    assert isinstance(line, RequestLine)
    return Message(RequestLine(Method.ACK, line.request_uri), headers)


def cancel_for(inv: Message) -> Message:
    """A CANCEL per §9.1: same Request-URI, Call-ID, To, From, CSeq number; one Via equal
    to the INVITE's top Via."""
    line = inv.start_line
    assert isinstance(line, RequestLine)
    h = inv.headers
    headers: dict[str, Any] = {
        "via": [h["via"][0]],
        "max_forwards": 70,
        "from": h["from"],
        "to": h["to"],
        "call_id": h["call_id"],
        "cseq": CSeq(h["cseq"].seq, Method.CANCEL),
    }
    return Message(RequestLine(Method.CANCEL, line.request_uri), headers)


def kinds(actions: list[Any]) -> list[str]:
    """Action class names, for compact assertions on the shape of an action list."""
    return [type(a).__name__ for a in actions]


def drain(layer: TransactionLayer, until: float) -> list[tuple[float, Any]]:
    """Run the fake clock: call handle_timers at each deadline up to ``until``; return
    (time, action) pairs in order."""
    out: list[tuple[float, Any]] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        out.extend((deadline, a) for a in layer.handle_timers(deadline))
    return out
