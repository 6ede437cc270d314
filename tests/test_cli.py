"""The ``sippet`` command as a user runs it: subprocesses on loopback.

`sippet options` against `sippet uas`, against a peer that answers non-2xx and against a
closed port; `sippet parse` on RFC 4475 torture messages; the UAS's clean exit on SIGTERM.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sippet import Message

RFC4475 = Path(__file__).parent / "data" / "rfc4475"
TIMEOUT = 20


def sippet(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sippet", *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


class UAS:
    """`sippet uas --listen udp:HOST:0 ...` running, with the port it printed."""

    def __init__(self, host: str, *extra: str) -> None:
        shown = f"[{host}]" if ":" in host else host
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sippet", "uas", "--listen", f"udp:{shown}:0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the first line says where it listens
        match = re.fullmatch(r"listening on udp:(\[.*\]|[^:]+):(\d+)\n", line)
        assert match, line + self.process.stderr.read()  # type: ignore[union-attr]
        self.host = host
        self.port = int(match.group(2))

    @property
    def uri(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"sip:{shown}:{self.port}"

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def uas() -> Iterator[UAS]:
    server = UAS("127.0.0.1")
    try:
        yield server
    finally:
        assert server.stop() == 0  # SIGTERM is a clean exit


def test_options_against_uas(uas: UAS) -> None:
    result = sippet("options", uas.uri, "--count", "2", "--interval", "0.05", "--timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    answers = [line for line in lines if re.fullmatch(r"200 OK \(\d+\.\d{3} ms\)", line)]
    assert len(answers) == 2, result.stdout
    assert "  Server: sippet/0.1.0" in lines
    assert "  Allow: INVITE, ACK, BYE, CANCEL, OPTIONS" in lines
    assert re.search(r"^2 sent, 2 answered, rtt min/avg/max = ", result.stdout, re.M)


@pytest.mark.ipv6
def test_options_over_ipv6() -> None:
    server = UAS("::1")
    try:
        result = sippet("options", server.uri, "--timeout", "5")
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("200 OK (")
    finally:
        assert server.stop() == 0


def test_options_exit_1_on_a_non_2xx_answer() -> None:
    # A peer that answers 503 with a Server header, by hand.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(TIMEOUT)
        port = peer.getsockname()[1]

        def answer() -> None:
            data, source = peer.recvfrom(65535)
            response = Message.parse(data).to_response(503)
            response.headers["server"] = "test-peer/1"
            peer.sendto(bytes(response), source)

        thread = threading.Thread(target=answer)
        thread.start()
        result = sippet("options", f"sip:127.0.0.1:{port}", "--timeout", "5")
        thread.join(TIMEOUT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("503 Service Unavailable (")
    assert "  Server: test-peer/1" in result.stdout.splitlines()


def test_options_exit_2_when_nothing_listens() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = sippet("options", f"sip:127.0.0.1:{port}", "--timeout", "3")
    assert result.returncode == 2, result.stdout + result.stderr
    # Linux reports the ICMP port unreachable at once (else it would be a timeout).
    assert f"error: unreachable (udp:127.0.0.1:{port})" in result.stdout


def test_options_exit_2_on_an_unresolvable_host() -> None:
    result = sippet("options", "sip:nonexistent.invalid", "--timeout", "3")
    assert result.returncode == 2
    assert "nonexistent.invalid" in result.stderr


def test_parse_a_valid_torture_message() -> None:
    result = sippet("parse", str(RFC4475 / "wsinv.dat"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "request: INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0"
    assert re.search(r"^  Max-Forwards +68$", result.stdout, re.M)  # 0068 on the wire
    assert re.search(
        r"^  CSeq +CSeq\(seq=9, method=<Method.INVITE: 'INVITE'>\)$", result.stdout, re.M
    )
    assert re.search(r"^  UnknownHeaderWithUnusualValue +\[';;,,;;,;'\]$", result.stdout, re.M)
    assert "body: 150 bytes" in lines
    assert "validation: ok" in lines


def test_parse_from_stdin_reports_the_parse_error() -> None:
    result = sippet("parse", stdin=(RFC4475 / "quotbal.dat").read_bytes())
    assert result.returncode == 1
    assert result.stdout.startswith("parse error: unclosed_qstring (answer 400)\n")


def test_parse_shows_validation_failures() -> None:
    # RFC 4475 mismatch01: parses, but the CSeq method differs from the request method.
    result = sippet("parse", str(RFC4475 / "mismatch01.dat"))
    assert result.returncode == 0
    assert re.search(r"^validation: \w+ \(answer 400\): ", result.stdout, re.M)


def test_parse_missing_file_is_an_error() -> None:
    result = sippet("parse", "/nonexistent/message.dat")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_flag_before_or_after_the_subcommand(uas: UAS, where: str) -> None:
    args = ["options", uas.uri, "--timeout", "5"]
    args = ["-v", *args] if where == "before" else [*args, "-v"]
    result = sippet(*args)
    assert result.returncode == 0
    assert "sippet.stack INFO: options: listening on" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["options", "127.0.0.1", "-b", "127.0.0.1:99999"],
        ["options", "127.0.0.1", "-b", "[::1"],
        ["options", "127.0.0.1", "-c", "0"],
        ["options", "127.0.0.1", "-c", "-3"],
        ["options", "127.0.0.1", "-i", "-1"],
        ["options", "127.0.0.1", "-t", "0"],
        ["uas", "--ring", "-1"],
        ["uas", "--answer", "99"],
        ["uas", "--algorithms", "md4"],
        ["call", "127.0.0.1", "--duration", "-2"],
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    result = sippet(*args)
    assert result.returncode == 2
    assert "usage: sippet" in result.stderr and "error: argument" in result.stderr
    assert "Traceback" not in result.stderr


def test_uas_3xx_answer_without_redirect_is_refused() -> None:
    result = sippet("uas", "--listen", "udp:127.0.0.1:0", "--answer", "302")
    assert result.returncode == 2
    assert "--redirect" in result.stderr


def test_options_full_shows_every_header(uas: UAS) -> None:
    result = sippet("options", uas.uri, "--full", "--timeout", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in ("Via", "From", "To", "Call-ID", "CSeq", "Allow", "Accept", "Server"):
        assert any(line.startswith(f"  {name}: ") for line in lines), (name, lines)
    assert "  Supported: " not in result.stdout  # no extension, no empty Supported


def test_options_to_loopback_binds_loopback(uas: UAS) -> None:
    result = sippet("-v", "options", uas.uri, "--timeout", "5")
    assert result.returncode == 0
    assert "options: listening on <UDP udp:127.0.0.1:" in result.stderr


def test_trace_without_verbose(uas: UAS) -> None:
    result = sippet("options", uas.uri, "--timeout", "5", "--trace", "line")
    assert result.returncode == 0
    assert re.search(r"options -> udp:127\.0\.0\.1:\d+ OPTIONS sip:", result.stderr), result.stderr
    assert re.search(r"options <- udp:127\.0\.0\.1:\d+ 200 OK", result.stderr)


def test_unreachable_is_logged_once_with_v() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = sippet("-v", "options", f"sip:127.0.0.1:{port}", "--timeout", "3")
    assert result.returncode == 2
    assert result.stderr.count("unreachable") == 1, result.stderr


def test_uas_prints_a_line_per_transaction_and_counters() -> None:
    server = UAS("127.0.0.1")
    result = sippet("options", server.uri, "--count", "2", "--interval", "0", "--timeout", "5")
    assert result.returncode == 0
    assert server.stop() == 0
    assert server.process.stdout is not None
    out = server.process.stdout.read()
    lines = re.findall(
        r"^\d\d:\d\d:\d\d OPTIONS from sip:sippet@127\.0\.0\.1:\d+: 200 OK$", out, re.M
    )
    assert len(lines) == 2, out
    assert out.rstrip().endswith("requests: OPTIONS 2; responses: 200 2"), out
