"""sippet.ids: random branches, tags and Call-IDs (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3)."""

from __future__ import annotations

import re

from sippet import ids

# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def test_branch_starts_with_magic_cookie_and_carries_96_bits() -> None:
    branch = ids.create_branch()
    assert branch.startswith("z9hG4bK")
    suffix = branch[len("z9hG4bK") :]
    assert re.fullmatch(r"[0-9a-f]{24}", suffix)  # 24 hex digits = 96 bits >= 72
    assert TOKEN.fullmatch(branch)


def test_tag_and_call_id_are_tokens_with_enough_randomness() -> None:
    tag = ids.create_tag()
    call_id = ids.create_call_id()
    assert re.fullmatch(r"[0-9a-f]{24}", tag)
    assert re.fullmatch(r"[0-9a-f]{32}", call_id)
    assert TOKEN.fullmatch(tag)
    assert TOKEN.fullmatch(call_id)


def test_call_id_with_host() -> None:
    call_id = ids.create_call_id("pc33.atlanta.com")
    local, host = call_id.split("@")
    assert host == "pc33.atlanta.com"
    assert re.fullmatch(r"[0-9a-f]{32}", local)


def test_identifiers_do_not_repeat() -> None:
    for create in (ids.create_branch, ids.create_tag, ids.create_call_id):
        values = {create() for _ in range(2000)}
        assert len(values) == 2000
