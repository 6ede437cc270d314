"""SIP methods: the known ones as a ``str`` enum; any other stays a plain ``str``."""

from __future__ import annotations

import enum


class Method(enum.StrEnum):
    """The methods sippet knows (RFC 3261 and its extensions).

    A ``Method`` compares equal to its wire text (``Method.INVITE == "INVITE"``). Methods are
    case-sensitive (RFC 3261 §7.1): ``"invite"`` is an unknown method, not INVITE.
    """

    ACK = "ACK"
    BYE = "BYE"
    CANCEL = "CANCEL"
    INFO = "INFO"
    INVITE = "INVITE"
    MESSAGE = "MESSAGE"
    NOTIFY = "NOTIFY"
    OPTIONS = "OPTIONS"
    PRACK = "PRACK"
    PUBLISH = "PUBLISH"
    REFER = "REFER"
    REGISTER = "REGISTER"
    SUBSCRIBE = "SUBSCRIBE"
    UPDATE = "UPDATE"


_KNOWN: dict[str, Method] = {m.value: m for m in Method}


def to_method(text: str) -> Method | str:
    """The ``Method`` for a known method name, else the text unchanged (case-sensitive)."""
    return _KNOWN.get(text, text)
