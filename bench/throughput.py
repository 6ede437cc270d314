"""Throughput over UDP, TCP or TLS: `sippet uas` against a reference server under the same
SIPp load; memory per idle TCP or TLS connection.

Not a test: prints a table. `--scenario options` (the default): SIPp
(tests/data/sipp/options-uac.xml) sends OPTIONS at --rate per second, at most --limit
outstanding, --calls in all, to `sippet uas`, then the same load to Kamailio answering
statelessly (sl_send_reply, tests/data/kamailio/options.cfg), in the same run, and the
ratio is printed. `--scenario options-stateful`: the same with an X-Stateful header, which
makes Kamailio answer through a transaction (tm t_reply), as sippet does.
`--scenario calls`: SIPp's built-in uac scenario (INVITE, 180, 200, ACK, BYE, 200) against
`sippet uas --ring 0`, then against SIPp's own built-in uas. Every SIPp run is bounded by
--time-limit seconds.

`--transport tcp`: the same over one TCP connection (SIPp -t t1), against `sippet uas
--listen tcp:...` and Kamailio listening on TCP (tests/data/kamailio/streams.cfg).
`--transport tls`: Debian's SIPp is built without OpenSSL, so SIPp sends the same load over
TCP (-t t1) into a TLS client wrapper, one stunnel in client mode per server
(bench/tls_client.py), which connects with TLS to `sippet uas --listen tls:...` and to
Kamailio's TLS listener and verifies their certificate (a test CA made for the run). Both
servers see the same client. stunnel is for this benchmark only; CI does not install it
(Debian: apt-get install -y stunnel4).
`--idle-connections N --transport tcp|tls`: open N connections to `sippet uas` that send
nothing, and print its resident memory per connection (VmRSS after minus before, over N).

    python bench/throughput.py --calls 40000 --rate 20000 --limit 2000
    python bench/throughput.py --transport tcp --calls 20000 --rate 10000 --limit 1000
    python bench/throughput.py --transport tls --calls 20000 --rate 10000 --limit 1000
    python bench/throughput.py --scenario calls --calls 5000 --rate 1000 --limit 500
    python bench/throughput.py --idle-connections 1000 --transport tls

Needs `sipp` and `kamailio` installed (Debian: apt-get install -y sip-tester kamailio).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The peer harness lives with the interop tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "interop"))

from sip_peers import (
    HOST,
    SIPP_OPTIONS_UAC,
    SIPP_OPTIONS_UAC_STATEFUL,
    Kamailio,
    KamailioStreams,
    PeerPKI,
    Sipp,
    SippetServer,
    SippetStreamUAS,
    SippetUAS,
    SippRun,
    find_tool,
    make_test_pki,
    peak_rss_kib,
)
from tls_client import StunnelClient


@dataclass
class Result:
    server: str
    run: SippRun
    peak_rss_kib: int | None = None
    round: int = 1


def native_build() -> str:
    """Whether the installed sippet._native is an optimized build (debug builds are slow).

    A debug (`maturin develop` without --release) build keeps Rust's overflow checks, whose
    panic messages are then in the binary; a release build has none in our code.
    """
    spec = importlib.util.find_spec("sippet._native")
    if spec is None or spec.origin is None:
        return "sippet._native not found"
    data = Path(spec.origin).read_bytes()
    kind = (
        "DEBUG build (overflow checks present)"
        if b"attempt to add with overflow" in data
        else "release build"
    )
    return f"{kind}: {spec.origin}"


def version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    text = (out.stdout + out.stderr).strip().splitlines()
    return next((line.strip() for line in text if line.strip()), "?")


def stunnel_version() -> str:
    """stunnel's banner line ("stunnel 5.68 on x86_64-pc-linux-gnu platform")."""
    try:
        out = subprocess.run(
            ["stunnel", "-version"], capture_output=True, text=True, timeout=10, check=False
        )
    except OSError:
        return "stunnel not installed (apt-get install -y stunnel4)"
    lines = (out.stdout + out.stderr).splitlines()
    return next((line.strip() for line in lines if line.startswith("stunnel ")), "stunnel ?")


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"load average {load}"
    )


# Per scenario: SIPp's scenario arguments, and the defaults of --calls, --rate, --limit.
SCENARIOS: dict[str, tuple[list[str], tuple[int, int, int]]] = {
    "options": (["-sf", str(SIPP_OPTIONS_UAC)], (40000, 20000, 2000)),
    "options-stateful": (["-sf", str(SIPP_OPTIONS_UAC_STATEFUL)], (40000, 20000, 2000)),
    "calls": (["-sn", "uac"], (5000, 1000, 500)),
}


def scenario_args(workdir: Path, args: argparse.Namespace) -> list[str]:
    """SIPp's scenario arguments; over TLS, the scenario with a TLS Via.

    RFC 3261 §18.1.1: the Via names the transport the request goes over, TLS from stunnel to
    the server, where SIPp's `[transport]` would say TCP (`sippet uas` answers such a request
    400, its Via protocol not the one it came over).
    """
    scenario, _ = SCENARIOS[args.scenario]
    if args.transport != "tls":
        return scenario
    source = Path(scenario[1])
    text = source.read_text()
    if "SIP/2.0/[transport]" not in text:
        raise ValueError(f"{source}: no `Via: SIP/2.0/[transport]` to rewrite for TLS")
    copy = workdir / f"tls-{source.name}"
    copy.write_text(text.replace("SIP/2.0/[transport]", "SIP/2.0/TLS"))
    return ["-sf", str(copy)]


def load(workdir: Path, name: str, port: int, args: argparse.Namespace) -> SippRun:
    scenario = scenario_args(workdir, args)
    # TLS: SIPp speaks TCP to the stunnel in front of the server (bench/tls_client.py).
    transport = ["-t", "t1"] if args.transport in ("tcp", "tls") else []
    return Sipp(
        workdir,
        name,
        [*scenario, f"{HOST}:{port}", *transport, "-r", str(args.rate), "-l", str(args.limit)],
        calls=args.calls,
        timeout=args.time_limit,
    ).run()


def start_uas(
    workdir: Path, args: argparse.Namespace, extra: list[str]
) -> tuple[SippetServer, int]:
    """`sippet uas` and the port the load goes to (its UDP, or its TCP listener)."""
    if args.transport == "udp":
        uas = SippetUAS(workdir, extra)
        uas.start()
        return uas, uas.port
    stream_uas = SippetStreamUAS(workdir, pki(workdir), extra)
    stream_uas.start()
    return stream_uas, stream_uas.tcp_port if args.transport == "tcp" else stream_uas.tls_port


def pki(workdir: Path) -> PeerPKI:
    directory = workdir / "pki"
    if not (directory / "ca.pem").exists():
        directory.mkdir(exist_ok=True)
        return make_test_pki(directory)
    return PeerPKI(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")


def load_through(workdir: Path, name: str, port: int, args: argparse.Namespace) -> SippRun:
    """SIPp's load to `port`; over TLS, through a stunnel client started for this run."""
    if args.transport != "tls":
        return load(workdir, name, port, args)
    wrapper = StunnelClient(workdir, name, port, pki(workdir)).start()
    try:
        run = load(workdir, name, wrapper.port, args)
        if run.stats is None or run.stats.failed:
            print(f"--- stunnel {name}\n{wrapper.output()}", file=sys.stderr)
        return run
    finally:
        wrapper.stop()


def bench_sippet(workdir: Path, args: argparse.Namespace, name: str) -> Result:
    # --quiet: the per-transaction lines go to a terminal in real use, not under load.
    extra = [
        "--quiet",
        *args.uas_arg,
        *(["--ring", "0"] if args.scenario == "calls" else []),
    ]
    uas, port = start_uas(workdir, args, extra)
    try:
        run = load_through(workdir, name, port, args)
        rss = peak_rss_kib(uas.pid)
        if not uas.alive():
            print(f"sippet uas died during the run:\n{uas.output()}", file=sys.stderr)
    finally:
        uas.stop()
    return Result("sippet uas", run, rss)


def bench_kamailio(workdir: Path, args: argparse.Namespace, name: str) -> Result:
    if args.transport in ("tcp", "tls"):
        streams = KamailioStreams(workdir, pki(workdir))
        streams.start()
        server: Kamailio = streams
        port = streams.tcp_port if args.transport == "tcp" else streams.tls_port
    else:
        server = Kamailio(workdir, shm_mb=1024)
        server.start()
        port = server.port
    try:
        run = load_through(workdir, name, port, args)
    finally:
        server.stop()
    label = "Kamailio (tm)" if args.scenario == "options-stateful" else "Kamailio (sl)"
    return Result(label, run, None)


def bench_sipp_uas(workdir: Path, args: argparse.Namespace, name: str) -> Result:
    callee = Sipp(
        workdir, f"{name}-callee", ["-sn", "uas"], calls=args.calls, timeout=args.time_limit
    )
    callee.start()
    try:
        callee.wait_bound()
        run = load(workdir, name, callee.port, args)
    finally:
        callee.stop()
    return Result("SIPp uas", run, None)


def row(result: Result) -> str:
    stats = result.run.stats
    rss = f"{result.peak_rss_kib / 1024:.1f} MiB" if result.peak_rss_kib else "-"
    if stats is None:
        return (
            f"| {result.round} | {result.server} | no statistics "
            f"(exit {result.run.returncode}) |||||| {rss} |"
        )
    return (
        f"| {result.round} | {result.server} | {stats.created} | {stats.successful} "
        f"| {stats.failed} | {stats.retransmissions} | {stats.elapsed:.2f} "
        f"| {stats.successful_per_second:,.0f} | {stats.call_rate:,.0f} | {rss} |"
    )


PER_SOURCE_ADDRESS = 250


def rss_kib(pid: int) -> int:
    """Current resident set size (VmRSS) of a live process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def idle_connections(args: argparse.Namespace) -> int:
    """Memory of `sippet uas` per idle connection (none sends a byte)."""
    count = args.idle_connections
    with tempfile.TemporaryDirectory(prefix="sippet-bench-") as tmp:
        workdir = Path(tmp)
        uas, port = start_uas(workdir, args, [])
        client = None
        if args.transport == "tls":
            client = ssl.create_default_context(cafile=str(pki(workdir).ca))
        sockets: list[socket.socket] = []
        try:
            time.sleep(0.5)
            before = rss_kib(uas.pid)
            for number in range(count):
                # From several loopback addresses: StreamLimits.max_connections_per_address.
                source = (f"127.0.0.{2 + number // PER_SOURCE_ADDRESS}", 0)
                sock = socket.create_connection((HOST, port), timeout=10, source_address=source)
                if client is not None:
                    sock = client.wrap_socket(sock, server_hostname=HOST)
                sockets.append(sock)
            time.sleep(1.0)  # let the server accept (and finish handshakes on) all of them
            after = rss_kib(uas.pid)
            alive = uas.alive()
        finally:
            for sock in sockets:
                sock.close()
            uas.stop()
    print(f"machine: {machine()}")
    print(
        f"sippet uas, {count} idle {args.transport.upper()} connections: VmRSS {before} KiB "
        f"-> {after} KiB, {(after - before) / count:.1f} KiB per connection"
        + ("" if alive else " (the server died)")
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--transport", choices=("udp", "tcp", "tls"), default="udp", help="what SIPp uses (udp)"
    )
    parser.add_argument(
        "--idle-connections",
        type=int,
        default=0,
        help="instead of throughput: memory per idle connection, with this many open",
    )
    parser.add_argument(
        "--scenario", choices=sorted(SCENARIOS), default="options", help="what SIPp sends"
    )
    parser.add_argument("--calls", type=int, help="calls per server (-m; 40000 OPTIONS)")
    parser.add_argument("--rate", type=int, help="SIPp call rate per second (-r; 20000)")
    parser.add_argument("--limit", type=int, help="outstanding calls (-l; 2000)")
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="bound of each SIPp run, seconds"
    )
    parser.add_argument(
        "--only", choices=("sippet", "reference"), help="measure only one of the servers"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure each server this many times, alternating which goes first (3)",
    )
    parser.add_argument(
        "--uas-arg", action="append", default=[], help="extra argument for `sippet uas`"
    )
    args = parser.parse_args()
    if args.idle_connections:
        if args.transport == "udp":
            parser.error("--idle-connections needs --transport tcp or tls")
        return idle_connections(args)
    if args.transport != "udp" and args.scenario != "options":
        # Kamailio's stream config answers statelessly; the calls reference listens on UDP.
        parser.error(f"--transport {args.transport} has --scenario options only")
    defaults = SCENARIOS[args.scenario][1]
    args.calls = args.calls or defaults[0]
    args.rate = args.rate or defaults[1]
    args.limit = args.limit or defaults[2]
    find_tool("sipp")
    find_tool("kamailio")

    print(f"machine: {machine()}")
    print(f"python: {sys.version.split()[0]}; sippet._native: {native_build()}")
    print(f"sipp: {version(['sipp', '-v'])}; kamailio: {version([find_tool('kamailio'), '-v'])}")
    if args.transport == "tls":
        print(f"TLS client wrapper: {stunnel_version()}")
    print(
        f"transport: {args.transport}"
        + (" (SIPp -t t1 into one stunnel client per server)" if args.transport == "tls" else "")
    )
    print(
        f"load: sipp {' '.join(Path(a).name for a in SCENARIOS[args.scenario][0])} "
        f"-m {args.calls} -r {args.rate} -l {args.limit} "
        f"(bounded by {args.time_limit:.0f} s)"
    )
    reference = bench_sipp_uas if args.scenario == "calls" else bench_kamailio
    benches = [
        bench
        for bench, which in ((bench_sippet, "sippet"), (reference, "reference"))
        if args.only in (None, which)
    ]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sippet-bench-") as tmp:
        workdir = Path(tmp)
        for number in range(1, args.rounds + 1):
            # Alternate the order: whatever else runs on the machine hits both alike.
            for bench in benches if number % 2 else benches[::-1]:
                result = bench(workdir, args, f"{bench.__name__}-{number}")
                result.round = number
                results.append(result)
                if result.run.stats is None or result.run.stats.failed:
                    print(f"--- {result.server}\n{result.run.report()}", file=sys.stderr)

    print()
    print(
        "| round | server | sent | successful | failed | retransmissions | elapsed s "
        "| successful/s | SIPp call rate/s | peak RSS |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(row(result))
    print()
    medians: dict[str, float] = {}
    for server in dict.fromkeys(r.server for r in results):
        runs = [r.run.stats for r in results if r.server == server]
        rates = [stats.successful_per_second if stats else 0.0 for stats in runs]
        failed = sum(stats.failed if stats else args.calls for stats in runs)
        medians[server] = statistics.median(rates)
        print(
            f"{server}: median {medians[server]:,.0f} successful/s over {len(runs)} rounds, "
            f"{failed} failed in all"
        )
    if len(medians) == 2:
        (_, ours), (reference_name, theirs) = medians.items()
        if theirs > 0:
            print(f"sippet / {reference_name} (median successful per second): {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
