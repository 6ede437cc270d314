"""Typed stub of ``sippet._native``, the Rust core (``src/py/``).

Contract: ``docs/DESIGN.md``. The module builds sippet's own Python types; it never imports
them itself, ``sippet._registry`` hands them over once at import.
"""

from typing import Any, final

from sippet.errors import ParseError
from sippet.limits import Limits
from sippet.message import Message
from sippet.uri import URI

def register_types(types: dict[str, Any], /) -> None:
    """Give the native code the classes it builds and reads (see ``sippet._registry``)."""

def parse_message(data: bytes | bytearray | memoryview, limits: Limits, /) -> Message:
    """Parse one message; raises ``sippet.ParseError``. The result has ``wire_order=True``."""

def parse_uri(text: str, /) -> URI:
    """Parse a URI; raises ``sippet.ParseError``."""

def serialize_message(msg: Message, /) -> bytes:
    """Wire bytes; Content-Length is always written, last, equal to ``len(body)``.

    Raises ``TypeError`` for a value of the wrong shape and ``ValueError`` for one that
    cannot be written (CR/LF in text, out-of-range number), naming the header.
    """

def serialize_uri(uri: URI, /) -> str:
    """The text form of a URI (percent-escaped where RFC 3261 §25 requires it)."""

@final
class NativeLimits:
    """The native copy of a ``sippet.Limits`` (kept on it as ``_native_limits``)."""

    def __new__(
        cls,
        max_message_size: int,
        max_header_count: int,
        max_line_length: int,
        max_via_count: int,
        max_stream_buffer: int,
        /,
    ) -> NativeLimits: ...
    def __reduce__(self) -> tuple[type[NativeLimits], tuple[int, int, int, int, int]]: ...

@final
class StreamFramer:
    """Cuts a stream (TCP, TLS) into whole messages and RFC 5626 keep-alives."""

    def __new__(cls, limits: Limits, *, eager_pong: bool = False) -> StreamFramer:
        """``eager_pong``: report a lone CRLF as a pong at once (clients); a server waits,
        since it may be the first half of a ping."""

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a message."""

    @property
    def error(self) -> ParseError | None:
        """The error that ended the stream, or None. Set as soon as a ``feed`` fails, even
        one that still returned the frames it completed before the error."""

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[bytes]:
        """Frames completed so far: ``b"\\r\\n\\r\\n"`` is a ping, ``b"\\r\\n"`` a pong,
        anything else one whole message. Raises ``sippet.ParseError``; frames completed
        before an error in the same call are returned, and the next call raises."""
