"""Header names and header values for the ``Message`` editing helpers.

Header names are case-insensitive and have compact forms (RFC 3261 §7.3.1, §7.3.3), but
``Message.headers`` is a plain dict keyed by snake_case names (``"call_id"``) for the headers
sippet types and by wire name for the rest. ``header_key`` maps any spelling a user may type
(``"Call-ID"``, ``"call-id"``, ``"i"``, ``"call_id"``) to the dict key.

``copy_value`` deep-copies a header value: the shapes are named tuples and ``URI`` tuples
holding parameter dicts, so a shallow copy would share those dicts between two messages.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from sippet.headers import (
    CANONICAL_NAMES,
    COMPACT_FORMS,
    CSeq,
    MimeVersion,
    NameAddr,
    RAck,
    SentBy,
    Timestamp,
    Via,
    Warning,
)
from sippet.method import Method
from sippet.uri import URI

# "call-id" -> "call_id": every known header by its lowercased wire name.
_WIRE_TO_KEY: dict[str, str] = {name.lower(): key for key, name in CANONICAL_NAMES.items()}


def header_key(name: str) -> str:
    """The ``Message.headers`` key of a header name given in any spelling.

    Known headers (``sippet.headers.CANONICAL_NAMES``) map to their snake_case key whatever
    the case, with ``-`` or ``_``; compact forms map to their full header (``"i"`` ->
    ``"call_id"``, ``"a"`` -> ``"Accept-Contact"``). Any other name is returned unchanged.
    """
    if name in CANONICAL_NAMES:
        return name
    lowered = name.lower()
    key = _WIRE_TO_KEY.get(lowered)
    if key is not None:
        return key
    snake = lowered.replace("-", "_")
    if snake in CANONICAL_NAMES:
        return snake
    if len(lowered) == 1:
        return COMPACT_FORMS.get(lowered, name)
    return name


def resolve_key(headers: Mapping[str, Any], name: str) -> str:
    """The key under which ``headers`` holds (or would hold) the header ``name``.

    Like ``header_key``, and in addition an unknown header already present under another
    case (``"X-Foo"`` when asked for ``"x-foo"``) resolves to the existing key, because
    header names are case-insensitive (RFC 3261 §7.3.1).
    """
    key = header_key(name)
    if key in headers or key in CANONICAL_NAMES:
        return key
    lowered = key.lower()
    for existing in headers:
        if existing.lower() == lowered and existing not in CANONICAL_NAMES:
            return existing
    return key


def copy_value(value: Any) -> Any:
    """A deep copy of a header value (or of a whole headers dict).

    Dicts, lists, named tuples and ``URI`` values are rebuilt; strings, numbers, datetimes
    and the named tuples made of those alone (``CSeq``, ``SentBy``...) are immutable and
    shared. The common shapes have a direct copier: ``to_response`` copies five headers
    for every answer, so this is on the hot path of a UAS.
    """
    kind = type(value)
    if kind in _SHARED:
        return value
    copier = _COPIERS.get(kind)
    if copier is not None:
        return copier(value)
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    if isinstance(value, URI):
        return _copy_uri(value)
    if isinstance(value, tuple):
        items = [copy_value(v) for v in value]
        if kind is tuple:
            return tuple(items)
        make = getattr(kind, "_make", None)
        if make is not None:
            return make(items)
    return value


def _copy_uri(uri: URI) -> URI:
    # Parameter and header values are str or None, so one level of dict copy is deep.
    scheme, user, password, host, port, parameters, headers, opaque = uri
    return tuple.__new__(
        URI, (scheme, user, password, host, port, dict(parameters), dict(headers), opaque)
    )


def _copy_via(via: Via) -> Via:
    # version and sent_by are tuples of immutable values; only params is mutable.
    return tuple.__new__(Via, (via[0], via[1], via[2], dict(via[3])))


def _copy_name_addr(value: NameAddr) -> NameAddr:
    return tuple.__new__(NameAddr, (value[0], _copy_uri(value[1]), dict(value[2])))


_SHARED: frozenset[type] = frozenset(
    {
        str,
        int,
        float,
        bool,
        type(None),
        bytes,
        datetime.datetime,
        Method,
        CSeq,
        SentBy,
        Timestamp,
        MimeVersion,
        RAck,
        Warning,
    }
)

_COPIERS: dict[type, Callable[[Any], Any]] = {
    dict: lambda value: {k: copy_value(v) for k, v in value.items()},
    list: lambda value: [copy_value(v) for v in value],
    URI: _copy_uri,
    Via: _copy_via,
    NameAddr: _copy_name_addr,
}
