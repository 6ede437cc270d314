"""sippet: building blocks for SIP (RFC 3261) middleware.

The layers, bottom up: ``sippet._native`` (Rust: framing, parsing, serializing) →
``Message``/``URI`` and header values → transactions (sans-I/O) → the asyncio stack and
transports → helpers → the ``sippet`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sippet import _registry
from sippet.dialogs import Dialog, DialogId, DialogLayer, DialogSettings, DialogState
from sippet.endpoint.uac import FollowUp, RedirectTargets
from sippet.endpoint.uas import UASPolicy, check_request
from sippet.errors import (
    DialogError,
    ParseError,
    SippetError,
    TransactionError,
    TransportError,
    ValidationError,
)
from sippet.headers import (
    Auth,
    CSeq,
    DeltaParams,
    MediaType,
    MimeVersion,
    NameAddr,
    RAck,
    RetryAfter,
    SentBy,
    Timestamp,
    TokenParams,
    UriParams,
    Via,
    Warning,
)
from sippet.ids import create_branch, create_call_id, create_tag
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.message import (
    Message,
    RequestLine,
    StatusLine,
    Target,
    build_request,
    build_response,
)
from sippet.method import Method
from sippet.reasons import Reason
from sippet.responses import response_to
from sippet.stack import AnswerTimeouts, Core, Peer, Stack, run
from sippet.status import StatusClass, reason_phrase, status_class
from sippet.transports import TCP, TLS, UDP, StreamLimits, Transport
from sippet.uri import URI

if TYPE_CHECKING:
    from sippet.transports.ws import WS as WS
    from sippet.transports.ws import WSS as WSS

_registry.register()

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "TCP",
    "TLS",
    "UDP",
    "URI",
    "AnswerTimeouts",
    "Auth",
    "CSeq",
    "Core",
    "DeltaParams",
    "Dialog",
    "DialogError",
    "DialogId",
    "DialogLayer",
    "DialogSettings",
    "DialogState",
    "FollowUp",
    "Limits",
    "MediaType",
    "Message",
    "Method",
    "MimeVersion",
    "NameAddr",
    "ParseError",
    "Peer",
    "RAck",
    "Reason",
    "RedirectTargets",
    "RequestLine",
    "RetryAfter",
    "SentBy",
    "SippetError",
    "Stack",
    "StatusClass",
    "StatusLine",
    "StreamLimits",
    "Target",
    "Timestamp",
    "TokenParams",
    "TransactionError",
    "Transport",
    "TransportError",
    "UASPolicy",
    "UriParams",
    "ValidationError",
    "Via",
    "Warning",
    "build_request",
    "build_response",
    "check_request",
    "create_branch",
    "create_call_id",
    "create_tag",
    "reason_phrase",
    "response_to",
    "run",
    "status_class",
]

_LAZY = frozenset({"WS", "WSS"})
"""WebSocket transports, loaded on first use: ``import sippet`` does not import
``websockets`` (not in ``__all__``, so that a star import works without it)."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("sippet.transports.ws"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
