"""`sippet serve` against Kamailio as the same registrar and record-routing proxy, under the
same SIPp load, in the same run.

Not a test: prints a table. For each server (`sippet serve` with one worker, with
`--workers 2`, Kamailio with `children=1` and `children=2`, tests/data/kamailio/serve.cfg:
usrloc in memory, registrar, tm, rr):

1. registrations: SIPp (tests/data/sipp/serve-register-load.xml) sends --registrations
   REGISTERs, one user each, at --rate per second;
2. calls: a SIPp callee (tests/data/sipp/serve-uas.xml) is registered as bob@example.com, and SIPp
   (tests/data/sipp/proxy-uac.xml: INVITE, 180, 200 with Record-Route checked, ACK and BYE
   through the route set) places --calls calls to it through the server at --rate per
   second, at most --limit at once.

SIPp opens one UDP socket per call (`-t un`): the kernel spreads a shared port's datagrams
over SO_REUSEPORT workers by source, so a single socket would reach one worker only.
CPU time is the server's own (utime + stime of every process of its session, from
/proc/PID/stat), divided by the work done: SIPp takes a core of its own here, so
wall-clock rates understate a server that is not the bottleneck. Every SIPp run is bounded
by --calls/--registrations and --time-limit.

    python bench/serve.py --registrations 2000 --calls 1000 --rate 400 --limit 200

`sippet serve` runs with the memory store (as Kamailio's usrloc with db_mode 0) and with the
SQLite file that two workers share.
Needs `sipp` and `kamailio` (Debian: apt-get install -y sip-tester kamailio).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "interop"))

from sip_peers import (
    DATA,
    HOST,
    Kamailio,
    Sipp,
    SippetServer,
    SippRun,
    free_udp_port,
    sippet_command,
)

REGISTER_LOAD = DATA / "sipp" / "serve-register-load.xml"
REGISTER_CONTACT = DATA / "sipp" / "register-contact.xml"
UAC = DATA / "sipp" / "proxy-uac.xml"
UAS = DATA / "sipp" / "serve-uas.xml"
KAMAILIO_CFG = DATA / "kamailio" / "serve.cfg"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    server: str
    registrations: SippRun
    calls: SippRun
    register_cpu: float
    call_cpu: float


def session_cpu_seconds(leader: int) -> float:
    """utime + stime of every process whose session is ``leader``'s (its workers too)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        # After the command: state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12).
        if int(fields[3]) == leader:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def sipp(workdir: Path, name: str, args: list[str], calls: int, limit: float) -> Sipp:
    return Sipp(workdir, name, args, calls=calls, timeout=limit)


def measure(workdir: Path, label: str, port: int, leader: int, args: argparse.Namespace) -> Result:
    tag = re.sub(r"\W+", "-", label).strip("-")
    call_rate = args.call_rate or args.rate
    callee = sipp(workdir, f"{tag}-uas", ["-sf", str(UAS)], args.calls, args.time_limit)
    callee.start().wait_bound()
    try:
        register = [
            "-sf",
            str(REGISTER_CONTACT),
            f"{HOST}:{port}",
            "-s",
            "bob",
            "-key",
            "domain",
            "example.com",
            "-key",
            "contact_port",
            str(callee.port),
        ]
        bound = sipp(workdir, f"{tag}-bob", register, 1, 15).run()
        if bound.stats is None or bound.stats.successful != 1:
            raise RuntimeError(f"{label}: the callee could not register:\n{bound.report()}")
        load = ["-t", "un", "-max_socket", "5000", "-l", str(args.limit)]
        before = session_cpu_seconds(leader)
        registrations = sipp(
            workdir,
            f"{tag}-reg",
            ["-sf", str(REGISTER_LOAD), f"{HOST}:{port}", "-r", str(args.rate), *load],
            args.registrations,
            args.time_limit,
        ).run()
        middle = session_cpu_seconds(leader)
        calls = sipp(
            workdir,
            f"{tag}-calls",
            ["-sf", str(UAC), f"{HOST}:{port}", "-s", "bob", "-r", str(call_rate), *load],
            args.calls,
            args.time_limit,
        ).run()
        after = session_cpu_seconds(leader)
    finally:
        callee.stop()
    return Result(label, registrations, calls, middle - before, after - middle)


def bench_sippet(workdir: Path, workers: int, store: str, args: argparse.Namespace) -> Result:
    port = free_udp_port()
    command = sippet_command(
        "serve",
        "--listen",
        f"udp:{HOST}:{port}",
        "--domain",
        "example.com",
        "--store",
        store,
        "--workers",
        str(workers),
        "--quiet",  # Kamailio logs nothing per transaction either
    )
    os.environ["XDG_STATE_HOME"] = str(workdir)
    name = f"serve-{workers}-{store.partition(':')[0]}"
    server = SippetServer(workdir, name, [*command], port).start()
    label = f"sippet serve, {workers} worker(s), {store.partition(':')[0]}"
    try:
        return measure(workdir, label, port, server.pid, args)
    finally:
        server.stop()


def bench_kamailio(workdir: Path, children: int, args: argparse.Namespace) -> Result:
    config = workdir / f"serve-{children}.cfg"
    config.write_text(
        re.sub(r"^children=\d+$", f"children={children}", KAMAILIO_CFG.read_text(), flags=re.M)
    )
    server = Kamailio(workdir, config=config, shm_mb=256)
    server.start()
    try:
        assert server.process is not None
        label = f"Kamailio, children={children}"
        return measure(workdir, label, server.port, server.process.pid, args)
    finally:
        server.stop()


def rate(run: SippRun) -> str:
    if run.stats is None:
        return "no stats"
    return f"{run.stats.successful_per_second:,.0f}/s ({run.stats.failed} failed)"


def per_unit(cpu: float, run: SippRun) -> str:
    if run.stats is None or run.stats.successful == 0:
        return "-"
    return f"{1000 * cpu / run.stats.successful:.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=400, help="new calls or REGISTERs per s")
    parser.add_argument("--call-rate", type=int, default=None, help="new calls per s (--rate)")
    parser.add_argument("--limit", type=int, default=200, help="at most this many at once")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per SIPp run")
    parser.add_argument("--keep", type=Path, default=None, help="keep logs in this directory")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results.append(bench_sippet(workdir, 1, "memory:", args))
        results.append(bench_sippet(workdir, 1, f"sqlite:{workdir / 'one.sqlite'}", args))
        results.append(bench_sippet(workdir, 2, f"sqlite:{workdir / 'two.sqlite'}", args))
        results.append(bench_kamailio(workdir, 1, args))
        results.append(bench_kamailio(workdir, 2, args))
    print(
        f"{args.registrations} REGISTERs at {args.rate}/s, {args.calls} calls (INVITE 180 200 "
        f"ACK BYE 200, record-routed) at {args.call_rate or args.rate}/s, SIPp -l {args.limit}, "
        "UDP on loopback, "
        f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    header = ("server", "registrations", "CPU/REGISTER", "calls", "CPU/call")
    rows = [
        (
            r.server,
            rate(r.registrations),
            per_unit(r.register_cpu, r.registrations),
            rate(r.calls),
            per_unit(r.call_cpu, r.calls),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    memory, sqlite, two, kamailio = results[0], results[1], results[2], results[3]
    if memory.calls.stats and sqlite.calls.stats and two.calls.stats and kamailio.calls.stats:
        ratio = memory.calls.stats.successful_per_second / max(
            kamailio.calls.stats.successful_per_second, 1e-9
        )
        scaling = two.calls.stats.successful_per_second / max(
            sqlite.calls.stats.successful_per_second, 1e-9
        )
        print(f"calls/s, sippet 1 worker (memory) / Kamailio children=1: {ratio:.2f}")
        print(f"calls/s, sippet 2 workers / 1 worker (both SQLite): {scaling:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
