"""A TLS client wrapper for the TLS throughput benchmark: stunnel in client mode.

Debian's SIPp is built without OpenSSL (`-t l1` refuses to run), so `bench/throughput.py
--transport tls` sends SIPp's load over plain TCP (`-t t1`) into one stunnel per server, which
opens TLS to the server's TLS listener and verifies its certificate against the test CA. Both
servers see the same client: one TLS connection from stunnel, the same TLS version and cipher
(stunnel's defaults with this OpenSSL), the same TCP hop in front of it.

For the benchmark only: CI does not install stunnel (Debian: apt-get install -y stunnel4).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from sip_peers import HOST, PeerPKI, free_tcp_port, stop_process, wait_tcp_listening


class StunnelMissing(RuntimeError):
    """stunnel is not installed."""


class StunnelClient:
    """stunnel accepting plain TCP on 127.0.0.1:`port` and connecting with TLS to
    127.0.0.1:`tls_port`, verifying the server's certificate (chain and IP) against `pki.ca`.

    Runs in the foreground in its own session; `stop` ends it and its process group.
    """

    def __init__(self, workdir: Path, name: str, tls_port: int, pki: PeerPKI):
        binary = shutil.which("stunnel4") or shutil.which("stunnel")
        if binary is None:
            raise StunnelMissing(
                "`stunnel` is not installed; the TLS throughput benchmark needs it "
                "(Debian: apt-get install -y stunnel4)"
            )
        self.binary = binary
        self.port = free_tcp_port()
        self.config = workdir / f"stunnel-{name}.conf"
        self.log = workdir / f"stunnel-{name}.log"
        self.config.write_text(
            "foreground = yes\n"
            "pid =\n"
            f"output = {self.log}\n"
            "debug = warning\n"
            f"[{name}]\n"
            "client = yes\n"
            f"accept = {HOST}:{self.port}\n"
            f"connect = {HOST}:{tls_port}\n"
            f"CAfile = {pki.ca}\n"
            "verifyChain = yes\n"
            f"checkIP = {HOST}\n"
            # SIPp's single connection carries the whole load: no Nagle delay on either side.
            "socket = l:TCP_NODELAY=1\n"
            "socket = r:TCP_NODELAY=1\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 10.0) -> StunnelClient:
        self.process = subprocess.Popen(
            [self.binary, str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_tcp_listening(self.port, self.process, ready_timeout, "stunnel", self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def output(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-2000:]
        return "(no stunnel log)"
