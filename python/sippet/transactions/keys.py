"""Transaction keys, and how a message's key is computed (RFC 3261 §17.1.3, §17.2.3).

A client transaction is identified by the branch of the top Via of the request it sent
and its method (the method tells a CANCEL from the INVITE it cancels: both share the
branch). A server transaction adds the top Via sent-by, because two clients may pick the
same branch by accident or on purpose (§17.2.3).

RFC 2543 peers do not put a unique branch in the Via (RFC 4475 ``inv2543``: no branch;
``badbranch``: the bare magic cookie). For those requests the key's ``branch`` is a
synthetic string built from the fields §17.2.3 matches on that every message of the
transaction carries, requests and responses alike::

    "rfc2543 <Call-ID> <From tag> <CSeq number> <Via transport> <Via branch>"

one space between fields, an absent From tag or Via branch being the empty string. A space
cannot occur in any of those fields, nor in a real branch (a token), so a synthetic key never
equals an RFC 3261 one and the fields cannot run into each other. The Request-URI and the
To tag, which §17.2.3 also matches on, are not in the key: a response carries neither the
Request-URI nor the request's To tag, and the TU must be able to find the transaction from
its response. They are checked against the transaction instead (``matching.py``).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from sippet.headers import SentBy, Via
from sippet.message import Message
from sippet.method import Method

MAGIC_COOKIE = "z9hG4bK"
"""RFC 3261 §8.1.1.7: every branch made by an RFC 3261 client starts with this."""

LEGACY_PREFIX = "rfc2543 "
"""Start of the synthetic branch of a transaction matched by the RFC 2543 rules."""

DEFAULT_PORT = 5060
TLS_PORT = 5061
# RFC 3261 §18.2.2 / §19.1.4: a sent-by without a port means 5060, or 5061 over TLS, so
# "host" and "host:5060" are the same sent-by for matching.
_TLS_TRANSPORTS = frozenset({"TLS", "TLS-SCTP"})


class ClientKey(NamedTuple):
    """A client transaction: top Via branch of the request it sent, and its method."""

    branch: str
    method: str


class ServerKey(NamedTuple):
    """A server transaction: top Via branch (or a synthetic RFC 2543 one), the method of the
    request that created it (INVITE for an ACK), and the top Via sent-by with the default
    port filled in and the host lowercased."""

    branch: str
    method: str
    sent_by: SentBy


TransactionKey: TypeAlias = ClientKey | ServerKey


METHOD_TEXT: dict[str, str] = {method: method.value for method in Method}
"""``Method`` member -> its plain text. ``METHOD_TEXT.get(m, m)`` is the text of any method
in one C call: a ``Method`` is a ``StrEnum``, hashed and compared as its text (C code, no
Enum Python code), and an unknown method is already a plain ``str``."""


def method_text(method: Method | str) -> str:
    """The method as plain text (``Method.INVITE`` -> ``"INVITE"``)."""
    return METHOD_TEXT.get(method, method)


# Normalizing builds a new SentBy per message; the same few peers send most messages, so the
# results are memoized: Via protocol -> sent-by as received -> normalized (two levels rather
# than one dict keyed by (sent_by, protocol): no key tuple to build and hash per lookup).
# Bounded: each level is cleared when full, so that spoofed sent-by values or protocol names
# cannot grow it without end.
_NORMALIZED: dict[str, dict[SentBy, SentBy]] = {}
_NORMALIZED_MAX = 4096
"""Sent-by values remembered per protocol."""
_PROTOCOLS_MAX = 16
NORMALIZED = _NORMALIZED
"""The memo, for the layer's hot paths: ``NORMALIZED[protocol][sent_by]`` (KeyError: call
``normalize``)."""
_new_tuple = tuple.__new__


def normalize(sent_by: SentBy, protocol: str) -> SentBy:
    """Normalize a sent-by not yet in ``_NORMALIZED``, and remember it there. The hot paths
    look in ``_NORMALIZED`` first and call this on a miss."""
    host, port = sent_by
    if port is None:
        port = TLS_PORT if protocol.upper() in _TLS_TRANSPORTS else DEFAULT_PORT
    normal = SentBy(host.lower(), port)
    memo = _NORMALIZED.get(protocol)
    if memo is None:
        if len(_NORMALIZED) >= _PROTOCOLS_MAX:
            _NORMALIZED.clear()
        _NORMALIZED[protocol] = memo = {}
    elif len(memo) >= _NORMALIZED_MAX:
        memo.clear()
    memo[sent_by] = normal
    return normal


def client_key_of(message: Message, method: str) -> ClientKey | None:
    """The client key of a request we send, or of a response we receive (``method`` from
    its CSeq): None when the top Via has no branch."""
    vias = message.headers.get("via")
    if not vias:
        return None
    branch = vias[0][3].get("branch")  # Via.params
    if branch is None:
        return None
    return _new_tuple(ClientKey, (branch, method))  # ClientKey(branch, method), faster


def is_rfc3261_branch(branch: str | None) -> bool:
    """§17.2.3: RFC 3261 clients start the branch with the magic cookie; a bare cookie (RFC
    4475 badbranch) identifies nothing, so it falls back to the RFC 2543 rules too."""
    return branch is not None and len(branch) > 7 and branch.startswith(MAGIC_COOKIE)


def server_key_of(message: Message, method: str) -> ServerKey | None:
    """The server key of a received request or of a response the TU sends (``method``:
    INVITE for an ACK or a response to an INVITE). None when the message has no Via."""
    vias = message.headers.get("via")
    if not vias:
        return None
    via = vias[0]
    _version, protocol, sent_by, params = via
    branch = params.get("branch")
    if not is_rfc3261_branch(branch):
        branch = legacy_branch(message, via, branch)
    try:
        normal = _NORMALIZED[protocol][sent_by]
    except KeyError:
        normal = normalize(sent_by, protocol)
    # ServerKey(branch, method, normal), without the Python-level NamedTuple __new__.
    return _new_tuple(ServerKey, (branch, method, normal))


def legacy_branch(message: Message, via: Via, branch: str | None) -> str:
    """The synthetic branch of an RFC 2543 transaction (format in the module docstring)."""
    headers = message.headers
    from_ = headers.get("from")
    from_tag = from_.params.get("tag") if from_ is not None else None
    cseq = headers.get("cseq")
    seq = cseq.seq if cseq is not None else ""
    return (
        f"{LEGACY_PREFIX}{headers.get('call_id', '')} {from_tag or ''} {seq} "
        f"{via.protocol.upper()} {branch or ''}"
    )
