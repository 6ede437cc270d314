"""``Destination``: one place a request can be sent, as RFC 3263 resolution yields it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IPFamily(enum.IntEnum):
    """The IP version of an address. Kept apart from ``socket.AF_*`` (whose values depend
    on the platform) so that the pure resolver imports no socket module; the adapter maps."""

    IPV4 = 4
    IPV6 = 6


@dataclass(frozen=True, slots=True)
class Destination:
    """Where to send: a transport (upper case, as in Via), an IP address (no brackets) and
    a port, plus the names it was found through.

    - ``host``: the name whose A/AAAA record gave ``address`` (an SRV target, or the URI's
      host), or the address itself for a numeric host.
    - ``domain``: the name resolution started from (RFC 3263 §4 TARGET: ``maddr`` or the
      URI host). TLS verifies the server's certificate against this name, not against an
      SRV target (RFC 5922 §4.1); for a numeric host it is the address.
    """

    transport: str
    family: IPFamily
    address: str
    port: int
    host: str
    domain: str

    def __str__(self) -> str:
        shown = f"[{self.address}]" if self.family is IPFamily.IPV6 else self.address
        return f"{self.transport.lower()}:{shown}:{self.port} ({self.host})"
