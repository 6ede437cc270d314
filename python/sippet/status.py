"""Status codes: default reason phrases and response classes.

RFC 3261 §21 defines the codes and their phrases; later RFCs registered more in the IANA
"Response Codes" sub-registry of the SIP parameters registry. The phrase on the wire is only
a hint for humans (§7.2: a UA acts on the code alone), so any code in 100-699 can be sent;
codes without a registered phrase get the phrase of their class.
"""

from __future__ import annotations

import enum

# Registered codes and their phrases, with the RFC that defined each code.
REASON_PHRASES: dict[int, str] = {
    # 1xx Provisional (RFC 3261 §21.1)
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    199: "Early Dialog Terminated",  # RFC 6228
    # 2xx Successful (§21.2)
    200: "OK",
    202: "Accepted",  # RFC 3265, deprecated by RFC 6665 but still registered
    204: "No Notification",  # RFC 5839
    # 3xx Redirection (§21.3)
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    # 4xx Request Failure (§21.4)
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    412: "Conditional Request Failed",  # RFC 3903
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    417: "Unknown Resource-Priority",  # RFC 4412
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",  # RFC 4028
    423: "Interval Too Brief",
    424: "Bad Location Information",  # RFC 6442
    425: "Bad Alert Message",  # RFC 8876
    428: "Use Identity Header",  # RFC 8224
    429: "Provide Referrer Identity",  # RFC 3892
    430: "Flow Failed",  # RFC 5626
    433: "Anonymity Disallowed",  # RFC 5079
    436: "Bad Identity Info",  # RFC 8224
    437: "Unsupported Credential",  # RFC 8224
    438: "Invalid Identity Header",  # RFC 8224
    439: "First Hop Lacks Outbound Support",  # RFC 5626
    440: "Max-Breadth Exceeded",  # RFC 5393
    469: "Bad Info Package",  # RFC 6086
    470: "Consent Needed",  # RFC 5360
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",  # RFC 6665
    491: "Request Pending",
    493: "Undecipherable",
    494: "Security Agreement Required",  # RFC 3329
    # 5xx Server Failure (§21.5)
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    555: "Push Notification Service Not Supported",  # RFC 8599
    580: "Precondition Failure",  # RFC 3312
    # 6xx Global Failure (§21.6)
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
    607: "Unwanted",  # RFC 8197
    608: "Rejected",  # RFC 8688
}


class StatusClass(enum.IntEnum):
    """The six response classes of RFC 3261 §7.2, named as in §21."""

    PROVISIONAL = 1
    SUCCESSFUL = 2
    REDIRECTION = 3
    REQUEST_FAILURE = 4
    SERVER_FAILURE = 5
    GLOBAL_FAILURE = 6


_CLASS_PHRASES: dict[StatusClass, str] = {
    StatusClass.PROVISIONAL: "Provisional",
    StatusClass.SUCCESSFUL: "Successful",
    StatusClass.REDIRECTION: "Redirection",
    StatusClass.REQUEST_FAILURE: "Request Failure",
    StatusClass.SERVER_FAILURE: "Server Failure",
    StatusClass.GLOBAL_FAILURE: "Global Failure",
}


def status_class(code: int) -> StatusClass:
    """The class of a status code: ``status_class(486) == StatusClass.REQUEST_FAILURE == 4``.

    Raises ``ValueError`` outside 100-699, the only codes RFC 3261 §7.2 allows.
    """
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 699:
        raise ValueError(f"status code must be an integer in 100-699, got {code!r}")
    return StatusClass(code // 100)


def reason_phrase(code: int) -> str:
    """The default reason phrase of a status code.

    A registered code gets its registered phrase; any other code in 100-699 gets its
    class name (``"Request Failure"`` for 499). Raises ``ValueError`` outside 100-699.
    """
    phrase = REASON_PHRASES.get(code)
    if phrase is not None:
        return phrase
    return _CLASS_PHRASES[status_class(code)]


def is_provisional(code: int) -> bool:
    """1xx (RFC 3261 §7.2)."""
    return 100 <= code <= 199


def is_final(code: int) -> bool:
    """2xx-6xx (RFC 3261 §7.2)."""
    return 200 <= code <= 699
