"""``sippet uas``: a user agent server for tests and benchmarks; the behaviour is
``sippet.apps.uas.UASCore``, this module only reads the arguments."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path

from sippet.apps.report import TransactionReport
from sippet.apps.uas import UASCore
from sippet.auth import DEFAULT_REALM, UsersFileError
from sippet.auth.algorithms import DEFAULT_SERVER_ALGORITHMS
from sippet.cli.arguments import algorithms, final_code, non_negative_seconds, sip_uri
from sippet.cli.common import (
    add_resolver_argument,
    add_tls_arguments,
    listen_argument,
    make_resolver,
)
from sippet.cli.passwd import load_users
from sippet.errors import TransportError
from sippet.stack import Stack
from sippet.stack.runner import install_stop_signals
from sippet.stack.transport_layer import SECURE_PROTOCOLS
from sippet.transports import Transport, format_address
from sippet.transports.listen import client_ssl_context, make_transport, server_ssl_context

DESCRIPTION = """\
Answers OPTIONS (200), INVITE (180, then 200 with an SDP answer or --answer CODE), re-INVITE,
CANCEL (200 and 487), BYE (200 or 481); refuses what RFC 3261 §8.2 says an endpoint must
(405/501 with Allow, 416, 420 with Unsupported, 415 with Accept, 406). No media: the SDP
answer names ports where nothing listens, and no RTP is sent. Prints one line per
transaction (method, caller, status, time) and counters on exit."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument(
        "--listen",
        "-l",
        type=listen_argument,
        action="append",
        default=None,
        help="where to listen, repeatable: udp|tcp|tls|ws|wss:HOST:PORT "
        "(default udp:127.0.0.1:5060; IPv6: tcp:[::1]:5060); tls and wss need --cert",
    )
    add_tls_arguments(parser)
    add_resolver_argument(parser)
    parser.add_argument(
        "--answer",
        type=final_code,
        default=200,
        help="final status code for INVITE (200); sent with the header fields it requires "
        "(401/407 a challenge, 3xx Contact from --redirect, 405 Allow, 420 Unsupported, "
        "423 Min-Expires...)",
    )
    parser.add_argument(
        "--redirect",
        type=sip_uri,
        action="append",
        default=[],
        metavar="URI",
        help="Contact of a 3xx --answer (repeatable; required with a 3xx)",
    )
    parser.add_argument(
        "--ring",
        type=non_negative_seconds,
        default=None,
        help="seconds between 180 Ringing and the final response "
        "(default: a 180, then the final at once; 0: no 180)",
    )
    parser.add_argument(
        "--users",
        type=Path,
        default=None,
        metavar="FILE",
        help="challenge INVITEs with digest against this users file (sippet passwd)",
    )
    parser.add_argument(
        "--realm", default=DEFAULT_REALM, help=f"the digest realm (default: {DEFAULT_REALM})"
    )
    parser.add_argument(
        "--algorithms",
        type=algorithms,
        default=DEFAULT_SERVER_ALGORITHMS,
        help="digest challenges offered, in order (default: sha-256,md5, RFC 8760 §2.4; "
        "SIPp knows only md5)",
    )
    parser.add_argument(
        "--trace", choices=("line", "full"), default=None, help="log every message sent/received"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no line per transaction (counters only)"
    )


GC_THRESHOLDS = (100_000, 10, 10)
"""Young-generation threshold raised from CPython's 700: a loaded UAS holds every finished
transaction for Timer J (64*T1, RFC 3261 §17.2.2), tens of thousands of live objects that
the default thresholds make the collector traverse again and again (measured: the OPTIONS
path costs about twice as much with the defaults). The messages hold no reference cycles,
so garbage is still freed at once by reference counting."""


async def run(args: argparse.Namespace) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    if 300 <= args.answer <= 399 and not args.redirect:
        print("error: a 3xx --answer needs --redirect URI (its Contact)", file=sys.stderr)
        return 2
    users = None
    if args.users is not None:
        try:
            users = load_users(args.users)
        except (OSError, UnicodeDecodeError, UsersFileError) as exc:
            print(f"error: {args.users}: {exc}", file=sys.stderr)
            return 2
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
    async with Stack("uas", trace=args.trace, resolver=make_resolver(args.resolver)) as stack:
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
        report = TransactionReport(sys.stdout, quiet=args.quiet)
        core = UASCore(
            stack,
            transports,
            answer=args.answer,
            ring=args.ring,
            users=users,
            realm=args.realm,
            algorithms=args.algorithms,
            redirect=args.redirect,
            report=report,
        )
        stack.register_core(core)
        for transport in transports:
            where = format_address(transport.protocol, *transport.local_address)
            print(f"listening on {where}", flush=True)
        try:
            await stop.wait()
        finally:
            core.close()
            print(report.summary(), flush=True)
    return 0


__all__ = ["add_arguments", "run"]
