"""Every RFC 4475 request that gets past the stack (it parses and validates) gets a defined
answer from both proxy cores: the RFC's verdict where RFC 4475 gives a proxy one, else it
is routed (a lookup or a forwarded copy) or refused with a final error response."""

from __future__ import annotations

from pathlib import Path

import pytest
from sippet import Message, ParseError, ValidationError
from sippet.proxy import (
    EndTransaction,
    Lookup,
    SendRequest,
    SendResponse,
    SendStateless,
    StatefulProxy,
    StatelessProxy,
)
from sippet.transactions.keys import server_key_of

from .messages import CONFIG, code, method

TORTURE = sorted((Path(__file__).parents[1] / "data" / "rfc4475").glob("*.dat"))
VERDICTS = {"zeromf": 483, "bext01": 420, "unkscm": 416, "novelsc": 416}


def _request(path: Path) -> Message | None:
    try:
        message = Message.parse(path.read_bytes())
        message.validate()
    except (ParseError, ValidationError):
        return None  # the stack answers or drops it before any core sees it
    return message if message.is_request else None


@pytest.mark.parametrize("path", TORTURE, ids=[p.stem for p in TORTURE])
@pytest.mark.parametrize("core", [StatefulProxy, StatelessProxy])
def test_each_torture_request_gets_a_defined_answer(
    path: Path, core: type[StatefulProxy] | type[StatelessProxy]
) -> None:
    message = _request(path)
    if message is None:
        assert path.stem not in VERDICTS
        return
    is_ack = method(message) == "ACK"
    key = None if is_ack else server_key_of(message, method(message))
    actions = [
        a
        for a in core(CONFIG).receive_request(message, key, 0.0)
        if not isinstance(a, EndTransaction)
    ]
    answers = [a.response for a in actions if isinstance(a, SendResponse)]
    answers += [
        a.message for a in actions if isinstance(a, SendStateless) and a.message.is_response
    ]
    routed = [a for a in actions if isinstance(a, Lookup | SendRequest)]
    routed += [a for a in actions if isinstance(a, SendStateless) and a.message.is_request]
    if path.stem in VERDICTS:
        assert [code(r) for r in answers] == [VERDICTS[path.stem]] and not routed
    elif is_ack:
        assert answers == []  # an ACK is never answered
    else:
        assert len(answers) + len(routed) == 1, actions
        assert all(400 <= code(r) < 700 for r in answers), answers
