"""sippet's exceptions: one small hierarchy, each carrying a machine-readable reason."""

from __future__ import annotations

from typing import Any


class SippetError(Exception):
    """Base class of every error sippet raises on purpose."""


class ParseError(SippetError, ValueError):
    """Bytes that are not a SIP message we accept.

    ``reason`` is a stable, machine-readable code (``"invalid_status_code"``,
    ``"multiple_definition"``, ``"content_length_mismatch"``...); ``status_code`` is the SIP
    response a server should answer a request with (400 malformed, 505 bad version, 513 too
    large...). ``header`` names the header at fault, when there is one.

    ``reply_headers`` is filled when the bytes were a request whose Via, From, To, Call-ID
    and CSeq still parsed: enough for a stateless error response (RFC 3261 §8.2.6). It maps
    those keys to their typed values.

    ``reply_raw`` maps ``"from"``, ``"to"``, ``"call_id"`` and ``"cseq"`` to the raw text
    (value without the name) of those that did *not* parse, so that the 400 can still copy
    them (§8.2.6.2; RFC 4475 scalar02, quotbal, badaspec, baddn). ``None`` when all that
    were present parsed. Neither is filled for an ACK, which is never answered (§17).
    ``sippet.responses.response_to_unparsable`` builds the response from both.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        status_code: int = 400,
        header: str | None = None,
        reply_headers: dict[str, Any] | None = None,
        reply_raw: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code
        self.header = header
        self.reply_headers = reply_headers
        self.reply_raw = reply_raw

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_parse_error, (str(self), self.reason, self.status_code, self.header))


def _rebuild_parse_error(
    message: str, reason: str, status_code: int, header: str | None
) -> ParseError:
    return ParseError(message, reason=reason, status_code=status_code, header=header)


class ValidationError(SippetError, ValueError):
    """A message that parses but breaks RFC 3261 rules (missing header, CSeq mismatch...)."""

    def __init__(self, message: str, *, reason: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code


class TransactionError(SippetError):
    """A transaction-layer failure: unknown key, duplicate transaction, wrong state."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TransportError(SippetError):
    """A transport could not send or resolve (``reason``: ``"nxdomain"``, ``"unreachable"``...)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class DialogError(SippetError):
    """The application asked the dialog layer (``sippet.dialogs``) for something the
    dialog rules forbid; network input that does not fit is answered or absorbed, never
    raised. ``reason`` says which rule: ``no_dialog`` (unknown dialog id),
    ``invite_pending`` (a second INVITE in a dialog, RFC 3261 §14.1), ``not_confirmed`` (a
    re-INVITE in an early dialog), ``too_many_dialogs`` (``max_dialogs`` reached),
    ``invalid_request`` (an INVITE without the fields a dialog needs),
    ``invalid_response`` (a 101-299 to an INVITE without To tag), ``ack_method``
    (``create_request`` for ACK or CANCEL: use ``create_ack`` or ``build_cancel``),
    ``no_via`` (nothing to build a Via from), ``no_pending_ack`` (``create_ack`` without a
    2xx that awaits it)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
