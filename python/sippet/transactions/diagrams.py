"""State diagrams of the four machines, printed from their transition tables.

``python -m sippet.transactions.diagrams`` prints the Mermaid blocks committed in
``docs/transactions.md``; a test checks that the two agree.
"""

from __future__ import annotations

from sippet.transactions.client_invite import ClientInviteTransaction
from sippet.transactions.client_non_invite import ClientNonInviteTransaction
from sippet.transactions.machine import State, Transaction
from sippet.transactions.server_invite import ServerInviteTransaction
from sippet.transactions.server_non_invite import ServerNonInviteTransaction

MACHINES: tuple[tuple[str, type[Transaction]], ...] = (
    ("INVITE client transaction (RFC 3261 Figure 5, RFC 6026)", ClientInviteTransaction),
    ("non-INVITE client transaction (RFC 3261 Figure 6)", ClientNonInviteTransaction),
    ("INVITE server transaction (RFC 3261 Figure 7, RFC 6026)", ServerInviteTransaction),
    ("non-INVITE server transaction (RFC 3261 Figure 8)", ServerNonInviteTransaction),
)


def mermaid(machine: type[Transaction]) -> str:
    """A Mermaid ``stateDiagram-v2`` of one machine: one arrow per table entry."""
    lines = ["stateDiagram-v2", f"    [*] --> {machine.INITIAL.value}: {machine.START_LABEL}"]
    for (source, _event), edge in machine.TABLE.items():
        lines.append(f"    {source.value} --> {edge.target.value}: {edge.label}")
    lines.append(f"    {State.TERMINATED.value} --> [*]")
    return "\n".join(lines)


def markdown() -> str:
    """Every machine as a titled Mermaid block."""
    parts = []
    for title, machine in MACHINES:
        parts.append(f"### {title}\n\n```mermaid\n{mermaid(machine)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
