"""``sippet call URI``: place one call (INVITE with an SDP offer, ACK, ``--duration``
seconds, BYE), following 3xx and answering 401/407 with ``--user``/``--password``; the
behaviour is ``sippet.apps.call``, this module reads the arguments.

Prints each response (``INVITE 180 Ringing (12.345 ms)``). Exit status: 0 when the call
was set up and ended cleanly, 1 when it was refused or its BYE failed, 2 on a timeout or
an error.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sippet.apps.call import EXIT_ERROR, CallSettings, place_call
from sippet.cli.arguments import non_negative_seconds, positive_seconds
from sippet.cli.client import ClientError, add_client_arguments, open_client, target_uri
from sippet.cli.common import make_resolver
from sippet.endpoint.uac import LocalAddress
from sippet.stack import Stack


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "uri",
        help="whom to call, e.g. sip:bob@127.0.0.1:5060 (sip: may be left out); the "
        "transport follows the URI: sips: or ;transport=tcp|tls",
    )
    parser.add_argument(
        "--duration",
        "-d",
        type=non_negative_seconds,
        default=0.0,
        help="seconds between the ACK and the BYE (0)",
    )
    parser.add_argument(
        "--timeout",
        "-t",
        type=positive_seconds,
        default=32.0,
        help="seconds to wait for the final response to the INVITE, and to the BYE (32)",
    )
    parser.add_argument("--user", "-u", default=None, help="digest username (401/407)")
    parser.add_argument(
        "--password",
        "-p",
        default="",
        help="digest password (visible to other local users on the command line)",
    )
    parser.add_argument(
        "--trace", choices=("line", "full"), default=None, help="log every message sent/received"
    )
    add_client_arguments(parser)


async def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    async with Stack("call", trace=args.trace, resolver=make_resolver(args.resolver)) as stack:
        try:
            client = await open_client(stack, args)
        except ClientError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        local = LocalAddress(client.protocol, client.local_host, client.local_port or None)
        settings = CallSettings(
            duration=args.duration, timeout=args.timeout, user=args.user, password=args.password
        )
        return await place_call(stack, target_uri(args.uri), local, settings, out)


__all__ = ["add_arguments", "run"]
