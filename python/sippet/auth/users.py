"""HA1 values per user, realm and algorithm, and the users file that stores them.

A server never needs a password, only HA1 = H(username:realm:password) for each base
algorithm it offers (RFC 7616 §5.2: store HA1, not the password). A leaked HA1 still lets
its holder authenticate in that realm, so the file must stay private (``sippet passwd``
writes it with mode 0600), but the password itself, perhaps reused elsewhere, is not in it.

The users file (UTF-8, one JSON object per line; blank lines and lines starting with ``#``
are ignored)::

    # sippet users file
    {"user": "alice", "realm": "sippet", "ha1": {"MD5": "<32 hex>", "SHA-256": "<64 hex>"}}

``user`` and ``realm`` are any text (JSON escapes make every character safe). ``ha1`` maps
base algorithm names (``MD5``, ``SHA-256``, ``SHA-512-256``) to lowercase hex digests
(``sippet passwd`` writes all three); a user may lack some algorithms and then cannot
answer those challenges. A (user, realm)
pair appears once.

This module only converts text: reading and writing the file is the caller's job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from sippet.auth.algorithms import BASE_ALGORITHMS, Algorithm, parse_algorithm
from sippet.auth.digest import password_ha1

DEFAULT_REALM = "sippet"
"""The realm of ``sippet passwd`` and ``sippet uas --users`` when none is given."""

MAX_USERS_FILE_BYTES = 16 * 1024 * 1024
"""A users file larger than this is refused rather than read (about 80,000 users)."""

_HEX = re.compile(r"[0-9a-f]+\Z")
_HEX_LENGTH = {Algorithm.MD5: 32, Algorithm.SHA_256: 64, Algorithm.SHA_512_256: 64}


class UsersFileError(ValueError):
    """A users file that does not follow the format; ``line`` is 1-based (0: whole file)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class Users:
    """An in-memory ``HA1Store``: HA1 per (user, realm) and base algorithm."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], dict[Algorithm, str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, user_realm: object) -> bool:
        return user_realm in self._entries

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._entries)

    def ha1(self, username: str, realm: str, algorithm: Algorithm) -> str | None:
        entry = self._entries.get((username, realm))
        return None if entry is None else entry.get(algorithm.base)

    def set_password(
        self,
        username: str,
        realm: str,
        password: str,
        algorithms: Iterable[Algorithm] = BASE_ALGORITHMS,
    ) -> None:
        """Add or replace a user, storing HA1 for each algorithm (not the password)."""
        self._entries[(username, realm)] = {
            algorithm.base: password_ha1(algorithm.base, username, realm, password)
            for algorithm in algorithms
        }

    def set_ha1(self, username: str, realm: str, ha1: dict[Algorithm, str]) -> None:
        """Add or replace a user from precomputed HA1 values (checked)."""
        self._entries[(username, realm)] = _checked_ha1(
            {str(name): value for name, value in ha1.items()}
        )

    def remove(self, username: str, realm: str) -> bool:
        return self._entries.pop((username, realm), None) is not None

    @classmethod
    def parse(cls, text: str) -> Users:
        """Read a users file's text; raises ``UsersFileError`` on any bad line."""
        if len(text.encode()) > MAX_USERS_FILE_BYTES:
            raise UsersFileError(f"users file above {MAX_USERS_FILE_BYTES} bytes")
        users = cls()
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            try:
                record = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise UsersFileError(f"not JSON: {exc.msg}", line=number) from None
            if not isinstance(record, dict) or set(record) != {"user", "realm", "ha1"}:
                raise UsersFileError('expected {"user", "realm", "ha1"}', line=number)
            user, realm, ha1 = record["user"], record["realm"], record["ha1"]
            if not isinstance(user, str) or not isinstance(realm, str) or not user:
                raise UsersFileError("user and realm must be text, user not empty", line=number)
            if not isinstance(ha1, dict) or not ha1:
                raise UsersFileError("ha1 must map algorithm names to hex", line=number)
            if (user, realm) in users._entries:
                raise UsersFileError(f"{user!r} in realm {realm!r} twice", line=number)
            try:
                users._entries[(user, realm)] = _checked_ha1(ha1)
            except ValueError as exc:
                raise UsersFileError(str(exc), line=number) from None
        return users

    def dump(self) -> str:
        """The users file text, users sorted by realm then name (stable diffs)."""
        lines = ["# sippet users file: HA1 per algorithm (docs/auth.md); keep it private"]
        for user, realm in sorted(self._entries, key=lambda key: (key[1], key[0])):
            ha1 = {str(a): v for a, v in sorted(self._entries[(user, realm)].items())}
            record = {"user": user, "realm": realm, "ha1": ha1}
            lines.append(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))
        return "\n".join(lines) + "\n"


def _checked_ha1(values: dict[str, object]) -> dict[Algorithm, str]:
    checked: dict[Algorithm, str] = {}
    for name, value in values.items():
        algorithm = parse_algorithm(name)
        if algorithm is None or algorithm.is_session:
            raise ValueError(f"unknown base algorithm {name!r}")
        if (
            not isinstance(value, str)
            or not _HEX.match(value)
            or len(value) != _HEX_LENGTH[algorithm]
        ):
            raise ValueError(
                f"{algorithm} HA1 must be {_HEX_LENGTH[algorithm]} lowercase hex digits"
            )
        checked[algorithm] = value
    return checked
