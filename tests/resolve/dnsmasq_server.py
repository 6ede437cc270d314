"""A real DNS server for the adapter tests: Debian's dnsmasq on a free loopback port,
serving only the records it is started with (no upstream, no /etc/hosts)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import dns.exception
import dns.message
import dns.query

DNSMASQ = "/usr/sbin/dnsmasq"
HOST = "127.0.0.1"
START_TIMEOUT = 10.0
"""Seconds dnsmasq gets to answer its first query before the fixture gives up."""


def find_dnsmasq() -> str:
    found = shutil.which("dnsmasq") or (DNSMASQ if Path(DNSMASQ).exists() else None)
    if found is None:
        raise FileNotFoundError("dnsmasq is not installed (Debian: apt-get install dnsmasq)")
    return found


def free_port() -> int:
    """A port free for both UDP and TCP on the loopback (dnsmasq serves both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((HOST, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((HOST, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port for dnsmasq")


class Dnsmasq:
    """One dnsmasq process. ``records`` are dnsmasq options (``--host-record=...``,
    ``--srv-host=...``, ``--naptr-record=...``); names under ``domain`` that have no record
    get NXDOMAIN or an empty answer (``--local``), never a forwarded query."""

    def __init__(self, records: Sequence[str], *, domain: str, ttl: int, port: int = 0) -> None:
        self.records = list(records)
        self.domain = domain
        self.ttl = ttl
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> Dnsmasq:
        command = [
            find_dnsmasq(),
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            f"--port={self.port}",
            f"--listen-address={HOST}",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            f"--local=/{self.domain}/",
            f"--local-ttl={self.ttl}",
            "--pid-file=",
            "--log-facility=-",
            *self.records,
        ]
        if os.geteuid() == 0:
            command.append("--user=root")  # dnsmasq refuses to drop to 'nobody' otherwise
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        probe = dns.message.make_query(f"probe.{self.domain}", "A")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dnsmasq exited: {error}")
            with contextlib.suppress(OSError, dns.exception.Timeout):
                dns.query.udp(probe, HOST, port=self.port, timeout=0.2)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dnsmasq did not answer within {START_TIMEOUT} s")

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stderr is not None:
            process.stderr.close()


StartDnsmasq = Callable[..., Dnsmasq]
"""The ``start_dnsmasq`` fixture: ``start(records, *, ttl=..., port=0) -> Dnsmasq``."""
