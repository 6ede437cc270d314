"""What the location service keeps: ``Binding`` values per address-of-record (AOR).

RFC 3261 §10.3: a binding maps an AOR to a contact address, with the expiry the registrar
chose and the Call-ID and CSeq of the REGISTER that last wrote it (step 7 compares them so
that out-of-order requests are refused). Beside those, a binding keeps what a proxy needs to
reach the contact: the Path the REGISTER gathered (RFC 3327 §5.3) and where the REGISTER
came from (``Source``), for contacts behind NAT or on a connection (RFC 5626 §5.3 uses the
same idea for flows).

Times are seconds on the store's clock (wall clock by default, so that several nodes sharing
one store agree on them); the registrar core never reads a clock itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sippet.headers import NameAddr
from sippet.uri import URI

INSTANCE_PARAM = "+sip.instance"
"""RFC 5626 §4.1 / RFC 5627: the Contact parameter naming one UA instance (a URN)."""

REG_ID_PARAM = "reg-id"
"""RFC 5626 §4.2: the Contact parameter numbering one of the instance's flows."""


class Source(NamedTuple):
    """Where a REGISTER came from: the transport protocol (upper case, as in Via), the
    source address and port, and the transport's id of the connection it arrived on
    (``None`` over UDP or when the transport gives none).

    RFC 3581 §4 and RFC 5626 §5.3: a UA behind NAT is reached at the address its
    requests came from, not at the one its Contact names; over TCP/TLS/WS, only through
    the connection it opened.
    """

    protocol: str
    host: str
    port: int
    connection: str | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """One contact address bound to an AOR.

    - ``contact``: the Contact URI as registered: URI parameters and escaped URI headers
      kept (RFC 4475 ``cparam02``, ``regescrt``).
    - ``expires_at``: when the binding ends, on the store's clock. A binding with
      ``expires_at <= now`` no longer exists (the stores never return it).
    - ``call_id``, ``cseq``: of the REGISTER that last wrote it (RFC 3261 §10.3 step 7).
    - ``q``: the preference the UA gave (``q`` Contact parameter, 0 to 1), or ``None``.
    - ``params``: the other Contact header parameters, apart from the URI's own (RFC 4475
      ``cparam01``): ``+sip.instance``, ``reg-id``, ``methods``... ``expires`` and ``q``
      are not kept here (they are ``expires_at`` and ``q``).
    - ``display_name``: of the Contact value, for the 200's Contact list.
    - ``path``: the Path values of the REGISTER, in order (RFC 3327 §5.3), when stored.
    - ``source``: where the REGISTER came from (see ``Source``).
    - ``updated_at``: when the binding was last written.
    """

    contact: URI
    expires_at: float
    call_id: str
    cseq: int
    q: float | None = None
    params: Mapping[str, str | None] = field(default_factory=dict)
    display_name: str = ""
    path: tuple[NameAddr, ...] = ()
    source: Source | None = None
    updated_at: float = 0.0

    @property
    def instance_id(self) -> str | None:
        """The ``+sip.instance`` value (RFC 5626 §4.1), without its angle brackets."""
        value = self.params.get(INSTANCE_PARAM)
        if value is None:
            return None
        if value.startswith("<") and value.endswith(">"):
            return value[1:-1]
        return value

    @property
    def reg_id(self) -> int | None:
        """The ``reg-id`` value (RFC 5626 §4.2), when it is a number."""
        value = self.params.get(REG_ID_PARAM)
        if value is None or not (value.isascii() and value.isdigit()):
            return None
        return int(value)

    def is_live(self, now: float) -> bool:
        return self.expires_at > now

    def remaining(self, now: float) -> int:
        """Whole seconds left (rounded up, so a live binding never shows 0)."""
        return max(0, math.ceil(self.expires_at - now))


def address_of_record(uri: URI) -> URI:
    """The canonical form of an AOR (RFC 3261 §10.3 step 5): every URI parameter and
    header removed, escapes undone (``URI`` stores its parts decoded), the password
    dropped, the host lowercased (§19.1.4: hosts compare case-insensitively)."""
    host = uri.host.lower() if uri.host is not None else None
    return URI(uri.scheme, uri.user, None, host, uri.port)


def aor_key(uri: URI) -> str:
    """The index of an AOR in a store: the text of its canonical form
    (``sip:alice@example.com``). Two URIs of one AOR give the same key."""
    return str(address_of_record(uri))
