"""A dialog's state (RFC 3261 §12.1) and how both sides create it.

A ``Dialog`` is the peer-to-peer relationship §12 describes: its id (Call-ID, local tag,
remote tag), the local and remote URIs, the remote target, the route set, the local and
remote CSeq numbers and the ``secure`` flag. It holds no message, so a confirmed dialog
costs a few hundred bytes.
"""

from __future__ import annotations

from typing import NamedTuple

from sippet.dialogs.state import DialogState
from sippet.headers import NameAddr, Via
from sippet.message import Message, RequestLine, StatusLine
from sippet.uri import URI


class DialogId(NamedTuple):
    """RFC 3261 §12: Call-ID, local tag and remote tag. An RFC 2543 peer that sent no tag
    has the empty string as its tag (§12.1.1, §12.1.2)."""

    call_id: str
    local_tag: str
    remote_tag: str


class Dialog:
    """One dialog. Read its fields; change it only through ``DialogLayer``."""

    __slots__ = (
        "contact",
        "id",
        "is_uac",
        "local",
        "local_seq",
        "pending_invite",
        "remote",
        "remote_seq",
        "remote_target",
        "route_set",
        "secure",
        "state",
        "unacked",
        "via",
    )

    id: DialogId
    state: DialogState
    is_uac: bool
    """True when this side sent the INVITE that created the dialog."""
    local: NameAddr
    """The local URI with the local tag: the From of requests this side sends."""
    remote: NameAddr
    """The remote URI with the remote tag: the To of requests this side sends."""
    remote_target: URI
    """The Request-URI of requests this side sends (§12.1.1: from the peer's Contact)."""
    route_set: tuple[NameAddr, ...]
    """The Route of requests this side sends, in order (§12.1.1, §12.1.2)."""
    local_seq: int | None
    """The last CSeq number this side sent; None until it sends (a UAS, §12.1.1)."""
    remote_seq: int | None
    """The last CSeq number the peer sent; None until it sends (a UAC, §12.1.2)."""
    secure: bool
    """§12.1.1: the request arrived over TLS with a SIPS Request-URI (§12.1.2: was sent so)."""
    contact: NameAddr | None
    """This side's Contact, copied into target refresh requests (§12.2.1.1)."""
    via: Via | None
    """The Via template (protocol and sent-by) for requests built in this dialog."""
    pending_invite: object | None
    """The INVITE transaction in progress in this dialog, either direction (§14)."""
    unacked: object | None
    """The UAS's 2xx retransmitted until its ACK arrives (§13.3.1.4)."""

    def __repr__(self) -> str:
        return f"<Dialog {self.state.value} {self.id}>"


def _tag(value: NameAddr) -> str:
    return value.params.get("tag") or ""


def first_contact(message: Message) -> NameAddr | None:
    """The first Contact value of ``message``; None without one (or for ``*``)."""
    contacts = message.headers.get("contact")
    if isinstance(contacts, list) and contacts:
        contact: NameAddr = contacts[0]
        return contact
    return None


def _contact_uri(message: Message) -> URI | None:
    contact = first_contact(message)
    return None if contact is None else contact.uri


def _is_secure(request: Message) -> bool:
    start = request.start_line
    assert isinstance(start, RequestLine)
    vias: list[Via] = request.headers.get("via") or []
    over_tls = bool(vias) and str(vias[0].protocol).upper() == "TLS"
    return over_tls and start.request_uri.scheme == "sips"


def uas_dialog(request: Message, response: Message, via: Via | None) -> Dialog:
    """RFC 3261 §12.1.1: the dialog a UAS creates by answering ``request`` with
    ``response`` (a 101-299 with a To tag).

    Route set: the request's Record-Route in order. Remote target: the request's Contact
    (its From URI when it has none). Remote CSeq: the request's. Local CSeq: empty.
    """
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    dialog = Dialog()
    dialog.id = DialogId(headers["call_id"], _tag(response.headers["to"]), _tag(headers["from"]))
    dialog.state = DialogState.CONFIRMED if response_code(response) >= 200 else DialogState.EARLY
    dialog.is_uac = False
    dialog.local = response.headers["to"]
    dialog.remote = headers["from"]
    dialog.remote_target = _contact_uri(request) or headers["from"].uri
    dialog.route_set = tuple(headers.get("record_route") or ())
    dialog.local_seq = None
    dialog.remote_seq = headers["cseq"].seq
    dialog.secure = _is_secure(request)
    dialog.contact = first_contact(response)
    dialog.via = via
    dialog.pending_invite = None
    dialog.unacked = None
    return dialog


def uac_dialog(request: Message, response: Message) -> Dialog:
    """RFC 3261 §12.1.2: the dialog a UAC creates from a 101-299 response with a To tag.

    Route set: the response's Record-Route reversed. Remote target: the response's Contact
    (the request's Request-URI when it has none). Local CSeq: the request's. Remote CSeq:
    empty.
    """
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    dialog = Dialog()
    dialog.id = DialogId(headers["call_id"], _tag(headers["from"]), _tag(response.headers["to"]))
    dialog.state = DialogState.CONFIRMED if response_code(response) >= 200 else DialogState.EARLY
    dialog.is_uac = True
    dialog.local = headers["from"]
    dialog.remote = response.headers["to"]
    dialog.remote_target = _contact_uri(response) or start.request_uri
    dialog.route_set = uac_route_set(response)
    dialog.local_seq = headers["cseq"].seq
    dialog.remote_seq = None
    dialog.secure = _is_secure(request)
    dialog.contact = first_contact(request)
    vias = headers.get("via")
    dialog.via = vias[0] if vias else None
    dialog.pending_invite = None
    dialog.unacked = None
    return dialog


def uac_route_set(response: Message) -> tuple[NameAddr, ...]:
    """§12.1.2: the Record-Route of the response, in reverse order."""
    return tuple(reversed(response.headers.get("record_route") or ()))


def refresh_target(dialog: Dialog, message: Message) -> None:
    """§12.2: a target refresh request (received by the UAS side) or its 2xx (received by
    the UAC side) replaces the remote target with its Contact, when it has one."""
    target = _contact_uri(message)
    if target is not None:
        dialog.remote_target = target


def response_code(response: Message) -> int:
    start = response.start_line
    assert isinstance(start, StatusLine)
    return start.status_code
