"""Random identifiers: Via branches, From/To tags and Call-IDs.

Every identifier is drawn from ``secrets`` (the OS CSPRNG): RFC 3261 §8.1.1.7 wants branches
unique across space and time, §19.3 wants tags and Call-IDs to be unguessable ("at least 32
bits of randomness" for tags; Call-IDs must not collide). We use 96 bits or more everywhere,
well above Sippet's 48-bit tags and 72-bit branches.

The output is lowercase hex: every character is a ``token`` character (RFC 3261 §25.1), so
the values can go into a branch or tag parameter or a Call-ID without quoting or escaping.
"""

from __future__ import annotations

import secrets

MAGIC_COOKIE = "z9hG4bK"
"""RFC 3261 §8.1.1.7: every branch created by an RFC 3261 element starts with this."""

_BRANCH_BYTES = 12  # 96 random bits after the cookie
_TAG_BYTES = 12  # 96 bits
_CALL_ID_BYTES = 16  # 128 bits: a Call-ID names a dialog for its whole life (§8.1.1.4)


def create_branch() -> str:
    """A new Via branch: the magic cookie followed by 96 random bits in hex.

    RFC 3261 §8.1.1.7: the branch identifies the transaction, so it must be unique for
    every request a UA sends (a CANCEL and a non-2xx ACK reuse the INVITE's branch; that
    is the caller's business, not this function's).
    """
    return MAGIC_COOKIE + secrets.token_hex(_BRANCH_BYTES)


def create_tag() -> str:
    """A new From or To tag (RFC 3261 §19.3): 96 random bits in hex."""
    return secrets.token_hex(_TAG_BYTES)


def create_call_id(host: str | None = None) -> str:
    """A new Call-ID (RFC 3261 §8.1.1.4, §20.8): 128 random bits in hex.

    With ``host``, the result is ``random@host``, the form §8.1.1.4 recommends; the
    random part alone already makes collisions negligible, so the host is optional.
    """
    local = secrets.token_hex(_CALL_ID_BYTES)
    return local if host is None else f"{local}@{host}"
