"""The server side of digest authentication: challenge, then verify (RFC 3261 §22.2,
§22.3; RFC 7616 §3.3 to §3.5).

``DigestServer`` holds no per-client state for challenges (nonces are stateless, see
``sippet.auth.nonce``) and a bounded replay table (``sippet.auth.replay``). It never sees a
password: the ``HA1Store`` it is given returns HA1 values. The clock is passed in: ``now``
is wall-clock seconds when several nodes share the nonce key.

A typical request handler::

    verdict = server.verify(request, now)
    if not verdict.ok:
        stack.send_response(server.refuse(request, verdict, now))
        return
    ... verdict.username is authenticated ...
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sippet.auth.algorithms import DEFAULT_SERVER_ALGORITHMS, Algorithm
from sippet.auth.digest import Qop, response
from sippet.auth.errors import AuthReason
from sippet.auth.fields import Challenge, Credentials, MalformedCredentials, is_digest
from sippet.auth.nonce import (
    DEFAULT_MAX_CLOCK_SKEW,
    DEFAULT_NONCE_LIFETIME,
    NonceCheck,
    NonceFactory,
    NonceState,
)
from sippet.auth.replay import DEFAULT_MAX_TRACKED_NONCES, NonceCountTracker
from sippet.headers import Auth
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.uri import URI


class HA1Store(Protocol):
    """Where the server finds HA1 = H(username:realm:password) for a base algorithm
    (MD5, SHA-256, SHA-512-256); ``None`` for an unknown user. ``sippet.auth.Users`` is one."""

    def ha1(self, username: str, realm: str, algorithm: Algorithm) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of ``DigestServer.verify``."""

    ok: bool
    reason: AuthReason | None = None
    """Why not, for logs; never sent to the client."""
    username: str | None = None
    """The authenticated user when ``ok``; the claimed one otherwise, when known."""
    stale: bool = False
    """Right password, old nonce: the challenge says ``stale=true`` (RFC 7616 §3.3), so
    the client retries at once without asking its user."""

    @property
    def malformed(self) -> bool:
        return self.reason is AuthReason.MALFORMED or self.reason is AuthReason.URI_MISMATCH


_ACCEPTED = Verdict(ok=True)


def challengeable(request: Message) -> bool:
    """False for ACK and CANCEL: RFC 3261 §22.1, they cannot be resubmitted, so a server
    must not challenge them (an ACK is not even answered)."""
    assert isinstance(request.start_line, RequestLine)
    return str(request.start_line.method) not in (Method.ACK, Method.CANCEL)


class DigestServer:
    """Challenges and verifies Digest credentials for one realm.

    - ``proxy``: act as a proxy (407, Proxy-Authenticate, Proxy-Authorization) instead of
      a registrar or UAS (401, WWW-Authenticate, Authorization); RFC 3261 §22.3.
    - ``algorithms``: the challenges offered, one per algorithm, in this order (default
      SHA-256 then MD5, RFC 8760 §2.4); credentials with another algorithm are refused,
      so a client cannot downgrade.
    - ``qop``: offered in every challenge (RFC 3261 §22.4 item 8: always send qop).
    - ``allow_rfc2069``: accept credentials without qop (RFC 2069 clients, RFC 3261 §22.4
      asks servers to); each such nonce is then good for one request. Off by default.
    - ``check_uri``: the ``uri`` parameter must be equivalent to the Request-URI (RFC 2617
      §3.2.2.5; RFC 3261 §22.4 item 6 makes it optional, for forwarded requests).
    """

    def __init__(
        self,
        realm: str,
        users: HA1Store,
        key: bytes,
        *,
        proxy: bool = False,
        algorithms: Sequence[Algorithm] = DEFAULT_SERVER_ALGORITHMS,
        qop: Sequence[Qop] = (Qop.AUTH,),
        nonce_lifetime: float = DEFAULT_NONCE_LIFETIME,
        max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW,
        max_tracked_nonces: int = DEFAULT_MAX_TRACKED_NONCES,
        allow_rfc2069: bool = False,
        check_uri: bool = True,
    ) -> None:
        if not algorithms:
            raise ValueError("offer at least one algorithm")
        if not qop:
            raise ValueError("RFC 3261 §22.4: a server must always offer qop")
        self.realm = realm
        self.users = users
        self.proxy = proxy
        self.algorithms = tuple(Algorithm(a) for a in algorithms)
        self.qop = tuple(Qop(q) for q in qop)
        self.allow_rfc2069 = allow_rfc2069
        self.check_uri = check_uri
        self.nonces = NonceFactory(
            key, realm, lifetime=nonce_lifetime, max_clock_skew=max_clock_skew
        )
        self.replays = NonceCountTracker(nonce_lifetime, max_nonces=max_tracked_nonces)
        # A stand-in HA1 for unknown users, so that they cost the same work as known ones.
        self._decoy_ha1 = "0" * 64

    @property
    def status_code(self) -> int:
        return 407 if self.proxy else 401

    @property
    def challenge_header(self) -> str:
        return "proxy_authenticate" if self.proxy else "www_authenticate"

    @property
    def credentials_header(self) -> str:
        return "proxy_authorization" if self.proxy else "authorization"

    # -- challenges ---------------------------------------------------------------------

    def challenges(self, now: float, *, stale: bool = False, binding: str = "") -> list[Auth]:
        """One challenge per offered algorithm, all with the same fresh nonce (as in
        RFC 7616 §3.9.1): a client answers one of them."""
        nonce = self.nonces.make(now, binding)
        return [
            Challenge(
                realm=self.realm,
                nonce=nonce,
                algorithm=algorithm,
                qop_options=self.qop,
                stale=stale,
            ).to_auth()
            for algorithm in self.algorithms
        ]

    def challenge(
        self,
        request: Message,
        now: float,
        *,
        stale: bool = False,
        binding: str = "",
        to_tag: str | None = None,
    ) -> Message:
        """The 401 (or 407) response to ``request`` carrying the challenges."""
        answer = request.to_response(self.status_code, to_tag=to_tag)
        answer.headers[self.challenge_header] = self.challenges(now, stale=stale, binding=binding)
        return answer

    def refuse(
        self,
        request: Message,
        verdict: Verdict,
        now: float,
        *,
        binding: str = "",
        to_tag: str | None = None,
    ) -> Message:
        """The response to a request that did not pass: 400 for malformed credentials
        (RFC 7616 §3.4, RFC 2617 §3.2.2.5), else a new challenge, ``stale=true`` when the
        digest was right but the nonce used up. Raises ``ValueError`` for a verdict that
        passed: refusing it would be the application's mistake."""
        if verdict.ok:
            raise ValueError("refuse() of a request whose credentials passed")
        if verdict.malformed:
            return request.to_response(400, f"Bad Credentials ({verdict.reason})", to_tag=to_tag)
        return self.challenge(request, now, stale=verdict.stale, binding=binding, to_tag=to_tag)

    # -- verification -------------------------------------------------------------------

    def verify(self, request: Message, now: float, *, binding: str = "") -> Verdict:
        """Check the request's credentials for this realm (credentials for other realms
        are left alone: they belong to other proxies, RFC 3261 §22.3)."""
        if not isinstance(request.start_line, RequestLine):
            raise ValueError("verify() needs a request")
        found = self._credentials_for_realm(request, now, binding)
        if isinstance(found, Verdict):
            return found
        credentials, nonce = found
        if credentials.userhash:
            return Verdict(False, AuthReason.UNSUPPORTED)
        if credentials.algorithm not in self.algorithms:
            return Verdict(False, AuthReason.UNSUPPORTED, credentials.username)
        if credentials.qop is None and not self.allow_rfc2069:
            return Verdict(False, AuthReason.UNSUPPORTED, credentials.username)
        if credentials.qop is not None and credentials.qop not in self.qop:
            return Verdict(False, AuthReason.UNSUPPORTED, credentials.username)
        if nonce.state is NonceState.INVALID:
            return Verdict(False, AuthReason.BAD_NONCE, credentials.username)
        request_uri = request.start_line.request_uri
        if self.check_uri and not _same_uri(credentials.uri, request_uri):
            return Verdict(False, AuthReason.URI_MISMATCH, credentials.username)
        mismatch = self._check_digest(credentials, request)
        if mismatch is not None:
            return Verdict(False, mismatch, credentials.username)
        # RFC 7616 §3.3: stale=true only when the digest was valid, so that the client
        # retries with a new nonce without asking its user for the password again.
        if nonce.state is NonceState.STALE:
            return Verdict(False, AuthReason.STALE_NONCE, credentials.username, stale=True)
        count = 1 if credentials.nonce_count is None else int(credentials.nonce_count, 16)
        if not self.replays.accept(credentials.nonce, nonce.issued, count, now):
            return Verdict(False, AuthReason.REPLAYED, credentials.username, stale=True)
        return Verdict(True, None, credentials.username)

    def _credentials_for_realm(
        self, request: Message, now: float, binding: str
    ) -> tuple[Credentials, NonceCheck] | Verdict:
        """The credentials for this realm whose nonce is ours. RFC 3261 §22.3: a UAC may
        send several for one realm (proxies of one domain reached by a fork each
        challenged), so the first with a nonce of this server's key is taken; failing
        that, the first well-formed one (which then fails as ``bad_nonce``)."""
        first: tuple[Credentials, NonceCheck] | None = None
        malformed: Verdict | None = None
        for value in request.headers.get(self.credentials_header) or ():
            auth = Auth(*value)
            if not is_digest(auth) or auth.params.get("realm") != self.realm:
                continue
            try:
                credentials = Credentials.from_auth(auth)
            except MalformedCredentials:
                malformed = malformed or Verdict(
                    False, AuthReason.MALFORMED, auth.params.get("username")
                )
                continue
            nonce = self.nonces.check(credentials.nonce, now, binding)
            if nonce.state is not NonceState.INVALID:
                return credentials, nonce
            first = first or (credentials, nonce)
        return malformed or first or Verdict(False, AuthReason.MISSING)

    def _check_digest(self, credentials: Credentials, request: Message) -> AuthReason | None:
        assert isinstance(request.start_line, RequestLine)
        ha1 = self.users.ha1(credentials.username, self.realm, credentials.algorithm.base)
        expected = response(
            credentials.algorithm,
            self._decoy_ha1 if ha1 is None else ha1,
            nonce=credentials.nonce,
            method=str(request.start_line.method),
            uri=credentials.uri,
            qop=credentials.qop,
            nonce_count=credentials.nonce_count,
            cnonce=credentials.cnonce,
            body=request.body,
        )
        # Constant time: the comparison must not tell how many leading characters match.
        matches = hmac.compare_digest(expected.encode(), credentials.response.lower().encode())
        if ha1 is None:
            return AuthReason.UNKNOWN_USER
        return None if matches else AuthReason.WRONG_RESPONSE


def _same_uri(text: str, request_uri: URI) -> bool:
    try:
        uri = URI.parse(text)
    except ValueError:
        return False
    # Equal values first: the common case, and far cheaper than §19.1.4 equivalence.
    return uri == request_uri or uri.equivalent(request_uri)
