"""RFC 3263: locating SIP servers with DNS (NAPTR, SRV, A/AAAA).

The modules here are pure: ``Resolution`` turns a ``Lookup`` and the DNS answers it is given
into ordered ``Destination`` values; ``DnsCache`` keeps answers by TTL on the caller's clock.
``sippet.resolve.dns_resolver.DnsResolver`` is the asyncio adapter (dnspython); it is not
imported here, so that the pure parts load without asyncio or a DNS library.
"""

from sippet.resolve.cache import DnsCache
from sippet.resolve.destination import Destination, IPFamily
from sippet.resolve.limits import ResolveLimits
from sippet.resolve.lookup import Lookup
from sippet.resolve.naptr import Service, naptr_services
from sippet.resolve.records import (
    AddressRecord,
    Answer,
    NaptrRecord,
    Outcome,
    Query,
    RecordType,
    SrvRecord,
)
from sippet.resolve.resolution import FailureReason, Resolution
from sippet.resolve.srv import RandomSource, order_srv
from sippet.resolve.transports import DEFAULT_TRANSPORTS, TRANSPORTS, TransportInfo

__all__ = [
    "DEFAULT_TRANSPORTS",
    "TRANSPORTS",
    "AddressRecord",
    "Answer",
    "Destination",
    "DnsCache",
    "FailureReason",
    "IPFamily",
    "Lookup",
    "NaptrRecord",
    "Outcome",
    "Query",
    "RandomSource",
    "RecordType",
    "Resolution",
    "ResolveLimits",
    "Service",
    "SrvRecord",
    "TransportInfo",
    "naptr_services",
    "order_srv",
]
