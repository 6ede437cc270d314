"""Requests built from a dialog (RFC 3261 §12.2.1.1, §13.2.2.4) and CANCEL (§9.1).

Pure functions: they read a ``Dialog`` or a request and return a new ``Message``; the
dialog's CSeq is advanced by the layer, not here.
"""

from __future__ import annotations

from typing import Any

from sippet.dialogs.dialog import Dialog
from sippet.dialogs.errors import DialogError
from sippet.headers import CSeq, NameAddr, Via
from sippet.ids import create_branch
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.uri import URI

DEFAULT_MAX_FORWARDS = 70
"""RFC 3261 §8.1.1.6: "a UAC MUST insert a Max-Forwards header field ... SHOULD be 70"."""

TARGET_REFRESH_METHODS: frozenset[str] = frozenset(
    {"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"}
)
"""Requests that refresh the remote target: RFC 3261 §12.2 (re-INVITE), RFC 3311 §5.1
(UPDATE), RFC 6665 §4.1.2.1 and §4.1.3 (SUBSCRIBE, NOTIFY), RFC 3515 §2.4.4 (REFER)."""

# RFC 3261 §9.1: a CANCEL MUST NOT carry Require or Proxy-Require; only these are copied.
_CANCEL_COPIED = ("from", "to", "call_id")


def new_via(template: Via) -> Via:
    """A top Via for a new request: the template's protocol and sent-by, a fresh branch
    (§8.1.1.7), and ``rport`` when the template asked for it (RFC 3581 §3)."""
    params: dict[str, str | None] = {"branch": create_branch()}
    if "rport" in template.params:
        params["rport"] = None
    return Via(template.version, template.protocol, template.sent_by, params)


def route_request_uri(dialog: Dialog) -> tuple[URI, list[NameAddr]]:
    """§12.2.1.1: the Request-URI and Route of a request in the dialog, in the loose form:
    the remote target, then the route set as is.

    When the first route is a strict router (no ``lr``), §12.2.1.1 moves its URI into the
    Request-URI and the remote target to the end of Route. That rewrite is done at send
    time by ``Stack.send`` (``sippet.stack.routing.apply_strict_route``), the one place that
    does it for every request, preloaded routes included (§8.1.2); doing it here as well would
    rewrite the request twice.
    """
    return dialog.remote_target, list(dialog.route_set)


def build_in_dialog(dialog: Dialog, method: Method | str, seq: int, via: Via) -> Message:
    """A request within ``dialog`` (§12.2.1.1): To is the remote URI and tag, From the
    local URI and tag, the dialog's Call-ID, CSeq ``seq`` with ``method``, Request-URI and
    Route from the route set, Max-Forwards 70, ``via`` on top, and this side's Contact in
    a target refresh request."""
    request_uri, routes = route_request_uri(dialog)
    headers: dict[str, Any] = {
        "via": [via],
        "max_forwards": DEFAULT_MAX_FORWARDS,
        "from": dialog.local,
        "to": dialog.remote,
        "call_id": dialog.id.call_id,
        "cseq": CSeq(seq, method),
    }
    if routes:
        headers["route"] = routes
    if str(method) in TARGET_REFRESH_METHODS and dialog.contact is not None:
        headers["contact"] = [dialog.contact]
    return Message(RequestLine(method, request_uri), headers)


def build_ack(
    dialog: Dialog,
    invite: Message,
    via: Via,
    body: bytes = b"",
    content_type: Any = None,
) -> Message:
    """The ACK of a 2xx (§13.2.2.4): built as a request in the dialog, with the INVITE's
    CSeq number and the INVITE's credentials (Authorization, Proxy-Authorization)."""
    ack = build_in_dialog(dialog, Method.ACK, invite.headers["cseq"].seq, via)
    for key in ("authorization", "proxy_authorization"):
        if key in invite.headers:
            ack.headers[key] = invite.headers[key]
    if body:
        ack.body = body
        if content_type is not None:
            ack.headers["content_type"] = content_type
    return ack


def build_cancel(request: Message) -> Message:
    """The CANCEL of ``request`` (RFC 3261 §9.1).

    Same Request-URI, Call-ID, To, From and CSeq number (method CANCEL); a single Via,
    the request's top Via (same branch, so it reaches the same server transaction); the
    request's Route; Max-Forwards 70; no Require or Proxy-Require; no body. It goes where
    the request went (its ``target`` is copied). Raises ``DialogError`` (``ack_method``)
    for an ACK or CANCEL, which cannot be cancelled, and (``invalid_request``) for a
    request without Via or CSeq.
    """
    start = request.start_line
    if not isinstance(start, RequestLine):
        raise DialogError("build_cancel() needs a request", reason="invalid_request")
    if str(start.method) in (Method.ACK, Method.CANCEL):
        raise DialogError(f"a {start.method} cannot be cancelled", reason="ack_method")
    headers = request.headers
    vias = headers.get("via")
    if not vias or "cseq" not in headers:
        raise DialogError("the request has no Via or CSeq", reason="invalid_request")
    cancel_headers: dict[str, Any] = {"via": [vias[0]], "max_forwards": DEFAULT_MAX_FORWARDS}
    for key in _CANCEL_COPIED:
        if key in headers:
            cancel_headers[key] = headers[key]
    cancel_headers["cseq"] = CSeq(headers["cseq"].seq, Method.CANCEL)
    if headers.get("route"):
        cancel_headers["route"] = headers["route"]
    return Message(
        RequestLine(Method.CANCEL, start.request_uri), cancel_headers, b"", request.target
    )
