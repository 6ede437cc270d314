"""Digest challenges and credentials as typed values, read from and written to the typed
``Auth`` header values the native parser produces (RFC 7616 §3.3, §3.4; RFC 3261 §25.1
``challenge`` and ``credentials``).

The parser already lowercased parameter names and unquoted the values; the serializer quotes
what RFC 7616 wants quoted (``realm``, ``nonce``, ``uri``, ``response``...). So this module
only maps parameters to fields and checks their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sippet.auth.algorithms import Algorithm, parse_algorithm
from sippet.auth.digest import Qop
from sippet.headers import Auth

DIGEST = "Digest"

_NONCE_COUNT = re.compile(r"[0-9a-fA-F]{8}\Z")  # RFC 7616 §3.4: nc-value = 8LHEX


def is_digest(auth: Auth) -> bool:
    """True for the Digest scheme (scheme names are case-insensitive, RFC 7235 §2.1)."""
    return auth.scheme.lower() == "digest"


def _qop_options(text: str | None) -> tuple[Qop, ...] | None:
    """The known qop values of a challenge's ``qop="auth, auth-int"`` list, in order;
    ``()`` when there is no qop (RFC 2069); ``None`` when only unknown values are listed."""
    if text is None:
        return ()
    known = {qop.value: qop for qop in Qop}
    options = tuple(
        known[token]
        for token in (part.strip().lower() for part in text.split(","))
        if token in known
    )
    return options or None


@dataclass(frozen=True, slots=True)
class Challenge:
    """One Digest challenge (WWW-Authenticate or Proxy-Authenticate value)."""

    realm: str
    nonce: str
    algorithm: Algorithm = Algorithm.MD5
    qop_options: tuple[Qop, ...] = (Qop.AUTH,)
    """Empty: the server wants the RFC 2069 form (no qop)."""
    opaque: str | None = None
    stale: bool = False
    domain: str | None = None
    algorithm_named: bool = True
    """False when the challenge had no ``algorithm`` parameter (MD5 by default): the
    answer then leaves it out too, as RFC 2069 servers expect."""

    @classmethod
    def from_auth(cls, auth: Auth) -> Challenge | None:
        """The challenge in ``auth``, or ``None`` when it cannot be answered: another
        scheme, no realm or nonce, an unknown algorithm, only unknown qop values, or a
        ``-sess`` algorithm without qop (it needs a cnonce, RFC 3261 §22.4 item 8)."""
        if not is_digest(auth):
            return None
        params = auth.params
        realm, nonce = params.get("realm"), params.get("nonce")
        algorithm = parse_algorithm(params.get("algorithm"))
        qop_options = _qop_options(params.get("qop"))
        if realm is None or nonce is None or algorithm is None or qop_options is None:
            return None
        if algorithm.is_session and not qop_options:
            return None
        return cls(
            realm=realm,
            nonce=nonce,
            algorithm=algorithm,
            qop_options=qop_options,
            opaque=params.get("opaque"),
            stale=(params.get("stale") or "").lower() == "true",
            domain=params.get("domain"),
            algorithm_named="algorithm" in params,
        )

    def to_auth(self) -> Auth:
        params: dict[str, str | None] = {"realm": self.realm}
        if self.domain is not None:
            params["domain"] = self.domain
        params["nonce"] = self.nonce
        if self.opaque is not None:
            params["opaque"] = self.opaque
        if self.stale:
            params["stale"] = "true"
        if self.algorithm_named:
            params["algorithm"] = self.algorithm.value
        if self.qop_options:
            params["qop"] = ", ".join(self.qop_options)
        return Auth(DIGEST, params)


class MalformedCredentials(ValueError):
    """Digest credentials without a required parameter or with a bad value."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """One Digest credentials value (Authorization or Proxy-Authorization)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: Algorithm = Algorithm.MD5
    qop: Qop | None = None
    nonce_count: str | None = None
    """``nc``: 8 hex digits, present exactly when ``qop`` is."""
    cnonce: str | None = None
    opaque: str | None = None
    algorithm_named: bool = True
    userhash: bool = False

    @classmethod
    def from_auth(cls, auth: Auth) -> Credentials:
        """Read Digest credentials; raises ``MalformedCredentials`` when a required
        parameter is missing or invalid, ``ValueError``-compatible for callers that map it
        to 400 (RFC 2617 §3.2.2)."""
        params = auth.params
        missing = [
            name
            for name in ("username", "realm", "nonce", "uri", "response")
            if not params.get(name)
        ]
        if missing:
            raise MalformedCredentials(f"Digest credentials without {', '.join(missing)}")
        algorithm = parse_algorithm(params.get("algorithm"))
        if algorithm is None:
            raise MalformedCredentials(f"unknown digest algorithm {params.get('algorithm')!r}")
        qop_text = params.get("qop")
        qop: Qop | None = None
        if qop_text is not None:
            try:
                qop = Qop(qop_text.lower())
            except ValueError:
                raise MalformedCredentials(f"unknown qop {qop_text!r}") from None
        nonce_count, cnonce = params.get("nc"), params.get("cnonce")
        if qop is not None:
            # RFC 7616 §3.4: with qop, nc and cnonce MUST be sent.
            if (
                nonce_count is None
                or not _NONCE_COUNT.match(nonce_count)
                or int(nonce_count, 16) == 0  # counting starts at 1
            ):
                raise MalformedCredentials(f"qop without a valid nc: {nonce_count!r}")
            if not cnonce:
                raise MalformedCredentials("qop without cnonce")
        elif nonce_count is not None or cnonce is not None:
            # RFC 2617 §3.2.2: cnonce and nc MUST NOT be sent without qop.
            raise MalformedCredentials("nc or cnonce without qop")
        return cls(
            username=params["username"] or "",
            realm=params["realm"] or "",
            nonce=params["nonce"] or "",
            uri=params["uri"] or "",
            response=params["response"] or "",
            algorithm=algorithm,
            qop=qop,
            nonce_count=nonce_count.lower() if nonce_count is not None else None,
            cnonce=cnonce,
            opaque=params.get("opaque"),
            algorithm_named="algorithm" in params,
            userhash=(params.get("userhash") or "").lower() == "true",
        )

    def to_auth(self) -> Auth:
        params: dict[str, str | None] = {
            "username": self.username,
            "realm": self.realm,
            "nonce": self.nonce,
            "uri": self.uri,
            "response": self.response,
        }
        if self.algorithm_named:
            params["algorithm"] = self.algorithm.value
        if self.qop is not None:
            # RFC 7616 §3.4: qop and nc are tokens in credentials (unquoted).
            params["qop"] = self.qop.value
            params["nc"] = self.nonce_count
            params["cnonce"] = self.cnonce
        if self.opaque is not None:
            params["opaque"] = self.opaque
        return Auth(DIGEST, params)
