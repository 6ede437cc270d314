"""SIPp's built-in `uac` scenario (INVITE, ACK, BYE) calling `sippet uas`, and calling
SIPp's uas through sippet's example proxy (examples/stateless_proxy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sip_peers import HOST, Sipp, SippetProxy, SippetUASFactory, screen_row

pytestmark = pytest.mark.interop

# Lossy comparison: 200 calls at 20 per second (10 s of new calls); with 10% loss SIPp's
# retransmissions stretch the run to about 40 s.
LOSSY_CALLS = 200
LOSSY_RATE = 20
# sippet may fail at most this many more calls than SIPp's own uas in the same run. Failed
# calls under 10% loss are rare independent events (SIPp against itself: ~1 in 100 calls,
# mostly a BYE whose 200 is lost until SIPp gives up). If both callees failed 1% of calls,
# P(sippet's count - SIPp's count > 5) over 200 calls is 0.4% (binomial, computed), so the
# margin keeps the test from flaking; a UAS that does not absorb loss (no 2xx retransmission
# until ACK, no answer to a retransmitted BYE) loses 10% of calls or more, 20+ here.
LOSSY_MARGIN = 5


def test_sipp_uac_calls_sippet_uas(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    uas = sippet_uas(["--ring", "0"])
    run = Sipp(
        tmp_path, "uac", ["-sn", "uac", f"{HOST}:{uas.port}", "-r", "25"], calls=50, timeout=60
    ).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (50, 0), (
        run.report() + "\nsippet uas:\n" + uas.output()
    )
    assert run.returncode == 0, run.report()
    assert uas.alive(), uas.output()


def test_under_loss_sippet_fails_no_more_calls_than_sipp(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    """Three SIPp callers with -lost 10 at once: to `sippet uas`, to SIPp's own uas, and to
    the same SIPp uas through sippet's examples/stateless_proxy.py."""
    uas = sippet_uas(["--ring", "0"])
    sipp_callee = Sipp(
        tmp_path, "sipp-uas", ["-sn", "uas"], calls=2 * LOSSY_CALLS, timeout=85
    ).start()
    proxy = SippetProxy(tmp_path, sipp_callee.port)
    try:
        sipp_callee.wait_bound()
        proxy.start()
        # All callers run at the same time, so all callees see the same machine load.
        callers = [
            Sipp(
                tmp_path,
                name,
                [
                    *("-sn", "uac", f"{HOST}:{port}", "-r", str(LOSSY_RATE), "-lost", "10"),
                    # A call whose callee gave up on it would wait forever for a 200 (the
                    # built-in uac has no receive timeout, and SIPp's -timeout does not end a
                    # run with calls waiting): fail such a call after 40 s instead.
                    *("-recv_timeout", "40s"),
                ],
                calls=LOSSY_CALLS,
                timeout=75,
            ).start()
            for name, port in (
                ("to-sippet", uas.port),
                ("to-sipp", sipp_callee.port),
                ("via-proxy", proxy.port),
            )
        ]
        to_sippet, to_sipp, via_proxy = (caller.wait() for caller in callers)
    finally:
        proxy.stop()
        sipp_callee.stop()
    report = (
        f"--- SIPp -> sippet uas\n{to_sippet.report()}\n"
        f"--- SIPp -> SIPp uas\n{to_sipp.report()}\n"
        f"--- SIPp -> sippet proxy -> SIPp uas\n{via_proxy.report()}\n"
        f"--- sippet uas output\n{uas.output()}\n--- proxy output\n{proxy.output()}"
    )
    assert to_sippet.stats and to_sipp.stats and via_proxy.stats, report
    # A call that never ended (still running at SIPp's -timeout) counts as failed.
    sippet_failed = LOSSY_CALLS - to_sippet.stats.successful
    sipp_failed = LOSSY_CALLS - to_sipp.stats.successful
    proxy_failed = LOSSY_CALLS - via_proxy.stats.successful
    print(
        f"\n{LOSSY_CALLS} calls each with -lost 10: failed: sippet uas {sippet_failed}, "
        f"SIPp uas {sipp_failed}, via sippet proxy {proxy_failed}; SIPp retransmissions: "
        f"{to_sippet.stats.retransmissions}, {to_sipp.stats.retransmissions}, "
        f"{via_proxy.stats.retransmissions}"
    )
    # The comparison only means something if the loss really hit every run.
    assert all(
        run.stats is not None and run.stats.retransmissions > 0
        for run in (to_sippet, to_sipp, via_proxy)
    ), report
    assert sippet_failed <= sipp_failed + LOSSY_MARGIN, (
        f"sippet uas failed {sippet_failed} calls, SIPp uas {sipp_failed} "
        f"(margin {LOSSY_MARGIN})\n{report}"
    )
    assert proxy_failed <= sipp_failed + LOSSY_MARGIN, (
        f"calls through the sippet proxy: {proxy_failed} failed, direct to SIPp uas "
        f"{sipp_failed} (margin {LOSSY_MARGIN})\n{report}"
    )
    assert uas.alive(), uas.output()


def test_sipp_uac_calls_sipp_uas_through_sippet_proxy(sipp_bin: str, tmp_path: Path) -> None:
    callee = Sipp(tmp_path, "sipp-uas", ["-sn", "uas"], calls=20, timeout=40).start()
    try:
        callee.wait_bound()
        with SippetProxy(tmp_path, callee.port) as proxy:
            caller = Sipp(
                tmp_path,
                "uac",
                ["-sn", "uac", f"{HOST}:{proxy.port}", "-r", "20"],
                calls=20,
                timeout=30,
            ).run()
            proxy_output = proxy.output()
    finally:
        callee_run = callee.wait()
    assert caller.stats is not None, caller.report()
    assert (caller.stats.successful, caller.stats.failed) == (20, 0), (
        caller.report() + "\nproxy:\n" + proxy_output
    )
    # The callee saw every call whole (INVITE, ACK and BYE all went through the proxy).
    assert callee_run.stats is not None, callee_run.report()
    assert callee_run.stats.successful == 20, callee_run.report()
    assert screen_row(callee_run.screen(), "-> ACK")[0] == 20, callee_run.report()


@pytest.mark.ipv6
def test_sipp_uac_calls_sippet_uas_over_ipv6(
    sipp_bin: str, sippet_uas: SippetUASFactory, tmp_path: Path
) -> None:
    uas = sippet_uas(["--ring", "0"], host="::1")
    run = Sipp(
        tmp_path,
        "uac6",
        ["-sn", "uac", f"[::1]:{uas.port}", "-r", "25"],
        calls=10,
        timeout=30,
        host="::1",
    ).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (10, 0), (
        run.report() + "\nsippet uas:\n" + uas.output()
    )
