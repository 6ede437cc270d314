"""``sippet passwd FILE USER``: add or replace a user in a users file (docs/auth.md).

The file keeps HA1 = H(user:realm:password) for each algorithm, never the password. The
password comes from ``--password`` or standard input (prompted twice on a terminal, else the
first line). The file is replaced atomically (written beside it, flushed, renamed over it)
and is readable by its owner only (0600): an HA1 is enough to authenticate in its realm.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from sippet.auth import (
    BASE_ALGORITHMS,
    DEFAULT_REALM,
    Algorithm,
    Users,
    UsersFileError,
    parse_algorithm_list,
)
from sippet.auth.users import MAX_USERS_FILE_BYTES

_FILE_MODE = 0o600


def _algorithms(text: str) -> tuple[Algorithm, ...]:
    try:
        chosen = parse_algorithm_list(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    # A -sess variant uses its base algorithm's HA1: store that.
    return tuple(dict.fromkeys(algorithm.base for algorithm in chosen))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the users file (created if missing)")
    parser.add_argument("user", help="the username")
    parser.add_argument(
        "--realm", default=DEFAULT_REALM, help=f"the realm (default: {DEFAULT_REALM})"
    )
    parser.add_argument(
        "--password",
        help="the password (default: read from standard input; note that a password on "
        "the command line is visible to other local users)",
    )
    parser.add_argument(
        "--algorithms",
        type=_algorithms,
        default=BASE_ALGORITHMS,
        help="comma-separated base algorithms to store HA1 for "
        "(default: md5,sha-256,sha-512-256; -sess variants use the same HA1)",
    )
    parser.add_argument(
        "--delete", action="store_true", help="remove the user from the realm instead"
    )


def run(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    path: Path = args.file
    try:
        users = load_users(path, missing_ok=True)
    except (OSError, UnicodeDecodeError, UsersFileError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    if args.delete:
        if not users.remove(args.user, args.realm):
            print(f"error: no user {args.user!r} in realm {args.realm!r}", file=sys.stderr)
            return 1
        action = "removed"
    else:
        password = args.password
        if password is None:
            password = _read_password(sys.stdin if stdin is None else stdin)
        if not password:
            print("error: empty password", file=sys.stderr)
            return 2
        action = "replaced" if (args.user, args.realm) in users else "added"
        users.set_password(args.user, args.realm, password, args.algorithms)
    try:
        _write_atomically(path, users.dump())
    except OSError as exc:
        print(f"error: cannot write {path}: {exc}", file=sys.stderr)
        return 2
    print(f"{action} {args.user!r} in realm {args.realm!r} ({path})", file=out or sys.stdout)
    return 0


def load_users(path: Path, *, missing_ok: bool = False) -> Users:
    """Read a users file (for ``sippet passwd`` and ``sippet uas --users``). Raises
    ``OSError`` (a missing file only without ``missing_ok``), ``UnicodeDecodeError`` or
    ``UsersFileError``; reads at most ``MAX_USERS_FILE_BYTES`` + 1 bytes, so a larger file
    is refused by ``Users.parse`` without being read whole."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_USERS_FILE_BYTES + 1)
    except FileNotFoundError:
        if missing_ok:
            return Users()
        raise
    return Users.parse(data.decode("utf-8"))


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            return ""
        return first
    return stdin.readline().rstrip("\r\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write beside ``path`` with mode 0600, flush to disk, then rename over ``path``, so
    a reader sees the old file or the new one, never half of one."""
    directory = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), _FILE_MODE)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
