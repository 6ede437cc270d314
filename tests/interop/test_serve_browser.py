"""A browser user of ``sippet serve``: headless Chromium runs tests/data/browser/ws_sip.html,
whose own JavaScript registers ``sip:browser@example.test`` over WebSocket (RFC 7118, a
``.invalid`` Contact); SIPp then sends a MESSAGE over UDP to that AOR through ``sippet
serve``, which reaches the browser over the browser's own connection; the browser answers
200, which SIPp must get back. Chromium is driven as in test_ws_browser.py."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from interop.serve_node import ServeNode
from interop.sip_peers import DATA, HOST, Sipp, SippRun, free_tcp_port
from interop.test_ws_browser import field, load_page, page_server

MESSAGE = DATA / "sipp" / "serve-message.xml"
DOMAIN = "example.test"
REGISTER_TIMEOUT = 60.0


async def message_once_registered(tmp_path: Path, node: ServeNode) -> SippRun:
    """Wait (bounded) for the browser's REGISTER to be answered 200, then send the MESSAGE."""
    deadline = time.monotonic() + REGISTER_TIMEOUT
    while not any("status=200" in line for line in node.transactions("REGISTER")):
        assert time.monotonic() < deadline, node.output()
        await asyncio.sleep(0.05)
    args = ["-sf", str(MESSAGE), f"{HOST}:{node.port}", "-s", "browser", "-key", "domain", DOMAIN]
    sipp = Sipp(tmp_path, "message", args, calls=1, timeout=20)
    return await asyncio.get_running_loop().run_in_executor(None, sipp.run)


async def browser_and_sipp(tmp_path: Path, node: ServeNode, ws_port: int) -> tuple[str, SippRun]:
    with page_server() as http_port:
        url = f"http://{HOST}:{http_port}/ws_sip.html?url=ws://{HOST}:{ws_port}/"
        dom, run = await asyncio.gather(
            load_page(url, tmp_path / "profile"), message_once_registered(tmp_path, node)
        )
    return dom, run


def test_a_browser_registered_over_websocket_receives_a_message_sipp_sends_over_udp(
    tmp_path: Path,
) -> None:
    ws_port = free_tcp_port()
    extra = ["--listen", f"ws:{HOST}:{ws_port}", "--domain", DOMAIN, "--store", "memory:"]
    with ServeNode(tmp_path, extra) as node:
        dom, run = asyncio.run(browser_and_sipp(tmp_path, node, ws_port))
        messages = node.transactions("MESSAGE")
    assert field(dom, "error") == "", dom[-2000:]
    assert field(dom, "OPTIONS") == "SIP/2.0 200 OK"  # the node answers for itself
    assert field(dom, "REGISTER") == "SIP/2.0 200 OK"
    request = field(dom, "request")  # what reached the browser: its .invalid Contact
    assert request.startswith("MESSAGE sip:browser@") and ".invalid;transport=ws " in request
    assert run.stats is not None and run.stats.successful == 1, run.report()
    assert len(messages) == 1 and "status=200" in messages[0], messages
