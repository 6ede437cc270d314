"""The registrar: RFC 3261 §10.3, pure (no I/O, no clock: ``now`` comes from the store).

``Registrar.receive(request, source)`` runs the steps that need no bindings, in the RFC's
order, and returns one outcome:

- ``Reply(response)``: the request was refused (404, 416, 420, 401/403 from the hooks,
  400, 423...); send the response.
- ``Forward(request)``: the Request-URI names a domain this registrar does not serve and
  the policy says to forward it (step 1); the caller proxies it (§16).
- ``Registration``: the request is acceptable; hand ``registration.apply`` to
  ``LocationStore.update(registration.aor, ...)`` (steps 6 and 7 against the stored
  bindings, atomically), then send ``registration.respond(result)`` (step 8), or
  ``registration.server_error()`` when the store failed (step 7: a failed commit is 500).

Steps, and the answer to each failure:

1. Request-URI: a SIP or SIPS URI (else 416, §8.2.2.1) for a domain we serve (else 404, or
   ``Forward``).
2. Require: every option tag supported (else 420 with Unsupported, §8.2.2.3). A Path
   from a UA that did not list ``path`` in Supported: 420 with ``Unsupported: path``
   (RFC 3327 §5.3's recommended policy; see ``PathPolicy``).
3. Authentication: the ``authenticate`` hook accepts, or its response is sent.
4. Authorization: the ``authorize`` hook may refuse the identity for this AOR: 403.
5. To: the AOR must be a SIP or SIPS URI (400, RFC 4475 ``unksm2``), valid for the
   Request-URI's domain (404); it is then reduced to its canonical form (``aor_key``).
6. Contact ``*``: alone (the parser refuses ``*`` in a list) and with ``Expires: 0``, else
   400. Against the store: removes every binding, unless one has this Call-ID with a CSeq
   not lower than the request's.
7. Each Contact: expiry from its ``expires`` parameter, else Expires, else the default;
   0 < expiry < Min-Expires: 423 with Min-Expires; above the maximum: shortened. Malformed
   ``expires`` or ``q``: 400. Against the store (``update.py``): bindings matched by URI
   equivalence (§19.1.4); same Call-ID with a CSeq not higher: the request fails.
8. 200 with every live binding (``expires`` and ``q`` on each), a Date, and the Path when
   the UA supports it.

A stale CSeq (step 6 or 7: "the update MUST be aborted and the request fails") is answered
400: the request contradicts what the registrar holds, and repeating it unchanged could
never succeed, which is what 4xx says (a 5xx would invite a retry; 403 speaks of
authorization). Too many bindings for one AOR is 403 (a policy refusal, §21.4.4).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sippet.headers import NameAddr
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.registrar.binding import Binding, Source, aor_key
from sippet.registrar.contacts import BadContact, ContactRequest, format_qvalue, read_contact
from sippet.registrar.policy import (
    Authenticated,
    NotOurDomain,
    PathPolicy,
    RegistrarPolicy,
)
from sippet.registrar.update import Accepted, Refused, apply_contacts, remove_all
from sippet.uri import URI

PATH_TAG = "path"
"""RFC 3327 §4: the option tag of the Path extension."""


class Reply(NamedTuple):
    """Send ``response``: the registrar's answer, decided without the store."""

    response: Message


class Forward(NamedTuple):
    """The REGISTER is for a domain this registrar does not serve; proxy it (§10.3 step 1)."""

    request: Message


@dataclass(frozen=True, slots=True)
class Registration:
    """An accepted REGISTER waiting for the store: steps 6 and 7 on the live bindings of
    ``aor`` (``apply``), then step 8 (``respond``).

    ``contacts`` is ``None`` for a fetch (no Contact), empty never; ``wildcard`` is
    ``Contact: *``.
    """

    request: Message
    aor: str
    call_id: str
    cseq: int
    contacts: tuple[ContactRequest, ...] | None
    wildcard: bool
    path: tuple[NameAddr, ...]
    echo_path: bool
    source: Source | None
    max_bindings: int

    def apply(
        self, bindings: tuple[Binding, ...], now: float
    ) -> tuple[list[Binding] | None, Accepted | Refused]:
        """The ``compute`` function of ``LocationStore.update``: the new binding set (or
        ``None`` to write nothing) and the outcome for ``respond``. Pure: the store may
        call it again after a conflict."""
        if self.wildcard:
            return remove_all(bindings, self.call_id, self.cseq, now)
        if self.contacts is None:
            return None, Accepted(bindings, now)
        return apply_contacts(
            bindings,
            self.contacts,
            call_id=self.call_id,
            cseq=self.cseq,
            path=self.path,
            source=self.source,
            max_bindings=self.max_bindings,
            now=now,
        )

    def respond(self, outcome: Accepted | Refused) -> Message:
        """Step 8: the 200 listing every live binding, or the refusal."""
        if isinstance(outcome, Refused):
            return self.request.to_response(outcome.status_code, outcome.reason_phrase)
        response = self.request.to_response(200)
        if outcome.bindings:
            response.headers["contact"] = [
                contact_value(binding, outcome.now) for binding in outcome.bindings
            ]
        # RFC 3261 §10.3 step 8: "The response SHOULD include a Date header field."
        response.headers["date"] = datetime.datetime.fromtimestamp(
            int(outcome.now), tz=datetime.UTC
        )
        if self.echo_path and self.path:
            response.headers["path"] = list(self.path)  # RFC 3327 §5.3
        return response

    def server_error(self) -> Message:
        """§10.3 step 7: the commit failed, so the request fails with 500."""
        return self.request.to_response(500, "Location Service Unavailable")


Outcome = Reply | Forward | Registration


def contact_value(binding: Binding, now: float) -> NameAddr:
    """A Contact value of the 200 (§10.3 step 8): the URI as registered, its header
    parameters, the ``expires`` the registrar granted (as now remaining) and ``q``."""
    params = dict(binding.params)
    params["expires"] = str(binding.remaining(now))
    if binding.q is not None:
        params["q"] = format_qvalue(binding.q)
    return NameAddr(binding.display_name, binding.contact, params)


class _ContactSet(NamedTuple):
    """The Contact header of a REGISTER, read: ``wildcard`` for ``*``, else ``contacts``
    (``None`` when there is no Contact: a fetch)."""

    wildcard: bool
    contacts: tuple[ContactRequest, ...] | None


class Registrar:
    """RFC 3261 §10.3 over a ``RegistrarPolicy``. Holds no bindings: see ``Registration``."""

    def __init__(self, policy: RegistrarPolicy) -> None:
        self.policy = policy

    def receive(self, request: Message, source: Source | None = None) -> Outcome:
        """Steps 1 to 5 and the checks of 6 and 7 that need no bindings, in order (see the
        module docstring). ``source`` is kept with the bindings this request writes.

        Raises ``ValueError`` when ``request`` is not a REGISTER, ``TypeError`` when the
        authentication hook returns something else than it may (the caller's mistakes).
        """
        start = request.start_line
        if not isinstance(start, RequestLine) or start.method != Method.REGISTER:
            raise ValueError("Registrar.receive() takes REGISTER requests only")
        refusal = self._check_domain(request, start.request_uri) or self._check_extensions(request)
        if refusal is not None:
            return refusal
        verdict = self._authenticate(request)
        if isinstance(verdict, Reply):
            return verdict
        aor: URI = request.headers["to"].uri
        refused = self._check_aor(request, aor, verdict.identity, start.request_uri)
        if refused is not None:
            return refused
        contact_set = self._read_contacts(request)
        if isinstance(contact_set, Reply):
            return contact_set
        path = self._path(request)
        return Registration(
            request=request,
            aor=aor_key(aor),
            call_id=request.headers["call_id"],
            cseq=request.headers["cseq"].seq,
            contacts=contact_set.contacts,
            wildcard=contact_set.wildcard,
            path=path,
            echo_path=bool(path) and _ua_supports_path(request),
            source=source,
            max_bindings=self.policy.max_bindings,
        )

    def _check_domain(self, request: Message, request_uri: URI) -> Reply | Forward | None:
        """Step 1: a SIP or SIPS Request-URI (416) for a domain we serve (404, or Forward)."""
        if not request_uri.is_sip:
            return _reply(request, 416)
        if self.policy.is_our_domain(request_uri.host or ""):
            return None
        if self.policy.not_our_domain is NotOurDomain.FORWARD:
            return Forward(request)
        return _reply(request, 404, "Domain Not Served Here")

    def _check_extensions(self, request: Message) -> Reply | None:
        """Step 2: Require (§8.2.2.3), and Path consent (RFC 3327 §5.3)."""
        supported = self.policy.supported
        unsupported = [tag for tag in request.headers.get("require", ()) if tag not in supported]
        if unsupported:
            return _bad_extension(request, unsupported)
        if (
            self._path(request)
            and not _ua_supports_path(request)
            and self.policy.path_policy is PathPolicy.REJECT
        ):
            return _bad_extension(request, [PATH_TAG])
        return None

    def _authenticate(self, request: Message) -> Authenticated | Reply:
        """Step 3: the application's hook accepts, or its response is the answer."""
        hook = self.policy.authenticate
        if hook is None:
            return Authenticated(None)
        verdict = hook(request)
        if isinstance(verdict, Message):
            if not verdict.is_response:
                raise TypeError("the authenticate hook returned a request")
            return Reply(verdict)
        if not isinstance(verdict, Authenticated):
            raise TypeError("the authenticate hook must return Authenticated or a response")
        return verdict

    def _check_aor(
        self, request: Message, aor: URI, identity: str | None, request_uri: URI
    ) -> Reply | None:
        """Steps 4 and 5: a SIP or SIPS AOR in To (400), that this identity may change
        (403), valid for the Request-URI's domain (404)."""
        if not aor.is_sip:
            return _reply(request, 400, "To Is Not A SIP Or SIPS Address-Of-Record")
        authorize = self.policy.authorize
        if authorize is not None and not authorize(identity, aor):
            return _reply(request, 403)
        if not self.policy.aor_is_valid(aor, request_uri):
            return _reply(request, 404, "Address-Of-Record Not Found")
        return None

    def _read_contacts(self, request: Message) -> _ContactSet | Reply:
        """Steps 6 and 7, the checks that need no bindings: ``*`` with ``Expires: 0``
        (400), well-formed ``expires`` and ``q`` (400), not too many (403), none too brief
        (423 with Min-Expires); expiries above the maximum shortened."""
        policy = self.policy
        contact = request.headers.get("contact")
        header_expires: int | None = request.headers.get("expires")
        if contact == "*":
            if header_expires != 0:
                return _reply(request, 400, "Contact * Needs Expires: 0")
            return _ContactSet(wildcard=True, contacts=None)
        if not contact:
            return _ContactSet(wildcard=False, contacts=None)
        try:
            contacts = [
                read_contact(value, header_expires, policy.default_expires) for value in contact
            ]
        except BadContact:
            # The phrase stays fixed: the offending text came from the wire.
            return _reply(request, 400, "Bad Contact Expires Or Q")
        if len(contacts) > policy.max_bindings:
            return _reply(request, 403, "Too Many Contacts")
        if any(0 < c.expires < policy.min_expires for c in contacts):
            response = request.to_response(423)
            response.headers["min_expires"] = policy.min_expires
            return Reply(response)
        granted = tuple(c._replace(expires=min(c.expires, policy.max_expires)) for c in contacts)
        return _ContactSet(wildcard=False, contacts=granted)

    def _path(self, request: Message) -> tuple[NameAddr, ...]:
        """The Path of the REGISTER, when this registrar supports the extension."""
        if PATH_TAG not in self.policy.supported:
            return ()
        return tuple(request.headers.get("path", ()))


def _ua_supports_path(request: Message) -> bool:
    return PATH_TAG in request.headers.get("supported", ())


def _reply(request: Message, status_code: int, reason_phrase: str | None = None) -> Reply:
    return Reply(request.to_response(status_code, reason_phrase))


def _bad_extension(request: Message, tags: Iterable[str]) -> Reply:
    response = request.to_response(420)
    response.headers["unsupported"] = list(dict.fromkeys(tags))
    return Reply(response)
