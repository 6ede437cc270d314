"""Hands the Python value types to the native core, once, at import.

The native parser builds ``Message``, ``URI`` and header values directly (no second pass in
Python), so it needs the classes. Passing them in keeps the native layer free of imports
from the layers above it.
"""

from __future__ import annotations

import datetime

from sippet import _native, headers
from sippet.errors import ParseError
from sippet.message import Message, RequestLine, StatusLine
from sippet.method import Method
from sippet.uri import URI


def register() -> None:
    _native.register_types(
        {
            "Message": Message,
            "RequestLine": RequestLine,
            "StatusLine": StatusLine,
            "URI": URI,
            "NameAddr": headers.NameAddr,
            "SentBy": headers.SentBy,
            "Via": headers.Via,
            "CSeq": headers.CSeq,
            "MediaType": headers.MediaType,
            "TokenParams": headers.TokenParams,
            "UriParams": headers.UriParams,
            "Auth": headers.Auth,
            "MimeVersion": headers.MimeVersion,
            "RetryAfter": headers.RetryAfter,
            "Timestamp": headers.Timestamp,
            "Warning": headers.Warning,
            "DeltaParams": headers.DeltaParams,
            "RAck": headers.RAck,
            "Unparsed": headers.Unparsed,
            "methods": {m.value: m for m in Method},
            "ParseError": ParseError,
            "datetime": datetime.datetime,
            "utc": datetime.UTC,
            "canonical_names": headers.CANONICAL_NAMES,
            "canonical_order": headers.CANONICAL_ORDER,
            "canonical_order_last": headers.CANONICAL_ORDER_LAST,
            "typed_keys": list(headers.HEADER_SHAPES),
        }
    )
