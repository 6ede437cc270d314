"""A WebSocket user and a UDP user call each other through ``sippet serve``.

The WebSocket user is a hand-written RFC 7118 client on the ``websockets`` library (not
sippet): it registers ``sip:wsuser@example.test`` with a ``.invalid`` Contact, answers an
INVITE, and places one. The UDP user is SIPp: proxy-uac.xml calling (Record-Route
required, ACK and BYE through the route set) and serve-uas.xml answering (registered with
register-contact.xml). The call crosses transports, so the node record-routes twice
(RFC 5658): one entry per side.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from interop.serve_node import ServeNode
from interop.sip_peers import DATA, HOST, Sipp, SippRun, free_tcp_port

REGISTER = DATA / "sipp" / "register-contact.xml"
UAC = DATA / "sipp" / "proxy-uac.xml"
UAS = DATA / "sipp" / "serve-uas.xml"
DOMAIN = "example.test"
TIMEOUT = 20.0


class WebSocketUser:
    """One SIP user agent over one WebSocket connection, SIP written by hand."""

    def __init__(self, socket: ClientConnection, registrar: str) -> None:
        self.socket = socket
        self.registrar = registrar
        self.name = uuid.uuid4().hex[:10] + ".invalid"
        self.contact = f"<sip:wsuser@{self.name};transport=ws>"
        self.tag = uuid.uuid4().hex[:8]

    def via(self) -> str:
        return f"Via: SIP/2.0/WS {self.name};branch=z9hG4bK{uuid.uuid4().hex}"

    async def send(self, *lines: str, body: str = "") -> None:
        await self.socket.send("\r\n".join([*lines, f"Content-Length: {len(body)}", "", body]))

    async def receive(self) -> tuple[str, dict[str, list[str]], str]:
        """The next message: start line, headers (lower-case names, all values), text."""
        text = str(await asyncio.wait_for(self.socket.recv(), TIMEOUT))
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        return head[0], headers, text

    async def final(self) -> tuple[str, dict[str, list[str]]]:
        while True:
            start, headers, _ = await self.receive()
            if not re.match(r"SIP/2\.0 1\d\d ", start):
                return start, headers

    async def register(self) -> str:
        await self.send(
            f"REGISTER {self.registrar} SIP/2.0",
            self.via(),
            "Max-Forwards: 70",
            f"From: <sip:wsuser@{DOMAIN}>;tag={self.tag}",
            f"To: <sip:wsuser@{DOMAIN}>",
            f"Call-ID: {uuid.uuid4().hex}",
            "CSeq: 1 REGISTER",
            f"Contact: {self.contact}",
            "Expires: 600",
        )
        return (await self.final())[0]

    async def answer_call(self) -> list[str]:
        """Answer one INVITE (180, 200 with its Record-Route), then take the ACK and the
        BYE (200). Returns the methods received."""
        methods = []
        start, headers, _ = await self.receive()
        methods.append(start.split()[0])
        copied = [
            f"{name}: {value}"
            for name in ("via", "from", "call-id", "cseq")
            for value in headers.get(name, [])
        ]
        record_route = [f"Record-Route: {value}" for value in headers.get("record-route", [])]
        to = f"To: {headers['to'][0]};tag={self.tag}"
        for status in ("180 Ringing", "200 OK"):
            await self.send(
                f"SIP/2.0 {status}", *copied, to, *record_route, f"Contact: {self.contact}"
            )
        while methods[-1] != "BYE":
            start, headers, _ = await self.receive()
            methods.append(start.split()[0])
        bye_copied = [
            f"{name}: {value}"
            for name in ("via", "from", "to", "call-id", "cseq")
            for value in headers.get(name, [])
        ]
        await self.send("SIP/2.0 200 OK", *bye_copied)
        return methods

    async def call(self, target: str) -> list[str]:
        """INVITE ``target``, ACK the 200 and hang up along the route set (the 200's
        Record-Route reversed, RFC 3261 §12.1.2). Returns the final status lines."""
        call_id = uuid.uuid4().hex
        common = [f"From: <sip:wsuser@{DOMAIN}>;tag={self.tag}", f"Call-ID: {call_id}"]
        await self.send(
            f"INVITE {target} SIP/2.0",
            self.via(),
            "Max-Forwards: 70",
            *common,
            f"To: <{target}>",
            "CSeq: 1 INVITE",
            f"Contact: {self.contact}",
        )
        start, headers = await self.final()
        finals = [start]
        routes = [f"Route: {value}" for value in reversed(headers.get("record-route", []))]
        remote = re.search(r"<([^>]+)>", headers["contact"][0]).group(1)  # type: ignore[union-attr]
        to = f"To: {headers['to'][0]}"
        await self.send(
            f"ACK {remote} SIP/2.0",
            self.via(),
            "Max-Forwards: 70",
            *common,
            to,
            *routes,
            "CSeq: 1 ACK",
        )
        await self.send(
            f"BYE {remote} SIP/2.0",
            self.via(),
            "Max-Forwards: 70",
            *common,
            to,
            *routes,
            "CSeq: 2 BYE",
        )
        finals.append((await self.final())[0])
        return finals


async def with_user(node: ServeNode, ws_port: int, scenario: str, tmp_path: Path) -> object:
    registrar = f"sip:{HOST}:{node.port}"
    async with connect(f"ws://{HOST}:{ws_port}/", subprotocols=["sip"]) as socket:  # type: ignore[list-item]
        user = WebSocketUser(socket, registrar)
        assert await user.register() == "SIP/2.0 200 OK"
        loop = asyncio.get_running_loop()
        if scenario == "udp calls ws":
            args = ["-sf", str(UAC), f"{HOST}:{node.port}", "-s", "wsuser"]
            caller = Sipp(tmp_path, "uac", args, calls=1, timeout=TIMEOUT)
            methods, run = await asyncio.gather(
                user.answer_call(), loop.run_in_executor(None, caller.run)
            )
            return methods, run
        callee = Sipp(tmp_path, "uas", ["-sf", str(UAS)], calls=1, timeout=TIMEOUT)
        callee.start().wait_bound()
        register = ["-sf", str(REGISTER), f"{HOST}:{node.port}", "-s", "udpuser"]
        register += ["-key", "domain", DOMAIN, "-key", "contact_port", str(callee.port)]
        bound = await loop.run_in_executor(
            None, Sipp(tmp_path, "register", register, calls=1, timeout=15).run
        )
        assert bound.stats is not None and bound.stats.successful == 1, bound.report()
        finals = await user.call(f"sip:udpuser@{DOMAIN}")
        return finals, await loop.run_in_executor(None, callee.wait)


def start_node(tmp_path: Path) -> tuple[ServeNode, int]:
    ws_port = free_tcp_port()
    extra = ["--listen", f"ws:{HOST}:{ws_port}", "--domain", DOMAIN, "--store", "memory:"]
    return ServeNode(tmp_path, extra).start(), ws_port


def test_a_udp_user_calls_a_websocket_user(tmp_path: Path) -> None:
    node, ws_port = start_node(tmp_path)
    try:
        methods, run = asyncio.run(with_user(node, ws_port, "udp calls ws", tmp_path))  # type: ignore[misc]
    finally:
        node.stop()
    assert methods == ["INVITE", "ACK", "BYE"]  # ACK and BYE came through the node
    assert [line.split(" status=")[1][:3] for line in node.transactions("BYE")] == ["200"]
    assert isinstance(run, SippRun) and run.stats is not None, run
    assert (run.stats.successful, run.stats.failed) == (1, 0), run.report()


def test_a_websocket_user_calls_a_udp_user(tmp_path: Path) -> None:
    node, ws_port = start_node(tmp_path)
    try:
        finals, run = asyncio.run(with_user(node, ws_port, "ws calls udp", tmp_path))  # type: ignore[misc]
    finally:
        node.stop()
    assert finals == ["SIP/2.0 200 OK", "SIP/2.0 200 OK"]  # the INVITE's and the BYE's
    # The BYE followed the route set through the node (double record-routing, RFC 5658).
    assert [line.split(" status=")[1][:3] for line in node.transactions("BYE")] == ["200"]
    assert isinstance(run, SippRun) and run.stats is not None, run
    assert (run.stats.successful, run.stats.failed) == (1, 0), run.report()
