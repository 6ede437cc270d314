"""``sippet options URI``: ping a SIP element with OPTIONS, like ``sipsak`` (RFC 3261 §11).

Prints, for each request, the status, reason, round-trip time and the peer's Server,
User-Agent and Allow. Exit status: 0 when every answer was 2xx, 1 when one was not, 2 on a
timeout or an error (nothing answered, unreachable, unresolvable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import TextIO

from sippet import __version__
from sippet.cli.arguments import non_negative_seconds, positive_int, positive_seconds
from sippet.cli.client import (
    WEBSOCKET_PROTOCOLS,
    ClientError,
    add_client_arguments,
    open_client,
    target_uri,
)
from sippet.cli.common import make_resolver
from sippet.errors import TransactionError, TransportError
from sippet.headers import CSeq, MediaType, NameAddr, SentBy, Via
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.stack import Core, Stack
from sippet.stack.transport_layer import SECURE_PROTOCOLS
from sippet.transactions import ClientKey
from sippet.uri import URI

EXIT_OK = 0
EXIT_NOT_2XX = 1
EXIT_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "uri",
        help="the target, e.g. sip:127.0.0.1:5060 (sip: may be left out); the transport "
        "follows the URI: sips: or ;transport=tcp|tls|ws|wss",
    )
    parser.add_argument("--count", "-c", type=positive_int, default=1, help="requests to send (1)")
    parser.add_argument(
        "--interval",
        "-i",
        type=non_negative_seconds,
        default=1.0,
        help="seconds between requests (1)",
    )
    parser.add_argument(
        "--timeout",
        "-t",
        type=positive_seconds,
        default=5.0,
        help="seconds to wait for an answer (5)",
    )
    parser.add_argument(
        "--full",
        "-F",
        action="store_true",
        help="print every header field and the body of each answer (like sipsak -vv)",
    )
    parser.add_argument(
        "--trace", choices=("line", "full"), default=None, help="log every message sent/received"
    )
    add_client_arguments(parser)


class _Pinger(Core):
    """Waits for the final response (or the error) of the one request in flight."""

    def __init__(self) -> None:
        self.key: ClientKey | None = None
        self.waiter: asyncio.Future[Message] | None = None

    def receive_response(self, response: Message, client_key: ClientKey | None) -> None:
        waiter = self.waiter
        status = response.start_line
        if (
            waiter is not None
            and not waiter.done()
            and client_key == self.key
            and getattr(status, "status_code", 0) >= 200
        ):
            waiter.set_result(response)

    def receive_error(self, reason: str, key: object) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done() and key == self.key:
            waiter.set_exception(TransportError(reason, reason=reason))


async def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    loop = asyncio.get_running_loop()
    pinger = _Pinger()
    async with Stack("options", trace=args.trace, resolver=make_resolver(args.resolver)) as stack:
        try:
            client = await open_client(stack, args)
        except ClientError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        protocol, where = client.protocol, client.where
        uri = target_uri(args.uri)
        stack.register_core(pinger)
        local_host, local_port = client.local_host, client.local_port
        call_id = create_call_id()
        from_tag = create_tag()
        worst = EXIT_OK
        rtts: list[float] = []
        for number in range(1, args.count + 1):
            request = _build_request(
                uri, protocol, local_host, local_port, call_id, from_tag, number
            )
            waiter: asyncio.Future[Message] = loop.create_future()
            pinger.waiter = waiter
            started = loop.time()
            pinger.key = await stack.send(request)
            try:
                response = await asyncio.wait_for(waiter, args.timeout)
            except TimeoutError:
                print(
                    f"timeout: no answer from {where} within {args.timeout:g} s",
                    file=out,
                )
                _end(stack, pinger.key)
                worst = EXIT_ERROR
            except TransportError as exc:
                print(f"error: {exc.reason} ({where})", file=out)
                worst = EXIT_ERROR
            else:
                rtt = (loop.time() - started) * 1000.0
                rtts.append(rtt)
                code = _report(response, rtt, out, full=args.full)
                if not 200 <= code <= 299:
                    worst = max(worst, EXIT_NOT_2XX)
            out.flush()
            if number < args.count:
                await asyncio.sleep(args.interval)
        if args.count > 1:
            summary = f"{args.count} sent, {len(rtts)} answered"
            if rtts:
                summary += (
                    f", rtt min/avg/max = {min(rtts):.3f}/{sum(rtts) / len(rtts):.3f}/"
                    f"{max(rtts):.3f} ms"
                )
            print(summary, file=out)
    return worst


def _end(stack: Stack, key: ClientKey | None) -> None:
    if key is None:
        return
    with contextlib.suppress(TransactionError):  # it may be over already
        stack.terminate(key)


def _build_request(
    uri: URI, protocol: str, host: str, port: int, call_id: str, from_tag: str, seq: int
) -> Message:
    # Port 0: a client-only transport (TLS without a certificate, WS, WSS). The answer
    # comes back on the connection, so the sent-by carries no port.
    sent_port = port or None
    local = URI(
        uri.scheme if protocol in SECURE_PROTOCOLS else "sip",
        "sippet",
        None,
        host,
        sent_port,
        {"transport": "ws"} if protocol in WEBSOCKET_PROTOCOLS else {},  # RFC 7118 §5.2
    )
    return Message(
        RequestLine(Method.OPTIONS, uri),
        {
            # RFC 3581: rport asks the peer to answer to the port we really sent from.
            "via": [
                Via(
                    (2, 0),
                    protocol,
                    SentBy(host, sent_port),
                    {"branch": create_branch(), "rport": None},
                )
            ],
            "max_forwards": 70,
            "from": NameAddr("", local, {"tag": from_tag}),
            "to": NameAddr("", uri, {}),
            "call_id": call_id,
            "cseq": CSeq(seq, Method.OPTIONS),
            "contact": [NameAddr("", local, {})],
            "accept": [MediaType(("application", "sdp"), {})],
            "user_agent": f"sippet/{__version__}",
        },
    )


def _report(response: Message, rtt: float, out: TextIO, *, full: bool = False) -> int:
    status = response.start_line
    code = getattr(status, "status_code", 0)
    reason = getattr(status, "reason_phrase", "")
    print(f"{code} {reason} ({rtt:.3f} ms)", file=out)
    if full:
        # The message as it would go on the wire: every header field, then the body.
        head, _, body = bytes(response).decode("utf-8", "replace").partition("\r\n\r\n")
        for line in head.split("\r\n")[1:]:
            print(f"  {line}", file=out)
        if body:
            print("", file=out)
            for line in body.splitlines():
                print(f"  {line}", file=out)
        return int(code)
    headers = response.headers
    for key, name in (("server", "Server"), ("user_agent", "User-Agent")):
        if key in headers:
            print(f"  {name}: {headers[key]}", file=out)
    if "allow" in headers:
        print(f"  Allow: {', '.join(str(m) for m in headers['allow'])}", file=out)
    return int(code)
