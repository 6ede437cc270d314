"""What the layer keeps besides dialogs: INVITE transactions in progress on either side
(§13, §14) and a UAS 2xx awaiting its ACK (§13.3.1.4). Each has one deadline."""

from __future__ import annotations

from typing import NamedTuple

from sippet.dialogs.dialog import DialogId
from sippet.message import Message


class InviteKey(NamedTuple):
    """An INVITE is found from its responses, its CANCEL and its ACK by Call-ID, From tag
    and CSeq number (§9.1 and §17.1.3 make these equal across all of them)."""

    call_id: str
    from_tag: str
    seq: int


class ClientInvite:
    """An INVITE this side sent: initial (``dialog_id`` None; it may fork into several
    early dialogs) or a re-INVITE in ``dialog_id``. After its first 2xx it is kept 64*T1 to
    acknowledge each retransmitted 2xx and to catch the 2xx of other forks (§13.2.2.4)."""

    __slots__ = (
        "acks",
        "auto_ack",
        "dialog_id",
        "early",
        "entry",
        "first_2xx",
        "key",
        "request",
        "reserved",
    )

    def __init__(
        self, key: InviteKey, request: Message, dialog_id: DialogId | None, auto_ack: bool
    ) -> None:
        self.key = key
        self.request = request
        self.dialog_id = dialog_id
        self.auto_ack = auto_ack
        self.early: list[DialogId] = []
        """Early dialogs made by its provisional responses (forks)."""
        self.acks: dict[DialogId, Message | None] = {}
        """The ACK sent for each 2xx'd dialog; None while ``create_ack`` is awaited."""
        self.first_2xx: DialogId | None = None
        self.reserved = False
        """True while it holds a place in ``max_dialogs`` for its first dialog."""
        self.entry: list[object] | None = None


class ServerInvite:
    """An INVITE this side received and has not answered finally yet: for CANCEL (§9.2),
    for the 491/500 rules of §14.2, and for the dialog its responses create."""

    __slots__ = ("dialog_id", "early", "entry", "key", "request", "reserved", "to_tag")

    def __init__(self, key: InviteKey, request: Message, dialog_id: DialogId | None) -> None:
        self.key = key
        self.request = request
        self.dialog_id = dialog_id
        self.early: list[DialogId] = []
        self.to_tag: str | None = None
        """The tag of its first tagged response: the 487 after a CANCEL carries it."""
        self.reserved = False
        """True while it holds a place in ``max_dialogs`` for its first dialog."""
        self.entry: list[object] | None = None


class Unacked:
    """A 2xx to an INVITE, retransmitted from T1 doubling up to T2 until the ACK arrives,
    for at most 64*T1 (§13.3.1.4)."""

    __slots__ = ("dialog_id", "entry", "give_up", "interval", "response", "seq")

    def __init__(
        self, dialog_id: DialogId, response: Message, seq: int, interval: float, give_up: float
    ) -> None:
        self.dialog_id = dialog_id
        self.response = response
        self.seq = seq
        self.interval = interval
        self.give_up = give_up
        self.entry: list[object] | None = None
