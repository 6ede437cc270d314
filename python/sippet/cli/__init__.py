"""The ``sippet`` command (also ``python -m sippet``): ``options``, ``uas``, ``call``,
``parse``, ``passwd``, ``serve``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sippet import __version__
from sippet.cli import call, options, parse, passwd, serve, uas
from sippet.cli.common import setup_logging
from sippet.stack.runner import run as run_loop


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sippet", description="SIP tools built on the sippet library."
    )
    parser.add_argument("--version", action="version", version=f"sippet {__version__}")
    # -v works before or after the subcommand name.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,  # do not reset a -v given before the subcommand
        help="log more (-v info, -vv debug)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    options.add_arguments(
        commands.add_parser(
            "options", parents=[common], help="send OPTIONS and report the answer (like sipsak)"
        )
    )
    uas.add_arguments(
        commands.add_parser(
            "uas", parents=[common], help="answer OPTIONS, INVITE, BYE, CANCEL until stopped"
        )
    )
    call.add_arguments(
        commands.add_parser(
            "call", parents=[common], help="place one call: INVITE, ACK, BYE (follows 3xx, 401/407)"
        )
    )
    parse.add_arguments(
        commands.add_parser("parse", parents=[common], help="parse a message and show its headers")
    )
    passwd.add_arguments(
        commands.add_parser(
            "passwd", parents=[common], help="add or replace a user in a digest users file"
        )
    )
    serve.add_arguments(
        commands.add_parser(
            "serve", parents=[common], help="run a registrar and record-routing proxy"
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.verbose == 1:
        # One line per failure at -v: the stack names the transaction an ICMP error or a
        # failed send ended; the transport's own report of it waits for -vv.
        logging.getLogger("sippet.transports").setLevel(logging.WARNING)
    if getattr(args, "trace", None):
        # --trace shows messages without -v: its logger is let through on its own.
        logging.getLogger("sippet.trace").setLevel(logging.INFO)
    try:
        if args.command == "options":
            return run_loop(options.run(args))
        if args.command == "uas":
            return run_loop(uas.run(args))
        if args.command == "call":
            return run_loop(call.run(args))
        if args.command == "passwd":
            return passwd.run(args)
        if args.command == "serve":
            return serve.run(args)
        return parse.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
