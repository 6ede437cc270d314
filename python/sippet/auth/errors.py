"""Why authentication did not go through: one reason enum for client and server, and the
exception the client raises."""

from __future__ import annotations

from enum import StrEnum

from sippet.errors import SippetError


class AuthReason(StrEnum):
    """Machine-readable reasons (a ``str``: they print and compare as their text)."""

    # Client side (``DigestClient.authorize``).
    NOT_A_CHALLENGE = "not_a_challenge"
    """The response is not a 401 or 407, or the request is an ACK or CANCEL."""
    NO_USABLE_CHALLENGE = "no_usable_challenge"
    """No Digest challenge with a known algorithm and qop (Basic is refused, RFC 3261 §22.4)."""
    NO_CREDENTIALS = "no_credentials"
    """No username and password for any challenged realm."""
    REJECTED = "rejected"
    """The realm challenged again without ``stale=true``: the credentials just sent were
    wrong, and RFC 3261 §22.2 says not to send them again."""

    # Server side (``Verdict.reason``).
    MISSING = "missing"
    """No credentials for this realm: the request gets a challenge."""
    MALFORMED = "malformed"
    """A required parameter is missing or has a bad value (RFC 7616 §3.4: 400)."""
    UNSUPPORTED = "unsupported"
    """Algorithm or qop not offered by this server, or ``userhash`` (not implemented)."""
    BAD_NONCE = "bad_nonce"
    """The nonce was not issued with this server's key and realm."""
    STALE_NONCE = "stale_nonce"
    """A genuine nonce past its lifetime; the digest was right (answered ``stale=true``)."""
    REPLAYED = "replayed"
    """A nonce count already used with this nonce (or too old to tell): a replay, or a
    client that reuses counts; the digest was right (answered ``stale=true``)."""
    URI_MISMATCH = "uri_mismatch"
    """The ``uri`` parameter is not the Request-URI."""
    UNKNOWN_USER = "unknown_user"
    WRONG_RESPONSE = "wrong_response"
    """The digest does not match: wrong password, or a field changed in transit."""


class AuthError(SippetError):
    """The client cannot answer a challenge; ``reason`` is an ``AuthReason``."""

    def __init__(self, message: str, *, reason: AuthReason) -> None:
        super().__init__(message)
        self.reason = reason
