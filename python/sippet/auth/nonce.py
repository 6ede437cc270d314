"""Stateless nonces: issued and checked without remembering them (RFC 7616 §3.3, §5.4).

A nonce is ``base64url(version || issued || salt || mac)``:

- ``issued``: when it was made, in milliseconds of the caller's clock (8 bytes);
- ``salt``: 8 random bytes, so two nonces issued in the same millisecond differ;
- ``mac``: HMAC-SHA-256 under the server's key over version, issued, salt and the realm
  (and an optional binding, such as the client's address), truncated to 128 bits.

Any node holding the key can check a nonce, so a cluster needs no shared state to accept
nonces issued by its peers; for that, every node's clock must be wall-clock seconds (Unix
time), not a monotonic clock, and the clocks must agree within ``max_clock_skew``. The MAC
keeps a client from forging a fresh nonce or extending an old one; the realm in the MAC
keeps a nonce of one realm from being used in another one sharing the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from enum import Enum
from typing import NamedTuple

_VERSION = b"\x01"
_ISSUED_BYTES = 8
_SALT_BYTES = 8
_MAC_BYTES = 16  # 128 bits: forging takes 2**128 tries, each needing a server round trip
_NONCE_BYTES = len(_VERSION) + _ISSUED_BYTES + _SALT_BYTES + _MAC_BYTES

MIN_KEY_BYTES = 16
"""A shorter key would make the MAC the weakest link (RFC 2104 §3 recommends at least the
hash's output length; 16 bytes is the floor we accept, 32 what ``generate_key`` makes)."""

DEFAULT_NONCE_LIFETIME = 300.0
"""Seconds a nonce is accepted. Long enough for a user to type a password and for a
REGISTER refresh cycle to reuse it with growing nonce counts; short enough to bound replay
state. After it the server answers ``stale=true`` and the client retries silently."""

DEFAULT_MAX_CLOCK_SKEW = 5.0
"""Seconds a nonce may appear to come from the future (another node's clock ahead)."""


def generate_key() -> bytes:
    """A new random 32-byte nonce key. Share it among the nodes of a cluster."""
    return secrets.token_bytes(32)


class NonceState(Enum):
    VALID = "valid"
    STALE = "stale"
    """Genuine (the MAC checks) but expired, or from too far in the future."""
    INVALID = "invalid"
    """Not made by this key for this realm: garbled, forged, or another server's."""


class NonceCheck(NamedTuple):
    state: NonceState
    issued: float
    """When the nonce was issued (seconds); 0.0 for an invalid nonce."""


class NonceFactory:
    """Makes and checks the nonces of one realm. ``now`` is in seconds."""

    def __init__(
        self,
        key: bytes,
        realm: str,
        *,
        lifetime: float = DEFAULT_NONCE_LIFETIME,
        max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW,
    ) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"nonce key needs at least {MIN_KEY_BYTES} bytes")
        if lifetime <= 0 or max_clock_skew < 0:
            raise ValueError("nonce lifetime must be positive and clock skew not negative")
        self._key = key
        self._realm = realm.encode()
        self.lifetime = lifetime
        self.max_clock_skew = max_clock_skew

    def make(self, now: float, binding: str = "") -> str:
        """A new nonce issued at ``now``. ``binding`` (e.g. the client's address) must be
        given again to ``check``; leave it empty when clients may move (NAT rebinding)."""
        issued = max(0, int(now * 1000)).to_bytes(_ISSUED_BYTES, "big")
        body = _VERSION + issued + secrets.token_bytes(_SALT_BYTES)
        return _encode(body + self._mac(body, binding))

    def check(self, nonce: str, now: float, binding: str = "") -> NonceCheck:
        """Whether ``nonce`` is one of ours and still within its lifetime."""
        try:
            raw = base64.urlsafe_b64decode(nonce.encode("ascii"))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            return NonceCheck(NonceState.INVALID, 0.0)
        # b64decode skips characters outside the alphabet: insist on the one canonical
        # spelling, so that one nonce has one text (replay state is keyed by the text).
        if len(raw) != _NONCE_BYTES or raw[:1] != _VERSION or _encode(raw) != nonce:
            return NonceCheck(NonceState.INVALID, 0.0)
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body, binding)):
            return NonceCheck(NonceState.INVALID, 0.0)
        issued = int.from_bytes(body[1 : 1 + _ISSUED_BYTES], "big") / 1000
        age = now - issued
        if age > self.lifetime or age < -self.max_clock_skew:
            return NonceCheck(NonceState.STALE, issued)
        return NonceCheck(NonceState.VALID, issued)

    def _mac(self, body: bytes, binding: str) -> bytes:
        bound = binding.encode()
        # Length-prefixed, so that no realm and binding pair reads as another one.
        message = b"".join(
            (
                body,
                len(self._realm).to_bytes(4, "big"),
                self._realm,
                len(bound).to_bytes(4, "big"),
                bound,
            )
        )
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")
