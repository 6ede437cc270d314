"""How a registrar is configured: its domains, hooks, expiry bounds and limits.

Every bound is named here with its default and the reason for it (RFC 3261 §10.3 leaves
the values to the registrar).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sippet.message import Message
from sippet.uri import URI

DEFAULT_EXPIRES = 3600
"""Seconds granted to a contact that asks for none (RFC 3261 §10.2.1.1 suggests one hour)."""

MIN_EXPIRES = 60
"""Shortest interval accepted; shorter requests get 423 with Min-Expires (§10.3 step 7).
RFC 3261 allows a 423 only below one hour, so this may not exceed 3600."""

MAX_EXPIRES = 86_400
"""Longest interval granted; longer requests are shortened to it (§10.3 step 7: the
registrar MAY choose an expiration less than the requested one)."""

MAX_BINDINGS = 16
"""Live bindings one AOR may hold; a REGISTER that would exceed it gets 403 (a policy
refusal: §21.4.4, "the request SHOULD NOT be repeated"). Bounds the store per AOR."""

ONE_HOUR = 3600


class Authenticated(NamedTuple):
    """What an authentication hook returns to accept a request: the identity it proved
    (a digest username...), or ``None`` when the application checks nothing."""

    identity: str | None = None


Authenticate = Callable[[Message], "Authenticated | Message"]
"""RFC 3261 §10.3 step 3: ``authenticate(request)`` returns ``Authenticated(identity)`` to
accept, or the response to send instead (a 401 with a challenge, a 403...)."""

Authorize = Callable[[str | None, URI], bool]
"""§10.3 step 4: ``authorize(identity, aor)``: may this identity change this AOR's
bindings? ``False`` answers 403."""


class NotOurDomain(StrEnum):
    """What to do with a REGISTER for a domain this registrar does not serve (§10.3 step 1)."""

    REJECT = "reject"
    """Answer 404 (Not Found)."""
    FORWARD = "forward"
    """Return ``Forward``: the caller, also a proxy, forwards it (§16)."""


class PathPolicy(StrEnum):
    """A REGISTER with Path from a UA that did not list ``path`` in Supported (RFC 3327
    §5.3 leaves it to local policy)."""

    REJECT = "reject"
    """Answer 420 with ``Unsupported: path``: the policy RFC 3327 §5.3 recommends, so the
    UA learns that a proxy added Path without its consent."""
    ACCEPT = "accept"
    """Store the Path anyway (it still routes), but do not echo it in the 200."""


def _same_domain(aor: URI, request_uri: URI) -> bool:
    host = aor.host or ""
    return host.lower() == (request_uri.host or "").lower()


@dataclass(frozen=True, slots=True)
class RegistrarPolicy:
    """The registrar's configuration.

    - ``is_our_domain(host)``: does this registrar keep bindings for the domain of the
      Request-URI (§10.3 step 1)? ``not_our_domain`` says what to do when not.
    - ``authenticate``, ``authorize``: the hooks of steps 3 and 4 (``None``: the step is
      skipped and, as §10.3 step 3 allows, the From address is taken as the identity).
    - ``aor_is_valid(aor, request_uri)``: step 5, is the AOR valid for the domain in the
      Request-URI? Default: the same host (case-insensitive). ``False`` answers 404.
    - ``default_expires``, ``min_expires``, ``max_expires``, ``max_bindings``: see the
      module constants.
    - ``supported``: option tags this registrar supports (§8.2.2.3 Require processing);
      ``path`` is supported unless removed.
    - ``path_policy``: see ``PathPolicy``.
    """

    is_our_domain: Callable[[str], bool]
    not_our_domain: NotOurDomain = NotOurDomain.REJECT
    authenticate: Authenticate | None = None
    authorize: Authorize | None = None
    aor_is_valid: Callable[[URI, URI], bool] = _same_domain
    default_expires: int = DEFAULT_EXPIRES
    min_expires: int = MIN_EXPIRES
    max_expires: int = MAX_EXPIRES
    max_bindings: int = MAX_BINDINGS
    supported: frozenset[str] = frozenset({"path"})
    path_policy: PathPolicy = PathPolicy.REJECT

    def __post_init__(self) -> None:
        if not 0 <= self.min_expires <= ONE_HOUR:
            raise ValueError("min_expires must be within 0..3600 (RFC 3261 §10.3 step 7)")
        if self.max_expires < max(self.min_expires, 1):
            raise ValueError("max_expires must be at least min_expires and positive")
        if not self.min_expires <= self.default_expires <= self.max_expires:
            raise ValueError("default_expires must be within min_expires..max_expires")
        if self.max_bindings < 1:
            raise ValueError("max_bindings must be at least 1")

    @classmethod
    def for_domains(cls, *domains: str, **options: Any) -> RegistrarPolicy:
        """A policy serving exactly ``domains`` (compared case-insensitively)."""
        names = frozenset(domain.lower() for domain in domains)
        return cls(is_our_domain=lambda host: host.lower() in names, **options)
