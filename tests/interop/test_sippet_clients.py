"""sippet as the client: `sippet options` against Kamailio and SIPp, the UAC example
(examples/uac_call.py) against SIPp's built-in `uas` scenario."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from .sip_peers import (
    HOST,
    REPO,
    SIPP_OPTIONS_UAS,
    SIPP_OPTIONS_UAS_SLOW,
    Kamailio,
    Sipp,
    SippetProxy,
    free_udp_port,
    run_bounded,
    screen_row,
    shown,
    sippet_command,
)

pytestmark = pytest.mark.interop

UAC_EXAMPLE = REPO / "examples" / "uac_call.py"


def test_sippet_options_to_kamailio(kamailio: Kamailio) -> None:
    result = run_bounded(
        sippet_command("options", f"sip:{HOST}:{kamailio.port}", "--timeout", "5"), timeout=30
    )
    assert result.returncode == 0, shown(result)
    assert re.search(r"\b200\b", result.stdout), shown(result)


def test_sippet_options_counts_against_kamailio(kamailio: Kamailio) -> None:
    result = run_bounded(
        sippet_command("options", f"sip:{HOST}:{kamailio.port}", "--count", "3", "--timeout", "5"),
        timeout=40,
    )
    assert result.returncode == 0, shown(result)
    assert len(re.findall(r"\b200\b", result.stdout)) >= 3, shown(result)


def test_sippet_options_to_kamailio_through_sippet_proxy(
    kamailio: Kamailio, tmp_path: Path
) -> None:
    # Kamailio answers statelessly to the top Via (the proxy's); the proxy pops it and
    # sends the 200 on to the client (RFC 3261 §16.7).
    with SippetProxy(tmp_path, kamailio.port) as proxy:
        result = run_bounded(
            sippet_command("options", f"sip:{HOST}:{proxy.port}", "--timeout", "5"),
            timeout=30,
        )
        proxy_output = proxy.output()
    assert result.returncode == 0, shown(result) + "\nproxy:\n" + proxy_output
    assert re.search(r"\b200\b", result.stdout), shown(result)


def test_sippet_options_without_a_server_fails() -> None:
    # Nothing listens there: `sippet options` documents exit status 2 for "nothing
    # answered, unreachable" (ICMP port unreachable on loopback, or its --timeout).
    port = free_udp_port()
    result = run_bounded(
        sippet_command("options", f"sip:{HOST}:{port}", "--timeout", "2"), timeout=30
    )
    assert result.returncode == 2, shown(result)


def test_sippet_options_to_sipp(sipp_bin: str, tmp_path: Path) -> None:
    callee = Sipp(
        tmp_path, "sipp-options-uas", ["-sf", str(SIPP_OPTIONS_UAS)], calls=1, timeout=30
    ).start()
    try:
        callee.wait_bound()
        result = run_bounded(
            sippet_command("options", f"sip:{HOST}:{callee.port}", "--timeout", "5"),
            timeout=30,
        )
    finally:
        run = callee.wait()
    assert result.returncode == 0, shown(result) + "\n" + run.report()
    assert re.search(r"\b200\b", result.stdout), shown(result)
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (1, 0), run.report()


def test_sippet_options_retransmits_until_answered(sipp_bin: str, tmp_path: Path) -> None:
    # SIPp answers only after 1.2 s: RFC 3261 §17.1.2.2 (Timer E = T1 = 0.5 s) makes the
    # client send the OPTIONS again meanwhile, then take the late 200.
    callee = Sipp(
        tmp_path, "sipp-options-slow", ["-sf", str(SIPP_OPTIONS_UAS_SLOW)], calls=1, timeout=30
    ).start()
    try:
        callee.wait_bound()
        result = run_bounded(
            sippet_command("options", f"sip:{HOST}:{callee.port}", "--timeout", "5"),
            timeout=30,
        )
    finally:
        run = callee.wait()
    assert result.returncode == 0, shown(result) + "\n" + run.report()
    assert re.search(r"\b200\b", result.stdout), shown(result)
    received, retransmissions, *_ = screen_row(run.screen(), "-> OPTIONS")
    assert received == 1, run.report()
    assert retransmissions >= 1, run.report()


def test_uac_example_calls_sipp_uas(sipp_bin: str, tmp_path: Path) -> None:
    callee = Sipp(tmp_path, "sipp-uas", ["-sn", "uas"], calls=1, timeout=40).start()
    try:
        callee.wait_bound()
        result = run_bounded(
            [sys.executable, str(UAC_EXAMPLE), f"sip:service@{HOST}:{callee.port}"],
            timeout=40,
        )
    finally:
        # SIPp's uas keeps a finished call 4 s (timewait) before it counts it and exits.
        run = callee.wait()
    assert result.returncode == 0, shown(result) + "\n" + run.report()
    assert run.stats is not None, run.report()
    assert run.stats.successful >= 1 and run.stats.failed == 0, run.report()
