"""Every RFC 4475 torture message, and some garbage, thrown at a running stack with the
`sippet uas` core: nothing escapes as an exception, and the stack answers afterwards."""

from __future__ import annotations

import asyncio
import random
import socket
from pathlib import Path

import pytest
from helpers.aio import async_test_within, recvfrom
from sippet import Message
from sippet.cli.uas import UASCore
from sippet.stack import Stack
from sippet.transports import UDP

RFC4475 = Path(__file__).parent / "data" / "rfc4475"


OPTIONS = (
    "OPTIONS sip:uas@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKafter;rport\r\n"
    "From: <sip:peer@127.0.0.1>;tag=1\r\nTo: <sip:uas@127.0.0.1>\r\n"
    "Call-ID: after-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def garbage() -> list[bytes]:
    rng = random.Random(4475)
    wsinv = (RFC4475 / "wsinv.dat").read_bytes()
    cases = [b"", b"\r\n", b"\r\n\r\n", b"\x00" * 100, b"SIP/2.0", b"INVITE", b"\xff\xfe" * 50]
    for _ in range(200):  # truncations and byte flips of a valid message
        cut = wsinv[: rng.randrange(len(wsinv))]
        flipped = bytearray(wsinv)
        for _ in range(rng.randrange(1, 8)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        cases += [cut, bytes(flipped)]
    return cases


@async_test_within(60)
async def test_torture_and_garbage_never_break_the_stack(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING")
    stack = Stack(name="torture")
    await stack.start()
    transport = await stack.add_transport(UDP("127.0.0.1", 0))
    core = UASCore(stack, transport)
    stack.register_core(core)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    try:
        messages = [path.read_bytes() for path in sorted(RFC4475.glob("*.dat"))]
        assert len(messages) == 50
        for data in messages + garbage():
            peer.sendto(data, transport.local_address)
            await asyncio.sleep(0)  # let the stack read as we go (bounded socket buffer)
        peer.sendto(OPTIONS.format(port=peer.getsockname()[1]).encode(), transport.local_address)
        while True:  # skip answers to torture requests that pointed back at us, if any
            data, _ = await asyncio.wait_for(recvfrom(peer, 70000), 5)
            answer = Message.parse(data)
            if answer.headers.get("call_id") == "after-1":
                break
        assert answer.start_line.status_code == 200  # type: ignore[union-attr]
        failures = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
        assert failures == [], [r.getMessage() for r in failures]
        # Drops are logged with their source.
        assert f"udp:127.0.0.1:{peer.getsockname()[1]}" in caplog.text
    finally:
        peer.close()
        core.close()
        await stack.close()
