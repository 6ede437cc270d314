"""The dialog layer's exception: the application asked for something the dialog rules
forbid. Network input that does not fit is answered or absorbed, never raised."""

from __future__ import annotations

from sippet.errors import SippetError


class DialogError(SippetError):
    """``reason`` says which rule: ``no_dialog`` (unknown dialog id), ``invite_pending``
    (a second INVITE in a dialog, §14.1), ``too_many_dialogs`` (``max_dialogs`` reached),
    ``invalid_request`` (an INVITE without the fields a dialog needs), ``ack_method``
    (``create_request`` for ACK or CANCEL: use ``create_ack`` or ``build_cancel``),
    ``no_via`` (nothing to build a Via from), ``no_pending_ack`` (``create_ack`` without a
    2xx that awaits it)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
