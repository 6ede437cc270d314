"""A real browser as the SIP WebSocket client (RFC 7118): headless Chromium on loopback.

The test serves tests/data/browser/ws_sip.html (and its plain JavaScript) from a loopback
HTTP server; the page opens ``ws://`` or ``wss://`` to a sippet ``Stack`` with the ``sip``
subprotocol, sends an OPTIONS and a REGISTER, writes each response's status line into the
page, then answers the MESSAGE the registrar sends to its registered ``.invalid`` Contact
(RFC 7118 §5: over the browser's own connection); the test reads the page through
Chromium's DevTools protocol once the script is done.

WSS: Chromium is told to trust exactly the test server's key
(``--ignore-certificate-errors-spki-list`` with the SHA-256 of the certificate's public key,
issued by a ``trustme`` CA) rather than to ignore certificate errors; without the flag the
same page fails, which the test checks too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import html
import http.server
import json
import re
import shutil
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sippet import URI, CSeq, MediaType, Message, Method, NameAddr, RequestLine, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.stack import Core, Stack
from sippet.transactions import ClientKey, ServerKey
from sippet.transports.ws import WS, WSS
from websockets.asyncio.client import ClientConnection, connect

from .sip_peers import DATA, HOST

pytestmark = pytest.mark.interop

PAGE_DIR = DATA / "browser"
BROWSER_TIMEOUT = 60.0


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed (Debian: apt-get install -y chromium)", pytrace=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def page_server() -> Iterator[int]:
    """Serves tests/data/browser on a free loopback port (a thread; stopped on exit)."""
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class Registrar(Core):
    """Answers every request with 200 and keeps them; after a REGISTER, sends a MESSAGE to
    the Contact it registered (a ``.invalid`` host: the transport layer finds the
    browser's connection, RFC 7118 §5) and keeps the final response."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.requests: list[Message] = []
        self.responses: list[Message] = []
        self.errors: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        self.requests.append(request)
        if server_key is not None:
            self.stack.send_response(request.to_response(200, to_tag=create_tag()))
        if request.start_line.method == Method.REGISTER:  # type: ignore[union-attr]
            task = asyncio.ensure_future(self.stack.send(message_to(request)))
            self.tasks.add(task)  # type: ignore[arg-type]

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        if response.start_line.status_code >= 200:  # type: ignore[union-attr]
            self.responses.append(response)

    def receive_error(self, reason: str, key: object) -> None:
        self.errors.append(reason)


def message_to(register: Message) -> Message:
    """A MESSAGE from the registrar to the Contact of ``register``."""
    contact = register.headers["contact"][0].uri
    protocol = register.headers["via"][0].protocol
    return Message(
        RequestLine(Method.MESSAGE, contact),
        {
            "via": [Via((2, 0), protocol, SentBy(HOST, None), {"branch": create_branch()})],
            "max_forwards": 70,
            "from": NameAddr("", URI.parse("sip:registrar@example.test"), {"tag": create_tag()}),
            "to": NameAddr("", contact, {}),
            "call_id": create_call_id(),
            "cseq": CSeq(1, Method.MESSAGE),
            "content_type": MediaType(("text", "plain"), {}),
        },
        b"hello",
    )


async def load_page(url: str, profile: Path, *extra: str) -> str:
    """Open ``url`` in headless Chromium, wait until the page's script says it is done
    (its title becomes ``done``), and return the DOM.

    The page is read through the DevTools protocol (``Runtime.evaluate``, polled): a
    ``--dump-dom`` run dumps at a moment of its own choosing (virtual time does not wait
    for WebSocket traffic), which loses the race with the SIP exchange now and then.
    """
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "DevToolsActivePort").unlink(missing_ok=True)  # never a previous run's port
    process = await asyncio.create_subprocess_exec(
        chromium(),
        "--headless=new",
        "--no-sandbox",  # running as root in CI
        "--disable-gpu",
        "--no-first-run",
        "--no-proxy-server",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",  # Chromium writes the port to DevToolsActivePort
        f"--user-data-dir={profile}",
        *extra,
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        return await asyncio.wait_for(_read_when_done(profile), BROWSER_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def _read_when_done(profile: Path) -> str:
    port_file = profile / "DevToolsActivePort"
    while not port_file.exists() or not port_file.read_text().strip():
        await asyncio.sleep(0.05)
    port = int(port_file.read_text().split()[0])
    loop = asyncio.get_running_loop()
    page: str | None = None
    while page is None:
        targets = await loop.run_in_executor(None, _targets, port)
        page = next((t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"), None)
        if page is None:
            await asyncio.sleep(0.05)
    async with connect(page, proxy=None, max_size=None) as devtools:
        evaluate = _Evaluator(devtools)
        while await evaluate("document.title") != "done":
            await asyncio.sleep(0.05)
        return str(await evaluate("document.documentElement.outerHTML"))


def _targets(port: int) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
        targets: list[dict[str, Any]] = json.load(answer)
        return targets


class _Evaluator:
    """``Runtime.evaluate`` over a DevTools WebSocket; returns the value."""

    def __init__(self, devtools: ClientConnection) -> None:
        self.devtools = devtools
        self.next_id = 0

    async def __call__(self, expression: str) -> Any:
        self.next_id += 1
        await self.devtools.send(
            json.dumps(
                {
                    "id": self.next_id,
                    "method": "Runtime.evaluate",
                    "params": {"expression": expression, "returnByValue": True},
                }
            )
        )
        while True:
            reply = json.loads(await self.devtools.recv())
            if reply.get("id") == self.next_id:
                return reply["result"]["result"].get("value")


def field(dom: str, name: str) -> str:
    match = re.search(rf'<span id="{name}">(.*?)</span>', dom, re.DOTALL)
    assert match, f"no #{name} in the page:\n{dom[-2000:]}"
    return html.unescape(match.group(1))


def spki_pin(cert: trustme.LeafCert) -> str:
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's SPKI pin)."""
    certificate = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


async def browser_exchange(transport: WS, profile: Path, *extra: str) -> tuple[str, Registrar]:
    async with Stack("browser-test") as stack:
        await stack.add_transport(transport)
        registrar = Registrar(stack)
        stack.register_core(registrar)
        port = transport.local_address[1]
        with page_server() as http_port:
            url = f"http://{HOST}:{http_port}/ws_sip.html?url={transport.scheme}://{HOST}:{port}/"
            dom = await load_page(url, profile, *extra)
        if registrar.tasks:
            # The page is done once it sent its answer to the MESSAGE: let it arrive
            # (bounded: 100 polls, 50 ms apart).
            for _ in range(100):
                if registrar.responses or registrar.errors:
                    break
                await asyncio.sleep(0.05)
        return dom, registrar


def check_answered(dom: str, registrar: Registrar, protocol: str) -> None:
    requests = registrar.requests
    assert field(dom, "error") == "", dom[-2000:]
    assert field(dom, "subprotocol") == "sip"
    assert field(dom, "OPTIONS") == "SIP/2.0 200 OK"
    assert field(dom, "REGISTER") == "SIP/2.0 200 OK"
    # UTF-8 messages go to the browser as text (RFC 7118 §4.2).
    assert field(dom, "frames") == "text,text,text"  # two responses and the MESSAGE
    assert [r.start_line.method for r in requests] == [Method.OPTIONS, Method.REGISTER]  # type: ignore[union-attr]
    for request in requests:
        via = request.headers["via"][0]
        assert via.protocol == protocol
        assert via.sent_by.host.endswith(".invalid")  # the browser's own name, RFC 7118 §5.2
        assert via.params["received"] == HOST
    # The registrar reached the browser at its registered Contact, a .invalid host, over
    # the browser's own connection (RFC 7118 §5), and the browser answered.
    contact = requests[1].headers["contact"][0].uri
    assert contact.host.endswith(".invalid")
    assert field(dom, "request") == f"MESSAGE {contact} SIP/2.0"
    assert registrar.errors == []
    assert [r.start_line.status_code for r in registrar.responses] == [200]  # type: ignore[union-attr]


def test_browser_sends_options_and_register_over_ws(tmp_path: Path) -> None:
    dom, registrar = asyncio.run(browser_exchange(WS(HOST, 0), tmp_path / "profile"))
    check_answered(dom, registrar, "WS")


def test_browser_over_wss_trusting_only_the_test_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert(HOST)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    pin = f"--ignore-certificate-errors-spki-list={spki_pin(cert)}"

    dom, registrar = asyncio.run(
        browser_exchange(WSS(HOST, 0, ssl_context=context), tmp_path / "trusting", pin)
    )
    check_answered(dom, registrar, "WSS")

    # The same page without the pin: the certificate is not trusted, nothing gets through.
    dom, registrar = asyncio.run(
        browser_exchange(WSS(HOST, 0, ssl_context=context), tmp_path / "untrusting")
    )
    assert field(dom, "error") == "websocket error"
    assert field(dom, "OPTIONS") == ""
    assert registrar.requests == []
