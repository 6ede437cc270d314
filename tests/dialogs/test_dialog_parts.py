"""The pieces under the layer: the state table, the deadlines heap, settings, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sippet.dialogs
from sippet.dialogs import TRANSITIONS, DialogEvent, DialogSettings, DialogState
from sippet.dialogs.state import next_state
from sippet.dialogs.timers import Deadlines

PACKAGE = Path(sippet.dialogs.__file__).parent


def test_package_does_no_io() -> None:
    forbidden = {"asyncio", "socket", "time", "select", "selectors", "threading", "os"}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not names & forbidden, f"{path.name} imports {names & forbidden}"


def test_terminated_is_final_and_only_early_takes_1xx_and_failure() -> None:
    assert not any(state is DialogState.TERMINATED for state, _ in TRANSITIONS)
    for event in DialogEvent:
        assert next_state(DialogState.TERMINATED, event) is DialogState.TERMINATED
    # A confirmed dialog ignores a late 1xx, a 2xx retransmission, a late failure.
    for event in (DialogEvent.PROVISIONAL, DialogEvent.SUCCESS, DialogEvent.FAILURE):
        assert next_state(DialogState.CONFIRMED, event) is DialogState.CONFIRMED
    assert next_state(DialogState.EARLY, DialogEvent.SUCCESS) is DialogState.CONFIRMED
    # §13.3.1.4's missing ACK only concerns a confirmed dialog.
    assert next_state(DialogState.EARLY, DialogEvent.NO_ACK) is DialogState.EARLY


class _Record:
    def __init__(self) -> None:
        self.entry: list[object] | None = None


def test_deadlines_fire_in_order_and_cancelled_ones_never() -> None:
    deadlines = Deadlines()
    records = [_Record() for _ in range(5)]
    for index, record in enumerate(records):
        deadlines.schedule(record, float(5 - index))
    deadlines.cancel(records[0])  # deadline 5
    deadlines.schedule(records[4], 10.0)  # moved from 1 to 10
    assert len(deadlines) == 4
    assert deadlines.next_deadline() == 2.0
    fired = []
    while (due := deadlines.pop_due(6.0)) is not None:
        fired.append(due[0])
    assert fired == [2.0, 3.0, 4.0]
    assert deadlines.next_deadline() == 10.0


def test_deadlines_compact_when_dead_entries_dominate() -> None:
    deadlines = Deadlines()
    records = [_Record() for _ in range(1000)]
    for index, record in enumerate(records):
        deadlines.schedule(record, 100.0 + index)
    for record in records[:990]:
        deadlines.cancel(record)
    assert len(deadlines) == 10
    assert len(deadlines._heap) < 200
    assert deadlines.next_deadline() == 1090.0


def test_settings_are_checked() -> None:
    assert DialogSettings().ack_timeout == 32.0
    for bad in (
        {"t1": 0.0},
        {"t1": 5.0, "t2": 4.0},
        {"max_dialogs": 0},
        {"pending_invite_timeout": 0.0},
        {"busy_retry_after": -1},
    ):
        with pytest.raises(ValueError):
            DialogSettings(**bad)  # type: ignore[arg-type]


def test_committed_diagram_matches_the_table() -> None:
    from sippet.dialogs import diagram

    doc = (Path(__file__).parents[2] / "docs" / "dialogs.md").read_text()
    assert f"```mermaid\n{diagram.mermaid()}\n```" in doc
    for (source, event), target in TRANSITIONS.items():
        assert f"{source.value} --> {target.value}: {event.value}" in diagram.mermaid()
