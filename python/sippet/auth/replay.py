"""Replay protection by nonce count (RFC 7616 §3.4, §5.5), in bounded memory.

For each nonce that has authenticated a request, the server keeps the highest ``nc`` seen
and a bitmap of the ``window`` counts below it, as IPsec does for sequence numbers (RFC 4303
§3.4.3). A count is accepted once; counts may arrive out of order within the window (a
client with several transactions in flight), and a count older than the window is refused.

Memory is bounded by ``max_nonces`` entries (about 260 bytes each: 170 measured by
``bench/auth.py`` plus the 44-character nonce text). Only nonces that
carried a correct digest are tracked, so filling the table takes valid credentials.
Entries go when their nonce expires; when the table is full the oldest entry is evicted,
and every nonce issued no later than an evicted one is from then on refused as if replayed
(the client gets ``stale=true`` and a fresh nonce). Forgetting therefore never lets a replay
through; it only costs an honest client one extra round trip.
"""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_MAX_TRACKED_NONCES = 50_000
"""About 13 MB at most. A nonce lives ``DEFAULT_NONCE_LIFETIME`` (300 s) and a client uses
one per challenge, so this covers about 160 new authenticated clients per second."""

DEFAULT_REPLAY_WINDOW = 64
"""Counts accepted out of order below the highest one seen."""


class _Entry:
    __slots__ = ("bits", "highest", "issued")

    def __init__(self, issued: float, count: int) -> None:
        self.issued = issued
        self.highest = count
        self.bits = 1  # bit i set: count (highest - i) was seen


class NonceCountTracker:
    """Which (nonce, nc) pairs were already accepted. ``now`` is in seconds, the same clock
    as the nonces' ``issued`` time."""

    def __init__(
        self,
        lifetime: float,
        *,
        max_nonces: int = DEFAULT_MAX_TRACKED_NONCES,
        window: int = DEFAULT_REPLAY_WINDOW,
    ) -> None:
        if max_nonces < 1 or window < 1:
            raise ValueError("max_nonces and window must be at least 1")
        self.lifetime = lifetime
        self.max_nonces = max_nonces
        self.window = window
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._forgotten_until = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)

    def accept(self, nonce: str, issued: float, count: int, now: float) -> bool:
        """Record ``count`` for ``nonce`` (issued at ``issued``); False if it was seen
        before, is older than the window, or the nonce's history was forgotten."""
        self._expire(now)
        entry = self._entries.get(nonce)
        if entry is None:
            if issued <= self._forgotten_until:
                return False
            if len(self._entries) >= self.max_nonces:
                _, evicted = self._entries.popitem(last=False)
                self._forgotten_until = max(self._forgotten_until, evicted.issued)
                if issued <= self._forgotten_until:
                    return False
            self._entries[nonce] = _Entry(issued, count)
            return True
        if count > entry.highest:
            shift = count - entry.highest
            entry.bits = (
                ((entry.bits << shift) | 1) & ((1 << self.window) - 1) if shift < self.window else 1
            )
            entry.highest = count
            return True
        offset = entry.highest - count
        if offset >= self.window or entry.bits >> offset & 1:
            return False
        entry.bits |= 1 << offset
        return True

    def _expire(self, now: float) -> None:
        # Entries are in first-use order, which follows issue order closely enough: an
        # entry stuck behind a younger one still goes at the latest when evicted.
        entries = self._entries
        while entries:
            entry = next(iter(entries.values()))
            if entry.issued + self.lifetime >= now:
                return
            entries.popitem(last=False)
