"""``sippet uas``: a user agent server for tests and benchmarks (RFC 3261 §8.2, §13.3).

- OPTIONS: 200 with Allow, Accept, Supported (§11.2).
- INVITE: 180 Ringing with a To tag, then after ``--ring`` seconds the final response: 200
  with an SDP answer (default) or ``--answer CODE``. The UAS core itself retransmits the 200
  until the ACK arrives (§13.3.1.4: T1 doubling up to T2); after 64*T1 without an ACK it
  gives up and ends the call with a BYE.
- CANCEL of a ringing INVITE: 200 for the CANCEL and 487 for the INVITE (§9.2).
- BYE: 200 for a known dialog, 481 otherwise.
- Other methods: 405 with Allow when sippet knows the method, 501 with Allow when it does
  not (§8.2.1); a Require with option tags we do not support: 420 with Unsupported
  (§8.2.2.3, RFC 4475 §3.3.? bext01).

The per-request path for OPTIONS is kept short (plain callbacks, no task per message):
``sippet uas`` is what the throughput benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sippet import __version__
from sippet.cli.common import (
    add_tls_arguments,
    client_ssl_context,
    install_stop_signals,
    local_address_towards,
    make_transport,
    parse_listen,
    server_ssl_context,
)
from sippet.errors import SippetError, TransportError
from sippet.headers import CSeq, MediaType, NameAddr, SentBy, Via
from sippet.ids import create_branch, create_tag
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.resolver import literal_address
from sippet.responses import response_to
from sippet.stack import Core, Stack
from sippet.stack.transport_layer import SECURE_PROTOCOLS
from sippet.transactions import ClientKey, ServerKey, TimerSettings
from sippet.transports import Transport, format_address
from sippet.uri import URI

logger = logging.getLogger("sippet.uas")

ALLOW = [Method.INVITE, Method.ACK, Method.BYE, Method.CANCEL, Method.OPTIONS]
SUPPORTED: list[str] = []  # no extension is implemented; Require of anything gets a 420
MAX_DIALOGS = 10_000
"""Confirmed dialogs kept for their BYE; beyond this the oldest are forgotten (a caller that
never hangs up must not grow the UAS without bound)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        "-l",
        type=parse_listen,
        action="append",
        default=None,
        help="where to listen, repeatable: udp|tcp|tls|ws|wss:HOST:PORT "
        "(default udp:127.0.0.1:5060; IPv6: tcp:[::1]:5060); tls and wss need --cert",
    )
    add_tls_arguments(parser)
    parser.add_argument(
        "--answer", type=_final_code, default=200, help="final status code for INVITE (200)"
    )
    parser.add_argument(
        "--ring", type=float, default=0.0, help="seconds between 180 Ringing and the final (0)"
    )
    parser.add_argument(
        "--trace", choices=("line", "full"), default=None, help="log every message sent/received"
    )


def reply(request: Message, code: int, to_tag: str | None = None) -> Message:
    """A response to ``request`` (RFC 3261 §8.2.6.2) that shares the request's header values
    (the request is never changed after it is answered, so sharing is safe)."""
    return response_to(request, code, to_tag=to_tag, share=True)


def _final_code(text: str) -> int:
    if not text.isdigit() or not 200 <= int(text) <= 699:
        raise argparse.ArgumentTypeError(f"a final status code is 200-699, not {text!r}")
    return int(text)


class _Call:
    """An INVITE between its 180 and its final response."""

    __slots__ = ("key", "request", "tag", "timer")

    def __init__(self, request: Message, key: ServerKey, tag: str) -> None:
        self.request = request
        self.key = key
        self.tag = tag
        self.timer: asyncio.TimerHandle | None = None


class _Dialog:
    """A dialog the UAS answered with 2xx: retransmitted until ACKed, then kept until BYE."""

    __slots__ = ("acked", "give_up_at", "interval", "request", "response", "tag", "timer")

    def __init__(self, request: Message, response: Message, tag: str, t1: float, now: float):
        self.request = request
        self.response = response
        self.tag = tag
        self.acked = False
        self.interval = t1
        self.give_up_at = now + 64 * t1
        self.timer: asyncio.TimerHandle | None = None


class UASCore(Core):
    """The behaviour described in the module docstring."""

    def __init__(
        self,
        stack: Stack,
        transport: Transport,
        *,
        answer: int = 200,
        ring: float = 0.0,
        timers: TimerSettings | None = None,
    ) -> None:
        self.stack = stack
        self.transport = transport
        self.answer = answer
        self.ring = ring
        self.timers = timers if timers is not None else stack.timers
        self.loop = asyncio.get_running_loop()
        self.calls: dict[ServerKey, _Call] = {}
        self.dialogs: OrderedDict[tuple[str, str], _Dialog] = OrderedDict()
        self._towards: dict[str, str] = {}
        self._extra_options: dict[str, Any] = {
            "allow": ALLOW,
            "accept": [MediaType(("application", "sdp"), {})],
            "supported": SUPPORTED,
            "server": f"sippet/{__version__}",
        }
        self._server = f"sippet/{__version__}"
        self._handlers: dict[Method | str, Callable[[Message, Any], None]] = {
            Method.OPTIONS: self._options,
            Method.INVITE: self._invite,
            Method.BYE: self._bye,
            Method.CANCEL: self._cancel,
            Method.ACK: self._ack,
        }

    def close(self) -> None:
        for call in self.calls.values():
            if call.timer is not None:
                call.timer.cancel()
        for dialog in self.dialogs.values():
            if dialog.timer is not None:
                dialog.timer.cancel()
        self.calls.clear()
        self.dialogs.clear()

    # -- Core -----------------------------------------------------------------------------

    def receive_request(self, request: Message, server_key: ServerKey | None) -> None:
        method = request.start_line.method  # type: ignore[union-attr]
        if server_key is None:
            if method == Method.ACK:
                self._ack(request, None)
            return
        handler = self._handlers.get(method)
        if handler is None:
            # RFC 3261 §8.2.1: 405 for a method we know but do not serve, 501 otherwise.
            code = 405 if isinstance(method, Method) else 501
            self._reply(request, code, {"allow": ALLOW})
            return
        if method is not Method.CANCEL and method is not Method.ACK:
            required = request.headers.get("require")
            if required:
                # RFC 3261 §8.2.2.3: every option tag we do not support goes in Unsupported.
                unknown = [tag for tag in required if tag not in SUPPORTED]
                if unknown:
                    self._reply(request, 420, {"unsupported": unknown})
                    return
        handler(request, server_key)

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        return None  # only BYEs are sent; their answers need no action

    def receive_error(self, reason: str, key: ClientKey | ServerKey) -> None:
        logger.info("transaction %s failed: %s", key, reason)
        if isinstance(key, ServerKey):
            call = self.calls.pop(key, None)
            if call is not None and call.timer is not None:
                call.timer.cancel()

    # -- methods --------------------------------------------------------------------------

    def _options(self, request: Message, key: ServerKey) -> None:
        response = reply(request, 200)
        response.headers.update(self._extra_options)
        self._send(response)

    def _invite(self, request: Message, key: ServerKey) -> None:
        to_tag = request.headers["to"].params.get("tag")
        if to_tag is not None:
            # A re-INVITE: answer it at once within the dialog, or 481 (§12.2.2).
            dialog = self.dialogs.get((request.headers["call_id"], to_tag))
            if dialog is None:
                self._reply(request, 481)
                return
            self._final(_Call(request, key, to_tag))
            return
        call = _Call(request, key, create_tag())
        self.calls[key] = call
        ringing = reply(request, 180, call.tag)
        ringing.headers["contact"] = [self._contact(request)]
        self._send(ringing)
        if self.ring > 0:
            call.timer = self.loop.call_later(self.ring, self._final, call)
        else:
            self._final(call)

    def _final(self, call: _Call) -> None:
        self.calls.pop(call.key, None)
        call.timer = None
        request = call.request
        code = self.answer
        response = reply(request, code, call.tag)
        response.headers["server"] = self._server
        if not 200 <= code <= 299:
            self._send(response)  # the transaction retransmits it and absorbs the ACK
            return
        response.headers["contact"] = [self._contact(request)]
        response.headers["content_type"] = MediaType(("application", "sdp"), {})
        response.body = self._sdp(request)
        self._send(response)
        # RFC 3261 §13.3.1.4: the UAS core retransmits a 2xx until the ACK.
        dialog = _Dialog(request, response, call.tag, self.timers.t1, self.loop.time())
        dialog_id = (request.headers["call_id"], call.tag)
        previous = self.dialogs.get(dialog_id)
        if previous is not None and previous.timer is not None:
            previous.timer.cancel()  # a re-INVITE's 200 replaces the earlier one
        self.dialogs[dialog_id] = dialog
        self.dialogs.move_to_end(dialog_id)
        while len(self.dialogs) > MAX_DIALOGS:
            _, oldest = self.dialogs.popitem(last=False)
            if oldest.timer is not None:
                oldest.timer.cancel()
        dialog.timer = self.loop.call_later(dialog.interval, self._retransmit, dialog_id)

    def _retransmit(self, dialog_id: tuple[str, str]) -> None:
        dialog = self.dialogs.get(dialog_id)
        if dialog is None or dialog.acked:
            return
        dialog.timer = None
        if self.loop.time() >= dialog.give_up_at:
            # §13.3.1.4: no ACK after 64*T1: the dialog is confirmed but must end with a BYE.
            logger.info(
                "no ACK for %s after %.1f s: sending BYE", dialog_id[0], 64 * self.timers.t1
            )
            self.dialogs.pop(dialog_id, None)
            self._spawn_bye(dialog)
            return
        self._send(dialog.response)
        dialog.interval = min(dialog.interval * 2, self.timers.t2)
        # Wake no later than the give-up instant, so the BYE leaves at 64*T1, not after it.
        delay = min(dialog.interval, max(dialog.give_up_at - self.loop.time(), 0.0))
        dialog.timer = self.loop.call_later(delay, self._retransmit, dialog_id)

    def _ack(self, request: Message, key: ServerKey | None) -> None:
        tag = request.headers["to"].params.get("tag")
        dialog = self.dialogs.get((request.headers["call_id"], tag or ""))
        if dialog is None:
            return
        dialog.acked = True
        if dialog.timer is not None:
            dialog.timer.cancel()
            dialog.timer = None

    def _bye(self, request: Message, key: ServerKey) -> None:
        tag = request.headers["to"].params.get("tag")
        dialog = self.dialogs.pop((request.headers["call_id"], tag or ""), None)
        if dialog is None:
            self._reply(request, 481)
            return
        if dialog.timer is not None:
            dialog.timer.cancel()
        self._reply(request, 200)

    def _cancel(self, request: Message, key: ServerKey) -> None:
        invite_key = self.stack.layer.find_invite_for_cancel(request)
        if invite_key is None:
            self._reply(request, 481)  # §9.2: no matching transaction
            return
        self._reply(request, 200)
        call = self.calls.pop(invite_key, None)
        if call is None:
            return  # already answered: the CANCEL has no effect
        if call.timer is not None:
            call.timer.cancel()
        self._send(reply(call.request, 487, call.tag))

    # -- helpers ------------------------------------------------------------------------

    def _reply(self, request: Message, code: int, extra: dict[str, Any] | None = None) -> None:
        response = reply(request, code)
        if extra:
            response.headers.update(extra)
        response.headers["server"] = self._server
        self._send(response)

    def _send(self, response: Message) -> None:
        try:
            self.stack.send_response(response)
        except SippetError as exc:
            # The transaction may be gone (timed out, or ended by a CANCEL race).
            logger.info("cannot send %s: %s", response.start_line, exc)

    def _local_host(self, request: Message) -> str:
        """Our address as the caller reaches it, for Contact and SDP: the bound address, or
        when bound to a wildcard, the local address the OS routes towards the caller."""
        host, _port = self.transport.local_address
        if host not in ("0.0.0.0", "::"):
            return host
        via = request.headers["via"][0]
        remote = via.params.get("received") or via.sent_by.host
        if literal_address(remote, 5060) is None:
            return host  # a name: resolving it here would block the loop
        local = self._towards.get(remote)
        if local is None:
            local = local_address_towards(self.transport.family, remote, 5060) or host
            if len(self._towards) >= 1024:
                self._towards.clear()
            self._towards[remote] = local
        return local

    def _contact(self, request: Message) -> NameAddr:
        _host, port = self.transport.local_address
        return NameAddr("", URI("sip", "sippet", None, self._local_host(request), port), {})

    def _sdp(self, request: Message) -> bytes:
        return sdp_answer(request.body, self._local_host(request))

    def _spawn_bye(self, dialog: _Dialog) -> None:
        bye = build_bye(
            dialog.request,
            dialog.tag,
            self._local_host(dialog.request),
            self.transport.local_address[1],
        )
        task = self.loop.create_task(self._send_bye(bye))
        task.add_done_callback(_log_task_failure)

    async def _send_bye(self, bye: Message) -> None:
        try:
            await self.stack.send(bye)
        except SippetError as exc:
            logger.warning("cannot send BYE: %s", exc)


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("task failed", exc_info=task.exception())


def build_bye(invite: Message, local_tag: str, host: str, port: int) -> Message:
    """A BYE from the UAS side of the dialog ``invite`` created (RFC 3261 §12.2.1.1, §15.1.1).

    Request-URI: the caller's Contact; route set: the INVITE's Record-Route, in order (the
    UAS keeps it as is, §12.1.1); From is our To (with our tag), To is their From.
    """
    headers = invite.headers
    contacts = headers.get("contact")
    remote_target = (
        contacts[0].uri if isinstance(contacts, list) and contacts else headers["from"].uri
    )
    to = headers["to"]
    bye_headers: dict[str, Any] = {
        "via": [Via((2, 0), "UDP", SentBy(host, port), {"branch": create_branch(), "rport": None})],
        "max_forwards": 70,
        "from": NameAddr(to.display_name, to.uri, {**to.params, "tag": local_tag}),
        "to": headers["from"],
        "call_id": headers["call_id"],
        "cseq": CSeq(1, Method.BYE),
    }
    if headers.get("record_route"):
        bye_headers["route"] = list(headers["record_route"])
    return Message(RequestLine(Method.BYE, remote_target), bye_headers)


def sdp_answer(offer: bytes, address: str) -> bytes:
    """An SDP answer (RFC 3264 §6) accepting the first format of each offered stream.

    The streams are not really served (no RTP is sent); the ports are plausible, distinct
    even numbers. Without an offer, a single PCMU audio offer is returned.
    """
    family = "IP6" if ":" in address else "IP4"
    session = int(time.time())
    lines = [
        "v=0",
        f"o=sippet {session} {session} IN {family} {address}",
        "s=sippet",
        f"c=IN {family} {address}",
        "t=0 0",
    ]
    media = [
        line for line in offer.decode("utf-8", "replace").splitlines() if line.startswith("m=")
    ]
    rtpmaps = {
        line.split(":", 1)[1].split(" ", 1)[0]: line
        for line in offer.decode("utf-8", "replace").splitlines()
        if line.startswith("a=rtpmap:")
    }
    if not media:
        media = ["m=audio 0 RTP/AVP 0"]
        rtpmaps = {"0": "a=rtpmap:0 PCMU/8000"}
    for index, line in enumerate(media):
        fields = line[2:].split()
        if len(fields) < 4:
            lines.append(f"m={fields[0] if fields else 'audio'} 0 RTP/AVP 0")
            continue
        kind, _port, proto, first = fields[0], fields[1], fields[2], fields[3]
        lines.append(f"m={kind} {40000 + 2 * index} {proto} {first}")
        if first in rtpmaps:
            lines.append(rtpmaps[first])
    return ("\r\n".join(lines) + "\r\n").encode()


GC_THRESHOLDS = (100_000, 10, 10)
"""Young-generation threshold raised from CPython's 700: a loaded UAS holds every finished
transaction for Timer J (64*T1, RFC 3261 §17.2.2), tens of thousands of live objects that
the default thresholds make the collector traverse again and again (measured: the OPTIONS
path costs about twice as much with the defaults). The messages hold no reference cycles,
so garbage is still freed at once by reference counting."""


async def run(args: argparse.Namespace) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    listens: list[tuple[str, tuple[str, int]]] = args.listen or [("UDP", ("127.0.0.1", 5060))]
    secure = any(protocol in SECURE_PROTOCOLS for protocol, _address in listens)
    if secure and not args.cert:
        print("error: tls: and wss: need --cert (and --key)", file=sys.stderr)
        return 2
    try:
        server_context = server_ssl_context(args.cert, args.key) if args.cert else None
        client_context = client_ssl_context(args.ca)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        print(f"error: cannot load the TLS certificate or CA: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    install_stop_signals(stop)
    async with Stack("uas", trace=args.trace) as stack:
        transports: list[Transport] = []
        try:
            for protocol, address in listens:
                transport = make_transport(
                    protocol,
                    address,
                    server_context=server_context,
                    client_context=client_context,
                )
                transports.append(await stack.add_transport(transport))
        except (TransportError, ImportError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        core = UASCore(stack, transports[0], answer=args.answer, ring=args.ring)
        stack.register_core(core)
        for transport in transports:
            where = format_address(transport.protocol, *transport.local_address)
            print(f"listening on {where}", flush=True)
        try:
            await stop.wait()
        finally:
            core.close()
    return 0


__all__ = ["UASCore", "add_arguments", "build_bye", "reply", "run", "sdp_answer"]
