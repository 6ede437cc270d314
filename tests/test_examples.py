"""Every example in examples/ run for real on loopback, as subprocesses."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sippet import Message, NameAddr

EXAMPLES = Path(__file__).parent.parent / "examples"
TIMEOUT = 20


class Server:
    """A long-running command that prints "listening on udp:HOST:PORT" first."""

    def __init__(self, command: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.fullmatch(r"listening on udp:127\.0\.0\.1:(\d+)\n", line)
        assert match, line + (self.process.stderr.read() if self.process.stderr else "")
        self.port = int(match.group(1))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def example(name: str, *args: str) -> list[str]:
    return [sys.executable, str(EXAMPLES / name), *args]


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def sippet_options(port: int) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "sippet", "options", f"sip:127.0.0.1:{port}", "--timeout", "5"]
    )


@pytest.fixture
def uas() -> Iterator[Server]:
    server = Server(
        [sys.executable, "-m", "sippet", "uas", "--listen", "udp:127.0.0.1:0", "--ring", "0.1"]
    )
    try:
        yield server
    finally:
        assert server.stop() == 0


def test_options_responder() -> None:
    server = Server(example("options_responder.py", "127.0.0.1:0"))
    try:
        result = sippet_options(server.port)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("200 OK (")
        assert "  Allow: OPTIONS" in result.stdout.splitlines()
    finally:
        assert server.stop() == 0


def test_uac_call_against_sippet_uas(uas: Server) -> None:
    result = run(example("uac_call.py", f"sip:service@127.0.0.1:{uas.port}", "--hold", "0.1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"-> INVITE sip:service@127.0.0.1:{uas.port}",
        "<- 180 Ringing",
        "<- 200 OK",
        "-> ACK",
        "-> BYE",
        "<- 200 OK",
    ]


def test_uac_call_to_nowhere_fails() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(example("uac_call.py", f"sip:service@127.0.0.1:{port}", "--timeout", "3"))
    assert result.returncode == 2
    assert "INVITE failed: unreachable" in result.stdout


def test_stateless_proxy_forwards_both_ways(uas: Server) -> None:
    proxy = Server(example("stateless_proxy.py", "127.0.0.1:0", f"127.0.0.1:{uas.port}"))
    try:
        result = sippet_options(proxy.port)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "  Server: sippet/0.1.0" in result.stdout.splitlines()  # the UAS answered
        call = run(example("uac_call.py", f"sip:service@127.0.0.1:{proxy.port}", "--hold", "0"))
        assert call.returncode == 0, call.stdout + call.stderr
    finally:
        assert proxy.stop() == 0


def test_stateless_proxy_adds_its_via_and_answers_483(uas: Server) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as downstream:
        downstream.bind(("127.0.0.1", 0))
        downstream.settimeout(TIMEOUT)
        next_port = downstream.getsockname()[1]
        proxy = Server(example("stateless_proxy.py", "127.0.0.1:0", f"127.0.0.1:{next_port}"))
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.bind(("127.0.0.1", 0))
                client.settimeout(TIMEOUT)
                port = client.getsockname()[1]
                request = (
                    "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKc1\r\n"
                    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n"
                    "Call-ID: proxy-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: {mf}\r\n"
                    "Content-Length: 0\r\n\r\n"
                )
                client.sendto(request.format(mf=5).encode(), ("127.0.0.1", proxy.port))
                forwarded = Message.parse(downstream.recvfrom(65535)[0])
                assert forwarded.headers["max_forwards"] == 4
                vias = forwarded.headers["via"]
                assert len(vias) == 2 and vias[0].sent_by == ("127.0.0.1", proxy.port)
                assert vias[1].params["branch"] == "z9hG4bKc1"
                client.sendto(
                    request.format(mf=0).replace("z9hG4bKc1", "z9hG4bKc2").encode(),
                    ("127.0.0.1", proxy.port),
                )
                answer = Message.parse(client.recvfrom(65535)[0])
                assert answer.start_line.status_code == 483  # type: ignore[union-attr]
        finally:
            assert proxy.stop() == 0


def test_uac_call_acks_every_2xx_retransmission() -> None:
    # A hand-made callee: 200, then the same 200 again after the ACK (as if the ACK were
    # lost); the UAC must ACK again (RFC 3261 §13.2.2.4), then hang up.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as callee:
        callee.bind(("127.0.0.1", 0))
        callee.settimeout(TIMEOUT)
        port = callee.getsockname()[1]
        process = subprocess.Popen(
            example("uac_call.py", f"sip:service@127.0.0.1:{port}", "--hold", "0.3"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            data, caller = callee.recvfrom(65535)
            invite = Message.parse(data)
            ok = invite.to_response(200, to_tag="callee1")
            target = invite.start_line.request_uri  # type: ignore[union-attr]
            ok.headers["contact"] = [NameAddr("", target, {})]
            callee.sendto(bytes(ok), caller)
            methods = []
            while len(methods) < 3:
                request = Message.parse(callee.recvfrom(65535)[0])
                methods.append(str(request.start_line.method))  # type: ignore[union-attr]
                if methods == ["ACK"]:
                    callee.sendto(bytes(ok), caller)  # the retransmission
                if methods[-1] == "BYE":
                    callee.sendto(bytes(request.to_response(200)), caller)
            assert methods == ["ACK", "ACK", "BYE"]
            out, err = process.communicate(timeout=TIMEOUT)
            assert process.returncode == 0, out + err
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


def test_dialog_uas_answers_a_call_and_its_bye() -> None:
    server = Server(example("dialog_uas.py", "127.0.0.1:0"))
    try:
        result = run(
            [
                sys.executable,
                "-m",
                "sippet",
                "call",
                f"sip:bob@127.0.0.1:{server.port}",
                "--duration",
                "0.2",
            ]
        )
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("INVITE 200 OK (")
        assert lines[-1].startswith("BYE 200 OK (")
    finally:
        assert server.stop() == 0
    assert server.process.stdout is not None
    events = [line.split(": ", 1)[1] for line in server.process.stdout.read().splitlines()]
    # RFC 3261 §12.1.1: the 2xx confirmed the dialog; §15.1.2: the BYE ended it.
    assert events == ["confirmed", "terminated"]
