"""Start, stop and read foreign SIP peers (SIPp, Kamailio) and sippet's CLI on loopback.

Used by the interop tests in this directory and by ``bench/throughput.py``; it does not
import pytest so that the benchmark can use it too. Everything binds to 127.0.0.1 on ports
chosen at runtime; every process is bounded in time and stopped on the way out, also when a
test fails (use the context managers or the ``stop`` methods in ``finally``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Self

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
KAMAILIO_CFG = DATA / "kamailio" / "options.cfg"
SIPP_OPTIONS_UAC = DATA / "sipp" / "options-uac.xml"
SIPP_OPTIONS_UAC_STATEFUL = DATA / "sipp" / "options-uac-stateful.xml"
SIPP_OPTIONS_UAS = DATA / "sipp" / "options-uas.xml"
SIPP_OPTIONS_UAS_SLOW = DATA / "sipp" / "options-uas-slow.xml"
SIPP_UAC_CANCEL = DATA / "sipp" / "uac-cancel.xml"
SIPP_UAC_REJECT = DATA / "sipp" / "uac-reject.xml"
SIPP_UAC_BYE_UNKNOWN = DATA / "sipp" / "uac-bye-unknown.xml"

# Kamailio lives in /usr/sbin, which is not on every user's PATH.
_EXTRA_PATH = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class MissingTool(RuntimeError):
    """A foreign peer (sipp, kamailio) is not installed."""


def find_tool(name: str) -> str:
    """Path of an installed peer executable, or MissingTool with how to install it."""
    found = shutil.which(name) or shutil.which(
        name, path=os.pathsep.join((os.environ.get("PATH", ""), *_EXTRA_PATH))
    )
    if found is None:
        package = {"sipp": "sip-tester"}.get(name, name)
        raise MissingTool(
            f"`{name}` is not installed; the interop tests need it "
            f"(Debian: apt-get install -y {package}; CI installs it)"
        )
    return found


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def host_port(host: str, port: int) -> str:
    """``HOST:PORT`` as SIP and SIPp write it (IPv6 in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def free_udp_port(host: str = HOST) -> int:
    """A UDP port on `host` free right now (the kernel's choice; racy but short-lived)."""
    with socket.socket(family(host), socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- probing


def options_probe(port: int, host: str = HOST, timeout: float = 0.5) -> int | None:
    """Send one hand-written OPTIONS over UDP; return the first final status code, or None.

    Written by hand (not with sippet) so that readiness checks do not depend on the code
    under test. Provisional responses are skipped.
    """
    branch = "z9hG4bK" + uuid.uuid4().hex
    with socket.socket(family(host), socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        local = host_port(host, sock.getsockname()[1])
        remote = host_port(host, port)
        request = (
            f"OPTIONS sip:probe@{remote} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{local}>;tag={uuid.uuid4().hex[:10]}\r\n"
            f"To: <sip:probe@{remote}>\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        sock.sendto(request, (host, port))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65535)
            except (TimeoutError, ConnectionRefusedError):
                return None
            match = re.match(rb"SIP/2\.0 (\d{3}) ", data)
            if match and branch.encode() in data and int(match.group(1)) >= 200:
                return int(match.group(1))
    return None


def wait_until_answers(
    port: int,
    process: subprocess.Popen[bytes],
    timeout: float,
    what: str,
    log: Path,
    host: str = HOST,
) -> None:
    """Poll with OPTIONS until `port` answers; fail early if `process` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {process.returncode} before answering on "
                f"{host_port(host, port)}; its output:\n{tail(log)}"
            )
        if options_probe(port, host) is not None:
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"{what} did not answer OPTIONS on {host_port(host, port)} within {timeout} s; "
        f"its output:\n{tail(log)}"
    )


def wait_port_bound(
    port: int,
    process: subprocess.Popen[bytes],
    timeout: float,
    what: str,
    log: Path,
    host: str = HOST,
) -> None:
    """Wait until some process has bound UDP 127.0.0.1:`port` (for peers that answer nothing
    we could probe with, like SIPp's uas scenario)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {process.returncode} before binding "
                f"{host_port(host, port)}; its output:\n{tail(log)}"
            )
        with socket.socket(family(host), socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not bind {host_port(host, port)} within {timeout} s")


def tail(path: Path, limit: int = 3000) -> str:
    """The last `limit` characters of a log file (for failure messages)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output file)"
    return text[-limit:] if text else "(empty)"


def stop_process(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, wait, then SIGKILL the process group (we start each peer in its own session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # Children (Kamailio's workers) share the group: make sure none outlives the test.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)


def peak_rss_kib(pid: int) -> int | None:
    """Peak resident set size (VmHWM) of a live process, in KiB, from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- Kamailio


class Kamailio:
    """Kamailio answering OPTIONS on 127.0.0.1:`port` (config from tests/data/kamailio).

    Runs in the foreground (-DD: no daemon, but with its worker children) in its own
    session, with a pidfile; ``stop`` kills the pid from the pidfile, then the whole group.
    """

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        config: Path = KAMAILIO_CFG,
        shm_mb: int | None = None,
    ):
        self.binary = find_tool("kamailio")
        # Shared memory (-m, MB): the default 64 MB runs out when tm keeps tens of
        # thousands of transactions (the stateful benchmark).
        self.shm_mb = shm_mb
        self.workdir = workdir
        self.port = port if port is not None else free_udp_port()
        self.config_path = workdir / f"kamailio-{self.port}.cfg"
        self.pidfile = workdir / f"kamailio-{self.port}.pid"
        self.log = workdir / f"kamailio-{self.port}.log"
        text = config.read_text()
        text, count = re.subn(
            r"^listen=.*$", f"listen=udp:{HOST}:{self.port}", text, flags=re.MULTILINE
        )
        if count != 1:
            raise ValueError(f"{config} must have exactly one `listen=` line")
        # Debian puts the modules under the multiarch triplet (x86_64-linux-gnu, ...).
        modules = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
        if modules:
            text = re.sub(r'^mpath=".*"$', f'mpath="{modules[0]}/"', text, flags=re.MULTILINE)
        self.config_path.write_text(text)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 15.0) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "-f",
                    str(self.config_path),
                    "-P",
                    str(self.pidfile),
                    "-w",
                    str(self.workdir),
                    "-Y",
                    str(self.workdir),
                    *(["-m", str(self.shm_mb)] if self.shm_mb else []),
                    "-DD",
                    "-E",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until_answers(self.port, self.process, ready_timeout, "kamailio", self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> Kamailio:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- SIPp


@dataclass
class SippStats:
    """SIPp's final cumulative statistics (from its -trace_stat CSV)."""

    successful: int
    failed: int
    created: int
    retransmissions: int
    call_rate: float  # SIPp's cumulative "Call Rate" (calls created per second)
    elapsed: float  # seconds from SIPp's start to its last statistics line
    fields: dict[str, str] = field(repr=False)

    @property
    def successful_per_second(self) -> float:
        return self.successful / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class SippRun:
    command: list[str]
    returncode: int
    stats: SippStats | None
    workdir: Path
    name: str

    def screen(self) -> str:
        return (self.workdir / f"{self.name}.screen").read_text(errors="replace")

    def report(self) -> str:
        """Everything useful for an assertion message."""
        parts = [
            "command: " + " ".join(self.command),
            f"exit status: {self.returncode}",
            f"stats: {self.stats}",
            "screen:\n" + tail(self.workdir / f"{self.name}.screen", 2500),
            "errors:\n" + tail(self.workdir / f"{self.name}.errors", 1500),
            "output:\n" + tail(self.workdir / f"{self.name}.out", 1000),
        ]
        return "\n".join(parts)


def _epoch(value: str) -> float:
    # "2026-11-26\t04:03:42.113632\t1795665822.113632": date, time, epoch seconds.
    return float(value.split("\t")[-1])


def parse_stat_csv(path: Path) -> SippStats:
    """Final (last) line of SIPp's -trace_stat file; cumulative columns end in "(C)"."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError(f"{path}: no statistics line")
    names = lines[0].rstrip(";").split(";")
    values = lines[-1].rstrip(";").split(";")
    fields = dict(zip(names, values, strict=False))
    return SippStats(
        successful=int(fields["SuccessfulCall(C)"]),
        failed=int(fields["FailedCall(C)"]),
        created=int(fields["TotalCallCreated"]),
        retransmissions=int(fields["Retransmissions(C)"]),
        call_rate=float(fields["CallRate(C)"]),
        elapsed=_epoch(fields["CurrentTime"]) - _epoch(fields["StartTime"]),
        fields=fields,
    )


def screen_row(text: str, label: str) -> list[int]:
    """The counters of a message row of SIPp's scenario screen (the last row that matches).

    `label` is written as SIPp draws the row: ``"486 <-"`` or ``"INVITE ->"`` in a caller's
    screen, ``"-> OPTIONS"`` or ``"<- 200"`` in a callee's. For a received message the
    columns are Messages, Retrans, Timeout, Unexpected-Msg.
    """

    def dashes(arrow: str) -> str:
        return "<-+" if arrow.startswith("<") else "-+>"

    first, second = label.split()
    if first.startswith(("<", "-")):
        head = rf"{dashes(first)} {re.escape(second)}"
    else:
        head = rf"{re.escape(first)} {dashes(second)}"
    pattern = rf"^\s*{head}\s+(?:E-RTD\d\s+)?([\d ]+)$"
    rows = re.findall(pattern, text, re.MULTILINE)
    if not rows:
        raise ValueError(f"no row {label!r} in the SIPp screen")
    return [int(number) for number in rows[-1].split()]


class Sipp:
    """One bounded SIPp run: ``-m calls`` and ``-timeout``, on 127.0.0.1, no keyboard.

    `args` is the scenario part (e.g. ``["-sn", "uac", "127.0.0.1:5060", "-r", "25"]``).
    Statistics go to ``<name>.csv`` (-trace_stat), the final screen to ``<name>.screen``,
    errors to ``<name>.errors`` in `workdir`.
    """

    def __init__(
        self,
        workdir: Path,
        name: str,
        args: Sequence[str],
        *,
        calls: int,
        timeout: float,
        port: int | None = None,
        host: str = HOST,
    ):
        self.binary = find_tool("sipp")
        self.host = host
        self.workdir = workdir
        self.name = name
        self.port = port if port is not None else free_udp_port(host)
        self.timeout = timeout
        self.command = [
            self.binary,
            *args,
            "-i",
            host,
            "-p",
            str(self.port),
            "-m",
            str(calls),
            "-nostdin",
            "-timeout",
            f"{int(timeout)}s",
            "-timeout_error",
            "-trace_stat",
            "-stf",
            str(workdir / f"{name}.csv"),
            "-trace_screen",
            "-screen_file",
            str(workdir / f"{name}.screen"),
            "-trace_err",
            "-error_file",
            str(workdir / f"{name}.errors"),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Sipp:
        with (self.workdir / f"{self.name}.out").open("wb") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_bound(self, timeout: float = 10.0) -> Sipp:
        """Wait until SIPp has bound its port (a callee is then ready for calls)."""
        assert self.process is not None, "start() first"
        out = self.workdir / f"{self.name}.out"
        wait_port_bound(self.port, self.process, timeout, "sipp", out, self.host)
        return self

    def wait(self) -> SippRun:
        """Wait for SIPp to finish (its -timeout plus a grace period), then read its stats."""
        assert self.process is not None, "start() first"
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=self.timeout + 15)
        return self._finish()

    def stop(self) -> SippRun:
        """End SIPp now (SIGTERM: it still writes its statistics) and read them."""
        assert self.process is not None, "start() first"
        return self._finish()

    def _finish(self) -> SippRun:
        assert self.process is not None
        stop_process(self.process)
        csv = self.workdir / f"{self.name}.csv"
        stats: SippStats | None = None
        with contextlib.suppress(OSError, ValueError, KeyError):
            stats = parse_stat_csv(csv)
        return SippRun(self.command, self.process.returncode, stats, self.workdir, self.name)

    def run(self) -> SippRun:
        self.start()
        return self.wait()

    def __enter__(self) -> Sipp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop_process(self.process)


# --------------------------------------------------------------------------- sippet


def sippet_command(*args: str) -> list[str]:
    """`python -m sippet ARGS` with this interpreter (the venv with sippet installed)."""
    return [sys.executable, "-m", "sippet", *args]


class SippetServer:
    """A long-running sippet process (a CLI command or an example) listening on UDP.

    Ready when it answers an OPTIONS (`probe=True`) or, for a server that forwards
    requests rather than answering them, once its port is bound.
    """

    def __init__(
        self,
        workdir: Path,
        name: str,
        command: Sequence[str],
        port: int,
        host: str = HOST,
        probe: bool = True,
    ):
        self.workdir = workdir
        self.name = name
        self.host = host
        self.port = port
        self.command = list(command)
        self.probe = probe
        self.log = workdir / f"{name}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready_timeout: float = 20.0) -> Self:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait = wait_until_answers if self.probe else wait_port_bound
        try:
            wait(self.port, self.process, ready_timeout, self.name, self.log, self.host)
        except BaseException:
            self.stop()
            raise
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return tail(self.log)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SippetUAS(SippetServer):
    """`sippet uas --listen udp:HOST:PORT [extra]`, ready when it answers OPTIONS."""

    def __init__(
        self,
        workdir: Path,
        extra: Sequence[str] = (),
        port: int | None = None,
        host: str = HOST,
    ):
        port = port if port is not None else free_udp_port(host)
        listen = f"udp:{host_port(host, port)}"
        command = sippet_command("uas", "--listen", listen, *extra)
        super().__init__(workdir, "sippet-uas", command, port, host)


class SippetProxy(SippetServer):
    """examples/stateless_proxy.py on a free port, forwarding every request to `next_port`."""

    def __init__(self, workdir: Path, next_port: int, host: str = HOST):
        port = free_udp_port(host)
        command = [
            sys.executable,
            str(REPO / "examples" / "stateless_proxy.py"),
            host_port(host, port),
            host_port(host, next_port),
        ]
        super().__init__(workdir, "sippet-proxy", command, port, host, probe=False)


# What the `sippet_uas` fixture gives a test: start a server with these extra arguments.
class SippetUASFactory(Protocol):
    def __call__(self, extra: Sequence[str] = (), host: str = HOST) -> SippetUAS: ...


def run_bounded(
    command: Sequence[str], timeout: float, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run a short client command (sippet options, examples/uac_call.py) with a hard bound."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def shown(result: subprocess.CompletedProcess[str]) -> str:
    """A finished client command, for assertion messages."""
    return (
        f"command: {' '.join(map(str, result.args))}\nexit status: {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )


# --------------------------------------------------------------------------- streams (TCP, TLS)

KAMAILIO_STREAMS_CFG = DATA / "kamailio" / "streams.cfg"


def free_tcp_port(host: str = HOST) -> int:
    """A TCP port on `host` free right now (the kernel's choice; racy but short-lived)."""
    with socket.socket(family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_tcp_listening(
    port: int, process: subprocess.Popen[bytes], timeout: float, what: str, log: Path
) -> None:
    """Wait until a TCP connect to 127.0.0.1:`port` succeeds; fail early if `process` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {process.returncode}; its output:\n{tail(log)}"
            )
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on tcp {HOST}:{port} within {timeout} s")


@dataclass
class PeerPKI:
    """A CA and a certificate for 127.0.0.1/localhost written as PEM files (made per test
    session by the fixture: never committed keys)."""

    ca: Path
    cert: Path
    key: Path


def make_test_pki(directory: Path) -> PeerPKI:
    import trustme  # a test dependency only

    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1", "::1")
    pki = PeerPKI(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    ca.cert_pem.write_to_path(str(pki.ca))
    leaf.cert_chain_pems[0].write_to_path(str(pki.cert))
    leaf.private_key_pem.write_to_path(str(pki.key))
    return pki


class KamailioStreams(Kamailio):
    """Kamailio on UDP, TCP, TLS, WS and WSS (tests/data/kamailio/streams.cfg): OPTIONS
    over a stream answered 200, requests over UDP forwarded to `forward_to` (a SIP URI)."""

    def __init__(self, workdir: Path, pki: PeerPKI, forward_to: str = "sip:127.0.0.1:9"):
        self.binary = find_tool("kamailio")
        self.shm_mb = None
        self.workdir = workdir
        self.port = free_udp_port()
        self.tcp_port = free_tcp_port()
        self.tls_port = free_tcp_port()
        self.ws_port = free_tcp_port()
        self.wss_port = free_tcp_port()
        self.config_path = workdir / f"kamailio-streams-{self.port}.cfg"
        self.pidfile = workdir / f"kamailio-streams-{self.port}.pid"
        self.log = workdir / f"kamailio-streams-{self.port}.log"
        tls_cfg = workdir / f"kamailio-tls-{self.port}.cfg"
        # Kamailio as a TLS client verifies sippet's certificate against the test CA.
        tls_cfg.write_text(
            "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
            f"require_certificate = no\nprivate_key = {pki.key}\ncertificate = {pki.cert}\n\n"
            "[client:default]\nmethod = TLSv1.2+\nverify_certificate = yes\n"
            f"require_certificate = yes\nca_list = {pki.ca}\n"
        )
        text = KAMAILIO_STREAMS_CFG.read_text()
        for name, value in (
            ("UDP_PORT", self.port),
            ("TCP_PORT", self.tcp_port),
            ("TLS_PORT", self.tls_port),
            ("WS_PORT", self.ws_port),
            ("WSS_PORT", self.wss_port),
            ("TLS_CFG", tls_cfg),
            ("FORWARD_TO", forward_to),
        ):
            text = text.replace(f"@{name}@", str(value))
        modules = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
        if modules:
            text = re.sub(r'^mpath=".*"$', f'mpath="{modules[0]}/"', text, flags=re.MULTILINE)
        self.config_path.write_text(text)
        self.process = None

    def start(self, ready_timeout: float = 15.0) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    *("-f", str(self.config_path), "-P", str(self.pidfile)),
                    *("-w", str(self.workdir), "-Y", str(self.workdir), "-DD", "-E"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            for port in (self.tcp_port, self.tls_port, self.ws_port, self.wss_port):
                wait_tcp_listening(port, self.process, ready_timeout, "kamailio", self.log)
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return tail(self.log)

    def __enter__(self) -> KamailioStreams:
        self.start()
        return self


class SippetStreamUAS(SippetServer):
    """`sippet uas` on UDP, TCP and TLS at once (``udp_port``, ``tcp_port``, ``tls_port``),
    ready when its UDP listener answers OPTIONS (all listeners start before it)."""

    def __init__(self, workdir: Path, pki: PeerPKI, extra: Sequence[str] = ()):
        port = free_udp_port()
        self.tcp_port = free_tcp_port()
        self.tls_port = free_tcp_port()
        command = sippet_command(
            "uas",
            *("--listen", f"udp:{HOST}:{port}"),
            *("--listen", f"tcp:{HOST}:{self.tcp_port}"),
            *("--listen", f"tls:{HOST}:{self.tls_port}"),
            *("--cert", str(pki.cert), "--key", str(pki.key), "--ca", str(pki.ca)),
            *extra,
        )
        super().__init__(workdir, "sippet-uas-streams", command, port)


# --------------------------------------------------------------------------- Kamailio over WS

KAMAILIO_WS_CFG = DATA / "kamailio" / "ws.cfg"


class KamailioWS(Kamailio):
    """Kamailio as a SIP WebSocket server (tests/data/kamailio/ws.cfg): UDP on ``port``
    (for the readiness probe) and WebSocket on TCP ``ws_port``, both free loopback ports."""

    def __init__(self, workdir: Path, config: Path = KAMAILIO_WS_CFG) -> None:
        self.binary = find_tool("kamailio")
        self.shm_mb = None
        self.workdir = workdir
        self.port = free_udp_port()
        self.ws_port = free_tcp_port()
        self.config_path = workdir / f"kamailio-ws-{self.port}.cfg"
        self.pidfile = workdir / f"kamailio-ws-{self.port}.pid"
        self.log = workdir / f"kamailio-ws-{self.port}.log"
        text = config.read_text()
        for protocol, port in (("udp", self.port), ("tcp", self.ws_port)):
            text, count = re.subn(
                rf"^listen={protocol}:.*$",
                f"listen={protocol}:{HOST}:{port}",
                text,
                flags=re.MULTILINE,
            )
            if count != 1:
                raise ValueError(f"{config} must have exactly one `listen={protocol}:` line")
        modules = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
        if modules:
            text = re.sub(r'^mpath=".*"$', f'mpath="{modules[0]}/"', text, flags=re.MULTILINE)
        self.config_path.write_text(text)
        self.process = None
