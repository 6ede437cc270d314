"""The harness against the peers alone (no sippet): SIPp and Kamailio work as expected here.

If these fail, the interop tests of sippet that follow cannot be trusted either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .sip_peers import (
    HOST,
    SIPP_OPTIONS_UAC,
    SIPP_OPTIONS_UAC_STATEFUL,
    Kamailio,
    Sipp,
    options_probe,
    screen_row,
)

pytestmark = pytest.mark.interop


@pytest.mark.parametrize(
    "scenario", [SIPP_OPTIONS_UAC, SIPP_OPTIONS_UAC_STATEFUL], ids=["stateless", "stateful"]
)
def test_kamailio_answers_sipp_options_load(
    sipp_bin: str, kamailio: Kamailio, tmp_path: Path, scenario: Path
) -> None:
    run = Sipp(
        tmp_path,
        "options",
        ["-sf", str(scenario), f"{HOST}:{kamailio.port}", "-r", "500", "-l", "100"],
        calls=500,
        timeout=30,
    ).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (500, 0), run.report()
    assert run.returncode == 0, run.report()


def test_kamailio_stops_and_frees_its_port(kamailio_bin: str, tmp_path: Path) -> None:
    server = Kamailio(tmp_path)
    server.start()
    assert options_probe(server.port) == 200
    server.stop()
    assert server.process is not None and server.process.poll() is not None
    assert options_probe(server.port, timeout=0.3) is None


def test_sipp_uac_against_sipp_uas(sipp_bin: str, tmp_path: Path) -> None:
    callee = Sipp(tmp_path, "callee", ["-sn", "uas"], calls=10, timeout=30).start()
    try:
        callee.wait_bound()
        caller = Sipp(
            tmp_path,
            "caller",
            ["-sn", "uac", f"{HOST}:{callee.port}", "-r", "50"],
            calls=10,
            timeout=30,
        ).run()
    finally:
        callee_run = callee.wait()
    assert caller.stats is not None, caller.report()
    assert (caller.stats.successful, caller.stats.failed) == (10, 0), caller.report()
    assert callee_run.stats is not None, callee_run.report()
    assert callee_run.stats.successful == 10, callee_run.report()
    # The screen's message table: 10 INVITEs sent without retransmission, 10 BYEs answered.
    assert screen_row(caller.screen(), "INVITE ->")[:2] == [10, 0], caller.report()
    assert screen_row(caller.screen(), "ACK ->")[0] == 10, caller.report()
