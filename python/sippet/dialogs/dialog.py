"""A dialog's state (RFC 3261 §12.1) and how both sides create it.

A ``Dialog`` is the peer-to-peer relationship §12 describes: its id (Call-ID, local tag,
remote tag), the local and remote URIs, the remote target, the route set, the local and
remote CSeq numbers and the ``secure`` flag. It holds no message, so a confirmed dialog
costs a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """One dialog. Read its fields; change it only through ``DialogLayer``.

    The URIs are kept as their text and parsed when read: a URI value with its parameter
    dicts costs several times its text, and a dialog reads them only to build a request.
    """

    __slots__ = (
        "_local_uri",
        "_remote_target",
        "_remote_uri",
        "_route_set",
        "contact",
        "id",
        "is_uac",
        "local_seq",
        "pending_invite",
        "remote_seq",
        "secure",
        "state",
        "unacked",
        "via",
    )

    id: DialogId
    state: DialogState
    is_uac: bool
    """True when this side sent the INVITE that created the dialog."""
    local_seq: int | None
    """The last CSeq number this side sent; None until it sends (a UAS, §12.1.1)."""
    remote_seq: int | None
    """The last CSeq number the peer sent; None until it sends (a UAC, §12.1.2)."""
    secure: bool
    """§12.1.1: the request arrived over TLS with a SIPS Request-URI (§12.1.2: was sent so)."""
    contact: NameAddr | None
    """This side's Contact, copied into target refresh requests (§12.2.1.1)."""
    via: Via | None
    """The Via template (protocol and sent-by) for requests built in this dialog; None
    for the layer's own."""
    pending_invite: object | None
    """The INVITE transaction in progress in this dialog, either direction (§14)."""
    unacked: object | None
    """The UAS's 2xx retransmitted until its ACK arrives (§13.3.1.4)."""

    _local_uri: str
    _remote_uri: str
    _remote_target: str
    _route_set: tuple[str, ...]

    @property
    def local_uri(self) -> URI:
        """The URI of the From of requests this side sends (with the local tag)."""
        return URI.parse(self._local_uri)

    @property
    def remote_uri(self) -> URI:
        """The URI of the To of requests this side sends (with the remote tag)."""
        return URI.parse(self._remote_uri)

    @property
    def remote_target(self) -> URI:
        """The Request-URI of requests this side sends (§12.1.1: from the peer's Contact)."""
        return URI.parse(self._remote_target)

    @remote_target.setter
    def remote_target(self, uri: URI) -> None:
        self._remote_target = str(uri)

    @property
    def route_set(self) -> tuple[NameAddr, ...]:
        """The Route of requests this side sends, in order (§12.1.1, §12.1.2)."""
        return tuple(NameAddr("", URI.parse(text), {}) for text in self._route_set)

    @route_set.setter
    def route_set(self, routes: Iterable[NameAddr]) -> None:
        self._route_set = tuple(str(route.uri) for route in routes)

    @property
    def local(self) -> NameAddr:
        """The From of requests this side sends: local URI and tag (§12.2.1.1)."""
        return _name_addr(self._local_uri, self.id.local_tag)

    @property
    def remote(self) -> NameAddr:
        """The To of requests this side sends: remote URI and tag (§12.2.1.1)."""
        return _name_addr(self._remote_uri, self.id.remote_tag)

    def __repr__(self) -> str:
        return f"<Dialog {self.state.value} {self.id}>"


def _name_addr(uri_text: str, tag: str) -> NameAddr:
    # An RFC 2543 peer's empty tag is written as no tag at all.
    return NameAddr("", URI.parse(uri_text), {"tag": tag} if tag else {})


def _template(via: Via | None, default: Via) -> Via | None:
    """The Via template a dialog keeps: None when the layer's own will do."""
    if via is None:
        return None
    rport = "rport" in via.params
    if (via.protocol, via.sent_by, rport) == (
        default.protocol,
        default.sent_by,
        "rport" in default.params,
    ):
        return None
    return Via(via.version, via.protocol, via.sent_by, {"rport": None} if rport else {})


def tag_of(value: NameAddr) -> str:
    """The tag of a From or To value; the empty string without one (RFC 2543, §12.1.1)."""
    tag: str | None = value.params.get("tag")
    return tag or ""


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


def uas_dialog(request: Message, response: Message) -> Dialog:
    """RFC 3261 §12.1.1: the dialog a UAS creates by answering ``request`` with
    ``response`` (a 101-299 with a To tag).

    Route set: the request's Record-Route in order. Remote target: the request's Contact
    (its From URI when it has none). Remote CSeq: the request's. Local CSeq: empty.
    """
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    dialog = Dialog()
    dialog.id = DialogId(
        headers["call_id"], tag_of(response.headers["to"]), tag_of(headers["from"])
    )
    dialog.state = DialogState.CONFIRMED if response_code(response) >= 200 else DialogState.EARLY
    dialog.is_uac = False
    dialog._local_uri = str(response.headers["to"].uri)
    dialog._remote_uri = str(headers["from"].uri)
    dialog.remote_target = _contact_uri(request) or headers["from"].uri
    dialog.route_set = headers.get("record_route") or ()
    dialog.local_seq = None
    dialog.remote_seq = headers["cseq"].seq
    dialog.secure = _is_secure(request)
    dialog.contact = first_contact(response)
    dialog.via = None
    dialog.pending_invite = None
    dialog.unacked = None
    return dialog


def uac_dialog(request: Message, response: Message, default_via: Via) -> Dialog:
    """RFC 3261 §12.1.2: the dialog a UAC creates from a 101-299 response with a To tag.

    Route set: the response's Record-Route reversed. Remote target: the response's Contact
    (the request's Request-URI when it has none). Local CSeq: the request's. Remote CSeq:
    empty.
    """
    start = request.start_line
    assert isinstance(start, RequestLine)
    headers = request.headers
    dialog = Dialog()
    dialog.id = DialogId(
        headers["call_id"], tag_of(headers["from"]), tag_of(response.headers["to"])
    )
    dialog.state = DialogState.CONFIRMED if response_code(response) >= 200 else DialogState.EARLY
    dialog.is_uac = True
    dialog._local_uri = str(headers["from"].uri)
    dialog._remote_uri = str(response.headers["to"].uri)
    dialog.remote_target = _contact_uri(response) or start.request_uri
    dialog.route_set = uac_route_set(response)
    dialog.local_seq = headers["cseq"].seq
    dialog.remote_seq = None
    dialog.secure = _is_secure(request)
    dialog.contact = first_contact(request)
    vias = headers.get("via")
    dialog.via = _template(vias[0] if vias else None, default_via)
    dialog.pending_invite = None
    dialog.unacked = None
    return dialog


def uac_route_set(response: Message) -> list[NameAddr]:
    """§12.1.2: the Record-Route of the response, in reverse order."""
    return list(reversed(response.headers.get("record_route") or ()))


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
