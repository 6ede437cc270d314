"""Digest algorithms (RFC 7616 §3.4.1, §6.1; RFC 8760 §2) and their relative strength.

An ``Algorithm`` is a ``str`` subclass, so it prints, compares and serializes as the token
written in the ``algorithm`` parameter. Each has a hash function and a session flag: a
``-sess`` variant hashes the nonce and cnonce into HA1 (RFC 7616 §3.4.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum


class Algorithm(StrEnum):
    """The digest algorithms of the IANA "HTTP Digest Hash Algorithms" registry."""

    MD5 = "MD5"
    MD5_SESS = "MD5-sess"
    SHA_256 = "SHA-256"
    SHA_256_SESS = "SHA-256-sess"
    SHA_512_256 = "SHA-512-256"
    SHA_512_256_SESS = "SHA-512-256-sess"

    @property
    def is_session(self) -> bool:
        """True for ``-sess`` variants: HA1 includes the nonce and cnonce (RFC 7616 §3.4.2)."""
        return self.value.endswith("-sess")

    @property
    def base(self) -> Algorithm:
        """The algorithm without ``-sess``: the one whose HA1 a password store keeps."""
        return _BASE[self]

    @property
    def strength(self) -> int:
        """Higher is stronger. RFC 8760 §2.4 orders SHA-512-256, SHA-256, MD5; a session
        variant is as strong as its base (it only changes what HA1 covers)."""
        return _STRENGTH[self.base]

    def hash(self, data: bytes) -> str:
        """H(data) of RFC 7616 §3.4.1: the lowercase hex digest."""
        return _HASHES[self.base](data)


def _md5(data: bytes) -> str:
    # Digest authentication is not a security use of MD5 we choose: RFC 2617 imposes it.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha512_256(data: bytes) -> str:
    # RFC 7616 §3.2 / RFC 8760 §2.1: SHA-512/256 of FIPS 180-4 (its own initial values,
    # not a truncated SHA-512), which OpenSSL names "sha512_256".
    return hashlib.new("sha512_256", data).hexdigest()


_HASHES: dict[Algorithm, Callable[[bytes], str]] = {
    Algorithm.MD5: _md5,
    Algorithm.SHA_256: _sha256,
    Algorithm.SHA_512_256: _sha512_256,
}

_STRENGTH: dict[Algorithm, int] = {
    Algorithm.MD5: 1,
    Algorithm.SHA_256: 2,
    Algorithm.SHA_512_256: 3,
}

BASE_ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm.MD5,
    Algorithm.SHA_256,
    Algorithm.SHA_512_256,
)
"""The algorithms whose HA1 a password store keeps; the ``-sess`` variants derive from them."""

DEFAULT_SERVER_ALGORITHMS: tuple[Algorithm, ...] = (Algorithm.SHA_256, Algorithm.MD5)
"""What a server offers by default, in this order: RFC 8760 §2.4 recommends the strongest
first, and MD5 last for old clients (SIPp and many phones know only MD5)."""

_BY_NAME = {algorithm.value.lower(): algorithm for algorithm in Algorithm}
_BASE = {algorithm: Algorithm(algorithm.value.removesuffix("-sess")) for algorithm in Algorithm}


def parse_algorithm(name: str | None) -> Algorithm | None:
    """The ``Algorithm`` named by an ``algorithm`` parameter, or ``None`` if unknown.

    Names compare case-insensitively (RFC 7616 §3.3 writes ``MD5`` and ``md5`` alike).
    A missing parameter means MD5 (RFC 2617 §3.2.1, RFC 7616 §3.3).
    """
    if name is None:
        return Algorithm.MD5
    return _BY_NAME.get(name.lower())


def parse_algorithm_list(text: str) -> tuple[Algorithm, ...]:
    """``"sha-256,md5"`` -> ``(Algorithm.SHA_256, Algorithm.MD5)``, in the order given,
    duplicates dropped: what a server offers (``sippet uas --algorithms``) or which HA1
    a users file keeps. Raises ``ValueError`` naming an unknown algorithm or an empty list."""
    chosen: list[Algorithm] = []
    for name in text.split(","):
        algorithm = _BY_NAME.get(name.strip().lower())
        if algorithm is None:
            known = ", ".join(a.value.lower() for a in Algorithm)
            raise ValueError(f"unknown digest algorithm {name.strip()!r} (known: {known})")
        if algorithm not in chosen:
            chosen.append(algorithm)
    return tuple(chosen)
