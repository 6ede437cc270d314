"""sippet's TCP, TLS, WS and WSS against foreign peers on loopback: SIPp's built-in uac
over TCP (one socket for all calls, and one per call), `sippet options` to Kamailio over
TCP, TLS, WS and WSS, and SIPp -> Kamailio (UDP) -> `sippet uas` over TLS, so that
sippet's TLS server meets a foreign TLS client that verifies its certificate. Debian's
SIPp is built without OpenSSL (``-t l1`` answers "you must compile SIPp with OpenSSL"):
Kamailio is the TLS peer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .sip_peers import (
    HOST,
    KamailioStreams,
    PeerPKI,
    Sipp,
    SippetStreamUAS,
    make_test_pki,
    run_bounded,
    shown,
    sippet_command,
)

pytestmark = pytest.mark.interop

CALLS = 500
RATE = 100


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PeerPKI:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def stream_uas(tmp_path: Path, pki: PeerPKI) -> Iterator[SippetStreamUAS]:
    server = SippetStreamUAS(tmp_path, pki, ["--ring", "0"])
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["t1", "tn"])
def test_sipp_uac_over_tcp_calls_sippet_uas(
    sipp_bin: str, stream_uas: SippetStreamUAS, tmp_path: Path, mode: str
) -> None:
    """500 calls at 100 calls/s over one TCP connection (t1) or one per call (tn)."""
    args = ["-sn", "uac", f"{HOST}:{stream_uas.tcp_port}", "-t", mode, "-r", str(RATE)]
    if mode == "tn":
        args += ["-max_socket", "1000"]  # SIPp's default asks for more files than allowed
    run = Sipp(tmp_path, f"uac-{mode}", args, calls=CALLS, timeout=60).run()
    assert run.stats is not None, run.report()
    assert (run.stats.successful, run.stats.failed) == (CALLS, 0), (
        run.report() + "\nsippet uas:\n" + stream_uas.output()
    )
    assert run.returncode == 0, run.report()
    assert stream_uas.alive(), stream_uas.output()


@pytest.fixture
def kamailio_streams(kamailio_bin: str, tmp_path: Path, pki: PeerPKI) -> Iterator[KamailioStreams]:
    server = KamailioStreams(tmp_path, pki)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "uri",
    [
        "sip:{host}:{tcp};transport=tcp",
        "sip:{host}:{tls};transport=tls",
        "sips:{host}:{tls}",
        "sips:localhost:{tls}",
        # RFC 7118: sippet as a WebSocket client (.invalid Via and Contact) to Kamailio's
        # websocket module; sips with transport=ws means WSS (§5.5, §9.2).
        "sip:{host}:{ws};transport=ws",
        "sip:{host}:{wss};transport=wss",
        "sips:localhost:{wss};transport=ws",
    ],
)
def test_sippet_options_to_kamailio_over_streams(
    kamailio_streams: KamailioStreams, pki: PeerPKI, uri: str
) -> None:
    target = uri.format(
        host=HOST,
        tcp=kamailio_streams.tcp_port,
        tls=kamailio_streams.tls_port,
        ws=kamailio_streams.ws_port,
        wss=kamailio_streams.wss_port,
    )
    result = run_bounded(
        sippet_command("options", target, "--ca", str(pki.ca), "--count", "2", "--interval", "0.1"),
        timeout=30,
    )
    assert result.returncode == 0, shown(result) + "\nkamailio:\n" + kamailio_streams.output()
    assert result.stdout.count("200 OK (") == 2, shown(result)


def test_sippet_options_to_kamailio_without_the_ca_is_refused(
    kamailio_streams: KamailioStreams,
) -> None:
    result = run_bounded(
        sippet_command("options", f"sips:{HOST}:{kamailio_streams.tls_port}", "--timeout", "5"),
        timeout=30,
    )
    assert result.returncode == 2, shown(result)
    assert "tls_verification_failed" in result.stdout, shown(result)


def test_sipp_through_kamailio_to_sippet_uas_over_tls(
    sipp_bin: str, kamailio_bin: str, tmp_path: Path, pki: PeerPKI
) -> None:
    """SIPp (UDP) -> Kamailio -> sippet uas (TLS): Kamailio is the TLS client and verifies
    sippet's certificate against the test CA."""
    uas = SippetStreamUAS(tmp_path, pki, ["--ring", "0"]).start()
    kamailio = KamailioStreams(tmp_path, pki, forward_to=f"sip:{HOST}:{uas.tls_port};transport=tls")
    try:
        kamailio.start()
        run = Sipp(
            tmp_path,
            "uac-via-kamailio",
            ["-sn", "uac", f"{HOST}:{kamailio.port}", "-r", "20"],
            calls=100,
            timeout=60,
        ).run()
        assert run.stats is not None, run.report()
        assert (run.stats.successful, run.stats.failed) == (100, 0), (
            run.report() + "\nkamailio:\n" + kamailio.output() + "\nsippet:\n" + uas.output()
        )
        assert uas.alive(), uas.output()
    finally:
        kamailio.stop()
        uas.stop()
