"""Named, documented limits on what sippet accepts from the wire.

Every bound that stands between hostile input and memory or CPU is here, with a default
and the reason for it. Pass a ``Limits`` to the parser, the stream framer or a stack to
change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sippet import _native


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_size: int = 65_535
    """Bytes in one message, start line to end of body. A UDP datagram cannot carry more
    than 65,507; stream transports get the same bound so that one peer cannot make the
    framer buffer without end (RFC 3261 §18.3 leaves the bound to the implementation)."""

    max_header_count: int = 256
    """Header lines in one message. RFC 4475 longreq, the longest legitimate torture
    message, has 53 lines."""

    max_line_length: int = 8_192
    """Bytes in one header line after unfolding."""

    max_via_count: int = 70
    """Via values in one message: one per hop, and Max-Forwards starts at 70 (RFC 3261 §8.1.1.6)."""

    max_stream_buffer: int = 131_072
    """Bytes a stream framer holds while waiting for the rest of a message."""

    _native_limits: _native.NativeLimits = field(init=False, repr=False, compare=False, hash=False)
    """The same numbers as a native object, built once here so that each parse reads one
    attribute instead of five. Not part of the API."""

    def __post_init__(self) -> None:
        # Frozen dataclass: the derived field is set the way dataclasses set fields.
        object.__setattr__(
            self,
            "_native_limits",
            _native.NativeLimits(
                self.max_message_size,
                self.max_header_count,
                self.max_line_length,
                self.max_via_count,
                self.max_stream_buffer,
            ),
        )


DEFAULT_LIMITS = Limits()
"""The limits used when none are given."""
