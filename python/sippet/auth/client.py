"""The client side of digest authentication: answer a 401 or 407 (RFC 3261 §22.2, §22.3;
RFC 7616 §3.4, §3.7; RFC 8760 §2.4).

``DigestClient.authorize(request, response)`` returns the request to send again: a copy of
``request`` with a new CSeq (§22.2: "MUST increment the CSeq"), a new Via branch (a new
transaction, §8.1.1.7) and one Authorization or Proxy-Authorization per challenged realm.
It keeps nonce counts per nonce, so answering the same nonce again (``authorize`` of a later
request with the same challenge) sends a growing ``nc``.

``DigestClient.preauthorize(request)`` adds credentials to a new request of a call already
challenged (same Call-ID: a BYE or re-INVITE through an authenticating proxy, a REGISTER
refresh), as RFC 3261 §22.3 asks, saving the round trip of a second challenge.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sippet.auth.digest import Qop, format_nonce_count, password_ha1, response
from sippet.auth.errors import AuthError, AuthReason
from sippet.auth.fields import Challenge, Credentials, is_digest
from sippet.headers import Auth, CSeq, Via
from sippet.ids import create_branch
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method

DEFAULT_MAX_CLIENT_NONCES = 256
"""Nonce counts kept (least recently used go first): one per server the client talks to
is enough, a forgotten nonce only restarts at nc=1 (the server then answers stale=true)."""

DEFAULT_MAX_REMEMBERED_CALLS = 256
"""Calls (Call-IDs) whose challenges ``preauthorize`` remembers, least recently used
dropped first; ``forget_call`` drops one when its dialog ends (§22.3: credentials are not
cached across dialogs)."""

# (challenge header, credentials header): RFC 3261 §22.2 (UAS, registrar) and §22.3 (proxy).
_HEADER_PAIRS = (
    ("www_authenticate", "authorization"),
    ("proxy_authenticate", "proxy_authorization"),
)


@dataclass(frozen=True, slots=True)
class UserCredentials:
    """A username and password for one realm."""

    username: str
    password: str = ""

    def __repr__(self) -> str:
        return f"UserCredentials(username={self.username!r}, password=<hidden>)"


CredentialsLookup = Mapping[str, UserCredentials] | Callable[[str], UserCredentials | None]
"""Credentials per realm: a mapping, or a function of the realm (``None``: none known)."""


def _new_cnonce() -> str:
    # RFC 7616 §3.4: an opaque quoted string chosen by the client; 128 random bits.
    return secrets.token_hex(16)


class DigestClient:
    """Answers digest challenges with the credentials of each realm.

    - ``credentials``: per realm, a mapping or a lookup function;
    - ``default``: used for a realm ``credentials`` does not know (the common case of
      one account and a realm you do not know in advance);
    - ``prefer_auth_int``: answer with ``qop=auth-int`` when offered (integrity of the
      body too; off by default because an intermediary that rewrites SDP breaks it).
    """

    def __init__(
        self,
        credentials: CredentialsLookup | None = None,
        *,
        default: UserCredentials | None = None,
        prefer_auth_int: bool = False,
        max_nonces: int = DEFAULT_MAX_CLIENT_NONCES,
        max_calls: int = DEFAULT_MAX_REMEMBERED_CALLS,
        cnonce_factory: Callable[[], str] = _new_cnonce,
    ) -> None:
        self._credentials = credentials
        self.default = default
        self.prefer_auth_int = prefer_auth_int
        self.max_nonces = max_nonces
        self._new_cnonce = cnonce_factory
        self.max_calls = max_calls
        self._counts: OrderedDict[str, int] = OrderedDict()
        # Call-ID -> the challenges answered in that call, with their credentials header.
        self._calls: OrderedDict[str, list[tuple[str, Challenge]]] = OrderedDict()

    def credentials_for(self, realm: str) -> UserCredentials | None:
        lookup = self._credentials
        found: UserCredentials | None = None
        if isinstance(lookup, Mapping):
            found = lookup.get(realm)
        elif lookup is not None:
            found = lookup(realm)
        return found if found is not None else self.default

    def authorize(self, request: Message, challenge_response: Message) -> Message:
        """The request to send again in answer to a 401/407 ``challenge_response``.

        For every realm challenged (in WWW-Authenticate and Proxy-Authenticate alike: a
        forking proxy may gather both into one response, RFC 3261 §16.7 step 7), the
        strongest challenge we can answer is chosen (RFC 7616 §3.7, RFC 8760 §2.4: the
        order of the headers does not matter, strength does) and answered; once per nonce,
        when proxies of one realm each challenged with their own (§22.3). Credentials the
        request carried for other realms stay.

        Raises ``AuthError``: ``not_a_challenge`` (not a 401/407, or an ACK or CANCEL, which
        cannot be resubmitted, §22.1), ``no_usable_challenge`` (no Digest challenge with a
        known algorithm and qop), ``no_credentials`` (no credentials for any challenged
        realm), ``rejected`` (every realm challenged again without ``stale=true`` after
        ``request`` answered it: the password is wrong, §22.2 says not to retry).
        """
        if not isinstance(request.start_line, RequestLine) or "cseq" not in request.headers:
            raise ValueError("authorize() needs the request (with its CSeq) that got the challenge")
        status = challenge_response.start_line
        method = str(request.start_line.method)
        if (
            not isinstance(status, StatusLine)
            or status.status_code not in (401, 407)
            or method in (Method.ACK, Method.CANCEL)
        ):
            raise AuthError(
                "only a 401 or 407 to a request other than ACK and CANCEL can be answered",
                reason=AuthReason.NOT_A_CHALLENGE,
            )
        answers: dict[str, list[Auth]] = {}
        answered: list[tuple[str, Challenge]] = []
        usable = rejected = 0
        for challenge_key, credentials_key in _HEADER_PAIRS:
            sent = _realms_answered(request.headers.get(credentials_key))
            for challenge in _strongest_per_realm(challenge_response.headers.get(challenge_key)):
                usable += 1
                if challenge.realm in sent and not challenge.stale:
                    rejected += 1
                    continue
                user = self.credentials_for(challenge.realm)
                if user is None:
                    continue
                answers.setdefault(credentials_key, []).append(
                    self._answer(challenge, user, request).to_auth()
                )
                answered.append((credentials_key, challenge))
        if not answers:
            if usable == 0:
                raise AuthError(
                    "no Digest challenge with a known algorithm and qop",
                    reason=AuthReason.NO_USABLE_CHALLENGE,
                )
            if rejected == usable:
                raise AuthError("the credentials sent were rejected", reason=AuthReason.REJECTED)
            raise AuthError(
                "no credentials for the challenged realm(s)", reason=AuthReason.NO_CREDENTIALS
            )
        self._remember(request, answered)
        return _with_credentials(request, answers, new_transaction=True)

    def preauthorize(self, request: Message) -> Message:
        """A copy of a new ``request`` carrying credentials for every challenge answered
        earlier in the same call (same Call-ID), with the same nonces and the next counts
        (RFC 3261 §22.3). A copy without changes when none is remembered; a server that
        finds a nonce stale answers ``stale=true``, which ``authorize`` then answers."""
        if not isinstance(request.start_line, RequestLine):
            raise ValueError("preauthorize() needs a request")
        remembered = self._calls.get(request.headers.get("call_id", ""))
        if not remembered or str(request.start_line.method) in (Method.ACK, Method.CANCEL):
            return request.copy()
        self._calls.move_to_end(request.headers["call_id"])
        answers: dict[str, list[Auth]] = {}
        for credentials_key, challenge in remembered:
            user = self.credentials_for(challenge.realm)
            if user is not None:
                credentials = self._answer(challenge, user, request)
                answers.setdefault(credentials_key, []).append(credentials.to_auth())
        return _with_credentials(request, answers, new_transaction=False)

    def forget_call(self, call_id: str) -> None:
        """Drop what ``preauthorize`` remembers of a call (its dialog ended)."""
        self._calls.pop(call_id, None)

    def _remember(self, request: Message, answered: list[tuple[str, Challenge]]) -> None:
        call_id = request.headers.get("call_id")
        if call_id is None:
            return
        # Newer challenges replace older ones of the same realm and header.
        fresh = {(key, challenge.realm) for key, challenge in answered}
        kept = [
            (key, challenge)
            for key, challenge in self._calls.pop(call_id, [])
            if (key, challenge.realm) not in fresh
        ]
        self._calls[call_id] = kept + answered
        while len(self._calls) > self.max_calls:
            self._calls.popitem(last=False)

    def _answer(self, challenge: Challenge, user: UserCredentials, request: Message) -> Credentials:
        assert isinstance(request.start_line, RequestLine)
        uri = str(request.start_line.request_uri)
        qop = self._choose_qop(challenge.qop_options)
        nonce_count = cnonce = None
        if qop is not None:
            nonce_count = format_nonce_count(self._next_count(challenge.nonce))
            cnonce = self._new_cnonce()
        ha1 = password_ha1(challenge.algorithm.base, user.username, challenge.realm, user.password)
        digest = response(
            challenge.algorithm,
            ha1,
            nonce=challenge.nonce,
            method=str(request.start_line.method),
            uri=uri,
            qop=qop,
            nonce_count=nonce_count,
            cnonce=cnonce,
            body=request.body,
        )
        return Credentials(
            username=user.username,
            realm=challenge.realm,
            nonce=challenge.nonce,
            uri=uri,
            response=digest,
            algorithm=challenge.algorithm,
            qop=qop,
            nonce_count=nonce_count,
            cnonce=cnonce,
            opaque=challenge.opaque,  # RFC 7616 §3.4: returned unchanged
            algorithm_named=challenge.algorithm_named,
        )

    def _choose_qop(self, options: tuple[Qop, ...]) -> Qop | None:
        # RFC 3261 §22.4 item 8: a qop offered MUST be answered with one of the values.
        if not options:
            return None
        if self.prefer_auth_int and Qop.AUTH_INT in options:
            return Qop.AUTH_INT
        return Qop.AUTH if Qop.AUTH in options else options[0]

    def _next_count(self, nonce: str) -> int:
        count = self._counts.pop(nonce, 0) + 1
        self._counts[nonce] = count
        while len(self._counts) > self.max_nonces:
            self._counts.popitem(last=False)
        return count


def _strongest_per_realm(values: list[Any] | None) -> list[Challenge]:
    """The challenges to answer: for each (realm, nonce), the strongest usable one.

    One server offering several algorithms gives them one nonce (RFC 7616 §3.9.1), so it
    gets one answer, in its strongest algorithm. Proxies of one realm reached by a fork
    challenge with their own nonces, and RFC 3261 §22.3 lets the UAC answer each. Within
    a realm the strongest answers come first; between equals, the first listed."""
    best: dict[tuple[str, str], Challenge] = {}
    for value in values or ():
        challenge = Challenge.from_auth(Auth(*value))
        if challenge is None:
            continue
        key = (challenge.realm, challenge.nonce)
        current = best.get(key)
        if current is None or challenge.algorithm.strength > current.algorithm.strength:
            best[key] = challenge
    realms = list(dict.fromkeys(realm for realm, _ in best))
    return sorted(
        best.values(),
        key=lambda c: (realms.index(c.realm), -c.algorithm.strength),
    )


def _realm_of(value: Any) -> str | None:
    """The realm of Digest credentials; ``None`` for other schemes."""
    auth = Auth(*value)
    return auth.params.get("realm") if is_digest(auth) else None


def _realms_answered(values: list[Any] | None) -> set[str]:
    return {realm for value in values or () if (realm := _realm_of(value)) is not None}


def _with_credentials(
    request: Message, answers: dict[str, list[Auth]], *, new_transaction: bool
) -> Message:
    """A copy of ``request`` with the new credentials in place of any earlier ones for
    the same realms; for a resubmission, with a new CSeq and branch too."""
    again = request.copy()
    headers = again.headers
    if new_transaction:
        cseq = CSeq(*headers["cseq"])
        headers["cseq"] = CSeq(cseq.seq + 1, cseq.method)
        vias = headers.get("via")
        if vias:
            top = Via(*vias[0])
            vias[0] = top._replace(params={**top.params, "branch": create_branch()})
    for key, new in answers.items():
        realms = {auth.params.get("realm") for auth in new}
        kept = [value for value in headers.get(key) or () if _realm_of(value) not in realms]
        headers[key] = kept + new
    return again
