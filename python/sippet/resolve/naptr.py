"""RFC 3263 §4.1: which NAPTR records name a SIP service the client can use, best first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sippet.resolve.records import NaptrRecord
from sippet.resolve.transports import TRANSPORT_BY_NAPTR_SERVICE, TRANSPORTS


class Service(NamedTuple):
    """A transport and the SRV owner name where its servers are listed."""

    transport: str
    srv_name: str


def naptr_services(
    records: Iterable[NaptrRecord], *, secure_only: bool, transports: Iterable[str]
) -> list[Service]:
    """The usable services of a NAPTR answer, in (order, preference) order (RFC 3403 §4.1).

    Kept: records with flag ``s`` (the next lookup is SRV), an empty regexp and a
    replacement (RFC 3263 §4.1 uses no other kind), whose service maps to a transport in
    ``transports`` (``SIP+D2U`` -> UDP, ``SIPS+D2T`` -> TLS, ``SIP+D2W`` -> WS...).
    ``secure_only`` (a ``sips:`` URI) keeps only ``SIPS+`` services (§4.1: "MUST discard any
    services that do not contain SIPS"). Other flags (non-terminal records, ``a``, ``u``)
    are discarded: SIP's use of NAPTR never needs them. The same SRV name is followed once.
    """
    usable = {name.upper() for name in transports}
    ordered = sorted(records, key=lambda record: (record.order, record.preference))
    services: list[Service] = []
    seen: set[str] = set()
    for record in ordered:
        if record.flags.lower() != "s" or record.regexp or not record.replacement:
            continue
        transport = TRANSPORT_BY_NAPTR_SERVICE.get(record.service.upper())
        if transport is None or transport not in usable:
            continue
        if secure_only and not TRANSPORTS[transport].secure:
            continue
        if record.replacement in seen:
            continue
        seen.add(record.replacement)
        services.append(Service(transport, record.replacement))
    return services
