"""Ingress: what arrives is parsed, checked and stamped before the transaction layer sees it.

RFC 3261 §18.2.1: a request gets ``received``/``rport`` on its top Via (RFC 3581 §4); §18.1.2:
a response whose top Via is not ours is not for us (here: one that fails validation is
dropped). A request that fails to parse or validate is answered statelessly when its headers
allow (§8.2.6, §18.3), and a stream's framing error too, after which the transport closes the
connection (RFC 4475 §3.1.2.3). Every rejection is logged, rate-limited, with its source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sippet.errors import ParseError, ValidationError
from sippet.limits import Limits
from sippet.message import Message, RequestLine
from sippet.method import Method
from sippet.responses import error_response, response_to_unparsable
from sippet.stack.routing import stamp_received, stamp_via
from sippet.stack.trace import trace
from sippet.stack.transport_layer import Peer, TransportLayer
from sippet.transports.base import Address, Transport, format_address
from sippet.transports.droplog import DropLog
from sippet.validation import validate

logger = logging.getLogger("sippet.stack")


class Ingress:
    """Turns received bytes into checked messages; answers or drops the rest.

    ``spawn`` runs a coroutine function (a response whose Via names a host to resolve).
    """

    def __init__(
        self,
        name: str,
        limits: Limits,
        transports: TransportLayer,
        spawn: Callable[[Callable[[], object]], None],
    ) -> None:
        self.name = name
        self.limits = limits
        self.transports = transports
        self.drops = DropLog(logger)
        self._spawn = spawn

    def accept(self, transport: Transport, data: bytes, source: Address) -> Message | None:
        """The message in ``data``, parsed, validated and (a request) stamped; ``None`` when
        it was rejected (answered or dropped, and logged)."""
        try:
            message = Message.parse(data, self.limits)
        except ParseError as exc:
            self.reject_unparsable(transport, source, exc)
            return None
        if self.transports.trace_mode is not None:
            trace(self.name, self.transports.trace_mode, "<-", transport, source, message, data)
        if isinstance(message.start_line, RequestLine):
            stamp_received(message, source[0], source[1])
            try:
                validate(message, transport.protocol)
            except ValidationError as exc:
                self._reject_invalid(transport, source, message, exc)
                return None
            self.transports.note_request(transport, source, message)
            return message
        try:
            validate(message)
        except ValidationError as exc:
            self.drops.warning(
                "%s: dropped an invalid response from %s: %s (%s)",
                self.name,
                format_address(transport.protocol, *source),
                exc,
                exc.reason,
            )
            return None
        return message

    def reject_unparsable(self, transport: Transport, source: Address, exc: ParseError) -> None:
        """Answer a request that did not parse (or frame) when its headers allow, else drop
        it; either way log it."""
        where = format_address(transport.protocol, *source)
        response = response_to_unparsable(exc)
        if response is None:
            self.drops.warning(
                "%s: dropped a malformed message from %s: %s (%s)",
                self.name,
                where,
                exc,
                exc.reason,
            )
            return
        self.drops.warning(
            "%s: answered a malformed request from %s with %d: %s (%s)",
            self.name,
            where,
            exc.status_code,
            exc,
            exc.reason,
        )
        self._send_stateless(transport, source, response)

    def framing_error(
        self, transport: Transport, source: Address, exc: ParseError, head: bytes
    ) -> None:
        """A stream could not be cut into messages: answer the request whose start is in
        ``head`` if its headers parse (RFC 4475 §3.1.2.3), before the transport closes."""
        if head:
            try:
                Message.parse(head, self.limits)
            except ParseError as parsed:
                if parsed.reply_headers is not None or parsed.reply_raw is not None:
                    exc = ParseError(
                        str(exc),
                        reason=exc.reason,
                        status_code=exc.status_code,
                        reply_headers=parsed.reply_headers,
                        reply_raw=parsed.reply_raw,
                    )
        self.reject_unparsable(transport, source, exc)

    def _reject_invalid(
        self, transport: Transport, source: Address, request: Message, exc: ValidationError
    ) -> None:
        where = format_address(transport.protocol, *source)
        method = request.start_line.method if isinstance(request.start_line, RequestLine) else ""
        response = (
            None
            if method == Method.ACK
            else error_response(request.headers, exc.status_code, exc.reason)
        )
        if response is None:
            self.drops.warning(
                "%s: dropped an invalid request from %s: %s (%s)", self.name, where, exc, exc.reason
            )
            return
        self.drops.warning(
            "%s: answered an invalid request from %s with %d: %s (%s)",
            self.name,
            where,
            exc.status_code,
            exc,
            exc.reason,
        )
        self._send_stateless(transport, source, response)

    def _send_stateless(self, transport: Transport, source: Address, response: Message) -> None:
        # §18.2.2 routing from the top Via; the request's received/rport point back at the
        # source when it asked for them, otherwise the sent-by decides.
        stamp_via(response.headers["via"], source[0], source[1])
        params = response.headers["via"][0].params
        if "received" not in params:
            params["received"] = source[0]
        pending = self.transports.transmit_response(response, Peer(transport, source), None)
        if pending is not None:
            self._spawn(pending)
