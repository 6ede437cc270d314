"""RFC 3261 §10.3 steps 6 and 7 against the stored bindings of one AOR: pure functions
from (live bindings, request, now) to (new bindings, outcome), run inside
``LocationStore.update`` so that the read and the write are one atomic step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sippet.headers import NameAddr
from sippet.registrar.binding import Binding, Source
from sippet.registrar.contacts import ContactRequest


class Accepted(NamedTuple):
    """The update succeeded; ``bindings`` are the AOR's live bindings after it, at ``now``."""

    bindings: tuple[Binding, ...]
    now: float


class Refused(NamedTuple):
    """The update was aborted: nothing was written; answer with this status."""

    status_code: int
    reason_phrase: str


STALE_CSEQ = Refused(400, "Out Of Order CSeq For This Call-ID")
TOO_MANY_BINDINGS = Refused(403, "Too Many Bindings For This Address-Of-Record")

Change = tuple[list[Binding] | None, Accepted | Refused]


def _is_stale(binding: Binding, call_id: str, cseq: int) -> bool:
    """§10.3 steps 6 and 7: the same Call-ID with a CSeq not higher than the stored one."""
    return binding.call_id == call_id and cseq <= binding.cseq


def remove_all(bindings: tuple[Binding, ...], call_id: str, cseq: int, now: float) -> Change:
    """Step 6, ``Contact: *`` with ``Expires: 0``: remove every binding, unless one of
    them was written by a later request of this Call-ID (then nothing is removed)."""
    if any(_is_stale(binding, call_id, cseq) for binding in bindings):
        return None, STALE_CSEQ
    return [], Accepted((), now)


def _find(bindings: Sequence[Binding], contact: ContactRequest) -> int | None:
    """Step 7: "searches the list of current bindings using the URI comparison rules"."""
    for index, binding in enumerate(bindings):
        if binding.contact.equivalent(contact.uri):
            return index
    return None


def apply_contacts(
    bindings: tuple[Binding, ...],
    contacts: Sequence[ContactRequest],
    *,
    call_id: str,
    cseq: int,
    path: tuple[NameAddr, ...],
    source: Source | None,
    max_bindings: int,
    now: float,
) -> Change:
    """Step 7 for each contact in turn; all or nothing.

    A contact without a stored binding is added (or ignored when it asks for 0 seconds).
    A stored one is refreshed or, at 0 seconds, removed, unless it holds this Call-ID with
    a CSeq not lower than the request's: then the whole update is aborted. A contact listed
    twice in one request takes its last value. Existing bindings keep their order; new
    ones are appended.
    """
    updated = list(bindings)
    for contact in contacts:
        stored = _find(bindings, contact)
        if stored is not None and _is_stale(bindings[stored], call_id, cseq):
            return None, STALE_CSEQ
        index = _find(updated, contact)
        if contact.expires == 0:
            if index is not None:
                del updated[index]
            continue
        binding = Binding(
            contact=contact.uri,
            expires_at=now + contact.expires,
            call_id=call_id,
            cseq=cseq,
            q=contact.q,
            params=contact.params,
            display_name=contact.display_name,
            path=path,
            source=source,
            updated_at=now,
        )
        if index is None:
            updated.append(binding)
        else:
            updated[index] = binding
    if len(updated) > max_bindings:
        return None, TOO_MANY_BINDINGS
    return updated, Accepted(tuple(updated), now)
