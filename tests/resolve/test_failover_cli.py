"""``sippet options "sip:ping@<domain>" --resolver 127.0.0.1:PORT`` against a real dnsmasq:
the first SRV target has no listener, the second is a ``sippet uas``; the ping is answered
by the second (RFC 3263 §4.3), over UDP and over TCP. With every target dead, one error."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from .dns_zone import DOMAIN
from .dnsmasq_server import StartDnsmasq

TIMEOUT = 20
FIRST = "127.0.0.1"
SECOND = "127.0.0.2"
HOSTS = [f"--host-record=h1.{DOMAIN},{FIRST}", f"--host-record=h2.{DOMAIN},{SECOND}"]


def sippet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sippet", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def dead_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((FIRST, 0))
        return int(probe.getsockname()[1])


class UAS:
    """``sippet uas --listen PROTO:127.0.0.2:0 --trace line``; ``port`` as it printed."""

    def __init__(self, protocol: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sippet", "uas", "--listen", f"{protocol}:{SECOND}:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.fullmatch(r"listening on \w+:[^:]+:(\d+)\n", line)
        assert match, line + self.process.stderr.read()  # type: ignore[union-attr]
        self.port = int(match.group(1))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.communicate()


@pytest.fixture(params=["udp", "tcp"])
def uas(request: pytest.FixtureRequest) -> Iterator[tuple[str, UAS]]:
    server = UAS(request.param)
    try:
        yield request.param, server
    finally:
        server.stop()


def test_options_fails_over_from_a_dead_target_to_a_live_one(
    start_dnsmasq: StartDnsmasq, uas: tuple[str, UAS]
) -> None:
    protocol, server = uas
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    label = f"_sip._{protocol}.cli.{DOMAIN}"
    dns = start_dnsmasq(
        [
            *HOSTS,
            f"--srv-host={label},h1.{DOMAIN},{dead_port(kind)},10,0",
            f"--srv-host={label},h2.{DOMAIN},{server.port},20,0",
        ]
    )
    uri = f"sip:ping@cli.{DOMAIN}" + ("" if protocol == "udp" else ";transport=tcp")
    result = sippet("options", uri, "--resolver", dns.address, "--timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("200 OK (")


def test_options_with_every_target_dead_reports_one_error(start_dnsmasq: StartDnsmasq) -> None:
    label = f"_sip._tcp.gone.{DOMAIN}"
    dns = start_dnsmasq(
        [
            *HOSTS,
            f"--srv-host={label},h1.{DOMAIN},{dead_port(socket.SOCK_STREAM)},10,0",
            f"--srv-host={label},h2.{DOMAIN},{dead_port(socket.SOCK_STREAM)},20,0",
        ]
    )
    result = sippet("options", f"sip:ping@gone.{DOMAIN};transport=tcp", "--resolver", dns.address)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.count("error: unreachable") == 1, result.stdout


def test_options_without_dns_answer_fails_cleanly(start_dnsmasq: StartDnsmasq) -> None:
    dns = start_dnsmasq(HOSTS)
    result = sippet("options", f"sip:ping@nowhere.{DOMAIN}", "--resolver", dns.address)
    assert result.returncode == 2
    assert "nxdomain" in result.stderr


def test_resolver_must_be_an_address() -> None:
    result = sippet("options", "sip:ping@example.com", "--resolver", "dns.example.com:53")
    assert result.returncode == 2
    assert "not an IP address" in result.stderr
