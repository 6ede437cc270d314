"""``sippet serve``: argument parsing only; the application is ``sippet.apps.serve``.

``sippet.apps.serve`` is imported inside the functions, so that the other subcommands do
not load the server, its location stores and its metrics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sippet.auth import Algorithm, parse_algorithm_list
from sippet.cli.common import (
    add_tls_arguments,
    host_port_argument,
    listen_argument,
    nameserver_argument,
)

if TYPE_CHECKING:
    from sippet.apps.serve.settings import ServeSettings


def _metrics_address(text: str) -> tuple[str, int]:
    return host_port_argument(text, 9060)


def _algorithms(text: str) -> tuple[Algorithm, ...]:
    try:
        return parse_algorithm_list(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        "-l",
        type=listen_argument,
        action="append",
        default=None,
        help="where to listen, repeatable: udp|tcp|tls|ws|wss:HOST:PORT "
        "(default udp:127.0.0.1:5060 and tcp:127.0.0.1:5060)",
    )
    parser.add_argument(
        "--domain",
        action="append",
        default=None,
        help="a domain served, repeatable (default: any domain)",
    )
    parser.add_argument(
        "--store",
        default=None,
        help="location store: sqlite:PATH, redis://HOST:PORT/DB or memory: "
        "(default: an SQLite file under $XDG_STATE_HOME/sippet, printed at start)",
    )
    parser.add_argument(
        "--users", type=Path, default=None, help="digest users file (written by sippet passwd)"
    )
    parser.add_argument("--realm", default=None, help="digest realm (default: the first domain)")
    parser.add_argument(
        "--algorithms",
        type=_algorithms,
        default=None,
        help="digest challenges offered, in order of preference (default sha-256,md5)",
    )
    add_tls_arguments(parser)
    parser.add_argument(
        "--no-relay",
        dest="relay",
        action="store_const",
        const=False,
        default=None,
        help="refuse requests for other domains (403) instead of relaying them",
    )
    parser.add_argument(
        "--resolver",
        type=nameserver_argument,
        default=None,
        metavar="HOST:PORT",
        help="the DNS server that locates the servers requests go to (RFC 3263, with "
        "fail-over; default: the system's name servers)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes sharing the ports and store (1)"
    )
    parser.add_argument(
        "--metrics",
        type=_metrics_address,
        default=None,
        help="serve Prometheus metrics on HOST:PORT",
    )
    parser.add_argument(
        "--trace", choices=("line", "full"), default=None, help="log every message sent/received"
    )
    parser.add_argument(
        "--quiet",
        action="store_const",
        const=True,
        default=None,
        help="no line per transaction on stdout",
    )
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML)")


def settings_from(args: argparse.Namespace) -> ServeSettings:
    """The settings: the defaults, then the --config file, then the flags given."""
    from sippet.apps.serve.settings import ServeSettings, from_table, merge, read_config

    settings = ServeSettings()
    if args.config is not None:
        settings = merge(settings, from_table(read_config(args.config), str(args.config)))
    flags: dict[str, Any] = {
        "listen": tuple(args.listen) if args.listen else None,
        "domains": tuple(args.domain) if args.domain else None,
        "store": args.store,
        "users": args.users,
        "realm": args.realm,
        "algorithms": args.algorithms,
        "cert": None if args.cert is None else Path(args.cert),
        "key": None if args.key is None else Path(args.key),
        "ca": None if args.ca is None else Path(args.ca),
        "relay": args.relay,
        "resolver": args.resolver,
        "workers": args.workers,
        "metrics": args.metrics,
        "trace": args.trace,
        "quiet": args.quiet,
    }
    return merge(settings, flags).checked()


def run(args: argparse.Namespace) -> int:
    from sippet.apps.serve.settings import ServeError
    from sippet.apps.serve.workers import run_serve

    try:
        return run_serve(settings_from(args))
    except ServeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
