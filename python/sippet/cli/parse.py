"""``sippet parse [FILE]``: parse one message and show its typed headers.

Reads FILE (or standard input), prints the start line, each header under its canonical name
with its typed value, the body size, and whether the message passes ``sippet.validation``.
Exit status 1 when the bytes do not parse (the ParseError reason and status are printed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from sippet.errors import ParseError, ValidationError
from sippet.headers import CANONICAL_NAMES
from sippet.message import Message, RequestLine
from sippet.validation import validate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="the message (default: standard input)")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if args.file is None or args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            with open(args.file, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        message = Message.parse(data)
    except ParseError as exc:
        print(f"parse error: {exc.reason} (answer {exc.status_code})", file=out)
        print(f"  {exc}", file=out)
        if exc.header:
            print(f"  header: {exc.header}", file=out)
        return 1
    show(message, out)
    return 0


def show(message: Message, out: TextIO) -> None:
    start = message.start_line
    if isinstance(start, RequestLine):
        major, minor = start.version
        print(f"request: {start.method} {start.request_uri} SIP/{major}.{minor}", file=out)
    else:
        major, minor = start.version
        print(f"response: SIP/{major}.{minor} {start.status_code} {start.reason_phrase}", file=out)
    width = max((len(_name(key)) for key in message.headers), default=0)
    for key, value in message.headers.items():
        print(f"  {_name(key):<{width}}  {_pretty(value)}", file=out)
    print(f"body: {len(message.body)} bytes", file=out)
    try:
        validate(message)
    except ValidationError as exc:
        print(f"validation: {exc.reason} (answer {exc.status_code}): {exc}", file=out)
    else:
        print("validation: ok", file=out)


def _name(key: str) -> str:
    return CANONICAL_NAMES.get(key, key)


def _pretty(value: Any) -> str:
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(isinstance(item, str) for item in value):
            return repr(value)
        return "[" + ", ".join(_pretty(item) for item in value) + "]"
    return repr(value)
