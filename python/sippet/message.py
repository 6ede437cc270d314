"""``sippet.Message``: a SIP request or response as plain, typed Python values.

RFC 3261 §7. Parsing and serializing are done by the native core (``sippet._native``);
this module holds the value types and the operations on them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sippet import _native
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.method import Method
from sippet.uri import URI


class RequestLine(NamedTuple):
    """``METHOD Request-URI SIP/2.0`` (RFC 3261 §7.1)."""

    method: Method | str
    request_uri: URI
    version: tuple[int, int] = (2, 0)


class StatusLine(NamedTuple):
    """``SIP/2.0 Status-Code Reason-Phrase`` (RFC 3261 §7.2)."""

    status_code: int
    reason_phrase: str
    version: tuple[int, int] = (2, 0)


class Target(NamedTuple):
    """Where to send a message, overriding Route and Request-URI: ``(protocol, host, port)``."""

    protocol: str
    host: str
    port: int


class Message:
    """A SIP request or response.

    ``headers`` is a plain ``dict`` (see ``sippet.headers`` for the keys and value shapes);
    ``body`` is bytes; ``target``, when set, overrides where the stack sends the message.
    Two messages are equal when their start lines, headers and bodies are equal.
    """

    __slots__ = ("body", "headers", "start_line", "target", "wire_order")

    start_line: RequestLine | StatusLine
    headers: dict[str, Any]
    body: bytes
    target: Target | None
    wire_order: bool
    """True for a parsed message: serialize headers in dict order. False for one built in
    code: serialize in the canonical order of ``sippet.headers.CANONICAL_ORDER``."""

    def __init__(
        self,
        start_line: RequestLine | StatusLine,
        headers: dict[str, Any] | None = None,
        body: bytes | str = b"",
        target: Target | tuple[str, str, int] | None = None,
    ) -> None:
        self.start_line = start_line
        self.headers = {} if headers is None else headers
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.target = Target(*target) if target is not None else None
        self.wire_order = False

    @classmethod
    def parse(cls, data: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Message:
        """Parse one message (one datagram's worth). Raises ``sippet.ParseError``.

        Leading CRLFs are skipped, folded lines unfolded, bare LF line ends tolerated.
        With a Content-Length, octets past the body are ignored (RFC 3261 §18.3); without
        one, the body is the rest of the data.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        return _native.parse_message(data, limits)

    @property
    def is_request(self) -> bool:
        return isinstance(self.start_line, RequestLine)

    @property
    def is_response(self) -> bool:
        return isinstance(self.start_line, StatusLine)

    def to_bytes(self) -> bytes:
        """The wire form: canonical header names, Content-Length equal to ``len(body)``."""
        return _native.serialize_message(self)

    def __bytes__(self) -> bytes:
        return _native.serialize_message(self)

    def __str__(self) -> str:
        return _native.serialize_message(self).decode("utf-8", errors="replace")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self.start_line == other.start_line
            and self.headers == other.headers
            and self.body == other.body
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"Message(start_line={self.start_line!r}, headers={self.headers!r}, "
            f"body={self.body!r}, target={self.target!r})"
        )
