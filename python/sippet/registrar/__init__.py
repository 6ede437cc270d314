"""The registrar (RFC 3261 §10.3) and the location store.

Pure parts, no I/O and no clock: ``Registrar`` (the steps of §10.3 over a
``RegistrarPolicy``), ``Binding`` and ``Source`` (what the store keeps), ``aor_key``, and
``LocationStore`` (the asynchronous interface of the stores). The stores themselves
(``sippet.registrar.stores``: memory, SQLite, Redis) and the asyncio binding to a
``sippet.Stack`` (``sippet.registrar.service``) are imported from their modules, so that
the pure parts load without them.
"""

from sippet.registrar.binding import Binding, Source, address_of_record, aor_key
from sippet.registrar.core import Forward, Registrar, Registration, Reply, contact_value
from sippet.registrar.policy import (
    Authenticate,
    Authenticated,
    Authorize,
    NotOurDomain,
    PathPolicy,
    RegistrarPolicy,
)
from sippet.registrar.store import Compute, LocationStore, StoreError
from sippet.registrar.update import Accepted, Refused

__all__ = [
    "Accepted",
    "Authenticate",
    "Authenticated",
    "Authorize",
    "Binding",
    "Compute",
    "Forward",
    "LocationStore",
    "NotOurDomain",
    "PathPolicy",
    "Refused",
    "Registrar",
    "RegistrarPolicy",
    "Registration",
    "Reply",
    "Source",
    "StoreError",
    "address_of_record",
    "aor_key",
    "contact_value",
]
