"""Memory per idle WebSocket connection of sippet's WS transport, with N open (1,000).

Not a test: prints a table. A server process (this script with ``--serve``) runs a
``Stack`` with a ``WS`` transport on a free loopback port and answers OPTIONS with 200;
this process opens N WebSocket connections to it (subprotocol ``sip``), sends one OPTIONS
on each and waits for its 200, then leaves them idle. The server's resident set size
(VmRSS from /proc) is read before the first and after the last connection; the difference
over N is the cost of one idle connection: its Python objects, the websockets protocol
state, the asyncio transport and tasks (kernel socket buffers are not in RSS).

Rows: the default (permessage-deflate off) and ``compression=True`` (the browser's offer
accepted), to show why compression is off by default.

    python bench/ws_memory.py                 # --connections 1000
    python bench/ws_memory.py --connections 200

Bounded: at most --connections (capped at 5,000) connections, --time-limit seconds per row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

HOST = "127.0.0.1"
MAX_CONNECTIONS = 5000
OPTIONS = (
    "OPTIONS sip:bench@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/WS {host};branch=z9hG4bK-{n}\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:bench@{host}>;tag={n}\r\n"
    "To: <sip:bench@127.0.0.1>\r\n"
    "Call-ID: bench-{n}\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n"
)


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match, "no VmRSS in /proc"
    return int(match.group(1))


async def serve(compression: bool) -> None:
    """The server side: print the port, answer OPTIONS, run until stdin closes."""
    from sippet.ids import create_tag
    from sippet.message import Message
    from sippet.stack import Core, Stack
    from sippet.transactions import ServerKey
    from sippet.transports.ws import WS

    class Answer(Core):
        def __init__(self, stack: Stack) -> None:
            self.stack = stack

        def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
            if server_key is not None:
                self.stack.send_response(request.to_response(200, to_tag=create_tag()))

    async with Stack("ws-memory") as stack:
        transport = WS(
            HOST,
            0,
            compression=compression,
            max_connections=MAX_CONNECTIONS + 10,
            max_connections_per_address=MAX_CONNECTIONS + 10,  # every client is 127.0.0.1
        )
        await stack.add_transport(transport)
        stack.register_core(Answer(stack))
        print(transport.local_address[1], flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


async def open_idle(
    port: int, count: int, compression: bool, name: str = "c"
) -> list[ClientConnection]:
    clients: list[ClientConnection] = []
    for n in range(count):
        client = await connect(
            f"ws://{HOST}:{port}/",
            subprotocols=[Subprotocol("sip")],
            proxy=None,
            compression="deflate" if compression else None,
            ping_interval=None,
        )
        # Each client its own .invalid name (RFC 7118 Appendix B.1), as browsers do.
        await client.send(OPTIONS.format(host=f"{name}{n}.invalid", n=n))
        reply = await asyncio.wait_for(client.recv(), 10)
        assert str(reply).startswith("SIP/2.0 200 "), reply
        clients.append(client)
    return clients


async def measure(count: int, compression: bool, time_limit: float) -> tuple[int, int]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", *(["--compression"] if compression else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        # Warm up: one connection, so that lazily imported code is counted in "before".
        warm = await open_idle(port, 1, compression, name="warm")
        await asyncio.sleep(0.2)
        before = rss_kib(server.pid)
        clients = await asyncio.wait_for(open_idle(port, count, compression), time_limit)
        await asyncio.sleep(0.5)  # let the server settle (tasks started, buffers freed)
        after = rss_kib(server.pid)
        for client in clients + warm:
            await client.close()
        return before, after
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compression", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.compression))
        return
    count = min(args.connections, MAX_CONNECTIONS)
    print(f"sippet WS transport, {count} idle connections (server RSS, {os.cpu_count()} CPUs)")
    print(f"{'configuration':<28}{'RSS before':>12}{'RSS after':>12}{'per connection':>16}")
    for label, compression in (("default (no compression)", False), ("compression=True", True)):
        before, after = asyncio.run(measure(count, compression, args.time_limit))
        per = (after - before) * 1024 / count
        print(f"{label:<28}{before:>9} KiB{after:>9} KiB{per / 1024:>12.1f} KiB")


if __name__ == "__main__":
    main()
