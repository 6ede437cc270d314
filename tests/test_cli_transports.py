"""``sippet uas --listen`` over several transports at once and ``sippet options`` choosing
its transport from the URI (``;transport=tcp|tls|ws|wss``, ``sips:``), with TLS
certificates made by trustme for the test (never committed keys)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

TIMEOUT = 20


def sippet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sippet", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


class MultiUAS:
    """``sippet uas`` with several ``--listen``; ``ports[protocol]`` as printed."""

    def __init__(self, listens: list[str], *extra: str) -> None:
        args = [arg for listen in listens for arg in ("--listen", listen)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sippet", "uas", *args, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ports: dict[str, int] = {}
        for _ in listens:
            line = self.process.stdout.readline()
            match = re.fullmatch(r"listening on (\w+):(\[.*\]|[^:]+):(\d+)\n", line)
            assert match, line + self.process.stderr.read()  # type: ignore[union-attr]
            self.ports[f"{match.group(1)}:{match.group(2)}"] = int(match.group(3))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1", "::1")
    paths = {
        "ca": directory / "ca.pem",
        "cert": directory / "cert.pem",
        "key": directory / "key.pem",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    return paths


@pytest.fixture(scope="module")
def uas(pki: dict[str, Path]) -> Iterator[MultiUAS]:
    server = MultiUAS(
        [
            "udp:127.0.0.1:0",
            "tcp:127.0.0.1:0",
            "tls:127.0.0.1:0",
            "tcp:[::1]:0",
            "ws:127.0.0.1:0",
            "wss:127.0.0.1:0",
        ],
        "--cert",
        str(pki["cert"]),
        "--key",
        str(pki["key"]),
    )
    try:
        yield server
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    ("listener", "uri"),
    [
        ("udp:127.0.0.1", "sip:127.0.0.1:{port}"),
        ("tcp:127.0.0.1", "sip:127.0.0.1:{port};transport=tcp"),
        ("tcp:[::1]", "sip:[::1]:{port};transport=tcp"),
        ("tls:127.0.0.1", "sips:127.0.0.1:{port}"),
        ("tls:127.0.0.1", "sip:127.0.0.1:{port};transport=tls"),
        ("tls:127.0.0.1", "sips:localhost:{port}"),
        # RFC 7118: WS and WSS (sips with transport=ws means WSS, §5.5).
        ("ws:127.0.0.1", "sip:127.0.0.1:{port};transport=ws"),
        ("wss:127.0.0.1", "sip:127.0.0.1:{port};transport=wss"),
        ("wss:127.0.0.1", "sips:localhost:{port};transport=ws"),
    ],
)
def test_options_over_each_transport(
    uas: MultiUAS, pki: dict[str, Path], listener: str, uri: str
) -> None:
    target = uri.format(port=uas.ports[listener])
    result = sippet("options", target, "--ca", str(pki["ca"]), "--timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("200 OK (")


def test_tls_without_the_ca_fails_verification(uas: MultiUAS) -> None:
    result = sippet("options", f"sips:127.0.0.1:{uas.ports['tls:127.0.0.1']}", "--timeout", "5")
    assert result.returncode == 2
    assert "error: tls_verification_failed" in result.stdout


@pytest.mark.parametrize("listen", ["tls:127.0.0.1:0", "wss:127.0.0.1:0"])
def test_secure_listen_needs_a_certificate(listen: str) -> None:
    result = sippet("uas", "--listen", listen)
    assert result.returncode == 2
    assert "need --cert" in result.stderr


def test_wss_without_the_ca_fails_verification(uas: MultiUAS) -> None:
    port = uas.ports["wss:127.0.0.1"]
    result = sippet("options", f"sip:127.0.0.1:{port};transport=wss", "--timeout", "5")
    assert result.returncode == 2
    assert "error: tls_verification_failed" in result.stdout
