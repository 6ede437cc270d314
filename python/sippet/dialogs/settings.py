"""The dialog layer's timers and bounds, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_DIALOGS = 100_000
"""Live dialogs plus INVITE transactions in progress that one layer keeps (each confirmed
dialog costs well under 2 KiB: ``bench/dialogs.py``)."""

DEFAULT_PENDING_INVITE_TIMEOUT = 181.0
"""How long an INVITE may stay without a final response before the layer forgets it and
its early dialogs: past the 180 s Timer C of any proxy in front (RFC 3261 §16.6), and the
stack's own limit for an unanswered server INVITE (``AnswerTimeouts``)."""


@dataclass(frozen=True, slots=True)
class DialogSettings:
    """``t1``, ``t2``: RFC 3261 §17.1.1.1 (the 2xx of a UAS is retransmitted on them,
    §13.3.1.4); ``max_dialogs``: see ``DEFAULT_MAX_DIALOGS``; past it a new INVITE gets
    503 with Retry-After (UAS), ``send_invite`` raises ``DialogError`` (UAC), and a 2xx
    that would create one more dialog is acknowledged and ended with a BYE.
    ``pending_invite_timeout``: see ``DEFAULT_PENDING_INVITE_TIMEOUT``.
    ``busy_retry_after``: the Retry-After of that 503, in seconds."""

    t1: float = 0.5
    t2: float = 4.0
    max_dialogs: int = DEFAULT_MAX_DIALOGS
    pending_invite_timeout: float = DEFAULT_PENDING_INVITE_TIMEOUT
    busy_retry_after: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.t1 <= self.t2:
            raise ValueError("need 0 < t1 <= t2")
        if self.max_dialogs < 1:
            raise ValueError("max_dialogs must be at least 1")
        if self.pending_invite_timeout <= 0:
            raise ValueError("pending_invite_timeout must be positive")
        if self.busy_retry_after < 0:
            raise ValueError("busy_retry_after must not be negative")

    @property
    def ack_timeout(self) -> float:
        """64*T1: how long a UAS waits for the ACK of its 2xx (§13.3.1.4) and a UAC
        keeps an INVITE after its first 2xx (§13.2.2.4)."""
        return 64 * self.t1
