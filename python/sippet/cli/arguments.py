"""Argument types shared by the subcommands: each refuses a bad value with a usage error
(``argparse`` prints it and exits 2) instead of a traceback later."""

from __future__ import annotations

import argparse
import math

from sippet.auth import Algorithm, parse_algorithm_list
from sippet.cli.common import host_port_argument
from sippet.errors import ParseError
from sippet.transports.base import Address
from sippet.uri import URI


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds (0 or more), not {text!r}")
    return value


def positive_seconds(text: str) -> float:
    value = non_negative_seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected seconds above 0, not 0")
    return value


def bind_address(text: str) -> Address:
    """``HOST:PORT``, ``HOST``, ``[V6]:PORT``, ``[V6]``; port 0 or absent: any port."""
    return host_port_argument(text, 0)


def final_code(text: str) -> int:
    if not text.isdigit() or not 200 <= int(text) <= 699:
        raise argparse.ArgumentTypeError(f"a final status code is 200-699, not {text!r}")
    return int(text)


def algorithms(text: str) -> tuple[Algorithm, ...]:
    try:
        return parse_algorithm_list(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def sip_uri(text: str) -> URI:
    """A SIP URI; ``sip:`` may be left out (``127.0.0.1:5060``, ``alice@example.com``)."""
    if ":" not in text or text.split(":", 1)[0].lower() not in ("sip", "sips"):
        text = "sip:" + text
    try:
        return URI.parse(text)
    except (ParseError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"not a SIP URI: {text!r} ({exc})") from None
