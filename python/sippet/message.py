"""``sippet.Message``: a SIP request or response as plain, typed Python values.

RFC 3261 §7. Parsing and serializing are done by the native core (``sippet._native``);
this module holds the value types and the operations on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sippet import _native, validation
from sippet.errors import ParseError
from sippet.header_ops import copy_value, resolve_key
from sippet.limits import DEFAULT_LIMITS, Limits
from sippet.method import Method, to_method
from sippet.ports import default_port
from sippet.status import reason_phrase as default_reason_phrase
from sippet.status import status_class
from sippet.uri import URI

_MISSING: Any = object()


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
            try:
                data = data.encode("utf-8")
            except UnicodeEncodeError as exc:
                # A lone surrogate has no UTF-8 form: RFC 3261 §25.1 text is UTF-8.
                raise ParseError(
                    f"message text is not valid Unicode: {exc.reason}", reason="invalid_utf8"
                ) from None
        return _native.parse_message(data, limits)

    @property
    def is_request(self) -> bool:
        return isinstance(self.start_line, RequestLine)

    @property
    def is_response(self) -> bool:
        return isinstance(self.start_line, StatusLine)

    # -- building ----------------------------------------------------------------------

    @classmethod
    def build_request(cls, method: Method | str, request_uri: URI | str) -> Message:
        """A new request with no headers and no body.

        ``method`` text names a known ``Method`` or stays a case-sensitive ``str``
        (RFC 3261 §7.1); a ``str`` Request-URI is parsed with ``URI.parse``.
        """
        if not isinstance(method, Method):
            method = to_method(method)
        if not isinstance(request_uri, URI):
            request_uri = URI.parse(request_uri)
        return cls(RequestLine(method, request_uri))

    @classmethod
    def build_response(cls, status_code: int, reason_phrase: str | None = None) -> Message:
        """A new response with no headers; the reason phrase defaults to the registered one
        (``sippet.status.reason_phrase``). Raises ``ValueError`` outside 100-699."""
        status_class(status_code)
        phrase = default_reason_phrase(status_code) if reason_phrase is None else reason_phrase
        return cls(StatusLine(status_code, phrase))

    def to_response(
        self,
        status_code: int,
        reason_phrase: str | None = None,
        *,
        to_tag: str | None = None,
    ) -> Message:
        """A response to this request, with the headers RFC 3261 §8.2.6 copies
        (``sippet.responses.response_to``, which also takes ``extra`` headers).

        - Via (every value, in order), From, Call-ID and CSeq are copied (§8.2.6.2).
        - To is copied; when it has no tag and ``status_code`` is above 100, the tag
          ``to_tag`` is added, or a new random one (§8.2.6.2: "the UAS MUST add a tag").
          Pass the same ``to_tag`` for every response to one request: §8.2.6.2 requires
          one tag for all of them, and only the caller knows which responses belong together.
        - Timestamp is copied into a 100 (Trying) (§8.2.6.1); the caller adds any delay.
        - Record-Route is copied, in order, into a 101-299 response to a request that can
          create a dialog (INVITE, SUBSCRIBE, NOTIFY, REFER; §12.1.1). Other responses
          establish no dialog, so the route set would be meaningless there.
        - A 100 gets no To tag.

        Headers missing from the request are skipped, so a 400 can still be built for a
        request that lacks some of them. Copied values are independent of the request's
        (parameter dicts are copied). Raises ``ValueError`` for a response or an ACK
        (RFC 3261 §17: an ACK is never answered).
        """
        if not isinstance(self.start_line, RequestLine):
            raise ValueError("to_response() needs a request")
        return _responses.response_to(self, status_code, reason_phrase, to_tag=to_tag)

    def copy(self) -> Message:
        """A deep copy: headers, URIs and parameter dicts are not shared with ``self``."""
        duplicate = Message(self.start_line, copy_value(self.headers), self.body, self.target)
        if isinstance(self.start_line, RequestLine):
            duplicate.start_line = RequestLine(
                self.start_line.method,
                copy_value(self.start_line.request_uri),
                self.start_line.version,
            )
        duplicate.wire_order = self.wire_order
        return duplicate

    # -- header editing (Sippet's helpers; names in any spelling, see header_ops) -------
    # "front" is the topmost value of a list header (the first Via), "back" the last.
    # The editing methods change the message in place and return None.

    def has_header(self, name: str) -> bool:
        return resolve_key(self.headers, name) in self.headers

    def get_header(self, name: str, default: Any = None) -> Any:
        return self.headers.get(resolve_key(self.headers, name), default)

    def fetch_header(self, name: str) -> Any:
        """The header's value; raises ``KeyError`` when it is absent."""
        return self.headers[resolve_key(self.headers, name)]

    def get_header_front(self, name: str, default: Any = None) -> Any:
        values = self._list_or_none(name)
        return values[0] if values else default

    def get_header_back(self, name: str, default: Any = None) -> Any:
        values = self._list_or_none(name)
        return values[-1] if values else default

    def fetch_header_front(self, name: str) -> Any:
        """The topmost value; raises ``KeyError`` when the header is absent or empty."""
        values = self._list_or_none(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def fetch_header_back(self, name: str) -> Any:
        """The last value; raises ``KeyError`` when the header is absent or empty."""
        values = self._list_or_none(name)
        if not values:
            raise KeyError(name)
        return values[-1]

    def put_header(self, name: str, value: Any) -> None:
        """Set the header, replacing any value it had."""
        self.headers[resolve_key(self.headers, name)] = value

    def put_new_header(self, name: str, value: Any) -> None:
        """Set the header only when it is absent."""
        self.headers.setdefault(resolve_key(self.headers, name), value)

    def put_new_lazy_header(self, name: str, factory: Callable[[], Any]) -> None:
        """Set the header to ``factory()`` only when it is absent (``factory`` is not
        called otherwise)."""
        key = resolve_key(self.headers, name)
        if key not in self.headers:
            self.headers[key] = factory()

    def put_header_front(self, name: str, value: Any) -> None:
        """Insert ``value`` on top of a list header (as a proxy adds its Via), creating the
        header when absent."""
        key = resolve_key(self.headers, name)
        self.headers[key] = [value, *self._list_at(key)]

    def put_header_back(self, name: str, value: Any) -> None:
        """Append ``value`` to a list header, creating the header when absent."""
        key = resolve_key(self.headers, name)
        self.headers[key] = [*self._list_at(key), value]

    def delete_header(self, name: str) -> None:
        """Remove the header; nothing happens when it is absent."""
        self.headers.pop(resolve_key(self.headers, name), None)

    def drop_headers(self, *names: str) -> None:
        """Remove every header named."""
        for name in names:
            self.delete_header(name)

    def delete_header_front(self, name: str) -> None:
        """Remove the topmost value; the header goes when its last value does."""
        self.pop_header_front(name)

    def delete_header_back(self, name: str) -> None:
        """Remove the last value; the header goes when its last value does."""
        self.pop_header_back(name)

    def pop_header(self, name: str, default: Any = None) -> Any:
        """Remove the header and return its value (``default`` when absent)."""
        return self.headers.pop(resolve_key(self.headers, name), default)

    def pop_header_front(self, name: str, default: Any = None) -> Any:
        """Remove and return the topmost value (``default`` when there is none)."""
        return self._pop_at(name, 0, default)

    def pop_header_back(self, name: str, default: Any = None) -> Any:
        """Remove and return the last value (``default`` when there is none)."""
        return self._pop_at(name, -1, default)

    def update_header(
        self, name: str, function: Callable[[Any], Any], initial: Any = _MISSING
    ) -> None:
        """Replace the header's value by ``function(value)``. When the header is absent it
        is set to ``initial`` (not passed through ``function``), or left absent when no
        ``initial`` is given."""
        key = resolve_key(self.headers, name)
        if key in self.headers:
            self.headers[key] = function(self.headers[key])
        elif initial is not _MISSING:
            self.headers[key] = initial

    def update_header_front(
        self, name: str, function: Callable[[Any], Any], initial: Any = _MISSING
    ) -> None:
        """Replace the topmost value by ``function(value)``; when the header is absent or
        empty it becomes ``[initial]``, or stays absent when no ``initial`` is given."""
        self._update_at(name, 0, function, initial)

    def update_header_back(
        self, name: str, function: Callable[[Any], Any], initial: Any = _MISSING
    ) -> None:
        """Replace the last value by ``function(value)``; ``initial`` as in
        ``update_header_front``."""
        self._update_at(name, -1, function, initial)

    def _list_at(self, key: str) -> list[Any]:
        values = self.headers.get(key)
        if values is None:
            return []
        if not isinstance(values, list):
            raise TypeError(f"header {key!r} is not a list header: {values!r}")
        return values

    def _list_or_none(self, name: str) -> list[Any] | None:
        key = resolve_key(self.headers, name)
        return self._list_at(key) if key in self.headers else None

    def _pop_at(self, name: str, index: int, default: Any) -> Any:
        key = resolve_key(self.headers, name)
        values = self._list_at(key)
        if not values:
            return default
        rest = values[1:] if index == 0 else values[:-1]
        if rest:
            self.headers[key] = rest
        else:
            del self.headers[key]
        return values[index]

    def _update_at(
        self, name: str, index: int, function: Callable[[Any], Any], initial: Any
    ) -> None:
        key = resolve_key(self.headers, name)
        values = self._list_at(key)
        if values:
            updated = list(values)
            updated[index] = function(values[index])
            self.headers[key] = updated
        elif initial is not _MISSING:
            self.headers[key] = [initial]

    # -- where to answer, and validity ------------------------------------------------

    def get_remote(self) -> Target:
        """Where to send responses to this request: the top Via's sent-by, with the
        ``received`` and ``rport`` parameters the transport recorded applied.

        RFC 3261 §18.2.2 (unreliable transports): ``maddr`` when present, else the
        ``received`` address, else the sent-by host; RFC 3581 §4: the ``rport`` value when
        it has one, else the sent-by port, else ``sippet.ports.default_port`` (5061 for TLS). Over a
        reliable transport the stack should reuse the connection the request came on; this
        address is where to connect when that connection is gone.

        Raises ``ValueError`` for a response or a request without Via.
        """
        if not isinstance(self.start_line, RequestLine):
            raise ValueError("get_remote() needs a request")
        vias = self.headers.get("via")
        if not vias:
            raise ValueError("the request has no Via")
        _version, protocol, sent_by, params = vias[0]
        protocol = str(protocol).upper()
        host, port = sent_by
        maddr = params.get("maddr")
        received = params.get("received")
        rport = params.get("rport")
        if maddr:
            host = maddr
        elif received:
            host = received
        if not maddr and rport and rport.isdigit():
            port = int(rport)
        if port is None:
            port = default_port(protocol)
        return Target(protocol, host, port)

    def validate(self, transport: str | None = None, *, allow_rfc2543: bool = True) -> None:
        """Raise ``sippet.ValidationError`` when the message breaks a rule of
        ``sippet.validation`` (required headers, CSeq method, Content-Length...)."""
        validation.validate(self, transport, allow_rfc2543=allow_rfc2543)

    def is_valid(self, transport: str | None = None, *, allow_rfc2543: bool = True) -> bool:
        """``True`` when ``validate`` would not raise."""
        return validation.is_valid(self, transport, allow_rfc2543=allow_rfc2543)

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


def build_request(method: Method | str, request_uri: URI | str) -> Message:
    """``Message.build_request``: a new request with no headers and no body."""
    return Message.build_request(method, request_uri)


def build_response(status_code: int, reason_phrase: str | None = None) -> Message:
    """``Message.build_response``: a new response with no headers and no body."""
    return Message.build_response(status_code, reason_phrase)


def response_from_headers(
    request_headers: dict[str, Any],
    status_code: int,
    reason_phrase: str | None = None,
    *,
    to_tag: str | None = None,
    method: str | None = None,
) -> Message:
    """A response built from a request's headers, as ``Message.to_response`` does
    (``sippet.responses.response_from_headers``, which also takes ``extra`` headers).

    For ``ParseError.reply_headers`` prefer ``sippet.responses.response_to_unparsable``,
    which also copies the header fields that did not parse. ``method`` defaults to the
    CSeq method.
    """
    return _responses.response_from_headers(
        request_headers, status_code, reason_phrase, to_tag=to_tag, method=method
    )


# The one response builder (RFC 3261 §8.2.6) builds on ``Message``, so it is imported last:
# by then this module is complete, whichever of the two is imported first.
from sippet import responses as _responses  # noqa: E402
