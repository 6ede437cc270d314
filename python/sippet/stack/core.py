"""``Core``: the application side of a stack (Sippet's ``Sippet.Core`` behaviour).

Subclass it and override what you need; each method may be a plain function or ``async``
(the stack runs a returned coroutine as a task). The defaults do nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable

from sippet.message import Message
from sippet.transactions import ClientKey, ServerKey


class Core:
    """Receives what the stack delivers: requests, responses and errors.

    - ``receive_request(request, server_key)``: a new request; ``server_key`` is ``None``
      for an ACK that matched no transaction (the ACK of a 2xx, RFC 3261 §17.2.3, §13.3.1.4).
      Answer with ``stack.send(response)``.
    - ``receive_response(response, client_key)``: a response to a request sent with
      ``stack.send``; ``client_key`` is ``None`` for a stray response (a 2xx retransmission
      after the transaction ended, or a response a stateless proxy must forward).
    - ``receive_error(reason, key)``: a transaction failed. ``reason`` is a
      ``sippet.reasons.Reason`` (a ``str``: compare it with ``Reason.TIMEOUT`` or
      ``"timeout"``), or an errno name a transport reported (``"econnreset"``):

      - ``timeout``: Timer B, F or H fired (RFC 3261 §17);
      - ``unanswered`` (server key): the core sent no final response within the stack's
        ``AnswerTimeouts``, and the transaction was ended;
      - routing: ``nxdomain``, ``no_transport`` (none of the hop's protocol: ``sips:`` never
        falls back to TCP), ``no_host``, ``no_via``, ``unsupported_uri_scheme``,
        ``no_connection`` (a ``.invalid`` host whose client's connection is not open:
        RFC 7118 §5);
      - sending: ``unreachable`` (ICMP error, refused connection), ``message_too_large``,
        ``forbidden``, ``invalid_message`` (the core's message does not serialize),
        ``not_started``;
      - connections (TCP, TLS, WS, WSS): ``connect_timeout``, ``connection_closed``,
        ``connection_limit``, ``tls_verification_failed`` (the peer's certificate is not
        trusted or not for the host), ``tls_handshake_failed``; WebSocket also
        ``idle_timeout``, ``write_buffer_full``, ``protocol_error``, ``message_too_large``,
        ``handshake_refused``, ``handshake_failed``, ``subprotocol_refused``;
        ``transport_error`` for anything else.

      RFC 3261 §8.1.3.1: treat a timeout as a 408 and a transport error as a 503.
    """

    def receive_request(
        self, request: Message, server_key: ServerKey | None
    ) -> Awaitable[None] | None:
        return None

    def receive_response(
        self, response: Message, client_key: ClientKey | None
    ) -> Awaitable[None] | None:
        return None

    def receive_error(self, reason: str, key: ClientKey | ServerKey) -> Awaitable[None] | None:
        return None
