"""``Binding`` <-> JSON text, for the stores that keep bytes (SQLite, Redis).

URIs are kept as their wire text (``str(uri)``, read back with ``URI.parse``): escaped URI
headers and URI parameters come back as they were (RFC 4475 ``regescrt``, ``cparam02``).
Header parameters stay a separate map (``cparam01``). A record that does not decode is a
``StoreError`` (``reason="corrupt"``), never a crash.
"""

from __future__ import annotations

import json
from typing import Any

from sippet.errors import ParseError
from sippet.headers import NameAddr
from sippet.registrar.binding import Binding, Source
from sippet.registrar.store import StoreError
from sippet.uri import URI

FORMAT_VERSION = 1
"""Written in every record, so that a later layout can read older ones."""


def _name_addr(value: NameAddr) -> list[Any]:
    return [value.display_name, str(value.uri), dict(value.params)]


def to_record(binding: Binding) -> dict[str, Any]:
    """A JSON-able dict for ``binding``."""
    source = binding.source
    return {
        "v": FORMAT_VERSION,
        "contact": str(binding.contact),
        "expires_at": binding.expires_at,
        "call_id": binding.call_id,
        "cseq": binding.cseq,
        "q": binding.q,
        "params": dict(binding.params),
        "display_name": binding.display_name,
        "path": [_name_addr(value) for value in binding.path],
        "source": list(source) if source is not None else None,
        "updated_at": binding.updated_at,
    }


def from_record(record: dict[str, Any]) -> Binding:
    """The ``Binding`` of a ``to_record`` dict; ``StoreError`` ``"corrupt"`` if it is not one."""
    try:
        if record.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown record version {record.get('v')!r}")
        source = record["source"]
        return Binding(
            contact=URI.parse(record["contact"]),
            expires_at=float(record["expires_at"]),
            call_id=str(record["call_id"]),
            cseq=int(record["cseq"]),
            q=None if record["q"] is None else float(record["q"]),
            params=dict(record["params"]),
            display_name=str(record["display_name"]),
            path=tuple(
                NameAddr(str(name), URI.parse(uri), dict(params))
                for name, uri, params in record["path"]
            ),
            source=Source(*source) if source is not None else None,
            updated_at=float(record["updated_at"]),
        )
    except (KeyError, TypeError, ValueError, ParseError) as exc:
        raise StoreError(f"a stored binding does not decode: {exc}", reason="corrupt") from exc


def dumps(bindings: tuple[Binding, ...] | list[Binding]) -> str:
    """The JSON text of a list of bindings."""
    return json.dumps([to_record(binding) for binding in bindings], separators=(",", ":"))


def loads(text: str | bytes) -> list[Binding]:
    """The bindings of a ``dumps`` text; ``StoreError`` ``"corrupt"`` if it is not one."""
    try:
        records = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"stored bindings are not JSON: {exc}", reason="corrupt") from exc
    if not isinstance(records, list):
        raise StoreError("stored bindings are not a list", reason="corrupt")
    return [from_record(record) for record in records]


def dump_one(binding: Binding) -> str:
    return json.dumps(to_record(binding), separators=(",", ":"))


def load_one(text: str) -> Binding:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"a stored binding is not JSON: {exc}", reason="corrupt") from exc
    if not isinstance(record, dict):
        raise StoreError("a stored binding is not an object", reason="corrupt")
    return from_record(record)
