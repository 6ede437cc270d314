"""From the location service to a proxy's target set (RFC 3261 §16.5): each live binding
of an AOR becomes a ``ProxyTarget``.

- The contact is the new Request-URI, with the binding's ``q`` (§16.6: higher first).
- A stored Path is pushed as Route for that target only (RFC 3327 §5.4).
- ``next_hop`` is where the REGISTER came from (``Source``) when the contact alone would
  not reach the UA: it came over TCP or TLS (the transport layer reuses the open
  connection to that address, RFC 5626 §5.3; the port is exact when the UA asked for
  ``rport``, else its sent-by port, where §18.2.2 has it listen), or from another host
  than the one its Contact names (a UA behind NAT registers a private address, RFC 3581
  §4). A contact registered by another program on the same host keeps its own address.
  Over WebSocket never: the client's Contact names a ``.invalid`` host that the
  transport layer routes over the client's own connection (RFC 7118 §5), and its source
  port is unknown unless it asked for ``rport``.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sippet.message import Target
from sippet.proxy.forward import ProxyTarget
from sippet.registrar.binding import Binding

_CONNECTION_PROTOCOLS = frozenset({"TCP", "TLS"})
_WEBSOCKET_PROTOCOLS = frozenset({"WS", "WSS"})
DEFAULT_Q = 1.0
"""§20.10: a contact without ``q`` ranks as the highest preference."""


def target_of(binding: Binding) -> ProxyTarget:
    """The proxy target for one binding (see the module docstring)."""
    route = tuple(path.uri for path in binding.path)
    q = binding.q if binding.q is not None else DEFAULT_Q
    return ProxyTarget(binding.contact, q, route, None if route else _next_hop(binding))


def targets_of(bindings: Iterable[Binding]) -> list[ProxyTarget]:
    """The target set of an AOR's live bindings, in stored order."""
    return [target_of(binding) for binding in bindings]


def _next_hop(binding: Binding) -> Target | None:
    source = binding.source
    if source is None or source.protocol in _WEBSOCKET_PROTOCOLS:
        return None
    contact_host = (binding.contact.host or "").lower().strip("[]")
    if source.protocol in _CONNECTION_PROTOCOLS or contact_host != source.host.lower():
        return Target(source.protocol, source.host, source.port)
    return None
