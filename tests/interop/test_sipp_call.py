"""SIPp against `sippet uas --users` (a digest-challenged INVITE, 50 calls) and SIPp's
built-in `uas` scenario answering `sippet call`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sip_peers import (
    DATA,
    HOST,
    Sipp,
    SippetUASFactory,
    run_bounded,
    shown,
    sippet_command,
)

pytestmark = pytest.mark.interop

INVITE_AUTH = DATA / "sipp" / "uac-invite-auth.xml"
REALM = "sippet.test"
CALLS = 50


def users_file(tmp_path: Path, password: str = "secret") -> Path:
    path = tmp_path / "users"
    result = run_bounded(
        sippet_command("passwd", str(path), "alice", "--realm", REALM, "--password", password),
        timeout=30,
    )
    assert result.returncode == 0, shown(result)
    return path


def uas_arguments(tmp_path: Path) -> list[str]:
    users = str(users_file(tmp_path))
    return ["--ring", "0", "--users", users, "--realm", REALM, "--algorithms", "md5"]


def test_sipp_invite_challenged_by_sippet_uas(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    # SIPp answers MD5 challenges only, and digests sip:HOST:PORT unless -auth_uri names
    # the Request-URI (docs/auth.md).
    uas = sippet_uas(uas_arguments(tmp_path))
    run = Sipp(
        tmp_path,
        "uac-auth",
        [
            *("-sf", str(INVITE_AUTH), f"{HOST}:{uas.port}", "-s", "alice"),
            *("-au", "alice", "-ap", "secret", "-auth_uri", f"alice@{HOST}:{uas.port}"),
            *("-r", "25"),
        ],
        calls=CALLS,
        timeout=60,
    ).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (
        run.report() + "\nsippet uas:\n" + uas.output()
    )
    assert uas.alive(), uas.output()


def test_sipp_with_a_wrong_password_gets_no_call(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    uas = sippet_uas(uas_arguments(tmp_path))
    run = Sipp(
        tmp_path,
        "uac-auth-wrong",
        [
            *("-sf", str(INVITE_AUTH), f"{HOST}:{uas.port}", "-s", "alice"),
            *("-au", "alice", "-ap", "wrong", "-auth_uri", f"alice@{HOST}:{uas.port}"),
            *("-r", "10", "-recv_timeout", "5s"),
        ],
        calls=5,
        timeout=40,
    ).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (0, 5), run.report()


def test_sippet_call_to_sipp_uas(sipp_bin: str, tmp_path: Path) -> None:
    callee = Sipp(tmp_path, "sipp-uas", ["-sn", "uas"], calls=1, timeout=40).start()
    try:
        callee.wait_bound()
        result = run_bounded(
            sippet_command("call", f"sip:service@{HOST}:{callee.port}", "--duration", "0.2"),
            timeout=40,
        )
        assert result.returncode == 0, shown(result)
        lines = result.stdout.splitlines()
        assert any(line.startswith("INVITE 200 OK (") for line in lines), shown(result)
        assert any(line.startswith("BYE 200 OK (") for line in lines), shown(result)
        run = callee.wait()
    finally:
        callee.stop()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (1, 0), run.report() + shown(result)
