"""The proxy's configuration: who it is, what it is responsible for, its limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sippet.headers import SentBy
from sippet.uri import URI

TIMER_C = 181.0
"""RFC 3261 §16.6 step 11: Timer C "MUST be larger than 3 minutes"."""

CONTEXT_LINGER = 32.0
"""How long a response context outlives its final response: 64*T1, the time a UAS
retransmits its 2xx (§13.3.1.4) and RFC 6026 keeps the transactions in Accepted, so that
every 2xx of every branch is still forwarded (§16.7 step 5)."""

MAX_CONTEXTS = 10_000
"""Response contexts kept at once; past it a new request gets 503 (Service Unavailable)."""

MAX_TARGETS = 16
"""Targets tried for one request; the target set is cut to the first ones by q-value."""

DEFAULT_MAX_FORWARDS = 70
"""RFC 3261 §16.6 step 3: Max-Forwards of a request that had none."""


@dataclass(frozen=True)
class ProxyConfig:
    """What a proxy core is and knows.

    - ``interfaces``: the address it listens on for each transport protocol (upper case, as
      in Via: ``{"UDP": SentBy("192.0.2.1", 5060)}``). Its Via sent-by and Record-Route
      URIs are made from these, and a URI naming one of them is "its own" (§16.4).
    - ``aliases``: other host names that designate the proxy itself (its own URIs, §16.4).
    - ``domains``: the domains it is responsible for: a request for one of them, with no
      Route left, needs a target set from the application (§16.5, ``Lookup``).
    - ``any_domain``: responsible for every domain: each request outside a dialog with no
      Route left goes to the application for its target set (which may be the
      Request-URI itself, to relay it), e.g. a registrar-proxy that serves whatever domain
      its users register. Requests inside a dialog follow the rule above.
    - ``record_route``: stay on the path of the dialogs it forwards (§16.6 step 4).
    - ``supported``: the option tags it understands in Proxy-Require (§16.3 step 5).
    - ``outbound_route``: loose-routing proxies every forwarded request must visit,
      pushed on top of Route (§16.6 step 6).
    - ``timer_c``, ``context_linger``, ``max_contexts``, ``max_targets``: see the
      module constants.
    """

    interfaces: Mapping[str, SentBy]
    aliases: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    any_domain: bool = False
    record_route: bool = True
    supported: frozenset[str] = frozenset()
    outbound_route: tuple[URI, ...] = ()
    timer_c: float = TIMER_C
    context_linger: float = CONTEXT_LINGER
    max_contexts: int = MAX_CONTEXTS
    max_targets: int = MAX_TARGETS
    max_forwards: int = DEFAULT_MAX_FORWARDS
    _own: frozenset[tuple[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.interfaces:
            raise ValueError("a proxy needs at least one interface")
        if self.timer_c <= 180.0:
            raise ValueError("RFC 3261 §16.6 step 11: Timer C must be larger than 3 minutes")
        if self.max_contexts < 1 or self.max_targets < 1:
            raise ValueError("max_contexts and max_targets must be positive")
        ports = {sent_by.port or 5060 for sent_by in self.interfaces.values()}
        own = {(sent_by.host.lower(), sent_by.port or 5060) for sent_by in self.interfaces.values()}
        own |= {(alias.lower(), port) for alias in self.aliases for port in ports}
        object.__setattr__(self, "_own", frozenset(own))
        object.__setattr__(self, "aliases", frozenset(a.lower() for a in self.aliases))
        object.__setattr__(self, "domains", frozenset(d.lower() for d in self.domains))

    def is_own(self, host: str | None, port: int | None, default_port: int = 5060) -> bool:
        """True when ``host:port`` (``default_port`` when absent) is one of the proxy's."""
        if host is None:
            return False
        return (host.lower(), port if port is not None else default_port) in self._own

    def interface(self, protocol: str) -> SentBy:
        """The interface for ``protocol``, else the first one (a request leaving over a
        protocol the proxy does not listen on fails in the stack, not here)."""
        found = self.interfaces.get(protocol.upper())
        return found if found is not None else next(iter(self.interfaces.values()))
