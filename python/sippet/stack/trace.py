"""Message tracing: every message sent or received, one line (or the full text) each, on
logger ``sippet.trace`` at INFO."""

from __future__ import annotations

import logging
from typing import Literal

from sippet.message import Message, RequestLine
from sippet.transports.base import Address, Transport, format_address

trace_logger = logging.getLogger("sippet.trace")

TraceMode = Literal["line", "full"] | None


def trace(
    name: str,
    mode: TraceMode,
    arrow: str,
    transport: Transport,
    address: Address,
    message: Message,
    data: bytes,
) -> None:
    """Log ``message`` (``data`` on the wire) going ``arrow`` (``"->"`` or ``"<-"``)."""
    where = format_address(transport.protocol, *address)
    start = message.start_line
    if isinstance(start, RequestLine):
        first = f"{start.method} {start.request_uri}"
    else:
        first = f"{start.status_code} {start.reason_phrase}"
    if mode == "full":
        text = data.decode("utf-8", errors="replace")
        trace_logger.info("%s %s %s %s (%d bytes)\n%s", name, arrow, where, first, len(data), text)
    else:
        trace_logger.info("%s %s %s %s (%d bytes)", name, arrow, where, first, len(data))
