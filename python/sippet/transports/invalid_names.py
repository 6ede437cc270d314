"""``.invalid`` host names: how a client reached only over its connection names itself.

RFC 7118 Appendix B.1 (and its §8.1 example): a WebSocket client cannot learn the address
its connection comes from, so it puts a random name under ``.invalid`` (RFC 6761 §6.4: such
names never resolve) in its Via sent-by and Contact; requests and responses for it follow
its connection. The stack's transport layer recognizes these names
(``sippet.stack.connection_names``); a client builds its own with ``invalid_host()``.
"""

from __future__ import annotations

import secrets

INVALID_DOMAIN = "invalid"
"""RFC 6761 §6.4: the top-level domain whose names never resolve."""


def invalid_host() -> str:
    """A random ``.invalid`` host name (48 random bits) for a client's Via and Contact."""
    return f"{secrets.token_hex(6)}.{INVALID_DOMAIN}"


def is_invalid_host(host: str) -> bool:
    """True for a name under ``.invalid`` (any case, with or without a final dot)."""
    labels = host.rstrip(".").lower().split(".")
    return len(labels) > 1 and labels[-1] == INVALID_DOMAIN
