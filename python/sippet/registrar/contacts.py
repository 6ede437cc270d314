"""The Contact values of a REGISTER, read as RFC 3261 §10.3 steps 6 and 7 ask.

Each value becomes a ``ContactRequest``: the URI exactly as written (URI parameters and
escaped headers kept), the header parameters apart from it, the ``q`` value, and the expiry
requested (Contact ``expires`` parameter, else the Expires header, else the registrar's
default). Malformed values are ``BadContact`` errors, which the registrar answers with 400.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sippet.headers import NameAddr, Params
from sippet.uri import URI

EXPIRES_PARAM = "expires"
Q_PARAM = "q"

DELTA_SECONDS_CAP = 2**32 - 1
"""RFC 3261 §20.19 (Expires) and §20.10 (the ``expires`` Contact parameter): delta-seconds
above 2**32-1 are taken as 2**32-1."""

# RFC 3261 §25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_DELTA_SECONDS = re.compile(r"[0-9]+")


class BadContact(ValueError):
    """A Contact value the registrar cannot take (answered with 400)."""


class ContactRequest(NamedTuple):
    """One Contact value of a REGISTER: ``expires`` is the requested interval in seconds
    (0 asks to remove the binding)."""

    display_name: str
    uri: URI
    params: Params
    q: float | None
    expires: int


def delta_seconds(text: str) -> int:
    """A delta-seconds value (§25.1: 1*DIGIT), capped at 2**32-1; ``BadContact`` if it is
    not one."""
    if not _DELTA_SECONDS.fullmatch(text):
        raise BadContact(f"expires is not a number of seconds: {text!r}")
    # Any run of digits longer than the cap's is above it: no need to convert it whole.
    if len(text) > len(str(DELTA_SECONDS_CAP)):
        return DELTA_SECONDS_CAP
    return min(int(text), DELTA_SECONDS_CAP)


def qvalue(text: str | None) -> float:
    """A qvalue (§20.10, §25.1): 0 to 1 with at most three decimals."""
    if text is None or not _QVALUE.fullmatch(text):
        raise BadContact(f"q is not a qvalue: {text!r}")
    return float(text)


def format_qvalue(q: float) -> str:
    """``0.5`` -> ``"0.5"``, ``1.0`` -> ``"1"``: the shortest qvalue text for ``q``."""
    return f"{q:.3f}".rstrip("0").rstrip(".")


def read_contact(
    value: NameAddr, header_expires: int | None, default_expires: int
) -> ContactRequest:
    """A ``ContactRequest`` for one Contact value (§10.3 step 7's expiry rule)."""
    display_name, uri, params = value
    others: Params = {}
    expires: int | None = None
    q: float | None = None
    for name, param in params.items():
        if name == EXPIRES_PARAM:
            if param is None:
                raise BadContact("expires parameter without a value")
            expires = delta_seconds(param)
        elif name == Q_PARAM:
            q = qvalue(param)
        else:
            others[name] = param
    if expires is None:
        expires = header_expires if header_expires is not None else default_expires
    return ContactRequest(display_name, uri, others, q, expires)
