"""sippet.status: default reason phrases and response classes (RFC 3261 §21)."""

from __future__ import annotations

import pytest
from sippet.status import (
    REASON_PHRASES,
    StatusClass,
    is_final,
    is_provisional,
    reason_phrase,
    status_class,
)


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (100, "Trying"),
        (180, "Ringing"),
        (183, "Session Progress"),
        (200, "OK"),
        (302, "Moved Temporarily"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (407, "Proxy Authentication Required"),
        (416, "Unsupported URI Scheme"),
        (420, "Bad Extension"),
        (481, "Call/Transaction Does Not Exist"),
        (487, "Request Terminated"),
        (491, "Request Pending"),
        (500, "Server Internal Error"),
        (501, "Not Implemented"),
        (505, "Version Not Supported"),
        (513, "Message Too Large"),
        (603, "Decline"),
        (606, "Not Acceptable"),
    ],
)
def test_rfc3261_phrases(code: int, phrase: str) -> None:
    assert reason_phrase(code) == phrase


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (199, "Early Dialog Terminated"),
        (204, "No Notification"),
        (412, "Conditional Request Failed"),
        (422, "Session Interval Too Small"),
        (430, "Flow Failed"),
        (489, "Bad Event"),
        (494, "Security Agreement Required"),
        (580, "Precondition Failure"),
        (607, "Unwanted"),
        (608, "Rejected"),
    ],
)
def test_registered_extension_phrases(code: int, phrase: str) -> None:
    assert reason_phrase(code) == phrase


def test_every_rfc3261_section_21_code_is_known() -> None:
    rfc3261_codes = {
        100, 180, 181, 182, 183, 200, 300, 301, 302, 305, 380,
        400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413, 414, 415, 416, 420, 421, 423,
        480, 481, 482, 483, 484, 485, 486, 487, 488, 491, 493,
        500, 501, 502, 503, 504, 505, 513, 600, 603, 604, 606,
    }  # fmt: skip
    assert rfc3261_codes <= set(REASON_PHRASES)


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (101, "Provisional"),
        (299, "Successful"),
        (399, "Redirection"),
        (499, "Request Failure"),
        (599, "Server Failure"),
        (699, "Global Failure"),
    ],
)
def test_unknown_codes_get_their_class_phrase(code: int, phrase: str) -> None:
    assert reason_phrase(code) == phrase


def test_status_class() -> None:
    assert status_class(100) is StatusClass.PROVISIONAL
    assert status_class(100) == 1
    assert status_class(286) == StatusClass.SUCCESSFUL
    assert status_class(486) == 4
    assert status_class(699) == StatusClass.GLOBAL_FAILURE
    assert is_provisional(183) and not is_provisional(200)
    assert is_final(200) and is_final(699) and not is_final(199)


@pytest.mark.parametrize("code", [0, 99, 700, 4294967301, -200])
def test_out_of_range_codes_are_rejected(code: int) -> None:
    with pytest.raises(ValueError):
        status_class(code)
    with pytest.raises(ValueError):
        reason_phrase(code)
