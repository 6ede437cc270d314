"""The users file (sippet.auth.users) and ``sippet passwd``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sippet.auth import Algorithm, Users, UsersFileError, password_ha1
from sippet.cli import main
from sippet.cli.passwd import load_users


def test_set_password_stores_ha1_per_base_algorithm_never_the_password() -> None:
    users = Users()
    users.set_password("alice", "r", "Circle of Life")
    for algorithm in Algorithm:
        assert users.ha1("alice", "r", algorithm) == password_ha1(
            algorithm.base, "alice", "r", "Circle of Life"
        )
    assert "Circle of Life" not in users.dump()
    assert users.ha1("alice", "other", Algorithm.MD5) is None
    assert users.ha1("bob", "r", Algorithm.MD5) is None


def test_dump_and_parse_round_trip_with_any_characters() -> None:
    users = Users()
    users.set_password("J\u00e4s\u00f8n Doe", "api@example.org", "pw")
    users.set_password('a:b"c\\', "realm with spaces, and: colons", "pw", [Algorithm.MD5])
    again = Users.parse(users.dump())
    assert set(again) == set(users)
    for key in users:
        for algorithm in Algorithm:
            assert again.ha1(*key, algorithm) == users.ha1(*key, algorithm)
    only_md5 = ('a:b"c\\', "realm with spaces, and: colons")
    assert again.ha1(*only_md5, Algorithm.SHA_256) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("not json", 1),
        ('# comment\n\n{"user": "a", "realm": "r"}', 3),
        ('{"user": "a", "realm": "r", "ha1": {"MD5": "abc"}}', 1),
        ('{"user": "a", "realm": "r", "ha1": {"SHA-1": "' + "0" * 40 + '"}}', 1),
        ('{"user": "a", "realm": "r", "ha1": {"MD5-sess": "' + "0" * 32 + '"}}', 1),
        ('{"user": "a", "realm": "r", "ha1": {"MD5": "' + "A" * 32 + '"}}', 1),
        ('{"user": "", "realm": "r", "ha1": {"MD5": "' + "0" * 32 + '"}}', 1),
        ('{"user": 1, "realm": "r", "ha1": {"MD5": "' + "0" * 32 + '"}}', 1),
        ('{"user": "a", "realm": "r", "ha1": {}}', 1),
        ("[1, 2]", 1),
        ('{"user": "a", "realm": "r", "ha1": {"MD5": "' + "0" * 32 + '"}}\n' * 2, 2),
    ],
)
def test_bad_lines_are_reported_with_their_number(text: str, line: int) -> None:
    with pytest.raises(UsersFileError) as caught:
        Users.parse(text)
    assert caught.value.line == line


def passwd(*args: str) -> int:
    return main(["passwd", *args])


def test_passwd_adds_replaces_and_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users"
    assert passwd(str(path), "alice", "--password", "one") == 0
    assert (
        passwd(str(path), "bob", "--realm", "r2", "--password", "two", "--algorithms", "md5") == 0
    )
    first = Users.parse(path.read_text())
    assert passwd(str(path), "alice", "--password", "three") == 0
    assert "replaced 'alice'" in capsys.readouterr().out
    users = Users.parse(path.read_text())
    assert len(users) == 2
    assert users.ha1("alice", "sippet", Algorithm.SHA_256) == password_ha1(
        Algorithm.SHA_256, "alice", "sippet", "three"
    )
    assert users.ha1("alice", "sippet", Algorithm.MD5) != first.ha1(
        "alice", "sippet", Algorithm.MD5
    )
    assert users.ha1("bob", "r2", Algorithm.SHA_256) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert passwd(str(path), "bob", "--realm", "r2", "--delete") == 0
    assert ("bob", "r2") not in Users.parse(path.read_text())
    assert passwd(str(path), "bob", "--realm", "r2", "--delete") == 1
    # Nothing but the users file is left in the directory (no temporary files).
    assert os.listdir(tmp_path) == ["users"]


def test_passwd_reads_the_password_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "users"
    done = subprocess.run(
        [sys.executable, "-m", "sippet", "passwd", str(path), "carol", "--realm", "x"],
        input="s3cret\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in path.read_text()
    record = json.loads(path.read_text().splitlines()[1])
    assert record["ha1"]["MD5"] == password_ha1(Algorithm.MD5, "carol", "x", "s3cret")


def test_passwd_refuses_an_empty_password_and_a_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users"
    assert passwd(str(path), "alice", "--password", "") == 2
    assert not path.exists()
    path.write_text("garbage\n")
    assert passwd(str(path), "alice", "--password", "pw") == 2
    assert path.read_text() == "garbage\n"  # a file we cannot read is never overwritten
    assert "line 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        passwd(str(path), "alice", "--password", "pw", "--algorithms", "sha-1")


def test_passwd_stores_the_base_of_a_session_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "users"
    assert passwd(str(path), "al", "--password", "pw", "--algorithms", "sha-256-sess") == 0
    users = load_users(path)
    assert users.ha1("al", "sippet", Algorithm.SHA_256_SESS) == password_ha1(
        Algorithm.SHA_256, "al", "sippet", "pw"
    )
    assert users.ha1("al", "sippet", Algorithm.MD5) is None


def test_load_users_reports_a_missing_file_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_users(tmp_path / "absent")
    assert len(load_users(tmp_path / "absent", missing_ok=True)) == 0
    big = tmp_path / "big"
    big.write_bytes(b"#" * (16 * 1024 * 1024 + 10))
    with pytest.raises(UsersFileError):
        load_users(big)
