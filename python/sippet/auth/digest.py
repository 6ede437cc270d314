"""The digest computations of RFC 7616 §3.4 (RFC 2617 §3.2.2, RFC 2069 without qop).

Pure functions over text: the client and the server both call ``response``; only where HA1
comes from differs (a password on the client, a stored HA1 on the server).

    HA1      = H(username ":" realm ":" password)                 (base algorithm)
    HA1-sess = H(HA1 ":" nonce ":" cnonce)                        (-sess algorithms)
    HA2      = H(method ":" uri)                                  (qop auth, or no qop)
             = H(method ":" uri ":" H(body))                      (qop auth-int)
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) (with qop)
             = H(HA1 ":" nonce ":" HA2)                           (RFC 2069, no qop)

Text is hashed as UTF-8 (RFC 7616 §4: the charset the server announces, and the only one
SIP has, RFC 3261 §25.1).
"""

from __future__ import annotations

from enum import StrEnum

from sippet.auth.algorithms import Algorithm


class Qop(StrEnum):
    """Quality of protection (RFC 7616 §3.3): authentication alone, or with body integrity."""

    AUTH = "auth"
    AUTH_INT = "auth-int"


def password_ha1(algorithm: Algorithm, username: str, realm: str, password: str) -> str:
    """HA1 of the base algorithm: what a password store keeps instead of the password."""
    return algorithm.hash(f"{username}:{realm}:{password}".encode())


def session_ha1(algorithm: Algorithm, ha1: str, nonce: str, cnonce: str | None) -> str:
    """The HA1 that enters the response: ``ha1`` itself, or for a ``-sess`` algorithm
    H(ha1:nonce:cnonce) (RFC 7616 §3.4.2), which needs a cnonce."""
    if not algorithm.is_session:
        return ha1
    if cnonce is None:
        raise ValueError(f"{algorithm} needs a cnonce (RFC 7616 §3.4.2)")
    return algorithm.hash(f"{ha1}:{nonce}:{cnonce}".encode())


def ha2(algorithm: Algorithm, method: str, uri: str, qop: Qop | None, body: bytes) -> str:
    """HA2 (RFC 7616 §3.4.3). For ``auth-int`` the body is hashed too; an empty body hashes
    as the empty string (RFC 3261 §22.4 item 7)."""
    if qop is Qop.AUTH_INT:
        return algorithm.hash(f"{method}:{uri}:{algorithm.hash(body)}".encode())
    return algorithm.hash(f"{method}:{uri}".encode())


def format_nonce_count(count: int) -> str:
    """``nc``: the count as exactly 8 lowercase hex digits (RFC 7616 §3.4)."""
    if not 0 < count <= 0xFFFFFFFF:
        raise ValueError(f"nonce count {count} outside 1..2**32-1")
    return f"{count:08x}"


def response(
    algorithm: Algorithm,
    ha1: str,
    *,
    nonce: str,
    method: str,
    uri: str,
    qop: Qop | None = None,
    nonce_count: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The ``response`` parameter (RFC 7616 §3.4.1) from the base ``ha1``.

    With ``qop``, ``nonce_count`` (8 hex digits) and ``cnonce`` are required. Without it this
    is the RFC 2069 form, which has no cnonce, so a ``-sess`` algorithm cannot be used
    (RFC 3261 §22.4 item 8). Raises ``ValueError`` when a required value is missing.
    """
    if qop is None:
        if algorithm.is_session:
            raise ValueError(f"{algorithm} needs qop and a cnonce (RFC 3261 §22.4 item 8)")
        return algorithm.hash(f"{ha1}:{nonce}:{ha2(algorithm, method, uri, None, body)}".encode())
    if nonce_count is None or cnonce is None:
        raise ValueError("qop needs nc and cnonce (RFC 7616 §3.4)")
    key = session_ha1(algorithm, ha1, nonce, cnonce)
    digest_ha2 = ha2(algorithm, method, uri, qop, body)
    return algorithm.hash(f"{key}:{nonce}:{nonce_count}:{cnonce}:{qop}:{digest_ha2}".encode())
