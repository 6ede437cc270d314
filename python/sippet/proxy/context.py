"""The response context of a stateful proxy (RFC 3261 §16.7): one per forwarded request,
with its branches, the responses they returned, and the choice of the best one."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sippet.message import Message, StatusLine
from sippet.proxy.forward import ProxyTarget
from sippet.transactions import ServerKey

# §16.7 step 6: within 4xx, these carry information the caller can act on.
_PREFERRED_4XX = (401, 407, 415, 420, 484)


class BranchState(enum.Enum):
    CALLING = "calling"  # sent, no response yet
    PROCEEDING = "proceeding"  # a provisional response came
    DONE = "done"  # a final response came (or was made up: timeout, transport error)


@dataclass
class Branch:
    """One client transaction of the context (§16.6 step 10)."""

    branch: str
    request: Message
    target: ProxyTarget
    state: BranchState = BranchState.CALLING
    timer_c: float | None = None
    cancel_wanted: bool = False  # cancel as soon as a provisional arrives (§9.1)
    cancelled: bool = False
    given_up: bool = False  # ended by the proxy (timeout, error, Timer C): deaf from then on


@dataclass
class ResponseContext:
    """§16.7: the request, its server transaction, its branches and their finals."""

    key: ServerKey
    request: Message
    received_protocol: str
    waves: list[list[ProxyTarget]]  # target groups by falling q, tried one after another
    branches: dict[str, Branch] = field(default_factory=dict)
    finals: list[Message] = field(default_factory=list)
    final_sent: bool = False
    cancelled: bool = False
    linger_until: float | None = None

    @property
    def is_invite(self) -> bool:
        return str(self.request.start_line[0]) == "INVITE"

    def pending(self) -> list[Branch]:
        return [b for b in self.branches.values() if b.state is not BranchState.DONE]


def status_of(response: Message) -> int:
    start = response.start_line
    assert isinstance(start, StatusLine)
    return start.status_code


def best_response(finals: list[Message]) -> Message | None:
    """§16.7 step 6: a 6xx if any; else one of the lowest class, preferring 401, 407, 415,
    420 and 484 in 4xx; the first received among equals. ``None`` when there is none."""
    if not finals:
        return None
    sixes = [r for r in finals if status_of(r) >= 600]
    if sixes:
        return sixes[0]
    lowest = min(status_of(r) // 100 for r in finals)
    candidates = [r for r in finals if status_of(r) // 100 == lowest]
    if lowest == 4:
        for response in candidates:
            if status_of(response) in _PREFERRED_4XX:
                return response
    return candidates[0]


def waves_by_q(targets: list[ProxyTarget], limit: int) -> list[list[ProxyTarget]]:
    """Targets grouped by q-value, highest first (§16.6: "in order of q"); equal q-values
    are forked in parallel. At most ``limit`` targets are kept."""
    ordered = sorted(targets, key=lambda t: -t.q)[:limit]
    waves: list[list[ProxyTarget]] = []
    for target in ordered:
        if waves and waves[-1][0].q == target.q:
            waves[-1].append(target)
        else:
            waves.append([target])
    return waves
