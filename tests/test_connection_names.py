"""sippet.stack.connection_names: the .invalid names that stand for a client's connection
(RFC 7118 §5, Appendix B.1), pure bookkeeping."""

from __future__ import annotations

import pytest
from sippet.stack.connection_names import (
    MAX_NAMES_PER_CONNECTION,
    ConnectionNames,
    is_invalid_host,
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("df7jal23ls0d.invalid", True),
        ("A.B.INVALID", True),
        ("x.invalid.", True),
        ("invalid", False),  # a one-label name, not under the .invalid domain
        ("invalid.example.com", False),
        ("example.invalidx", False),
        ("127.0.0.1", False),
        ("::1", False),
    ],
)
def test_is_invalid_host(host: str, expected: bool) -> None:
    assert is_invalid_host(host) is expected


def names(open_connections: set[str]) -> ConnectionNames[str]:
    return ConnectionNames(lambda connection: connection in open_connections)


def test_a_name_finds_its_open_connection_case_insensitively() -> None:
    table = names({"alice"})
    assert table.learn("Via-A.invalid", "alice")
    assert table.holder("via-a.INVALID.") == "alice"
    assert table.holder("other.invalid") is None


def test_a_closed_connection_is_not_found_and_forget_drops_its_names() -> None:
    open_connections = {"alice"}
    table = names(open_connections)
    table.learn("a.invalid", "alice")
    table.learn("b.invalid", "alice")
    open_connections.clear()
    assert table.holder("a.invalid") is None
    table.forget("alice")
    assert len(table) == 0


def test_an_open_holder_keeps_its_name() -> None:
    open_connections = {"alice", "mallory"}
    table = names(open_connections)
    assert table.learn("a.invalid", "alice")
    assert not table.learn("A.invalid", "mallory")
    assert table.holder("a.invalid") == "alice"
    # Once Alice's connection is closed, the name may stand for another one.
    open_connections.discard("alice")
    assert table.learn("a.invalid", "mallory")
    assert table.holder("a.invalid") == "mallory"
    table.forget("alice")  # nothing left for Alice: harmless
    assert table.holder("a.invalid") == "mallory"


def test_names_per_connection_are_bounded_newest_kept() -> None:
    table = names({"alice"})
    claimed = [f"n{i}.invalid" for i in range(MAX_NAMES_PER_CONNECTION + 5)]
    for name in claimed:
        assert table.learn(name, "alice")
    assert len(table) == MAX_NAMES_PER_CONNECTION
    assert table.holder(claimed[0]) is None
    assert all(table.holder(name) == "alice" for name in claimed[-MAX_NAMES_PER_CONNECTION:])
    # Learning a name it already has changes nothing.
    assert table.learn(claimed[-1], "alice")
    assert len(table) == MAX_NAMES_PER_CONNECTION
