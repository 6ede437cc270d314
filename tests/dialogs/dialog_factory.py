"""Messages for the dialog tests, built in code: Alice (UAC, atlanta.com) calls Bob (UAS,
biloxi.com) through two record-routing proxies, as in RFC 3261 §24.2."""

from __future__ import annotations

from typing import Any

from sippet import CSeq, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.dialogs import Action, DialogLayer, DialogSettings
from sippet.ids import create_branch
from sippet.uri import URI

ALICE_VIA = Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), {"branch": "z9hG4bKinv1"})
BOB_VIA = Via((2, 0), "UDP", SentBy("192.0.2.4", None), {})
ALICE_CONTACT = NameAddr("", URI("sip", "alice", host="pc33.atlanta.com"), {})
BOB_CONTACT = NameAddr("", URI("sip", "bob", host="192.0.2.4"), {})
PROXY1 = NameAddr("", URI("sip", host="p1.atlanta.com", parameters={"lr": None}), {})
PROXY2 = NameAddr("", URI("sip", host="p2.biloxi.com", parameters={"lr": None}), {})
CALL_ID = "a84b4c76e66710@pc33.atlanta.com"
ALICE_TAG = "1928301774"


def uac_layer(**settings: Any) -> DialogLayer:
    return DialogLayer(ALICE_VIA, DialogSettings(**settings))


def uas_layer(**settings: Any) -> DialogLayer:
    return DialogLayer(BOB_VIA, DialogSettings(**settings))


def invite(
    *,
    seq: int = 314159,
    call_id: str = CALL_ID,
    from_tag: str = ALICE_TAG,
    record_route: list[NameAddr] | None = None,
    uri: URI | None = None,
    protocol: str = "UDP",
    extra: dict[str, Any] | None = None,
) -> Message:
    """Alice's initial INVITE, as it reaches Bob (the proxies' Vias below hers)."""
    headers: dict[str, Any] = {
        "via": [
            Via((2, 0), protocol, SentBy("pc33.atlanta.com", None), {"branch": create_branch()})
        ],
        "max_forwards": 70,
        "from": NameAddr("Alice", URI("sip", "alice", host="atlanta.com"), {"tag": from_tag}),
        "to": NameAddr("Bob", URI("sip", "bob", host="biloxi.com"), {}),
        "call_id": call_id,
        "cseq": CSeq(seq, Method.INVITE),
        "contact": [ALICE_CONTACT],
    }
    if record_route:
        headers["record_route"] = record_route
    if extra:
        headers.update(extra)
    request_uri = uri if uri is not None else URI("sip", "bob", host="biloxi.com")
    return Message(RequestLine(Method.INVITE, request_uri), headers, b"v=0\r\n")


def answer(
    request: Message,
    status: int,
    *,
    to_tag: str | None = "a6c85cf",
    contact: NameAddr | None = BOB_CONTACT,
) -> Message:
    """Bob's response: §8.2.6 copies (with the request's Record-Route for 101-299), his
    Contact for 101-299."""
    response = request.to_response(status, to_tag=to_tag)
    if to_tag is None and status > 100:
        to = response.headers["to"]
        response.headers["to"] = NameAddr(to.display_name, to.uri, {})
    if contact is not None and 100 < status < 300:
        response.headers["contact"] = [contact]
    return response


def kinds(actions: list[Action]) -> list[str]:
    return [type(action).__name__ for action in actions]


def with_branch(request: Message, branch: str) -> Message:
    copy = request.copy()
    top = copy.headers["via"][0]
    copy.headers["via"] = [Via(top.version, top.protocol, top.sent_by, {"branch": branch})]
    return copy


def from_caller(
    initial: Message,
    method: Method | str,
    seq: int,
    to_tag: str,
    *,
    contact: NameAddr | None = None,
) -> Message:
    """A request Alice sends in the dialog Bob's ``to_tag`` answered ``initial`` with."""
    headers = dict(initial.headers)
    to = headers["to"]
    headers["to"] = NameAddr(to.display_name, to.uri, {"tag": to_tag})
    headers["cseq"] = CSeq(seq, method)
    headers["via"] = [
        Via((2, 0), "UDP", SentBy("pc33.atlanta.com", None), {"branch": create_branch()})
    ]
    headers.pop("record_route", None)
    headers.pop("contact", None)
    if contact is not None:
        headers["contact"] = [contact]
    return Message(RequestLine(method, BOB_CONTACT.uri), headers)
