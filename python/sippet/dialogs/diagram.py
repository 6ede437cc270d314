"""The dialog state diagram, printed from ``state.TRANSITIONS``.

``python -m sippet.dialogs.diagram`` prints the Mermaid block committed in
``docs/dialogs.md``; a test checks that the two agree.
"""

from __future__ import annotations

from sippet.dialogs.state import TRANSITIONS


def mermaid() -> str:
    """A Mermaid ``stateDiagram-v2``: one arrow per table entry."""
    lines = [
        "stateDiagram-v2",
        "    [*] --> Early: 101-199 with a To tag (§12.1)",
        "    [*] --> Confirmed: 2xx (§12.1)",
    ]
    for (source, event), target in TRANSITIONS.items():
        lines.append(f"    {source.value} --> {target.value}: {event.value}")
    lines.append("    Terminated --> [*]: forgotten at once")
    return "\n".join(lines)


if __name__ == "__main__":
    print(mermaid())
