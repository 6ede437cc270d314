"""What ``sippet uas`` prints: one line per transaction (method, caller, status, time)
and counters at the end, the way SIPp's screen summarises a run."""

from __future__ import annotations

import time
from collections import Counter
from typing import TextIO

from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method


class TransactionReport:
    """Counts requests received and final responses sent; prints a line per final
    response unless ``quiet`` (a loaded UAS spends its time writing them)."""

    def __init__(self, out: TextIO | None, *, quiet: bool = False) -> None:
        self.out = out
        self.quiet = quiet
        self.requests: Counter[str] = Counter()
        self.finals: Counter[int] = Counter()
        self.calls: Counter[str] = Counter()

    def received(self, request: Message) -> None:
        start = request.start_line
        assert isinstance(start, RequestLine)
        # Unknown methods share one counter: the network must not grow this table.
        self.requests[str(start.method) if isinstance(start.method, Method) else "other"] += 1

    def answered(self, response: Message, elapsed: float | None) -> None:
        """A final response sent for the first time (retransmissions are not counted)."""
        status = response.start_line
        assert isinstance(status, StatusLine)
        self.finals[status.status_code] += 1
        if self.quiet or self.out is None:
            return
        headers = response.headers
        cseq = headers.get("cseq")
        caller = headers.get("from")
        method = str(cseq.method) if cseq is not None and hasattr(cseq, "method") else "?"
        who = str(caller.uri) if caller is not None and hasattr(caller, "uri") else "?"
        took = f" ({elapsed * 1000:.1f} ms)" if elapsed is not None else ""
        print(
            f"{time.strftime('%H:%M:%S')} {method} from {who}: "
            f"{status.status_code} {status.reason_phrase}{took}",
            file=self.out,
            flush=True,
        )

    def call_ended(self, reason: str) -> None:
        self.calls[reason] += 1

    def summary(self) -> str:
        """``requests: INVITE 2, OPTIONS 1; responses: 200 2, 481 1; dialogs ended: bye 1``."""
        parts = [
            "requests: " + (_counts(self.requests) or "none"),
            "responses: " + (_counts(self.finals) or "none"),
        ]
        if self.calls:
            parts.append("dialogs ended: " + _counts(self.calls))
        return "; ".join(parts)


def _counts(counter: Counter[str] | Counter[int]) -> str:
    return ", ".join(f"{key} {count}" for key, count in sorted(counter.items()))


__all__ = ["TransactionReport"]
