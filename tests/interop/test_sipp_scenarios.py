"""SIPp scenarios of tests/data/sipp against `sippet uas`: CANCEL, rejection, stray BYE."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sip_peers import (
    HOST,
    SIPP_UAC_BYE_UNKNOWN,
    SIPP_UAC_CANCEL,
    SIPP_UAC_REJECT,
    Sipp,
    SippetUASFactory,
    screen_row,
)

pytestmark = pytest.mark.interop

CALLS = 5


def _caller(tmp_path: Path, scenario: Path, port: int) -> Sipp:
    return Sipp(
        tmp_path,
        scenario.stem,
        ["-sf", str(scenario), f"{HOST}:{port}", "-r", "10"],
        calls=CALLS,
        timeout=30,
    )


def test_cancel_while_ringing(sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path) -> None:
    # Rings 2 s; SIPp cancels on the 180 and then waits 3 s, so a callee that still
    # answered the INVITE with 200 would fail the call (unexpected message).
    uas = sippet_uas(["--ring", "2"])
    run = _caller(tmp_path, SIPP_UAC_CANCEL, uas.port).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (
        run.report() + "\nsippet uas:\n" + uas.output()
    )


def test_rejected_invite_ack_stops_retransmissions(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    uas = sippet_uas(["--answer", "486", "--ring", "0"])
    run = _caller(tmp_path, SIPP_UAC_REJECT, uas.port).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), run.report()
    received, retransmitted, *_ = screen_row(run.screen(), "486 <-")
    assert received == CALLS, run.report()
    # RFC 3261 §17.2.1: the ACK (same branch as the INVITE) stops Timer G; with the
    # ACK absorbed no 486 is retransmitted during SIPp's 2.5 s pause (Timer G: 0.5 s).
    assert retransmitted == 0, run.report() + "\nsippet uas:\n" + uas.output()


def test_bye_outside_a_dialog_gets_481(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    uas = sippet_uas(["--ring", "0"])
    run = _caller(tmp_path, SIPP_UAC_BYE_UNKNOWN, uas.port).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (
        run.report() + "\nsippet uas:\n" + uas.output()
    )
